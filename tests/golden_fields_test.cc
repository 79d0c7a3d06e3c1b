// Privacy goldens: WHICH fields each role sees from every read method of the public API.
//
// The four real binaries (registry, scheduling, feedback, gateway) run on loopback with SQLite.
// A small street is seeded: an elder with every kind of personal data (ID number, phone,
// address, location, care grade, a family contact), a worker, an offering, a daily promise and
// its visits, one visit checked in and out by the worker through the gateway, the elder's
// feedback on it, a complaint and a partner's work order. Then every read method of every
// gateway service (Get*, List*, Search*, enumerated from the descriptor pool, so methods added
// later are covered) is called as each role: elder, family, worker, committee staff, street
// staff, admin, and a partner API key per scope. Methods whose request has a `view` field are
// also called with its last enum value (e.g. ELDER_VIEW_FULL) and a reason.
//
// Each answer is reduced to its status code and field paths, each "present" or "masked" (a
// string with '*' in it, as common/pii/masking.h writes them); a field not listed is absent.
// Repeated fields are the union over their elements ("upcoming_visits[].visit"); timestamps are
// leaves; numbers, enums and bools without explicit presence are left out because a zero cannot
// be told from a hidden value (explicit-presence ones, like care_grade, are kept). Values, ids and
// times are never recorded.
//
// tests/golden/<role>.txt holds the expected result. The test fails when a role sees a field it
// did not see before (or unmasked where it was masked), when a status changes, when a field is
// no longer seen (the golden is stale), and when a read method has no golden ("add a golden for
// X"). Regenerate deliberately, after checking the difference is intended:
//
//   LINLI_UPDATE_GOLDENS=1 build/bin/golden_fields_test     # rewrites tests/golden/*.txt
//   git diff tests/golden/                                     # review what each role now sees
#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/auth/api_keys.h"
#include "common/auth/jwt.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_probe.h"
#include "common/grpc_status.h"
#include "common/pii/field_cipher.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "linli/gateway/v1/elder_app.grpc.pb.h"
#include "linli/gateway/v1/partner.grpc.pb.h"
#include "linli/gateway/v1/worker_app.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/backends.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using MessageStub = grpc::TemplatedGenericStub<Message, Message>;

const std::string kSecret = "golden-test-secret-0123456789abcdef";
constexpr char kPepper[] = "golden-test-pepper";
// The partner scopes the gateway's rules know (services/gateway/authz_rules.cc).
const char* const kPartnerScopes[] = {"offerings.read", "workorders.read", "workorders.write",
                                      "referrals.read", "notices.read"};

std::string Address() { return absl::StrCat("127.0.0.1:", testing::FreePort()); }

// The roles of the goldens: file name -> credential maker.
struct RoleCase {
  std::string file;   // tests/golden/<file>.txt
  std::string role;   // JWT role, or "partner"
  std::string scope;  // partners only
};

std::vector<RoleCase> Roles() {
  std::vector<RoleCase> roles = {{"elder", "elder", ""},
                                 {"family", "family", ""},
                                 {"worker", "worker", ""},
                                 {"committee_staff", "committee_staff", ""},
                                 {"street_staff", "street_staff", ""},
                                 {"admin", "admin", ""}};
  for (const char* scope : kPartnerScopes) {
    roles.push_back({absl::StrCat("partner-", scope), "partner", scope});
  }
  return roles;
}

template <typename Fn>
grpc::Status Eventually(Fn call) {
  grpc::Status status;
  for (int i = 0; i < 100; ++i) {
    status = call();
    if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION &&
        status.error_code() != grpc::StatusCode::NOT_FOUND) {
      return status;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return status;
}

// The processes and the seeded street, built once for the binary.
class Street {
 public:
  static Street& Get() {
    static Street* street = new Street();
    return *street;
  }

  std::string error;
  std::string dir;
  std::string gateway_address;
  std::string elder, contact_phone, worker, commitment, visit, complaint, partner_work_order;
  std::string home_offering;
  std::map<std::string, std::string> partner_keys;  // scope -> key
  std::vector<testing::ChildProcess> processes;

  std::string Token(const std::string& role) const {
    nlohmann::json claims = {{"iss", "linli-dev"},
                             {"aud", "linli-gateway"},
                             {"role", role},
                             {"exp", absl::ToUnixSeconds(absl::Now()) + 3600},
                             {"iat", absl::ToUnixSeconds(absl::Now())}};
    if (role == "elder") {
      claims["sub"] = elder;
    } else if (role == "family") {
      claims["sub"] = "families/f1";
      claims["elders"] = {elder};
    } else if (role == "worker") {
      claims["sub"] = worker;
      claims["region"] = "310101020001";
    } else if (role == "committee_staff") {
      claims["sub"] = "staff/committee";
      claims["region"] = "310101020001";
    } else {
      claims["sub"] = absl::StrCat("staff/", role);
      claims["region"] = "310101020";
    }
    return *auth::SignJwt(*auth::JwtKey::Hmac("golden", kSecret), claims);
  }

  std::string Credential(const RoleCase& role) const {
    return role.role == "partner" ? partner_keys.at(role.scope) : Token(role.role);
  }

  std::shared_ptr<grpc::Channel> channel;

 private:
  Street() {
    if (absl::Status built = Build(); !built.ok()) error = built.ToString();
  }

  static absl::Status Check(const grpc::Status& status, const std::string& what) {
    if (status.ok()) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat(what, ": ", status.error_code(), " ", status.error_message()));
  }

  static std::unique_ptr<grpc::ClientContext> Context(const std::string& credential = "") {
    auto context = NewClientContext(nullptr, absl::Seconds(10));
    if (!credential.empty()) context->AddMetadata("authorization", "Bearer " + credential);
    return context;
  }

  absl::Status Start(const std::string& name, std::vector<std::string> args) {
    absl::StatusOr<testing::ChildProcess> child = testing::ChildProcess::Start(
        absl::StrCat(LINLI_BIN_DIR, "/linli-", name), args, absl::StrCat(dir, "/", name, ".log"));
    if (!child.ok()) return child.status();
    processes.push_back(std::move(*child));
    return absl::OkStatus();
  }

  absl::Status Build() {
    dir = testing::MakeTempDir("golden");
    std::ofstream(dir + "/pii.key") << pii::FieldCipher::GenerateKeySpec("k1") << "\n";
    std::ofstream(dir + "/jwt-keys.json") << nlohmann::json{
        {"keys",
         {{{"kid", "golden"},
           {"alg", "HS256"},
           {"k",
            auth::Base64UrlEncode(kSecret)}}}}}.dump();
    std::ofstream(dir + "/pepper") << kPepper << "\n";
    {
      std::ofstream keys(dir + "/api-keys");
      for (const char* scope : kPartnerScopes) {
        const std::string id = absl::StrCat("golden", partner_keys.size());
        const std::string key = auth::NewApiKey(id);
        absl::StatusOr<auth::ApiKeyParts> parts = auth::ParseApiKey(key);
        if (!parts.ok()) return parts.status();
        keys << auth::FormatApiKeyEntry({id,
                                         "organisations/homeorg",
                                         "310101020",
                                         {scope},
                                         auth::HashApiSecret(kPepper, parts->secret),
                                         ""})
             << "\n";
        partner_keys[scope] = key;
      }
    }
    const std::string registry_address = Address(), scheduling_address = Address(),
                      feedback_address = Address();
    gateway_address = Address();
    RETURN_IF_ERROR(
        Start("registry", {"--listen=" + registry_address, "--db=sqlite:" + dir + "/registry.db",
                           "--pii_key_file=" + dir + "/pii.key"}));
    RETURN_IF_ERROR(Start(
        "scheduling", {"--listen=" + scheduling_address, "--db=sqlite:" + dir + "/scheduling.db",
                       "--registry_address=" + registry_address, "--sweep_interval=1h",
                       "--pii_key_file=" + dir + "/pii.key"}));
    RETURN_IF_ERROR(Start(
        "feedback",
        {"--listen=" + feedback_address, "--db=sqlite:" + dir + "/feedback.db",
         "--registry_address=" + registry_address, "--scheduling_address=" + scheduling_address,
         "--poll_interval=100ms", "--alert_interval=1h", "--pii_key_file=" + dir + "/pii.key"}));
    RETURN_IF_ERROR(Start(
        "gateway",
        {"--listen=" + gateway_address, absl::StrCat("--http_listen=", Address()),
         "--registry_address=" + registry_address, "--scheduling_address=" + scheduling_address,
         "--feedback_address=" + feedback_address, "--jwt_keys_file=" + dir + "/jwt-keys.json",
         "--api_keys_file=" + dir + "/api-keys", "--api_key_pepper_file=" + dir + "/pepper",
         "--rate_limit_per_second=100000", "--rate_limit_burst=100000"}));
    const std::pair<std::string, const char*> apis[] = {
        {registry_address, "linli.registry.v1.RegistryService"},
        {scheduling_address, "linli.scheduling.v1.SchedulingService"},
        {feedback_address, "linli.feedback.v1.FeedbackService"},
        {gateway_address, "linli.gateway.v1.ConsoleService"}};
    for (const auto& [address, api] : apis) {
      if (!testing::WaitServing(address, api, absl::Seconds(30))) {
        return absl::UnavailableError(absl::StrCat(api, " did not start; logs in ", dir));
      }
    }
    auto registry = registry::v1::RegistryService::NewStub(
        testing::PlatformPki::Shared().Channel(registry_address, "linli-registry"));
    auto scheduling = scheduling::v1::SchedulingService::NewStub(
        testing::PlatformPki::Shared().Channel(scheduling_address, "linli-scheduling"));
    channel = NewChannel(gateway_address, {});

    // 上海市 > 黄浦区 > 五里桥街道 > 桥一居民区, organisation homeorg, service type visiting.
    using registry::v1::RegionLevel;
    const std::tuple<const char*, const char*, RegionLevel, const char*> regions[] = {
        {"310000", "上海市", registry::v1::REGION_LEVEL_MUNICIPALITY, ""},
        {"310101", "黄浦区", registry::v1::REGION_LEVEL_DISTRICT, "regions/310000"},
        {"310101020", "五里桥街道", registry::v1::REGION_LEVEL_STREET, "regions/310101"},
        {"310101020001", "桥一居民区", registry::v1::REGION_LEVEL_COMMITTEE, "regions/310101020"}};
    for (const auto& [code, label, level, parent] : regions) {
      registry::v1::CreateRegionRequest q;
      q.mutable_region()->set_code(code);
      q.mutable_region()->set_display_name(label);
      q.mutable_region()->set_level(level);
      q.mutable_region()->set_parent(parent);
      registry::v1::CreateRegionResponse a;
      RETURN_IF_ERROR(Check(registry->CreateRegion(Context().get(), q, &a), "CreateRegion"));
    }
    {
      registry::v1::CreateOrganisationRequest q;
      q.mutable_organisation()->set_id("homeorg");
      q.mutable_organisation()->set_display_name("乐龄社工服务社");
      q.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
      q.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
      q.mutable_organisation()->set_region("regions/310101020");
      registry::v1::CreateOrganisationResponse a;
      RETURN_IF_ERROR(
          Check(registry->CreateOrganisation(Context().get(), q, &a), "CreateOrganisation"));
      registry::v1::CreateServiceTypeRequest t;
      t.mutable_service_type()->set_code("visiting");
      t.mutable_service_type()->set_display_name("探访");
      registry::v1::CreateServiceTypeResponse ta;
      RETURN_IF_ERROR(
          Check(registry->CreateServiceType(Context().get(), t, &ta), "CreateServiceType"));
      registry::v1::CreateOfferingRequest o;
      o.mutable_offering()->set_organisation("organisations/homeorg");
      o.mutable_offering()->set_service_type("serviceTypes/visiting");
      o.mutable_offering()->set_display_name("独居老人探访");
      o.mutable_offering()->add_covered_regions("regions/310101020");
      o.mutable_offering()->set_capacity_per_week(40);
      registry::v1::CreateOfferingResponse oa;
      RETURN_IF_ERROR(Check(registry->CreateOffering(Context().get(), o, &oa), "CreateOffering"));
      home_offering = oa.offering().name();
      registry::v1::CreateWorkerRequest w;
      w.mutable_worker()->set_display_name("王小燕");
      w.mutable_worker()->set_organisation("organisations/homeorg");
      w.mutable_worker()->add_skills("visiting");
      w.mutable_worker()->mutable_base_location()->set_latitude(31.2001);
      w.mutable_worker()->mutable_base_location()->set_longitude(121.4801);
      registry::v1::CreateWorkerResponse wa;
      RETURN_IF_ERROR(Check(registry->CreateWorker(Context().get(), w, &wa), "CreateWorker"));
      worker = wa.worker().name();
    }
    {
      registry::v1::CreateElderRequest q;
      registry::v1::Elder* e = q.mutable_elder();
      e->set_display_name("李桂英");
      e->set_region("regions/310101020001");
      e->set_address("上海市黄浦区瞿溪路1111弄5号302室");
      e->mutable_location()->set_latitude(31.2003);
      e->mutable_location()->set_longitude(121.4803);
      e->set_id_number("310101194501011238");
      e->set_phone("13812345678");
      e->set_living_situation(registry::v1::LIVING_SITUATION_ALONE);
      e->set_care_grade(4);
      e->set_assessment_date("2026-03-01");
      e->add_needs("serviceTypes/visiting");
      for (auto purpose :
           {registry::v1::CONSENT_PURPOSE_PERSONAL_DATA, registry::v1::CONSENT_PURPOSE_HEALTH_DATA,
            registry::v1::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS}) {
        registry::v1::Consent* consent = e->add_consents();
        consent->set_purpose(purpose);
        consent->set_granted(true);
        consent->set_recorded_by("staff/committee");
      }
      registry::v1::Contact* contact = e->add_contacts();
      contact->set_display_name("李明");
      contact->set_relationship("儿子");
      contact->set_phone("13987654321");
      contact->set_proxy(true);
      registry::v1::CreateElderResponse a;
      RETURN_IF_ERROR(Check(registry->CreateElder(Context().get(), q, &a), "CreateElder"));
      elder = a.elder().name();
    }
    {
      scheduling::v1::CreateCommitmentRequest q;
      q.mutable_commitment()->set_elder(elder);
      q.mutable_commitment()->set_service_type("serviceTypes/visiting");
      q.mutable_commitment()->set_owner_organisation("organisations/homeorg");
      q.mutable_commitment()->set_valid_from("2026-01-01");
      q.mutable_commitment()->set_care_grade(6);  // every day
      q.mutable_commitment()->set_preferred_worker(worker);
      q.mutable_commitment()->set_funding_programme("长护险");
      scheduling::v1::CreateCommitmentResponse a;
      RETURN_IF_ERROR(
          Check(scheduling->CreateCommitment(Context().get(), q, &a), "CreateCommitment"));
      commitment = a.commitment().name();
      scheduling::v1::MaterializeVisitsRequest m;
      m.set_from_date(absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600)));
      m.set_days(7);
      scheduling::v1::MaterializeVisitsResponse ma;
      RETURN_IF_ERROR(
          Check(scheduling->MaterializeVisits(Context().get(), m, &ma), "MaterializeVisits"));
    }
    // Today's visit, booked to the worker, done by the worker through the gateway; and an
    // afternoon visit of a second promise, booked and still ahead, so the route shows a stop.
    auto book_today = [&](const std::string& promise) -> absl::Status {
      scheduling::v1::ListVisitsRequest q;
      q.set_commitment(promise);
      q.set_from_date(absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600)));
      q.set_to_date(absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24),
                                     absl::FixedTimeZone(8 * 3600)));
      scheduling::v1::ListVisitsResponse a;
      RETURN_IF_ERROR(Check(scheduling->ListVisits(Context().get(), q, &a), "ListVisits"));
      if (a.visits_size() != 1) {
        return absl::InternalError(absl::StrCat("today has ", a.visits_size(), " visits"));
      }
      scheduling::v1::AssignVisitRequest assign;
      assign.set_name(a.visits(0).name());
      assign.set_worker(worker);
      assign.set_outside_availability(true);  // whatever the hour the test runs at
      scheduling::v1::AssignVisitResponse assigned;
      return Check(scheduling->AssignVisit(Context().get(), assign, &assigned), "AssignVisit");
    };
    RETURN_IF_ERROR(book_today(commitment));
    // A promise of a care station referred to homeorg (the partner key's organisation), waiting
    // for its answer: what the receiving provider sees before it accepts.
    {
      registry::v1::CreateOrganisationRequest q;
      q.mutable_organisation()->set_id("stationorg");
      q.mutable_organisation()->set_display_name("阳光护理站");
      q.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_COMMERCIAL_PROVIDER);
      q.mutable_organisation()->set_sector(registry::v1::SECTOR_COMMERCIAL);
      q.mutable_organisation()->set_region("regions/310101020");
      registry::v1::CreateOrganisationResponse a;
      RETURN_IF_ERROR(
          Check(registry->CreateOrganisation(Context().get(), q, &a), "CreateOrganisation"));
      scheduling::v1::CreateCommitmentRequest c;
      c.mutable_commitment()->set_elder(elder);
      c.mutable_commitment()->set_service_type("serviceTypes/visiting");
      c.mutable_commitment()->set_owner_organisation("organisations/stationorg");
      c.mutable_commitment()->set_valid_from("2026-01-01");
      c.mutable_commitment()->mutable_recurrence()->set_rrule("FREQ=WEEKLY;BYDAY=SA");
      c.mutable_commitment()->mutable_recurrence()->set_dtstart("2026-01-03T10:00:00");
      c.mutable_commitment()->set_duration_minutes(45);
      scheduling::v1::CreateCommitmentResponse ca;
      RETURN_IF_ERROR(
          Check(scheduling->CreateCommitment(Context().get(), c, &ca), "CreateCommitment"));
      scheduling::v1::CreateReferralRequest r;
      r.set_commitment(ca.commitment().name());
      r.set_offering(home_offering);
      r.set_reason(scheduling::v1::REFERRAL_REASON_OWNER_NO_CAPACITY);
      scheduling::v1::CreateReferralResponse ra;
      RETURN_IF_ERROR(Check(scheduling->CreateReferral(Context().get(), r, &ra), "CreateReferral"));
    }
    {
      scheduling::v1::CreateCommitmentRequest q;
      q.mutable_commitment()->set_elder(elder);
      q.mutable_commitment()->set_service_type("serviceTypes/visiting");
      q.mutable_commitment()->set_owner_organisation("organisations/homeorg");
      q.mutable_commitment()->set_valid_from("2026-01-01");
      q.mutable_commitment()->mutable_recurrence()->set_rrule("FREQ=DAILY");
      q.mutable_commitment()->mutable_recurrence()->set_dtstart("2026-01-01T15:00:00");
      q.mutable_commitment()->set_duration_minutes(60);
      q.mutable_commitment()->set_window_minutes(120);
      scheduling::v1::CreateCommitmentResponse a;
      RETURN_IF_ERROR(
          Check(scheduling->CreateCommitment(Context().get(), q, &a), "CreateCommitment"));
      scheduling::v1::MaterializeVisitsRequest m;
      m.set_commitment(a.commitment().name());
      m.set_from_date(absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600)));
      m.set_days(1);
      scheduling::v1::MaterializeVisitsResponse ma;
      RETURN_IF_ERROR(
          Check(scheduling->MaterializeVisits(Context().get(), m, &ma), "MaterializeVisits"));
      RETURN_IF_ERROR(book_today(a.commitment().name()));
    }
    auto worker_app = gateway::v1::WorkerAppService::NewStub(channel);
    gateway::v1::ListMyVisitsRequest list;
    gateway::v1::ListMyVisitsResponse today;
    RETURN_IF_ERROR(Check(worker_app->ListMyVisits(Context(Token("worker")).get(), list, &today),
                          "ListMyVisits"));
    if (today.stops_size() != 2) {
      return absl::InternalError(absl::StrCat("worker sees ", today.stops_size(), " stops"));
    }
    visit = today.stops(0).visit().commitment() == commitment ? today.stops(0).visit().name()
                                                              : today.stops(1).visit().name();
    gateway::v1::WorkerCheckInRequest in;
    in.set_commitment(commitment);
    in.set_visit(visit);
    in.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
    in.mutable_location()->set_latitude(31.2003);
    in.mutable_location()->set_longitude(121.4803);
    gateway::v1::WorkerCheckInResponse checked_in;
    RETURN_IF_ERROR(
        Check(worker_app->CheckIn(Context(Token("worker")).get(), in, &checked_in), "CheckIn"));
    gateway::v1::WorkerCheckOutRequest out;
    out.set_commitment(commitment);
    out.set_visit(visit);
    out.set_method(scheduling::v1::CHECK_METHOD_APP_GPS);
    out.mutable_location()->set_latitude(31.2003);
    out.mutable_location()->set_longitude(121.4803);
    gateway::v1::WorkerCheckOutResponse checked_out;
    RETURN_IF_ERROR(
        Check(worker_app->CheckOut(Context(Token("worker")).get(), out, &checked_out), "CheckOut"));
    // The elder's feedback (once feedback has the completed visit), a complaint, a partner's
    // work order.
    auto elder_app = gateway::v1::ElderAppService::NewStub(channel);
    gateway::v1::SubmitVisitFeedbackRequest feedback;
    feedback.set_elder(elder);
    feedback.set_visit(visit);
    feedback.set_faces(4);
    feedback.set_did_as_promised(feedback::v1::ANSWER_YES);
    feedback.set_felt_cared_for(feedback::v1::ANSWER_PARTLY);
    feedback.set_words("小王很耐心");
    feedback.set_request_id("golden-feedback");
    gateway::v1::SubmitVisitFeedbackResponse feedback_out;
    RETURN_IF_ERROR(Check(Eventually([&] {
                            return elder_app->SubmitVisitFeedback(Context(Token("elder")).get(),
                                                                  feedback, &feedback_out);
                          }),
                          "SubmitVisitFeedback"));
    gateway::v1::RaiseComplaintRequest raise;
    raise.set_elder(elder);
    raise.set_commitment(commitment);
    raise.set_description("上周三没有人来");
    raise.set_request_id("golden-complaint");
    gateway::v1::RaiseComplaintResponse raised;
    RETURN_IF_ERROR(Check(elder_app->RaiseComplaint(Context(Token("elder")).get(), raise, &raised),
                          "RaiseComplaint"));
    complaint = raised.work_order().name();
    auto partner = gateway::v1::PartnerService::NewStub(channel);
    gateway::v1::SubmitWorkOrderRequest submit;
    submit.set_commitment(commitment);
    submit.set_description("12345 热线转来：送餐迟到");
    submit.set_external_reference("12345-2026-001");
    submit.set_request_id("golden-partner");
    gateway::v1::SubmitWorkOrderResponse submitted;
    RETURN_IF_ERROR(
        Check(partner->SubmitWorkOrder(Context(partner_keys.at("workorders.write")).get(), submit,
                                       &submitted),
              "SubmitWorkOrder"));
    partner_work_order = submitted.work_order().name();
    return absl::OkStatus();
  }
};

class StopStreet : public ::testing::Environment {
 public:
  void TearDown() override { Street::Get().processes.clear(); }
};
[[maybe_unused]] ::testing::Environment* const kStopStreet =
    ::testing::AddGlobalTestEnvironment(new StopStreet);

// Every read method of the public API: methods named Get*, List* or Search* of every
// linli.gateway.v1 service the running gateway lists through server reflection (so services
// and methods added later are covered). `unknown` gets the services this binary cannot decode.
std::vector<const MethodDescriptor*> ReadMethods(std::vector<std::string>* unknown = nullptr) {
  // Naming one message of each gateway file keeps it linked into the generated pool.
  (void)gateway::v1::GetRegionRequest::descriptor();
  (void)gateway::v1::GetElderPageRequest::descriptor();
  (void)gateway::v1::ListMyVisitsRequest::descriptor();
  (void)gateway::v1::ListMyOfferingsRequest::descriptor();
  std::vector<const MethodDescriptor*> methods;
  absl::StatusOr<std::vector<std::string>> services =
      ListServices(*Street::Get().channel, absl::Seconds(5));
  if (!services.ok()) return methods;
  for (const std::string& name : *services) {
    if (!absl::StartsWith(name, "linli.gateway.v1.")) continue;
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (service == nullptr) {
      if (unknown != nullptr) unknown->push_back(name);
      continue;
    }
    for (int m = 0; m < service->method_count(); ++m) {
      const MethodDescriptor* method = service->method(m);
      if (absl::StartsWith(method->name(), "Get") || absl::StartsWith(method->name(), "List") ||
          absl::StartsWith(method->name(), "Search")) {
        methods.push_back(method);
      }
    }
  }
  return methods;
}

// The request of `method` naming the seeded street's things, and a second one with the last
// value of a `view` enum (the widest view) when the request has one.
std::vector<std::pair<std::string, std::unique_ptr<Message>>> Requests(
    const MethodDescriptor* method) {
  const Street& street = Street::Get();
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> request(factory->GetPrototype(method->input_type())->New());
  const auto* reflection = request->GetReflection();
  const std::map<std::string, std::string> name_by_type = {
      {"GetRegionRequest", "regions/310101020"},
      {"GetElderRequest", street.elder},
      {"GetOrganisationRequest", "organisations/homeorg"},
      {"GetCommitmentRequest", street.commitment},
      {"GetMyComplaintRequest", street.complaint},
      {"GetWorkOrderStatusRequest", street.partner_work_order},
      {"GetWorkOrderRequest", street.complaint},
      {"GetVisitRequest", street.visit},
  };
  const std::string today =
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::FixedTimeZone(8 * 3600));
  const std::string tomorrow =
      absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24), absl::FixedTimeZone(8 * 3600));
  const std::string in_a_week = absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24 * 7),
                                                 absl::FixedTimeZone(8 * 3600));
  const std::map<std::string, std::string> by_field = {
      {"elder", street.elder},
      {"region", "regions/310101020"},
      {"parent", "regions/310101020"},
      {"organisation", "organisations/homeorg"},
      {"commitment", street.commitment},
      {"visit", street.visit},
      {"worker", street.worker},
      {"reason", "golden test of the fields each role sees"},
      {"committee", "regions/310101020001"},
      {"street", "regions/310101020"},
      {"subject", street.elder},
      {"recipient", street.elder},
      {"responsible_organisation", "organisations/homeorg"},
      {"service_type", "serviceTypes/visiting"},
      {"from_date", today},
      {"to_date", in_a_week},
      {"date", today},
  };
  const Descriptor* type = method->input_type();
  const FieldDescriptor* view = nullptr;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (field->is_repeated()) continue;
    if (field->name() == "view" && field->type() == FieldDescriptor::TYPE_ENUM) view = field;
    if (field->type() == FieldDescriptor::TYPE_INT32 &&
        (field->name() == "days" || field->name() == "window_days")) {
      reflection->SetInt32(request.get(), field, 7);
    }
    if (field->type() != FieldDescriptor::TYPE_STRING) continue;
    std::string value;
    if (field->name() == "name") {
      auto it = name_by_type.find(type->name());
      value = it != name_by_type.end() ? it->second : street.elder;
    } else if (type->name() == "GetDayBoardRequest" && field->name() == "date") {
      // Tomorrow's board: today's would change with the hour the test runs at (the afternoon
      // visit turns late at 15:15), tomorrow's unstaffed visits need attention at any hour.
      value = tomorrow;
    } else if (type->name() == "ListReferralsRequest" && field->name() == "commitment") {
      // The street's referrals (the seeded one is of another promise than street.commitment).
    } else if (auto it = by_field.find(field->name()); it != by_field.end()) {
      value = it->second;
    }
    if (!value.empty()) reflection->SetString(request.get(), field, value);
  }
  std::vector<std::pair<std::string, std::unique_ptr<Message>>> out;
  if (view != nullptr) {
    std::unique_ptr<Message> wide(request->New());
    wide->CopyFrom(*request);
    const auto* widest = view->enum_type()->value(view->enum_type()->value_count() - 1);
    wide->GetReflection()->SetEnumValue(wide.get(), view, widest->number());
    out.emplace_back(absl::StrCat(method->full_name(), " view=", widest->name()), std::move(wide));
  }
  out.emplace_back(method->full_name(), std::move(request));
  std::reverse(out.begin(), out.end());
  return out;
}

grpc::Status CallMethod(const MethodDescriptor* method, const Message& request,
                        const std::string& credential, Message* response) {
  MessageStub stub(Street::Get().channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("authorization", "Bearer " + credential);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, absl::StrCat("/", method->service()->full_name(), "/", method->name()),
                 grpc::StubOptions(), &request, response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

// Field paths of `message` under `prefix`, "present" or "masked" (see the file comment).
void CollectFields(const Message& message, const std::string& prefix,
                   std::map<std::string, std::string>* out) {
  const auto* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string path = absl::StrCat(prefix, prefix.empty() ? "" : ".", field->name(),
                                          field->is_repeated() ? "[]" : "");
    const bool explicit_presence = field->has_presence();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        const std::string type = field->message_type()->full_name();
        if (type == "google.protobuf.Timestamp" || type == "google.protobuf.Duration" ||
            field->is_map()) {
          (*out)[path] = "present";
          break;
        }
        (*out)[path] = "present";
        const int n = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
        for (int i = 0; i < n; ++i) {
          const Message& child = field->is_repeated()
                                     ? reflection->GetRepeatedMessage(message, field, i)
                                     : reflection->GetMessage(message, field);
          CollectFields(child, path, out);
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        const int n = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
        for (int i = 0; i < n; ++i) {
          const std::string value = field->is_repeated()
                                        ? reflection->GetRepeatedString(message, field, i)
                                        : reflection->GetString(message, field);
          // One unmasked element makes the field "present" (the stronger finding).
          const bool masked = value.find('*') != std::string::npos;
          auto [it, inserted] = out->emplace(path, masked ? "masked" : "present");
          if (!inserted && !masked) it->second = "present";
        }
        break;
      }
      default:
        // Numbers, enums, bools: only when presence is explicit (optional / oneof).
        if (explicit_presence || field->is_repeated()) (*out)[path] = "present";
        break;
    }
  }
}

// One role's result: "method status" lines, each followed by "  path kind" lines.
using Result = std::map<std::string, std::pair<std::string, std::map<std::string, std::string>>>;

Result Observe(const RoleCase& role) {
  Result result;
  const std::string credential = Street::Get().Credential(role);
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  for (const MethodDescriptor* method : ReadMethods()) {
    for (auto& [key, request] : Requests(method)) {
      std::unique_ptr<Message> response(factory->GetPrototype(method->output_type())->New());
      const grpc::Status status = CallMethod(method, *request, credential, response.get());
      auto& entry = result[key];
      entry.first = std::string(GrpcCodeName(status.error_code()));
      if (status.ok()) CollectFields(*response, "", &entry.second);
    }
  }
  return result;
}

std::string Format(const RoleCase& role, const Result& result) {
  std::string out = absl::StrCat(
      "# Fields the role \"", role.file,
      "\" sees from each read method of the gateway on the seeded street of\n"
      "# tests/golden_fields_test.cc: the status, then each field path present or masked (a\n"
      "# field not listed is absent). Regenerate deliberately, then review the diff:\n"
      "#   LINLI_UPDATE_GOLDENS=1 build/bin/golden_fields_test\n");
  for (const auto& [method, entry] : result) {
    absl::StrAppend(&out, method, " ", entry.first, "\n");
    for (const auto& [path, kind] : entry.second)
      absl::StrAppend(&out, "  ", path, " ", kind, "\n");
  }
  return out;
}

std::optional<Result> Parse(const std::string& text) {
  Result result;
  std::string current;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    if (absl::StartsWith(line, "  ")) {
      std::vector<std::string> parts = absl::StrSplit(absl::StripAsciiWhitespace(line), ' ');
      if (current.empty() || parts.size() != 2) return std::nullopt;
      result[current].second[parts[0]] = parts[1];
    } else {
      const size_t space = line.rfind(' ');
      if (space == absl::string_view::npos) return std::nullopt;
      current = std::string(line.substr(0, space));
      result[current].first = std::string(line.substr(space + 1));
    }
  }
  return result;
}

std::string GoldenPath(const RoleCase& role) {
  return absl::StrCat(LINLI_SOURCE_DIR, "/tests/golden/", role.file, ".txt");
}

// Compares one role's observed fields with its golden (or rewrites it, see the file comment).
void CheckRole(const RoleCase& role) {
  SCOPED_TRACE(role.file);
  const Result observed = Observe(role);
  ASSERT_FALSE(observed.empty()) << "no read methods found in the descriptor pool";
  const std::string path = GoldenPath(role);
  if (std::getenv("LINLI_UPDATE_GOLDENS") != nullptr) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << Format(role, observed);
    std::printf("rewrote %s\n", path.c_str());  // review `git diff tests/golden/`
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "no golden " << path
                         << ": run LINLI_UPDATE_GOLDENS=1 build/bin/golden_fields_test";
  std::stringstream text;
  text << in.rdbuf();
  const std::optional<Result> golden = Parse(text.str());
  ASSERT_TRUE(golden.has_value()) << path << " is malformed";
  for (const auto& [method, entry] : observed) {
    auto found = golden->find(method);
    if (found == golden->end()) {
      ADD_FAILURE() << "add a golden for " << method << " (role " << role.file
                    << "): regenerate with LINLI_UPDATE_GOLDENS=1 build/bin/golden_fields_test "
                       "and review the fields it shows";
      continue;
    }
    EXPECT_EQ(entry.first, found->second.first) << role.file << " " << method << ": status changed";
    for (const auto& [field, kind] : entry.second) {
      auto before = found->second.second.find(field);
      if (before == found->second.second.end()) {
        ADD_FAILURE() << role.file << " now SEES " << method << " field " << field << " (" << kind
                      << "), absent in the golden";
      } else if (before->second == "masked" && kind == "present") {
        ADD_FAILURE() << role.file << " now sees " << method << " field " << field
                      << " UNMASKED, masked in the golden";
      } else {
        EXPECT_EQ(kind, before->second) << role.file << " " << method << " " << field;
      }
    }
    for (const auto& [field, kind] : found->second.second) {
      EXPECT_TRUE(entry.second.count(field) > 0)
          << role.file << " no longer sees " << method << " field " << field << " (" << kind
          << " in the golden): regenerate the golden if that is intended";
    }
  }
  for (const auto& [method, entry] : *golden) {
    EXPECT_TRUE(observed.count(method) > 0)
        << path << " has " << method << ", which is no longer a read method: regenerate";
  }
}

// One process for every role (the street is built once): the roles in turn.
TEST(GoldenFields, EveryRoleSeesExactlyItsGoldenFields) {
  ASSERT_TRUE(Street::Get().error.empty()) << Street::Get().error;
  for (const RoleCase& role : Roles()) CheckRole(role);
}

// Every service the gateway serves is known here, so none of its read methods escapes a golden.
TEST(GoldenFieldsSanity, EveryGatewayServiceIsCovered) {
  ASSERT_TRUE(Street::Get().error.empty()) << Street::Get().error;
  std::vector<std::string> unknown;
  EXPECT_FALSE(ReadMethods(&unknown).empty());
  for (const std::string& service : unknown) {
    ADD_FAILURE() << "add a golden for " << service
                  << ": the gateway serves it but golden_fields_test does not link its proto "
                     "(name one of its messages in ReadMethods)";
  }
}

// The masking the goldens rely on is what the elder's own full read shows unmasked: the admin's
// default GetElder masks the ID number and phone, so "masked" in the goldens is not vacuous.
TEST(GoldenFieldsSanity, DefaultElderReadIsMaskedAndGoldensCoverEveryRole) {
  ASSERT_TRUE(Street::Get().error.empty()) << Street::Get().error;
  const Result admin = Observe({"admin", "admin", ""});
  auto get_elder = admin.find("linli.gateway.v1.ConsoleService.GetElder");
  ASSERT_NE(get_elder, admin.end());
  ASSERT_EQ(get_elder->second.first, "OK");
  EXPECT_EQ(get_elder->second.second.at("elder.id_number"), "masked");
  EXPECT_EQ(get_elder->second.second.at("elder.phone"), "masked");
  for (const RoleCase& role : Roles()) {
    EXPECT_TRUE(std::filesystem::exists(GoldenPath(role))) << GoldenPath(role);
  }
}

}  // namespace
}  // namespace linli
