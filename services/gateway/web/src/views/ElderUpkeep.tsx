// Keeping an elder's record right: a correction (phone, address, living situation, a reassessed
// care grade) with the staff member's reason, which the registry audits; and the record closed
// when the elder moved away or died, which also closes their promises. Each write carries the
// etag of the record as this page read it: when someone changed it meanwhile, nothing is
// overwritten, the page says so and reads the record again. And the elder's consents (PIPL: one
// per purpose), each decision recorded with how it was given — a referral to another provider
// needs the consent to share with providers.
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { Fragment, useState } from "react";

import { api, useWrite } from "../api.js";
import {
  ConsentPurpose,
  ElderSchema,
  ElderStatus,
  LivingSituation,
  type Elder,
} from "../gen/linli/registry/v1/registry_pb.js";
import { enumText, useI18n } from "../i18n.js";
import { Outcome, when } from "../ui.js";

type Field = "phone" | "address" | "living_situation" | "care_grade";

export function ElderUpkeep({ elder, onChanged }: { elder: Elder; onChanged: () => void }) {
  const { t } = useI18n();
  const [field, setField] = useState<Field>("phone");
  const [value, setValue] = useState("");
  const [assessed, setAssessed] = useState("");
  const [reason, setReason] = useState("");
  const { run, error } = useWrite(onChanged);
  const [done, setDone] = useState<string>();
  const [status, setStatus] = useState(ElderStatus.MOVED_AWAY);
  const [date, setDate] = useState("");
  const [retireReason, setRetireReason] = useState("");

  const correct = async () => {
    setDone(undefined);
    const changed = create(ElderSchema, { name: elder.name, etag: elder.etag });
    const paths: string[] = [field];
    if (field === "phone") changed.phone = value;
    if (field === "address") changed.address = value;
    if (field === "living_situation") changed.livingSituation = Number(value) as LivingSituation;
    if (field === "care_grade") {
      changed.careGrade = Number(value);
      changed.assessmentDate = assessed;
      paths.push("assessment_date");
    }
    const answer = await run(() =>
      api.updateElder({
        elder: changed,
        updateMask: create(FieldMaskSchema, { paths }),
        reason,
        requestId: crypto.randomUUID(),
      }),
    );
    if (answer === undefined) return;
    setDone(t("upkeep_saved"));
    setValue("");
    setReason("");
  };

  const retire = async () => {
    setDone(undefined);
    const answer = await run(() =>
      api.retireElder({
        name: elder.name,
        status,
        effectiveDate: date,
        reason: retireReason,
        etag: elder.etag,
        requestId: crypto.randomUUID(),
      }),
    );
    if (answer === undefined) return;
    setDone(
      t("retired", { promises: answer.closedCommitments.length, visits: answer.cancelledVisits }),
    );
  };

  const closed = elder.status === ElderStatus.MOVED_AWAY || elder.status === ElderStatus.DECEASED;
  return (
    <>
      {closed && (
        <p>
          {enumText(t, "elder_status_", elder.status)} · {elder.statusDate}
        </p>
      )}
      {!closed && (
        <form
          className="answer"
          aria-label={t("correct")}
          onSubmit={(e) => {
            e.preventDefault();
            void correct();
          }}
        >
          <label>
            {t("correct_field")}{" "}
            <select
              value={field}
              onChange={(e) => {
                setField(e.target.value as Field);
                setValue("");
              }}
            >
              <option value="phone">{t("phone")}</option>
              <option value="address">{t("address")}</option>
              <option value="living_situation">{t("living")}</option>
              <option value="care_grade">{t("care_grade")}</option>
            </select>
          </label>
          {field === "living_situation" ? (
            <label>
              {t("new_value")}{" "}
              <select value={value} onChange={(e) => setValue(e.target.value)} required>
                <option value="" />
                {[1, 2, 3, 4].map((l) => (
                  <option key={l} value={l}>
                    {enumText(t, "living_", l)}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <label>
              {t("new_value")}{" "}
              <input
                value={value}
                onChange={(e) => setValue(e.target.value)}
                type={field === "care_grade" ? "number" : "text"}
                min={0}
                max={6}
                required
              />
            </label>
          )}
          {field === "care_grade" && (
            <label>
              {t("assessment_date")}{" "}
              <input type="date" value={assessed} onChange={(e) => setAssessed(e.target.value)} required />
            </label>
          )}
          <label>
            {t("change_reason")}{" "}
            <input value={reason} onChange={(e) => setReason(e.target.value)} minLength={4} maxLength={256} required />
          </label>
          <button type="submit">{t("correct")}</button>
        </form>
      )}
      {!closed && (
        <form
          className="answer"
          aria-label={t("retire")}
          onSubmit={(e) => {
            e.preventDefault();
            void retire();
          }}
        >
          <fieldset>
            <legend>{t("retire")}</legend>
            {[ElderStatus.MOVED_AWAY, ElderStatus.DECEASED].map((s) => (
              <label key={s}>
                <input type="radio" name="retire-status" checked={status === s} onChange={() => setStatus(s)} />
                {enumText(t, "elder_status_", s)}
              </label>
            ))}
          </fieldset>
          <label>
            {t("effective_date")}{" "}
            <input type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
          </label>
          <label>
            {t("change_reason")}{" "}
            <input
              value={retireReason}
              onChange={(e) => setRetireReason(e.target.value)}
              minLength={4}
              maxLength={256}
              required
            />
          </label>
          <button type="submit">{t("retire_submit")}</button>
        </form>
      )}
      <Outcome done={done} error={error} />
    </>
  );
}

const PURPOSES = [
  ConsentPurpose.PERSONAL_DATA,
  ConsentPurpose.HEALTH_DATA,
  ConsentPurpose.SHARE_WITH_PROVIDERS,
];

// The elder's latest decision per purpose, and the form that records a new one (the recorder is
// the caller; `reason` says how it was given and goes to the audit log). A withdrawal removes the
// personal data the purpose covers at once, which the form says before and the answer lists.
export function ElderConsents({ elder, onChanged }: { elder: Elder; onChanged: () => void }) {
  const { t } = useI18n();
  const [purpose, setPurpose] = useState(ConsentPurpose.SHARE_WITH_PROVIDERS);
  const [granted, setGranted] = useState(true);
  const [reason, setReason] = useState("");
  const { run, busy, error } = useWrite(onChanged);
  const [done, setDone] = useState<string>();
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const latest = (p: ConsentPurpose) => elder.consents.filter((c) => c.purpose === p).at(-1);
  return (
    <>
      <dl className="consents">
        {PURPOSES.map((p) => {
          const c = latest(p);
          return (
            <Fragment key={p}>
              <dt>{enumText(t, "consent_purpose_", p)}</dt>
              <dd>
                {!c
                  ? t("consent_unrecorded")
                  : c.granted
                    ? t("consent_granted")
                    : t("consent_refused")}
                {c && (
                  <span className="quiet">
                    {" "}
                    · {t("consent_recorded_by", { who: c.recordedBy, when: when(c.recordTime) })}
                  </span>
                )}
              </dd>
            </Fragment>
          );
        })}
      </dl>
      <form
        className="answer"
        aria-label={t("record_consent")}
        onSubmit={async (e) => {
          e.preventDefault();
          setDone(undefined);
          const answer = await run(() =>
            api.recordConsent({ name: elder.name, purpose, granted, reason, requestId }),
          );
          if (answer === undefined) return;
          setDone(
            answer.removedFields.length > 0
              ? t("consent_saved_removed", { fields: answer.removedFields.join(", ") })
              : t("consent_saved"),
          );
          setReason("");
          setRequestId(crypto.randomUUID());
        }}
      >
        <label>
          {t("consent_purpose")}{" "}
          <select value={purpose} onChange={(e) => setPurpose(Number(e.target.value))}>
            {PURPOSES.map((p) => (
              <option key={p} value={p}>
                {enumText(t, "consent_purpose_", p)}
              </option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>{t("decision")}</legend>
          {[true, false].map((g) => (
            <label key={String(g)}>
              <input
                type="radio"
                name="consent-granted"
                checked={granted === g}
                onChange={() => setGranted(g)}
              />
              {t(g ? "consent_grant" : "consent_withdraw")}
            </label>
          ))}
        </fieldset>
        {!granted && purpose !== ConsentPurpose.SHARE_WITH_PROVIDERS && (
          <p className="problem">{t("consent_withdraw_warning")}</p>
        )}
        <label>
          {t("consent_how")}{" "}
          <input
            id="consent-reason"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            minLength={4}
            maxLength={256}
            required
          />
        </label>
        <button type="submit" disabled={busy}>
          {t("record_consent")}
        </button>
      </form>
      <Outcome done={done} error={error} />
    </>
  );
}
