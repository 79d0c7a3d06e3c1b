// Complaints through the 12345 steps: accepted → classified (which sets the deadline) → routed
// to the promise's owner → resolved with the owner's answer → called back (回访, the
// complainant's satisfaction) → closed. Each step names who took it; the history shows them all.
import { useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import {
  WorkOrderCategory,
  WorkOrderState,
  type WorkOrder,
} from "../gen/linli/feedback/v1/feedback_pb.js";
import { enumText, useI18n } from "../i18n.js";
import { ElderLink, Panel, Problem, when } from "../ui.js";

export function WorkOrdersView({ region }: { region: string }) {
  const { t } = useI18n();
  const [showClosed, setShowClosed] = useState(false);
  const orders = useLoad(() => api.listWorkOrders({ region, pageSize: 100 }), [region]);
  const shown = (orders.data?.workOrders ?? []).filter(
    (w) => showClosed || w.state !== WorkOrderState.CLOSED,
  );
  return (
    <div>
      <h1>{t("nav_work_orders")}</h1>
      <label>
        <input type="checkbox" checked={showClosed} onChange={(e) => setShowClosed(e.target.checked)} />
        {t("show_closed")}
      </label>
      <Panel
        id="work-orders"
        title={t("work_orders_title")}
        loading={orders.loading}
        error={orders.error}
        onRetry={orders.reload}
      >
        {shown.length === 0 ? (
          <p>{t("none")}</p>
        ) : (
          <ul className="work-orders">
            {shown.map((w) => (
              <WorkOrderItem key={w.name} order={w} onChange={orders.reload} />
            ))}
          </ul>
        )}
      </Panel>
    </div>
  );
}

function WorkOrderItem({ order, onChange }: { order: WorkOrder; onChange: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [category, setCategory] = useState(WorkOrderCategory.MISSED_VISIT);
  const [satisfaction, setSatisfaction] = useState(3);
  const { run, busy, error } = useWrite(onChange);
  const step = async (call: () => Promise<unknown>) => {
    if ((await run(call)) !== undefined) setText("");
  };
  const name = order.name;
  let action: { label: string; run: () => Promise<unknown> } | undefined;
  switch (order.state) {
    case WorkOrderState.ACCEPTED:
      action = { label: t("classify"), run: () => api.classifyWorkOrder({ name, category, note: text }) };
      break;
    case WorkOrderState.CLASSIFIED:
      action = { label: t("route"), run: () => api.routeWorkOrder({ name, note: text }) };
      break;
    case WorkOrderState.ROUTED:
    case WorkOrderState.ESCALATED:
      action = { label: t("resolve"), run: () => api.resolveWorkOrder({ name, resolution: text }) };
      break;
    case WorkOrderState.RESOLVED:
      action = {
        label: t("record_callback"),
        run: () => api.recordCallback({ name, satisfaction, note: text }),
      };
      break;
    case WorkOrderState.CALLED_BACK:
      action = { label: t("close"), run: () => api.closeWorkOrder({ name, note: text }) };
      break;
  }
  return (
    <li className={`work-order wo-state-${order.state}`} data-work-order={name}>
      <div>
        <span className="badge">{enumText(t, "wo_state_", order.state)}</span>{" "}
        {order.category !== WorkOrderCategory.UNSPECIFIED && (
          <span className="badge quiet">{enumText(t, "wo_category_", order.category)}</span>
        )}{" "}
        {when(order.createTime)} · <ElderLink elder={order.elder} />
        {order.deadline && (
          <>
            {" "}
            · {t("deadline")} {when(order.deadline)}
          </>
        )}
      </div>
      <div className="detail">{order.description}</div>
      {order.resolution && (
        <div>
          {t("resolution")}: {order.resolution}
        </div>
      )}
      <details>
        <summary>{t("history")}</summary>
        <ol>
          {order.history.map((h, i) => (
            <li key={i}>
              {when(h.time)} {enumText(t, "wo_state_", h.fromState)} → {enumText(t, "wo_state_", h.toState)} ·{" "}
              {h.actor}
              {h.note ? ` · ${h.note}` : ""}
            </li>
          ))}
        </ol>
      </details>
      {action && (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void step(action.run);
          }}
        >
          {order.state === WorkOrderState.ACCEPTED && (
            <label>
              {t("category")}{" "}
              <select value={category} onChange={(e) => setCategory(Number(e.target.value))}>
                {[1, 2, 3, 4, 5].map((c) => (
                  <option key={c} value={c}>
                    {enumText(t, "wo_category_", c)}
                  </option>
                ))}
              </select>
            </label>
          )}
          {order.state === WorkOrderState.RESOLVED && (
            <label>
              {t("satisfaction")}{" "}
              <input
                type="number"
                min={1}
                max={5}
                value={satisfaction}
                onChange={(e) => setSatisfaction(Number(e.target.value))}
              />
            </label>
          )}
          <label>
            {order.state === WorkOrderState.ROUTED || order.state === WorkOrderState.ESCALATED
              ? t("resolution")
              : t("note")}{" "}
            <input value={text} onChange={(e) => setText(e.target.value)} maxLength={500} />
          </label>
          <button type="submit" disabled={busy}>
            {action.label}
          </button>
        </form>
      )}
      {error !== undefined && <Problem error={error} />}
    </li>
  );
}
