// Signing in. In development, the one-time link `make run` prints carries the token in the URL
// fragment (main.tsx reads it), or a token is pasted here; production deployments put their
// identity provider's sign-in in front (docs/SECURITY.md).
import { useState } from "react";

import { useI18n } from "../i18n.js";
import { parseToken, signIn, type EndReason } from "../session.js";

export function Login({ ended, problem }: { ended: EndReason; problem?: "malformed" | "expired" }) {
  const { t } = useI18n();
  const [token, setToken] = useState("");
  const [error, setError] = useState<"malformed" | "expired" | undefined>(problem);
  return (
    <main className="login">
      <h1>{t("login_title")}</h1>
      {ended === "expired" && <p role="alert">{t("login_expired")}</p>}
      {ended === "rejected" && <p role="alert">{t("login_rejected")}</p>}
      <p>{t("login_hint")}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const session = parseToken(token);
          if (typeof session === "string") setError(session);
          else signIn(session);
        }}
      >
        <label className="block">
          {t("login_token")}
          <textarea
            value={token}
            onChange={(e) => setToken(e.target.value)}
            rows={4}
            autoComplete="off"
            spellCheck={false}
          />
        </label>
        <button type="submit">{t("login_submit")}</button>
        {error && (
          <p role="alert" className="problem">
            {error === "expired" ? t("login_token_expired") : t("login_bad_token")}
          </p>
        )}
      </form>
    </main>
  );
}
