// The `linli` commands: demo seeding, the map, provider search, organisations, elders, the audit
// log, commitments and visits. Each returns the process exit code.
#ifndef LINLI_TOOLS_COMMANDS_H_
#define LINLI_TOOLS_COMMANDS_H_

#include <string>

#include <memory>

#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/channel.h"
#include "linli/gateway/v1/console.grpc.pb.h"

namespace linli::cli {

struct Endpoints {
  std::string gateway;
  std::string registry;
  std::string scheduling;
  absl::Duration timeout;
};

int Keygen();

// `linli token`: a development access token for the gateway, signed HS256 with the first key of
// `keys_file` (the key set `make run` writes to var/jwt-keys.json). `role` is one of elder,
// family, worker, committee_staff, street_staff, admin; `region` a region code (or
// regions/CODE); `subject` the principal ("elders/ID" for an elder, "workers/ID" for a worker);
// `elder` the elder a family member acts for. Prints the token.
struct TokenOptions {
  std::string keys_file;
  std::string role;
  std::string region;
  std::string subject;
  std::string elder;
  std::string issuer;
  std::string audience;
  absl::Duration ttl;
};
int Token(const TokenOptions& options, const Clock& clock);
// `linli token --new_keys`: prints a new development key set (one random HS256 key).
int TokenKeygen();
// `linli token --api_key ID --organisation organisations/X --scopes a,b [--partner P]
// --pepper_file F`: prints a new partner API key, and on stderr the line to add to the gateway's
// --api_keys_file.
int ApiKey(const std::string& key_id, const std::string& organisation, const std::string& region,
           const std::string& scopes, const std::string& partner, const std::string& pepper_file);

// Called once by main: backend channels (BackendChannel) read the time from `clock`.
void SetBackendClock(const Clock& clock);
// A channel to a backend called directly (`peer`: "linli-registry", "linli-scheduling",
// "linli-feedback"), with the operator's platform identity from --internal_ca_file,
// --internal_cert_file and --internal_key_file (LINLI_INTERNAL_*; `make run` prints them), or
// plaintext with --insecure_internal. Exits with status 2 and a message when neither is set.
std::shared_ptr<grpc::Channel> BackendChannel(const std::string& address, const std::string& peer,
                                              const std::string& service);
// A channel to the gateway; calls on it carry "authorization: Bearer $LINLI_TOKEN" when that
// environment variable is set (mint one with `linli token`).
std::shared_ptr<grpc::Channel> GatewayChannel(const std::string& address);
// The console on the gateway at e.gateway (over GatewayChannel).
std::unique_ptr<gateway::v1::ConsoleService::Stub> Console(const Endpoints& e);
// `linli seed-demo`: loads the demo street (once) with its promises, and materialises the visits
// of the demo's two weeks (every time, idempotently). `week` empty: the street lives in the week
// of today on `clock` (Asia/Shanghai), its promises valid from today; `week` a date: pinned to
// the week holding it (reproducible figures).
struct DemoOptions {
  int elders = 25000;
  int parallelism = 8;
  std::string week;
  // linli-feedback, which takes the demo street's past answers.
  std::string feedback_address = "127.0.0.1:50053";
};
int SeedDemo(const Endpoints& endpoints, const DemoOptions& options, const Clock& clock);
int Map(const Endpoints& endpoints, const std::string& region, const std::string& format,
        const std::string& out);
int Providers(const Endpoints& endpoints, const std::string& elder, const std::string& service);
int ListOrganisations(const Endpoints& endpoints, const std::string& region);
int ListElders(const Endpoints& endpoints, const std::string& region);
int GetElder(const Endpoints& endpoints, const std::string& name, const std::string& reason);
int Audit(const Endpoints& endpoints, const std::string& elder);
int ListCommitments(const Endpoints& endpoints, const std::string& elder);
int ListVisits(const Endpoints& endpoints, const std::string& elder, const std::string& from,
               int days);
// Plans and books a period day by day through scheduling's Plan, showing progress per day;
// with `problem_dir`, writes each day's planning problem there (for `linli-plan --problem`).
int Plan(const Endpoints& endpoints, const std::string& region, const std::string& from, int days,
         double time_limit_seconds, bool dry_run, const std::string& problem_dir);

// Feedback commands call linli-feedback directly at `feedback_address`.
// The evaluation report of a provider: HTML (or JSON when `out` ends in .json) to `out`.
int Report(const std::string& feedback_address, absl::Duration timeout, const std::string& org,
           const std::string& from, const std::string& to, const std::string& out);
// Whether `commitment`'s owner can cover it and, when not (or `always`), other providers of the
// service near the elder, through the gateway (JSON).
int ProposeFallback(const Endpoints& e, const std::string& commitment, bool always);
// Referrals through the gateway: send one (--code the reason, e.g. owner_no_capacity), list a
// region's, take one back.
int CreateReferral(const Endpoints& e, const std::string& commitment, const std::string& offering,
                   const std::string& code, int hours);
int ListReferrals(const Endpoints& e, const std::string& region);
int WithdrawReferral(const Endpoints& e, const std::string& referral);
// The recorded needs of a region's elders that no promise covers, per committee (gateway).
int UnmetNeeds(const Endpoints& e, const std::string& region);
// The street's day in one screen, through the gateway: the day board of `region` ("" = the
// caller's own) for `date` ("" = today), the week's promises and the open alerts.
int Street(const Endpoints& e, const std::string& region, const std::string& date);
// The exception review queue of `region` ("" = the caller's own), through the gateway.
int Reviews(const Endpoints& e, const std::string& region);
// Approves or rejects (`decision` "approve" or "reject") the visit with reason `code`.
int ReviewVisit(const Endpoints& e, const std::string& visit, const std::string& decision,
                const std::string& code, const std::string& note);
// What elders said (answers with words) about the visits of a committee or street, or of one
// elder, over the last `days` days, newest first, through the gateway (each read audited with
// `reason`).
int ElderWords(const Endpoints& e, const std::string& region, const std::string& elder, int days,
               const std::string& reason);
// The visits of a committee or street awaiting the elder's answer over the last `days` days, most
// in need of a call first.
int AwaitingAnswers(const std::string& feedback_address, absl::Duration timeout,
                    const std::string& region, int days);
// The promises of a committee or street over the last `days` days, worst first, and the count
// of each state.
int Promises(const std::string& feedback_address, absl::Duration timeout, const std::string& region,
             int days);
// The perception index of `subject` over the last `weeks` weeks, a line per week.
int PerceptionTrend(const std::string& feedback_address, absl::Duration timeout,
                    const std::string& subject, int weeks);
// The safety-net alerts of a committee or street.
int Alerts(const std::string& feedback_address, absl::Duration timeout, const std::string& region);
// `linli notices`: the recipient's latest notices (elders/ID, regions/CODE, organisations/ID)
// through the gateway; `follow`: then each new one as it is raised, until interrupted.
int Notices(const Endpoints& e, const std::string& recipient, bool follow);
// `linli notices unreached`: the call list of a committee or street, the elders whose notices
// nobody opened for `minutes` (0: an hour), every page.
int UnreachedElders(const Endpoints& e, const std::string& region, int minutes);
// `linli notices read`: marks every notice of the recipient read (as the caller: for an elder,
// the staff member who told them).
int MarkAllNoticesRead(const Endpoints& e, const std::string& recipient);
// `linli webhook create`: a webhook of `recipient` (street staff); prints the signing secret.
int CreateWebhook(const Endpoints& e, const std::string& recipient, const std::string& url,
                  bool elders_of_region, bool deliver_phone);
// `linli webhook deliveries`: the delivery log of the recipient's webhooks, newest first.
int WebhookDeliveries(const Endpoints& e, const std::string& recipient);
// `linli webhook serve`: a receiver on 127.0.0.1:`port` for development that verifies each
// delivery's signature with `secret` and prints the notice (401 for a bad signature).
int ServeWebhook(int port, const std::string& secret, const Clock& clock);
// Perception index (and, for an elder or commitment, the promise ledger) of a subject.
int PerceptionIndex(const std::string& feedback_address, absl::Duration timeout,
                    const std::string& subject, int window_days);

// `linli update NAME --json '{...}' [--reason TEXT] [--etag E]`: changes the fields the JSON
// object names (proto JSON) of an elder, organisation or worker through the console; elders need
// a reason (audited). Without --etag the record is read first (a worker through the list of
// --org, their organisation). Prints the record as stored now.
int UpdateRecord(const Endpoints& e, const std::string& name, const std::string& json,
                 const std::string& etag, const std::string& reason,
                 const std::string& organisation);
// `linli consent ELDER --purpose P --decision grant|withdraw --reason TEXT`.
int RecordConsent(const Endpoints& e, const std::string& elder, const std::string& purpose,
                  const std::string& decision, const std::string& reason);
// `linli retire NAME --reason TEXT [--status deceased|moved --date D] [--org O]`: an elder who
// died or moved away (their promises closed), an organisation, or a relation or offering of the
// organisation --org.
int Retire(const Endpoints& e, const std::string& name, const std::string& status_word,
           const std::string& date, const std::string& reason, const std::string& etag,
           const std::string& organisation);

// `linli export KIND [--region R] [--org O] [--out F.csv|F.xlsx]`: the roster as the caller sees
// it (masked), made by ConsoleService.ExportRoster, as CSV (stdout without --out) or as an Excel
// workbook when --out ends in .xlsx. Workers: of --org, or of every organisation of R.
int Export(const Endpoints& e, const std::string& kind, const std::string& region,
           const std::string& organisation, const std::string& out);

// `linli import template KIND`: the header row and an example row of a roster (elders), as CSV
// with a BOM for Excel.
int ImportTemplate(const std::string& kind);

// `linli import KIND --file F.csv [--dry_run] [--skip_bad_rows]`: the roster through the console's
// ImportRoster in chunks of `chunk_rows` rows. Every row is checked first (a dry run over the
// whole file, with progress) and the problems printed by line and column in Chinese and
// English; nothing is written if any row is bad unless --skip_bad_rows. Exit 1 when a row was
// refused.
int Import(const Endpoints& e, const std::string& kind, const std::string& file, bool dry_run,
           bool skip_bad_rows, int chunk_rows);

}  // namespace linli::cli

#endif  // LINLI_TOOLS_COMMANDS_H_
