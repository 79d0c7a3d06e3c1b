// Visits completed with an exception (outside the geofence, no location, short, stand-in worker,
// partner-reported, one worker of two missing) wait here for a supervisor's decision: approved
// with a reason they count as kept, rejected as broken. The gateway records the reviewer.
import { useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import type { AwaitingReview } from "../gen/linli/feedback/v1/feedback_pb.js";
import { ReviewDecision } from "../gen/linli/scheduling/v1/scheduling_pb.js";
import { useI18n, type Key } from "../i18n.js";
import { ElderLink, idOf, Panel, Problem, when } from "../ui.js";

// The reason codes scheduling takes for each decision (scheduling.proto, VisitReview).
const REASONS: Record<ReviewDecision, string[]> = {
  [ReviewDecision.UNSPECIFIED]: [],
  [ReviewDecision.APPROVE]: [
    "CONFIRMED_WITH_ELDER",
    "CONFIRMED_WITH_FAMILY",
    "DEVICE_OR_GPS_FAULT",
    "AGREED_CHANGE",
    "PROVIDER_RECORD_CHECKED",
  ],
  [ReviewDecision.REJECT]: ["NOT_DELIVERED", "NOT_AS_PROMISED", "EVIDENCE_INSUFFICIENT"],
};

export function ReviewView({ region }: { region: string }) {
  const { t } = useI18n();
  const queue = useLoad(() => api.listVisitsAwaitingReview({ region, pageSize: 50 }), [region]);
  // Decided here: the queue is feedback's view of scheduling's events and may list a visit for
  // a moment after its decision, so it leaves this list at once.
  const [decided, setDecided] = useState<Set<string>>(() => new Set());
  const waiting = (queue.data?.visits ?? []).filter((v) => !decided.has(v.visit));
  return (
    <div>
      <h1>{t("nav_review")}</h1>
      <Panel
        id="review"
        title={t("review_title")}
        loading={queue.loading}
        error={queue.error}
        onRetry={queue.reload}
      >
        {waiting.length ? (
          <ul className="reviews">
            {waiting.map((v) => (
              <ReviewItem
                key={v.visit}
                item={v}
                onDecided={() => setDecided((d) => new Set(d).add(v.visit))}
              />
            ))}
          </ul>
        ) : (
          <p>{t("none")}</p>
        )}
      </Panel>
    </div>
  );
}

function ReviewItem({ item, onDecided }: { item: AwaitingReview; onDecided: () => void }) {
  const { t } = useI18n();
  const visit = useLoad(() => api.getVisit({ name: item.visit }), [item.visit]);
  const [decision, setDecision] = useState(ReviewDecision.APPROVE);
  const [reason, setReason] = useState(REASONS[ReviewDecision.APPROVE][0]);
  const [note, setNote] = useState("");
  const { run, error } = useWrite();
  const [requestId] = useState(() => crypto.randomUUID());
  const v = visit.data?.visit;
  return (
    <li className="review" data-visit={item.visit}>
      <div>
        {item.visitDate} · <ElderLink elder={item.elder} /> · {idOf(item.ownerOrganisation)}
        {v && (
          <>
            {" "}
            · {when(v.checkIn?.time)}–{when(v.checkOut?.time)} ·{" "}
            {v.review?.exceptions.map((e) => (
              <span key={e} className="badge">
                {e}
              </span>
            ))}
          </>
        )}
      </div>
      <form
        className="inline"
        onSubmit={async (e) => {
          e.preventDefault();
          const answer = await run(() =>
            api.reviewVisit({ name: item.visit, decision, reasonCode: reason, note, requestId }),
          );
          if (answer !== undefined) onDecided();
        }}
      >
        <fieldset>
          <legend>{t("decision")}</legend>
          {[ReviewDecision.APPROVE, ReviewDecision.REJECT].map((d) => (
            <label key={d}>
              <input
                type="radio"
                name={`decision-${item.visit}`}
                checked={decision === d}
                onChange={() => {
                  setDecision(d);
                  setReason(REASONS[d][0]);
                }}
              />
              {t(d === ReviewDecision.APPROVE ? "approve" : "reject")}
            </label>
          ))}
        </fieldset>
        <label>
          {t("reason_code")}{" "}
          <select value={reason} onChange={(e) => setReason(e.target.value)}>
            {REASONS[decision].map((r) => (
              <option key={r} value={r}>
                {t(`reason_${r}` as Key)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("note")} <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} />
        </label>
        <button type="submit">{t("decide")}</button>
      </form>
      {error !== undefined && <Problem error={error} />}
    </li>
  );
}
