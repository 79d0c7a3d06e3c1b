// Keeping an elder's record right: a correction (phone, address, living situation, a reassessed
// care grade) with the staff member's reason, which the registry audits; and the record closed
// when the elder moved away or died, which also closes their promises. Each write carries the
// etag of the record as this page read it: when someone changed it meanwhile, nothing is
// overwritten, the page says so and reads the record again.
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { useState } from "react";

import { api, useWrite } from "../api.js";
import { ElderSchema, ElderStatus, LivingSituation, type Elder } from "../gen/linli/registry/v1/registry_pb.js";
import { enumText, useI18n } from "../i18n.js";
import { Outcome } from "../ui.js";

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
