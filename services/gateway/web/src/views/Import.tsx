// Onboarding: a committee's roster (CSV from Excel, UTF-8 or GB18030) checked in the browser's
// session against the platform before anything is written, every refused row shown by line and
// column in Chinese and English; then imported (only when every row passed, or the good rows
// alone when staff choose so). Importing the same roster again changes nothing.
import { useState } from "react";

import { api, useWrite } from "../api.js";
import { RosterKind, type ImportRosterResponse } from "../gen/linli/gateway/v1/console_pb.js";
import { useI18n } from "../i18n.js";
import { Panel, Problem } from "../ui.js";

// The largest file sent in one call (the gateway's request limit is 1 MiB); larger rosters go
// through `linli import`, which sends them in chunks.
const MAX_BYTES = 900 * 1024;

export function ImportView() {
  const { t } = useI18n();
  const [file, setFile] = useState<{ name: string; bytes: Uint8Array }>();
  const [checked, setChecked] = useState<ImportRosterResponse>();
  const [imported, setImported] = useState<ImportRosterResponse>();
  const [skipBad, setSkipBad] = useState(false);
  const [tooBig, setTooBig] = useState(false);
  const { run, busy, error } = useWrite();

  const send = async (dryRun: boolean) => {
    if (!file) return;
    const answer = await run(() =>
      api.importRoster({ kind: RosterKind.ELDERS, csv: file.bytes, dryRun, skipBadRows: skipBad }),
    );
    if (answer === undefined) return;
    if (dryRun) setChecked(answer);
    else setImported(answer);
  };

  const report = imported ?? checked;
  const refused = new Set(report?.problems.map((p) => p.line)).size;
  return (
    <div>
      <h1>{t("nav_import")}</h1>
      <section className="panel">
        <p>{t("import_hint")}</p>
        <label>
          {t("import_file")}{" "}
          <input
            type="file"
            accept=".csv,text/csv"
            onChange={async (e) => {
              const chosen = e.target.files?.[0];
              setChecked(undefined);
              setImported(undefined);
              setTooBig(chosen !== undefined && chosen.size > MAX_BYTES);
              if (!chosen || chosen.size > MAX_BYTES) return setFile(undefined);
              setFile({ name: chosen.name, bytes: new Uint8Array(await chosen.arrayBuffer()) });
            }}
          />
        </label>{" "}
        <button type="button" disabled={!file || busy} onClick={() => void send(true)}>
          {t("import_check")}
        </button>
      </section>
      {tooBig && (
        <p role="alert" className="problem">
          {t("import_too_big")}
        </p>
      )}
      {error !== undefined && <Problem error={error} />}
      {report && (
        <Panel id="import-report" title={imported ? t("import_done") : t("import_checked")} loading={false} error={undefined}>
          <p className="import-summary">
            {t("import_summary", {
              rows: report.rows,
              created: report.created,
              existing: report.existing,
              refused,
              encoding: report.encoding,
            })}
          </p>
          {report.problems.length > 0 && (
            <table className="import-problems">
              <thead>
                <tr>
                  <th scope="col">{t("import_line")}</th>
                  <th scope="col">{t("import_column")}</th>
                  <th scope="col">{t("import_reason")}</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {report.problems.map((p, i) => (
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
              {report.problems.length > 0 && (
                <label>
                  <input type="checkbox" checked={skipBad} onChange={(e) => setSkipBad(e.target.checked)} />
                  {t("import_skip_bad")}
                </label>
              )}{" "}
              <button
                type="button"
                disabled={busy || (report.problems.length > 0 && !skipBad) || report.created === 0}
                onClick={() => void send(false)}
              >
                {t("import_go", { n: report.created })}
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
    </div>
  );
}
