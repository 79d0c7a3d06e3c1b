// The 条块 map of the street: its own organisations (the street office, its offices, centres,
// facilities, social organisations, shops), each committee as a block with what sits in it,
// and the district's line bureaus outside the street that reach into it. Filters by line,
// service and kind are the registry's (GetMap); by sector on the page. Click an organisation for
// its offerings (with capacity), relations and workers (kept right there: Workers.tsx); its
// related organisations light up.
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { useMemo, useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import {
  OrganisationKind,
  OrganisationSchema,
  RelationType,
  Sector,
  type MapNode,
  type Organisation,
} from "../gen/linli/registry/v1/registry_pb.js";
import { enumText, useI18n } from "../i18n.js";
import { idOf, Outcome, Panel, useServiceTypeName } from "../ui.js";
import { WorkerList } from "./Workers.js";

const KINDS = Object.values(OrganisationKind).filter(
  (k): k is OrganisationKind => typeof k === "number" && k !== OrganisationKind.UNSPECIFIED,
);

export function MapView({ region }: { region: string }) {
  const { t } = useI18n();
  const serviceName = useServiceTypeName();
  const lines = useLoad(() => api.listLines({}), []);
  const services = useLoad(() => api.listServiceTypes({}), []);
  const [line, setLine] = useState("");
  const [service, setService] = useState("");
  const [kind, setKind] = useState(OrganisationKind.UNSPECIFIED);
  const [sector, setSector] = useState(Sector.UNSPECIFIED);
  const [zoom, setZoom] = useState(1);
  const [selected, setSelected] = useState<string>();
  const map = useLoad(
    () =>
      api.getMap({
        region,
        lines: line ? [line] : [],
        serviceTypes: service ? [service] : [],
        kinds: kind ? [kind] : [],
      }),
    [region, line, service, kind],
  );

  const layout = useMemo(() => {
    const nodes = map.data?.nodes ?? [];
    const committees = nodes.filter((n) => n.kind === "region" && n.region === region);
    const committeeNames = new Set(committees.map((c) => c.name));
    const orgs = nodes.filter(
      (n) => n.kind !== "region" && (sector === Sector.UNSPECIFIED || n.sector === sector),
    );
    const inside = (n: MapNode) => n.region === region || committeeNames.has(n.region);
    return {
      street: orgs.filter((n) => n.region === region),
      committees: committees.map((c) => ({
        committee: c,
        orgs: orgs.filter((n) => n.region === c.name),
      })),
      outside: orgs.filter((n) => !inside(n)),
    };
  }, [map.data, region, sector]);

  const related = useMemo(() => {
    const out = new Set<string>();
    if (!selected) return out;
    for (const e of map.data?.edges ?? []) {
      if (e.type === "contains") continue;
      if (e.source === selected) out.add(e.target);
      if (e.target === selected) out.add(e.source);
    }
    return out;
  }, [map.data, selected]);

  const lineColour = (name: string) =>
    lines.data?.lines.find((l) => l.name === name)?.color || "#888";
  const chip = (n: MapNode) => (
    <button
      type="button"
      key={n.name}
      className={`chip sector-${n.sector}${n.name === selected ? " selected" : ""}${related.has(n.name) ? " related" : ""}`}
      aria-pressed={n.name === selected}
      onClick={() => setSelected(n.name === selected ? undefined : n.name)}
      title={enumText(t, "kind_", KINDS.find((k) => kindName(k) === n.kind) ?? 0, n.kind)}
    >
      {n.lines.map((l) => (
        <span key={l} className="line-mark" style={{ backgroundColor: lineColour(l) }} />
      ))}
      {n.label}
    </button>
  );

  return (
    <div className="map-view">
      <h1>{t("nav_map")}</h1>
      <form className="inline filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t("line")}{" "}
          <select value={line} onChange={(e) => setLine(e.target.value)}>
            <option value="">{t("all")}</option>
            {lines.data?.lines.map((l) => (
              <option key={l.name} value={l.name}>
                {l.displayName}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("service")}{" "}
          <select value={service} onChange={(e) => setService(e.target.value)}>
            <option value="">{t("all")}</option>
            {services.data?.serviceTypes.map((s) => (
              <option key={s.name} value={s.name}>
                {s.displayName}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("kind")}{" "}
          <select value={kind} onChange={(e) => setKind(Number(e.target.value))}>
            <option value={0}>{t("all")}</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {enumText(t, "kind_", k)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("sector")}{" "}
          <select value={sector} onChange={(e) => setSector(Number(e.target.value))}>
            <option value={0}>{t("all")}</option>
            {[Sector.PUBLIC, Sector.COMMERCIAL, Sector.SOCIAL].map((s) => (
              <option key={s} value={s}>
                {enumText(t, "sector_", s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("zoom")}{" "}
          <input
            type="range"
            min={0.5}
            max={1.5}
            step={0.1}
            value={zoom}
            onChange={(e) => setZoom(Number(e.target.value))}
          />
        </label>
      </form>
      <ul className="legend" aria-label={t("line")}>
        {lines.data?.lines.map((l) => (
          <li key={l.name}>
            <span className="line-mark" style={{ backgroundColor: l.color || "#888" }} />
            {l.displayName}
          </li>
        ))}
        {[Sector.PUBLIC, Sector.COMMERCIAL, Sector.SOCIAL].map((s) => (
          <li key={s}>
            <span className={`chip-sample sector-${s}`} />
            {enumText(t, "sector_", s)}
          </li>
        ))}
      </ul>
      <div className="map-layout">
        <Panel id="map" title={t("map_title")} loading={map.loading} error={map.error} onRetry={map.reload}>
          <div className="map-canvas">
            <div className="map-zoom" style={{ transform: `scale(${zoom})` }}>
              <section className="band" aria-label={t("street_level")}>
                <h3>{t("street_level")}</h3>
                <div className="chips">{layout.street.map(chip)}</div>
              </section>
              <div className="blocks">
                {layout.committees.map(({ committee, orgs }) => (
                  <section className="block" key={committee.name} aria-label={committee.label}>
                    <h3>{committee.label}</h3>
                    <div className="chips">{orgs.map(chip)}</div>
                  </section>
                ))}
              </div>
              <section className="band outside" aria-label={t("outside_street")}>
                <h3>{t("outside_street")}</h3>
                <div className="chips">{layout.outside.map(chip)}</div>
              </section>
            </div>
          </div>
        </Panel>
        {selected && (
          <OrganisationPanel
            name={selected}
            serviceName={serviceName}
            label={(n) => map.data?.nodes.find((m) => m.name === n)?.label ?? idOf(n)}
            onChanged={map.reload}
          />
        )}
      </div>
    </div>
  );
}

// "ORGANISATION_KIND_PUBLIC_CENTRE" -> "public_centre", as MapNode.kind spells it.
function kindName(kind: OrganisationKind): string {
  return (OrganisationKind[kind] ?? "").toLowerCase();
}

function OrganisationPanel({
  name,
  serviceName,
  label,
  onChanged,
}: {
  name: string;
  serviceName: (n: string) => string;
  label: (n: string) => string;
  onChanged: () => void;
}) {
  const { t } = useI18n();
  const org = useLoad(() => api.getOrganisation({ name }), [name]);
  const offerings = useLoad(() => api.listOfferings({ organisation: name, pageSize: 200 }), [name]);
  const relations = useLoad(() => api.listRelations({ organisation: name, pageSize: 200 }), [name]);
  const o = org.data?.organisation;
  return (
    <Panel id="organisation" title={o?.displayName ?? idOf(name)} loading={org.loading} error={org.error}>
      {o && (
        <p>
          {enumText(t, "kind_", o.kind)} · {enumText(t, "sector_", o.sector)}
        </p>
      )}
      <h3>{t("offerings")}</h3>
      {offerings.data?.offerings.length ? (
        <ul>
          {offerings.data.offerings.map((f) => (
            <li key={f.name}>
              {f.displayName || serviceName(f.serviceType)} · {t("capacity", { day: f.capacityPerDay, week: f.capacityPerWeek })}
            </li>
          ))}
        </ul>
      ) : (
        <p>{t("none")}</p>
      )}
      {o && !o.retired && (
        <OrganisationUpkeep
          organisation={o}
          onChanged={() => {
            org.reload();
            onChanged();
          }}
        />
      )}
      {o?.retired && <p className="quiet">{t("org_retired")}</p>}
      <h3>{t("workers_title")}</h3>
      <WorkerList organisation={name} />
      <h3>{t("relations")}</h3>
      {relations.data?.relations.length ? (
        <ul>
          {relations.data.relations.map((r) => (
            <li key={r.name}>
              {enumText(t, "relation_", r.type, RelationType[r.type])} ·{" "}
              {r.source === name ? `→ ${label(r.target)}` : `← ${label(r.source)}`}
            </li>
          ))}
        </ul>
      ) : (
        <p>{t("none")}</p>
      )}
    </Panel>
  );
}

// The street's staff keep the map right: an organisation renamed (with the etag of the record
// as read, so a concurrent edit is refused) or retired (closed, merged) with a reason; a retired
// organisation leaves the map and provider search but stays readable.
function OrganisationUpkeep({
  organisation,
  onChanged,
}: {
  organisation: Organisation;
  onChanged: () => void;
}) {
  const { t } = useI18n();
  const [displayName, setDisplayName] = useState(organisation.displayName);
  const [reason, setReason] = useState("");
  const { run, error } = useWrite(onChanged);
  const [done, setDone] = useState<string>();
  const act = async (call: () => Promise<unknown>, message: string) => {
    setDone(undefined);
    if ((await run(call)) !== undefined) setDone(message);
  };
  return (
    <>
      <form
        className="inline"
        aria-label={t("org_rename")}
        onSubmit={(e) => {
          e.preventDefault();
          void act(
            () =>
              api.updateOrganisation({
                organisation: create(OrganisationSchema, {
                  name: organisation.name,
                  etag: organisation.etag,
                  displayName,
                }),
                updateMask: create(FieldMaskSchema, { paths: ["display_name"] }),
                requestId: crypto.randomUUID(),
              }),
            t("upkeep_saved"),
          );
        }}
      >
        <label>
          {t("name")}{" "}
          <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} required />
        </label>
        <button type="submit">{t("org_rename")}</button>
      </form>
      <form
        className="inline"
        aria-label={t("org_retire")}
        onSubmit={(e) => {
          e.preventDefault();
          void act(
            () =>
              api.retireOrganisation({
                name: organisation.name,
                etag: organisation.etag,
                reason,
                requestId: crypto.randomUUID(),
              }),
            t("org_retired"),
          );
        }}
      >
        <label>
          {t("change_reason")}{" "}
          <input value={reason} onChange={(e) => setReason(e.target.value)} minLength={4} maxLength={256} required />
        </label>
        <button type="submit">{t("org_retire")}</button>
      </form>
      <Outcome done={done} error={error} />
    </>
  );
}
