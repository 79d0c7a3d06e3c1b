// Signing in at the street's identity provider: OpenID Connect's authorisation code flow with
// PKCE (RFC 7636, S256), the console being a public client (no secret in a web page). The gateway
// says which provider and client (GET /console-config.json, from --oidc_issuer and
// --oidc_client_id) and lets the page call that provider's origin only (its CSP).
//
// beginSignIn: discovery, a fresh verifier, state and nonce kept in sessionStorage (this tab
// only, until the answer comes back; never a token), then the provider's sign-in page.
// finishSignIn: on the way back (/?code=…&state=…) the address is cleaned at once, the state
// compared, the code exchanged with the verifier, the ID token's nonce and audience compared, and
// the access token — what the gateway verifies on every call — opens the session in memory.
import { parseToken, rememberPlace, signIn } from "./session.js";

export interface OidcConfig {
  issuer: string;
  client_id: string;
  scope: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
  issuer: string;
  clientId: string;
}

// Why a sign-in at the provider did not open a session (shown on the login page).
export type SignInProblem =
  | { kind: "provider"; detail: string } // the provider answered with an error
  | { kind: "state" } // an answer this tab did not ask for (or asked long ago)
  | { kind: "not_linli" } // the access token carries no Linli role
  | { kind: "expired" }
  | { kind: "unreachable"; detail: string }; // discovery or the token endpoint failed

const PENDING_KEY = "linli.oidc";

// The console's own address is the redirect URI registered at the provider.
function redirectUri(): string {
  return `${window.location.origin}/`;
}

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function loadSignInConfig(): Promise<OidcConfig | null> {
  const answer = await fetch("/console-config.json", { cache: "no-cache" });
  if (!answer.ok) return null;
  const config = (await answer.json()) as { oidc?: OidcConfig | null };
  return config.oidc ?? null;
}

// A provider that does not answer within this is reported, not waited for.
const PROVIDER_TIMEOUT_MS = 15000;

async function discover(issuer: string): Promise<Discovery> {
  const answer = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
  });
  if (!answer.ok) throw new Error(`discovery: HTTP ${answer.status}`);
  const doc = (await answer.json()) as Discovery;
  // OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it was fetched for.
  if (doc.issuer !== issuer) throw new Error(`discovery names issuer ${doc.issuer}, not ${issuer}`);
  if (new URL(doc.token_endpoint).origin !== new URL(issuer).origin) {
    throw new Error("the token endpoint is not on the issuer's origin (the console may call only that)");
  }
  return doc;
}

// Off to the provider's sign-in page; the place in the console is kept for the way back.
export async function beginSignIn(config: OidcConfig): Promise<void> {
  const discovery = await discover(config.issuer);
  const pending: Pending = {
    verifier: randomString(),
    state: randomString(),
    nonce: randomString(),
    issuer: config.issuer,
    clientId: config.client_id,
  };
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(pending.verifier));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  rememberPlace();
  const target = new URL(discovery.authorization_endpoint);
  target.search = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    scope: config.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(target.toString());
}

function claimsOf(jwt: string): Record<string, unknown> | null {
  try {
    const base64 = jwt.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

// The provider's answer in the address, if any: "none" when the page was opened otherwise.
export async function finishSignIn(): Promise<"none" | "ok" | SignInProblem> {
  const query = new URLSearchParams(window.location.search);
  if (!query.has("state") && !query.has("code") && !query.has("error")) return "none";
  // The code leaves the address (and the history entry) before anything else happens.
  history.replaceState(null, "", window.location.pathname + window.location.hash);
  let pending: Pending | null = null;
  try {
    const saved = sessionStorage.getItem(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    pending = saved ? (JSON.parse(saved) as Pending) : null;
  } catch {
    pending = null; // storage unavailable or spoilt: as if this tab had not asked
  }
  if (pending === null || query.get("state") !== pending.state) return { kind: "state" };
  const error = query.get("error");
  if (error) return { kind: "provider", detail: query.get("error_description") || error };
  try {
    const discovery = await discover(pending.issuer);
    const answer = await fetch(discovery.token_endpoint, {
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: query.get("code") ?? "",
        redirect_uri: redirectUri(),
        client_id: pending.clientId,
        code_verifier: pending.verifier,
      }),
    });
    const tokens = (await answer.json()) as {
      access_token?: string;
      id_token?: string;
      error?: string;
      error_description?: string;
    };
    if (!answer.ok || !tokens.access_token) {
      return { kind: "provider", detail: tokens.error_description || tokens.error || `HTTP ${answer.status}` };
    }
    // The ID token must be for this client and this sign-in (its signature the console cannot
    // check without the provider's keys; the gateway checks the access token's on every call).
    const id = tokens.id_token ? claimsOf(tokens.id_token) : null;
    const audience = id?.aud;
    const forUs = Array.isArray(audience) ? audience.includes(pending.clientId) : audience === pending.clientId;
    if (id === null || id.nonce !== pending.nonce || id.iss !== pending.issuer || !forUs) {
      return { kind: "state" };
    }
    const session = parseToken(tokens.access_token);
    if (session === "malformed") return { kind: "not_linli" };
    if (session === "expired") return { kind: "expired" };
    if (discovery.end_session_endpoint) {
      // RP-initiated logout with the client id (no ID token in the address: it would land in the
      // history and the provider's logs).
      const logout = new URL(discovery.end_session_endpoint);
      logout.search = new URLSearchParams({
        client_id: pending.clientId,
        post_logout_redirect_uri: redirectUri(),
      }).toString();
      session.logoutUrl = logout.toString();
    }
    signIn(session);
    return "ok";
  } catch (e) {
    return { kind: "unreachable", detail: e instanceof Error ? e.message : String(e) };
  }
}
