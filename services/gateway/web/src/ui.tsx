// Small pieces every view uses: the hash route, errors as the gateway said them, times in
// Shanghai, and the trend chart.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { useEffect, useState, useSyncExternalStore, type ReactNode, type RefObject } from "react";

import { api, describeError } from "./api.js";
import { downloadCsv, shanghaiDate, tableCells } from "./csv.js";
import { useI18n } from "./i18n.js";

// ---- Routes: "#/", "#/elders", "#/elders/<id>", "#/alerts", "#/heard" ----------------------------

function subscribeHash(listener: () => void) {
  window.addEventListener("hashchange", listener);
  return () => window.removeEventListener("hashchange", listener);
}

export function useRoute(): string[] {
  const hash = useSyncExternalStore(subscribeHash, () => window.location.hash);
  return hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
}

// "elders/123" -> "#/elders/123"
export function href(path: string): string {
  return `#/${path}`;
}

// "elders/123" -> "123"
export function idOf(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

// ---- Elders by name --------------------------------------------------------------------------------

// The masked name of each elder a page lists ("王*英"), read once per page load and shared.
const maskedNames = new Map<string, Promise<string>>();

function maskedName(elder: string): Promise<string> {
  let name = maskedNames.get(elder);
  if (!name) {
    name = api.getElder({ name: elder }).then(
      (r) => r.elder?.displayName || idOf(elder),
      () => idOf(elder),
    );
    maskedNames.set(elder, name);
  }
  return name;
}

// Names a list already read (ListElders gives them masked), so that the links to those elders need
// no read of their own: a page with hundreds of elders stays within the gateway's rate limit.
export function rememberElderNames(elders: { name: string; displayName: string }[]) {
  for (const e of elders) {
    if (!maskedNames.has(e.name)) {
      maskedNames.set(e.name, Promise.resolve(e.displayName || idOf(e.name)));
    }
  }
}

// A link to an elder's page, named as the caller may see the elder.
export function ElderLink({ elder, suffix = "" }: { elder: string; suffix?: string }) {
  const [name, setName] = useState<string>();
  useEffect(() => {
    let live = true;
    void maskedName(elder).then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [elder]);
  return (
    <a href={href(`elders/${idOf(elder)}${suffix}`)} title={elder}>
      {name ?? "…"}
    </a>
  );
}

// ---- Organisations by name ------------------------------------------------------------------------

// The name of each organisation a page shows ("乐龄社工服务社"), read once per page load, shared.
const organisationNames = new Map<string, Promise<string>>();

function organisationName(organisation: string): Promise<string> {
  let name = organisationNames.get(organisation);
  if (!name) {
    name = api.getOrganisation({ name: organisation }).then(
      (r) => r.organisation?.displayName || idOf(organisation),
      () => idOf(organisation),
    );
    organisationNames.set(organisation, name);
  }
  return name;
}

// An organisation by its name, its resource name as the title.
export function OrganisationName({ organisation }: { organisation: string }) {
  const [name, setName] = useState<string>();
  useEffect(() => {
    let live = true;
    void organisationName(organisation).then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [organisation]);
  return <span title={organisation}>{name ?? "…"}</span>;
}

// ---- Service types by name -------------------------------------------------------------------------

let serviceTypeNames: Promise<Map<string, string>> | undefined;

// "serviceTypes/meal-delivery" -> "助餐配送" (the taxonomy, read once per page load).
export function useServiceTypeName(): (name: string) => string {
  const [names, setNames] = useState<Map<string, string>>();
  useEffect(() => {
    let live = true;
    serviceTypeNames ??= api.listServiceTypes({ showRetired: true }).then(
      (r) => new Map(r.serviceTypes.map((s) => [s.name, s.displayName])),
      () => new Map(),
    );
    void serviceTypeNames.then((n) => live && setNames(n));
    return () => {
      live = false;
    };
  }, []);
  return (name) => names?.get(name) ?? idOf(name);
}

// ---- Time ------------------------------------------------------------------------------------------

const timeFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});

export function when(ts: Timestamp | undefined): string {
  return ts ? timeFormat.format(timestampDate(ts)) : "—";
}

// ---- States ----------------------------------------------------------------------------------------

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="loading" role="status">
      {t("loading")}
    </p>
  );
}

// An error as the person at the desk needs it: what it means, the gateway's own words, the
// fields to fix, and (`hint`, from the view that knows) what to do about it.
export function Problem({
  error,
  onRetry,
  hint,
}: {
  error: unknown;
  onRetry?: () => void;
  hint?: ReactNode;
}) {
  const { t } = useI18n();
  const { code, message, fields } = describeError(error);
  if (code === "Aborted") {
    return (
      <div className="problem" role="alert">
        <strong>{t("error_stale")}</strong>
        {onRetry && (
          <button type="button" onClick={onRetry}>
            {t("retry")}
          </button>
        )}
      </div>
    );
  }
  const lead =
    code === "PermissionDenied"
      ? t("error_permission_denied")
      : code === "Unavailable" || code === "DeadlineExceeded"
        ? t("error_unavailable")
        : code === "InvalidArgument"
          ? t("error_invalid_argument")
          : code === "FailedPrecondition"
            ? t("error_failed_precondition")
            : t("error_other");
  return (
    <div className="problem" role="alert">
      <strong>{lead}</strong> <span className="detail">{message}</span>
      {hint && <p className="hint">{hint}</p>}
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={f.field}>
              <code>{f.field}</code>: {f.reason}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t("retry")}
        </button>
      )}
    </div>
  );
}

// What a write came to: the success message as a status, or the error as <Problem> does.
export function Outcome({
  done,
  error,
  hint,
}: {
  done?: ReactNode;
  error: unknown;
  hint?: ReactNode;
}) {
  return (
    <>
      {done && (
        <p role="status" className="ok">
          {done}
        </p>
      )}
      {error !== undefined && <Problem error={error} hint={hint} />}
    </>
  );
}

// A panel with its title, showing the loading state or the error of its own read only, so one
// backend down leaves the other panels readable; `failed` is what the page still knows to show
// under the error (read from another backend).
export function Panel(props: {
  title: string;
  loading: boolean;
  error: unknown;
  onRetry?: () => void;
  children?: ReactNode;
  failed?: ReactNode;
  id?: string;
  className?: string; // "wide" (the whole row) or "span-2" on the day grid
}) {
  return (
    <section className={`panel ${props.className ?? ""}`.trim()} aria-labelledby={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      {props.error !== undefined ? (
        <>
          <Problem error={props.error} onRetry={props.onRetry} />
          {props.failed}
        </>
      ) : props.loading ? (
        <Loading />
      ) : (
        props.children
      )}
    </section>
  );
}

// What a page could not read because a backend is down or did not answer in time (UNAVAILABLE,
// DEADLINE_EXCEEDED): "未能读取：近 7 天的承诺、未办结工单", above the panels, so the person at the
// desk sees at once which parts are missing while the rest of the page shows what was read.
export function MissingParts({ parts }: { parts: { title: string; error: unknown }[] }) {
  const { t } = useI18n();
  const missing = parts.filter((p) => {
    if (p.error === undefined) return false;
    const { code } = describeError(p.error);
    return code === "Unavailable" || code === "DeadlineExceeded";
  });
  if (missing.length === 0) return null;
  return (
    <p className="missing-parts" role="status">
      <strong>{t("missing_parts")}</strong>
      {missing.map((p) => p.title).join(t("list_separator"))}
    </p>
  );
}

// ---- Export what one sees ------------------------------------------------------------------------

// "导出 CSV": the table's header and rows exactly as shown, saved as "<what>-<region>-<date>.csv"
// (the date in Shanghai). A paged list exports the rows loaded so far, which the title says.
export function ExportCsvButton({
  table,
  what,
  region,
  paged = false,
}: {
  table: RefObject<HTMLTableElement | null>;
  what: string;
  region: string;
  paged?: boolean;
}) {
  const { t } = useI18n();
  return (
    <button
      type="button"
      className="export-csv"
      title={paged ? t("export_csv_paged_hint") : t("export_csv_hint")}
      onClick={() => {
        if (table.current) {
          downloadCsv(`${what}-${idOf(region)}-${shanghaiDate()}.csv`, tableCells(table.current));
        }
      }}
    >
      {t("export_csv")}
    </button>
  );
}

// ---- Trend chart -----------------------------------------------------------------------------------

export interface TrendPoint {
  label: string; // week start "YYYY-MM-DD"
  value: number | undefined; // 0..100, undefined: no value that week
}

// Week-by-week lines as SVG, readable in black and white: each series has its own dash pattern
// and marker, the axis says 0-100, and every point carries a title for screen readers.
export function TrendChart({ series, label }: { series: { name: string; points: TrendPoint[] }[]; label: string }) {
  const width = 560;
  const height = 180;
  const left = 32;
  const bottom = 24;
  const weeks = Math.max(1, ...series.map((s) => s.points.length));
  const x = (i: number) => left + (i * (width - left - 8)) / Math.max(1, weeks - 1);
  const y = (v: number) => 8 + ((100 - v) * (height - bottom - 8)) / 100;
  const dashes = ["", "6 4", "2 3"];
  return (
    <svg className="trend" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      {[0, 50, 100].map((v) => (
        <g key={v}>
          <line x1={left} x2={width - 8} y1={y(v)} y2={y(v)} className="grid" />
          <text x={left - 4} y={y(v) + 4} textAnchor="end" className="axis">
            {v}
          </text>
        </g>
      ))}
      {series[0]?.points.map((p, i) =>
        i % 2 === 0 ? (
          <text key={p.label} x={x(i)} y={height - 6} textAnchor="middle" className="axis">
            {p.label.slice(5)}
          </text>
        ) : null,
      )}
      {series.map((s, si) => {
        const segments: string[] = [];
        let open = false;
        s.points.forEach((p, i) => {
          if (p.value === undefined) {
            open = false;
            return;
          }
          segments.push(`${open ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
          open = true;
        });
        return (
          <g key={s.name} className={`series series-${si}`}>
            <path d={segments.join(" ")} fill="none" strokeDasharray={dashes[si % dashes.length]} />
            {s.points.map((p, i) =>
              p.value === undefined ? null : (
                <circle key={p.label} cx={x(i)} cy={y(p.value)} r={si === 0 ? 3 : 2.5}>
                  <title>{`${s.name} ${p.label}: ${p.value.toFixed(1)}`}</title>
                </circle>
              ),
            )}
          </g>
        );
      })}
    </svg>
  );
}
