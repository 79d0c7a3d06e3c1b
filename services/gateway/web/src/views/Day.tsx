// The street's day: promises kept / at risk / broken, today's visits per committee, what needs
// someone now, open alerts and work orders, and the perception index over 12 weeks. Each panel
// reads on its own, so a backend that is down empties only its panels.
import { useRef, useState } from "react";

import { api, useLoad } from "../api.js";
import { shanghaiDate } from "../csv.js";
import { AlertState, WorkOrderState } from "../gen/linli/feedback/v1/feedback_pb.js";
import { enumText, useI18n, type Key } from "../i18n.js";
import {
  ElderLink,
  ExportCsvButton,
  idOf,
  MissingParts,
  Panel,
  TrendChart,
  useServiceTypeName,
  when,
} from "../ui.js";
import { AlertList } from "./Alerts.js";

const PROMISE_DAYS = 7;
const COUNT_COLUMNS: Key[] = [
  "scheduled",
  "unstaffed",
  "late",
  "in_progress",
  "done",
  "missed",
  "under_review",
];
const COUNT_FIELDS = {
  scheduled: "scheduled",
  unstaffed: "unstaffed",
  late: "late",
  in_progress: "inProgress",
  done: "done",
  missed: "missed",
  under_review: "underReview",
} as const;
const BOARD_STATE_KEYS: Record<number, Key> = {
  1: "scheduled",
  2: "unstaffed",
  3: "late",
  4: "in_progress",
  5: "done",
  6: "missed",
  7: "cancelled",
};
const PROMISE_STATUS_KEYS: Record<number, Key> = { 1: "kept", 2: "at_risk", 3: "broken" };

export function DayView({ region }: { region: string }) {
  const { t } = useI18n();
  const street = useLoad(() => api.getRegion({ name: region }), [region]);
  const committees = useLoad(() => api.listRegions({ parent: region, pageSize: 200 }), [region]);
  const board = useLoad(() => api.getDayBoard({ region, attentionLimit: 20 }), [region]);
  const promises = useLoad(
    () => api.listPromises({ region, days: PROMISE_DAYS, pageSize: 10 }),
    [region],
  );
  const workOrders = useLoad(() => api.listWorkOrders({ region, pageSize: 50 }), [region]);
  const trend = useLoad(() => api.getPerceptionTrend({ subject: region, weeks: 12 }), [region]);
  const promisesTable = useRef<HTMLTableElement>(null);
  const [alertsError, setAlertsError] = useState<unknown>();

  const serviceName = useServiceTypeName();
  const committeeName = (name: string) =>
    committees.data?.regions.find((r) => r.name === name)?.displayName ?? idOf(name);
  const openOrders = (workOrders.data?.workOrders ?? []).filter(
    (w) => w.state !== WorkOrderState.CLOSED,
  );
  const weeks = trend.data?.weeks ?? [];

  return (
    <div className="day">
      <h1>
        {t("day_title", {
          street: street.data?.region?.displayName ?? region,
          // The board's day; while it cannot be read, today in Shanghai by this browser's clock.
          date: board.data?.date ?? (board.loading ? "" : shanghaiDate()),
        })}
      </h1>
      <MissingParts
        parts={[
          { title: t("part_street"), error: street.error },
          { title: t("part_committees"), error: committees.error },
          { title: t("promises_title", { days: PROMISE_DAYS }), error: promises.error },
          { title: t("alerts_title"), error: alertsError },
          { title: t("board_title"), error: board.error },
          { title: t("work_orders_title"), error: workOrders.error },
          { title: t("trend_title"), error: trend.error },
        ]}
      />

      <Panel
        id="promises"
        className="span-2"
        title={t("promises_title", { days: PROMISE_DAYS })}
        loading={promises.loading}
        error={promises.error}
        onRetry={promises.reload}
      >
        {promises.data && (
          <>
            <ul className="tallies" aria-label={t("promises_title", { days: PROMISE_DAYS })}>
              <li className="tally broken">
                <span className="figure">{promises.data.broken}</span> {t("broken")}
              </li>
              <li className="tally at-risk">
                <span className="figure">{promises.data.atRisk}</span> {t("at_risk")}
              </li>
              {/* no_visits_due counts the kept promises that had no visit due yet: shown apart. */}
              <li className="tally kept">
                <span className="figure">{promises.data.kept - promises.data.noVisitsDue}</span>{" "}
                {t("kept")}
              </li>
              <li className="tally">
                <span className="figure">{promises.data.noVisitsDue}</span> {t("no_visits_due")}
              </li>
            </ul>
            <h3>{t("worst_promises")}</h3>
            <ExportCsvButton
              table={promisesTable}
              what="promises"
              region={region}
              paged={!!promises.data.nextPageToken}
            />
            <table ref={promisesTable}>
              <thead>
                <tr>
                  <th scope="col">{t("status")}</th>
                  <th scope="col">{t("elder")}</th>
                  <th scope="col">{t("committee")}</th>
                  <th scope="col">{t("service")}</th>
                  <th scope="col">{t("why")}</th>
                </tr>
              </thead>
              <tbody>
                {promises.data.promises.map((p) => (
                  <tr key={p.commitment} className={`promise status-${p.status}`}>
                    <td>{t(PROMISE_STATUS_KEYS[p.status] ?? "none")}</td>
                    <td>
                      <ElderLink elder={p.elder} />
                    </td>
                    <td>{committeeName(p.committee)}</td>
                    <td>{serviceName(p.serviceType)}</td>
                    <td>{p.issues.map((i) => enumText(t, "issue_", i)).join("、") || "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Panel>

      <section className="panel" aria-labelledby="alerts">
        <h2 id="alerts">{t("alerts_title")}</h2>
        <AlertList
          region={region}
          state={AlertState.OPEN}
          committeeName={committeeName}
          onError={setAlertsError}
        />
      </section>

      <Panel
        id="board"
        className="wide"
        title={t("board_title")}
        loading={board.loading}
        error={board.error}
        onRetry={board.reload}
        failed={
          committees.data && (
            <>
              <h3>{t("part_committees")}</h3>
              <ul className="committees">
                {committees.data.regions.map((c) => (
                  <li key={c.name}>{c.displayName}</li>
                ))}
              </ul>
            </>
          )
        }
      >
        {board.data && (
          <>
            <table className="board">
              <thead>
                <tr>
                  <th scope="col">{t("committee")}</th>
                  {COUNT_COLUMNS.map((k) => (
                    <th scope="col" key={k} className="count">
                      {t(k)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {board.data.committees.map((c) => (
                  <tr key={c.committee}>
                    <th scope="row">{committeeName(c.committee)}</th>
                    {COUNT_COLUMNS.map((k) => (
                      <td key={k} className={`count ${k}`}>
                        {c.counts?.[COUNT_FIELDS[k as keyof typeof COUNT_FIELDS]] ?? 0}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
            <h3>
              {t("attention")} ({board.data.attentionTotal})
            </h3>
            {board.data.attention.length === 0 ? (
              <p>{t("none")}</p>
            ) : (
              <ul className="attention">
                {board.data.attention.map((v) => (
                  <li key={v.visit} className={`board-state-${v.state}`}>
                    <span className="badge">{t(BOARD_STATE_KEYS[v.state] ?? "scheduled")}</span>{" "}
                    {when(v.windowStart)} · {committeeName(v.committee)} ·{" "}
                    <ElderLink elder={v.elder} />
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </Panel>


      <Panel
        id="work-orders"
        title={t("work_orders_title")}
        loading={workOrders.loading}
        error={workOrders.error}
        onRetry={workOrders.reload}
      >
        {openOrders.length === 0 ? (
          <p>{t("none")}</p>
        ) : (
          <ul className="work-orders">
            {openOrders.map((w) => (
              <li key={w.name}>
                {when(w.createTime)} · <ElderLink elder={w.elder} />{" "}
                · {w.description}
              </li>
            ))}
          </ul>
        )}
      </Panel>

      <Panel
        id="trend"
        className="span-2"
        title={t("trend_title")}
        loading={trend.loading}
        error={trend.error}
        onRetry={trend.reload}
      >
        {weeks.some((w) => w.index?.hasValue) ? (
          <TrendChart
            label={t("trend_title")}
            series={[
              {
                name: t("index"),
                points: weeks.map((w) => ({
                  label: w.weekStart,
                  value: w.index?.hasValue ? w.index.value : undefined,
                })),
              },
              {
                name: t("promise_score"),
                points: weeks.map((w) => ({
                  label: w.weekStart,
                  value: w.index?.hasValue ? w.index.promiseScore : undefined,
                })),
              },
            ]}
          />
        ) : (
          <p>{t("trend_empty")}</p>
        )}
      </Panel>
    </div>
  );
}
