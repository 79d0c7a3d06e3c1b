import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App.js";
import { I18nProvider } from "./i18n.js";
import { signInFromFragment } from "./session.js";
import "./styles.css";

const fromLink = signInFromFragment();
// A login link opened in a tab that already shows the console.
window.addEventListener("hashchange", () => void signInFromFragment());

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <I18nProvider>
      <App loginProblem={fromLink === "malformed" || fromLink === "expired" ? fromLink : undefined} />
    </I18nProvider>
  </StrictMode>,
);
