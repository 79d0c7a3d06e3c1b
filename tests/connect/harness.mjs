// Starts the real platform for the Connect client tests, as tests/e2e_test.cc does: the four
// binaries of LINLI_BIN_DIR on free loopback ports, SQLite files in a fresh temp directory, a
// development PKI for service-to-service mutual TLS made with the openssl CLI (as scripts/run.sh
// makes it), a development token key set (`linli token --new_keys`), and the demo street loaded
// with `linli seed-demo`. Tokens are minted at run time with `linli token`, so the suite passes on
// any date (and under libfaketime: openssl, the services and the CLI all see the same clock).
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const IDENTITIES = ["linli-registry", "linli-scheduling", "linli-feedback", "linli-gateway",
  "linli-cli"];

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A port nobody listens on now (the kernel's choice for port 0). Another process may take it
// before the service binds it: start() then retries with new ports.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function openssl(args) {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

// The platform's development CA and one certificate per identity (scripts/run.sh, make_pki).
function makePki(dir) {
  fs.mkdirSync(dir, { mode: 0o700 });
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-days", "30", "-subj", "/CN=linli-connect-test-ca", "-keyout", `${dir}/ca.key`,
    "-out", `${dir}/ca.crt`, "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  for (const name of IDENTITIES) {
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-subj", `/CN=${name}`, "-keyout", `${dir}/${name}.key`, "-out", `${dir}/${name}.csr`]);
    const ext = `${dir}/${name}.ext`;
    fs.writeFileSync(ext, ["basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth,clientAuth",
      `subjectAltName=DNS:${name},DNS:localhost,IP:127.0.0.1`, ""].join("\n"));
    openssl(["x509", "-req", "-in", `${dir}/${name}.csr`, "-CA", `${dir}/ca.crt`,
      "-CAkey", `${dir}/ca.key`, "-days", "30", "-set_serial",
      `0x${execFileSync("openssl", ["rand", "-hex", "16"]).toString().trim()}`,
      "-out", `${dir}/${name}.crt`, "-extfile", ext]);
  }
  return (identity) => [`--internal_ca_file=${dir}/ca.crt`,
    `--internal_cert_file=${dir}/${identity}.crt`, `--internal_key_file=${dir}/${identity}.key`];
}

export class Platform {
  constructor(binDir) {
    this.binDir = binDir;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "linli-connect-"));
    this.children = [];
    this.onExit = () => this.children.forEach((c) => c.kill("SIGKILL"));
    process.on("exit", this.onExit);
  }

  bin(name) {
    return path.join(this.binDir, name);
  }

  // Runs the CLI as the operator (identity linli-cli); its stdout.
  linli(args, { timeoutMs = 120000 } = {}) {
    return execFileSync(this.bin("linli"), [...args, ...this.identity("linli-cli")], {
      cwd: this.dir, timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 << 20,
    }).toString();
  }

  // A development access token signed with the gateway's key set, minted now.
  token({ role, subject = "", region = "", elder = "", ttl = "" }) {
    const args = ["token", `--token_keys=${this.dir}/jwt-keys.json`, `--role=${role}`];
    if (this.tokenIssuer) args.push(`--token_issuer=${this.tokenIssuer}`);
    if (subject) args.push(`--subject=${subject}`);
    if (region) args.push(`--region=${region}`);
    if (elder) args.push(`--elder=${elder}`);
    if (ttl) args.push(`--ttl=${ttl}`);
    return execFileSync(this.bin("linli"), args, { cwd: this.dir }).toString().trim();
  }

  // `gatewayArgs`: more flags for linli-gateway (e.g. --web_root for the console test).
  // `jwks`: public JWKs (an identity provider's) the gateway accepts besides the development key;
  // `issuer`: the issuer the gateway requires, and `token()` mints with (default linli-dev).
  async start({ attempts = 3, gatewayArgs = [], jwks = [], issuer = "" } = {}) {
    this.gatewayArgs = [...gatewayArgs, ...(issuer ? [`--jwt_issuer=${issuer}`] : [])];
    this.tokenIssuer = issuer;
    this.identity = makePki(path.join(this.dir, "pki"));
    fs.writeFileSync(path.join(this.dir, "pii.key"),
      execFileSync(this.bin("linli"), ["keygen"]), { mode: 0o600 });
    // The development key stays first: `linli token` signs with the first key.
    const keys = JSON.parse(execFileSync(this.bin("linli"), ["token", "--new_keys"]).toString());
    keys.keys.push(...jwks);
    fs.writeFileSync(path.join(this.dir, "jwt-keys.json"), JSON.stringify(keys), { mode: 0o600 });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce(attempt);
        return;
      } catch (e) {
        await this.stopChildren("SIGKILL");
        if (attempt >= attempts) throw e;
        process.stderr.write(`platform: attempt ${attempt} failed (${e.message}); retrying\n`);
      }
    }
  }

  async startOnce(attempt) {
    const ports = {};
    for (const name of ["registry", "scheduling", "feedback", "gateway", "http"]) {
      ports[name] = await freePort();
    }
    const at = (name) => `127.0.0.1:${ports[name]}`;
    this.addresses = {
      registry: at("registry"), scheduling: at("scheduling"), feedback: at("feedback"),
      gateway: at("gateway"),
    };
    this.grpcUrl = `http://${at("gateway")}`;
    this.httpUrl = `http://${at("http")}`;
    const db = (name) => `--db=sqlite:${this.dir}/${name}-${attempt}.db`;
    const pii = `--pii_key_file=${this.dir}/pii.key`;
    const common = ["--shutdown_deadline=5s"];
    this.spawn("registry", [`--listen=${at("registry")}`, db("registry"), pii, ...common]);
    this.spawn("scheduling", [`--listen=${at("scheduling")}`, db("scheduling"), pii,
      `--registry_address=${at("registry")}`, ...common]);
    this.spawn("feedback", [`--listen=${at("feedback")}`, db("feedback"), pii,
      `--registry_address=${at("registry")}`, `--scheduling_address=${at("scheduling")}`,
      ...common]);
    this.spawn("gateway", [`--listen=${at("gateway")}`, `--http_listen=${at("http")}`,
      `--registry_address=${at("registry")}`, `--scheduling_address=${at("scheduling")}`,
      `--feedback_address=${at("feedback")}`, `--jwt_keys_file=${this.dir}/jwt-keys.json`,
      ...this.gatewayArgs, ...common]);
    // Every service SERVING, as `linli health` (the operator CLI) sees them.
    const deadline = Date.now() + 60000;
    for (;;) {
      const dead = this.children.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead) throw new Error(`linli-${dead.linliName} exited at start-up\n${this.logs()}`);
      try {
        this.linli(["health", ...this.addressFlags()], { timeoutMs: 10000 });
        break;
      } catch (e) {
        if (Date.now() > deadline) {
          throw new Error(`the platform never became healthy: ${e.stderr ?? e}\n${this.logs()}`);
        }
        await sleep(100);
      }
    }
  }

  addressFlags() {
    return [`--gateway=${this.addresses.gateway}`,
      `--registry_address=${this.addresses.registry}`,
      `--scheduling_address=${this.addresses.scheduling}`,
      `--feedback_address=${this.addresses.feedback}`];
  }

  // The demo street (tools/demo_street.cc) with `elders` elders, through the backends as the
  // operator: 五里桥街道 regions/310101020, its 17 committees, organisations, workers, promises.
  seedDemo(elders = 50) {
    this.linli(["seed-demo", `--demo_elders=${elders}`, ...this.addressFlags()],
      { timeoutMs: 300000 });
  }

  spawn(name, args) {
    const log = fs.openSync(path.join(this.dir, `${name}.log`), "a");
    const child = spawn(this.bin(`linli-${name}`), [...args, ...this.identity(`linli-${name}`)],
      { cwd: this.dir, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    child.linliName = name;
    this.children.push(child);
  }

  // The last lines of every service's log.
  logs(lines = 15) {
    let out = "";
    for (const name of ["registry", "scheduling", "feedback", "gateway"]) {
      const file = path.join(this.dir, `${name}.log`);
      if (!fs.existsSync(file)) continue;
      const text = fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
      out += `--- ${name}.log (last ${lines} lines)\n${text}\n`;
    }
    return out;
  }

  async stopChildren(signal) {
    const waits = this.children.map((c) => (c.exitCode !== null || c.signalCode !== null)
      ? Promise.resolve()
      : new Promise((resolve) => { c.once("exit", resolve); c.kill(signal); }));
    await Promise.race([Promise.all(waits), sleep(15000)]);
    for (const c of this.children) c.kill("SIGKILL");
    this.children = [];
  }

  // SIGTERM to every service; the temp directory goes unless `keep` (then its path is printed).
  async stop({ keep = false } = {}) {
    await this.stopChildren("SIGTERM");
    process.removeListener("exit", this.onExit);
    if (keep) {
      process.stderr.write(`platform: logs and databases kept in ${this.dir}\n`);
    } else {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
