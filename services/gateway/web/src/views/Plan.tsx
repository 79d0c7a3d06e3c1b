// Planning: the unstaffed visits of a committee or the street, day by day (one Plan call per day,
// so the bar shows real progress), as a dry run first or booked; then what stayed unstaffed and
// why, each visit assignable by hand to a worker of its provider; and each day's routes as the plan
// answered them (PlanRoutes.tsx): proposed by a dry run, or booked, each visit then movable to
// another worker.
import { useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import type { UnassignedTask } from "../gen/linli/scheduling/v1/planning_pb.js";
import type { PlanResponse, Visit } from "../gen/linli/scheduling/v1/scheduling_pb.js";
import { useI18n } from "../i18n.js";
import { ElderLink, idOf, Panel, Problem, when } from "../ui.js";
import {
  DayRoutes,
  placeVisit,
  readElderNames,
  routesOf,
  type Route,
  type WorkerOf,
} from "./PlanRoutes.js";

interface DayResult {
  date: string;
  plan?: PlanResponse;
  routes?: Route[]; // the plan's, as changed here since
  error?: unknown;
}

// "YYYY-MM-DD" in Shanghai, `days` after today on this page's clock.
function shanghaiDate(days = 0): string {
  return new Date(Date.now() + 8 * 3600e3 + days * 86400e3).toISOString().slice(0, 10);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86400e3).toISOString().slice(0, 10);
}

export function PlanView({ region }: { region: string }) {
  const { t } = useI18n();
  const committees = useLoad(() => api.listRegions({ parent: region, pageSize: 200 }), [region]);
  const [target, setTarget] = useState(region);
  const [from, setFrom] = useState(() => shanghaiDate());
  const [days, setDays] = useState(1);
  const [seconds, setSeconds] = useState(2);
  const [dryRun, setDryRun] = useState(true);
  const [running, setRunning] = useState(false);
  const [results, setResults] = useState<DayResult[]>([]);
  // Whether the run shown booked (the box may change after it).
  const [booked, setBooked] = useState(false);

  const run = async () => {
    setRunning(true);
    setResults([]);
    setBooked(!dryRun);
    await readElderNames(target);
    for (let i = 0; i < days; i++) {
      const date = addDays(from, i);
      let result: DayResult;
      try {
        const plan = await api.plan({
          region: target,
          fromDate: date,
          days: 1,
          timeLimitSeconds: seconds,
          dryRun,
          includeRoutes: true,
        });
        result = { date, plan, routes: routesOf(plan) };
      } catch (error) {
        result = { date, error };
      }
      setResults((done) => [...done, result]);
    }
    setRunning(false);
  };

  const changeRoutes = (date: string, change: (routes: Route[]) => Route[]) =>
    setResults((done) =>
      done.map((r) => (r.date === date && r.routes ? { ...r, routes: change(r.routes) } : r)),
    );

  return (
    <div>
      <h1>{t("nav_plan")}</h1>
      <form
        className="inline filters"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <label>
          {t("plan_region")}{" "}
          <select value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value={region}>{t("whole_street")}</option>
            {committees.data?.regions.map((c) => (
              <option key={c.name} value={c.name}>
                {c.displayName}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("from_date")} <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} required />
        </label>
        <label>
          {t("days")}{" "}
          <input type="number" min={1} max={7} value={days} onChange={(e) => setDays(Number(e.target.value))} />
        </label>
        <label>
          {t("seconds_per_day")}{" "}
          <input
            type="number"
            min={1}
            max={60}
            value={seconds}
            onChange={(e) => setSeconds(Number(e.target.value))}
          />
        </label>
        <label>
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} />
          {t("dry_run")}
        </label>
        <button type="submit" disabled={running}>
          {dryRun ? t("plan_try") : t("plan_book")}
        </button>
      </form>
      {(running || results.length > 0) && (
        <p>
          <progress value={results.length} max={days} aria-label={t("progress")} />{" "}
          {t("days_done", { done: results.length, days })}
        </p>
      )}
      {results.map((r) => (
        <div key={r.date}>
          <Panel id={`plan-${r.date}`} title={r.date} loading={false} error={r.error}>
            {r.plan && (
              <DayPlan
                plan={r.plan}
                dryRun={!booked}
                onAssigned={(visit, workerOf) => {
                  if (booked) changeRoutes(r.date, (rs) => placeVisit(rs, visit, workerOf));
                }}
              />
            )}
          </Panel>
          {r.routes && (
            <DayRoutes
              date={r.date}
              routes={r.routes}
              booked={booked}
              onChange={(change) => changeRoutes(r.date, change)}
            />
          )}
        </div>
      ))}
    </div>
  );
}

function DayPlan({
  plan,
  dryRun,
  onAssigned,
}: {
  plan: PlanResponse;
  dryRun: boolean;
  onAssigned: (visit: Visit, workerOf: WorkerOf) => void;
}) {
  const { t } = useI18n();
  return (
    <>
      <ul className="tallies">
        <li className="tally">
          <span className="figure">{plan.visits}</span> {t("plan_visits")}
        </li>
        <li className="tally kept">
          <span className="figure">{plan.booked}</span> {dryRun ? t("plan_would_book") : t("plan_booked")}
        </li>
        <li className="tally broken">
          <span className="figure">{plan.notBooked}</span> {t("unstaffed")}
        </li>
        <li className="tally">
          <span className="figure">{plan.workers}</span> {t("plan_workers")}
        </li>
        <li className="tally">
          <span className="figure">{Math.round(plan.objective?.travel ?? 0)}</span> {t("plan_travel")}
        </li>
      </ul>
      {plan.conflicts > 0 && <p>{t("plan_conflicts", { n: plan.conflicts })}</p>}
      {plan.unassigned.length > 0 && (
        <>
          <h3>{t("plan_unassigned")}</h3>
          <ul className="unassigned">
            {plan.unassigned.map((u) => (
              <Unassigned key={`${u.visit}-${u.taskIndex}`} task={u} onAssigned={onAssigned} />
            ))}
          </ul>
        </>
      )}
    </>
  );
}

// One visit left unstaffed: why, and a worker of its provider to book by hand (after a booked run,
// then shown on that worker's route).
function Unassigned({
  task,
  onAssigned,
}: {
  task: UnassignedTask;
  onAssigned: (visit: Visit, workerOf: WorkerOf) => void;
}) {
  const { t } = useI18n();
  const visit = useLoad(() => api.getVisit({ name: task.visit }), [task.visit]);
  const commitment = useLoad(
    async () =>
      visit.data?.visit ? api.getCommitment({ name: visit.data.visit.commitment }) : undefined,
    [visit.data],
  );
  const owner = commitment.data?.commitment?.ownerOrganisation ?? "";
  const workers = useLoad(
    async () => (owner ? api.listWorkers({ organisation: owner, pageSize: 500 }) : undefined),
    [owner],
  );
  const [worker, setWorker] = useState("");
  const [outside, setOutside] = useState(false);
  const { run, error } = useWrite();
  const [booked, setBooked] = useState<string>();
  const v = visit.data?.visit;
  const chosen = worker || workers.data?.workers[0]?.name || "";
  return (
    <li data-visit={task.visit}>
      <div>
        {v ? (
          <>
            {when(v.windowStart)} · <ElderLink elder={v.elder} /> · {idOf(owner)}
          </>
        ) : (
          idOf(task.visit)
        )}{" "}
        · <span className="quiet">{task.reason}</span>
      </div>
      {booked ? (
        <p role="status" className="ok">
          {t("assigned_to", { worker: booked })}
        </p>
      ) : (
        <form
          className="inline"
          onSubmit={async (e) => {
            e.preventDefault();
            const answer = await run(() =>
              api.assignVisit({
                name: task.visit,
                worker: chosen,
                outsideAvailability: outside,
                requestId: crypto.randomUUID(),
              }),
            );
            if (answer === undefined) return;
            const known = (w: string) => workers.data?.workers.find((x) => x.name === w);
            setBooked(known(chosen)?.displayName ?? chosen);
            if (answer.visit) {
              onAssigned(answer.visit, (w) => ({
                name: known(w)?.displayName ?? idOf(w),
                organisation: known(w)?.organisation ?? owner,
              }));
            }
          }}
        >
          <label>
            {t("worker")}{" "}
            <select value={chosen} onChange={(e) => setWorker(e.target.value)}>
              {workers.data?.workers.map((w) => (
                <option key={w.name} value={w.name}>
                  {w.displayName} ({w.skills.join(", ")})
                </option>
              ))}
            </select>
          </label>
          <label>
            <input type="checkbox" checked={outside} onChange={(e) => setOutside(e.target.checked)} />
            {t("outside_availability")}
          </label>
          <button type="submit" disabled={!chosen}>
            {t("assign")}
          </button>
        </form>
      )}
      {error !== undefined && <Problem error={error} />}
    </li>
  );
}
