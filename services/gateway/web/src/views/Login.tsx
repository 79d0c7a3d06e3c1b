// Signing in. In production, at the street's identity provider (OpenID Connect with PKCE, oidc.ts)
// when the gateway names one; in development, the one-time link `make run` prints carries the
// token in the URL fragment (main.tsx reads it), or a token is pasted here.
import { useEffect, useState } from "react";

import { useI18n } from "../i18n.js";
import { beginSignIn, loadSignInConfig, type OidcConfig, type SignInProblem } from "../oidc.js";
import { parseToken, signIn, type EndReason } from "../session.js";

export type LoginProblem = "malformed" | "expired" | SignInProblem;

export function Login({ ended, problem }: { ended: EndReason; problem?: LoginProblem }) {
  const { t } = useI18n();
  const [token, setToken] = useState("");
  const [tokenError, setTokenError] = useState<"malformed" | "expired" | undefined>(
    typeof problem === "string" ? problem : undefined,
  );
  const [providerProblem, setProviderProblem] = useState<SignInProblem | undefined>(
    typeof problem === "object" ? problem : undefined,
  );
  // undefined: still asking the gateway; null: no identity provider configured.
  const [oidc, setOidc] = useState<OidcConfig | null>();
  useEffect(() => {
    loadSignInConfig().then(setOidc, () => setOidc(null));
  }, []);

  const tokenForm = (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        const session = parseToken(token);
        if (typeof session === "string") setTokenError(session);
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
      {tokenError && (
        <p role="alert" className="problem">
          {tokenError === "expired" ? t("login_token_expired") : t("login_bad_token")}
        </p>
      )}
    </form>
  );

  return (
    <main className="login">
      <h1>{t("login_title")}</h1>
      {ended === "expired" && <p role="alert">{t("login_expired")}</p>}
      {ended === "rejected" && <p role="alert">{t("login_rejected")}</p>}
      {providerProblem && (
        <p role="alert" className="problem">
          {providerProblem.kind === "provider"
            ? t("login_oidc_failed", { detail: providerProblem.detail })
            : providerProblem.kind === "unreachable"
              ? t("login_oidc_unreachable", { detail: providerProblem.detail })
              : providerProblem.kind === "not_linli"
                ? t("login_oidc_not_linli")
                : providerProblem.kind === "expired"
                  ? t("login_token_expired")
                  : t("login_oidc_state")}
        </p>
      )}
      {oidc ? (
        <>
          <p>{t("login_oidc_hint")}</p>
          <button
            type="button"
            onClick={() =>
              beginSignIn(oidc).catch((e: unknown) =>
                setProviderProblem({ kind: "unreachable", detail: e instanceof Error ? e.message : String(e) }),
              )
            }
          >
            {t("login_oidc")}
          </button>
          <details>
            <summary>{t("login_dev_token")}</summary>
            {tokenForm}
          </details>
        </>
      ) : (
        oidc === null && (
          <>
            <p>{t("login_hint")}</p>
            {tokenForm}
          </>
        )
      )}
    </main>
  );
}
