// The workers' routes of one planned day, straight from the plan's answer (PlanResponse.routes,
// asked for with include_routes): after a dry run the routes the plan proposes (nothing booked),
// after a booked run the routes it booked, each visit movable to another worker of its provider.
// Only this plan's visits are on them (bookings made before it are not).
import { create } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { useState } from "react";

import { api, isCode, useLoad } from "../api.js";
import { WorkerStatus } from "../gen/linli/registry/v1/registry_pb.js";
import {
  PlannedStopSchema,
  type PlannedStop,
  type PlanResponse,
  type Visit,
} from "../gen/linli/scheduling/v1/scheduling_pb.js";
import { useI18n } from "../i18n.js";
import {
  ElderLink,
  idOf,
  Loading,
  OrganisationName,
  Outcome,
  Panel,
  Problem,
  rememberElderNames,
} from "../ui.js";

// One worker's route as shown: the plan's, then changed by the moves made here.
export interface Route {
  worker: string; // "workers/{id}"
  name: string; // the worker's display name
  organisation: string; // "organisations/{id}"
  stops: PlannedStop[]; // by planned start
  travel?: number; // minutes, as planned; unknown once the route changed
}

// The name and organisation of a worker not on a route yet.
export type WorkerOf = (worker: string) => { name: string; organisation: string };

export function routesOf(plan: PlanResponse): Route[] {
  return plan.routes.map((r) => ({
    worker: r.worker,
    name: r.workerDisplayName,
    organisation: r.organisation,
    stops: r.stops,
    travel: r.travelMinutes > 0 ? r.travelMinutes : undefined, // 0: not known (part not booked)
  }));
}

const seconds = (ts: Timestamp | undefined) => Number(ts?.seconds ?? 0);

// The routes with `visit` where its bookings now are: off the routes of workers no longer booked on
// it, on the route of each worker booked (a new route last), by planned start.
export function placeVisit(routes: Route[], visit: Visit, workerOf: WorkerOf): Route[] {
  const stops = new Map(
    visit.assignments.map((a) => [
      a.worker,
      create(PlannedStopSchema, {
        visit: visit.name,
        elder: visit.elder,
        commitment: visit.commitment,
        start: a.start,
        end: a.end,
      }),
    ]),
  );
  const placed = routes.map((route) => {
    const stop = stops.get(route.worker);
    stops.delete(route.worker);
    const had = route.stops.find((s) => s.visit === visit.name);
    if (had ? stop && seconds(had.start) === seconds(stop.start) : !stop) return route;
    const others = route.stops.filter((s) => s.visit !== visit.name);
    const next = stop ? [...others, stop] : others;
    next.sort((a, b) => seconds(a.start) - seconds(b.start));
    return { ...route, stops: next, travel: undefined };
  });
  for (const [worker, stop] of stops) placed.push({ worker, ...workerOf(worker), stops: [stop] });
  return placed.filter((r) => r.stops.length > 0);
}

// The masked names of the region's elders, a page of 1000 a read, so that the routes' links need no
// read each (a street's hundreds of elders at once would exceed the gateway's rate limit); should
// this fail, each link reads its own.
export async function readElderNames(region: string): Promise<void> {
  try {
    let pageToken = "";
    do {
      const page = await api.listElders({ region, pageSize: 1000, pageToken });
      rememberElderNames(page.elders);
      pageToken = page.nextPageToken;
    } while (pageToken);
  } catch {
    // the links read the names themselves
  }
}

const hourMinute = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

function hhmm(ts: Timestamp | undefined): string {
  return ts ? hourMinute.format(timestampDate(ts)) : "—";
}

// What the last move came to, shown with the visit on the route of `worker` (above the routes
// when the visit is not there).
interface MoveOutcome {
  visit: string;
  worker: string;
  done?: string;
  error?: unknown;
  hint?: string;
}

export function DayRoutes({
  date,
  routes,
  booked,
  onChange,
}: {
  date: string;
  routes: Route[];
  booked: boolean;
  onChange: (change: (routes: Route[]) => Route[]) => void;
}) {
  const { t } = useI18n();
  const [outcome, setOutcome] = useState<MoveOutcome>();
  const here = (route: Route, visit: string) =>
    outcome?.visit === visit && outcome.worker === route.worker ? outcome : undefined;
  const shown = routes.some((r) => r.stops.some((s) => here(r, s.visit)));
  return (
    <Panel
      id={`routes-${date}`}
      title={t(booked ? "routes_title" : "routes_proposed_title", { date })}
      loading={false}
      error={undefined}
    >
      <p className="quiet">{booked ? t("routes_scope") : t("routes_dry_run")}</p>
      {outcome && !shown && <Outcome done={outcome.done} error={outcome.error} hint={outcome.hint} />}
      {routes.length === 0 && <p>{t("routes_none")}</p>}
      {routes.map((route) => (
        <section key={route.worker} className="route" data-worker={route.worker}>
          <h3>
            {route.name || idOf(route.worker)}{" "}
            <span className="quiet">
              <OrganisationName organisation={route.organisation} /> ·{" "}
              {t("route_visits", { n: route.stops.length })} · {hhmm(route.stops[0].start)}–
              {hhmm(route.stops[route.stops.length - 1].end)}
              {route.travel !== undefined && (
                <> · {t("route_travel", { n: Math.round(route.travel) })}</>
              )}
            </span>
          </h3>
          <ol className="route-stops">
            {route.stops.map((stop) => {
              const o = here(route, stop.visit);
              return (
                <li key={stop.visit} className="stop" data-visit={stop.visit}>
                  <span className="nowrap">
                    {hhmm(stop.start)}–{hhmm(stop.end)}
                  </span>{" "}
                  · <ElderLink elder={stop.elder} />
                  {booked && (
                    <Reassign
                      stop={stop}
                      route={route}
                      routes={routes}
                      onMoved={(visit, workerOf, result) => {
                        if (visit) onChange((rs) => placeVisit(rs, visit, workerOf));
                        setOutcome({ visit: stop.visit, ...result });
                      }}
                    />
                  )}
                  {o && <Outcome done={o.done} error={o.error} hint={o.hint} />}
                </li>
              );
            })}
          </ol>
        </section>
      ))}
    </Panel>
  );
}

// Whether a write's failure says for sure that nothing was written (else it may have been).
function refused(error: unknown): boolean {
  return [
    Code.FailedPrecondition,
    Code.InvalidArgument,
    Code.PermissionDenied,
    Code.NotFound,
    Code.Aborted,
    Code.AlreadyExists,
    Code.ResourceExhausted,
  ].some((code) => isCode(error, code));
}

// A form to move a booked visit to another active worker of its provider with the skills its
// promise requires (the promise is read when the form opens). The scheduling service books at most
// the workers a visit needs, so a move is UnassignVisit then AssignVisit at the same planned start;
// when the new worker is refused (booked then, outside their availability), the first worker is
// booked again. The route then shows the visit where the last answer (or, without one, a new read
// of the visit) says it is booked.
function Reassign({
  stop,
  route,
  routes,
  onMoved,
}: {
  stop: PlannedStop;
  route: Route;
  routes: Route[];
  onMoved: (
    visit: Visit | undefined,
    workerOf: WorkerOf,
    outcome: Omit<MoveOutcome, "visit">,
  ) => void;
}) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [to, setTo] = useState("");
  const [busy, setBusy] = useState(false);
  const choices = useLoad(async () => {
    if (!open) return undefined;
    const { commitment } = await api.getCommitment({ name: stop.commitment });
    const organisation = commitment?.ownerOrganisation || route.organisation;
    const { workers } = await api.listWorkers({ organisation, pageSize: 1000 });
    const skills = commitment?.requiredSkills ?? [];
    return workers.filter(
      (w) => w.status === WorkerStatus.ACTIVE && skills.every((s) => w.skills.includes(s)),
    );
  }, [open, stop.commitment, route.organisation]);
  const onVisit = new Set(
    routes.filter((r) => r.stops.some((s) => s.visit === stop.visit)).map((r) => r.worker),
  );
  const others = (choices.data ?? []).filter((w) => !onVisit.has(w.name));
  const chosen = others.some((w) => w.name === to) ? to : (others[0]?.name ?? "");
  const stopsOf = new Map(routes.map((r) => [r.worker, r.stops.length]));

  const move = async () => {
    setBusy(true);
    const from = route.worker;
    const target = chosen;
    const named = new Map(routes.map((r) => [r.worker, r]));
    const workerOf: WorkerOf = (w) => {
      const worker = choices.data?.find((c) => c.name === w);
      return {
        name: named.get(w)?.name ?? worker?.displayName ?? idOf(w),
        organisation: named.get(w)?.organisation ?? worker?.organisation ?? "",
      };
    };
    const nameOf = (w: string) => workerOf(w).name;
    let unbooked = false;
    let visit: Visit | undefined;
    let outcome: Omit<MoveOutcome, "visit">;
    try {
      await api.unassignVisit({
        name: stop.visit,
        worker: from,
        reasonCode: "REASSIGNED",
        note: `reassigned to ${target}`,
        requestId: crypto.randomUUID(),
      });
      unbooked = true;
      const answer = await api.assignVisit({
        name: stop.visit,
        worker: target,
        start: stop.start,
        requestId: crypto.randomUUID(),
      });
      visit = answer.visit;
      outcome = {
        worker: target,
        done: t("reassigned", { time: hhmm(stop.start), from: nameOf(from), to: nameOf(target) }),
      };
    } catch (error) {
      // Refused for sure, or maybe written (the answer lost on the way)?
      const sure = refused(error);
      let kept = !unbooked && sure;
      if (unbooked) {
        try {
          // Back to the worker who was booked there (maybe by hand, outside their availability).
          const answer = await api.assignVisit({
            name: stop.visit,
            worker: from,
            start: stop.start,
            outsideAvailability: true,
            requestId: crypto.randomUUID(),
          });
          visit = answer.visit;
          kept = true;
        } catch {
          kept = false;
        }
      }
      visit ??= await api.getVisit({ name: stop.visit }).then(
        (r) => r.visit,
        () => undefined,
      );
      const hint = kept
        ? t("reassign_kept", { to: nameOf(target), worker: nameOf(from) })
        : sure
          ? t("reassign_lost", { worker: nameOf(from) })
          : t("reassign_unsure");
      outcome = { worker: from, error, hint };
    }
    setBusy(false);
    onMoved(visit, workerOf, outcome);
  };

  return (
    <>
      {" "}
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? t("collapse") : t("reassign")}
      </button>
      {open && (
        <form
          className="inline reassign"
          aria-label={t("reassign")}
          onSubmit={(e) => {
            e.preventDefault();
            void move();
          }}
        >
          {choices.error !== undefined ? (
            <Problem error={choices.error} onRetry={choices.reload} />
          ) : choices.loading ? (
            <Loading />
          ) : others.length === 0 ? (
            <span>{t("no_other_worker")}</span>
          ) : (
            <>
              <label>
                {t("reassign_to")}{" "}
                <select value={chosen} onChange={(e) => setTo(e.target.value)}>
                  {others.map((w) => (
                    <option key={w.name} value={w.name}>
                      {w.displayName} ({w.skills.join(", ")})
                      {stopsOf.has(w.name)
                        ? ` · ${t("visits_that_day", { n: stopsOf.get(w.name) ?? 0 })}`
                        : ""}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" disabled={busy || !chosen}>
                {t("reassign_submit")}
              </button>
            </>
          )}
        </form>
      )}
    </>
  );
}
