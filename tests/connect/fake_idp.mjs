// A street's identity provider for the console's browser test: a local OpenID Connect provider
// speaking the protocol the console uses against a real one (Keycloak, an 统一身份认证 platform),
// since none can run here. It serves
//   GET  /.well-known/openid-configuration   the discovery document (OpenID Connect Discovery 1.0)
//   GET  /authorize                          its sign-in page for an authorisation request
//   POST /authorize                          the user's answer: a redirect with code and state
//   POST /token                              code + PKCE verifier -> access and ID tokens
//   GET  /jwks                               its public signing key (a JWK Set)
//   GET  /logout                             RP-initiated logout, back to the console
// and holds the protocol's rules the way a provider does: the client id and redirect URI must be
// the registered ones, PKCE with S256 is required, a code is single-use, lives 60 s and is bound
// to its client, redirect URI and challenge. Access tokens are RS256 JWTs for the gateway's
// audience, carrying the Linli claims (role, region) the street's provider is configured to add.
// Times come from this process's clock (libfaketime moves it with the platform's under
// make test-future).
import crypto from "node:crypto";
import http from "node:http";

function base64url(bytes) {
  return Buffer.from(bytes).toString("base64url");
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export class FakeIdp {
  // `users`: { username: { password, claims: { role, region, ... } } }; the subject is the name.
  constructor({ clientId, redirectUri, audience, users }) {
    this.clientId = clientId;
    this.redirectUri = redirectUri;
    this.audience = audience;
    this.users = users;
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.kid = `fake-idp-${crypto.randomBytes(4).toString("hex")}`;
    this.jwk = { ...publicKey.export({ format: "jwk" }), kid: this.kid, alg: "RS256", use: "sig" };
    this.codes = new Map();
    // A test may make the next ID token wrong, as an attacker replaying another sign-in's would
    // be: "nonce" (another sign-in's), "audience" (another client's) or "issuer".
    this.spoilNextIdToken = null;
    // What happened, for the test to assert: token exchanges and logouts.
    this.exchanges = [];
    this.logouts = [];
  }

  // Listens on a free loopback port; the issuer URL.
  async start() {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(e));
      });
    });
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.issuer = `http://127.0.0.1:${this.server.address().port}`;
    return this.issuer;
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve()));
  }

  sign(claims) {
    const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: this.kid }));
    const payload = base64url(JSON.stringify(claims));
    const signature = crypto.sign("sha256", Buffer.from(`${header}.${payload}`), this.privateKey);
    return `${header}.${payload}.${base64url(signature)}`;
  }

  async handle(req, res) {
    const url = new URL(req.url, this.issuer);
    // The console's page calls discovery and token from its own origin: CORS as providers do.
    const cors = { "access-control-allow-origin": req.headers.origin ?? "*" };
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store",
        ...cors });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && url.pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        jwks_uri: `${this.issuer}/jwks`,
        end_session_endpoint: `${this.issuer}/logout`,
        response_types_supported: ["code"],
        grant_types_supported: ["authorization_code"],
        code_challenge_methods_supported: ["S256"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["none"],
      });
    }
    if (req.method === "GET" && url.pathname === "/jwks") return json(200, { keys: [this.jwk] });
    if (url.pathname === "/authorize") return this.authorize(req, res, url);
    if (req.method === "POST" && url.pathname === "/token") return this.token(req, json);
    if (req.method === "GET" && url.pathname === "/logout") {
      const back = url.searchParams.get("post_logout_redirect_uri");
      this.logouts.push({ clientId: url.searchParams.get("client_id"),
        idTokenHint: url.searchParams.get("id_token_hint") });
      if (back !== this.redirectUri) return this.page(res, 400, "unregistered post_logout_redirect_uri");
      res.writeHead(302, { location: back });
      return res.end();
    }
    res.writeHead(404);
    res.end();
  }

  page(res, status, body) {
    res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>统一身份认证</title>${body}`);
  }

  async form(req) {
    let body = "";
    for await (const chunk of req) body += chunk;
    return new URLSearchParams(body);
  }

  async authorize(req, res, url) {
    const request = req.method === "POST" ? await this.form(req) : url.searchParams;
    // Errors about the client or redirect URI are shown, never redirected (RFC 6749 4.1.2.1).
    if (request.get("client_id") !== this.clientId) return this.page(res, 400, "unknown client_id");
    if (request.get("redirect_uri") !== this.redirectUri) {
      return this.page(res, 400, "unregistered redirect_uri");
    }
    const back = (params) => {
      const target = new URL(this.redirectUri);
      for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
      if (request.get("state")) target.searchParams.set("state", request.get("state"));
      res.writeHead(302, { location: target.toString() });
      res.end();
    };
    if (request.get("response_type") !== "code") return back({ error: "unsupported_response_type" });
    if (request.get("code_challenge_method") !== "S256" || !request.get("code_challenge")) {
      return back({ error: "invalid_request", error_description: "PKCE with S256 is required" });
    }
    if (!(request.get("scope") ?? "").split(" ").includes("openid")) {
      return back({ error: "invalid_scope", error_description: "openid is required" });
    }
    const hidden = ["client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
      "code_challenge", "code_challenge_method"]
      .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(request.get(k) ?? "")}">`)
      .join("");
    const form = (problem) => this.page(res, 200, `<main><h1>统一身份认证</h1>
      ${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ""}
      <form method="post" action="/authorize">${hidden}
      <label>用户名 <input name="username" autocomplete="username"></label>
      <label>密码 <input name="password" type="password" autocomplete="current-password"></label>
      <button type="submit" name="action" value="login">登录</button>
      <button type="submit" name="action" value="deny">拒绝</button></form></main>`);
    if (req.method === "GET") return form();
    if (request.get("action") === "deny") {
      return back({ error: "access_denied", error_description: "用户拒绝了授权" });
    }
    const user = this.users[request.get("username")];
    if (!user || user.password !== request.get("password")) return form("用户名或密码不正确");
    const code = base64url(crypto.randomBytes(24));
    this.codes.set(code, {
      username: request.get("username"), challenge: request.get("code_challenge"),
      nonce: request.get("nonce"), scope: request.get("scope"), expires: Date.now() + 60000,
    });
    return back({ code });
  }

  async token(req, json) {
    const form = await this.form(req);
    const fail = (error, description) => json(400, { error, error_description: description });
    if (form.get("grant_type") !== "authorization_code") return fail("unsupported_grant_type");
    const code = form.get("code") ?? "";
    const grant = this.codes.get(code);
    this.codes.delete(code); // single use, whatever happens next
    if (!grant || grant.expires < Date.now()) return fail("invalid_grant", "unknown or expired code");
    if (form.get("client_id") !== this.clientId) return fail("invalid_client", "wrong client_id");
    if (form.get("redirect_uri") !== this.redirectUri) return fail("invalid_grant", "redirect_uri differs");
    const verifier = form.get("code_verifier") ?? "";
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) ||
        base64url(crypto.createHash("sha256").update(verifier).digest()) !== grant.challenge) {
      this.exchanges.push({ username: grant.username, pkce: "mismatch" });
      return fail("invalid_grant", "PKCE verification failed");
    }
    const now = Math.floor(Date.now() / 1000);
    const user = this.users[grant.username];
    const access = this.sign({ iss: this.issuer, aud: this.audience, sub: grant.username,
      iat: now, nbf: now, exp: now + 3600, scope: grant.scope, azp: this.clientId,
      ...user.claims });
    const idClaims = { iss: this.issuer, aud: this.clientId, sub: grant.username, iat: now,
      exp: now + 3600, nonce: grant.nonce, name: user.name ?? grant.username };
    if (this.spoilNextIdToken === "nonce") idClaims.nonce = "another-sign-in";
    if (this.spoilNextIdToken === "audience") idClaims.aud = "another-client";
    if (this.spoilNextIdToken === "issuer") idClaims.iss = "https://elsewhere.example";
    this.spoilNextIdToken = null;
    const id = this.sign(idClaims);
    this.exchanges.push({ username: grant.username, pkce: "S256 verified" });
    return json(200, { access_token: access, id_token: id, token_type: "Bearer",
      expires_in: 3600, scope: grant.scope });
  }
}
