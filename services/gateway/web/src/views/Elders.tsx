// The street's elders, masked as the caller may see them, one committee at a time.
import { useRef, useState } from "react";

import { api, useLoad } from "../api.js";
import { enumText, useI18n } from "../i18n.js";
import { ExportCsvButton, href, idOf, Panel } from "../ui.js";

export function EldersView({ region }: { region: string }) {
  const { t } = useI18n();
  const committees = useLoad(() => api.listRegions({ parent: region, pageSize: 200 }), [region]);
  // A committee's own token has no committees below it: its own region is the list.
  const choices = committees.data?.regions.length ? committees.data.regions : undefined;
  const [chosen, setChosen] = useState("");
  const committee = chosen || choices?.[0]?.name || region;
  const [pageToken, setPageToken] = useState("");
  const table = useRef<HTMLTableElement>(null);
  const elders = useLoad(
    () => api.listElders({ region: committee, pageSize: 50, pageToken }),
    [committee, pageToken],
  );
  return (
    <div>
      <h1>{t("elders_title")}</h1>
      {choices && (
        <label>
          {t("choose_committee")}{" "}
          <select
            value={committee}
            onChange={(e) => {
              setChosen(e.target.value);
              setPageToken("");
            }}
          >
            {choices.map((c) => (
              <option key={c.name} value={c.name}>
                {c.displayName}
              </option>
            ))}
          </select>
        </label>
      )}
      <Panel
        id="elders"
        title={choices?.find((c) => c.name === committee)?.displayName ?? committee}
        loading={elders.loading}
        error={elders.error ?? committees.error}
        onRetry={elders.reload}
      >
        <ExportCsvButton
          table={table}
          what="elders"
          region={committee}
          paged={pageToken !== "" || !!elders.data?.nextPageToken}
        />
        <table ref={table}>
          <thead>
            <tr>
              <th scope="col">{t("name")}</th>
              <th scope="col">{t("phone")}</th>
              <th scope="col">{t("address")}</th>
              <th scope="col">{t("living")}</th>
              <th scope="col">{t("care_grade")}</th>
            </tr>
          </thead>
          <tbody>
            {elders.data?.elders.map((e) => (
              <tr key={e.name}>
                <td>
                  <a href={href(`elders/${idOf(e.name)}`)}>{e.displayName}</a>
                </td>
                <td>{e.phone}</td>
                <td>{e.address}</td>
                <td>{enumText(t, "living_", e.livingSituation)}</td>
                <td>{e.careGrade ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {elders.data?.nextPageToken && (
          <button type="button" onClick={() => setPageToken(elders.data!.nextPageToken)}>
            {t("next_page")}
          </button>
        )}
      </Panel>
    </div>
  );
}
