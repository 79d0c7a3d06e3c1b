// A day in the life of a street, through the gateway only (issue 6, item 8): the four real
// binaries on loopback ports with SQLite, and the whole story told twice — once over gRPC and once
// over Connect-style JSON (POST /linli.gateway.v1.<Service>/<Method>) with the same Bearer tokens
// `linli token` mints.
//
//   a committee worker registers a solitary elder with consent, promises a weekly visit and plans
//   it; the worker app shows the visit, the worker checks in inside the geofence and out; the
//   elder gives feedback; the ledger and the index move; last week's visit, nobody came, is swept
//   as missed and the week of silence that follows raises an alert, which staff acknowledge and
//   resolve; the elder's complaint becomes a work order that is escalated when overdue, called
//   back and closed.
//
// The services run on the real clock. The story is made deterministic by dates, not by waiting:
// the promise starts a week ago (so last week's visit is in the past and today's is today), and
// the one thing that needs time to pass — a week without contact, a deadline overrun — is a
// safety-net sweep "as of" a later time, which only an admin may ask for (SweepAlerts.as_of).
// The periodic sweeps of scheduling and feedback are set to a day so they do not race the story.
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/auth/api_keys.h"
#include "common/auth/jwt.h"
#include "common/auth/webhook_signature.h"
#include "common/client.h"
#include "common/pii/field_cipher.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "gtest/gtest.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "linli/gateway/v1/console.pb.h"
#include "linli/gateway/v1/elder_app.grpc.pb.h"
#include "linli/gateway/v1/partner.pb.h"
#include "linli/gateway/v1/worker_app.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli {
namespace {

using google::protobuf::Message;
namespace reg = registry::v1;
namespace sch = scheduling::v1;
namespace fb = feedback::v1;
namespace gw = gateway::v1;

constexpr char kSecret[] = "day-in-the-life-secret-0123456789";
constexpr char kCommittee[] = "regions/310101020002";
// The elder's home; the worker checks in right there.
constexpr double kLat = 31.2102;
constexpr double kLng = 121.4930;

const absl::TimeZone& Shanghai() {
  static const absl::TimeZone* zone = new absl::TimeZone(absl::FixedTimeZone(8 * 3600));
  return *zone;
}

std::string Day(absl::CivilDay day) { return absl::FormatCivilTime(day); }

google::protobuf::Timestamp At(absl::Time t) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

// Connect error code names back to gRPC codes (the JSON path's error body).
grpc::StatusCode FromConnectCode(const std::string& name) {
  static const std::map<std::string, grpc::StatusCode> codes = {
      {"canceled", grpc::StatusCode::CANCELLED},
      {"unknown", grpc::StatusCode::UNKNOWN},
      {"invalid_argument", grpc::StatusCode::INVALID_ARGUMENT},
      {"deadline_exceeded", grpc::StatusCode::DEADLINE_EXCEEDED},
      {"not_found", grpc::StatusCode::NOT_FOUND},
      {"already_exists", grpc::StatusCode::ALREADY_EXISTS},
      {"permission_denied", grpc::StatusCode::PERMISSION_DENIED},
      {"resource_exhausted", grpc::StatusCode::RESOURCE_EXHAUSTED},
      {"failed_precondition", grpc::StatusCode::FAILED_PRECONDITION},
      {"aborted", grpc::StatusCode::ABORTED},
      {"out_of_range", grpc::StatusCode::OUT_OF_RANGE},
      {"unimplemented", grpc::StatusCode::UNIMPLEMENTED},
      {"internal", grpc::StatusCode::INTERNAL},
      {"unavailable", grpc::StatusCode::UNAVAILABLE},
      {"data_loss", grpc::StatusCode::DATA_LOSS},
      {"unauthenticated", grpc::StatusCode::UNAUTHENTICATED}};
  auto it = codes.find(name);
  return it == codes.end() ? grpc::StatusCode::UNKNOWN : it->second;
}

class DayInTheLifeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("day_in_the_life");
    const std::string key_file = dir_ + "/pii.key";
    std::ofstream(key_file) << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    const std::string jwt_keys = dir_ + "/jwt-keys.json";
    std::ofstream(jwt_keys) << nlohmann::json{{"keys",
                                               {{{"kid", "dev"},
                                                 {"alg", "HS256"},
                                                 {"k", auth::Base64UrlEncode(kSecret)}}}}}
                                   .dump();
    // Partner keys of two providers: the street's commercial care station, which a promise is
    // referred to, and the social organisation that owns the promises.
    std::ofstream(dir_ + "/pepper") << "day-in-the-life-pepper\n";
    {
      std::ofstream keys(dir_ + "/api-keys");
      for (const char* org : {"yangguang", "lelin"}) {
        const std::string id = absl::StrCat("day-", org);
        const std::string key = auth::NewApiKey(id);
        keys << auth::FormatApiKeyEntry(
                    {id,
                     absl::StrCat("organisations/", org),
                     "310101020",
                     {"referrals.read", "referrals.write", "visits.read", "visits.write",
                      "visits.review"},
                     auth::HashApiSecret("day-in-the-life-pepper", auth::ParseApiKey(key)->secret),
                     ""})
             << "\n";
        partner_key_[org] = key;
      }
    }
    for (const char* name : {"registry", "scheduling", "feedback", "gateway"}) {
      address_[name] = absl::StrCat("127.0.0.1:", testing::FreePort());
    }
    http_port_ = testing::FreePort();
    const std::map<std::string, std::vector<std::string>> flags = {
        {"registry", {"--pii_key_file=" + key_file}},
        {"scheduling",
         {"--registry_address=" + address_["registry"], "--sweep_interval=24h",
          "--pii_key_file=" + key_file}},
        {"feedback",
         {"--registry_address=" + address_["registry"],
          "--scheduling_address=" + address_["scheduling"], "--poll_interval=100ms",
          "--alert_interval=24h", "--pii_key_file=" + key_file}},
        {"gateway",
         {absl::StrCat("--http_listen=127.0.0.1:", http_port_),
          "--registry_address=" + address_["registry"],
          "--scheduling_address=" + address_["scheduling"],
          "--feedback_address=" + address_["feedback"], "--jwt_keys_file=" + jwt_keys,
          "--api_keys_file=" + dir_ + "/api-keys", "--api_key_pepper_file=" + dir_ + "/pepper",
          "--rate_limit_per_second=1000", "--rate_limit_burst=1000"}},
    };
    const std::pair<const char*, const char*> services[] = {
        {"registry", "linli.registry.v1.RegistryService"},
        {"scheduling", "linli.scheduling.v1.SchedulingService"},
        {"feedback", "linli.feedback.v1.FeedbackService"},
        {"gateway", "linli.gateway.v1.ConsoleService"}};
    for (const auto& [name, api] : services) {
      std::vector<std::string> args = {"--listen=" + address_[name], "--shutdown_deadline=2s"};
      if (std::string(name) != "gateway") {
        absl::StatusOr<std::string> db =
            testing::FreshDatabaseUrl("sqlite", absl::StrCat("day_", name));
        ASSERT_TRUE(db.ok()) << db.status();
        args.push_back("--db=" + *db);
      }
      for (const std::string& flag : flags.at(name)) args.push_back(flag);
      auto child = testing::ChildProcess::Start(absl::StrCat(LINLI_BIN_DIR, "/linli-", name), args,
                                                absl::StrCat(dir_, "/", name, ".log"));
      ASSERT_TRUE(child.ok()) << child.status();
      children_.push_back(std::move(*child));
      ASSERT_TRUE(testing::WaitServing(address_[name], api, absl::Seconds(30)))
          << name << " never became SERVING; logs in " << dir_;
    }
    gateway_ = NewChannel(address_["gateway"], {});
  }

  void TearDown() override { children_.clear(); }

  // A token as `linli token` mints it (HS256, issuer linli-dev, audience linli-gateway).
  std::string Token(const std::string& role, const std::string& subject,
                    nlohmann::json extra = nlohmann::json::object()) const {
    nlohmann::json claims = {{"iss", "linli-dev"},
                             {"aud", "linli-gateway"},
                             {"sub", subject},
                             {"role", role},
                             {"exp", absl::ToUnixSeconds(absl::Now()) + 3600},
                             {"iat", absl::ToUnixSeconds(absl::Now())}};
    for (auto& [k, v] : extra.items()) claims[k] = v;
    return *auth::SignJwt(*auth::JwtKey::Hmac("dev", kSecret), claims);
  }

  // Calls "Service/Method" of linli.gateway.v1 with `token`, over gRPC or JSON (the parameter).
  grpc::Status Call(const std::string& method, const Message& request, Message* response,
                    const std::string& token) {
    const std::string path = absl::StrCat("/linli.gateway.v1.", method);
    if (GetParam() == "json") {
      std::string body;
      google::protobuf::util::JsonPrintOptions print;
      print.preserve_proto_field_names = false;
      if (!google::protobuf::util::MessageToJsonString(request, &body, print).ok()) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "request not printable as JSON");
      }
      httplib::Client client("127.0.0.1", http_port_);
      client.set_read_timeout(30, 0);
      auto result = client.Post(path.c_str(), {{"Authorization", "Bearer " + token}}, body,
                                "application/json");
      if (!result) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no HTTP answer");
      if (result->status != 200) {
        nlohmann::json error = nlohmann::json::parse(result->body, nullptr, false);
        if (!error.is_object() || !error.contains("code")) {
          return grpc::Status(grpc::StatusCode::UNKNOWN, result->body);
        }
        return grpc::Status(FromConnectCode(error["code"].get<std::string>()),
                            error.value("message", ""));
      }
      response->Clear();
      auto parsed = google::protobuf::util::JsonStringToMessage(result->body, response);
      if (!parsed.ok()) {
        return grpc::Status(grpc::StatusCode::INTERNAL,
                            absl::StrCat("bad JSON answer: ", result->body));
      }
      return grpc::Status::OK;
    }
    grpc::TemplatedGenericStub<Message, Message> stub(gateway_);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    context.AddMetadata("authorization", "Bearer " + token);
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, path, grpc::StubOptions(), &request, response,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    return done.get_future().get();
  }

  // Repeats `call` until it succeeds (for up to 20 s): feedback learns of visits from
  // scheduling's event stream, a moment after they happen.
  static grpc::Status Eventually(const std::function<grpc::Status()>& call) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    grpc::Status status = call();
    while (!status.ok() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      status = call();
    }
    return status;
  }

  // Waits (up to 20 s) until `done` holds for the ledger of `subject`.
  fb::PromiseLedger LedgerWhen(const std::string& subject, const std::string& token,
                               const std::function<bool(const fb::PromiseLedger&)>& done) {
    fb::GetPromiseLedgerRequest request;
    request.set_subject(subject);
    request.set_window_days(30);
    fb::GetPromiseLedgerResponse response;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (true) {
      grpc::Status s = Call("ConsoleService/GetPromiseLedger", request, &response, token);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok() || done(response.ledger()) || absl::Now() > deadline) return response.ledger();
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  // The street: its regions through the console (admins create regions), and on the registry
  // directly what the console cannot create (organisations, the service type, a worker of the
  // social organisation available round the clock). The worker's name.
  std::string SeedStreet(const std::string& admin) {
    // The map, through the console (admins create regions).
    const std::tuple<const char*, const char*, reg::RegionLevel, const char*> regions[] = {
        {"310000", "上海市", reg::REGION_LEVEL_MUNICIPALITY, ""},
        {"310101", "黄浦区", reg::REGION_LEVEL_DISTRICT, "regions/310000"},
        {"310101020", "五里桥街道", reg::REGION_LEVEL_STREET, "regions/310101"},
        {"310101020002", "桥二居民区", reg::REGION_LEVEL_COMMITTEE, "regions/310101020"}};
    for (const auto& [code, display, level, parent] : regions) {
      gw::CreateRegionRequest request;
      request.mutable_region()->set_code(code);
      request.mutable_region()->set_display_name(display);
      request.mutable_region()->set_level(level);
      request.mutable_region()->set_parent(parent);
      gw::CreateRegionResponse response;
      grpc::Status s = Call("ConsoleService/CreateRegion", request, &response, admin);
      EXPECT_TRUE(s.ok()) << code << ": " << s.error_message();
    }
    // The console cannot create organisations, service types or workers (the registry's operator
    // tools do): those are seeded on the registry directly.
    std::string worker;
    {
      auto registry = reg::RegistryService::NewStub(
          testing::PlatformPki::Shared().Channel(address_["registry"], "linli-registry"));
      auto context = [] { return NewClientContext(nullptr, absl::Seconds(10)); };
      for (const auto& [id, name, kind, sector] :
           {std::tuple{"lelin", "乐龄社工服务社", reg::ORGANISATION_KIND_SOCIAL_ORGANISATION,
                       reg::SECTOR_SOCIAL},
            std::tuple{"wlq-office", "五里桥街道办事处", reg::ORGANISATION_KIND_STREET_OFFICE,
                       reg::SECTOR_PUBLIC}}) {
        reg::CreateOrganisationRequest org;
        org.mutable_organisation()->set_id(id);
        org.mutable_organisation()->set_display_name(name);
        org.mutable_organisation()->set_kind(kind);
        org.mutable_organisation()->set_sector(sector);
        org.mutable_organisation()->set_region("regions/310101020");
        reg::CreateOrganisationResponse org_out;
        grpc::Status s = registry->CreateOrganisation(context().get(), org, &org_out);
        EXPECT_TRUE(s.ok()) << s.error_message();
      }
      reg::CreateServiceTypeRequest type;
      type.mutable_service_type()->set_code("visiting");
      type.mutable_service_type()->set_display_name("探访");
      reg::CreateServiceTypeResponse type_out;
      EXPECT_TRUE(registry->CreateServiceType(context().get(), type, &type_out).ok());
      reg::CreateWorkerRequest w;
      w.mutable_worker()->set_display_name("王社工");
      w.mutable_worker()->set_organisation("organisations/lelin");
      w.mutable_worker()->add_skills("visiting");
      w.mutable_worker()->mutable_base_location()->set_latitude(kLat + 0.01);
      w.mutable_worker()->mutable_base_location()->set_longitude(kLng);
      w.mutable_worker()->mutable_availability()->set_rrule("FREQ=DAILY");
      w.mutable_worker()->mutable_availability()->set_dtstart("2025-01-01T00:00:00");
      w.mutable_worker()->mutable_availability()->set_duration_minutes(1440);
      reg::CreateWorkerResponse w_out;
      grpc::Status s = registry->CreateWorker(context().get(), w, &w_out);
      EXPECT_TRUE(s.ok()) << s.error_message();
      worker = w_out.worker().name();
    }
    return worker;
  }

  std::string dir_;
  std::map<std::string, std::string> partner_key_;
  std::map<std::string, std::string> address_;
  int http_port_ = 0;
  std::vector<testing::ChildProcess> children_;
  std::shared_ptr<grpc::Channel> gateway_;
};

TEST_P(DayInTheLifeTest, AStreetRunThroughTheGatewayAlone) {
  const std::string admin = Token("admin", "ops/platform");
  const std::string staff = Token("committee_staff", "staff/zhou", {{"region", "310101020002"}});
  const std::string street = Token("street_staff", "staff/sun", {{"region", "310101020"}});
  // Staff of the neighbouring committee: every act on this committee's things is refused.
  const std::string neighbour =
      Token("committee_staff", "staff/qian", {{"region", "310101020003"}});
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), Shanghai());
  const char* const kWeekdays[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
  const std::string weekday = kWeekdays[static_cast<int>(absl::GetWeekday(today))];

  const std::string worker = SeedStreet(admin);
  const std::string worker_token = Token("worker", worker, {{"region", "310101020002"}});

  // 1. A committee worker registers a solitary elder, with consent to keep her personal and
  // health data; the answer is masked. The same request_id again is the same elder.
  reg::CreateElderRequest register_elder;
  {
    reg::Elder& e = *register_elder.mutable_elder();
    e.set_display_name("王秀英");
    e.set_region(kCommittee);
    e.set_address("上海市黄浦区局门路 100 弄 3 号 502 室");
    e.set_phone("13912345678");
    e.mutable_location()->set_latitude(kLat);
    e.mutable_location()->set_longitude(kLng);
    e.set_living_situation(reg::LIVING_SITUATION_ALONE);
    e.set_care_grade(3);
    for (reg::ConsentPurpose purpose :
         {reg::CONSENT_PURPOSE_PERSONAL_DATA, reg::CONSENT_PURPOSE_HEALTH_DATA}) {
      reg::Consent* consent = e.add_consents();
      consent->set_purpose(purpose);
      consent->set_granted(true);
    }
    reg::Contact* son = e.add_contacts();
    son->set_display_name("王磊");
    son->set_relationship("儿子");
    son->set_proxy(true);
  }
  register_elder.set_request_id("day-elder-1");
  reg::CreateElderResponse registered;
  grpc::Status s = Call("ConsoleService/RegisterElder", register_elder, &registered, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string elder = registered.elder().name();
  ASSERT_TRUE(absl::StartsWith(elder, "elders/")) << elder;
  EXPECT_NE(registered.elder().phone(), "13912345678");
  EXPECT_NE(registered.elder().address(), register_elder.elder().address());
  EXPECT_FALSE(registered.elder().has_care_grade());
  reg::CreateElderResponse again;
  ASSERT_TRUE(Call("ConsoleService/RegisterElder", register_elder, &again, staff).ok());
  EXPECT_EQ(again.elder().name(), elder);
  // Without consent for the personal data given: refused, nothing stored.
  reg::CreateElderRequest no_consent = register_elder;
  no_consent.mutable_elder()->clear_consents();
  no_consent.set_request_id("day-elder-2");
  EXPECT_EQ(Call("ConsoleService/RegisterElder", no_consent, &again, staff).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Call("ConsoleService/RegisterElder", register_elder, &again, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // 2. A weekly visiting promise on today's weekday, 9-11, by the familiar worker, since a week.
  sch::CreateCommitmentRequest promise;
  {
    sch::Commitment& c = *promise.mutable_commitment();
    c.set_elder(elder);
    c.set_service_type("serviceTypes/visiting");
    c.set_owner_organisation("organisations/lelin");
    c.set_funding_programme("政府购买服务");
    c.mutable_recurrence()->set_rrule("FREQ=WEEKLY;BYDAY=" + weekday);
    c.mutable_recurrence()->set_dtstart(Day(today - 7) + "T09:00:00");
    c.set_window_minutes(120);
    c.set_duration_minutes(60);
    c.set_preferred_worker(worker);
    c.set_valid_from(Day(today - 7));
    c.set_tolerance_minutes(15);
  }
  promise.set_request_id("day-promise-1");
  sch::CreateCommitmentResponse promised;
  s = Call("ConsoleService/CreateCommitment", promise, &promised, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string commitment = promised.commitment().name();
  sch::CreateCommitmentResponse promised_again;
  ASSERT_TRUE(Call("ConsoleService/CreateCommitment", promise, &promised_again, staff).ok());
  EXPECT_EQ(promised_again.commitment().name(), commitment);
  EXPECT_EQ(
      Call("ConsoleService/CreateCommitment", promise, &promised_again, neighbour).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  // Visits of last week, today and next week.
  sch::MaterializeVisitsRequest materialize;
  materialize.set_commitment(commitment);
  materialize.set_from_date(Day(today - 7));
  materialize.set_days(15);
  sch::MaterializeVisitsResponse materialized;
  s = Call("ConsoleService/MaterializeVisits", materialize, &materialized, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(materialized.created(), 3);
  sch::ListVisitsRequest list;
  list.set_commitment(commitment);
  sch::ListVisitsResponse visits;
  ASSERT_TRUE(Call("ConsoleService/ListVisits", list, &visits, staff).ok());
  ASSERT_EQ(visits.visits_size(), 3);
  const std::string last_week = visits.visits(0).name();
  const std::string today_visit = visits.visits(1).name();
  const std::string next_week = visits.visits(2).name();

  // 3. Plan today: a dry run books nothing, then the plan books the familiar worker.
  sch::PlanRequest plan;
  plan.set_region(kCommittee);
  plan.set_from_date(Day(today));
  plan.set_days(1);
  plan.set_time_limit_seconds(1);
  plan.set_dry_run(true);
  sch::PlanResponse planned;
  s = Call("ConsoleService/Plan", plan, &planned, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(planned.visits(), 1);
  EXPECT_EQ(planned.booked(), 1);
  sch::GetVisitRequest get_visit;
  get_visit.set_name(today_visit);
  sch::GetVisitResponse got_visit;
  ASSERT_TRUE(Call("ConsoleService/GetVisit", get_visit, &got_visit, staff).ok());
  EXPECT_EQ(got_visit.visit().assignments_size(), 0);
  EXPECT_EQ(Call("ConsoleService/Plan", plan, &planned, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  plan.set_dry_run(false);
  s = Call("ConsoleService/Plan", plan, &planned, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(planned.booked(), 1);
  ASSERT_TRUE(Call("ConsoleService/GetVisit", get_visit, &got_visit, staff).ok());
  ASSERT_EQ(got_visit.visit().assignments_size(), 1);
  EXPECT_EQ(got_visit.visit().assignments(0).worker(), worker);
  EXPECT_EQ(Call("ConsoleService/GetVisit", get_visit, &got_visit, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Next week: booked by hand (idempotent), then the worker falls ill and is released; the elder
  // asks for the afternoon instead, then goes to hospital and the visit is cancelled.
  sch::AssignVisitRequest assign;
  assign.set_name(next_week);
  assign.set_worker(worker);
  assign.set_request_id("day-assign-1");
  sch::AssignVisitResponse assigned, assigned_again;
  s = Call("ConsoleService/AssignVisit", assign, &assigned, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(assigned.visit().assignments_size(), 1);
  ASSERT_TRUE(Call("ConsoleService/AssignVisit", assign, &assigned_again, staff).ok());
  EXPECT_EQ(assigned_again.SerializeAsString(), assigned.SerializeAsString());
  EXPECT_EQ(Call("ConsoleService/AssignVisit", assign, &assigned_again, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  sch::ReleaseWorkerRequest release;
  release.set_worker(worker);
  release.set_from_date(Day(today + 7));
  release.set_days(1);
  release.set_reason_code("WORKER_ILL");
  sch::ReleaseWorkerResponse released;
  EXPECT_EQ(Call("ConsoleService/ReleaseWorker", release, &released, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The worker belongs to a street organisation serving every committee: releasing them is for
  // the street's staff.
  EXPECT_EQ(Call("ConsoleService/ReleaseWorker", release, &released, staff).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  s = Call("ConsoleService/ReleaseWorker", release, &released, street);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(released.visits_size(), 1);
  EXPECT_EQ(released.visits(0).name(), next_week);
  EXPECT_EQ(released.visits(0).assignments_size(), 0);
  sch::RescheduleVisitRequest reschedule;
  reschedule.set_name(next_week);
  reschedule.set_new_start(Day(today + 7) + "T14:00:00");
  reschedule.set_reason_code("ELDER_REQUEST");
  sch::RescheduleVisitResponse rescheduled;
  s = Call("ConsoleService/RescheduleVisit", reschedule, &rescheduled, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(rescheduled.visit().reason_code(), "ELDER_REQUEST");
  sch::CancelVisitRequest cancel;
  cancel.set_name(next_week);
  cancel.set_reason_code("ELDER_IN_HOSPITAL");
  cancel.set_note("住院一周");
  sch::CancelVisitResponse cancelled;
  EXPECT_EQ(Call("ConsoleService/CancelVisit", cancel, &cancelled, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  s = Call("ConsoleService/CancelVisit", cancel, &cancelled, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(cancelled.visit().state(), sch::VISIT_STATE_CANCELLED);
  // Last week's visit had been booked too; nobody came.
  assign.set_name(last_week);
  assign.set_request_id("day-assign-2");
  s = Call("ConsoleService/AssignVisit", assign, &assigned, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // 4. The worker app shows today's visit; the worker checks in at the door and out.
  gw::ListMyVisitsRequest mine;  // today's route, from the worker's bookings
  gw::ListMyVisitsResponse my_visits;
  s = Call("WorkerAppService/ListMyVisits", mine, &my_visits, worker_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(my_visits.stops_size(), 1);
  EXPECT_EQ(my_visits.stops(0).visit().name(), today_visit);
  EXPECT_EQ(my_visits.stops(0).order(), 1);
  gw::WorkerCheckInRequest check_in;
  check_in.set_commitment(commitment);
  check_in.set_visit(today_visit);
  check_in.mutable_location()->set_latitude(kLat);
  check_in.mutable_location()->set_longitude(kLng);
  check_in.set_method(sch::CHECK_METHOD_APP_GPS);
  gw::WorkerCheckInResponse checked_in;
  s = Call("WorkerAppService/CheckIn", check_in, &checked_in, worker_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(checked_in.visit().state(), sch::VISIT_STATE_IN_PROGRESS);
  for (const std::string& exception : checked_in.visit().exceptions()) {
    EXPECT_NE(exception, "OUTSIDE_GEOFENCE");
  }
  gw::WorkerCheckOutRequest check_out;
  check_out.set_commitment(commitment);
  check_out.set_visit(today_visit);
  *check_out.mutable_location() = check_in.location();
  check_out.set_method(sch::CHECK_METHOD_APP_GPS);
  gw::WorkerCheckOutResponse checked_out;
  s = Call("WorkerAppService/CheckOut", check_out, &checked_out, worker_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(checked_out.visit().state(), sch::VISIT_STATE_COMPLETED);
  // Checked out at once: too short to count unseen. Staff confirm it with the elder and approve.
  EXPECT_EQ(checked_out.visit().review().state(), sch::REVIEW_STATE_PENDING);
  sch::ReviewVisitRequest review;
  review.set_name(today_visit);
  review.set_decision(sch::REVIEW_DECISION_APPROVE);
  review.set_reason_code("CONFIRMED_WITH_ELDER");
  review.set_note("电话回访：小王来过，陪老人聊了一个小时");
  sch::ReviewVisitResponse reviewed;
  s = Call("ConsoleService/ReviewVisit", review, &reviewed, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reviewed.visit().review().state(), sch::REVIEW_STATE_APPROVED);

  // 5. The ledger counts the verified visit; the elder answers the check; the index moves.
  fb::PromiseLedger ledger = LedgerWhen(
      elder, staff, [](const fb::PromiseLedger& l) { return l.figures().verified_visits() >= 1; });
  EXPECT_EQ(ledger.figures().verified_visits(), 1);
  EXPECT_EQ(ledger.figures().missed_visits(), 0);
  const std::string elder_token = Token("elder", elder);
  gw::SubmitVisitFeedbackRequest answer;
  answer.set_elder(elder);
  answer.set_visit(today_visit);
  answer.set_faces(5);
  answer.set_did_as_promised(fb::ANSWER_YES);
  answer.set_felt_cared_for(fb::ANSWER_YES);
  answer.set_words("小王陪我聊了一个小时");
  answer.set_request_id("day-feedback-1");
  gw::SubmitVisitFeedbackResponse answered;
  s = Eventually(
      [&] { return Call("ElderAppService/SubmitVisitFeedback", answer, &answered, elder_token); });
  ASSERT_TRUE(s.ok()) << s.error_message();
  fb::GetPerceptionIndexRequest index_request;
  index_request.set_subject(elder);
  index_request.set_window_days(30);
  fb::GetPerceptionIndexResponse index;
  s = Eventually([&] {
    grpc::Status got = Call("ConsoleService/GetPerceptionIndex", index_request, &index, staff);
    if (got.ok() && index.index().felt_care_answers() < 1) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "feedback not counted yet");
    }
    return got;
  });
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(index.index().has_value());
  EXPECT_EQ(index.index().felt_care_answers(), 1);
  EXPECT_GT(index.index().value(), 0);

  // 6. Last week's visit is swept as missed; the ledger shows it.
  sch::SweepMissedVisitsRequest sweep_missed;
  sch::SweepMissedVisitsResponse swept_missed;
  s = Call("ConsoleService/SweepMissedVisits", sweep_missed, &swept_missed, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(swept_missed.missed(), 1);
  get_visit.set_name(last_week);
  ASSERT_TRUE(Call("ConsoleService/GetVisit", get_visit, &got_visit, staff).ok());
  EXPECT_EQ(got_visit.visit().state(), sch::VISIT_STATE_MISSED);
  ledger = LedgerWhen(elder, staff,
                      [](const fb::PromiseLedger& l) { return l.figures().missed_visits() >= 1; });
  EXPECT_EQ(ledger.figures().missed_visits(), 1);
  EXPECT_EQ(ledger.figures().verified_visits(), 1);

  // 7. With next week's visit cancelled, eight days pass without contact: the safety-net sweep
  // as of then alerts the committee. Only admins sweep as of another time.
  fb::SweepAlertsRequest sweep;
  *sweep.mutable_as_of() = At(absl::Now() + absl::Hours(24 * 8));
  fb::SweepAlertsResponse swept;
  EXPECT_EQ(Call("ConsoleService/SweepAlerts", sweep, &swept, staff).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  s = Call("ConsoleService/SweepAlerts", sweep, &swept, admin);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(swept.raised(), 1);
  fb::ListAlertsRequest alerts_request;
  alerts_request.set_committee(kCommittee);
  fb::ListAlertsResponse alerts;
  ASSERT_TRUE(Call("ConsoleService/ListAlerts", alerts_request, &alerts, staff).ok());
  ASSERT_EQ(alerts.alerts_size(), 1);
  const fb::Alert& alert = alerts.alerts(0);
  EXPECT_EQ(alert.kind(), fb::ALERT_KIND_NO_CONTACT);
  EXPECT_EQ(alert.elder(), elder);
  fb::AcknowledgeAlertRequest ack;
  ack.set_name(alert.name());
  fb::AcknowledgeAlertResponse acked;
  EXPECT_EQ(Call("ConsoleService/AcknowledgeAlert", ack, &acked, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  s = Call("ConsoleService/AcknowledgeAlert", ack, &acked, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(acked.alert().state(), fb::ALERT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(acked.alert().acknowledged_by(), "committee_staff:staff/zhou");
  fb::ResolveAlertRequest resolve_alert;
  resolve_alert.set_name(alert.name());
  resolve_alert.set_note("电话联系上本人，一切安好；已安排下周探访");
  fb::ResolveAlertResponse resolved_alert;
  s = Call("ConsoleService/ResolveAlert", resolve_alert, &resolved_alert, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resolved_alert.alert().state(), fb::ALERT_STATE_RESOLVED);
  EXPECT_EQ(resolved_alert.alert().resolved_by(), "committee_staff:staff/zhou");

  // 8. The elder complains; staff classify (safety: 24 hours) and route it; it is overdue two
  // days later and escalated to the street office; answered, called back, closed.
  gw::RaiseComplaintRequest complaint;
  complaint.set_elder(elder);
  complaint.set_commitment(commitment);
  complaint.set_description("上周说好来看我，没有人来，也没有人打电话");
  complaint.set_request_id("day-complaint-1");
  gw::RaiseComplaintResponse raised;
  s = Call("ElderAppService/RaiseComplaint", complaint, &raised, elder_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string work_order = raised.work_order().name();
  EXPECT_EQ(raised.work_order().state(), fb::WORK_ORDER_STATE_ACCEPTED);
  fb::GetWorkOrderRequest get_order;
  get_order.set_name(work_order);
  fb::GetWorkOrderResponse order;
  EXPECT_EQ(Call("ConsoleService/GetWorkOrder", get_order, &order, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  fb::ClassifyWorkOrderRequest classify;
  classify.set_name(work_order);
  classify.set_category(fb::WORK_ORDER_CATEGORY_SAFETY);
  fb::ClassifyWorkOrderResponse classified;
  EXPECT_EQ(Call("ConsoleService/ClassifyWorkOrder", classify, &classified, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  s = Call("ConsoleService/ClassifyWorkOrder", classify, &classified, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(classified.work_order().state(), fb::WORK_ORDER_STATE_CLASSIFIED);
  fb::RouteWorkOrderRequest route;
  route.set_name(work_order);
  fb::RouteWorkOrderResponse routed;
  s = Call("ConsoleService/RouteWorkOrder", route, &routed, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(routed.work_order().state(), fb::WORK_ORDER_STATE_ROUTED);
  EXPECT_EQ(routed.work_order().responsible_organisation(), "organisations/lelin");
  *sweep.mutable_as_of() = At(absl::Now() + absl::Hours(48));
  s = Call("ConsoleService/SweepAlerts", sweep, &swept, admin);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(swept.escalated(), 1);
  ASSERT_TRUE(Call("ConsoleService/GetWorkOrder", get_order, &order, staff).ok());
  EXPECT_EQ(order.work_order().state(), fb::WORK_ORDER_STATE_ESCALATED);
  EXPECT_EQ(order.work_order().escalated_to(), "organisations/wlq-office");
  fb::ResolveWorkOrderRequest resolve;
  resolve.set_name(work_order);
  resolve.set_resolution("社工服务社已道歉，补做探访并改为每周电话提醒");
  fb::ResolveWorkOrderResponse resolved;
  s = Call("ConsoleService/ResolveWorkOrder", resolve, &resolved, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  fb::RecordCallbackRequest callback;
  callback.set_name(work_order);
  callback.set_satisfaction(4);
  callback.set_note("回访：老人表示满意");
  fb::RecordCallbackResponse called_back;
  s = Call("ConsoleService/RecordCallback", callback, &called_back, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(called_back.work_order().satisfaction(), 4);
  fb::CloseWorkOrderRequest close;
  close.set_name(work_order);
  fb::CloseWorkOrderResponse closed;
  s = Call("ConsoleService/CloseWorkOrder", close, &closed, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();

  // The elder app shows the final state and the whole history.
  gw::GetMyComplaintRequest mine_complaint;
  mine_complaint.set_elder(elder);
  mine_complaint.set_name(work_order);
  gw::GetMyComplaintResponse my_complaint;
  s = Call("ElderAppService/GetMyComplaint", mine_complaint, &my_complaint, elder_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(my_complaint.work_order().state(), fb::WORK_ORDER_STATE_CLOSED);
  std::vector<fb::WorkOrderState> states;
  for (const fb::WorkOrderTransition& step : my_complaint.work_order().history()) {
    states.push_back(step.to_state());
  }
  EXPECT_EQ(states, (std::vector<fb::WorkOrderState>{
                        fb::WORK_ORDER_STATE_ACCEPTED, fb::WORK_ORDER_STATE_CLASSIFIED,
                        fb::WORK_ORDER_STATE_ROUTED, fb::WORK_ORDER_STATE_ESCALATED,
                        fb::WORK_ORDER_STATE_RESOLVED, fb::WORK_ORDER_STATE_CALLED_BACK,
                        fb::WORK_ORDER_STATE_CLOSED}));
  // Classified as a safety matter, the complaint alerted the committee at once; overdue, it
  // raised its own alert.
  alerts_request.set_state(fb::ALERT_STATE_OPEN);
  ASSERT_TRUE(Call("ConsoleService/ListAlerts", alerts_request, &alerts, staff).ok());
  ASSERT_EQ(alerts.alerts_size(), 2);
  std::set<fb::AlertKind> kinds;
  for (const fb::Alert& alert : alerts.alerts()) {
    kinds.insert(alert.kind());
    EXPECT_EQ(alert.subject(), work_order);
  }
  EXPECT_EQ(kinds, (std::set<fb::AlertKind>{fb::ALERT_KIND_SAFETY_REPORT,
                                            fb::ALERT_KIND_OVERDUE_WORK_ORDER}));
}

// Nobody is told, no more (issue 19): a booked worker does not arrive and the elder's open app
// hears "running late"; an earlier visit nobody came to is swept as missed and the elder, the
// provider and the committee hear it; the committee's webhook, down when it happened, receives
// the signed notice once it is back. Over gRPC the app holds WatchMyNotices open; over JSON it
// follows ListMyNotices with long reads. Times are relative to now (the services' real clock):
// one visit's window opened 20 minutes ago, the other's closed an hour ago.
TEST_P(DayInTheLifeTest, TheElderHearsOfALateAndAMissedVisitAndTheCommitteesWebhookToo) {
  const std::string admin = Token("admin", "ops/platform");
  const std::string staff = Token("committee_staff", "staff/zhou", {{"region", "310101020002"}});
  const std::string street = Token("street_staff", "staff/sun", {{"region", "310101020"}});
  const std::string worker = SeedStreet(admin);

  reg::CreateElderRequest register_elder;
  register_elder.mutable_elder()->set_display_name("李桂兰");
  register_elder.mutable_elder()->set_region(kCommittee);
  register_elder.mutable_elder()->set_living_situation(reg::LIVING_SITUATION_ALONE);
  reg::CreateElderResponse registered;
  grpc::Status s = Call("ConsoleService/RegisterElder", register_elder, &registered, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string elder = registered.elder().name();
  const std::string elder_token = Token("elder", elder);

  // The committee's webhook, down at first.
  std::mutex hook_mu;
  bool hook_down = true;
  std::string hook_secret;
  std::vector<fb::Notice> hooked;
  int refused = 0;
  httplib::Server hook;
  hook.Post("/notices", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(hook_mu);
    if (hook_down) {
      ++refused;
      res.status = 503;
      return;
    }
    absl::Status signed_ok =
        auth::VerifyWebhook(hook_secret, req.get_header_value(auth::kWebhookTimestampHeader),
                            req.get_header_value(auth::kWebhookSignatureHeader), req.body,
                            absl::Now(), absl::Minutes(5));
    fb::Notice notice;
    if (!signed_ok.ok() || !google::protobuf::util::JsonStringToMessage(req.body, &notice).ok()) {
      res.status = 401;
      return;
    }
    hooked.push_back(notice);
    res.status = 204;
  });
  const int hook_port = hook.bind_to_any_port("127.0.0.1");
  std::thread hook_thread([&] { hook.listen_after_bind(); });
  absl::Cleanup stop_hook = [&] {
    hook.stop();
    hook_thread.join();
  };
  fb::CreateWebhookRequest create_hook;
  create_hook.mutable_webhook()->set_recipient(kCommittee);
  create_hook.mutable_webhook()->set_url(absl::StrCat("http://127.0.0.1:", hook_port, "/notices"));
  fb::CreateWebhookResponse created_hook;
  EXPECT_EQ(Call("ConsoleService/CreateWebhook", create_hook, &created_hook, staff).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // webhooks are the street's to contract
  s = Call("ConsoleService/CreateWebhook", create_hook, &created_hook, street);
  ASSERT_TRUE(s.ok()) << s.error_message();
  {
    std::lock_guard<std::mutex> lock(hook_mu);
    hook_secret = created_hook.signing_secret();
  }

  // The elder's app: a stream (gRPC) or long reads (JSON), collecting what arrives.
  std::mutex app_mu;
  std::vector<fb::Notice> app;
  std::atomic<bool> app_closing = false;
  grpc::ClientContext stream_context;
  std::thread app_thread;
  if (GetParam() == "grpc") {
    stream_context.AddMetadata("authorization", "Bearer " + elder_token);
    app_thread = std::thread([&] {
      auto stub = gw::ElderAppService::NewStub(gateway_);
      gw::WatchMyNoticesRequest watch;
      watch.set_elder(elder);
      std::unique_ptr<grpc::ClientReader<fb::Notice>> reader =
          stub->WatchMyNotices(&stream_context, watch);
      fb::Notice notice;
      while (reader->Read(&notice)) {
        std::lock_guard<std::mutex> lock(app_mu);
        app.push_back(notice);
      }
      grpc::Status end = reader->Finish();
      EXPECT_TRUE(app_closing || end.ok()) << end.error_message();
    });
  } else {
    app_thread = std::thread([&] {
      int64_t after = 0;
      while (!app_closing) {
        gw::ListMyNoticesRequest read;
        read.set_elder(elder);
        read.set_after_sequence(after);
        read.set_wait_seconds(2);
        fb::ListNoticesResponse page;
        grpc::Status status = Call("ElderAppService/ListMyNotices", read, &page, elder_token);
        EXPECT_TRUE(status.ok()) << status.error_message();
        if (!status.ok()) return;
        std::lock_guard<std::mutex> lock(app_mu);
        for (const fb::Notice& n : page.notices()) {
          app.push_back(n);
          after = n.sequence();
        }
      }
    });
  }
  absl::Cleanup stop_app = [&] {
    app_closing = true;
    stream_context.TryCancel();
    app_thread.join();
  };
  auto app_has = [&](fb::NoticeKind kind) -> std::optional<fb::Notice> {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(app_mu);
        for (const fb::Notice& n : app) {
          if (n.kind() == kind) return n;
        }
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return std::nullopt;
  };

  // Two promises of the familiar worker: one whose window opened 20 minutes ago, one whose
  // window closed an hour ago. Both booked; the worker comes to neither.
  auto promise = [&](absl::Duration opened_ago) {
    const absl::CivilMinute start = absl::ToCivilMinute(absl::Now() - opened_ago, Shanghai());
    sch::CreateCommitmentRequest request;
    sch::Commitment& c = *request.mutable_commitment();
    c.set_elder(elder);
    c.set_service_type("serviceTypes/visiting");
    c.set_owner_organisation("organisations/lelin");
    c.mutable_recurrence()->set_rrule("FREQ=DAILY;COUNT=1");
    c.mutable_recurrence()->set_dtstart(absl::FormatCivilTime(absl::CivilSecond(start)));
    c.set_window_minutes(120);
    c.set_duration_minutes(30);
    c.set_preferred_worker(worker);
    c.set_valid_from(Day(absl::CivilDay(start)));
    c.set_tolerance_minutes(15);
    sch::CreateCommitmentResponse created;
    grpc::Status status = Call("ConsoleService/CreateCommitment", request, &created, staff);
    EXPECT_TRUE(status.ok()) << status.error_message();
    sch::MaterializeVisitsRequest materialize;
    materialize.set_commitment(created.commitment().name());
    materialize.set_from_date(Day(absl::CivilDay(start)));
    materialize.set_days(1);
    sch::MaterializeVisitsResponse materialized;
    EXPECT_TRUE(Call("ConsoleService/MaterializeVisits", materialize, &materialized, staff).ok());
    sch::ListVisitsRequest list;
    list.set_commitment(created.commitment().name());
    sch::ListVisitsResponse visits;
    EXPECT_TRUE(Call("ConsoleService/ListVisits", list, &visits, staff).ok());
    EXPECT_EQ(visits.visits_size(), 1);
    if (visits.visits_size() != 1) return std::string();
    sch::AssignVisitRequest assign;
    assign.set_name(visits.visits(0).name());
    assign.set_worker(worker);
    sch::AssignVisitResponse assigned;
    status = Call("ConsoleService/AssignVisit", assign, &assigned, staff);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return visits.visits(0).name();
  };
  const std::string late_visit = promise(absl::Minutes(20));
  const std::string missed_visit = promise(absl::Hours(3));
  ASSERT_FALSE(late_visit.empty());
  ASSERT_FALSE(missed_visit.empty());

  // Running late: feedback's sweep (staff may run it now) finds the booked visit not started
  // 15 minutes into its window, once feedback has seen the booking.
  fb::SweepAlertsRequest sweep;
  fb::SweepAlertsResponse swept;
  std::optional<fb::Notice> late;
  const absl::Time until = absl::Now() + absl::Seconds(30);
  while (!late.has_value() && absl::Now() < until) {
    s = Call("ConsoleService/SweepAlerts", sweep, &swept, staff);
    ASSERT_TRUE(s.ok()) << s.error_message();
    std::lock_guard<std::mutex> lock(app_mu);
    for (const fb::Notice& n : app) {
      if (n.kind() == fb::NOTICE_KIND_RUNNING_LATE) late = n;
    }
    if (!late.has_value()) absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(late.has_value()) << "no running-late notice reached the app";
  EXPECT_EQ(late->subject(), late_visit);
  EXPECT_EQ(late->recipient(), elder);
  EXPECT_FALSE(late->text().empty());

  // Missed: swept by scheduling, told to the elder at once (the app), the committee and the
  // provider (their inboxes); the committee's webhook is down.
  sch::SweepMissedVisitsRequest sweep_missed;
  sch::SweepMissedVisitsResponse swept_missed;
  s = Call("ConsoleService/SweepMissedVisits", sweep_missed, &swept_missed, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::optional<fb::Notice> missed = app_has(fb::NOTICE_KIND_MISSED);
  ASSERT_TRUE(missed.has_value()) << "no missed notice reached the app";
  EXPECT_EQ(missed->subject(), missed_visit);
  EXPECT_GT(missed->sequence(), late->sequence());
  fb::ListNoticesRequest inbox;
  inbox.set_recipient(kCommittee);
  fb::ListNoticesResponse committee_inbox;
  ASSERT_TRUE(Call("ConsoleService/ListNotices", inbox, &committee_inbox, staff).ok());
  ASSERT_EQ(committee_inbox.notices_size(), 1);
  EXPECT_EQ(committee_inbox.notices(0).kind(), fb::NOTICE_KIND_MISSED);
  inbox.set_recipient("regions/310101020");  // the street's inbox is not the committee's
  EXPECT_EQ(Call("ConsoleService/ListNotices", inbox, &committee_inbox, staff).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // The webhook refused at least once; back up, it receives the notice, signed, exactly once.
  const absl::Time refused_by = absl::Now() + absl::Seconds(20);
  while (absl::Now() < refused_by) {
    {
      std::lock_guard<std::mutex> lock(hook_mu);
      if (refused > 0) break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  {
    std::lock_guard<std::mutex> lock(hook_mu);
    ASSERT_GT(refused, 0);
    hook_down = false;
  }
  const absl::Time delivered_by = absl::Now() + absl::Seconds(40);
  size_t delivered = 0;
  while (absl::Now() < delivered_by && delivered == 0) {
    absl::SleepFor(absl::Milliseconds(100));
    std::lock_guard<std::mutex> lock(hook_mu);
    delivered = hooked.size();
  }
  {
    std::lock_guard<std::mutex> lock(hook_mu);
    ASSERT_EQ(hooked.size(), 1u);
    EXPECT_EQ(hooked[0].kind(), fb::NOTICE_KIND_MISSED);
    EXPECT_EQ(hooked[0].recipient(), kCommittee);
    EXPECT_EQ(hooked[0].subject(), missed_visit);
  }
  // The elder makes the missed visit good from the app: the provider's free windows of the next
  // days, then the one chosen booked as a new visit of the same promise.
  gw::MakeUpMyVisitRequest make_up;
  make_up.set_elder(elder);
  make_up.set_missed_visit(missed_visit);
  make_up.set_dry_run(true);
  sch::MakeUpVisitResponse offer;
  s = Call("ElderAppService/MakeUpMyVisit", make_up, &offer, elder_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(offer.proposals_size(), 3);  // one a day for three days, the familiar worker
  EXPECT_EQ(offer.proposals(0).worker(), worker);
  make_up.set_dry_run(false);
  *make_up.mutable_window_start() = offer.proposals(0).window_start();
  make_up.set_request_id("make-up-1");
  sch::MakeUpVisitResponse made_up;
  s = Call("ElderAppService/MakeUpMyVisit", make_up, &made_up, elder_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(made_up.visit().make_up_for(), missed_visit);
  gw::ListMyUpcomingVisitsRequest upcoming;
  upcoming.set_elder(elder);
  upcoming.set_days(7);
  gw::ListMyUpcomingVisitsResponse coming;
  ASSERT_TRUE(Call("ElderAppService/ListMyUpcomingVisits", upcoming, &coming, elder_token).ok());
  bool listed = false;
  for (const auto& v : coming.visits()) listed = listed || v.visit() == made_up.visit().name();
  EXPECT_TRUE(listed) << "the make-up visit is not among the elder's upcoming visits";
  // The worker comes (before the window booked: the elder let them in early) and the ledger shows
  // the promise repaired: the missed visit made good, not silently broken.
  const std::string worker_token = Token("worker", worker, {{"region", "310101020002"}});
  gw::WorkerCheckInRequest make_up_in;
  make_up_in.set_commitment(made_up.visit().commitment());
  make_up_in.set_visit(made_up.visit().name());
  make_up_in.mutable_location()->set_latitude(kLat);
  make_up_in.mutable_location()->set_longitude(kLng);
  make_up_in.set_method(sch::CHECK_METHOD_APP_GPS);
  gw::WorkerCheckInResponse made_up_in;
  s = Call("WorkerAppService/CheckIn", make_up_in, &made_up_in, worker_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  gw::WorkerCheckOutRequest make_up_out;
  make_up_out.set_commitment(made_up.visit().commitment());
  make_up_out.set_visit(made_up.visit().name());
  *make_up_out.mutable_location() = make_up_in.location();
  make_up_out.set_method(sch::CHECK_METHOD_APP_GPS);
  gw::WorkerCheckOutResponse made_up_out;
  s = Call("WorkerAppService/CheckOut", make_up_out, &made_up_out, worker_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(made_up_out.visit().state(), sch::VISIT_STATE_COMPLETED);
  const fb::PromiseLedger repaired =
      LedgerWhen(made_up.visit().commitment(), staff,
                 [](const fb::PromiseLedger& l) { return l.figures().repaired_visits() >= 1; });
  EXPECT_EQ(repaired.figures().repaired_visits(), 1);
  EXPECT_EQ(repaired.figures().missed_visits(), 0);
  // Another elder's visit is not theirs to make good.
  reg::CreateElderRequest other = register_elder;
  other.mutable_elder()->set_display_name("陈阿婆");
  reg::CreateElderResponse other_registered;
  ASSERT_TRUE(Call("ConsoleService/RegisterElder", other, &other_registered, staff).ok());
  gw::MakeUpMyVisitRequest not_hers = make_up;
  not_hers.set_elder(other_registered.elder().name());
  not_hers.set_request_id("make-up-2");
  EXPECT_EQ(Call("ElderAppService/MakeUpMyVisit", not_hers, &made_up,
                 Token("elder", other_registered.elder().name()))
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Made up, it can no longer be declined; another elder cannot decline it either.
  gw::DeclineMyMakeUpRequest decline;
  decline.set_elder(elder);
  decline.set_missed_visit(missed_visit);
  decline.set_reason(sch::MAKE_UP_DECLINE_REASON_NOT_NEEDED);
  sch::DeclineMakeUpResponse declined;
  EXPECT_EQ(Call("ElderAppService/DeclineMyMakeUp", decline, &declined, elder_token).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  decline.set_elder(other_registered.elder().name());
  EXPECT_EQ(Call("ElderAppService/DeclineMyMakeUp", decline, &declined,
                 Token("elder", other_registered.elder().name()))
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The family wants no text message when a worker runs late (the app tells them anyway).
  gw::SetMyNoticePreferencesRequest preferences;
  preferences.set_elder(elder);
  fb::ChannelPreference* texts = preferences.mutable_preferences()->add_channels();
  texts->set_channel(fb::NOTICE_CHANNEL_TEXT_MESSAGE);
  texts->add_muted_kinds(fb::NOTICE_KIND_RUNNING_LATE);
  fb::SetNoticePreferencesResponse stored;
  s = Call("ElderAppService/SetMyNoticePreferences", preferences, &stored, elder_token);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(stored.preferences().recipient(), elder);
  gw::GetMyNoticePreferencesRequest get_preferences;
  get_preferences.set_elder(elder);
  fb::GetNoticePreferencesResponse got_preferences;
  ASSERT_TRUE(
      Call("ElderAppService/GetMyNoticePreferences", get_preferences, &got_preferences, elder_token)
          .ok());
  ASSERT_EQ(got_preferences.preferences().channels_size(), 1);
  EXPECT_EQ(got_preferences.preferences().channels(0).muted_kinds(0), fb::NOTICE_KIND_RUNNING_LATE);
  preferences.mutable_preferences()->set_recipient(other_registered.elder().name());
  EXPECT_EQ(Call("ElderAppService/SetMyNoticePreferences", preferences, &stored, elder_token)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  fb::ListWebhookDeliveriesRequest log_request;
  log_request.set_recipient(kCommittee);
  fb::ListWebhookDeliveriesResponse log;
  ASSERT_TRUE(Call("ConsoleService/ListWebhookDeliveries", log_request, &log, staff).ok());
  ASSERT_EQ(log.deliveries_size(), 1);
  EXPECT_EQ(log.deliveries(0).state(), fb::DELIVERY_STATE_DELIVERED);
  EXPECT_GE(log.deliveries(0).attempts(), 2);
}

// Issue 17, item 4: the owner cannot keep a promise; staff find another provider, refer the elder
// (only with her consent to share), the provider accepts in the partner API and the promise moves
// with its dates; the provider delivers, the referral is in service, then completed. A second
// promise is declined, a third withdrawn.
TEST_P(DayInTheLifeTest, AReferralClosesTheLoopAcrossSectors) {
  const std::string admin = Token("admin", "ops/platform");
  const std::string staff = Token("committee_staff", "staff/zhou", {{"region", "310101020002"}});
  const std::string neighbour =
      Token("committee_staff", "staff/qian", {{"region", "310101020003"}});
  const std::string provider = partner_key_["yangguang"];
  const std::string owner = partner_key_["lelin"];
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), Shanghai());
  const std::string social_worker = SeedStreet(admin);
  // The street's commercial care station: it offers visiting to the whole street, near the elder.
  std::string station_worker;
  {
    auto registry = reg::RegistryService::NewStub(
        testing::PlatformPki::Shared().Channel(address_["registry"], "linli-registry"));
    auto context = [] { return NewClientContext(nullptr, absl::Seconds(10)); };
    reg::CreateOrganisationRequest org;
    org.mutable_organisation()->set_id("yangguang");
    org.mutable_organisation()->set_display_name("阳光护理站");
    org.mutable_organisation()->set_kind(reg::ORGANISATION_KIND_COMMERCIAL_PROVIDER);
    org.mutable_organisation()->set_sector(reg::SECTOR_COMMERCIAL);
    org.mutable_organisation()->set_region("regions/310101020");
    org.mutable_organisation()->mutable_location()->set_latitude(kLat + 0.004);
    org.mutable_organisation()->mutable_location()->set_longitude(kLng);
    reg::CreateOrganisationResponse org_out;
    grpc::Status s = registry->CreateOrganisation(context().get(), org, &org_out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    reg::CreateOfferingRequest offering;
    offering.mutable_offering()->set_organisation("organisations/yangguang");
    offering.mutable_offering()->set_service_type("serviceTypes/visiting");
    offering.mutable_offering()->add_covered_regions("regions/310101020");
    offering.mutable_offering()->set_capacity_per_week(30);
    offering.mutable_offering()->set_display_name("阳光 上门探访");
    reg::CreateOfferingResponse offering_out;
    s = registry->CreateOffering(context().get(), offering, &offering_out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    reg::CreateWorkerRequest w;
    w.mutable_worker()->set_display_name("李护理员");
    w.mutable_worker()->set_organisation("organisations/yangguang");
    w.mutable_worker()->add_skills("visiting");
    reg::CreateWorkerResponse w_out;
    s = registry->CreateWorker(context().get(), w, &w_out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    station_worker = w_out.worker().name();
  }

  // An elder who agreed to her personal data being kept, not (yet) to sharing it with providers.
  reg::CreateElderRequest register_elder;
  {
    reg::Elder& e = *register_elder.mutable_elder();
    e.set_display_name("陈桂芳");
    e.set_region(kCommittee);
    e.set_address("上海市黄浦区局门路 200 弄 5 号 301 室");
    e.set_phone("13811112222");
    e.mutable_location()->set_latitude(kLat);
    e.mutable_location()->set_longitude(kLng);
    e.set_living_situation(reg::LIVING_SITUATION_ALONE);
    reg::Consent* consent = e.add_consents();
    consent->set_purpose(reg::CONSENT_PURPOSE_PERSONAL_DATA);
    consent->set_granted(true);
    e.add_needs("serviceTypes/visiting");
  }
  reg::CreateElderResponse registered;
  grpc::Status s = Call("ConsoleService/RegisterElder", register_elder, &registered, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string elder = registered.elder().name();

  // Her need of visits is unmet until a promise covers it.
  sch::ListUnmetNeedsRequest needs_request;
  sch::ListUnmetNeedsResponse needs;
  s = Call("ConsoleService/ListUnmetNeeds", needs_request, &needs, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(needs.unmet_size(), 1);
  EXPECT_EQ(needs.unmet(0).elder(), elder);
  EXPECT_EQ(needs.unmet(0).service_type(), "serviceTypes/visiting");
  ASSERT_EQ(needs.committees_size(), 1);
  EXPECT_EQ(needs.committees(0).committee(), kCommittee);
  EXPECT_EQ(needs.committees(0).unmet(), 1);
  needs_request.set_region(kCommittee);
  EXPECT_EQ(Call("ConsoleService/ListUnmetNeeds", needs_request, &needs, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Three promises of the social organisation, daily at 15:00 from tomorrow, two weeks of visits.
  auto promise = [&](const std::string& id) {
    sch::CreateCommitmentRequest request;
    sch::Commitment& c = *request.mutable_commitment();
    c.set_elder(elder);
    c.set_service_type("serviceTypes/visiting");
    c.set_owner_organisation("organisations/lelin");
    c.mutable_recurrence()->set_rrule("FREQ=DAILY");
    c.mutable_recurrence()->set_dtstart(Day(today + 1) + "T15:00:00");
    c.set_window_minutes(60);
    c.set_duration_minutes(45);
    c.set_valid_from(Day(today + 1));
    request.set_request_id("referral-promise-" + id);
    sch::CreateCommitmentResponse created;
    grpc::Status status = Call("ConsoleService/CreateCommitment", request, &created, staff);
    EXPECT_TRUE(status.ok()) << status.error_message();
    sch::MaterializeVisitsRequest materialize;
    materialize.set_commitment(created.commitment().name());
    materialize.set_from_date(Day(today + 1));
    materialize.set_days(14);
    sch::MaterializeVisitsResponse materialized;
    status = Call("ConsoleService/MaterializeVisits", materialize, &materialized, staff);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(materialized.created(), 14);
    return created.commitment().name();
  };
  const std::string moving = promise("moving");
  ASSERT_TRUE(Call("ConsoleService/ListUnmetNeeds", needs_request, &needs, staff).ok());
  EXPECT_EQ(needs.unmet_size(), 0);
  EXPECT_EQ(needs.committees(0).needs(), 1);

  // Staff look for another provider: the care station is proposed.
  sch::ProposeFallbackRequest fallback;
  fallback.set_commitment(moving);
  fallback.set_always(true);
  sch::ProposeFallbackResponse proposed;
  s = Call("ConsoleService/ProposeFallback", fallback, &proposed, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::string offering;
  for (const auto& p : proposed.proposals()) {
    if (p.provider().organisation().name() == "organisations/yangguang") {
      offering = p.provider().offering().name();
    }
  }
  ASSERT_FALSE(offering.empty()) << "the care station was not proposed";

  // Without the elder's consent to share with providers, nothing is sent.
  sch::CreateReferralRequest refer;
  refer.set_commitment(moving);
  refer.set_offering(offering);
  refer.set_reason(sch::REFERRAL_REASON_OWNER_NO_CAPACITY);
  refer.set_request_id("referral-1");
  sch::CreateReferralResponse referred;
  s = Call("ConsoleService/CreateReferral", refer, &referred, staff);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "CONSENT_PURPOSE_SHARE_WITH_PROVIDERS"))
      << s.error_message();
  sch::ListReferralsRequest mine;
  sch::ListReferralsResponse listed;
  ASSERT_TRUE(Call("ConsoleService/ListReferrals", mine, &listed, staff).ok());
  EXPECT_EQ(listed.referrals_size(), 0);
  // The neighbouring committee can neither refer this elder nor list this committee's referrals.
  EXPECT_EQ(Call("ConsoleService/CreateReferral", refer, &referred, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  sch::ListReferralsRequest theirs;
  theirs.set_region(kCommittee);
  EXPECT_EQ(Call("ConsoleService/ListReferrals", theirs, &listed, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // An offering that does not serve the elder is named as the problem.
  sch::CreateReferralRequest nowhere = refer;
  nowhere.set_offering("offerings/nosuch");
  nowhere.set_request_id("referral-0");
  s = Call("ConsoleService/CreateReferral", nowhere, &referred, staff);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "offering")) << s.error_message();

  reg::RecordConsentRequest consent;
  consent.set_name(elder);
  consent.set_purpose(reg::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS);
  consent.set_granted(true);
  consent.set_reason("家属同意转介");
  reg::RecordConsentResponse consented;
  s = Call("ConsoleService/RecordConsent", consent, &consented, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  s = Call("ConsoleService/CreateReferral", refer, &referred, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const sch::Referral& sent = referred.referral();
  EXPECT_EQ(sent.state(), sch::REFERRAL_STATE_SENT);
  EXPECT_EQ(sent.to_organisation(), "organisations/yangguang");
  EXPECT_EQ(sent.from_organisation(), "organisations/lelin");
  EXPECT_EQ(sent.committee(), kCommittee);
  EXPECT_EQ(sent.sent_by(), "committee_staff:staff/zhou");
  const std::string referral = sent.name();
  // One open referral per promise.
  sch::CreateReferralRequest twice = refer;
  twice.set_request_id("referral-1b");
  EXPECT_EQ(Call("ConsoleService/CreateReferral", twice, &referred, staff).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // The care station sees it in the partner API: the promise's terms, no name, address or phone.
  gw::ListMyReferralsRequest inbox;
  gw::ListMyReferralsResponse received;
  s = Call("PartnerService/ListMyReferrals", inbox, &received, provider);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(received.referrals_size(), 1);
  EXPECT_EQ(received.referrals(0).name(), referral);
  EXPECT_EQ(received.referrals(0).terms().duration_minutes(), 45);
  EXPECT_EQ(received.referrals(0).terms().recurrence().rrule(), "FREQ=DAILY");
  std::string seen;
  google::protobuf::util::MessageToJsonString(received, &seen);
  EXPECT_FALSE(absl::StrContains(seen, "陈")) << seen;
  EXPECT_FALSE(absl::StrContains(seen, "13811112222")) << seen;
  // The owner's key does not receive it, and cannot answer it.
  ASSERT_TRUE(Call("PartnerService/ListMyReferrals", inbox, &received, owner).ok());
  EXPECT_EQ(received.referrals_size(), 0);
  gw::AnswerMyReferralRequest accept;
  accept.set_name(referral);
  accept.set_accept(true);
  accept.set_request_id("accept-1");
  gw::AnswerMyReferralResponse answered;
  EXPECT_EQ(Call("PartnerService/AnswerReferral", accept, &answered, owner).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Accepted: the promise is the station's own, its two weeks of visits moved with their dates,
  // and the station learns where the elder lives (audited under its key).
  s = Call("PartnerService/AnswerReferral", accept, &answered, provider);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(answered.referral().state(), sch::REFERRAL_STATE_ACCEPTED);
  const std::string provider_commitment = answered.commitment().name();
  EXPECT_EQ(answered.commitment().owner_organisation(), "organisations/yangguang");
  EXPECT_EQ(answered.commitment().referral(), referral);
  EXPECT_EQ(answered.elder().display_name(), "陈桂芳");
  EXPECT_EQ(answered.elder().phone(), "13811112222");
  EXPECT_EQ(answered.elder().address(), register_elder.elder().address());
  gw::AnswerMyReferralResponse answered_again;
  ASSERT_TRUE(Call("PartnerService/AnswerReferral", accept, &answered_again, provider).ok());
  EXPECT_EQ(answered_again.commitment().name(), provider_commitment);
  reg::ListAuditEntriesRequest audit_request;
  audit_request.set_elder(elder);
  reg::ListAuditEntriesResponse audit;
  ASSERT_TRUE(Call("ConsoleService/ListAuditEntries", audit_request, &audit, staff).ok());
  bool audited = false;
  for (const auto& entry : audit.entries()) {
    audited |= absl::StrContains(entry.reason(), referral);
  }
  EXPECT_TRUE(audited) << "the provider's read of the elder is not in the audit log";

  sch::GetCommitmentRequest get;
  get.set_name(moving);
  sch::GetCommitmentResponse original;
  ASSERT_TRUE(Call("ConsoleService/GetCommitment", get, &original, staff).ok());
  EXPECT_EQ(original.commitment().state(), sch::COMMITMENT_STATE_CANCELLED);
  EXPECT_EQ(original.commitment().moved_to(), provider_commitment);
  sch::ListVisitsRequest list;
  list.set_commitment(provider_commitment);
  list.set_elder(elder);
  sch::ListVisitsResponse moved;
  ASSERT_TRUE(Call("ConsoleService/ListVisits", list, &moved, staff).ok());
  ASSERT_EQ(moved.visits_size(), 14);
  EXPECT_EQ(moved.visits(0).occurrence(), Day(today + 1) + "T15:00:00");
  list.set_commitment(moving);
  sch::ListVisitsResponse left;
  ASSERT_TRUE(Call("ConsoleService/ListVisits", list, &left, staff).ok());
  for (const auto& v : left.visits()) {
    EXPECT_EQ(v.state(), sch::VISIT_STATE_CANCELLED) << v.name();
    EXPECT_EQ(v.reason_code(), "MOVED_BY_REFERRAL") << v.name();
  }

  // The station was told of the referral, the committee and the elder of its acceptance; the
  // street's promises show the old one moved, not broken.
  auto notices_of = [&](const std::string& recipient) {
    std::vector<std::string> texts;
    fb::ListNoticesRequest inbox_request;
    inbox_request.set_recipient(recipient);
    fb::ListNoticesResponse page;
    grpc::Status status = Eventually([&] {
      grpc::Status listed = Call("ConsoleService/ListNotices", inbox_request, &page, staff);
      if (!listed.ok()) return listed;
      for (const auto& n : page.notices()) {
        if (n.kind() == fb::NOTICE_KIND_REFERRAL && n.subject() == referral) {
          return grpc::Status::OK;
        }
      }
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no referral notice yet");
    });
    EXPECT_TRUE(status.ok()) << recipient << ": " << status.error_message();
    for (const auto& n : page.notices()) {
      if (n.kind() == fb::NOTICE_KIND_REFERRAL) texts.push_back(n.text());
    }
    return texts;
  };
  EXPECT_EQ(notices_of("organisations/yangguang").size(), 1u);
  EXPECT_EQ(notices_of(kCommittee).size(), 1u);
  EXPECT_EQ(notices_of(elder).size(), 1u);
  fb::ListPromisesRequest promises_request;
  promises_request.set_days(7);
  fb::ListPromisesResponse promises;
  ASSERT_TRUE(Call("ConsoleService/ListPromises", promises_request, &promises, staff).ok());
  bool moved_shown = false;
  for (const auto& p : promises.promises()) {
    if (p.commitment() == moving) {
      moved_shown = true;
      EXPECT_EQ(p.moved_to(), provider_commitment);
      EXPECT_EQ(p.status(), fb::PROMISE_STATUS_KEPT);
    }
  }
  EXPECT_TRUE(moved_shown) << "the moved promise is not in the street's list";

  // The station delivers the first visit through its own system; the sweep puts the referral in
  // service, and the station closes it when the need is met.
  gw::ListMyDeliveriesRequest deliveries_request;
  deliveries_request.set_date(Day(today + 1));
  gw::ListMyDeliveriesResponse deliveries;
  ASSERT_TRUE(
      Call("PartnerService/ListMyDeliveries", deliveries_request, &deliveries, provider).ok());
  ASSERT_EQ(deliveries.deliveries_size(), 1);
  gw::ReportDeliveryRequest report;
  report.set_visit(deliveries.deliveries(0).visit());
  report.set_worker(station_worker);
  gw::ReportDeliveryResponse reported;
  s = Call("PartnerService/ReportDelivery", report, &reported, provider);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reported.delivery().arrival_method(), sch::CHECK_METHOD_PARTNER_REPORT);
  // A partner-reported visit waits for a review; the station's supervisor approves it through
  // the partner API (the owner of the old promise cannot reach it).
  sch::ReviewVisitRequest review;
  review.set_name(deliveries.deliveries(0).visit());
  review.set_decision(sch::REVIEW_DECISION_APPROVE);
  review.set_reason_code("PROVIDER_RECORD_CHECKED");
  review.set_request_id("station-review-1");
  sch::ReviewVisitResponse reviewed;
  EXPECT_EQ(Call("PartnerService/ReviewVisit", review, &reviewed, owner).error_code(),
            grpc::StatusCode::NOT_FOUND);
  s = Call("PartnerService/ReviewVisit", review, &reviewed, provider);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reviewed.visit().review().state(), sch::REVIEW_STATE_APPROVED);
  EXPECT_TRUE(absl::StrContains(reviewed.visit().review().reviewer(), "day-yangguang"))
      << reviewed.visit().review().reviewer();
  EXPECT_TRUE(absl::StrContains(reviewed.visit().check_in().recorded_by(), "day-yangguang"))
      << reviewed.visit().check_in().recorded_by();
  sch::SweepMissedVisitsRequest sweep;
  sch::SweepMissedVisitsResponse swept;
  s = Call("ConsoleService/SweepMissedVisits", sweep, &swept, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(swept.referrals_in_service(), 1);
  gw::CompleteMyReferralRequest complete;
  complete.set_name(referral);
  complete.set_outcome(sch::REFERRAL_OUTCOME_NEED_MET);
  gw::CompleteMyReferralResponse completed;
  s = Call("PartnerService/CompleteReferral", complete, &completed, provider);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(completed.referral().state(), sch::REFERRAL_STATE_COMPLETED);
  EXPECT_EQ(completed.referral().outcome(), sch::REFERRAL_OUTCOME_NEED_MET);
  EXPECT_TRUE(completed.referral().has_service_start_time());

  // A second promise: declined for lack of capacity, it stays with its owner.
  const std::string declined_promise = promise("declined");
  refer.set_commitment(declined_promise);
  refer.set_request_id("referral-2");
  ASSERT_TRUE(Call("ConsoleService/CreateReferral", refer, &referred, staff).ok());
  gw::AnswerMyReferralRequest decline;
  decline.set_name(referred.referral().name());
  decline.set_accept(false);
  gw::AnswerMyReferralResponse declined;
  s = Call("PartnerService/AnswerReferral", decline, &declined, provider);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "a decline needs its reason";
  decline.set_decline_reason(sch::DECLINE_REASON_NO_CAPACITY);
  s = Call("PartnerService/AnswerReferral", decline, &declined, provider);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(declined.referral().state(), sch::REFERRAL_STATE_DECLINED);
  {
    // The committee is told to find another provider.
    fb::ListNoticesRequest inbox_request;
    inbox_request.set_recipient(kCommittee);
    fb::ListNoticesResponse page;
    grpc::Status told = Eventually([&] {
      grpc::Status listed = Call("ConsoleService/ListNotices", inbox_request, &page, staff);
      if (!listed.ok()) return listed;
      for (const auto& n : page.notices()) {
        if (n.subject() == declined.referral().name()) return grpc::Status::OK;
      }
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no decline notice yet");
    });
    EXPECT_TRUE(told.ok()) << told.error_message();
  }
  EXPECT_FALSE(declined.has_elder()) << "a declining provider learns nothing more";
  get.set_name(declined_promise);
  ASSERT_TRUE(Call("ConsoleService/GetCommitment", get, &original, staff).ok());
  EXPECT_EQ(original.commitment().state(), sch::COMMITMENT_STATE_ACTIVE);

  // The social worker has no app: the committee confirms the visit by phone, and the departure
  // with the elder's son at the door. Both are the committee's records, and without a position
  // the visit waits for a review.
  {
    sch::ListVisitsRequest of_promise;
    of_promise.set_commitment(declined_promise);
    of_promise.set_elder(elder);
    sch::ListVisitsResponse its;
    ASSERT_TRUE(Call("ConsoleService/ListVisits", of_promise, &its, staff).ok());
    ASSERT_FALSE(its.visits().empty());
    gw::RecordVisitCheckRequest check;
    check.set_visit(its.visits(0).name());
    check.set_worker(social_worker);
    check.set_method(sch::CHECK_METHOD_APP_GPS);
    gw::RecordVisitCheckResponse checked;
    EXPECT_EQ(Call("ConsoleService/RecordVisitCheck", check, &checked, staff).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << "a GPS check is the worker app's";
    check.set_method(sch::CHECK_METHOD_PHONE);
    EXPECT_EQ(Call("ConsoleService/RecordVisitCheck", check, &checked, neighbour).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    s = Call("ConsoleService/RecordVisitCheck", check, &checked, staff);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(checked.visit().state(), sch::VISIT_STATE_IN_PROGRESS);
    EXPECT_EQ(checked.visit().check_in().method(), sch::CHECK_METHOD_PHONE);
    EXPECT_EQ(checked.visit().check_in().recorded_by(), "committee_staff:staff/zhou");
    check.set_method(sch::CHECK_METHOD_FAMILY_PROXY);
    check.set_check_out(true);
    s = Call("ConsoleService/RecordVisitCheck", check, &checked, staff);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(checked.visit().state(), sch::VISIT_STATE_COMPLETED);
    EXPECT_EQ(checked.visit().check_out().method(), sch::CHECK_METHOD_FAMILY_PROXY);
    EXPECT_EQ(checked.visit().check_out().recorded_by(), "committee_staff:staff/zhou");
    EXPECT_EQ(checked.visit().review().state(), sch::REVIEW_STATE_PENDING);
  }

  // A third, sent and taken back before an answer; the station can no longer accept it.
  const std::string withdrawn_promise = promise("withdrawn");
  refer.set_commitment(withdrawn_promise);
  refer.set_request_id("referral-3");
  ASSERT_TRUE(Call("ConsoleService/CreateReferral", refer, &referred, staff).ok());
  sch::WithdrawReferralRequest withdraw;
  withdraw.set_name(referred.referral().name());
  sch::WithdrawReferralResponse withdrawn;
  EXPECT_EQ(Call("ConsoleService/WithdrawReferral", withdraw, &withdrawn, neighbour).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  s = Call("ConsoleService/WithdrawReferral", withdraw, &withdrawn, staff);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(withdrawn.referral().state(), sch::REFERRAL_STATE_WITHDRAWN);
  accept.set_name(referred.referral().name());
  accept.set_request_id("accept-3");
  EXPECT_EQ(Call("PartnerService/AnswerReferral", accept, &answered, provider).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // The committee's list: newest first, each where it stands.
  ASSERT_TRUE(Call("ConsoleService/ListReferrals", mine, &listed, staff).ok());
  ASSERT_EQ(listed.referrals_size(), 3);
  EXPECT_EQ(listed.referrals(0).state(), sch::REFERRAL_STATE_WITHDRAWN);
  EXPECT_EQ(listed.referrals(1).state(), sch::REFERRAL_STATE_DECLINED);
  EXPECT_EQ(listed.referrals(2).state(), sch::REFERRAL_STATE_COMPLETED);
  mine.add_states(sch::REFERRAL_STATE_DECLINED);
  ASSERT_TRUE(Call("ConsoleService/ListReferrals", mine, &listed, staff).ok());
  ASSERT_EQ(listed.referrals_size(), 1);
  EXPECT_EQ(listed.referrals(0).decline_reason(), sch::DECLINE_REASON_NO_CAPACITY);
}

INSTANTIATE_TEST_SUITE_P(Protocols, DayInTheLifeTest, ::testing::Values("grpc", "json"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace linli
