// The console's frame: who is signed in, the navigation, and the view of the route.
import { useState } from "react";

import { useI18n } from "./i18n.js";
import { endSession, useSession, type Session } from "./session.js";
import { href, useRoute } from "./ui.js";
import { AlertsView } from "./views/Alerts.js";
import { NoticesView } from "./views/Notices.js";
import { DayView } from "./views/Day.js";
import { ElderView } from "./views/Elder.js";
import { ImportView } from "./views/Import.js";
import { MapView } from "./views/Map.js";
import { PlanView } from "./views/Plan.js";
import { ReferralsView } from "./views/Referrals.js";
import { ReviewView } from "./views/Review.js";
import { WorkOrdersView } from "./views/WorkOrders.js";
import { EldersView } from "./views/Elders.js";
import { HeardView } from "./views/Heard.js";
import { Login, type LoginProblem } from "./views/Login.js";

export function App({ loginProblem }: { loginProblem?: LoginProblem }) {
  const { session, ended } = useSession();
  if (!session) return <Login ended={ended} problem={loginProblem} />;
  return <Signed session={session} />;
}

function Signed({ session }: { session: Session }) {
  const { t, toggle } = useI18n();
  const route = useRoute();
  // Admins carry no region: they name the street they look at.
  const [adminRegion, setAdminRegion] = useState("310101020");
  const code = session.region || adminRegion;
  const region = `regions/${code}`;
  const nav: [string, string][] = [
    ["", t("nav_day")],
    ["map", t("nav_map")],
    ["elders", t("nav_elders")],
    ["heard", t("nav_heard")],
    ["alerts", t("nav_alerts")],
    ["notices", t("nav_notices")],
    ["work-orders", t("nav_work_orders")],
    ["referrals", t("nav_referrals")],
    ["review", t("nav_review")],
    ["plan", t("nav_plan")],
    ["import", t("nav_import")],
  ];
  let view;
  switch (route[0] ?? "") {
    case "elders":
      view = route[1] ? (
        <ElderView id={route[1]} answerVisit={route[2] === "answer" ? route[3] : undefined} />
      ) : (
        <EldersView region={region} />
      );
      break;
    case "alerts":
      view = <AlertsView region={region} />;
      break;
    case "notices":
      view = (
        <NoticesView region={region} streetStaff={session.role === "street_staff" || session.role === "admin"} />
      );
      break;
    case "import":
      view = <ImportView />;
      break;
    case "plan":
      view = <PlanView region={region} />;
      break;
    case "map":
      view = <MapView region={region} />;
      break;
    case "work-orders":
      view = <WorkOrdersView region={region} />;
      break;
    case "referrals":
      view = <ReferralsView region={region} />;
      break;
    case "review":
      view = <ReviewView region={region} />;
      break;
    case "heard":
      view = <HeardView region={region} />;
      break;
    default:
      view = <DayView region={region} />;
  }
  return (
    <>
      <header className="top">
        <span className="brand">{t("app_title")}</span>
        <nav aria-label="main">
          {nav.map(([path, label]) => (
            <a key={path} href={href(path)} aria-current={(route[0] ?? "") === path ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span className="who" title={`${session.role}${session.region ? ` · ${session.region}` : ""}`}>
          {t("signed_in_as")} {session.subject || session.role}
        </span>
        {!session.region && (
          <input
            aria-label="region"
            value={adminRegion}
            onChange={(e) => setAdminRegion(e.target.value.trim())}
            size={12}
          />
        )}
        <button type="button" onClick={toggle}>
          {t("language")}
        </button>
        <button
          type="button"
          onClick={() => {
            const providerLogout = session.logoutUrl;
            endSession("logged_out");
            if (providerLogout) window.location.assign(providerLogout);
          }}
        >
          {t("logout")}
        </button>
      </header>
      <main>{view}</main>
    </>
  );
}
