// Who was told what: the notices to the caller's committee or street (missed visits, safety
// matters escalated, …), newest first, marked read one by one or all at once; the call list of
// the region's elders whom their own notices have not reached, each marked told once staff phoned
// or visited them; and the region's webhooks — where its notices (or its elders') are sent, each delivery with its attempts, a
// failed one sent again. Street staff add a webhook; its signing secret is shown once.
import { useRef, useState } from "react";

import { api, useLoad, useWrite } from "../api.js";
import {
  DeliveryState,
  NoticeChannel,
  type Notice,
  type UnreachedElder,
  type WebhookDelivery,
} from "../gen/linli/feedback/v1/feedback_pb.js";
import { enumText, useI18n } from "../i18n.js";
import { ElderLink, idOf, Loading, Outcome, Panel, Problem, when } from "../ui.js";

function NoticeItem({ notice, onChange }: { notice: Notice; onChange: () => void }) {
  const { t } = useI18n();
  const { run, busy, error } = useWrite(onChange);
  const unread = !notice.readTime;
  return (
    <li className={unread ? "notice unread" : "notice"} data-notice={notice.name}>
      <div>
        <span className="badge">{enumText(t, "notice_kind_", notice.kind)}</span>{" "}
        {notice.urgent && <span className="badge urgent">{t("urgent")}</span>} {when(notice.createTime)}
        {notice.elder && (
          <>
            {" "}
            · <ElderLink elder={notice.elder} />
          </>
        )}
      </div>
      <div className="detail">{notice.text}</div>
      {unread ? (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            run(() => api.markNoticesRead({ recipient: notice.recipient, names: [notice.name] }))
          }
        >
          {t("mark_read")}
        </button>
      ) : (
        <div className="quiet">{t("read_by", { who: notice.readBy, when: when(notice.readTime) })}</div>
      )}
      {error !== undefined && <Problem error={error} />}
    </li>
  );
}

function Inbox({ recipient }: { recipient: string }) {
  const { t } = useI18n();
  const notices = useLoad(
    () => api.listNotices({ recipient, newestFirst: true, pageSize: 100 }),
    [recipient],
  );
  const { run, busy, error } = useWrite(notices.reload);
  if (notices.error !== undefined) return <Problem error={notices.error} onRetry={notices.reload} />;
  if (notices.loading && !notices.data) return <Loading />;
  const list = notices.data?.notices ?? [];
  const newest = list[0]?.sequence ?? 0n;
  return (
    <>
      <p>
        {t("unread_count", { n: String(notices.data?.unreadCount ?? 0) })}{" "}
        {(notices.data?.unreadCount ?? 0) > 0 && (
          <button
            type="button"
            disabled={busy}
            onClick={() => run(() => api.markNoticesRead({ recipient, upToSequence: newest }))}
          >
            {t("mark_all_read")}
          </button>
        )}
      </p>
      {error !== undefined && <Problem error={error} />}
      {list.length === 0 ? (
        <p>{t("none")}</p>
      ) : (
        <ul className="notices">
          {list.map((n) => (
            <NoticeItem key={n.name} notice={n} onChange={notices.reload} />
          ))}
        </ul>
      )}
    </>
  );
}

// One elder of the call list: who, what the newest notice says (to tell them on the phone), how
// many are unread and since when; "told by phone" marks their notices read up to the newest listed
// (newer ones, not yet an hour old, stay unread), recorded as read by the staff member.
function UnreachedRow({
  unreached,
  committee,
  onTold,
}: {
  unreached: UnreachedElder;
  committee?: string; // shown when the list spans a street's committees
  onTold: (marked: number) => void;
}) {
  const { t } = useI18n();
  const { run, busy, error } = useWrite();
  const latest = unreached.latest;
  return (
    <tr data-elder={unreached.elder}>
      <td>
        <ElderLink elder={unreached.elder} />
        {unreached.urgent && (
          <>
            {" "}
            <span className="badge urgent">{t("urgent")}</span>
          </>
        )}
      </td>
      {committee !== undefined && <td>{committee}</td>}
      <td>
        {latest && (
          <>
            <span className="badge">{enumText(t, "notice_kind_", latest.kind)}</span> {latest.text}
          </>
        )}
      </td>
      <td className="count">{unreached.unreadCount}</td>
      <td className="nowrap">{when(unreached.oldestUnreadTime)}</td>
      <td>
        <button
          type="button"
          disabled={busy || !latest}
          onClick={async () => {
            if (!latest) return;
            const done = await run(() =>
              api.markNoticesRead({ recipient: unreached.elder, upToSequence: latest.sequence }),
            );
            if (done) onTold(done.marked);
          }}
        >
          {t("told_by_phone")}
        </button>
        {error !== undefined && <Problem error={error} />}
      </td>
    </tr>
  );
}

// The elders of a committee or street whose notices nobody opened for an hour (the gateway's
// default), the longest unreached first. "More" shows another page; every read (a reload after an
// elder was told, or "more") reads the pages shown again from the first, so an elder told leaves
// the list and nobody is listed twice as the pages shift.
function Unreached({ region, committeeNames }: { region: string; committeeNames?: Map<string, string> }) {
  const { t } = useI18n();
  const pages = useRef(1);
  const list = useLoad(async () => {
    const elders: UnreachedElder[] = [];
    let pageToken = "";
    for (let i = 0; i < pages.current; i++) {
      const page = await api.listUnreachedElders({ region, pageSize: 50, pageToken });
      elders.push(...page.elders);
      pageToken = page.nextPageToken;
      if (!pageToken) break;
    }
    return { elders, nextPageToken: pageToken };
  }, [region]);
  const [told, setTold] = useState<number>();
  const onTold = (marked: number) => {
    setTold(marked);
    list.reload();
  };
  const elders = list.data?.elders ?? [];
  return (
    <Panel
      id="unreached"
      title={t("unreached_title")}
      loading={list.loading && !list.data}
      error={list.error}
      onRetry={list.reload}
    >
      <p className="quiet">{t("unreached_hint")}</p>
      <Outcome done={told !== undefined && t("unreached_told", { n: told })} error={undefined} />
      {elders.length === 0 ? (
        <p className="unreached-none">{t("unreached_none")}</p>
      ) : (
        <table className="unreached">
          <thead>
            <tr>
              <th scope="col">{t("elder")}</th>
              {committeeNames && <th scope="col">{t("committee")}</th>}
              <th scope="col">{t("latest_notice")}</th>
              <th scope="col" className="count">
                {t("unread_notices")}
              </th>
              <th scope="col">{t("unread_since")}</th>
              <th scope="col">{t("tell")}</th>
            </tr>
          </thead>
          <tbody>
            {elders.map((u) => (
              <UnreachedRow
                key={u.elder}
                unreached={u}
                committee={committeeNames && (committeeNames.get(u.committee) ?? idOf(u.committee))}
                onTold={onTold}
              />
            ))}
          </tbody>
        </table>
      )}
      {list.data?.nextPageToken && (
        <button
          type="button"
          disabled={list.loading}
          onClick={() => {
            pages.current += 1;
            list.reload();
          }}
        >
          {t("more")}
        </button>
      )}
    </Panel>
  );
}

function DeliveryRow({ delivery, recipient, onChange }: { delivery: WebhookDelivery; recipient: string; onChange: () => void }) {
  const { t } = useI18n();
  const { run, busy, error } = useWrite(onChange);
  return (
    <tr data-delivery={delivery.name}>
      <td>{delivery.notice}</td>
      <td>{enumText(t, "delivery_state_", delivery.state)}</td>
      <td>{delivery.attempts}</td>
      <td>{when(delivery.lastAttemptTime)}</td>
      <td>{delivery.lastError}</td>
      <td>
        {delivery.state === DeliveryState.FAILED && (
          <button type="button" disabled={busy} onClick={() => run(() => api.retryWebhookDelivery({ name: delivery.name, recipient }))}>
            {t("send_again")}
          </button>
        )}
        {error !== undefined && <Problem error={error} />}
      </td>
    </tr>
  );
}

function Webhooks({ recipient, canCreate }: { recipient: string; canCreate: boolean }) {
  const { t } = useI18n();
  const hooks = useLoad(() => api.listWebhooks({ recipient }), [recipient]);
  const deliveries = useLoad(() => api.listWebhookDeliveries({ recipient, pageSize: 50 }), [recipient]);
  const reread = () => {
    hooks.reload();
    deliveries.reload();
  };
  const { run, busy, error } = useWrite(reread);
  const [url, setUrl] = useState("");
  const [elders, setElders] = useState(false);
  const [phone, setPhone] = useState(false);
  const [channel, setChannel] = useState<NoticeChannel>(NoticeChannel.WEBHOOK);
  const [secret, setSecret] = useState<string>();
  return (
    <>
      {hooks.error !== undefined && <Problem error={hooks.error} onRetry={hooks.reload} />}
      <ul className="webhooks">
        {(hooks.data?.webhooks ?? []).map((w) => (
          <li key={w.name} data-webhook={w.name}>
            {w.url} · {enumText(t, "notice_channel_", w.channel)} ·{" "}
            {w.eldersOfRegion ? t("webhook_elders") : t("webhook_own")}
            {w.deliverPhone ? ` · ${t("webhook_phone")}` : ""} · {when(w.createTime)}
          </li>
        ))}
      </ul>
      {hooks.data && hooks.data.webhooks.length === 0 && <p>{t("no_webhooks")}</p>}
      {canCreate && (
        <form
          className="inline"
          onSubmit={async (e) => {
            e.preventDefault();
            const created = await run(() =>
              api.createWebhook({
                webhook: { recipient, url, channel, eldersOfRegion: elders, deliverPhone: elders && phone },
              }),
            );
            if (created) setSecret(created.signingSecret);
          }}
        >
          <label>
            {t("webhook_url")} <input value={url} onChange={(e) => setUrl(e.target.value.trim())} size={40} />
          </label>{" "}
          <label>
            {t("webhook_channel")}{" "}
            <select value={channel} onChange={(e) => setChannel(Number(e.target.value) as NoticeChannel)}>
              {[NoticeChannel.WEBHOOK, NoticeChannel.TEXT_MESSAGE, NoticeChannel.WECHAT, NoticeChannel.VOICE_CALL].map((c) => (
                <option key={c} value={c}>
                  {enumText(t, "notice_channel_", c)}
                </option>
              ))}
            </select>
          </label>{" "}
          <label>
            <input type="checkbox" checked={elders} onChange={(e) => setElders(e.target.checked)} />{" "}
            {t("webhook_elders")}
          </label>{" "}
          {elders && (
            <>
              <label>
                <input type="checkbox" checked={phone} onChange={(e) => setPhone(e.target.checked)} />{" "}
                {t("webhook_phone")}
              </label>{" "}
            </>
          )}
          <button type="submit" disabled={busy || url === ""}>
            {t("create_webhook")}
          </button>
        </form>
      )}
      <Outcome done={secret && t("signing_secret_once", { secret })} error={error} />
      <h3>{t("deliveries")}</h3>
      {deliveries.error !== undefined && <Problem error={deliveries.error} onRetry={deliveries.reload} />}
      {(deliveries.data?.deliveries.length ?? 0) > 0 ? (
        <table>
          <thead>
            <tr>
              <th>{t("notice")}</th>
              <th>{t("state")}</th>
              <th>{t("attempts")}</th>
              <th>{t("last_attempt")}</th>
              <th>{t("last_error")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {deliveries.data!.deliveries.map((d) => (
              <DeliveryRow key={d.name} delivery={d} recipient={recipient} onChange={deliveries.reload} />
            ))}
          </tbody>
        </table>
      ) : (
        <p>{t("none")}</p>
      )}
    </>
  );
}

export function NoticesView({ region, streetStaff }: { region: string; streetStaff: boolean }) {
  const { t } = useI18n();
  // The street's own notices, or one of its committees' (a committee's token has none below).
  const committees = useLoad(() => api.listRegions({ parent: region, pageSize: 200 }), [region]);
  const [recipient, setRecipient] = useState(region);
  const choices = committees.data?.regions ?? [];
  return (
    <div>
      <h1>{t("nav_notices")}</h1>
      {choices.length > 0 && (
        <label>
          {t("notices_of")}{" "}
          <select value={recipient} onChange={(e) => setRecipient(e.target.value)}>
            <option value={region}>{t("notices_own_region")}</option>
            {choices.map((c) => (
              <option key={c.name} value={c.name}>
                {c.displayName}
              </option>
            ))}
          </select>
        </label>
      )}
      <section className="panel">
        <h2>{t("notices_inbox")}</h2>
        <Inbox recipient={recipient} />
      </section>
      <Unreached
        key={recipient}
        region={recipient}
        committeeNames={
          recipient === region && choices.length > 0
            ? new Map(choices.map((c) => [c.name, c.displayName]))
            : undefined
        }
      />
      <section className="panel">
        <h2>{t("webhooks")}</h2>
        <Webhooks recipient={recipient} canCreate={streetStaff} />
      </section>
    </div>
  );
}
