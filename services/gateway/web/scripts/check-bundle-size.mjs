// The console's size budget, checked on every build (scripts/web.sh): the gzip-compressed size of
// all JavaScript and all CSS the build wrote, as a browser on a committee's slow line downloads
// them. Raise a budget only with a reason in the commit.
//
//   node scripts/check-bundle-size.mjs OUT_DIR
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const BUDGET_KIB = { ".js": 180, ".css": 16 };

const out = process.argv[2];
if (!out) {
  console.error("usage: check-bundle-size.mjs OUT_DIR");
  process.exit(2);
}
const totals = { ".js": 0, ".css": 0 };
for (const name of fs.readdirSync(path.join(out, "assets"))) {
  const ext = path.extname(name);
  if (!(ext in totals)) continue;
  const bytes = fs.readFileSync(path.join(out, "assets", name));
  totals[ext] += zlib.gzipSync(bytes, { level: 9 }).length;
}
let over = false;
for (const [ext, bytes] of Object.entries(totals)) {
  const kib = bytes / 1024;
  const line = `console bundle ${ext}: ${kib.toFixed(1)} KiB gzipped (budget ${BUDGET_KIB[ext]} KiB)`;
  if (kib > BUDGET_KIB[ext]) {
    console.error(`${line}: OVER BUDGET`);
    over = true;
  } else {
    console.log(line);
  }
}
process.exit(over ? 1 : 0);
