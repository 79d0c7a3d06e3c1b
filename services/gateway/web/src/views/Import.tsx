// Onboarding: a roster the street keeps (elders, organisations, relations, offerings, workers, care
// promises naming their elders by ID number; CSV
// from Excel, UTF-8 or GB18030, or Excel's own .xlsx, whose first worksheet is read in the browser
// and turned into the same CSV: xlsx.ts) checked in the browser's session against the platform
// before anything is written, every refused row shown by line (the worksheet's row for .xlsx) and
// column in Chinese and English; then imported (only when every row passed, or the good rows alone
// when staff choose so). Importing the same roster again changes nothing. And the way out: a
// roster as the caller sees it, made by the platform as CSV or .xlsx (ExportRoster).
import { useRef, useState } from "react";

import { api, useWrite } from "../api.js";
import { downloadFile } from "../csv.js";
import {
  RosterFormat,
  RosterKind,
  type ExportRosterResponse,
  type ImportRosterResponse,
} from "../gen/linli/gateway/v1/console_pb.js";
import { useI18n, type Key } from "../i18n.js";
import { Panel, Problem } from "../ui.js";
import type { SheetProblem, XlsxError } from "../xlsx.js";

// The largest file sent in one call (the gateway's request limit is 1 MiB); larger rosters go
// through `linli import`, which sends them in chunks. An .xlsx is measured by the CSV made of it.
const MAX_BYTES = 900 * 1024;
// The largest .xlsx read at all (zipped; pictures and other sheets count too).
const MAX_XLSX_BYTES = 8 * 1024 * 1024;

const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

interface Chosen {
  name: string;
  bytes: Uint8Array; // the CSV sent
  // For .xlsx: the first worksheet's name, its data rows, the rows held back (not in `bytes`) and
  // the worksheet row of a CSV line.
  xlsx?: { sheet: string; rows: number; held: SheetProblem[]; sheetRow: (line: number) => number };
}

// Excel's own format by its first bytes (a ZIP archive: "PK\3\4"; "\xD0\xCF\x11\xE0" is the
// older .xls, or a workbook with a password), or by its name.
function looksLikeXlsx(file: File, head: Uint8Array): boolean {
  const zip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  const ole = head[0] === 0xd0 && head[1] === 0xcf && head[2] === 0x11 && head[3] === 0xe0;
  return zip || ole || /\.xlsx?$/i.test(file.name) || file.type === XLSX_TYPE;
}

// The rosters, in the order the select offers them.
const KINDS = [
  RosterKind.ELDERS,
  RosterKind.ORGANISATIONS,
  RosterKind.RELATIONS,
  RosterKind.OFFERINGS,
  RosterKind.WORKERS,
  RosterKind.COMMITMENTS,
  RosterKind.VISITS,
  RosterKind.ANSWERS,
];

export function ImportView() {
  const { t } = useI18n();
  const [kind, setKind] = useState<RosterKind>(RosterKind.ELDERS);
  const [exported, setExported] = useState<ExportRosterResponse>();
  const exporting = useWrite();
  const [file, setFile] = useState<Chosen>();
  const [checked, setChecked] = useState<ImportRosterResponse>();
  const [imported, setImported] = useState<ImportRosterResponse>();
  const [skipBad, setSkipBad] = useState(false);
  const [tooBig, setTooBig] = useState<"csv" | "xlsx">();
  const [reading, setReading] = useState(false);
  const [unreadable, setUnreadable] = useState<string>();
  const choice = useRef(0); // the latest file chosen: a slower read of an earlier one is dropped
  const { run, busy, error } = useWrite();

  const send = async (dryRun: boolean) => {
    if (!file) return;
    const mine = choice.current;
    const answer = await run(() =>
      api.importRoster({ kind, csv: file.bytes, dryRun, skipBadRows: skipBad }),
    );
    // Another file chosen meanwhile: this answer is not its report.
    if (answer === undefined || mine !== choice.current) return;
    if (dryRun) setChecked(answer);
    else setImported(answer);
  };

  const choose = async (chosen: File | undefined) => {
    const mine = ++choice.current;
    setChecked(undefined);
    setImported(undefined);
    setSkipBad(false); // chosen again for each file, once its report is seen
    setTooBig(undefined);
    setUnreadable(undefined);
    setReading(false);
    setFile(undefined);
    if (!chosen) return;
    let head: Uint8Array;
    try {
      head = new Uint8Array(await chosen.slice(0, 4).arrayBuffer());
      if (mine !== choice.current) return;
      if (!looksLikeXlsx(chosen, head)) {
        if (chosen.size > MAX_BYTES) return setTooBig("csv");
        const bytes = new Uint8Array(await chosen.arrayBuffer());
        if (mine === choice.current) setFile({ name: chosen.name, bytes });
        return;
      }
    } catch (e) {
      // The file changed or went away after it was chosen, or reading it was refused.
      if (mine === choice.current) setUnreadable(whyUnreadable(e));
      return;
    }
    if (chosen.size > MAX_XLSX_BYTES) return setTooBig("xlsx");
    setReading(true);
    try {
      const { readRosterXlsx } = await import("../xlsx.js");
      const sheet = await readRosterXlsx(new Uint8Array(await chosen.arrayBuffer()));
      if (mine !== choice.current) return;
      if (sheet.csv.length > MAX_BYTES) return setTooBig("xlsx");
      setFile({ name: chosen.name, bytes: sheet.csv, xlsx: sheet });
    } catch (e) {
      if (mine === choice.current) setUnreadable(whyUnreadable(e));
    } finally {
      if (mine === choice.current) setReading(false);
    }
  };

  const whyUnreadable = (e: unknown): string => {
    const { kind, detail } = (e ?? {}) as Partial<XlsxError>;
    if (kind === "xls") return t("import_xls");
    if (kind === "not_xlsx") return t("import_not_xlsx");
    if (kind === "empty") return t("import_xlsx_empty");
    return t("import_xlsx_unreadable", { detail: detail || String(e) });
  };

  const chooseKind = (next: RosterKind) => {
    setKind(next);
    setChecked(undefined); // a report is of the roster it was checked as
    setImported(undefined);
    setExported(undefined);
  };

  const exportAs = async (format: RosterFormat) => {
    setExported(undefined);
    const answer = await exporting.run(() => api.exportRoster({ kind, format }));
    if (answer === undefined) return;
    downloadFile(answer.fileName, answer.content, answer.contentType);
    setExported(answer);
  };

  const unit = t(`import_unit_${kind}` as Key);
  const answer = imported ?? checked;
  const sheetRow = file?.xlsx?.sheetRow ?? ((line: number) => line);
  const held = answer ? (file?.xlsx?.held ?? []) : [];
  const problems = answer
    ? [
        ...answer.problems.map((p) => ({
          line: sheetRow(p.line),
          column: p.column,
          reasonZh: p.reasonZh,
          reason: p.reason,
        })),
        ...held,
      ].sort((a, b) => a.line - b.line)
    : [];
  const refused = new Set(problems.map((p) => p.line)).size;
  const counts = answer && {
    rows: answer.rows + held.length,
    created: answer.created,
    existing: answer.existing,
    refused,
  };
  return (
    <div>
      <h1>{t("nav_import")}</h1>
      <section className="panel">
        <p>
          <label htmlFor="roster-kind">{t("import_kind")}</label>{" "}
          {/* Not changed while a call is out: its answer is of the roster it was sent as. */}
          <select
            id="roster-kind"
            value={kind}
            disabled={busy || exporting.busy || reading}
            onChange={(e) => chooseKind(Number(e.target.value) as RosterKind)}
          >
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`roster_option_${k}` as Key)}
              </option>
            ))}
          </select>
        </p>
        <p>{t("import_hint", { kind: t(`roster_kind_${kind}` as Key), template: `linli import template ${KIND_NAMES[kind]}` })}</p>
        <label>
          {t("import_file")}{" "}
          <input
            type="file"
            accept={`.csv,text/csv,.xlsx,${XLSX_TYPE}`}
            onChange={(e) => void choose(e.target.files?.[0])}
          />
        </label>{" "}
        <button type="button" disabled={!file || busy || reading} onClick={() => void send(true)}>
          {t("import_check")}
        </button>
        {reading && <p role="status">{t("import_reading_xlsx")}</p>}
        {file && (
          <p className="import-file-type">
            {file.xlsx
              ? t("import_read_xlsx", { name: file.name, sheet: file.xlsx.sheet, rows: file.xlsx.rows })
              : t("import_read_csv", { name: file.name })}
          </p>
        )}
      </section>
      {tooBig && (
        <p role="alert" className="problem">
          {t(tooBig === "xlsx" ? "import_too_big_xlsx" : "import_too_big")}
        </p>
      )}
      {unreadable !== undefined && (
        <p role="alert" className="problem">
          {unreadable}
        </p>
      )}
      {error !== undefined && <Problem error={error} />}
      {answer && counts && (
        <Panel id="import-report" title={imported ? t("import_done") : t("import_checked")} loading={false} error={undefined}>
          <p className="import-summary">
            {file?.xlsx
              ? t("import_summary_xlsx", { ...counts, unit, sheet: file.xlsx.sheet })
              : t("import_summary", { ...counts, unit, encoding: answer.encoding })}
          </p>
          {problems.length > 0 && (
            <table className="import-problems">
              <thead>
                <tr>
                  <th scope="col">{file?.xlsx ? t("import_row") : t("import_line")}</th>
                  <th scope="col">{t("import_column")}</th>
                  <th scope="col">{t("import_reason")}</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {problems.map((p, i) => (
                  <tr key={i}>
                    <td>{p.line}</td>
                    <td>{p.column || "—"}</td>
                    <td>{p.reasonZh}</td>
                    <td lang="en">{p.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {!imported && (
            <p>
              {problems.length > 0 && (
                <label>
                  <input type="checkbox" checked={skipBad} onChange={(e) => setSkipBad(e.target.checked)} />
                  {t("import_skip_bad")}
                </label>
              )}{" "}
              <button
                type="button"
                disabled={busy || (problems.length > 0 && !skipBad) || answer.created === 0}
                onClick={() => void send(false)}
              >
                {t("import_go", { n: answer.created, unit })}
              </button>
            </p>
          )}
          {imported && (
            <p role="status" className={imported.written ? "ok" : undefined}>
              {imported.written ? t("import_written") : t("import_nothing_written")}
            </p>
          )}
        </Panel>
      )}
      {/* Past visits and answers come in once, from an old system; each elder's page shows them. */}
      {kind !== RosterKind.VISITS && kind !== RosterKind.ANSWERS && (
        <section className="panel" aria-labelledby="export-title">
          <h2 id="export-title">{t("export_title", { kind: t(`roster_kind_${kind}` as Key) })}</h2>
          <p>{t("export_hint")}</p>
          {/* Promises go out with their elders' ID numbers masked: a record, not a roster to import. */}
          {kind === RosterKind.COMMITMENTS && <p>{t("export_hint_commitments")}</p>}
          <button type="button" disabled={exporting.busy} onClick={() => void exportAs(RosterFormat.CSV)}>
            {t("export_csv")}
          </button>{" "}
          <button type="button" disabled={exporting.busy} onClick={() => void exportAs(RosterFormat.XLSX)}>
            {t("export_xlsx")}
          </button>
          {exported && (
            <p role="status" className="export-done">
              {t("export_done", { rows: exported.rows, name: exported.fileName })}
            </p>
          )}
          {exporting.error !== undefined && <Problem error={exporting.error} />}
        </section>
      )}
    </div>
  );
}

// What `linli import template` calls each roster.
const KIND_NAMES: Record<number, string> = {
  [RosterKind.ELDERS]: "elders",
  [RosterKind.ORGANISATIONS]: "organisations",
  [RosterKind.RELATIONS]: "relations",
  [RosterKind.OFFERINGS]: "offerings",
  [RosterKind.WORKERS]: "workers",
  [RosterKind.COMMITMENTS]: "commitments",
  [RosterKind.VISITS]: "visits",
  [RosterKind.ANSWERS]: "answers",
};
