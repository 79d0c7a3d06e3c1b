// The workers of one organisation, kept right by the street's staff (volunteers also by their
// committee's staff; the gateway decides who may): a worker's name and skills changed, or their
// status set — not taking visits for a while, or left (retired from the roster). Each change
// carries the etag of the worker as this page read them: when someone changed the worker
// meanwhile, nothing is overwritten, the page says so and reads the workers again.
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import { WorkerSchema, WorkerStatus, type Worker } from "../gen/linli/registry/v1/registry_pb.js";
import { enumText, useI18n } from "../i18n.js";
import { Loading, Outcome, Problem } from "../ui.js";

const STATUSES = [WorkerStatus.ACTIVE, WorkerStatus.INACTIVE, WorkerStatus.LEFT];

function skillList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[,，、\s]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

export function WorkerList({ organisation }: { organisation: string }) {
  const { t } = useI18n();
  const workers = useLoad(
    () => api.listWorkers({ organisation, pageSize: 500 }),
    [organisation],
  );
  const [editing, setEditing] = useState<string>();
  if (workers.error !== undefined) {
    return <Problem error={workers.error} onRetry={workers.reload} />;
  }
  if (workers.loading && !workers.data) return <Loading />;
  const list = workers.data?.workers ?? [];
  if (list.length === 0) return <p>{t("none")}</p>;
  return (
    <ul className="workers">
      {list.map((w) => (
        <li key={w.name} data-worker={w.name}>
          {w.displayName} · {w.volunteer ? t("worker_volunteer") : t("worker_staff")} ·{" "}
          <span className="worker-status">{enumText(t, "worker_status_", w.status)}</span> ·{" "}
          {w.skills.join(t("list_separator")) || "—"}{" "}
          <button
            type="button"
            aria-expanded={editing === w.name}
            onClick={() => setEditing(editing === w.name ? undefined : w.name)}
          >
            {t("worker_edit")}
          </button>
          {editing === w.name && <WorkerUpkeep worker={w} onChanged={workers.reload} />}
        </li>
      ))}
    </ul>
  );
}

function WorkerUpkeep({ worker, onChanged }: { worker: Worker; onChanged: () => void }) {
  const { t } = useI18n();
  const [displayName, setDisplayName] = useState(worker.displayName);
  const [skills, setSkills] = useState(worker.skills.join(", "));
  const stored = worker.status === WorkerStatus.UNSPECIFIED ? WorkerStatus.ACTIVE : worker.status;
  const [status, setStatus] = useState<WorkerStatus>(stored);
  // A newer version read (after someone else's edit refused ours, or our own save): the fields
  // start again from it, so a second save cannot put back what the other person changed. The
  // message of the refusal stays.
  const [version, setVersion] = useState(worker.etag);
  if (version !== worker.etag) {
    setVersion(worker.etag);
    setDisplayName(worker.displayName);
    setSkills(worker.skills.join(", "));
    setStatus(stored);
  }
  const { run, busy, error } = useWrite(onChanged);
  const [done, setDone] = useState<string>();

  const changed = create(WorkerSchema, { name: worker.name, etag: worker.etag });
  const paths: string[] = [];
  if (displayName.trim() !== worker.displayName) {
    changed.displayName = displayName.trim();
    paths.push("display_name");
  }
  const newSkills = skillList(skills);
  if (newSkills.join(",") !== worker.skills.join(",")) {
    changed.skills = newSkills;
    paths.push("skills");
  }
  if (status !== stored) {
    changed.status = status;
    paths.push("status");
  }

  const save = async () => {
    setDone(undefined);
    const answer = await run(() =>
      api.updateWorker({
        worker: changed,
        updateMask: create(FieldMaskSchema, { paths }),
        requestId: crypto.randomUUID(),
      }),
    );
    if (answer !== undefined) setDone(t("worker_saved"));
  };

  return (
    <form
      className="answer worker-upkeep"
      aria-label={t("worker_edit_form", { name: worker.displayName })}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label>
        {t("name")}{" "}
        <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} required />
      </label>
      <label>
        {t("worker_skills_input")}{" "}
        <input value={skills} onChange={(e) => setSkills(e.target.value)} />
      </label>
      <label>
        {t("status")}{" "}
        <select value={status} onChange={(e) => setStatus(Number(e.target.value) as WorkerStatus)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {enumText(t, "worker_status_", s)}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy || paths.length === 0}>
        {t("worker_save")}
      </button>
      <Outcome done={done} error={error} />
    </form>
  );
}
