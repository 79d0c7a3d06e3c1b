// One elder: the masked record (the full one only with a reason, which the audit log keeps), the
// promises, recent visits, the elder's answers and words, and the callback form (回访) staff use
// when they reach the elder by phone or at the door.
import { create } from "@bufbuild/protobuf";
import { useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import {
  Answer,
  FeedbackChannel,
  FeedbackSchema,
  WorkOrderSchema,
} from "../gen/linli/feedback/v1/feedback_pb.js";
import { ElderView as View, type Elder } from "../gen/linli/registry/v1/registry_pb.js";
import {
  VisitState,
  type Commitment,
  type Visit,
} from "../gen/linli/scheduling/v1/scheduling_pb.js";
import { enumText, useI18n } from "../i18n.js";
import { ElderUpkeep } from "./ElderUpkeep.js";
import { href, idOf, Panel, Problem, useServiceTypeName, when } from "../ui.js";

const RECENT_VISITS = 30;

export function ElderView({ id, answerVisit }: { id: string; answerVisit?: string }) {
  const { t } = useI18n();
  const name = `elders/${id}`;
  const masked = useLoad(() => api.getElder({ name, view: View.MASKED }), [name]);
  const [full, setFull] = useState<{ elder: Elder; reason: string }>();
  const commitments = useLoad(() => api.listCommitments({ elder: name, pageSize: 100 }), [name]);
  const visits = useLoad(() => api.listVisits({ elder: name, pageSize: 1000 }), [name]);
  const feedback = useLoad(
    () => api.listFeedback({ elder: name, windowDays: 90, reason: "街道工作台：查看老人页面", pageSize: 50 }),
    [name],
  );
  const audit = useLoad(() => api.listAuditEntries({ elder: name, pageSize: 20 }), [name]);
  const shown = full?.elder ?? masked.data?.elder;
  const serviceName = useServiceTypeName();
  const recent = [...(visits.data?.visits ?? [])]
    .sort((a, b) => Number((b.windowStart?.seconds ?? 0n) - (a.windowStart?.seconds ?? 0n)))
    .slice(0, RECENT_VISITS);
  const answerable = recent.filter((v) => v.state === VisitState.COMPLETED);

  return (
    <div className="elder">
      <h1>
        {shown?.displayName ?? id}{" "}
        <span className="quiet">{name}</span>
      </h1>
      <Panel
        id="record"
        title={full ? t("full_view_shown", { reason: full.reason }) : t("elders_title")}
        loading={masked.loading}
        error={masked.error}
        onRetry={masked.reload}
      >
        {shown && (
          <dl className="record">
            <dt>{t("phone")}</dt>
            <dd>{shown.phone || "—"}</dd>
            <dt>{t("address")}</dt>
            <dd>{shown.address || "—"}</dd>
            <dt>{t("living")}</dt>
            <dd>{enumText(t, "living_", shown.livingSituation)}</dd>
            <dt>{t("care_grade")}</dt>
            <dd>{shown.careGrade ?? "—"}</dd>
          </dl>
        )}
        {!full && (
          <FullViewForm
            name={name}
            onShown={(elder, reason) => {
              setFull({ elder, reason });
              audit.reload();
            }}
          />
        )}
        <details className="audit">
          <summary>{t("audit_title")}</summary>
          {audit.error !== undefined ? (
            <Problem error={audit.error} />
          ) : (
            <ul>
              {audit.data?.entries.map((a, i) => (
                <li key={i}>
                  {when(a.time)} · {a.actor} · {a.action} · {a.reason}
                </li>
              ))}
            </ul>
          )}
        </details>
      </Panel>

      <Panel
        id="upkeep"
        title={t("upkeep_title")}
        loading={masked.loading}
        error={masked.error}
      >
        {masked.data?.elder && (
          <ElderUpkeep
            elder={masked.data.elder}
            onChanged={() => {
              setFull(undefined);
              masked.reload();
              commitments.reload();
              audit.reload();
            }}
          />
        )}
      </Panel>

      <Panel
        id="commitments"
        title={t("commitments")}
        loading={commitments.loading}
        error={commitments.error}
        onRetry={commitments.reload}
      >
        <ul>
          {commitments.data?.commitments.map((c) => (
            <li key={c.name}>
              {serviceName(c.serviceType)} · {idOf(c.ownerOrganisation)} · {c.validFrom}
              {c.validUntil ? ` – ${c.validUntil}` : ""}
            </li>
          ))}
        </ul>
      </Panel>

      <Panel
        id="answer"
        title={t("record_answer")}
        loading={visits.loading}
        error={visits.error}
      >
        <AnswerForm
          elder={name}
          visits={answerable}
          serviceName={serviceName}
          initialVisit={answerVisit ? `visits/${answerVisit}` : undefined}
          onSaved={feedback.reload}
        />
      </Panel>

      <Panel
        id="complaint"
        title={t("file_work_order")}
        loading={commitments.loading}
        error={commitments.error}
      >
        <ComplaintForm
          commitments={commitments.data?.commitments ?? []}
          serviceName={serviceName}
        />
      </Panel>

      <Panel
        id="visits"
        title={t("visits")}
        loading={visits.loading}
        error={visits.error}
        onRetry={visits.reload}
      >
        <table>
          <thead>
            <tr>
              <th scope="col">{t("window")}</th>
              <th scope="col">{t("service")}</th>
              <th scope="col">{t("status")}</th>
            </tr>
          </thead>
          <tbody>
            {recent.map((v) => (
              <tr key={v.name}>
                <td>{when(v.windowStart)}</td>
                <td>{serviceName(v.serviceType)}</td>
                <td>
                  {enumText(t, "visit_state_", v.state)}
                  {v.exceptions.length > 0 ? ` (${v.exceptions.join(", ")})` : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>

      <Panel
        id="feedback"
        title={t("feedback")}
        loading={feedback.loading}
        error={feedback.error}
        onRetry={feedback.reload}
      >
        {feedback.data?.feedback.length ? (
          <ul className="feedback">
            {feedback.data.feedback.map((f) => (
              <li key={f.name}>
                {when(f.createTime)} · {enumText(t, "channel_", f.channel, "App")} · {"★".repeat(f.faces)}
                {f.nobodyCame && <strong> · {t("nobody_came")}</strong>}
                {f.words && <blockquote>{f.words}</blockquote>}
              </li>
            ))}
          </ul>
        ) : (
          <p>{t("none")}</p>
        )}
      </Panel>
    </div>
  );
}

function FullViewForm({ name, onShown }: { name: string; onShown: (e: Elder, reason: string) => void }) {
  const { t } = useI18n();
  const [reason, setReason] = useState("");
  const { run, error } = useWrite();
  return (
    <form
      className="inline"
      onSubmit={async (e) => {
        e.preventDefault();
        const answer = await run(() => api.getElder({ name, view: View.FULL, reason }));
        if (answer?.elder) onShown(answer.elder, reason);
      }}
    >
      <label>
        {t("full_view_reason")}{" "}
        <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={256} required />
      </label>{" "}
      <button type="submit">{t("full_view")}</button>
      {error !== undefined && <Problem error={error} />}
    </form>
  );
}

function AnswerForm(props: {
  elder: string;
  visits: Visit[];
  serviceName: (name: string) => string;
  initialVisit?: string;
  onSaved: () => void;
}) {
  const { t } = useI18n();
  const [visit, setVisit] = useState(props.initialVisit ?? "");
  const [channel, setChannel] = useState(FeedbackChannel.PHONE_CALL);
  const [faces, setFaces] = useState(4);
  const [asPromised, setAsPromised] = useState(Answer.YES);
  const [caredFor, setCaredFor] = useState(Answer.YES);
  const [nobodyCame, setNobodyCame] = useState(false);
  const [words, setWords] = useState("");
  const { run, error } = useWrite(props.onSaved);
  const [saved, setSaved] = useState(false);
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const chosen = visit || props.visits[0]?.name || "";
  const answers = [Answer.YES, Answer.PARTLY, Answer.NO];
  if (!chosen) return <p>{t("no_completed_visit")}</p>;
  return (
    <form
      className="answer"
      onSubmit={async (e) => {
        e.preventDefault();
        setSaved(false);
        const answer = await run(() =>
          api.recordElderFeedback({
            requestId,
            feedback: create(FeedbackSchema, {
              visit: chosen,
              author: props.elder,
              channel,
              faces,
              didAsPromised: asPromised,
              feltCaredFor: caredFor,
              nobodyCame,
              words,
            }),
          }),
        );
        if (answer === undefined) return;
        setSaved(true);
        setWords("");
        setRequestId(crypto.randomUUID());
      }}
    >
      <label>
        {t("visit")}{" "}
        <select value={chosen} onChange={(e) => setVisit(e.target.value)} required>
          {props.initialVisit && !props.visits.some((v) => v.name === props.initialVisit) && (
            <option value={props.initialVisit}>{idOf(props.initialVisit)}</option>
          )}
          {props.visits.map((v) => (
            <option key={v.name} value={v.name}>
              {when(v.windowStart)} · {props.serviceName(v.serviceType)}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>{t("channel")}</legend>
        {[FeedbackChannel.PHONE_CALL, FeedbackChannel.DOOR_VISIT].map((c) => (
          <label key={c}>
            <input type="radio" name="channel" checked={channel === c} onChange={() => setChannel(c)} />
            {enumText(t, "channel_", c)}
          </label>
        ))}
      </fieldset>
      <label>
        {t("faces")}{" "}
        <input
          type="number"
          min={1}
          max={5}
          value={faces}
          onChange={(e) => setFaces(Number(e.target.value))}
        />
      </label>
      {(
        [
          ["did_as_promised", asPromised, setAsPromised],
          ["felt_cared_for", caredFor, setCaredFor],
        ] as const
      ).map(([key, value, set]) => (
        <fieldset key={key}>
          <legend>{t(key)}</legend>
          {answers.map((a) => (
            <label key={a}>
              <input type="radio" name={key} checked={value === a} onChange={() => set(a)} />
              {enumText(t, "answer_", a)}
            </label>
          ))}
        </fieldset>
      ))}
      <label>
        <input type="checkbox" checked={nobodyCame} onChange={(e) => setNobodyCame(e.target.checked)} />
        {t("nobody_came")}
      </label>
      <label className="block">
        {t("words")}
        <textarea value={words} onChange={(e) => setWords(e.target.value)} maxLength={500} rows={3} />
      </label>
      <button type="submit" disabled={!chosen}>
        {t("save")}
      </button>
      {saved && (
        <p role="status" className="ok">
          {t("saved")}
        </p>
      )}
      {error !== undefined && <Problem error={error} />}
    </form>
  );
}

// A complaint the elder (or the family) made to staff, filed for them as a work order on one of
// the elder's promises; it then goes through the 12345 steps on the work orders page.
function ComplaintForm(props: {
  commitments: Commitment[];
  serviceName: (name: string) => string;
}) {
  const { t } = useI18n();
  const [commitment, setCommitment] = useState("");
  const [description, setDescription] = useState("");
  const { run, error } = useWrite();
  const [filed, setFiled] = useState<string>();
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const chosen = commitment || props.commitments[0]?.name || "";
  if (!chosen) return <p>{t("none")}</p>;
  return (
    <form
      className="answer"
      onSubmit={async (e) => {
        e.preventDefault();
        setFiled(undefined);
        const answer = await run(() =>
          api.fileWorkOrder({
            requestId,
            workOrder: create(WorkOrderSchema, { commitment: chosen, description }),
          }),
        );
        if (answer === undefined) return;
        setFiled(answer.workOrder?.name);
        setDescription("");
        setRequestId(crypto.randomUUID());
      }}
    >
      <label>
        {t("commitments")}{" "}
        <select value={chosen} onChange={(e) => setCommitment(e.target.value)}>
          {props.commitments.map((c) => (
            <option key={c.name} value={c.name}>
              {props.serviceName(c.serviceType)} · {idOf(c.ownerOrganisation)}
            </option>
          ))}
        </select>
      </label>
      <label className="block">
        {t("complaint_text")}
        <textarea
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          maxLength={1000}
          rows={3}
          required
        />
      </label>
      <button type="submit">{t("file")}</button>
      {filed && (
        <p role="status" className="ok">
          {t("filed")} <a href={href("work-orders")}>{t("nav_work_orders")}</a>
        </p>
      )}
      {error !== undefined && <Problem error={error} />}
    </form>
  );
}
