import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App.js";
import { I18nProvider } from "./i18n.js";
import { finishSignIn } from "./oidc.js";
import { signInFromFragment } from "./session.js";
import "./styles.css";
import type { LoginProblem } from "./views/Login.js";

// A one-time link ("#token=…") or the identity provider's answer ("?code=…&state=…").
async function signInFromAddress(): Promise<LoginProblem | undefined> {
  const fromLink = signInFromFragment();
  if (fromLink === "malformed" || fromLink === "expired") return fromLink;
  const fromProvider = await finishSignIn();
  return typeof fromProvider === "object" ? fromProvider : undefined;
}

// A login link opened in a tab that already shows the console.
window.addEventListener("hashchange", () => void signInFromFragment());

const root = createRoot(document.getElementById("root")!);
// Whatever happens on the way back from the provider, the console opens (at worst on its login).
void signInFromAddress()
  .catch((e: unknown): LoginProblem => ({ kind: "unreachable", detail: String(e) }))
  .then((problem) =>
    root.render(
      <StrictMode>
        <I18nProvider>
          <App loginProblem={problem} />
        </I18nProvider>
      </StrictMode>,
    ),
  );
