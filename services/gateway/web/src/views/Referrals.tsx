// Promises referred to another provider (转介) from the caller's street or committee, newest
// first: who, what, from which owner to which provider, where each stands and by when the provider
// must answer; a decline's reason or a completed referral's outcome. Staff take back a referral
// still waiting for its answer (撤回). Referrals are sent from the elder's page. "More" shows
// another page of 100; like the notices' call list, every read (a reload after a withdrawal, or
// "more") reads the pages shown again from the first, so the rows loaded stay and none is listed
// twice as the pages shift.
import { useRef, useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import { ReferralState, type Referral } from "../gen/linli/scheduling/v1/scheduling_pb.js";
import { enumText, useI18n, type Key } from "../i18n.js";
import { ElderLink, OrganisationName, Panel, Problem, useServiceTypeName, when } from "../ui.js";

// The state filter: its label and the states it asks ListReferrals for (none: every state).
const FILTERS: [string, Key, ReferralState[]][] = [
  ["all", "all", []],
  ["waiting", "referral_filter_waiting", [ReferralState.SENT]],
  ["accepted", "referral_filter_accepted", [ReferralState.ACCEPTED, ReferralState.IN_SERVICE]],
  ["declined", "referral_filter_declined", [ReferralState.DECLINED, ReferralState.EXPIRED]],
];

export function ReferralsView({ region }: { region: string }) {
  const { t } = useI18n();
  const [filter, setFilter] = useState("all");
  const states = FILTERS.find(([f]) => f === filter)?.[2] ?? [];
  // How many pages are shown, back to one for another region or filter.
  const pages = useRef({ key: "", count: 1 });
  const referrals = useLoad(async () => {
    const key = `${region}|${filter}`;
    if (pages.current.key !== key) pages.current = { key, count: 1 };
    const list: Referral[] = [];
    let pageToken = "";
    for (let i = 0; i < pages.current.count; i++) {
      const page = await api.listReferrals({ region, states, pageSize: 100, pageToken });
      list.push(...page.referrals);
      pageToken = page.nextPageToken;
      if (!pageToken) break;
    }
    return { referrals: list, nextPageToken: pageToken };
  }, [region, filter]);
  const serviceName = useServiceTypeName();
  const list = referrals.data?.referrals ?? [];
  return (
    <div>
      <h1>{t("nav_referrals")}</h1>
      <label>
        {t("state")}{" "}
        <select value={filter} onChange={(e) => setFilter(e.target.value)}>
          {FILTERS.map(([f, label]) => (
            <option key={f} value={f}>
              {t(label)}
            </option>
          ))}
        </select>
      </label>
      <Panel
        id="referrals"
        title={t("referrals_title")}
        loading={referrals.loading && !referrals.data}
        error={referrals.error}
        onRetry={referrals.reload}
      >
        {list.length === 0 ? (
          <p>{t("none")}</p>
        ) : (
          <table className="referrals">
            <thead>
              <tr>
                <th scope="col">{t("elder")}</th>
                <th scope="col">{t("service")}</th>
                <th scope="col">{t("from_to")}</th>
                <th scope="col">{t("state")}</th>
                <th scope="col">{t("sent_time")}</th>
                <th scope="col">{t("respond_by")}</th>
                <th scope="col">{t("referral_result")}</th>
                <th scope="col"></th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <ReferralRow
                  key={r.name}
                  referral={r}
                  serviceName={serviceName}
                  onChange={referrals.reload}
                />
              ))}
            </tbody>
          </table>
        )}
        {referrals.data?.nextPageToken && (
          <button
            type="button"
            disabled={referrals.loading}
            onClick={() => {
              pages.current.count += 1;
              referrals.reload();
            }}
          >
            {t("more")}
          </button>
        )}
      </Panel>
    </div>
  );
}

function ReferralRow({
  referral: r,
  serviceName,
  onChange,
}: {
  referral: Referral;
  serviceName: (name: string) => string;
  onChange: () => void;
}) {
  const { t } = useI18n();
  const { run, busy, error } = useWrite(onChange);
  const [requestId] = useState(() => crypto.randomUUID());
  return (
    <tr className={`referral-state-${r.state}`} data-referral={r.name}>
      <td className="nowrap">
        <ElderLink elder={r.elder} />
      </td>
      <td>{serviceName(r.serviceType)}</td>
      <td>
        <OrganisationName organisation={r.fromOrganisation} /> →{" "}
        <OrganisationName organisation={r.toOrganisation} />
      </td>
      <td className="nowrap">
        <span className="badge">{enumText(t, "referral_state_", r.state)}</span>
      </td>
      <td className="nowrap">{when(r.sendTime)}</td>
      <td className="nowrap">{when(r.respondBy)}</td>
      <td>
        {r.declineReason
          ? enumText(t, "decline_reason_", r.declineReason)
          : r.outcome
            ? enumText(t, "referral_outcome_", r.outcome)
            : ""}
      </td>
      <td>
        {r.state === ReferralState.SENT && (
          <button
            type="button"
            disabled={busy}
            onClick={() => run(() => api.withdrawReferral({ name: r.name, requestId }))}
          >
            {t("withdraw")}
          </button>
        )}
        {error !== undefined && <Problem error={error} />}
      </td>
    </tr>
  );
}
