// Load generator: a realistic mix through the public gateway, in gRPC AND Connect JSON, from N
// concurrent clients for D seconds; prints throughput, p50/p99 latency and errors per operation
// and per protocol (a program that prints figures, not a test).
//
//   build/bin/linli-load [--clients 8] [--seconds 20] [--elders 200] [--days 14] [--db sqlite]
//       starts linli-registry, -scheduling, -feedback and -gateway itself on loopback ports with
//       fresh SQLite databases (--db mysql: fresh databases on LINLI_TEST_MYSQL_URL), seeds a
//       street and drives it; the processes' logs stay in the printed work directory.
//   build/bin/linli-load --external --gateway_address 127.0.0.1:50050
//       --http_address 127.0.0.1:8080 --registry_address 127.0.0.1:50051
//       --scheduling_address 127.0.0.1:50052 --jwt_keys_file var/jwt-keys.json   (one line)
//       drives services that are already running (`make run`): seeds its own small street with
//       fresh codes through the backends, signs tokens with the first HS256 key of the gateway's
//       key set. The gateway's per-principal rate limit applies (raise --rate_limit_per_second).
//
// The mix (each call picks gRPC or JSON at random, half and half):
//   elder_page    30%  ElderAppService/GetElderPage as the elder (three backends behind it)
//   worker_route  20%  WorkerAppService/ListMyVisits (the route of bookings) for a day, as a worker
//   check_in      10%  WorkerAppService/CheckIn of the next unvisited visit, as its worker,
//   check_out     10%  ... and CheckOut of it right after (the pair counts as two operations)
//   feedback      10%  ElderAppService/SubmitVisitFeedback on a visit completed > 2 s before
//                      (feedback learns of it from scheduling's events); when none is ready yet
//                      an elder page is read instead
//   console_list  20%  ConsoleService/ListElders of the committee and ListVisits of an elder for
//                      a week, as committee staff
// Ends with SUMMARY lines for `make bench` (scripts/bench.sh).
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/flags.h"
#include "common/pii/field_cipher.h"
#include "google/protobuf/util/json_util.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/gateway/v1/elder_app.grpc.pb.h"
#include "linli/gateway/v1/worker_app.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

ABSL_FLAG(int, clients, 8, "Concurrent clients.");
ABSL_FLAG(int, seconds, 20, "Seconds of load.");
ABSL_FLAG(int, elders, 300, "Elders seeded (each with a daily promise).");
ABSL_FLAG(int, workers, 20, "Workers seeded (each the preferred worker of elders/workers).");
ABSL_FLAG(int, days, 2,
          "Days of visits materialised from today (check-ins use them up; the worker app accepts "
          "visits from yesterday to tomorrow).");
ABSL_FLAG(std::string, db, "sqlite",
          "Self-started services: sqlite or mysql (LINLI_TEST_MYSQL_URL).");
ABSL_FLAG(bool, external, false, "Drive running services (the address flags) instead.");
ABSL_FLAG(std::string, gateway_address, "127.0.0.1:50050", "--external: gateway gRPC address.");
ABSL_FLAG(std::string, http_address, "127.0.0.1:8080", "--external: gateway JSON host:port.");
ABSL_FLAG(std::string, registry_address, "127.0.0.1:50051", "--external: registry (seeding).");
ABSL_FLAG(std::string, scheduling_address, "127.0.0.1:50052", "--external: scheduling (seeding).");
ABSL_FLAG(std::string, jwt_keys_file, "var/jwt-keys.json", "--external: the gateway's key set.");
ABSL_FLAG(std::string, jwt_issuer, "linli-dev", "--external: the gateway's --jwt_issuer.");

namespace linli {
namespace {

const char* const kOps[] = {"elder_page", "worker_route", "check_in",
                            "check_out",  "feedback",     "console_list"};
constexpr int kOpCount = 6;
enum Op { kElderPage, kWorkerRoute, kCheckIn, kCheckOut, kFeedback, kConsoleList };

// Latencies and errors of one (operation, protocol), per client then merged.
struct Stats {
  std::vector<double> ms;
  int64_t errors = 0;
  std::map<std::string, int64_t> error_kinds;
};

struct ClientStats {
  Stats s[kOpCount][2];
};

struct Target {
  std::string gateway_address, http_host;
  int http_port = 0;
  std::string registry_address, scheduling_address;
  std::optional<auth::JwtKey> key;
  std::string issuer = "linli-dev";
};

struct Promise {
  std::string elder, worker, commitment;
};

// What the clients share: the seeded promises, the visits not yet checked in, the visits done.
struct World {
  std::string committee;  // "regions/..."
  std::vector<Promise> promises;
  std::mutex mu;
  std::deque<std::pair<size_t, std::string>> open_visits;  // (promise index, visit)
  std::deque<std::tuple<absl::Time, size_t, std::string>> completed;
  std::atomic<int64_t> exhausted{0};
};

std::string Today(absl::Duration plus = absl::ZeroDuration()) {
  return absl::FormatTime("%Y-%m-%d", absl::Now() + plus, absl::FixedTimeZone(8 * 3600));
}

std::string Sign(const Target& t, nlohmann::json claims) {
  claims["iss"] = t.issuer;
  claims["aud"] = "linli-gateway";
  claims["iat"] = absl::ToUnixSeconds(absl::Now());
  claims["exp"] = absl::ToUnixSeconds(absl::Now()) + 3600;
  return *auth::SignJwt(*t.key, claims);
}

#define SEED_OK(expr, what)                                                     \
  do {                                                                          \
    grpc::Status s_ = (expr);                                                   \
    if (!s_.ok()) {                                                             \
      return absl::InternalError(absl::StrCat(what, ": ", s_.error_message())); \
    }                                                                           \
  } while (0)

// A street with fresh codes (unique per run, so --external can seed again), `elders` elders
// with a daily promise each, `workers` workers, and the visits of `days` days.
absl::Status Seed(const Target& t, World& world) {
  auto registry = registry::v1::RegistryService::NewStub(
      testing::PlatformPki::Shared().Channel(t.registry_address, "linli-registry"));
  auto scheduling = scheduling::v1::SchedulingService::NewStub(
      testing::PlatformPki::Shared().Channel(t.scheduling_address, "linli-scheduling"));
  auto ctx = [] { return NewClientContext(nullptr, absl::Seconds(30)); };
  // A street code of our own: 3101010 + 2 random digits, committee 001; the parents may exist.
  std::mt19937 random(static_cast<uint32_t>(absl::ToUnixNanos(absl::Now())));
  const std::string street = absl::StrFormat("3101019%02d", static_cast<int>(random() % 100));
  const std::string suffix = absl::StrFormat("%06d", static_cast<int>(random() % 1000000));
  const std::tuple<std::string, std::string, registry::v1::RegionLevel, std::string> regions[] = {
      {"310000", "上海市", registry::v1::REGION_LEVEL_MUNICIPALITY, ""},
      {"310101", "黄浦区", registry::v1::REGION_LEVEL_DISTRICT, "regions/310000"},
      {street, "压测街道", registry::v1::REGION_LEVEL_STREET, "regions/310101"},
      {street + "001", "压测居民区", registry::v1::REGION_LEVEL_COMMITTEE, "regions/" + street}};
  for (const auto& [code, label, level, parent] : regions) {
    registry::v1::CreateRegionRequest q;
    q.mutable_region()->set_code(code);
    q.mutable_region()->set_display_name(label);
    q.mutable_region()->set_level(level);
    q.mutable_region()->set_parent(parent);
    registry::v1::CreateRegionResponse a;
    grpc::Status s = registry->CreateRegion(ctx().get(), q, &a);
    if (!s.ok() && s.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
      return absl::InternalError(absl::StrCat("CreateRegion ", code, ": ", s.error_message()));
    }
  }
  world.committee = absl::StrCat("regions/", street, "001");
  const std::string org = "load" + suffix, type = "load" + suffix;
  {
    registry::v1::CreateOrganisationRequest q;
    q.mutable_organisation()->set_id(org);
    q.mutable_organisation()->set_display_name("压测社工服务社");
    q.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
    q.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
    q.mutable_organisation()->set_region("regions/" + street);
    registry::v1::CreateOrganisationResponse a;
    SEED_OK(registry->CreateOrganisation(ctx().get(), q, &a), "CreateOrganisation");
    registry::v1::CreateServiceTypeRequest st;
    st.mutable_service_type()->set_code(type);
    st.mutable_service_type()->set_display_name("探访");
    registry::v1::CreateServiceTypeResponse sa;
    SEED_OK(registry->CreateServiceType(ctx().get(), st, &sa), "CreateServiceType");
  }
  std::vector<std::string> workers;
  for (int i = 0; i < absl::GetFlag(FLAGS_workers); ++i) {
    registry::v1::CreateWorkerRequest q;
    q.mutable_worker()->set_display_name(absl::StrCat("护理员", i));
    q.mutable_worker()->set_organisation("organisations/" + org);
    registry::v1::CreateWorkerResponse a;
    SEED_OK(registry->CreateWorker(ctx().get(), q, &a), "CreateWorker");
    workers.push_back(a.worker().name());
  }
  const int elders = absl::GetFlag(FLAGS_elders);
  for (int i = 0; i < elders; ++i) {
    registry::v1::CreateElderRequest q;
    q.mutable_elder()->set_display_name(absl::StrCat("老人", i));
    q.mutable_elder()->set_region(world.committee);
    q.mutable_elder()->set_address(absl::StrCat("上海市黄浦区压测路", i, "号"));
    q.mutable_elder()->mutable_location()->set_latitude(31.2 + i * 1e-5);
    q.mutable_elder()->mutable_location()->set_longitude(121.48);
    registry::v1::Consent* consent = q.mutable_elder()->add_consents();
    consent->set_purpose(registry::v1::CONSENT_PURPOSE_PERSONAL_DATA);
    consent->set_granted(true);
    consent->set_recorded_by("staff/load");
    registry::v1::CreateElderResponse a;
    SEED_OK(registry->CreateElder(ctx().get(), q, &a), "CreateElder");
    Promise p{a.elder().name(), workers[static_cast<size_t>(i) % workers.size()], ""};
    scheduling::v1::CreateCommitmentRequest c;
    c.mutable_commitment()->set_elder(p.elder);
    c.mutable_commitment()->set_service_type("serviceTypes/" + type);
    c.mutable_commitment()->set_owner_organisation("organisations/" + org);
    c.mutable_commitment()->set_valid_from(Today());
    c.mutable_commitment()->set_care_grade(6);  // daily, one hour
    c.mutable_commitment()->set_preferred_worker(p.worker);
    scheduling::v1::CreateCommitmentResponse ca;
    SEED_OK(scheduling->CreateCommitment(ctx().get(), c, &ca), "CreateCommitment");
    p.commitment = ca.commitment().name();
    world.promises.push_back(p);
    if (i % 50 == 49) std::fprintf(stderr, "\rseeding: %d/%d elders", i + 1, elders);
  }
  std::fprintf(stderr, "\n");
  scheduling::v1::MaterializeVisitsRequest m;
  m.set_from_date(Today());
  m.set_days(absl::GetFlag(FLAGS_days));
  scheduling::v1::MaterializeVisitsResponse ma;
  SEED_OK(
      scheduling->MaterializeVisits(NewClientContext(nullptr, absl::Seconds(300)).get(), m, &ma),
      "MaterializeVisits");
  // The visits of each promise, day after day, interleaved across promises.
  std::vector<std::vector<std::string>> by_promise(world.promises.size());
  for (size_t i = 0; i < world.promises.size(); ++i) {
    std::string token;
    do {
      scheduling::v1::ListVisitsRequest q;
      q.set_commitment(world.promises[i].commitment);
      q.set_from_date(Today());
      q.set_to_date(Today(absl::Hours(24 * absl::GetFlag(FLAGS_days))));
      q.set_page_size(100);
      q.set_page_token(token);
      scheduling::v1::ListVisitsResponse a;
      SEED_OK(scheduling->ListVisits(ctx().get(), q, &a), "ListVisits");
      for (const auto& v : a.visits()) by_promise[i].push_back(v.name());
      token = a.next_page_token();
    } while (!token.empty());
  }
  for (size_t day = 0;; ++day) {
    bool any = false;
    for (size_t i = 0; i < by_promise.size(); ++i) {
      if (day < by_promise[i].size()) {
        world.open_visits.emplace_back(i, by_promise[i][day]);
        any = true;
      }
    }
    if (!any) break;
  }
  std::printf("seeded %zu elders with daily promises, %zu workers, %zu visits (committee %s)\n",
              world.promises.size(), workers.size(), world.open_visits.size(),
              world.committee.c_str());
  return absl::OkStatus();
}

// One client: its own gRPC channel and HTTP connection, its own random stream.
class Client {
 public:
  Client(const Target& t, World& world, int id)
      : t_(t),
        world_(world),
        random_(static_cast<uint32_t>(1000 + id)),
        channel_(NewChannel(t.gateway_address, {})),
        elder_app_(gateway::v1::ElderAppService::NewStub(channel_)),
        worker_app_(gateway::v1::WorkerAppService::NewStub(channel_)),
        console_(gateway::v1::ConsoleService::NewStub(channel_)),
        http_(t.http_host, t.http_port) {
    http_.set_keep_alive(true);
    http_.set_tcp_nodelay(true);
    http_.set_read_timeout(10, 0);
    staff_ = Sign(t, {{"sub", "staff/load"},
                      {"role", "committee_staff"},
                      {"region", world.committee.substr(std::string("regions/").size())}});
  }

  // Runs the mix until `end`; stats[op][protocol] (0 gRPC, 1 JSON).
  void Run(absl::Time end, Stats (&stats)[kOpCount][2]) {
    while (absl::Now() < end) {
      const int roll = static_cast<int>(random_() % 100);
      const int protocol = static_cast<int>(random_() % 2);
      const Promise& p = world_.promises[random_() % world_.promises.size()];
      if (roll < 30) {
        ElderPage(p, protocol, stats);
      } else if (roll < 50) {
        gateway::v1::ListMyVisitsRequest q;
        q.set_date(Today(absl::Hours(24 * static_cast<int>(random_() % 2))));
        gateway::v1::ListMyVisitsResponse a;
        Measure(kWorkerRoute, protocol, stats, q, &a, "WorkerAppService/ListMyVisits",
                WorkerToken(p.worker),
                [&](grpc::ClientContext* c) { return worker_app_->ListMyVisits(c, q, &a); });
      } else if (roll < 70) {
        CheckInAndOut(protocol, stats);
      } else if (roll < 80) {
        Feedback(protocol, stats);
      } else {
        Console(p, protocol, stats);
      }
    }
  }

 private:
  std::string WorkerToken(const std::string& worker) {
    auto it = tokens_.find(worker);
    if (it != tokens_.end()) return it->second;
    return tokens_[worker] = Sign(
               t_, {{"sub", worker}, {"role", "worker"}, {"region", world_.committee.substr(8)}});
  }
  std::string ElderToken(const std::string& elder) {
    auto it = tokens_.find(elder);
    if (it != tokens_.end()) return it->second;
    return tokens_[elder] = Sign(t_, {{"sub", elder}, {"role", "elder"}});
  }

  // Times one call over `protocol`: gRPC through `grpc_call`, or the request as JSON to
  // /linli.gateway.v1.<path>. Returns whether it succeeded.
  template <typename Request, typename Response, typename GrpcCall>
  bool Measure(int op, int protocol, Stats (&stats)[kOpCount][2], const Request& request,
               Response* response, const std::string& path, const std::string& token,
               GrpcCall grpc_call) {
    const absl::Time start = absl::Now();
    std::string error;
    if (protocol == 0) {
      auto context = NewClientContext(nullptr, absl::Seconds(10));
      context->AddMetadata("authorization", "Bearer " + token);
      grpc::Status s = grpc_call(context.get());
      if (!s.ok()) error = absl::StrCat("grpc ", s.error_code(), " ", s.error_message());
    } else {
      std::string body;
      (void)google::protobuf::util::MessageToJsonString(request, &body);
      auto result = http_.Post(("/linli.gateway.v1." + path).c_str(),
                               {{"Authorization", "Bearer " + token}}, body, "application/json");
      if (!result) {
        error = "http transport error";
      } else if (result->status != 200) {
        error = absl::StrCat("http ", result->status, " ", result->body.substr(0, 120));
      } else {
        google::protobuf::util::JsonParseOptions options;
        options.ignore_unknown_fields = true;
        if (!google::protobuf::util::JsonStringToMessage(result->body, response, options).ok()) {
          error = "unparsable JSON answer";
        }
      }
    }
    Stats& s = stats[op][protocol];
    s.ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    if (!error.empty()) {
      ++s.errors;
      ++s.error_kinds[error.substr(0, 72)];
    }
    return error.empty();
  }

  void ElderPage(const Promise& p, int protocol, Stats (&stats)[kOpCount][2]) {
    gateway::v1::GetElderPageRequest q;
    q.set_elder(p.elder);
    gateway::v1::GetElderPageResponse a;
    Measure(kElderPage, protocol, stats, q, &a, "ElderAppService/GetElderPage", ElderToken(p.elder),
            [&](grpc::ClientContext* c) { return elder_app_->GetElderPage(c, q, &a); });
  }

  void CheckInAndOut(int protocol, Stats (&stats)[kOpCount][2]) {
    std::pair<size_t, std::string> next;
    {
      std::lock_guard<std::mutex> lock(world_.mu);
      if (world_.open_visits.empty()) {
        world_.exhausted.fetch_add(1);
        next.second.clear();
      } else {
        next = world_.open_visits.front();
        world_.open_visits.pop_front();
      }
    }
    if (next.second.empty()) {  // every visit done: the worker looks at the route instead
      const Promise& p = world_.promises[random_() % world_.promises.size()];
      gateway::v1::ListMyVisitsRequest q;
      gateway::v1::ListMyVisitsResponse a;
      Measure(kWorkerRoute, protocol, stats, q, &a, "WorkerAppService/ListMyVisits",
              WorkerToken(p.worker),
              [&](grpc::ClientContext* c) { return worker_app_->ListMyVisits(c, q, &a); });
      return;
    }
    const Promise& p = world_.promises[next.first];
    const std::string token = WorkerToken(p.worker);
    gateway::v1::WorkerCheckInRequest in;
    in.set_commitment(p.commitment);
    in.set_visit(next.second);
    in.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
    in.mutable_location()->set_latitude(31.2);
    in.mutable_location()->set_longitude(121.48);
    gateway::v1::WorkerCheckInResponse in_answer;
    if (!Measure(kCheckIn, protocol, stats, in, &in_answer, "WorkerAppService/CheckIn", token,
                 [&](grpc::ClientContext* c) { return worker_app_->CheckIn(c, in, &in_answer); })) {
      return;
    }
    gateway::v1::WorkerCheckOutRequest out;
    out.set_commitment(p.commitment);
    out.set_visit(next.second);
    out.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
    *out.mutable_location() = in.location();
    gateway::v1::WorkerCheckOutResponse out_answer;
    if (Measure(
            kCheckOut, protocol, stats, out, &out_answer, "WorkerAppService/CheckOut", token,
            [&](grpc::ClientContext* c) { return worker_app_->CheckOut(c, out, &out_answer); })) {
      std::lock_guard<std::mutex> lock(world_.mu);
      world_.completed.emplace_back(absl::Now(), next.first, next.second);
    }
  }

  void Feedback(int protocol, Stats (&stats)[kOpCount][2]) {
    std::optional<std::pair<size_t, std::string>> done;
    {
      std::lock_guard<std::mutex> lock(world_.mu);
      if (!world_.completed.empty() &&
          std::get<0>(world_.completed.front()) < absl::Now() - absl::Seconds(2)) {
        done.emplace(std::get<1>(world_.completed.front()), std::get<2>(world_.completed.front()));
        world_.completed.pop_front();
      }
    }
    const Promise& p = world_.promises[done ? done->first : random_() % world_.promises.size()];
    if (!done) {
      ElderPage(p, protocol, stats);  // nothing to answer yet: the elder opens the app
      return;
    }
    gateway::v1::SubmitVisitFeedbackRequest q;
    q.set_elder(p.elder);
    q.set_visit(done->second);
    q.set_faces(1 + static_cast<int>(random_() % 5));
    q.set_did_as_promised(feedback::v1::ANSWER_YES);
    q.set_felt_cared_for(random_() % 2 ? feedback::v1::ANSWER_YES : feedback::v1::ANSWER_PARTLY);
    q.set_words("准时来了，很耐心");
    q.set_request_id("load-" + done->second.substr(done->second.find('/') + 1));
    gateway::v1::SubmitVisitFeedbackResponse a;
    Measure(kFeedback, protocol, stats, q, &a, "ElderAppService/SubmitVisitFeedback",
            ElderToken(p.elder),
            [&](grpc::ClientContext* c) { return elder_app_->SubmitVisitFeedback(c, q, &a); });
  }

  void Console(const Promise& p, int protocol, Stats (&stats)[kOpCount][2]) {
    if (random_() % 2 == 0) {
      registry::v1::ListEldersRequest q;
      q.set_region(world_.committee);
      q.set_page_size(20);
      registry::v1::ListEldersResponse a;
      Measure(kConsoleList, protocol, stats, q, &a, "ConsoleService/ListElders", staff_,
              [&](grpc::ClientContext* c) { return console_->ListElders(c, q, &a); });
    } else {
      scheduling::v1::ListVisitsRequest q;
      q.set_elder(p.elder);
      q.set_from_date(Today());
      q.set_to_date(Today(absl::Hours(24 * 7)));
      q.set_page_size(20);
      scheduling::v1::ListVisitsResponse a;
      Measure(kConsoleList, protocol, stats, q, &a, "ConsoleService/ListVisits", staff_,
              [&](grpc::ClientContext* c) { return console_->ListVisits(c, q, &a); });
    }
  }

  const Target& t_;
  World& world_;
  std::mt19937 random_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<gateway::v1::ElderAppService::Stub> elder_app_;
  std::unique_ptr<gateway::v1::WorkerAppService::Stub> worker_app_;
  std::unique_ptr<gateway::v1::ConsoleService::Stub> console_;
  httplib::Client http_;
  std::string staff_;
  std::map<std::string, std::string> tokens_;
};

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// The services of a self-started run, stopped (SIGKILL by ChildProcess) when this goes away.
std::vector<testing::ChildProcess> processes;

absl::Status StartServices(Target& t, const std::string& dir) {
  const std::string secret = "load-secret-0123456789abcdef01234567";
  std::ofstream(dir + "/pii.key") << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
  std::ofstream(dir + "/jwt-keys.json") << nlohmann::json{
      {"keys",
       {{{"kid", "load"},
         {"alg", "HS256"},
         {"k",
          auth::Base64UrlEncode(secret)}}}}}.dump();
  t.key = *auth::JwtKey::Hmac("load", secret);
  auto address = [] { return absl::StrCat("127.0.0.1:", testing::FreePort()); };
  t.registry_address = address();
  t.scheduling_address = address();
  const std::string feedback_address = address();
  t.gateway_address = address();
  t.http_host = "127.0.0.1";
  t.http_port = testing::FreePort();
  std::map<std::string, std::string> db;
  for (const char* name : {"registry", "scheduling", "feedback"}) {
    absl::StatusOr<std::string> url =
        testing::FreshDatabaseUrl(absl::GetFlag(FLAGS_db), absl::StrCat("load_", name));
    if (!url.ok()) return url.status();
    db[name] = *url;
  }
  const std::vector<std::pair<std::string, std::vector<std::string>>> services = {
      {"registry",
       {"--listen=" + t.registry_address, "--db=" + db["registry"],
        "--pii_key_file=" + dir + "/pii.key"}},
      {"scheduling",
       {"--listen=" + t.scheduling_address, "--db=" + db["scheduling"],
        "--registry_address=" + t.registry_address, "--pii_key_file=" + dir + "/pii.key"}},
      {"feedback",
       {"--listen=" + feedback_address, "--db=" + db["feedback"],
        "--registry_address=" + t.registry_address, "--scheduling_address=" + t.scheduling_address,
        "--poll_interval=200ms", "--pii_key_file=" + dir + "/pii.key"}},
      {"gateway",
       {"--listen=" + t.gateway_address, absl::StrCat("--http_listen=127.0.0.1:", t.http_port),
        "--registry_address=" + t.registry_address, "--scheduling_address=" + t.scheduling_address,
        "--feedback_address=" + feedback_address, "--jwt_keys_file=" + dir + "/jwt-keys.json",
        "--rate_limit_per_second=1000000", "--rate_limit_burst=1000000"}}};
  for (const auto& [name, args] : services) {
    absl::StatusOr<testing::ChildProcess> child = testing::ChildProcess::Start(
        absl::StrCat(LINLI_BIN_DIR, "/linli-", name), args, absl::StrCat(dir, "/", name, ".log"));
    if (!child.ok()) return child.status();
    processes.push_back(std::move(*child));
  }
  const std::pair<std::string, const char*> apis[] = {
      {t.registry_address, "linli.registry.v1.RegistryService"},
      {t.scheduling_address, "linli.scheduling.v1.SchedulingService"},
      {feedback_address, "linli.feedback.v1.FeedbackService"},
      {t.gateway_address, "linli.gateway.v1.ElderAppService"}};
  for (const auto& [a, api] : apis) {
    if (!testing::WaitServing(a, api, absl::Seconds(30))) {
      return absl::UnavailableError(absl::StrCat(api, " did not start; logs in ", dir));
    }
  }
  return absl::OkStatus();
}

absl::Status External(Target& t) {
  t.gateway_address = absl::GetFlag(FLAGS_gateway_address);
  const std::string http = absl::GetFlag(FLAGS_http_address);
  const size_t colon = http.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(http.substr(colon + 1), &t.http_port)) {
    return absl::InvalidArgumentError("--http_address must be host:port");
  }
  t.http_host = http.substr(0, colon);
  t.registry_address = absl::GetFlag(FLAGS_registry_address);
  t.scheduling_address = absl::GetFlag(FLAGS_scheduling_address);
  t.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  std::ifstream in(absl::GetFlag(FLAGS_jwt_keys_file));
  const nlohmann::json keys = nlohmann::json::parse(in, nullptr, false);
  if (!keys.is_object() || !keys.contains("keys")) {
    return absl::InvalidArgumentError("cannot read --jwt_keys_file");
  }
  for (const auto& key : keys["keys"]) {
    std::string secret;
    if (key.value("alg", "") == "HS256" && auth::Base64UrlDecode(key.value("k", ""), &secret)) {
      absl::StatusOr<auth::JwtKey> made = auth::JwtKey::Hmac(key.value("kid", ""), secret);
      if (!made.ok()) return made.status();
      t.key = *std::move(made);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("--jwt_keys_file has no HS256 key");
}

int Main() {
  Target target;
  std::string dir;
  absl::Status ready;
  if (absl::GetFlag(FLAGS_external)) {
    ready = External(target);
  } else {
    dir = testing::MakeTempDir("linli_load");
    ready = StartServices(target, dir);
  }
  World world;
  if (ready.ok()) ready = Seed(target, world);
  if (!ready.ok()) {
    std::fprintf(stderr, "linli-load: %s\n", ready.ToString().c_str());
    return 1;
  }
  const int clients = absl::GetFlag(FLAGS_clients);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  std::vector<std::unique_ptr<Client>> pool;
  for (int i = 0; i < clients; ++i) pool.push_back(std::make_unique<Client>(target, world, i));
  std::vector<ClientStats> raw(static_cast<size_t>(clients));
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] { pool[i]->Run(end, raw[i].s); });
  }
  for (auto& thread : threads) thread.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);

  Stats merged[kOpCount][2];
  for (int i = 0; i < clients; ++i) {
    for (int op = 0; op < kOpCount; ++op) {
      for (int p = 0; p < 2; ++p) {
        Stats& m = merged[op][p];
        m.ms.insert(m.ms.end(), raw[i].s[op][p].ms.begin(), raw[i].s[op][p].ms.end());
        m.errors += raw[i].s[op][p].errors;
        for (const auto& [kind, n] : raw[i].s[op][p].error_kinds) m.error_kinds[kind] += n;
      }
    }
  }
  std::printf("\nlinli-load: %d clients for %.1f s through the gateway (%s%s)\n", clients, elapsed,
              absl::GetFlag(FLAGS_external) ? "external services" : "self-started, ",
              absl::GetFlag(FLAGS_external) ? "" : absl::GetFlag(FLAGS_db).c_str());
  std::printf("%-14s %-5s %9s %10s %9s %9s %8s\n", "operation", "proto", "calls", "calls/s",
              "p50 ms", "p99 ms", "errors");
  int64_t total_calls = 0, total_errors = 0;
  std::vector<std::string> summary;
  for (int p = 0; p < 2; ++p) {
    int64_t calls = 0;
    std::vector<double> all;
    for (int op = 0; op < kOpCount; ++op) {
      Stats& s = merged[op][p];
      const int64_t n = static_cast<int64_t>(s.ms.size());
      calls += n;
      total_errors += s.errors;
      all.insert(all.end(), s.ms.begin(), s.ms.end());
      const double p50 = Percentile(s.ms, 0.5), p99 = Percentile(s.ms, 0.99);
      std::printf("%-14s %-5s %9lld %10.1f %9.2f %9.2f %8lld\n", kOps[op], p == 0 ? "grpc" : "json",
                  static_cast<long long>(n), static_cast<double>(n) / elapsed, p50, p99,
                  static_cast<long long>(s.errors));
      summary.push_back(absl::StrFormat("SUMMARY load.%s.%s.p99 %.2fms - info", kOps[op],
                                        p == 0 ? "grpc" : "json", p99));
    }
    total_calls += calls;
    const double p50 = Percentile(all, 0.5), p99 = Percentile(all, 0.99);
    std::printf("%-14s %-5s %9lld %10.1f %9.2f %9.2f\n", "all", p == 0 ? "grpc" : "json",
                static_cast<long long>(calls), static_cast<double>(calls) / elapsed, p50, p99);
    summary.push_back(absl::StrFormat("SUMMARY load.%s.calls_per_s %.0f - info",
                                      p == 0 ? "grpc" : "json",
                                      static_cast<double>(calls) / elapsed));
  }
  std::printf(
      "total %lld calls, %.1f calls/s, %lld errors; check-ins replaced by route reads (visits used "
      "up): "
      "%lld\n",
      static_cast<long long>(total_calls), static_cast<double>(total_calls) / elapsed,
      static_cast<long long>(total_errors), static_cast<long long>(world.exhausted.load()));
  for (int op = 0; op < kOpCount; ++op) {
    for (int p = 0; p < 2; ++p) {
      for (const auto& [kind, n] : merged[op][p].error_kinds) {
        std::printf("  error %s/%s x%lld: %s\n", kOps[op], p == 0 ? "grpc" : "json",
                    static_cast<long long>(n), kind.c_str());
      }
    }
  }
  if (!dir.empty()) std::printf("service logs in %s\n", dir.c_str());
  summary.push_back(absl::StrFormat("SUMMARY load.errors %lld =0 %s",
                                    static_cast<long long>(total_errors),
                                    total_errors == 0 ? "met" : "missed"));
  for (const std::string& line : summary) std::printf("%s\n", line.c_str());
  processes.clear();
  return 0;
}

}  // namespace
}  // namespace linli

int main(int argc, char** argv) {
  linli::ParseFlags(argc, argv,
                    "linli-load: a realistic mix through the gateway in gRPC and JSON "
                    "(see bench/linli_load.cc)");
  return linli::Main();
}
