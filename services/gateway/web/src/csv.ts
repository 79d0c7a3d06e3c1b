// "Export what one sees": a table as the page shows it (masked values as masked, dates and states
// as written on screen) turned into a CSV file the browser downloads. Nothing is read again from
// the platform, so an export never holds more than the screen did. UTF-8 with a byte order mark,
// so Excel opens Chinese correctly; every cell quoted as RFC 4180 asks when it holds a comma, a
// quote or a line break; lines end in CRLF. A cell that a spreadsheet would take for a formula
// (starting with =, +, -, @, a tab or a carriage return: names and addresses come from imported
// rosters) is written with a leading apostrophe, so it opens as text.

const BOM = "\uFEFF";

// One cell as RFC 4180 writes it: quoted, with its quotes doubled, when it holds a comma, a quote
// or a line break; as it is otherwise. Nothing else is changed (a roster read from .xlsx is sent to
// the platform this way, cell for cell).
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function cell(raw: string): string {
  return csvField(/^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw);
}

// The CSV text of rows of cells, BOM first.
export function csvText(rows: string[][]): string {
  return BOM + rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

// The header row and the body rows of a table as its cells read on screen (whitespace runs as one
// space), without the columns whose header is empty (buttons and the like).
export function tableCells(table: HTMLTableElement): string[][] {
  const text = (c: HTMLTableCellElement) => (c.textContent ?? "").replace(/\s+/g, " ").trim();
  const head = table.tHead?.rows[0];
  const header = head ? [...head.cells].map(text) : [];
  const keep = header.map((h) => h !== "");
  const pick = (cells: string[]) => (head ? cells.filter((_, i) => keep[i]) : cells);
  const body = [...table.tBodies].flatMap((b) => [...b.rows]).map((r) => pick([...r.cells].map(text)));
  return head ? [pick(header), ...body] : body;
}

// Today's date in Shanghai, "YYYY-MM-DD", from the browser's clock (for a file name).
export function shanghaiDate(now = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(now);
}

// The browser saves the rows as fileName.
export function downloadCsv(fileName: string, rows: string[][]): void {
  download(fileName, new Blob([csvText(rows)], { type: "text/csv;charset=utf-8" }));
}

// The browser saves a file the platform made (an exported roster) as fileName.
export function downloadFile(fileName: string, bytes: Uint8Array, type: string): void {
  download(fileName, new Blob([new Uint8Array(bytes)], { type }));
}

function download(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.style.display = "none";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
