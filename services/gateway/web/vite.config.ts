// The console's build: `vite build --outDir DIR` (scripts/web.sh) writes index.html and
// content-hashed files under DIR/assets/, which linli-gateway --web_root=DIR serves at "/". No
// inline script or style is emitted, so the gateway's Content-Security-Policy
// (script-src 'self'; style-src 'self') holds. `npm run dev` serves the app with hot reload and
// forwards the Connect paths to a gateway on LINLI_GATEWAY_HTTP (default 127.0.0.1:8080).
import react from "@vitejs/plugin-react";
import { defineConfig, loadEnv } from "vite";

export default defineConfig(({ mode }) => ({
  plugins: [react()],
  build: {
    target: "es2022",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    emptyOutDir: true,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      "^/linli\\.gateway\\.v1\\.": `http://${loadEnv(mode, ".", "LINLI_").LINLI_GATEWAY_HTTP ?? "127.0.0.1:8080"}`,
    },
  },
}));
