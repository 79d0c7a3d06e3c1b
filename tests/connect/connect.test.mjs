// The official Connect clients against the real gateway (issue 22, item 3): @connectrpc/connect-node
// 2.x with code generated from proto/ by buf + protoc-gen-es, over Connect JSON, Connect binary,
// Connect GET and gzip on the HTTP port, and over gRPC on the gRPC port. Started by run.sh (the
// ctest `connect_client`), which installs the packages and generates the code first.
//
// Every case has an id (e.g. "binary.get_region"). The cases listed in pending.txt (or in
// $LINLI_CONNECT_PENDING, comma-separated, which replaces the file; empty = none pending) wait
// for server work that has not landed: they still run, and are reported as TODO with their
// failure. A pending case that passes fails the check "pending list is current", so the list
// never hides a case that works (take it off the list). No case skips itself.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport } from
  "@connectrpc/connect-node";

import { BadRequestSchema, ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { ConsoleService, GetRegionRequestSchema, GetRegionResponseSchema,
  ListRegionsRequestSchema } from "./gen/linli/gateway/v1/console_pb.js";
import { ElderAppService } from "./gen/linli/gateway/v1/elder_app_pb.js";
import { RegionLevel } from "./gen/linli/registry/v1/registry_pb.js";
import { Platform } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN_DIR = process.env.LINLI_BIN_DIR;
assert.ok(BIN_DIR, "LINLI_BIN_DIR must name the build's bin directory (run.sh sets it)");

const STREET = "regions/310101020";  // the demo street, 17 committees 310101020001-017
const COMMITTEES = 17;

// ---- Which cases wait for the server side -----------------------------------------------------

function loadPending() {
  const text = process.env.LINLI_CONNECT_PENDING !== undefined
    ? process.env.LINLI_CONNECT_PENDING.replaceAll(",", "\n")
    : fs.readFileSync(path.join(here, "pending.txt"), "utf8");
  return new Set(text.split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean));
}
const PENDING = loadPending();
const defined = new Set();
const outcomes = new Map();  // id -> "pass" | error message
let failures = 0;

// A case: a node:test test named by its id. A pending case is a TODO test: it runs, its failure
// is printed but does not fail the run.
function kase(id, fn) {
  assert.ok(!defined.has(id), `case ${id} defined twice`);
  defined.add(id);
  const pending = PENDING.has(id);
  test(id, pending ? { todo: "pending: waits for the server side (pending.txt)" } : {},
    async () => {
      try {
        await fn();
        outcomes.set(id, "pass");
      } catch (e) {
        outcomes.set(id, (e?.message ?? String(e)).split("\n")[0].slice(0, 160));
        if (!pending) failures++;
        throw e;
      }
    });
}

// ---- The platform and its callers --------------------------------------------------------------

const platform = new Platform(BIN_DIR);
const tokens = new Map();
function token(spec) {
  const key = JSON.stringify(spec);
  if (!tokens.has(key)) tokens.set(key, platform.token(spec));
  return tokens.get(key);
}
const admin = () => token({ role: "admin", subject: "staff/connect-admin" });
const auth = (t) => ({ authorization: `Bearer ${t}` });
// Every call carries a deadline (Connect-Timeout-Ms, grpc-timeout), as docs/API.md asks.
const opts = (t, extra = {}) => ({ headers: t ? auth(t) : {}, timeoutMs: 15000, ...extra });

// Seeded facts the cases use.
const seed = {};

before(async () => {
  const started = Date.now();
  await platform.start();
  platform.seedDemo(50);
  process.stderr.write(`platform: started and seeded in ${Date.now() - started} ms\n`);
  // An elder of the street, through the gateway as admin (JSON, the form that works today).
  const client = createClient(ConsoleService, transports.json());
  const elders = await client.listElders({ region: STREET, pageSize: 200 }, opts(admin()));
  assert.ok(elders.elders.length > 0, "the demo street has elders");
  seed.elder = elders.elders[0];
  // An elder with promises (not every demo elder has one; the list's order is the ids').
  for (const e of elders.elders) {
    const promised = await client.listCommitments({ elder: e.name, pageSize: 1 }, opts(admin()));
    if (promised.commitments.length > 0) {
      seed.promised = e;
      break;
    }
  }
  assert.ok(seed.promised, "some demo elder has promises");
  seed.committee = seed.elder.region;  // regions/310101020NNN
  const code = seed.committee.replace("regions/", "");
  seed.otherCommittee = code.endsWith("001") ? "regions/310101020002" : "regions/310101020001";
}, { timeout: 600000 });

after(async () => {
  if (failures > 0) process.stderr.write(platform.logs(10));
  const stopping = Date.now();
  await platform.stop({ keep: failures > 0 || process.env.LINLI_CONNECT_KEEP === "1" });
  process.stderr.write(`platform: stopped in ${Date.now() - stopping} ms\n`);
});

// A compression that counts what went through it, so a case knows the gzip really happened.
function spyGzip() {
  const spy = {
    name: compressionGzip.name, compressed: 0, decompressed: 0,
    compress(bytes) { spy.compressed++; return compressionGzip.compress(bytes); },
    decompress(bytes, max) { spy.decompressed++; return compressionGzip.decompress(bytes, max); },
  };
  return spy;
}

// Records the HTTP method of every request (Connect GET or POST).
// Interceptors run before connect-es turns a POST into a GET (transport.js), so they cannot see
// the HTTP method; the gateway marks the answers it serves to a GET "Cache-Control: private", and
// that is what is recorded: "GET" for such an answer, the request's method otherwise.
function methodRecorder() {
  const methods = [];
  const interceptor = (next) => async (req) => {
    const res = await next(req);
    methods.push(res.header.get("cache-control") === "private" ? "GET" : req.requestMethod);
    return res;
  };
  return { methods, interceptor };
}

const transports = {
  json: (extra = {}) => createConnectTransport({
    baseUrl: platform.httpUrl, httpVersion: "1.1", useBinaryFormat: false, ...extra }),
  binary: (extra = {}) => createConnectTransport({
    baseUrl: platform.httpUrl, httpVersion: "1.1", useBinaryFormat: true, ...extra }),
  grpc: (extra = {}) => createGrpcTransport({
    baseUrl: platform.grpcUrl, httpVersion: "2", ...extra }),
};

// The Connect error of a call that must fail.
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return ConnectError.from(e);
  }
  assert.fail("the call succeeded");
}

function codeName(code) {
  return Code[code] ?? String(code);
}

function assertCode(err, code) {
  assert.equal(codeName(err.code), codeName(code), `${err.rawMessage ?? err.message}`);
}

function assertMasked(elder) {
  assert.ok(elder.name.startsWith("elders/"), elder.name);
  assert.match(elder.displayName, /\*/, `display name masked: ${elder.displayName}`);
  if (elder.idNumber) assert.match(elder.idNumber, /\*/, `id number masked: ${elder.idNumber}`);
  if (elder.phone) assert.match(elder.phone, /\*/, `phone masked: ${elder.phone}`);
}

// ---- The same calls over Connect JSON, Connect binary and gRPC --------------------------------

for (const form of ["json", "binary", "grpc"]) {
  const consoleClient = (extra) => createClient(ConsoleService, transports[form](extra));

  kase(`${form}.list_regions`, async () => {
    const out = await consoleClient().listRegions({ parent: STREET }, opts(admin()));
    assert.equal(out.regions.length, COMMITTEES);
    assert.ok(out.regions.every((r) => r.parent === STREET && r.name.startsWith(`${STREET}`)));
    assert.ok(out.regions.some((r) => /居民区|居委/.test(r.displayName)),
      out.regions.map((r) => r.displayName).join(","));
  });

  kase(`${form}.get_region`, async () => {
    const out = await consoleClient().getRegion({ name: STREET }, opts(admin()));
    assert.equal(out.region.name, STREET);
    assert.equal(out.region.displayName, "五里桥街道");
    assert.equal(out.region.parent, "regions/310101");
  });

  kase(`${form}.list_organisations`, async () => {
    const out = await consoleClient().listOrganisations({ region: STREET, pageSize: 500 },
      opts(token({ role: "street_staff", region: "310101020", subject: "staff/connect" })));
    assert.ok(out.organisations.length > 10, `${out.organisations.length} organisations`);
    assert.ok(out.organisations.some((o) => o.name === "organisations/wlq-street-office"));
  });

  kase(`${form}.get_elder_masked`, async () => {
    const staff = token({ role: "committee_staff", region: seed.committee.replace("regions/", ""),
      subject: "staff/connect-committee" });
    const out = await consoleClient().getElder({ name: seed.elder.name }, opts(staff));
    assert.equal(out.elder.name, seed.elder.name);
    assert.equal(out.elder.region, seed.committee);
    assertMasked(out.elder);
  });

  kase(`${form}.elder_app_page`, async () => {
    const elder = token({ role: "elder", subject: seed.elder.name });
    const client = createClient(ElderAppService, transports[form]());
    const out = await client.getElderPage({ elder: seed.elder.name }, opts(elder));
    assert.equal(out.profile.name, seed.elder.name);
    assertMasked(out.profile);
  });

  kase(`${form}.request_id_echoed`, async () => {
    const id = `connect-${form}-${Date.now()}`;
    const seen = [];
    await consoleClient().getRegion({ name: STREET }, opts(admin(), {
      headers: { ...auth(admin()), "x-request-id": id },
      onHeader: (h) => seen.push(h.get("x-request-id")),
      onTrailer: (t) => seen.push(t.get("x-request-id")),
    }));
    assert.ok(seen.includes(id), `x-request-id ${id} in the response metadata: ${seen}`);
  });

  kase(`${form}.unauthenticated`, async () => {
    const err = await failure(consoleClient().getRegion({ name: STREET }, opts(null)));
    assertCode(err, Code.Unauthenticated);
  });

  kase(`${form}.permission_denied_out_of_region`, async () => {
    const staff = token({ role: "committee_staff", region: seed.committee.replace("regions/", ""),
      subject: "staff/connect-committee" });
    const err = await failure(consoleClient().listElders({ region: seed.otherCommittee },
      opts(staff)));
    assertCode(err, Code.PermissionDenied);
  });

  kase(`${form}.permission_denied_wrong_role`, async () => {
    const elder = token({ role: "elder", subject: seed.elder.name });
    const err = await failure(consoleClient().getRegion({ name: STREET }, opts(elder)));
    assertCode(err, Code.PermissionDenied);
  });

  kase(`${form}.not_found`, async () => {
    const err = await failure(consoleClient().getRegion({ name: "regions/310101020099" },
      opts(admin())));
    assertCode(err, Code.NotFound);
    const info = err.findDetails(ErrorInfoSchema);
    assert.equal(info.length, 1, "one google.rpc.ErrorInfo");
    assert.equal(info[0].domain, "linli.dev");
    assert.equal(info[0].reason, "ERROR_REASON_NOT_FOUND");
  });

  kase(`${form}.invalid_argument_details`, async () => {
    const err = await failure(consoleClient().listRegions({ parent: STREET, pageSize: -1 },
      opts(admin())));
    assertCode(err, Code.InvalidArgument);
    const bad = err.findDetails(BadRequestSchema);
    assert.equal(bad.length, 1, "one google.rpc.BadRequest");
    assert.deepEqual(bad[0].fieldViolations.map((v) => v.field), ["page_size"]);
    assert.ok(bad[0].fieldViolations[0].description.length > 0);
    const info = err.findDetails(ErrorInfoSchema);
    assert.equal(info[0]?.reason, "ERROR_REASON_INVALID_FIELD");
    assert.equal(info[0]?.domain, "linli.dev");
  });

  kase(`${form}.already_exists`, async () => {
    const err = await failure(consoleClient().createRegion({
      region: { code: "310101020", displayName: "五里桥街道", level: RegionLevel.STREET, parent: "regions/310101" },
    }, opts(admin())));
    assertCode(err, Code.AlreadyExists);
  });

  kase(`${form}.resource_exhausted`, async () => {
    // One principal far over its burst (100 calls) at once: some calls are refused, none fail
    // otherwise. Its own subject, so no other case shares its bucket.
    // Over HTTP/1.1 on 8 keep-alive connections, as a browser would (a socket per call would
    // wait behind the server's idle keep-alive connections instead).
    const flood = token({ role: "admin", subject: `staff/connect-flood-${form}` });
    const client = consoleClient(form === "grpc" ? {}
      : { nodeOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: 8 }) } });
    const results = await Promise.allSettled(Array.from({ length: 300 },
      () => client.listLines({}, opts(flood))));
    const codes = results.map((r) => r.status === "fulfilled" ? "ok"
      : codeName(ConnectError.from(r.reason).code));
    const counts = {};
    for (const c of codes) counts[c] = (counts[c] ?? 0) + 1;
    assert.ok(counts.ResourceExhausted > 0, `no call refused: ${JSON.stringify(counts)}`);
    assert.deepEqual([...new Set(codes)].filter((c) => c !== "ok" && c !== "ResourceExhausted"),
      []);
  });

  if (form !== "json") {
    // A field this proto does not know (a newer client's field 999) in the binary message.
    kase(`${form}.unknown_field`, async () => {
      const request = create(ListRegionsRequestSchema, { parent: STREET });
      request.$unknown = [{ no: 999, wireType: WireType.Varint, data: new Uint8Array([1]) }];
      assert.ok(toBinary(ListRegionsRequestSchema, request).length > STREET.length + 2);
      const out = await consoleClient().listRegions(request, opts(admin()));
      assert.equal(out.regions.length, COMMITTEES);
    });
  }

  // gzip both ways, negotiated by the client (Content-Encoding / Accept-Encoding, or
  // grpc-encoding / grpc-accept-encoding).
  kase(`gzip.${form}`, async () => {
    const gzip = spyGzip();
    const client = consoleClient({ sendCompression: gzip, acceptCompression: [gzip],
      compressMinBytes: 0 });
    const out = await client.listRegions({ parent: STREET }, opts(admin()));
    assert.equal(out.regions.length, COMMITTEES);
    assert.ok(gzip.compressed > 0, "the request was compressed");
    // A gRPC server compresses responses only when it chooses to (grpc-accept-encoding is an
    // offer); the Connect port is expected to answer gzip in kind.
    if (form !== "grpc") assert.ok(gzip.decompressed > 0, "the response came compressed");
  });
}

// ---- Server streaming: the elder's notices as they come ------------------------------------------

// WatchMyNotices over the Connect streaming protocol (JSON and binary) on the HTTP port and over
// gRPC: the stream is opened after the elder's newest notice, a complaint is raised, and its
// "accepted" notice arrives on the open stream; then the client ends the stream.
for (const form of ["json", "binary", "grpc"]) {
  kase(`${form}.watch_my_notices`, async () => {
    const elder = token({ role: "elder", subject: seed.promised.name });
    const app = createClient(ElderAppService, transports[form]());
    const newest = await app.listMyNotices({ elder: seed.promised.name, newestFirst: true,
      pageSize: 1 }, opts(elder));
    const after = newest.notices[0]?.sequence ?? 0n;
    const abort = new AbortController();
    const stream = app.watchMyNotices({ elder: seed.promised.name, afterSequence: after },
      { headers: auth(elder), timeoutMs: 60000, signal: abort.signal })[Symbol.asyncIterator]();
    const next = stream.next();
    next.catch(() => {});  // awaited below, unless the case fails first
    let arrived;
    let raised;
    try {
      const promises = await app.listMyCommitments({ elder: seed.promised.name }, opts(elder));
      assert.ok(promises.commitments.length > 0, "the elder has promises");
      raised = await app.raiseComplaint({ elder: seed.promised.name,
        commitment: promises.commitments[0].name, description: `送餐总是迟到（${form}）`,
        requestId: `watch-${form}-${Date.now()}` }, opts(elder));
      arrived = await next;
    } finally {
      if (arrived === undefined) abort.abort();
    }
    assert.equal(arrived.done, false, "a notice arrived on the stream");
    assert.equal(arrived.value.recipient, seed.promised.name);
    assert.ok(arrived.value.sequence > after, `${arrived.value.sequence} after ${after}`);
    assert.ok(arrived.value.text.length > 0, "the notice has its text");
    assert.ok(raised.workOrder.name.length > 0);
    abort.abort();
    const ended = await stream.next().catch((e) => ConnectError.from(e));
    assert.ok(ended instanceof ConnectError && ended.code === Code.Canceled,
      `the client ended the stream: ${ended?.message ?? JSON.stringify(ended)}`);
  });

  kase(`${form}.watch_someone_elses_notices`, async () => {
    const elder = token({ role: "elder", subject: seed.promised.name });
    const app = createClient(ElderAppService, transports[form]());
    const other = seed.promised.name.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
    const err = await failure((async () => {
      for await (const notice of app.watchMyNotices({ elder: other }, opts(elder))) {
        assert.fail(`a notice of another elder: ${notice.name}`);
      }
    })());
    assertCode(err, Code.PermissionDenied);
  });
}

// ---- Connect GET for read-only methods (idempotency_level = NO_SIDE_EFFECTS) -------------------

for (const form of ["json", "binary"]) {
  for (const method of ["getRegion", "listRegions"]) {
    kase(`get.${form}.${method}`, async () => {
      const recorder = methodRecorder();
      const client = createClient(ConsoleService, transports[form]({ useHttpGet: true,
        interceptors: [recorder.interceptor] }));
      const out = method === "getRegion"
        ? await client.getRegion({ name: STREET }, opts(admin()))
        : await client.listRegions({ parent: STREET }, opts(admin()));
      assert.deepEqual(recorder.methods, ["GET"],
        `${ConsoleService.method[method].name} is marked NO_SIDE_EFFECTS and sent as GET`);
      if (method === "getRegion") assert.equal(out.region.displayName, "五里桥街道");
      else assert.equal(out.regions.length, COMMITTEES);
    });
  }
}

// The GET form built by hand, whatever the protos say (Connect protocol: unary GET).
kase("get.raw_json", async () => {
  const message = encodeURIComponent(JSON.stringify({ name: STREET }));
  const res = await fetch(`${platform.httpUrl}/linli.gateway.v1.ConsoleService/GetRegion` +
    `?connect=v1&encoding=json&message=${message}`, { headers: auth(admin()) });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal(JSON.parse(body).region.displayName, "五里桥街道");
});

kase("get.raw_proto_base64", async () => {
  const bytes = toBinary(GetRegionRequestSchema, create(GetRegionRequestSchema, { name: STREET }));
  const message = Buffer.from(bytes).toString("base64url");
  const res = await fetch(`${platform.httpUrl}/linli.gateway.v1.ConsoleService/GetRegion` +
    `?connect=v1&encoding=proto&base64=1&message=${message}`, { headers: auth(admin()) });
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get("content-type") ?? "", /^application\/proto/);
  const out = fromBinary(GetRegionResponseSchema, new Uint8Array(await res.arrayBuffer()));
  assert.equal(out.region.displayName, "五里桥街道");
});

// ---- Raw HTTP: what a generated client cannot send ---------------------------------------------

function post(method, body, headers = {}) {
  return fetch(`${platform.httpUrl}/linli.gateway.v1.ConsoleService/${method}`, {
    method: "POST", body,
    headers: { "content-type": "application/json", ...auth(admin()), ...headers },
  });
}

// A newer client's field in JSON: ignored (Connect servers skip unknown fields).
kase("json.unknown_field", async () => {
  const res = await post("ListRegions",
    JSON.stringify({ parent: STREET, someFieldFromANewerProto: { x: 1 }, anotherOne: "y" }));
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal(JSON.parse(body).regions.length, COMMITTEES);
});

// The error body of the protocol, as any Connect client reads it.
kase("json.raw_error_body", async () => {
  const res = await post("ListRegions", JSON.stringify({ parent: STREET, pageSize: -1 }));
  assert.equal(res.status, 400);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const body = await res.json();
  assert.equal(body.code, "invalid_argument");
  assert.ok(body.details.some((d) => d.type === "google.rpc.BadRequest" && d.value));
});

// gzip request body built by hand, gzip response asked for.
kase("gzip.raw_json", async () => {
  const res = await post("ListRegions", zlib.gzipSync(JSON.stringify({ parent: STREET })),
    { "content-encoding": "gzip", "accept-encoding": "gzip" });
  const body = await res.text();  // fetch undoes the response's gzip
  assert.equal(res.status, 200, body.slice(0, 200));
  assert.equal(res.headers.get("content-encoding"), "gzip");
  assert.equal(JSON.parse(body).regions.length, COMMITTEES);
});

// An encoding the server does not support: unimplemented (Connect protocol), not ignored.
kase("gzip.unsupported_encoding", async () => {
  const res = await post("ListRegions", JSON.stringify({ parent: STREET }),
    { "content-encoding": "x-linli-unknown" });
  const body = await res.text();
  assert.equal(res.status, 501, body.slice(0, 200));
  assert.equal(JSON.parse(body).code, "unimplemented");
});

// ---- The list itself ----------------------------------------------------------------------------

test("pending list is current", () => {
  const summary = [...defined].map((id) =>
    `${outcomes.get(id) === "pass" ? "PASS" : "FAIL"}${PENDING.has(id) ? " (pending)" : ""}  ${id}` +
    (outcomes.get(id) === "pass" ? "" : `: ${outcomes.get(id) ?? "did not run"}`));
  process.stderr.write(`\nconnect cases:\n${summary.join("\n")}\n\n`);
  const unknown = [...PENDING].filter((id) => !defined.has(id));
  assert.deepEqual(unknown, [], "pending.txt names cases that do not exist");
  const passing = [...PENDING].filter((id) => outcomes.get(id) === "pass");
  assert.deepEqual(passing, [], "these pending cases pass now: take them off pending.txt");
});
