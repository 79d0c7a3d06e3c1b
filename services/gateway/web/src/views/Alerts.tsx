// Safety-net alerts of the caller's street or committee: acknowledged ("I am on it") and resolved
// with what was done. The gateway records who did each.
import { useEffect, useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import { AlertState, type Alert } from "../gen/linli/feedback/v1/feedback_pb.js";
import { enumText, useI18n } from "../i18n.js";
import { ElderLink, idOf, Loading, Problem, when } from "../ui.js";

// The alerts of a region in one state. `version` (bumped by the owner after a change made in
// another list) reads them again; `onChange` tells the owner this list changed one; `onError`
// tells it the list could not be read.
export function AlertList(props: {
  region: string;
  state?: AlertState;
  committeeName?: (name: string) => string;
  version?: number;
  onChange?: () => void;
  onError?: (error: unknown) => void; // the read's error (undefined once it reads), for the page
}) {
  const { t } = useI18n();
  const alerts = useLoad(
    () => api.listAlerts({ region: props.region, state: props.state, pageSize: 50 }),
    [props.region, props.state, props.version],
  );
  const { onError } = props;
  useEffect(() => onError?.(alerts.error), [alerts.error, onError]);
  if (alerts.error !== undefined) return <Problem error={alerts.error} onRetry={alerts.reload} />;
  if (alerts.loading && !alerts.data) return <Loading />;
  const list = alerts.data?.alerts ?? [];
  if (list.length === 0) return <p>{t("none")}</p>;
  return (
    <ul className="alerts">
      {list.map((a) => (
        <AlertItem
          key={a.name}
          alert={a}
          committee={props.committeeName?.(a.committee) ?? idOf(a.committee)}
          onChange={props.onChange ?? alerts.reload}
        />
      ))}
    </ul>
  );
}

function AlertItem({
  alert,
  committee,
  onChange,
}: {
  alert: Alert;
  committee: string;
  onChange: () => void;
}) {
  const { t } = useI18n();
  const { run: act, busy, error } = useWrite(onChange);
  const [note, setNote] = useState("");
  return (
    <li className={`alert alert-state-${alert.state}`} data-alert={alert.name}>
      <div>
        <span className="badge">{enumText(t, "alert_kind_", alert.kind)}</span>{" "}
        <span className="badge quiet">{enumText(t, "state_alert_", alert.state)}</span>{" "}
        {when(alert.createTime)} · {committee}
        {alert.elder && (
          <>
            {" "}
            · <ElderLink elder={alert.elder} />
          </>
        )}
      </div>
      <div className="detail">{alert.detail}</div>
      {alert.acknowledgedBy && (
        <div className="quiet">{t("acknowledged_by", { who: alert.acknowledgedBy })}</div>
      )}
      {alert.state === AlertState.OPEN && (
        <button
          type="button"
          disabled={busy}
          onClick={() => act(() => api.acknowledgeAlert({ name: alert.name }))}
        >
          {t("acknowledge")}
        </button>
      )}
      {alert.state !== AlertState.RESOLVED && (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => api.resolveAlert({ name: alert.name, note }));
          }}
        >
          <label>
            {t("resolution_note")}{" "}
            <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} />
          </label>{" "}
          <button type="submit" disabled={busy}>
            {t("resolve")}
          </button>
        </form>
      )}
      {error !== undefined && <Problem error={error} />}
    </li>
  );
}

export function AlertsView({ region }: { region: string }) {
  const { t } = useI18n();
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return (
    <div>
      <h1>{t("nav_alerts")}</h1>
      <section className="panel">
        <h2>{t("state_alert_1")}</h2>
        <AlertList region={region} state={AlertState.OPEN} version={version} onChange={changed} />
      </section>
      <section className="panel">
        <h2>{t("state_alert_2")}</h2>
        <AlertList
          region={region}
          state={AlertState.ACKNOWLEDGED}
          version={version}
          onChange={changed}
        />
      </section>
    </div>
  );
}
