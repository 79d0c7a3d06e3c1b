// The morning call list: visits of the caller's street or committee that no answer has come for,
// in the order the gateway gives (solitary elders first, contradictions, long silence).
import { api, useLoad } from "../api.js";
import { useI18n } from "../i18n.js";
import { ElderLink, href, idOf, Panel, when } from "../ui.js";

export function HeardView({ region }: { region: string }) {
  const { t } = useI18n();
  const queue = useLoad(() => api.listVisitsAwaitingAnswer({ region, pageSize: 50 }), [region]);
  return (
    <div>
      <h1>{t("nav_heard")}</h1>
      <Panel
        id="heard"
        title={t("heard_title")}
        loading={queue.loading}
        error={queue.error}
        onRetry={queue.reload}
      >
        <table>
          <thead>
            <tr>
              <th scope="col">{t("elder")}</th>
              <th scope="col">{t("visit_date")}</th>
              <th scope="col">{t("solitary")}</th>
              <th scope="col">{t("disputed")}</th>
              <th scope="col">{t("last_answer")}</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {queue.data?.visits.map((v) => (
              <tr key={v.visit}>
                <td>
                  <ElderLink elder={v.elder} />
                </td>
                <td>{v.visitDate}</td>
                <td>{v.solitary ? "✔" : ""}</td>
                <td>{v.disputedVisits || ""}</td>
                <td>{v.lastAnswerTime ? when(v.lastAnswerTime) : t("never")}</td>
                <td>
                  <a href={href(`elders/${idOf(v.elder)}/answer/${idOf(v.visit)}`)}>{t("call")}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
    </div>
  );
}
