// The signed-in staff member, kept in memory only (never localStorage or a cookie): a reload or a
// new tab signs in again. A token arrives from the street's identity provider (oidc.ts), in the
// URL fragment ("#token=…", the one-time link `make run` prints; browsers never send a fragment
// to a server) or pasted on the login screen.
// The session ends at the token's expiry, on an unauthenticated answer, or on logout; the place
// (the hash route) is remembered in sessionStorage so signing in again returns there.
import { useSyncExternalStore } from "react";

export interface Session {
  token: string;
  role: string;
  region: string; // the region code of the token ("310101020"), empty for admins
  subject: string;
  expires: Date;
  // Signed in at the street's identity provider: its logout address (ends the sign-in there too).
  logoutUrl?: string;
}

export type EndReason = "none" | "expired" | "logged_out" | "rejected";

let current: Session | null = null;
let ended: EndReason = "none";
let expiryTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();
const RETURN_KEY = "linli.return";

function notify() {
  for (const listener of listeners) listener();
}

function decodeClaims(token: string): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replaceAll("-", "+").replaceAll("_", "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

// The session a token would open, or why not. The gateway checks the signature on every call;
// this only reads the claims to show who is signed in and when the session ends.
export function parseToken(token: string, now = Date.now()): Session | "malformed" | "expired" {
  const claims = decodeClaims(token.trim());
  if (claims === null || typeof claims.exp !== "number" || typeof claims.role !== "string") {
    return "malformed";
  }
  if (claims.exp * 1000 <= now) return "expired";
  return {
    token: token.trim(),
    role: claims.role,
    region: typeof claims.region === "string" ? claims.region : "",
    subject: typeof claims.sub === "string" ? claims.sub : "",
    expires: new Date(claims.exp * 1000),
  };
}

export function signIn(session: Session) {
  current = session;
  ended = "none";
  clearTimeout(expiryTimer);
  // setTimeout holds at most ~24.8 days; staff tokens live hours.
  const ms = Math.min(session.expires.getTime() - Date.now(), 2 ** 31 - 1);
  expiryTimer = setTimeout(() => endSession("expired"), ms);
  const back = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  if (back && back !== window.location.hash) window.location.hash = back;
  notify();
}

export function endSession(reason: Exclude<EndReason, "none">) {
  if (current === null) return;
  current = null;
  ended = reason;
  clearTimeout(expiryTimer);
  if (reason !== "logged_out") sessionStorage.setItem(RETURN_KEY, window.location.hash || "#/");
  notify();
}

// Signing in elsewhere (the identity provider) and coming back: return to this place.
export function rememberPlace() {
  sessionStorage.setItem(RETURN_KEY, window.location.hash || "#/");
}

export function currentSession(): Session | null {
  return current;
}

// "#token=…" in the address: sign in with it and take it out of the address and the history at
// once. Returns the problem when the token cannot open a session.
export function signInFromFragment(): "none" | "ok" | "malformed" | "expired" {
  const match = /^#token=([A-Za-z0-9._-]+)/.exec(window.location.hash);
  if (!match) return "none";
  history.replaceState(null, "", window.location.pathname + "#/");
  const session = parseToken(match[1]);
  if (typeof session === "string") return session;
  signIn(session);
  return "ok";
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useSession(): { session: Session | null; ended: EndReason } {
  const session = useSyncExternalStore(subscribe, () => current);
  return { session, ended };
}
