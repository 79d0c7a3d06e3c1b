// linli: the operator and developer command line. `linli --help` lists every command; the
// gateway commands send $LINLI_TOKEN when it is set, the feedback ones (`report`, `alerts`,
// `promises`, `heard`, `trend`, `index`) call feedback directly.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/flags.h"
#include "common/grpc_probe.h"
#include "google/protobuf/util/json_util.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

ABSL_FLAG(std::string, gateway, "127.0.0.1:50050", "Gateway gRPC address.");
ABSL_FLAG(std::string, registry_address, "127.0.0.1:50051", "Registry address (for `health`).");
ABSL_FLAG(std::string, scheduling_address, "127.0.0.1:50052", "Scheduling address (for `health`).");
ABSL_FLAG(std::string, feedback_address, "127.0.0.1:50053",
          "Feedback address (`health`, the feedback commands, `seed-demo`'s past answers).");
ABSL_FLAG(std::string, parent, "", "`regions list`: only children of this region.");
ABSL_FLAG(std::string, region, "",
          "`map`, `orgs list`, `elders list`: the region, regions/CODE or just CODE.");
ABSL_FLAG(std::string, format, "svg", "`map`: svg (needs Graphviz `dot`), dot or json.");
ABSL_FLAG(std::string, out, "",
          "`map`, `export` (.csv or .xlsx), `report`: output file (default: stdout).");
ABSL_FLAG(std::string, elder, "", "`providers`, `audit`, `words`: the elder, elders/ID.");
ABSL_FLAG(std::string, service, "", "`providers`: the service, serviceTypes/CODE.");
ABSL_FLAG(std::string, reason, "",
          "`elders get`: reason for the full (unmasked, audited) view; `words`: reason recorded in "
          "the audit log.");
ABSL_FLAG(std::string, from, "",
          "`visits`, `plan`: first day, YYYY-MM-DD (`visits`: default all).");
ABSL_FLAG(int, days, 7,
          "`visits`, `plan`: number of days from --from; `heard`, `promises`, `words`: the last N "
          "days.");
ABSL_FLAG(double, time_limit, 10, "`plan`: planner seconds per day.");
ABSL_FLAG(bool, dry_run, false, "`plan`: plan without booking; `import`: check, write nothing.");
ABSL_FLAG(std::string, file, "", "`import`: the roster to import (CSV).");
ABSL_FLAG(bool, skip_bad_rows, false, "`import`: import the good rows even when some are bad.");
ABSL_FLAG(int, chunk_rows, 1000, "`import`: rows per call (1-1000).");
ABSL_FLAG(std::string, problem_dir, "", "`plan`: write each day's planning problem (JSON) here.");
ABSL_FLAG(int, demo_elders, 25000, "`seed-demo`: number of elders.");
ABSL_FLAG(int, seed_parallelism, 8, "`seed-demo`: concurrent calls.");
ABSL_FLAG(std::string, demo_week, "",
          "`seed-demo`: pin the demo street to the week holding this date (YYYY-MM-DD) for "
          "reproducible figures; empty: the current week, promises from today (Asia/Shanghai).");
ABSL_FLAG(std::string, org, "",
          "`report`: the provider; `update workers/ID`: their organisation (organisations/ID or "
          "just ID).");
ABSL_FLAG(std::string, to, "", "`report`: last day, YYYY-MM-DD.");
ABSL_FLAG(std::string, date, "", "`street`: the day, YYYY-MM-DD (default today).");
ABSL_FLAG(std::string, decision, "", "`review`: approve or reject; `consent`: grant or withdraw.");
ABSL_FLAG(std::string, json, "",
          "`update`: the fields to change, a JSON object (proto JSON), or @FILE holding it.");
ABSL_FLAG(std::string, etag, "",
          "`update`, `retire`: the etag of your read (default: read the record now).");
ABSL_FLAG(std::string, purpose, "",
          "`consent`: personal_data, health_data or share_with_providers.");
ABSL_FLAG(std::string, status, "", "`retire`: deceased or moved (elders).");
ABSL_FLAG(bool, always, false,
          "`fallback`: propose other providers even when the owner can cover.");
ABSL_FLAG(std::string, code, "",
          "`review`: the reason code of the decision; `refer`: why the promise is referred.");
ABSL_FLAG(std::string, offering, "", "`refer`: the receiving provider's offering, offerings/ID.");
ABSL_FLAG(int, hours, 0, "`refer`: hours the provider has to answer (0: 48, at most 168).");
ABSL_FLAG(std::string, note, "", "`review`: a note kept with the decision.");
ABSL_FLAG(int, window, 30, "`index`: window in days, 7, 30 or 90.");
ABSL_FLAG(int, weeks, 12, "`trend`: number of weeks, 1-26.");
ABSL_FLAG(std::string, role, "",
          "`token`: elder, family, worker, committee_staff, street_staff, admin.");
ABSL_FLAG(std::string, subject, "", "`token`: the principal, e.g. elders/ID or workers/ID.");
ABSL_FLAG(absl::Duration, ttl, absl::Hours(8), "`token`: lifetime of the token.");
ABSL_FLAG(std::string, token_keys, "var/jwt-keys.json", "`token`: the development key set.");
ABSL_FLAG(std::string, token_issuer, "linli-dev", "`token`: the issuer (iss).");
ABSL_FLAG(std::string, token_audience, "linli-gateway", "`token`: the audience (aud).");
ABSL_FLAG(bool, new_keys, false, "`token`: print a new development key set instead.");
ABSL_FLAG(std::string, api_key, "", "`token`: mint a partner API key with this key id instead.");
ABSL_FLAG(std::string, organisation, "", "`token --api_key`: the partner, organisations/ID.");
ABSL_FLAG(std::string, scopes, "", "`token --api_key`: comma-separated scopes.");
ABSL_FLAG(std::string, partner, "",
          "`token --api_key`: the partner the key belongs to (default: the key id); keys of one "
          "partner share its inbox and complaints.");
ABSL_FLAG(std::string, pepper_file, "var/api-key.pepper", "`token --api_key`: the hashing pepper.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "Deadline of each call.");
ABSL_FLAG(bool, follow, false, "`notices`: keep printing new notices as they are raised.");
ABSL_FLAG(int, minutes, 0, "`notices unreached`: notices unread this long (0: an hour).");
ABSL_FLAG(std::string, recipient, "",
          "`webhook`: whose notices, e.g. regions/310101020001 or organisations/ID.");
ABSL_FLAG(std::string, url, "", "`webhook create`: where to POST, https:// (http:// loopback).");
ABSL_FLAG(bool, elders_of_region, false,
          "`webhook create`: the notices to the elders of the --recipient region instead.");
ABSL_FLAG(bool, deliver_phone, false,
          "`webhook create --elders_of_region`: each notice with the elder's phone to reach them "
          "by (a text-message provider; every read audited).");
ABSL_FLAG(int, port, 8099, "`webhook serve`: the port to listen on (127.0.0.1).");
ABSL_FLAG(std::string, secret, "", "`webhook serve`: the signing secret to verify with.");

namespace {

using linli::gateway::v1::ConsoleService;
using linli::registry::v1::RegionLevel;

constexpr char kUsage[] =
    "linli <command>\n"
    "  health                 check health and reflection of the four services\n"
    "  keygen                 print a new personal-data keyring (for --pii_key_file)\n"
    "  seed-demo              load the demo street (once) with four weeks of history, and\n"
    "                         materialise its visits for this week and the next (--demo_week\n"
    "                         YYYY-MM-DD pins another week)\n"
    "  regions list           list regions (--parent regions/CODE for one level)\n"
    "  regions get NAME       show one region, e.g. regions/310101\n"
    "  map                    the 条块 map: --region R --format svg|dot|json --out FILE\n"
    "  providers              who can serve: --elder elders/ID --service serviceTypes/CODE\n"
    "  orgs list              organisations (--region R)\n"
    "  elders list            elders, masked (--region R)\n"
    "  elders get NAME        one elder; --reason TEXT for the full, audited view\n"
    "  audit                  the personal-data audit log (--elder NAME)\n"
    "  commitments            care promises (--elder NAME)\n"
    "  visits                 visits (--elder NAME --from YYYY-MM-DD --days N)\n"
    "  plan                   plan and book workers: --region R --from YYYY-MM-DD --days N\n"
    "                         [--time_limit S per day] [--dry_run] [--problem_dir DIR]\n"
    "  report                 provider evaluation: --org ID --from DATE --to DATE --out FILE.html\n"
    "  alerts                 safety-net alerts of a committee or street (--region R)\n"
    "  notices                notices to --elder NAME or --region R (a committee or street):\n"
    "                         running late, nobody coming, missed, safety, complaints' steps\n"
    "                         [--follow: print new ones as they come]\n"
    "  notices unreached      the call list of --region R: elders whose notices nobody\n"
    "                         opened and no text message reached [--minutes N, 60]\n"
    "  notices read           mark --elder NAME's (or --region R's) notices read, e.g.\n"
    "                         once told by phone\n"
    "  webhook create         POST a recipient's notices to a URL, signed: --recipient R\n"
    "                         --url U [--elders_of_region [--deliver_phone]]; prints the\n"
    "                         signing secret once\n"
    "  webhook deliveries     the delivery log of --recipient R's webhooks\n"
    "  webhook serve          a development receiver: --port P --secret S; checks each\n"
    "                         signature and prints the notice\n"
    "  promises               the promises of a committee or street that are broken, at risk\n"
    "                         or have something against them, worst first, and the count of\n"
    "                         each verdict: --region R [--days N, 1-90]\n"
    "  heard                  visits awaiting the elder's answer, most in need first: --region R\n"
    "                         (a committee or street) [--days N, 1-31]\n"
    "  street                 the street's day in one screen, through the gateway: visits by\n"
    "                         state per committee, what needs action, the week's promises,\n"
    "                         open alerts [--region R, default your token's] [--date D]\n"
    "  fallback COMMITMENT    can its owner cover it; if not (or --always), other providers of\n"
    "                         the service near the elder, each with the reason (gateway)\n"
    "  refer COMMITMENT       refer the promise to another provider: --offering offerings/ID\n"
    "                         (from fallback) --code owner_no_capacity|owner_no_offering|\n"
    "                         owner_no_skilled_worker|elder_request|quality [--hours N to answer]\n"
    "  referrals              referrals of a committee or street, newest first, through the\n"
    "                         gateway [--region R, default your token's]\n"
    "  referral withdraw NAME take back a referral not answered yet\n"
    "  needs                  elders' recorded needs no promise covers, per committee, through\n"
    "                         the gateway [--region R, default your token's]\n"
    "  reviews                visits completed with an exception waiting for a review, oldest\n"
    "                         first, through the gateway [--region R, default your token's]\n"
    "  review VISIT           approve or reject it: --decision approve|reject --code REASON\n"
    "                         (e.g. CONFIRMED_WITH_ELDER, NOT_DELIVERED) [--note TEXT]\n"
    "  words                  what elders said (answers with words), newest first, through\n"
    "                         the gateway: --region R or --elder NAME [--days N, 1-90]\n"
    "                         [--reason TEXT]; every read is audited\n"
    "  update NAME            correct an elder, organisation or worker: --json '{\"phone\":\n"
    "                         \"13812345678\"}' names the fields to change; elders need\n"
    "                         --reason TEXT (audited); a worker --org ORG [--etag E,\n"
    "                         default: read the record now]\n"
    "  consent ELDER          record a consent decision: --purpose personal_data|health_data|\n"
    "                         share_with_providers --decision grant|withdraw --reason TEXT\n"
    "  retire NAME            an elder who died or moved away (--status deceased|moved --date\n"
    "                         D; their promises are closed), an organisation, or a relation or\n"
    "                         offering of --org ORG; --reason TEXT\n"
    "  import template KIND   the header and an example row of a roster to fill in: elders,\n"
    "                         organisations, relations, offerings, workers, commitments\n"
    "                         (care promises), visits (a provider's past visits) or answers\n"
    "                         (elders' past answers about visits)\n"
    "  import KIND            a roster from --file F.csv (UTF-8 or GB18030): every row checked\n"
    "                         first, reported by line and column; [--dry_run] [--skip_bad_rows];\n"
    "                         importing it again changes nothing\n"
    "  export KIND            a roster as you see it (masked), in its import's columns: of\n"
    "                         --region R (workers: of --org, or of every organisation there;\n"
    "                         commitments: the region's elders' active promises, of --org only\n"
    "                         if given, ID numbers masked; visits and answers are imported\n"
    "                         only); CSV on\n"
    "                         stdout, or --out F.csv | F.xlsx (Excel)\n"
    "  trend SUBJECT          the index week by week (--weeks N, 1-26, default 12)\n"
    "  index SUBJECT          perception index (+ promise ledger) of elders/, workers/,\n"
    "                         organisations/, regions/ or commitments/ (--window 7|30|90)\n"
    "  token                  a development gateway token: --role R --region CODE\n"
    "                         [--subject ID] [--elder elders/ID] [--ttl 8h]; --new_keys: a key\n"
    "                         set; --api_key ID --organisation O --scopes S [--partner P]:\n"
    "                         a partner key\n"
    "                         (this CLI's gateway calls send $LINLI_TOKEN when it is set)\n";

std::unique_ptr<grpc::ClientContext> Context() {
  return linli::NewClientContext(nullptr, absl::GetFlag(FLAGS_timeout));
}

// --region takes a resource name ("regions/310101020") or just the code ("310101020").
std::string RegionFlag() {
  const std::string value = absl::GetFlag(FLAGS_region);
  const bool code = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
  return code ? "regions/" + value : value;
}

using linli::cli::Fail;
using linli::cli::Json;

int Health() {
  struct Target {
    const char* label;
    std::string address;
    const char* service;
    const char* peer;  // the backend's platform identity; null for the public gateway
  };
  const Target targets[] = {
      {"gateway", absl::GetFlag(FLAGS_gateway), "linli.gateway.v1.ConsoleService", nullptr},
      {"registry", absl::GetFlag(FLAGS_registry_address), "linli.registry.v1.RegistryService",
       "linli-registry"},
      {"scheduling", absl::GetFlag(FLAGS_scheduling_address),
       "linli.scheduling.v1.SchedulingService", "linli-scheduling"},
      {"feedback", absl::GetFlag(FLAGS_feedback_address), "linli.feedback.v1.FeedbackService",
       "linli-feedback"},
  };
  int failures = 0;
  for (const Target& t : targets) {
    auto channel = t.peer == nullptr ? linli::NewChannel(t.address, {})
                                     : linli::cli::BackendChannel(t.address, t.peer, t.service);
    auto health = linli::CheckHealth(*channel, t.service, absl::Seconds(3));
    auto services = linli::ListServices(*channel, absl::Seconds(3));
    bool serving = health.ok() && *health == linli::HealthStatus::kServing;
    if (!serving) ++failures;
    std::printf("%-10s %-16s %-12s %s\n", t.label, t.address.c_str(),
                serving ? "SERVING" : (health.ok() ? "NOT_SERVING" : "UNREACHABLE"),
                services.ok() ? absl::StrJoin(*services, " ").c_str() : "");
  }
  return failures == 0 ? 0 : 1;
}

int ListRegions() {
  auto stub = ConsoleService::NewStub(linli::cli::GatewayChannel(absl::GetFlag(FLAGS_gateway)));
  linli::gateway::v1::ListRegionsRequest request;
  request.set_parent(absl::GetFlag(FLAGS_parent));
  do {
    linli::gateway::v1::ListRegionsResponse response;
    grpc::Status status = stub->ListRegions(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& region : response.regions()) {
      std::printf("%-22s %-14s %s\n", region.name().c_str(),
                  linli::registry::v1::RegionLevel_Name(region.level()).substr(13).c_str(),
                  region.display_name().c_str());
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return 0;
}

int GetRegion(const std::string& name) {
  auto stub = ConsoleService::NewStub(linli::cli::GatewayChannel(absl::GetFlag(FLAGS_gateway)));
  linli::gateway::v1::GetRegionRequest request;
  request.set_name(name);
  linli::gateway::v1::GetRegionResponse response;
  grpc::Status status = stub->GetRegion(Context().get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s\n", Json(response.region()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = linli::ParseFlags(argc, argv, kUsage);
  std::vector<std::string> words(args.begin() + 1, args.end());
  // The CLI's one reading of the wall clock; commands take it injected.
  const linli::Clock& clock = linli::Clock::Real();
  linli::cli::SetBackendClock(clock);
  if (words == std::vector<std::string>{"health"}) return Health();
  const linli::cli::Endpoints endpoints{
      absl::GetFlag(FLAGS_gateway), absl::GetFlag(FLAGS_registry_address),
      absl::GetFlag(FLAGS_scheduling_address), absl::GetFlag(FLAGS_timeout)};
  if (words == std::vector<std::string>{"keygen"}) return linli::cli::Keygen();
  if (words == std::vector<std::string>{"token"}) {
    if (absl::GetFlag(FLAGS_new_keys)) return linli::cli::TokenKeygen();
    if (!absl::GetFlag(FLAGS_api_key).empty()) {
      return linli::cli::ApiKey(absl::GetFlag(FLAGS_api_key), absl::GetFlag(FLAGS_organisation),
                                absl::GetFlag(FLAGS_region), absl::GetFlag(FLAGS_scopes),
                                absl::GetFlag(FLAGS_partner), absl::GetFlag(FLAGS_pepper_file));
    }
    return linli::cli::Token({absl::GetFlag(FLAGS_token_keys), absl::GetFlag(FLAGS_role),
                              absl::GetFlag(FLAGS_region), absl::GetFlag(FLAGS_subject),
                              absl::GetFlag(FLAGS_elder), absl::GetFlag(FLAGS_token_issuer),
                              absl::GetFlag(FLAGS_token_audience), absl::GetFlag(FLAGS_ttl)},
                             clock);
  }
  if (words == std::vector<std::string>{"seed-demo"}) {
    return linli::cli::SeedDemo(
        endpoints,
        {absl::GetFlag(FLAGS_demo_elders), absl::GetFlag(FLAGS_seed_parallelism),
         absl::GetFlag(FLAGS_demo_week), absl::GetFlag(FLAGS_feedback_address)},
        clock);
  }
  if (words == std::vector<std::string>{"map"}) {
    return linli::cli::Map(endpoints, RegionFlag(), absl::GetFlag(FLAGS_format),
                           absl::GetFlag(FLAGS_out));
  }
  if (words == std::vector<std::string>{"providers"}) {
    return linli::cli::Providers(endpoints, absl::GetFlag(FLAGS_elder),
                                 absl::GetFlag(FLAGS_service));
  }
  if (words == std::vector<std::string>{"orgs", "list"}) {
    return linli::cli::ListOrganisations(endpoints, RegionFlag());
  }
  if (words == std::vector<std::string>{"elders", "list"}) {
    return linli::cli::ListElders(endpoints, RegionFlag());
  }
  if (words.size() == 3 && words[0] == "elders" && words[1] == "get") {
    return linli::cli::GetElder(endpoints, words[2], absl::GetFlag(FLAGS_reason));
  }
  if (words == std::vector<std::string>{"commitments"}) {
    return linli::cli::ListCommitments(endpoints, absl::GetFlag(FLAGS_elder));
  }
  if (words == std::vector<std::string>{"visits"}) {
    return linli::cli::ListVisits(endpoints, absl::GetFlag(FLAGS_elder), absl::GetFlag(FLAGS_from),
                                  absl::GetFlag(FLAGS_days));
  }
  if (words == std::vector<std::string>{"plan"}) {
    return linli::cli::Plan(endpoints, RegionFlag(), absl::GetFlag(FLAGS_from),
                            absl::GetFlag(FLAGS_days), absl::GetFlag(FLAGS_time_limit),
                            absl::GetFlag(FLAGS_dry_run), absl::GetFlag(FLAGS_problem_dir));
  }
  if (words == std::vector<std::string>{"audit"}) {
    return linli::cli::Audit(endpoints, absl::GetFlag(FLAGS_elder));
  }
  if (words == std::vector<std::string>{"report"}) {
    return linli::cli::Report(absl::GetFlag(FLAGS_feedback_address), absl::GetFlag(FLAGS_timeout),
                              absl::GetFlag(FLAGS_org), absl::GetFlag(FLAGS_from),
                              absl::GetFlag(FLAGS_to), absl::GetFlag(FLAGS_out));
  }
  if (words == std::vector<std::string>{"alerts"}) {
    return linli::cli::Alerts(absl::GetFlag(FLAGS_feedback_address), absl::GetFlag(FLAGS_timeout),
                              RegionFlag());
  }
  if (words == std::vector<std::string>{"notices"}) {
    const std::string elder = absl::GetFlag(FLAGS_elder);
    return linli::cli::Notices(endpoints, elder.empty() ? RegionFlag() : elder,
                               absl::GetFlag(FLAGS_follow));
  }
  if (words == std::vector<std::string>{"notices", "unreached"}) {
    return linli::cli::UnreachedElders(endpoints, RegionFlag(), absl::GetFlag(FLAGS_minutes));
  }
  if (words == std::vector<std::string>{"notices", "read"}) {
    const std::string elder = absl::GetFlag(FLAGS_elder);
    return linli::cli::MarkAllNoticesRead(endpoints, elder.empty() ? RegionFlag() : elder);
  }
  if (words == std::vector<std::string>{"webhook", "create"}) {
    return linli::cli::CreateWebhook(
        endpoints, absl::GetFlag(FLAGS_recipient), absl::GetFlag(FLAGS_url),
        absl::GetFlag(FLAGS_elders_of_region), absl::GetFlag(FLAGS_deliver_phone));
  }
  if (words == std::vector<std::string>{"webhook", "deliveries"}) {
    return linli::cli::WebhookDeliveries(endpoints, absl::GetFlag(FLAGS_recipient));
  }
  if (words == std::vector<std::string>{"webhook", "serve"}) {
    return linli::cli::ServeWebhook(absl::GetFlag(FLAGS_port), absl::GetFlag(FLAGS_secret), clock);
  }
  if (words == std::vector<std::string>{"promises"}) {
    return linli::cli::Promises(absl::GetFlag(FLAGS_feedback_address), absl::GetFlag(FLAGS_timeout),
                                RegionFlag(), absl::GetFlag(FLAGS_days));
  }
  if (words.size() == 2 && words[0] == "fallback") {
    return linli::cli::ProposeFallback(endpoints, words[1], absl::GetFlag(FLAGS_always));
  }
  if (words.size() == 2 && words[0] == "refer") {
    return linli::cli::CreateReferral(endpoints, words[1], absl::GetFlag(FLAGS_offering),
                                      absl::GetFlag(FLAGS_code), absl::GetFlag(FLAGS_hours));
  }
  if (words == std::vector<std::string>{"needs"}) {
    return linli::cli::UnmetNeeds(endpoints, RegionFlag());
  }
  if (words == std::vector<std::string>{"referrals"}) {
    return linli::cli::ListReferrals(endpoints, RegionFlag());
  }
  if (words.size() == 3 && words[0] == "referral" && words[1] == "withdraw") {
    return linli::cli::WithdrawReferral(endpoints, words[2]);
  }
  if (words == std::vector<std::string>{"reviews"}) {
    return linli::cli::Reviews(endpoints, RegionFlag());
  }
  if (words.size() == 2 && words[0] == "review") {
    return linli::cli::ReviewVisit(endpoints, words[1], absl::GetFlag(FLAGS_decision),
                                   absl::GetFlag(FLAGS_code), absl::GetFlag(FLAGS_note));
  }
  if (words == std::vector<std::string>{"street"}) {
    return linli::cli::Street(endpoints, RegionFlag(), absl::GetFlag(FLAGS_date));
  }
  if (words == std::vector<std::string>{"words"}) {
    return linli::cli::ElderWords(endpoints, RegionFlag(), absl::GetFlag(FLAGS_elder),
                                  absl::GetFlag(FLAGS_days), absl::GetFlag(FLAGS_reason));
  }
  if (words == std::vector<std::string>{"heard"}) {
    return linli::cli::AwaitingAnswers(absl::GetFlag(FLAGS_feedback_address),
                                       absl::GetFlag(FLAGS_timeout), RegionFlag(),
                                       absl::GetFlag(FLAGS_days));
  }
  if (words.size() == 2 && words[0] == "update") {
    return linli::cli::UpdateRecord(endpoints, words[1], absl::GetFlag(FLAGS_json),
                                    absl::GetFlag(FLAGS_etag), absl::GetFlag(FLAGS_reason),
                                    absl::GetFlag(FLAGS_org));
  }
  if (words.size() == 2 && words[0] == "consent") {
    return linli::cli::RecordConsent(endpoints, words[1], absl::GetFlag(FLAGS_purpose),
                                     absl::GetFlag(FLAGS_decision), absl::GetFlag(FLAGS_reason));
  }
  if (words.size() == 2 && words[0] == "retire") {
    return linli::cli::Retire(endpoints, words[1], absl::GetFlag(FLAGS_status),
                              absl::GetFlag(FLAGS_date), absl::GetFlag(FLAGS_reason),
                              absl::GetFlag(FLAGS_etag), absl::GetFlag(FLAGS_org));
  }
  if (words.size() == 3 && words[0] == "import" && words[1] == "template") {
    return linli::cli::ImportTemplate(words[2]);
  }
  if (words.size() == 2 && words[0] == "import") {
    return linli::cli::Import(endpoints, words[1], absl::GetFlag(FLAGS_file),
                              absl::GetFlag(FLAGS_dry_run), absl::GetFlag(FLAGS_skip_bad_rows),
                              absl::GetFlag(FLAGS_chunk_rows));
  }
  if (words.size() == 2 && words[0] == "export") {
    return linli::cli::Export(endpoints, words[1], RegionFlag(), absl::GetFlag(FLAGS_org),
                              absl::GetFlag(FLAGS_out));
  }
  if (words.size() == 2 && words[0] == "trend") {
    return linli::cli::PerceptionTrend(absl::GetFlag(FLAGS_feedback_address),
                                       absl::GetFlag(FLAGS_timeout), words[1],
                                       absl::GetFlag(FLAGS_weeks));
  }
  if (words.size() == 2 && words[0] == "index") {
    return linli::cli::PerceptionIndex(absl::GetFlag(FLAGS_feedback_address),
                                       absl::GetFlag(FLAGS_timeout), words[1],
                                       absl::GetFlag(FLAGS_window));
  }
  if (words == std::vector<std::string>{"regions", "list"}) return ListRegions();
  if (words.size() == 3 && words[0] == "regions" && words[1] == "get") return GetRegion(words[2]);
  std::fputs(kUsage, stderr);
  return 2;
}
