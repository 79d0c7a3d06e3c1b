// Planning: the unstaffed visits of a committee or the street, day by day (one Plan call per day,
// so the bar shows real progress), as a dry run first or booked; then what stayed unstaffed and
// why, each visit assignable by hand to a worker of its provider.
import { useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import type { UnassignedTask } from "../gen/linli/scheduling/v1/planning_pb.js";
import type { PlanResponse } from "../gen/linli/scheduling/v1/scheduling_pb.js";
import { useI18n } from "../i18n.js";
import { ElderLink, idOf, Panel, Problem, when } from "../ui.js";

interface DayResult {
  date: string;
  plan?: PlanResponse;
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

  const run = async () => {
    setRunning(true);
    setResults([]);
    const done: DayResult[] = [];
    for (let i = 0; i < days; i++) {
      const date = addDays(from, i);
      try {
        const plan = await api.plan({
          region: target,
          fromDate: date,
          days: 1,
          timeLimitSeconds: seconds,
          dryRun,
        });
        done.push({ date, plan });
      } catch (error) {
        done.push({ date, error });
      }
      setResults([...done]);
    }
    setRunning(false);
  };

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
        <Panel key={r.date} id={`plan-${r.date}`} title={r.date} loading={false} error={r.error}>
          {r.plan && <DayPlan plan={r.plan} dryRun={dryRun} />}
        </Panel>
      ))}
    </div>
  );
}

function DayPlan({ plan, dryRun }: { plan: PlanResponse; dryRun: boolean }) {
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
              <Unassigned key={`${u.visit}-${u.taskIndex}`} task={u} />
            ))}
          </ul>
        </>
      )}
    </>
  );
}

// One visit left unstaffed: why, and a worker of its provider to book by hand.
function Unassigned({ task }: { task: UnassignedTask }) {
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
            setBooked(workers.data?.workers.find((w) => w.name === chosen)?.displayName ?? chosen);
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
