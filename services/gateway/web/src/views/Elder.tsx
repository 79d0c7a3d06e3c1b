// One elder: the masked record (the full one only with a reason, which the audit log keeps), the
// consents, the promises (each active one can be referred to another provider, 转介), recent
// visits, the elder's answers and words, and the callback form (回访) staff use when they reach
// the elder by phone or at the door.
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { useState } from "react";

import { api, describeError, isCode, useLoad, useWrite } from "../api.js";
import {
  Answer,
  FeedbackChannel,
  FeedbackSchema,
  WorkOrderSchema,
} from "../gen/linli/feedback/v1/feedback_pb.js";
import {
  ConsentPurpose,
  ElderView as View,
  type Elder,
} from "../gen/linli/registry/v1/registry_pb.js";
import {
  CommitmentState,
  ReferralReason,
  VisitState,
  type Commitment,
  type Referral,
  type Visit,
} from "../gen/linli/scheduling/v1/scheduling_pb.js";
import { enumText, useI18n, type Key } from "../i18n.js";
import { ElderConsents, ElderUpkeep } from "./ElderUpkeep.js";
import {
  href,
  idOf,
  Loading,
  MissingParts,
  Outcome,
  Panel,
  Problem,
  useServiceTypeName,
  when,
} from "../ui.js";

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
  // The promise whose referral form is open.
  const [referring, setReferring] = useState<string>();
  const sharesWithProviders =
    masked.data?.elder?.consents
      .filter((c) => c.purpose === ConsentPurpose.SHARE_WITH_PROVIDERS)
      .at(-1)?.granted ?? false;
  const recordChanged = () => {
    setFull(undefined);
    masked.reload();
    commitments.reload();
    audit.reload();
  };

  return (
    <div className="elder">
      <h1>
        {shown?.displayName ?? id}{" "}
        <span className="quiet">{name}</span>
      </h1>
      <MissingParts
        parts={[
          { title: t("elders_title"), error: masked.error },
          { title: t("commitments"), error: commitments.error },
          { title: t("visits"), error: visits.error },
          { title: t("feedback"), error: feedback.error },
          { title: t("audit_title"), error: audit.error },
        ]}
      />
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
        {masked.data?.elder && <ElderUpkeep elder={masked.data.elder} onChanged={recordChanged} />}
      </Panel>

      <Panel
        id="consents"
        title={t("consents_title")}
        loading={masked.loading}
        error={masked.error}
      >
        {masked.data?.elder && (
          <ElderConsents elder={masked.data.elder} onChanged={recordChanged} />
        )}
      </Panel>

      <Panel
        id="commitments"
        title={t("commitments")}
        loading={commitments.loading}
        error={commitments.error}
        onRetry={commitments.reload}
      >
        <ul className="commitments">
          {commitments.data?.commitments.map((c) => (
            <li key={c.name} data-commitment={c.name}>
              {serviceName(c.serviceType)} · {idOf(c.ownerOrganisation)} · {c.validFrom}
              {c.validUntil ? ` – ${c.validUntil}` : ""}
              {c.state === CommitmentState.ACTIVE && (
                <>
                  {" "}
                  <button
                    type="button"
                    aria-expanded={referring === c.name}
                    onClick={() => setReferring(referring === c.name ? undefined : c.name)}
                  >
                    {t("refer")}
                  </button>
                </>
              )}
              {referring === c.name && c.state === CommitmentState.ACTIVE && (
                <ReferForm commitment={c} consented={sharesWithProviders} />
              )}
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

// What the owner lacks (CoverageGap.code), as the reason a referral is sent for.
const GAP_REASONS: Record<string, ReferralReason> = {
  NO_OFFERING: ReferralReason.OWNER_NO_OFFERING,
  NO_CAPACITY: ReferralReason.OWNER_NO_CAPACITY,
  NO_SKILLED_WORKER: ReferralReason.OWNER_NO_SKILLED_WORKER,
};

const REFERRAL_REASONS = [
  ReferralReason.OWNER_NO_OFFERING,
  ReferralReason.OWNER_NO_CAPACITY,
  ReferralReason.OWNER_NO_SKILLED_WORKER,
  ReferralReason.ELDER_REQUEST,
  ReferralReason.QUALITY,
];

// Referring one promise to another provider (转介): whether its owner can cover it and the other
// providers of the service near the elder, any sector (ProposeFallback, always), then one of them
// and the reason sent with CreateReferral (its request_id kept until it went through, so a
// second click sends nothing twice). The provider answers through the partner API; the
// referrals page follows it. Without the elder's consent to share with providers the gateway
// refuses, and the form points to the consents panel on this page.
function ReferForm({ commitment, consented }: { commitment: Commitment; consented: boolean }) {
  const { t } = useI18n();
  const fallback = useLoad(
    () => api.proposeFallback({ commitment: commitment.name, always: true }),
    [commitment.name],
  );
  const [offering, setOffering] = useState("");
  const [reason, setReason] = useState<ReferralReason>();
  const { run, busy, error } = useWrite();
  const [sent, setSent] = useState<Referral>();
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  if (fallback.error !== undefined) {
    return <Problem error={fallback.error} onRetry={fallback.reload} />;
  }
  if (fallback.loading || !fallback.data) return <Loading />;
  const { ownerCanCover, gaps, promisedPerWeek, proposals } = fallback.data;
  const chosen = offering || proposals[0]?.provider?.offering?.name || "";
  const chosenReason =
    reason ??
    gaps.map((g) => GAP_REASONS[g.code]).find((r) => r !== undefined) ??
    ReferralReason.UNSPECIFIED;
  const precondition = isCode(error, Code.FailedPrecondition) ? describeError(error).message : "";
  const needsConsent = precondition.includes("SHARE_WITH_PROVIDERS");
  const hint = needsConsent ? (
    <>
      {t("referral_needs_consent")}{" "}
      <button type="button" onClick={() => document.getElementById("consent-reason")?.focus()}>
        {t("go_to_consent")}
      </button>
    </>
  ) : precondition.includes("already has referrals/") ? (
    <>
      {t("referral_open")} <a href={href("referrals")}>{t("nav_referrals")}</a>
    </>
  ) : undefined;
  return (
    <form
      className="answer refer"
      aria-label={t("refer_title")}
      onSubmit={async (e) => {
        e.preventDefault();
        setSent(undefined);
        const answer = await run(() =>
          api.createReferral({
            commitment: commitment.name,
            offering: chosen,
            reason: chosenReason,
            requestId,
          }),
        );
        if (answer === undefined) return;
        setSent(answer.referral);
        setRequestId(crypto.randomUUID());
      }}
    >
      <h3>{t("refer_title")}</h3>
      {ownerCanCover ? (
        <p className="coverage">{t("owner_can_cover", { n: promisedPerWeek })}</p>
      ) : (
        <div className="coverage">
          {t("owner_cannot_cover")}
          <ul>
            {gaps.map((g) => (
              <li key={g.code + g.message}>
                <strong>
                  {Object.hasOwn(GAP_REASONS, g.code) ? t(`gap_${g.code}` as Key) : g.code}
                </strong>{" "}
                <span className="quiet">{g.message}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {proposals.length === 0 ? (
        <p>{t("no_proposals")}</p>
      ) : (
        <fieldset className="proposals">
          <legend>{t("proposals")}</legend>
          {proposals.map((p) => {
            const name = p.provider?.offering?.name ?? "";
            const organisation = p.provider?.organisation;
            return (
              <label key={name} data-offering={name}>
                <input
                  type="radio"
                  name={`offering-${commitment.name}`}
                  checked={chosen === name}
                  onChange={() => setOffering(name)}
                />
                <span>
                  <strong>{organisation?.displayName || idOf(organisation?.name ?? "")}</strong>{" "}
                  <span className="quiet">{p.reason}</span>
                </span>
              </label>
            );
          })}
        </fieldset>
      )}
      <label>
        {t("referral_reason")}{" "}
        <select
          value={chosenReason === ReferralReason.UNSPECIFIED ? "" : chosenReason}
          onChange={(e) => setReason(Number(e.target.value))}
          required
        >
          <option value="">{t("choose")}</option>
          {REFERRAL_REASONS.map((r) => (
            <option key={r} value={r}>
              {enumText(t, "referral_reason_", r)}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy || !chosen}>
        {t("send_referral")}
      </button>
      <Outcome
        done={
          sent && (
            <>
              {t("referral_sent", { when: when(sent.respondBy) })}{" "}
              <a href={href("referrals")}>{t("nav_referrals")}</a>
            </>
          )
        }
        error={needsConsent && consented ? undefined : error}
        hint={hint}
      />
    </form>
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
