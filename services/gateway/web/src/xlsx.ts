// A roster kept in Excel's own format (.xlsx) read in the browser: the first worksheet turned into
// the CSV that ConsoleService.ImportRoster takes, so it goes through the same check and report as
// a CSV file. Loaded only when an .xlsx is chosen (Import.tsx imports it with import()), so the
// reader is a chunk of its own that the console's first load does not fetch.
//
// One CSV record for each worksheet row, in order, from row 1: an empty row is an empty line
// (which the platform skips but counts), so a line of the report is the worksheet's row. A cell
// holding a line break spans more than one CSV line; sheetRow() turns the report's line back into
// the row. Cells: text as typed (Chinese included), a date as YYYY-MM-DD (with the time when it
// has one), a number as Excel stored it (written out in full, never as 1.2E+17), TRUE/FALSE,
// empty as empty; RFC 4180 quoting (csv.ts). An ID number Excel stored as a number has lost its
// last digits (Excel keeps 15 significant digits): that row is not sent but reported by its row.
//
// The workbook is unzipped here synchronously and handed to read-excel-file with its parts
// stored uncompressed: its own unzip would start a Web Worker from a blob: address for a part over
// 512 KiB, which the console's Content-Security-Policy (script-src 'self') forbids.
import { unzipSync, zipSync, type Zippable } from "fflate";
import readXlsxFile from "read-excel-file/universal";

import { csvField } from "./csv.js";

// A row held back because sending it would change what it says.
export interface SheetProblem {
  line: number; // the worksheet's row
  column: string;
  reason: string;
  reasonZh: string;
}

export interface RosterSheet {
  sheet: string; // the worksheet's name
  csv: Uint8Array; // UTF-8, no BOM
  rows: number; // data rows under the header (empty rows not counted)
  held: SheetProblem[]; // rows not sent (not in `csv`), by worksheet row
  sheetRow: (line: number) => number; // the worksheet row where the CSV's line starts
}

// Why a file could not be read: "xls" (Excel 97-2003, or a workbook with a password), "not_xlsx"
// (not a workbook at all), "empty" (the first worksheet has nothing), "unreadable" (a workbook
// whose parts do not parse; `detail` says how).
export class XlsxError extends Error {
  constructor(
    readonly kind: "xls" | "not_xlsx" | "empty" | "unreadable",
    readonly detail = "",
  ) {
    super(detail ? `${kind}: ${detail}` : kind);
  }
}

const ID_HEADERS = ["身份证号", "id_number"];

type Cell = string | { number: string } | boolean | Date | null;

// A number as stored ("3.10101193601015E+17", "31.205", "-0.5") in plain decimal digits, without
// going through a float.
export function plainNumber(stored: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(stored.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return stored.trim();
  const [, sign, whole, fraction = "", exponent = "0"] = m;
  const digits = whole + fraction;
  const point = whole.length + Number(exponent);
  let int: string;
  let frac: string;
  if (point <= 0) {
    int = "0";
    frac = "0".repeat(-point) + digits;
  } else if (point >= digits.length) {
    int = digits + "0".repeat(point - digits.length);
    frac = "";
  } else {
    int = digits.slice(0, point);
    frac = digits.slice(point);
  }
  int = int.replace(/^0+(?=\d)/, "");
  frac = frac.replace(/0+$/, "");
  const text = frac ? `${int}.${frac}` : int;
  return sign === "-" && /[1-9]/.test(text) ? `-${text}` : text;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

// Excel's dates carry no zone: read-excel-file gives them as that day (and time) in UTC.
function dateText(d: Date): string {
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const [h, m, s] = [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  if (h === 0 && m === 0 && s === 0) return day;
  return `${day} ${pad(h)}:${pad(m)}${s ? `:${pad(s)}` : ""}`;
}

function cellText(c: Cell): string {
  if (c === null) return "";
  if (typeof c === "string") return c;
  if (typeof c === "boolean") return c ? "TRUE" : "FALSE";
  if (c instanceof Date) return dateText(c);
  return plainNumber(c.number);
}

const isNumber = (c: Cell): c is { number: string } =>
  c !== null && typeof c === "object" && !(c instanceof Date);

// The workbook's parts that read-excel-file reads (XML), unzipped here and zipped again stored.
function repack(bytes: Uint8Array): Uint8Array {
  let parts: Record<string, Uint8Array>;
  try {
    parts = unzipSync(bytes, {
      filter: (f) => f.name.endsWith(".xml") || f.name.endsWith(".xml.rels"),
    });
  } catch (e) {
    throw new XlsxError("not_xlsx", e instanceof Error ? e.message : String(e));
  }
  const stored: Zippable = {};
  for (const [name, data] of Object.entries(parts)) stored[name] = [data, { level: 0 }];
  return zipSync(stored);
}

// The first worksheet of the .xlsx file `bytes` as a roster CSV.
export async function readRosterXlsx(bytes: Uint8Array): Promise<RosterSheet> {
  const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (magic === "d0cf11e0") throw new XlsxError("xls");
  if (magic !== "504b0304") throw new XlsxError("not_xlsx");
  const stored = repack(bytes);
  let sheets;
  try {
    sheets = await readXlsxFile(
      stored.buffer.slice(stored.byteOffset, stored.byteOffset + stored.byteLength) as ArrayBuffer,
      // `sheets`: only the first (read-excel-file's readSheet asks the same way); `trim: false`:
      // cells as typed, as a CSV would hold them; numbers as stored, unparsed.
      { sheets: [1], trim: false, parseNumber: (n: string) => ({ number: n }) } as {
        trim: boolean;
        parseNumber: (n: string) => { number: string };
      },
    );
  } catch (e) {
    throw new XlsxError("unreadable", e instanceof Error ? e.message : String(e));
  }
  const first = sheets[0];
  if (!first) throw new XlsxError("empty");
  const data = first.data as Cell[][];

  const header = data.findIndex((row) => row.some((c) => cellText(c) !== ""));
  if (header < 0) throw new XlsxError("empty");
  const idColumn = data[header].findIndex((c) =>
    ID_HEADERS.includes(cellText(c).trim().toLowerCase()),
  );
  const idHeader = idColumn >= 0 ? cellText(data[header][idColumn]).trim() : "";

  const held: SheetProblem[] = [];
  const rowAt = new Map<number, number>(); // CSV line -> worksheet row, where they differ
  let text = "";
  let line = 1;
  let rows = 0;
  data.forEach((row, i) => {
    const sheetRow = i + 1;
    if (line !== sheetRow) rowAt.set(line, sheetRow);
    const cells = row.map(cellText);
    while (cells.length > 0 && cells[cells.length - 1] === "") cells.pop();
    if (i > header && cells.length > 0) {
      rows++;
      if (idColumn >= 0 && isNumber(row[idColumn])) {
        held.push({
          line: sheetRow,
          column: idHeader,
          reason:
            "The ID number is stored in Excel as a number, which keeps only 15 significant digits: " +
            "an 18-digit number has lost its last digits, so the row is neither checked nor " +
            "imported. Format the column as Text and type the number again (or start it with ').",
          reasonZh:
            "身份证号在 Excel 里存成了数字：数字只保留 15 位有效数字，18 位号码的最后几位已经丢失，" +
            "这一行不检查也不导入。请把这一列设为“文本”格式后重新输入号码（或在号码前加英文单引号 '）。",
        });
        cells.length = 0; // an empty line in its place keeps the lines after it where they were
      }
    }
    const record = cells.map(csvField).join(",");
    text += record + "\r\n";
    // The platform counts a line break inside a quoted cell as a line.
    line += 1 + (record.match(/\n/g)?.length ?? 0);
  });
  return {
    sheet: first.sheet,
    csv: new TextEncoder().encode(text),
    rows,
    held,
    sheetRow: (l) => rowAt.get(l) ?? l,
  };
}
