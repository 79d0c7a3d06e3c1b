// Scheduling on a real loopback server with the real registry, against SQLite and MariaDB:
// commitments, materialisation, bookings, verification and the outbox.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "common/proto_time.h"
#include "common/recurrence/rrule.h"
#include "common/server.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/visit_notes.h"
#include "tests/support/registry_test_server.h"
#include "tests/support/test_env.h"

namespace linli::scheduling {
namespace {

class SchedulingServiceTest : public ::testing::TestWithParam<std::string> {
 protected:
  // 2026-12-02 16:00 in Shanghai (08:00 UTC, a Wednesday): inside the week of Monday 2026-11-30
  // that most tests materialise.
  SchedulingServiceTest() : clock_(absl::FromUnixSeconds(1796227200) - absl::Hours(8)) {}

  void SetUp() override {
    absl::StatusOr<std::string> url = testing::FreshDatabaseUrl(GetParam(), "scheduling");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    auto db = storage::OpenDatabase(*url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, "scheduling", SchedulingMigrations()).ok());
    // The real registry (same backend) holds the elder, organisation and service referred to.
    auto registry =
        registry::RegistryTestServer::Start(GetParam(), "sched_registry", Clock::Real());
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
    SeedRegistry();
    service_ = std::make_unique<SchedulingServiceImpl>(
        *db_, clock_, *registry_->cipher,
        registry::v1::RegistryService::NewStub(
            NewChannel(absl::StrCat("127.0.0.1:", registry_->server->port()), {})));
    ServerOptions options;
    options.service_name = "scheduling";
    options.listen_address = "127.0.0.1:0";
    auto server = GrpcServer::Start(options, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ =
        v1::SchedulingService::NewStub(NewChannel(absl::StrCat("127.0.0.1:", server_->port()), {}));
  }

  // 上海市 > 黄浦区 > 五里桥街道 > 桥一居民区, the social work organisation, the visiting service,
  // and one elder.
  void SeedRegistry() {
    auto* stub = registry_->stub.get();
    const std::pair<std::string, registry::v1::RegionLevel> regions[] = {
        {"310000", registry::v1::REGION_LEVEL_MUNICIPALITY},
        {"310101", registry::v1::REGION_LEVEL_DISTRICT},
        {"310101020", registry::v1::REGION_LEVEL_STREET},
        {"310101020001", registry::v1::REGION_LEVEL_COMMITTEE}};
    std::string parent;
    for (const auto& [code, level] : regions) {
      registry::v1::CreateRegionRequest r;
      r.mutable_region()->set_code(code);
      r.mutable_region()->set_display_name("区域" + code);
      r.mutable_region()->set_level(level);
      r.mutable_region()->set_parent(parent);
      registry::v1::CreateRegionResponse out;
      grpc::ClientContext context;
      ASSERT_TRUE(stub->CreateRegion(&context, r, &out).ok());
      parent = "regions/" + code;
    }
    registry::v1::CreateOrganisationRequest org;
    org.mutable_organisation()->set_id("lelin-social-work");
    org.mutable_organisation()->set_display_name("乐龄社工服务社");
    org.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_SOCIAL_ORGANISATION);
    org.mutable_organisation()->set_sector(registry::v1::SECTOR_SOCIAL);
    org.mutable_organisation()->set_region("regions/310101020");
    registry::v1::CreateOrganisationResponse org_out;
    grpc::ClientContext c1;
    ASSERT_TRUE(stub->CreateOrganisation(&c1, org, &org_out).ok());
    registry::v1::CreateServiceTypeRequest type;
    type.mutable_service_type()->set_code("visiting");
    type.mutable_service_type()->set_display_name("探访");
    registry::v1::CreateServiceTypeResponse type_out;
    grpc::ClientContext c2;
    ASSERT_TRUE(stub->CreateServiceType(&c2, type, &type_out).ok());
    registry::v1::CreateElderRequest elder;
    elder.mutable_elder()->set_display_name("王秀英");
    elder.mutable_elder()->set_region("regions/310101020001");
    elder.mutable_elder()->mutable_location()->set_latitude(31.20012);
    elder.mutable_elder()->mutable_location()->set_longitude(121.48013);
    registry::v1::Consent* consent = elder.mutable_elder()->add_consents();
    consent->set_purpose(registry::v1::CONSENT_PURPOSE_PERSONAL_DATA);
    consent->set_granted(true);
    registry::v1::CreateElderResponse elder_out;
    grpc::ClientContext c3;
    ASSERT_TRUE(stub->CreateElder(&c3, elder, &elder_out).ok());
    elder_name_ = elder_out.elder().name();
    // Two carers who bathe and visit, one visitor only, one who left.
    const std::tuple<std::string, std::vector<std::string>, registry::v1::WorkerStatus> workers[] =
        {{"张阿姨", {"bathing", "visiting"}, registry::v1::WORKER_STATUS_ACTIVE},
         {"李师傅", {"bathing", "visiting"}, registry::v1::WORKER_STATUS_ACTIVE},
         {"陈志愿者", {"visiting"}, registry::v1::WORKER_STATUS_ACTIVE},
         {"赵离职", {"bathing", "visiting"}, registry::v1::WORKER_STATUS_LEFT}};
    for (const auto& [name, skills, status] : workers) {
      registry::v1::CreateWorkerRequest w;
      w.mutable_worker()->set_display_name(name);
      w.mutable_worker()->set_organisation("organisations/lelin-social-work");
      for (const std::string& skill : skills) w.mutable_worker()->add_skills(skill);
      w.mutable_worker()->set_status(status);
      registry::v1::CreateWorkerResponse out;
      grpc::ClientContext c;
      ASSERT_TRUE(stub->CreateWorker(&c, w, &out).ok());
      workers_.push_back(out.worker().name());
    }
  }

  grpc::Status Assign(const std::string& visit, const std::string& worker,
                      std::optional<absl::Time> start = std::nullopt, v1::Visit* out = nullptr) {
    v1::AssignVisitRequest r;
    r.set_name(visit);
    r.set_worker(worker);
    if (start.has_value()) r.mutable_start()->set_seconds(absl::ToUnixSeconds(*start));
    v1::AssignVisitResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->AssignVisit(&context, r, &response);
    if (out != nullptr) *out = response.visit();
    return status;
  }

  grpc::Status CheckIn(const std::string& visit, const std::string& worker, double lat, double lng,
                       bool substitute, v1::Visit* out) {
    v1::CheckInVisitRequest r;
    r.set_name(visit);
    r.set_worker(worker);
    r.set_method(v1::CHECK_METHOD_APP_GPS);
    r.mutable_location()->set_latitude(lat);
    r.mutable_location()->set_longitude(lng);
    r.set_substitute(substitute);
    v1::CheckInVisitResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->CheckInVisit(&context, r, &response);
    if (out != nullptr) *out = response.visit();
    return status;
  }

  // Check-out by phone (no location, so no geofence exception).
  grpc::Status CheckOut(const std::string& visit, const std::string& worker,
                        v1::Visit* out = nullptr) {
    v1::CheckOutVisitRequest r;
    r.set_name(visit);
    r.set_worker(worker);
    r.set_method(v1::CHECK_METHOD_PHONE);
    v1::CheckOutVisitResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->CheckOutVisit(&context, r, &response);
    if (out != nullptr) *out = response.visit();
    return status;
  }

  // A worker of the social organisation with `skills`, available four hours from 08:00 on the
  // days of `rrule` (from `dtstart`); the worker's name, "" when the registry refused.
  std::string ShiftWorker(const std::string& display_name, const std::vector<std::string>& skills,
                          const std::string& rrule, const std::string& dtstart) {
    registry::v1::CreateWorkerRequest w;
    w.mutable_worker()->set_display_name(display_name);
    w.mutable_worker()->set_organisation("organisations/lelin-social-work");
    for (const std::string& skill : skills) w.mutable_worker()->add_skills(skill);
    w.mutable_worker()->mutable_availability()->set_rrule(rrule);
    w.mutable_worker()->mutable_availability()->set_dtstart(dtstart);
    w.mutable_worker()->mutable_availability()->set_duration_minutes(240);
    registry::v1::CreateWorkerResponse created;
    grpc::ClientContext c;
    grpc::Status status = registry_->stub->CreateWorker(&c, w, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.worker().name();
  }

  static std::string Reason(const grpc::Status& status) {
    auto info = GetErrorInfo(FromGrpcStatus(status));
    return info.has_value() ? info->reason() : "(none)";
  }

  static std::vector<std::string> Workers(const v1::Visit& visit) {
    std::vector<std::string> out;
    for (const auto& a : visit.assignments()) out.push_back(a.worker());
    return out;
  }

  int64_t SlotRows() {
    int64_t n = -1;
    EXPECT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                     ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM worker_slots"));
                     n = rows[0].GetInt(0);
                     return absl::OkStatus();
                   })
                    .ok());
    return n;
  }

  v1::Commitment Weekly(const std::string& rrule = "FREQ=WEEKLY;BYDAY=TU,TH") const {
    v1::Commitment c;
    c.set_elder(elder_name_);
    c.set_service_type("serviceTypes/visiting");
    c.set_owner_organisation("organisations/lelin-social-work");
    c.mutable_recurrence()->set_rrule(rrule);
    c.mutable_recurrence()->set_dtstart("2026-12-01T09:00:00");
    c.set_window_minutes(120);
    c.set_duration_minutes(60);
    c.set_valid_from("2026-12-01");
    return c;
  }

  grpc::Status Create(const v1::Commitment& c, v1::Commitment* out = nullptr) {
    v1::CreateCommitmentRequest request;
    *request.mutable_commitment() = c;
    v1::CreateCommitmentResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->CreateCommitment(&context, request, &response);
    if (out != nullptr) *out = response.commitment();
    return status;
  }

  v1::MaterializeVisitsResponse Materialize(const std::string& from, int days,
                                            grpc::Status* status_out = nullptr) {
    v1::MaterializeVisitsRequest request;
    request.set_from_date(from);
    request.set_days(days);
    v1::MaterializeVisitsResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->MaterializeVisits(&context, request, &response);
    if (status_out != nullptr) *status_out = status;
    EXPECT_TRUE(status_out != nullptr || status.ok()) << status.error_message();
    return response;
  }

  std::vector<v1::Visit> Visits(const std::string& commitment = "") {
    std::vector<v1::Visit> all;
    v1::ListVisitsRequest request;
    request.set_commitment(commitment);
    request.set_page_size(3);  // exercise paging
    do {
      v1::ListVisitsResponse response;
      grpc::ClientContext context;
      grpc::Status status = stub_->ListVisits(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      all.insert(all.end(), response.visits().begin(), response.visits().end());
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return all;
  }

  // The street's public centre, which offers visiting (40 a week) to the whole street; the
  // offering's name.
  std::string SeedPublicCentre() {
    auto* registry = registry_->stub.get();
    registry::v1::CreateOrganisationRequest centre;
    centre.mutable_organisation()->set_id("wlq-elder-centre");
    centre.mutable_organisation()->set_display_name("五里桥社区综合为老服务中心");
    centre.mutable_organisation()->set_kind(registry::v1::ORGANISATION_KIND_PUBLIC_CENTRE);
    centre.mutable_organisation()->set_sector(registry::v1::SECTOR_PUBLIC);
    centre.mutable_organisation()->set_region("regions/310101020");
    centre.mutable_organisation()->mutable_location()->set_latitude(31.2050);
    centre.mutable_organisation()->mutable_location()->set_longitude(121.4800);
    registry::v1::CreateOrganisationResponse centre_out;
    grpc::ClientContext c1;
    EXPECT_TRUE(registry->CreateOrganisation(&c1, centre, &centre_out).ok());
    registry::v1::CreateOfferingRequest offering;
    offering.mutable_offering()->set_organisation("organisations/wlq-elder-centre");
    offering.mutable_offering()->set_service_type("serviceTypes/visiting");
    offering.mutable_offering()->add_covered_regions("regions/310101020");
    offering.mutable_offering()->set_capacity_per_week(40);
    registry::v1::CreateOfferingResponse offering_out;
    grpc::ClientContext c2;
    grpc::Status created = registry->CreateOffering(&c2, offering, &offering_out);
    EXPECT_TRUE(created.ok()) << created.error_message();
    return offering_out.offering().name();
  }

  static std::string Field(const grpc::Status& status) {
    auto bad = GetBadRequest(FromGrpcStatus(status));
    return bad.has_value() && bad->field_violations_size() > 0 ? bad->field_violations(0).field()
                                                               : "(none)";
  }

  FakeClock clock_;
  std::unique_ptr<registry::RegistryTestServer> registry_;
  std::string elder_name_;
  std::string url_;                   // scheduling's database
  std::vector<std::string> workers_;  // 张阿姨, 李师傅, 陈志愿者 (visiting only), 赵离职 (left)
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<SchedulingServiceImpl> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::SchedulingService::Stub> stub_;
};

TEST_P(SchedulingServiceTest, CareGradeGivesTheShanghaiDefaults) {
  v1::Commitment c = Weekly();
  c.clear_recurrence();
  c.set_duration_minutes(0);
  c.set_window_minutes(0);
  for (const auto& [grade, rule] :
       std::vector<std::pair<int, std::string>>{{2, "FREQ=WEEKLY;BYDAY=MO,WE,FR"},
                                                {4, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
                                                {6, "FREQ=DAILY"}}) {
    c.set_care_grade(grade);
    v1::Commitment created;
    ASSERT_TRUE(Create(c, &created).ok());
    EXPECT_EQ(created.recurrence().rrule(), rule) << grade;
    EXPECT_EQ(created.recurrence().dtstart(), "2026-12-01T09:00:00");
    EXPECT_EQ(created.duration_minutes(), 60);
    EXPECT_EQ(created.window_minutes(), 120);
    EXPECT_EQ(created.workers_required(), 1);
    EXPECT_FALSE(created.has_care_grade()) << "health data is not kept by scheduling";
    EXPECT_EQ(created.state(), v1::COMMITMENT_STATE_ACTIVE);
  }
  // A week of grade 6 (daily) is seven visits.
  v1::MaterializeVisitsResponse week = Materialize("2026-12-01", 7);
  EXPECT_EQ(week.commitments(), 3);
  EXPECT_EQ(week.created(), 3 + 5 + 7);
}

TEST_P(SchedulingServiceTest, BadCommitmentsNameTheFieldAndWriteNothing) {
  v1::Commitment bad = Weekly("FREQ=WEEKLY;BYDAY=TX");
  grpc::Status status = Create(bad);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(status), "commitment.recurrence.rrule");
  EXPECT_TRUE(absl::StrContains(status.error_message(), "position")) << status.error_message();

  EXPECT_EQ(Field(Create(Weekly("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"))),
            "commitment.recurrence.rrule");  // impossible: no 30 February
  v1::Commitment backwards = Weekly();
  backwards.set_valid_until("2026-11-01");
  EXPECT_EQ(Field(Create(backwards)), "commitment.valid_until");
  v1::Commitment no_duration = Weekly();
  no_duration.set_duration_minutes(0);
  EXPECT_EQ(Field(Create(no_duration)), "commitment.duration_minutes");
  v1::Commitment two = Weekly();
  two.set_workers_required(2);
  EXPECT_EQ(Field(Create(two)), "commitment.synchronisation.type");
  v1::Commitment ordered = two;
  ordered.mutable_synchronisation()->set_type(v1::SYNCHRONISATION_TYPE_ORDERED);
  ordered.mutable_synchronisation()->set_min_gap_minutes(30);
  ordered.mutable_synchronisation()->set_max_gap_minutes(10);
  EXPECT_EQ(Field(Create(ordered)), "commitment.synchronisation");
  v1::Commitment elder = Weekly();
  elder.set_elder("e1");
  EXPECT_EQ(Field(Create(elder)), "commitment.elder");
  // Well-formed names the registry does not know.
  elder.set_elder("elders/nobody");
  EXPECT_EQ(Field(Create(elder)), "commitment.elder");
  v1::Commitment org = Weekly();
  org.set_owner_organisation("organisations/unknown-org");
  EXPECT_EQ(Field(Create(org)), "commitment.owner_organisation");
  v1::Commitment service = Weekly();
  service.set_service_type("serviceTypes/juggling");
  EXPECT_EQ(Field(Create(service)), "commitment.service_type");

  v1::ListCommitmentsRequest list;
  v1::ListCommitmentsResponse listed;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListCommitments(&context, list, &listed).ok());
  EXPECT_EQ(listed.commitments_size(), 0);
}

TEST_P(SchedulingServiceTest, MaterialisationIsIdempotentAndRecordsEvents) {
  v1::Commitment c;
  ASSERT_TRUE(Create(Weekly(), &c).ok());
  // 2026-12-01 is a Tuesday: Tue 1, Thu 3, Tue 8, Thu 10 in two weeks.
  v1::MaterializeVisitsResponse first = Materialize("2026-12-01", 14);
  EXPECT_EQ(first.created(), 4);
  EXPECT_EQ(first.existing(), 0);
  v1::MaterializeVisitsResponse again = Materialize("2026-12-01", 14);
  EXPECT_EQ(again.created(), 0);
  EXPECT_EQ(again.existing(), 4);

  std::vector<v1::Visit> visits = Visits(c.name());
  ASSERT_EQ(visits.size(), 4u);
  std::vector<std::string> occurrences;
  for (const auto& v : visits) occurrences.push_back(v.occurrence());
  EXPECT_EQ(occurrences, (std::vector<std::string>{"2026-12-01T09:00:00", "2026-12-03T09:00:00",
                                                   "2026-12-08T09:00:00", "2026-12-10T09:00:00"}));
  // Window 9:00-11:00 Shanghai = 01:00-03:00 UTC.
  EXPECT_EQ(visits[0].window_end().seconds() - visits[0].window_start().seconds(), 7200);
  EXPECT_EQ(visits[0].window_start().seconds() % 86400, 3600);
  EXPECT_EQ(visits[0].state(), v1::VISIT_STATE_SCHEDULED);

  v1::ListEventsRequest events_request;
  v1::ListEventsResponse events;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListEvents(&context, events_request, &events).ok());
  ASSERT_EQ(events.events_size(), 4);
  for (const auto& e : events.events()) EXPECT_EQ(e.type(), "visit.scheduled");
  EXPECT_EQ(events.last_sequence(), events.events(3).sequence());
}

TEST_P(SchedulingServiceTest, SingleOccurrenceEditsSurviveRematerialisation) {
  v1::Commitment c;
  ASSERT_TRUE(Create(Weekly(), &c).ok());
  Materialize("2026-12-01", 14);
  std::vector<v1::Visit> visits = Visits(c.name());
  ASSERT_EQ(visits.size(), 4u);

  v1::CancelVisitRequest cancel;
  cancel.set_name(visits[1].name());
  cancel.set_reason_code("ELDER_IN_HOSPITAL");
  cancel.set_note("住院一周");
  v1::CancelVisitResponse cancelled;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->CancelVisit(&c1, cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.visit().state(), v1::VISIT_STATE_CANCELLED);

  v1::RescheduleVisitRequest move;
  move.set_name(visits[2].name());
  move.set_new_start("2026-12-09T14:00:00");
  move.set_reason_code("ELDER_REQUEST");
  v1::RescheduleVisitResponse moved;
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->RescheduleVisit(&c2, move, &moved).ok());
  EXPECT_EQ(moved.visit().occurrence(), "2026-12-08T09:00:00");
  EXPECT_EQ(moved.visit().window_end().seconds() - moved.visit().window_start().seconds(), 7200);

  v1::MaterializeVisitsResponse again = Materialize("2026-12-01", 14);
  EXPECT_EQ(again.created(), 0);
  EXPECT_EQ(again.existing(), 4);
  std::vector<v1::Visit> after = Visits(c.name());
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[1].state(), v1::VISIT_STATE_CANCELLED);
  EXPECT_EQ(after[1].reason_code(), "ELDER_IN_HOSPITAL");
  EXPECT_EQ(after[2].name(), visits[2].name());
  EXPECT_EQ(after[2].window_start().seconds(), moved.visit().window_start().seconds());

  // A cancelled visit cannot be cancelled or moved again; bad codes are rejected first.
  grpc::ClientContext c3;
  v1::CancelVisitResponse ignored;
  EXPECT_EQ(stub_->CancelVisit(&c3, cancel, &ignored).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  cancel.set_reason_code("bad code");
  grpc::ClientContext c4;
  grpc::Status bad = stub_->CancelVisit(&c4, cancel, &ignored);
  EXPECT_EQ(Field(bad), "reason_code");
  cancel.set_name("visits/none");
  cancel.set_reason_code("OTHER");
  grpc::ClientContext c5;
  EXPECT_EQ(stub_->CancelVisit(&c5, cancel, &ignored).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_P(SchedulingServiceTest, CancellingACommitmentCancelsOnlyFutureScheduledVisits) {
  v1::Commitment c;
  ASSERT_TRUE(Create(Weekly(), &c).ok());
  Materialize("2026-12-01", 14);
  clock_.Set(absl::FromUnixSeconds(1796227200) - absl::Hours(8) + absl::Hours(24 * 5));  // Dec 5
  v1::CancelCommitmentRequest request;
  request.set_name(c.name());
  request.set_reason("老人搬去女儿家");
  v1::CancelCommitmentResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->CancelCommitment(&context, request, &response).ok());
  EXPECT_EQ(response.commitment().state(), v1::COMMITMENT_STATE_CANCELLED);
  EXPECT_EQ(response.cancelled_visits(), 2);  // Dec 8 and 10; Dec 1 and 3 are in the past
  std::vector<v1::Visit> visits = Visits(c.name());
  ASSERT_EQ(visits.size(), 4u);
  EXPECT_EQ(visits[0].state(), v1::VISIT_STATE_SCHEDULED);
  EXPECT_EQ(visits[3].state(), v1::VISIT_STATE_CANCELLED);
  EXPECT_EQ(Materialize("2026-12-01", 31).created(), 0);
}

// A street that starts its promises today asks only for the windows still open: the fixture's
// clock is Dec 2 16:00, so of a daily 09:00-11:00 promise Dec 1 and 2 are skipped, not created
// (and so never swept as missed); asked again without the option, they are created.
TEST_P(SchedulingServiceTest, ClosedWindowsCanBeSkipped) {
  ASSERT_TRUE(Create(Weekly("FREQ=DAILY")).ok());
  v1::MaterializeVisitsRequest request;
  request.set_from_date("2026-12-01");
  request.set_days(4);
  request.set_skip_closed_windows(true);
  v1::MaterializeVisitsResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->MaterializeVisits(&context, request, &response).ok());
  }
  EXPECT_EQ(response.created(), 2);  // Dec 3 and 4
  EXPECT_EQ(response.skipped(), 2);  // Dec 1 and 2
  std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_EQ(visits[0].occurrence().substr(0, 10), "2026-12-03");
  EXPECT_EQ(Materialize("2026-12-01", 4).created(), 2);
}

TEST_P(SchedulingServiceTest, ValidityBoundsTheOccurrences) {
  v1::Commitment c = Weekly("FREQ=DAILY");
  c.set_valid_until("2026-12-03");
  ASSERT_TRUE(Create(c).ok());
  EXPECT_EQ(Materialize("2026-11-28", 14).created(), 3);  // Dec 1, 2, 3
  grpc::Status status;
  Materialize("2026-12-01", 63, &status);
  EXPECT_EQ(Field(status), "days");
  Materialize("2026-13-01", 7, &status);
  EXPECT_EQ(Field(status), "from_date");
}

TEST_P(SchedulingServiceTest, ConcurrentMaterialisersCreateEachOccurrenceOnce) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Create(Weekly("FREQ=DAILY")).ok());
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] { created += Materialize("2026-12-01", 10).created(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 30);
  EXPECT_EQ(Visits().size(), 30u);
}

TEST_P(SchedulingServiceTest, VisitStateMachineWithVerificationExceptions) {
  v1::Commitment c = Weekly();
  c.set_tolerance_minutes(15);
  ASSERT_TRUE(Create(c).ok());
  Materialize("2026-12-01", 7);
  std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);  // Tue Dec 1 and Thu Dec 3, 9:00-11:00
  const absl::Time dec1_0900 = absl::FromUnixSeconds(visits[0].window_start().seconds());

  auto check_in = [&](const std::string& name, const std::string& worker, v1::Visit* out) {
    v1::CheckInVisitRequest r;
    r.set_name(name);
    r.set_worker(worker);
    r.set_method(v1::CHECK_METHOD_APP_GPS);
    r.mutable_location()->set_latitude(31.2);
    r.mutable_location()->set_longitude(121.48);
    v1::CheckInVisitResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->CheckInVisit(&context, r, &response);
    if (out != nullptr) *out = response.visit();
    return status;
  };

  // Check-out before check-in, bad method or worker: refused.
  EXPECT_EQ(CheckOut(visits[0].name(), "workers/w1", nullptr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Field(check_in(visits[0].name(), "w1", nullptr)), "worker");

  // Arrives at 11:30: beyond window end + 15 min tolerance -> late.
  clock_.Set(dec1_0900 + absl::Minutes(150));
  v1::Visit in;
  ASSERT_TRUE(check_in(visits[0].name(), "workers/w1", &in).ok());
  EXPECT_EQ(in.state(), v1::VISIT_STATE_IN_PROGRESS);
  EXPECT_EQ(std::vector<std::string>(in.exceptions().begin(), in.exceptions().end()),
            std::vector<std::string>{"LATE_ARRIVAL"});
  EXPECT_EQ(check_in(visits[0].name(), "workers/w1", nullptr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // already in progress
  // Another worker cannot check out.
  EXPECT_EQ(CheckOut(visits[0].name(), "workers/w2", nullptr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Leaves after 20 minutes of a planned hour: completed, a short visit.
  clock_.Advance(absl::Minutes(20));
  v1::Visit out;
  ASSERT_TRUE(CheckOut(visits[0].name(), "workers/w1", &out).ok());
  EXPECT_EQ(out.state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(out.check_out().method(), v1::CHECK_METHOD_PHONE);
  EXPECT_EQ(out.check_in().location().latitude(), 31.2);
  EXPECT_EQ(std::vector<std::string>(out.exceptions().begin(), out.exceptions().end()),
            (std::vector<std::string>{"LATE_ARRIVAL", "SHORT_VISIT"}));

  // Nobody comes on Thursday: the sweep marks it missed once its window and tolerance pass.
  clock_.Set(dec1_0900 + absl::Hours(48) + absl::Minutes(134));  // Dec 3, 11:14
  v1::SweepMissedVisitsRequest sweep;
  v1::SweepMissedVisitsResponse swept;
  grpc::ClientContext s1;
  ASSERT_TRUE(stub_->SweepMissedVisits(&s1, sweep, &swept).ok());
  EXPECT_EQ(swept.missed(), 0);
  clock_.Advance(absl::Minutes(2));  // 11:16
  grpc::ClientContext s2;
  ASSERT_TRUE(stub_->SweepMissedVisits(&s2, sweep, &swept).ok());
  EXPECT_EQ(swept.missed(), 1);
  std::vector<v1::Visit> after = Visits();
  EXPECT_EQ(after[0].state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(after[1].state(), v1::VISIT_STATE_MISSED);
  grpc::ClientContext s3;
  ASSERT_TRUE(stub_->SweepMissedVisits(&s3, sweep, &swept).ok());
  EXPECT_EQ(swept.missed(), 0);

  // The outbox tells the story in order.
  v1::ListEventsRequest events_request;
  events_request.set_after_sequence(2);  // after the two visit.scheduled
  v1::ListEventsResponse events;
  grpc::ClientContext e;
  ASSERT_TRUE(stub_->ListEvents(&e, events_request, &events).ok());
  std::vector<std::string> types;
  for (const auto& ev : events.events()) types.push_back(ev.type());
  EXPECT_EQ(types, (std::vector<std::string>{"visit.checked_in", "visit.completed", "visit.missed",
                                             "commitment.at_risk"}));
  EXPECT_EQ(events.events(3).subject(), after[1].commitment());
}

TEST_P(SchedulingServiceTest, TheDatabaseRefusesOverlappingBookingsOfOneWorker) {
  v1::Commitment visiting = Weekly("FREQ=WEEKLY;BYDAY=TU");
  ASSERT_TRUE(Create(visiting).ok());
  v1::Commitment bathing = Weekly("FREQ=WEEKLY;BYDAY=TU");
  bathing.add_required_skills("bathing");
  v1::Commitment bath;
  ASSERT_TRUE(Create(bathing, &bath).ok());
  Materialize("2026-12-01", 1);
  std::vector<v1::Visit> all = Visits();
  ASSERT_EQ(all.size(), 2u);  // both Tue Dec 1, window 9:00-11:00, one hour each
  const v1::Visit& a = all[0].commitment() == bath.name() ? all[1] : all[0];
  const v1::Visit& b = all[0].commitment() == bath.name() ? all[0] : all[1];
  const absl::Time nine = absl::FromUnixSeconds(a.window_start().seconds());
  const std::string zhang = workers_[0], li = workers_[1], chen = workers_[2], zhao = workers_[3];

  v1::Visit booked;
  ASSERT_TRUE(Assign(a.name(), zhang, std::nullopt, &booked).ok());
  EXPECT_EQ(Workers(booked), std::vector<std::string>{zhang});
  EXPECT_EQ(booked.assignments(0).start().seconds(), absl::ToUnixSeconds(nine));
  EXPECT_EQ(booked.assignments(0).end().seconds(), absl::ToUnixSeconds(nine + absl::Hours(1)));
  EXPECT_EQ(booked.assignments(0).source(), "manual");
  const int64_t slots = SlotRows();
  EXPECT_EQ(slots, 60 / kBookingSlotMinutes);

  // The same worker at an overlapping time: refused by the database, with the other visit named.
  grpc::Status twice = Assign(b.name(), zhang, nine + absl::Minutes(30));
  EXPECT_EQ(twice.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(twice), "ERROR_REASON_WORKER_DOUBLE_BOOKED");
  EXPECT_NE(twice.error_message().find(a.name()), std::string::npos) << twice.error_message();
  // Bad bookings name the field and write nothing.
  EXPECT_EQ(Field(Assign(b.name(), chen)), "worker");  // lacks bathing
  EXPECT_EQ(Field(Assign(b.name(), "workers/nobody")), "worker");
  EXPECT_EQ(Assign(b.name(), zhao).error_code(), grpc::StatusCode::FAILED_PRECONDITION);  // left
  EXPECT_EQ(Field(Assign(b.name(), li, nine - absl::Minutes(5))), "start");
  EXPECT_EQ(Field(Assign(b.name(), li, nine + absl::Hours(13))), "start");
  EXPECT_EQ(Field(Assign("visits/nope!", li)), "name");
  EXPECT_EQ(Assign("visits/nope", li).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Field(Assign(a.name(), zhang)), "worker");  // already on it
  EXPECT_EQ(SlotRows(), slots);

  // Back to back is fine: 10:00-11:00 after 9:00-10:00.
  ASSERT_TRUE(Assign(b.name(), zhang, nine + absl::Hours(1), &booked).ok());
  // A one-worker visit that is staffed takes nobody else.
  EXPECT_EQ(Assign(b.name(), li).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Unassigning frees the worker's time; cancelling frees all of a visit's bookings.
  v1::UnassignVisitRequest un;
  un.set_name(b.name());
  un.set_worker(zhang);
  un.set_reason_code("WORKER_ILL");
  v1::UnassignVisitResponse unassigned;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->UnassignVisit(&c1, un, &unassigned).ok());
  EXPECT_TRUE(unassigned.visit().assignments().empty());
  EXPECT_EQ(unassigned.visit().reason_code(), "WORKER_ILL");
  grpc::ClientContext c2;
  EXPECT_EQ(stub_->UnassignVisit(&c2, un, &unassigned).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // not booked any more
  v1::CancelVisitRequest cancel;
  cancel.set_name(a.name());
  cancel.set_reason_code("ELDER_IN_HOSPITAL");
  v1::CancelVisitResponse cancelled;
  grpc::ClientContext c3;
  ASSERT_TRUE(stub_->CancelVisit(&c3, cancel, &cancelled).ok());
  EXPECT_TRUE(cancelled.visit().assignments().empty());
  EXPECT_EQ(SlotRows(), 0);
  ASSERT_TRUE(Assign(b.name(), zhang, nine + absl::Minutes(30)).ok());

  // The outbox has every booking change, in order.
  v1::ListEventsRequest events_request;
  events_request.set_after_sequence(2);
  v1::ListEventsResponse events;
  grpc::ClientContext e;
  ASSERT_TRUE(stub_->ListEvents(&e, events_request, &events).ok());
  std::vector<std::string> types;
  for (const auto& ev : events.events()) types.push_back(ev.type());
  EXPECT_EQ(types, (std::vector<std::string>{"visit.assigned", "visit.assigned", "visit.unassigned",
                                             "visit.cancelled", "visit.assigned"}));
}

TEST_P(SchedulingServiceTest, ManualBookingsRespectTheWorkersAvailability) {
  // 孙上午班 works weekday mornings 8-12; the others have no schedule (08:00-20:00 daily).
  const std::string sun = ShiftWorker("孙上午班", {"visiting"}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                                      "2026-11-02T08:00:00");
  ASSERT_FALSE(sun.empty());
  const std::string zhang = workers_[0];

  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU,SA")).ok());
  Materialize("2026-12-01", 5);
  std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);  // Tue Dec 1 and Sat Dec 5, window 9:00-11:00, one hour
  const absl::Time tue_nine = absl::FromUnixSeconds(visits[0].window_start().seconds());

  // Tuesday 11:30-12:30 runs past the end of the morning shift; Saturday is not a working day.
  grpc::Status late = Assign(visits[0].name(), sun, tue_nine + absl::Minutes(150));
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(late), "ERROR_REASON_WORKER_UNAVAILABLE");
  EXPECT_NE(late.error_message().find("2026-12-01 11:30"), std::string::npos)
      << late.error_message();
  EXPECT_EQ(Reason(Assign(visits[1].name(), sun)), "ERROR_REASON_WORKER_UNAVAILABLE");
  // Without a schedule: 19:30-20:30 is past 20:00.
  EXPECT_EQ(Reason(Assign(visits[0].name(), zhang, tue_nine + absl::Minutes(630))),
            "ERROR_REASON_WORKER_UNAVAILABLE");
  EXPECT_EQ(SlotRows(), 0) << "a refused booking holds nothing";

  // Within the shift it books; overtime agreed with the worker books with the waiver, marked.
  v1::Visit booked;
  ASSERT_TRUE(Assign(visits[0].name(), sun, tue_nine + absl::Minutes(60), &booked).ok());
  EXPECT_EQ(booked.assignments(0).source(), "manual");
  v1::AssignVisitRequest overtime;
  overtime.set_name(visits[1].name());
  overtime.set_worker(sun);
  overtime.set_outside_availability(true);
  v1::AssignVisitResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->AssignVisit(&context, overtime, &response).ok());
  EXPECT_EQ(response.visit().assignments(0).source(), "manual-outside-availability");
}

TEST_P(SchedulingServiceTest, TwoStaffBookingTwoWorkersOnOneVisitAtOnceBothCount) {
  // Two staff (or a replica's planner and a person) book the two carers of a bathing visit at the
  // same moment. Each reads the visit with no one booked; the version guard makes the second
  // writer re-read instead of overwriting the first one's booking.
  v1::Commitment bathing = Weekly("FREQ=DAILY");
  bathing.set_workers_required(2);
  bathing.mutable_synchronisation()->set_type(v1::SYNCHRONISATION_TYPE_SIMULTANEOUS);
  ASSERT_TRUE(Create(bathing).ok());
  Materialize("2026-12-01", 20);
  const std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 20u);
  const std::string zhang = workers_[0], li = workers_[1];
  std::atomic<int> failures{0};
  for (const v1::Visit& visit : visits) {
    std::thread a([&] { failures += !Assign(visit.name(), zhang).ok(); });
    std::thread b([&] { failures += !Assign(visit.name(), li).ok(); });
    a.join();
    b.join();
  }
  EXPECT_EQ(failures.load(), 0);
  for (const v1::Visit& visit : Visits()) {
    std::vector<std::string> who = Workers(visit);
    std::sort(who.begin(), who.end());
    std::vector<std::string> both = {zhang, li};
    std::sort(both.begin(), both.end());
    EXPECT_EQ(who, both) << visit.name();
  }
  EXPECT_EQ(SlotRows(), 20 * 2 * 60 / kBookingSlotMinutes) << "every booking's slots, no orphans";
}

TEST_P(SchedulingServiceTest, BothWorkersOfATwoWorkerVisitCheckInAndOut) {
  // A bath by two carers: each checks in and out; the visit completes when the last one leaves.
  // A bath given by one carer alone completes with WORKER_MISSING.
  v1::Commitment bathing = Weekly("FREQ=WEEKLY;BYDAY=TU,TH");
  bathing.add_required_skills("bathing");
  bathing.set_workers_required(2);
  bathing.mutable_synchronisation()->set_type(v1::SYNCHRONISATION_TYPE_SIMULTANEOUS);
  ASSERT_TRUE(Create(bathing).ok());
  Materialize("2026-12-01", 7);
  std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);
  const std::string zhang = workers_[0], li = workers_[1], chen = workers_[2];
  for (const v1::Visit& v : visits) {
    ASSERT_TRUE(Assign(v.name(), zhang).ok());
    ASSERT_TRUE(Assign(v.name(), li).ok());
  }
  const int64_t slots_booked = SlotRows();
  const absl::Time start = absl::FromUnixSeconds(visits[0].window_start().seconds());
  clock_.Set(start + absl::Minutes(5));
  v1::Visit v;
  ASSERT_TRUE(CheckIn(visits[0].name(), zhang, 31.2001, 121.4801, false, &v).ok());
  EXPECT_EQ(v.state(), v1::VISIT_STATE_IN_PROGRESS);
  clock_.Advance(absl::Minutes(3));
  ASSERT_TRUE(CheckIn(visits[0].name(), li, 31.2001, 121.4801, false, &v).ok());
  ASSERT_EQ(v.team_check_ins_size(), 1);
  EXPECT_EQ(v.team_check_ins(0).worker(), li);
  EXPECT_EQ(v.check_in().worker(), zhang);
  // Nobody checks in twice, and a third worker has no place on a two-worker visit.
  EXPECT_EQ(CheckIn(visits[0].name(), li, 31.2001, 121.4801, false, nullptr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(CheckIn(visits[0].name(), chen, 31.2001, 121.4801, true, nullptr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // 李师傅 leaves first: the visit goes on; 张阿姨 leaves last and completes it.
  clock_.Advance(absl::Minutes(50));
  ASSERT_TRUE(CheckOut(visits[0].name(), li, &v).ok());
  EXPECT_EQ(v.state(), v1::VISIT_STATE_IN_PROGRESS);
  ASSERT_EQ(v.team_check_outs_size(), 1);
  EXPECT_EQ(CheckOut(visits[0].name(), li, nullptr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(SlotRows(), slots_booked) << "bookings held while the visit goes on";
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(CheckOut(visits[0].name(), zhang, &v).ok());
  EXPECT_EQ(v.state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(v.check_out().worker(), zhang);
  EXPECT_TRUE(v.exceptions().empty()) << v.exceptions(0);
  EXPECT_EQ(SlotRows(), slots_booked / 2) << "the completed visit's slots are released";

  // Thursday: 李师傅 alone.
  clock_.Set(start + absl::Hours(48) + absl::Minutes(5));
  ASSERT_TRUE(CheckIn(visits[1].name(), li, 31.2001, 121.4801, false, nullptr).ok());
  clock_.Advance(absl::Minutes(60));
  ASSERT_TRUE(CheckOut(visits[1].name(), li, &v).ok());
  EXPECT_EQ(v.state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(std::vector<std::string>(v.exceptions().begin(), v.exceptions().end()),
            std::vector<std::string>{"WORKER_MISSING"});
  EXPECT_EQ(SlotRows(), 0);

  // Every step is in the outbox, in order.
  v1::ListEventsRequest request;
  request.set_page_size(1000);
  v1::ListEventsResponse events;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListEvents(&context, request, &events).ok());
  std::vector<std::string> tuesday;
  for (const auto& e : events.events()) {
    if (e.subject() == visits[0].name()) tuesday.push_back(e.type());
  }
  EXPECT_EQ(tuesday, (std::vector<std::string>{
                         "visit.scheduled", "visit.assigned", "visit.assigned", "visit.checked_in",
                         "visit.checked_in", "visit.worker_checked_out", "visit.completed"}));
}

TEST_P(SchedulingServiceTest, SwapAndReleaseAnIllWorker) {
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU,TH")).ok());
  Materialize("2026-12-01", 7);
  std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);
  const std::string zhang = workers_[0], li = workers_[1];
  ASSERT_TRUE(Assign(visits[0].name(), zhang,
                     absl::FromUnixSeconds(visits[0].window_start().seconds()) + absl::Minutes(30))
                  .ok());
  ASSERT_TRUE(Assign(visits[1].name(), li).ok());

  v1::SwapVisitWorkersRequest swap;
  swap.set_first(visits[0].name());
  swap.set_first_worker(zhang);
  swap.set_second(visits[1].name());
  swap.set_second_worker(li);
  swap.set_reason_code("CONTINUITY");
  v1::SwapVisitWorkersResponse swapped;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->SwapVisitWorkers(&c1, swap, &swapped).ok());
  ASSERT_EQ(swapped.visits_size(), 2);
  EXPECT_EQ(Workers(swapped.visits(0)), std::vector<std::string>{li});
  EXPECT_EQ(Workers(swapped.visits(1)), std::vector<std::string>{zhang});
  // Each visit keeps its planned time.
  EXPECT_EQ(swapped.visits(0).assignments(0).start().seconds(),
            visits[0].window_start().seconds() + 30 * 60);
  EXPECT_EQ(swapped.visits(1).assignments(0).start().seconds(), visits[1].window_start().seconds());
  // A swap naming a worker who is not on the visit changes nothing.
  grpc::ClientContext c2;
  EXPECT_EQ(Field(stub_->SwapVisitWorkers(&c2, swap, &swapped)), "first_worker");
  EXPECT_EQ(Workers(Visits()[0]), std::vector<std::string>{li});

  // 李师傅 falls ill for the week: his visit is unstaffed and returned for re-planning.
  v1::ReleaseWorkerRequest release;
  release.set_worker(li);
  release.set_from_date("2026-11-30");
  release.set_days(7);
  release.set_reason_code("WORKER_ILL");
  v1::ReleaseWorkerResponse released;
  grpc::ClientContext c3;
  ASSERT_TRUE(stub_->ReleaseWorker(&c3, release, &released).ok());
  ASSERT_EQ(released.visits_size(), 1);
  EXPECT_EQ(released.visits(0).name(), visits[0].name());
  EXPECT_TRUE(released.visits(0).assignments().empty());
  EXPECT_EQ(Workers(Visits()[1]), std::vector<std::string>{zhang});  // others unchanged
  release.set_days(0);
  grpc::ClientContext c4;
  EXPECT_EQ(Field(stub_->ReleaseWorker(&c4, release, &released)), "days");
}

TEST_P(SchedulingServiceTest, WorkerRouteNotesAndOwnerFilter) {
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU")).ok());
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU")).ok());
  Materialize("2026-12-01", 1);
  std::vector<v1::Visit> all = Visits();
  ASSERT_EQ(all.size(), 2u);  // Tue Dec 1, 9:00-11:00
  const std::string zhang = workers_[0], li = workers_[1];
  const absl::Time nine = absl::FromUnixSeconds(all[0].window_start().seconds());
  // Booked in the other order than the visits' ids: the route follows the booked starts.
  ASSERT_TRUE(Assign(all[1].name(), zhang, nine).ok());
  ASSERT_TRUE(Assign(all[0].name(), zhang, nine + absl::Minutes(90)).ok());
  auto route = [&](const std::string& worker, const std::string& date, grpc::Status* out) {
    v1::ListWorkerVisitsRequest request;
    request.set_worker(worker);
    request.set_date(date);
    v1::ListWorkerVisitsResponse response;
    grpc::ClientContext context;
    *out = stub_->ListWorkerVisits(&context, request, &response);
    return response;
  };
  grpc::Status status;
  v1::ListWorkerVisitsResponse day = route(zhang, "2026-12-01", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(day.visits_size(), 2);
  EXPECT_EQ(day.visits(0).visit().name(), all[1].name());
  EXPECT_EQ(day.visits(1).visit().name(), all[0].name());
  EXPECT_EQ(day.visits(1).assignment().start().seconds(),
            absl::ToUnixSeconds(nine + absl::Minutes(90)));
  EXPECT_EQ(route(zhang, "2026-12-02", &status).visits_size(), 0);
  EXPECT_EQ(route(li, "2026-12-01", &status).visits_size(), 0);
  route(zhang, "12/01/2026", &status);
  EXPECT_EQ(Field(status), "date");
  route("zhang", "2026-12-01", &status);
  EXPECT_EQ(Field(status), "worker");

  // Notes: by a worker of the visit, idempotent, kept out of the visit itself.
  v1::AddVisitNoteRequest note;
  note.set_visit(all[0].name());
  note.set_author(zhang);
  note.set_text("血压偏高，已提醒家属");
  note.set_request_id("n1");
  v1::AddVisitNoteResponse added, again;
  {
    grpc::ClientContext context;
    status = stub_->AddVisitNote(&context, note, &added);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->AddVisitNote(&context, note, &again).ok());
    EXPECT_EQ(again.note().name(), added.note().name());
  }
  note.set_author(li);
  note.set_request_id("n2");
  {
    grpc::ClientContext context;
    EXPECT_EQ(stub_->AddVisitNote(&context, note, &again).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  note.set_author(zhang);
  note.set_text(std::string(501, 'x'));
  {
    grpc::ClientContext context;
    EXPECT_EQ(Field(stub_->AddVisitNote(&context, note, &again)), "text");
  }
  v1::ListVisitNotesRequest notes_request;
  notes_request.set_visit(all[0].name());
  v1::ListVisitNotesResponse notes;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ListVisitNotes(&context, notes_request, &notes).ok());
  }
  ASSERT_EQ(notes.notes_size(), 1);
  EXPECT_EQ(notes.notes(0).text(), "血压偏高，已提醒家属");
  EXPECT_EQ(notes.notes(0).author(), zhang);
  for (const v1::Visit& v : Visits()) {
    EXPECT_EQ(v.SerializeAsString().find("血压"), std::string::npos);
  }

  // Visits by owner organisation, also for commitments stored before the column existed.
  auto owned = [&](const std::string& owner) {
    v1::ListVisitsRequest request;
    request.set_owner_organisation(owner);
    v1::ListVisitsResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->ListVisits(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.visits_size();
  };
  EXPECT_EQ(owned("organisations/lelin-social-work"), 2);
  EXPECT_EQ(owned("organisations/someone-else"), 0);
  ASSERT_TRUE(db_->RunInTransaction([](storage::Transaction& tx) {
                   return tx.Exec("UPDATE commitments SET owner_organisation = ''").status();
                 })
                  .ok());
  EXPECT_EQ(owned("organisations/lelin-social-work"), 0);
  absl::StatusOr<int> filled = BackfillCommitmentOwners(*db_);
  ASSERT_TRUE(filled.ok()) << filled.status();
  EXPECT_EQ(*filled, 2);
  EXPECT_EQ(owned("organisations/lelin-social-work"), 2);

  // A partner's report is a check like any other, marked as such.
  v1::CheckInVisitRequest in;
  in.set_name(all[1].name());
  in.set_worker(zhang);
  in.set_method(v1::CHECK_METHOD_PARTNER_REPORT);
  v1::CheckInVisitResponse checked_in;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->CheckInVisit(&context, in, &checked_in).ok());
  const auto& exceptions = checked_in.visit().exceptions();
  EXPECT_NE(std::find(exceptions.begin(), exceptions.end(), "PARTNER_REPORTED"), exceptions.end());
  EXPECT_EQ(std::find(exceptions.begin(), exceptions.end(), "NO_LOCATION"), exceptions.end());
}

// What is stored of scheduling's data, as bytes: the SQLite file and its WAL, or on MariaDB the
// columns that could hold a note (the notes, stored replies, events, visits, the audit log).
std::string StoredBytes(storage::Database& db, const std::string& url) {
  std::string bytes;
  if (absl::StartsWith(url, "sqlite:")) {
    for (const std::string& path : {url.substr(7), url.substr(7) + "-wal"}) {
      std::ifstream file(path, std::ios::binary);
      bytes.append(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    return bytes;
  }
  const std::pair<std::string, std::string> columns[] = {{"visit_notes", "body"},
                                                         {"visit_notes", "sealed_body"},
                                                         {"idempotency_keys", "response"},
                                                         {"outbox_events", "payload"},
                                                         {"visits", "data"},
                                                         {"pii_audit", "data"}};
  EXPECT_TRUE(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                  bytes.clear();
                  for (const auto& [table, column] : columns) {
                    absl::StatusOr<std::vector<storage::Row>> rows = tx.Query(absl::StrCat(
                        "SELECT ", column, " FROM ", table, " WHERE ", column, " IS NOT NULL"));
                    if (!rows.ok()) return rows.status();
                    for (const storage::Row& row : *rows) bytes += row.GetString(0);
                  }
                  return absl::OkStatus();
                }).ok());
  return bytes;
}

TEST_P(SchedulingServiceTest, VisitNotesAreSealedAndEveryReadIsAudited) {
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU")).ok());
  Materialize("2026-12-01", 1);
  std::vector<v1::Visit> all = Visits();
  ASSERT_EQ(all.size(), 1u);
  const v1::Visit& visit = all[0];
  const std::string zhang = workers_[0];
  ASSERT_TRUE(
      Assign(visit.name(), zhang, absl::FromUnixSeconds(visit.window_start().seconds())).ok());
  const std::string text = "血压偏高 158/95，已告知女儿";
  v1::AddVisitNoteRequest note;
  note.set_visit(visit.name());
  note.set_author(zhang);
  note.set_text(text);
  note.set_request_id("seal-1");
  v1::AddVisitNoteResponse added, retried;
  {
    grpc::ClientContext context;
    grpc::Status status = stub_->AddVisitNote(&context, note, &added);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->AddVisitNote(&context, note, &retried).ok());
  }
  EXPECT_EQ(added.note().text(), text);
  EXPECT_EQ(retried.SerializeAsString(), added.SerializeAsString()) << "a retry answers the same";

  // Nowhere in the stored bytes: not the note, not the reply kept for retries.
  std::string stored = StoredBytes(*db_, url_);
  ASSERT_FALSE(stored.empty());
  EXPECT_EQ(stored.find("血压偏高"), std::string::npos) << "note text stored in plain text";
  EXPECT_EQ(stored.find("158/95"), std::string::npos);

  // Each read returns the text and appends who read which visit's notes, when and why.
  auto read = [&](const std::string& actor, const std::string& reason, grpc::Status* status) {
    v1::ListVisitNotesRequest request;
    request.set_visit(visit.name());
    request.set_reason(reason);
    v1::ListVisitNotesResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, actor);
    *status = stub_->ListVisitNotes(&context, request, &response);
    return response;
  };
  auto audit = [&](const std::string& elder) {
    v1::ListAuditEntriesRequest request;
    request.set_elder(elder);
    v1::ListAuditEntriesResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ListAuditEntries(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return std::vector<registry::v1::AuditEntry>(response.entries().begin(),
                                                 response.entries().end());
  };
  EXPECT_TRUE(audit("").empty());
  grpc::Status status;
  v1::ListVisitNotesResponse notes = read("worker:" + zhang, "", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(notes.notes_size(), 1);
  EXPECT_EQ(notes.notes(0).text(), text);
  EXPECT_EQ(notes.notes(0).name(), added.note().name());
  read("admin:staff/wang", "回访核对护理记录", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  read("admin:staff/wang", std::string(257, 'x'), &status);
  EXPECT_EQ(Field(status), "reason");  // refused before reading: no entry
  std::vector<registry::v1::AuditEntry> entries = audit(visit.elder());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].actor(), "admin:staff/wang");  // newest first
  EXPECT_EQ(entries[0].reason(), "回访核对护理记录");
  EXPECT_EQ(entries[1].actor(), "worker:" + zhang);
  for (const registry::v1::AuditEntry& e : entries) {
    EXPECT_EQ(e.elder(), visit.elder());
    EXPECT_EQ(e.resource(), visit.name());
    EXPECT_EQ(e.fields(), "notes");
    EXPECT_EQ(e.action(), "read");
    EXPECT_FALSE(e.request_id().empty());
    EXPECT_GT(e.time().seconds(), 0);
    EXPECT_EQ(e.SerializeAsString().find("血压"), std::string::npos);
  }
  EXPECT_TRUE(audit("elders/someone-else").empty());

  // A note stored in plain text by the version before sealing (and the reply kept for its
  // retry) is sealed once, stays readable, and leaves no plain text behind.
  const std::string legacy = "右膝疼痛，建议复诊";
  v1::AddVisitNoteResponse legacy_reply;
  legacy_reply.mutable_note()->set_name(visit.name() + "/notes/legacy1");
  legacy_reply.mutable_note()->set_text(legacy);
  ASSERT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                   absl::StatusOr<int64_t> inserted = tx.Exec(
                       "INSERT INTO visit_notes (id, visit_id, author, create_time_us, body) "
                       "VALUES ('legacy1', ?, ?, 1, ?)",
                       {visit.name().substr(7), zhang, legacy});
                   if (!inserted.ok()) return inserted.status();
                   return tx
                       .Exec(
                           "INSERT INTO idempotency_keys (method, request_id, fingerprint, "
                           "response, create_time_us) VALUES ('AddVisitNote', 'old-1', 'f', ?, "
                           "?)",
                           {legacy_reply.SerializeAsString(), absl::ToUnixMicros(absl::Now())})
                       .status();
                 })
                  .ok());
  notes = read("worker:" + zhang, "", &status);  // before sealing: an older replica's row
  ASSERT_EQ(notes.notes_size(), 2);
  EXPECT_EQ(notes.notes(0).text(), legacy);
  absl::StatusOr<int> sealed = SealPlainVisitNotes(*db_, *registry_->cipher);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(*sealed, 1);
  sealed = SealPlainVisitNotes(*db_, *registry_->cipher);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(*sealed, 0) << "sealing again changes nothing";
  notes = read("worker:" + zhang, "", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(notes.notes_size(), 2);
  EXPECT_EQ(notes.notes(0).text(), legacy);
  EXPECT_EQ(notes.notes(1).text(), text);
  stored = StoredBytes(*db_, url_);
  EXPECT_EQ(stored.find("右膝疼痛"), std::string::npos) << "plain text left after sealing";
  EXPECT_EQ(stored.find("血压偏高"), std::string::npos);
  EXPECT_EQ(audit(visit.elder()).size(), 4u);
}

// The console's scheduling writes take a request_id: a retry (the answer was lost) gets the first
// answer again and changes nothing more — no second swap, no second event — and the same id with
// another request is refused.
TEST_P(SchedulingServiceTest, ConsoleWritesAreIdempotentWithRequestId) {
  v1::Commitment other;
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU,TH")).ok());
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=FR"), &other).ok());  // after the test's "now"
  Materialize("2026-12-01", 5);
  std::vector<v1::Visit> visits;
  for (const v1::Visit& v : Visits()) {
    if (v.commitment() != other.name()) visits.push_back(v);
  }
  ASSERT_EQ(visits.size(), 2u);  // Tue Dec 1 and Thu Dec 3
  const std::string zhang = workers_[0], li = workers_[1];
  ASSERT_TRUE(Assign(visits[0].name(), zhang,
                     absl::FromUnixSeconds(visits[0].window_start().seconds()) + absl::Minutes(30))
                  .ok());
  ASSERT_TRUE(Assign(visits[1].name(), li).ok());

  auto state = [&] {  // every visit and the number of events: what a second effect would change
    std::string bytes;
    for (const v1::Visit& v : Visits()) bytes += v.SerializeAsString();
    int64_t events = 0;
    EXPECT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                     absl::StatusOr<std::vector<storage::Row>> rows =
                         tx.Query("SELECT COUNT(*) FROM outbox_events");
                     if (!rows.ok()) return rows.status();
                     events = (*rows)[0].GetInt(0);
                     return absl::OkStatus();
                   })
                    .ok());
    return std::make_pair(bytes, events);
  };
  // Calls `call` twice with the same request; both answers must be equal and the retry must
  // change nothing.
  auto twice = [&](const std::string& what, auto call) {
    auto [first_status, first] = call();
    EXPECT_TRUE(first_status.ok()) << what << ": " << first_status.error_message();
    const auto before = state();
    auto [again_status, again] = call();
    EXPECT_TRUE(again_status.ok()) << what << " retried: " << again_status.error_message();
    EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString()) << what;
    const auto after = state();
    EXPECT_EQ(after.second, before.second) << what << " recorded events again";
    EXPECT_TRUE(after.first == before.first) << what << " changed a visit again";
    return first;
  };
  auto call = [&](auto method, const auto& request, auto response) {
    return [this, method, request, response]() mutable {
      grpc::ClientContext context;
      grpc::Status status = (stub_.get()->*method)(&context, request, &response);
      return std::make_pair(status, response);
    };
  };

  v1::SwapVisitWorkersRequest swap;
  swap.set_first(visits[0].name());
  swap.set_first_worker(zhang);
  swap.set_second(visits[1].name());
  swap.set_second_worker(li);
  swap.set_reason_code("CONTINUITY");
  swap.set_request_id("swap-1");
  v1::SwapVisitWorkersResponse swapped = twice(
      "SwapVisitWorkers",
      call(&v1::SchedulingService::Stub::SwapVisitWorkers, swap, v1::SwapVisitWorkersResponse()));
  ASSERT_EQ(swapped.visits_size(), 2);
  EXPECT_EQ(Workers(swapped.visits(0)), std::vector<std::string>{li});  // swapped once, not back
  EXPECT_EQ(Workers(Visits()[0]), std::vector<std::string>{li});
  swap.set_reason_code("OTHER");  // the same id for another request
  {
    grpc::ClientContext context;
    v1::SwapVisitWorkersResponse ignored;
    EXPECT_EQ(Field(stub_->SwapVisitWorkers(&context, swap, &ignored)), "request_id");
  }

  v1::UnassignVisitRequest unassign;
  unassign.set_name(visits[1].name());
  unassign.set_worker(zhang);
  unassign.set_reason_code("WORKER_ILL");
  unassign.set_request_id("unassign-1");
  v1::UnassignVisitResponse unassigned = twice(
      "UnassignVisit",
      call(&v1::SchedulingService::Stub::UnassignVisit, unassign, v1::UnassignVisitResponse()));
  EXPECT_TRUE(unassigned.visit().assignments().empty());

  v1::ReleaseWorkerRequest release;
  release.set_worker(li);
  release.set_from_date("2026-11-30");
  release.set_days(7);
  release.set_reason_code("WORKER_ILL");
  release.set_request_id("release-1");
  v1::ReleaseWorkerResponse released = twice(
      "ReleaseWorker",
      call(&v1::SchedulingService::Stub::ReleaseWorker, release, v1::ReleaseWorkerResponse()));
  ASSERT_EQ(released.visits_size(), 1);  // the retry lists the visit it released, too
  EXPECT_EQ(released.visits(0).name(), visits[0].name());

  v1::RescheduleVisitRequest reschedule;
  reschedule.set_name(visits[1].name());
  reschedule.set_new_start("2026-12-03T14:00:00");
  reschedule.set_reason_code("ELDER_REQUEST");
  reschedule.set_request_id("reschedule-1");
  twice("RescheduleVisit", call(&v1::SchedulingService::Stub::RescheduleVisit, reschedule,
                                v1::RescheduleVisitResponse()));

  v1::CancelVisitRequest cancel;
  cancel.set_name(visits[0].name());
  cancel.set_reason_code("ELDER_IN_HOSPITAL");
  cancel.set_request_id("cancel-1");
  v1::CancelVisitResponse cancelled =
      twice("CancelVisit",
            call(&v1::SchedulingService::Stub::CancelVisit, cancel, v1::CancelVisitResponse()));
  EXPECT_EQ(cancelled.visit().state(), v1::VISIT_STATE_CANCELLED);
  {
    cancel.set_request_id("");  // without an id, a second cancel is refused: the id is what helps
    grpc::ClientContext context;
    v1::CancelVisitResponse ignored;
    EXPECT_EQ(stub_->CancelVisit(&context, cancel, &ignored).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }

  v1::CancelCommitmentRequest end;
  end.set_name(other.name());
  end.set_reason("项目结束");
  end.set_request_id("end-1");
  v1::CancelCommitmentResponse ended = twice(
      "CancelCommitment",
      call(&v1::SchedulingService::Stub::CancelCommitment, end, v1::CancelCommitmentResponse()));
  EXPECT_EQ(ended.cancelled_visits(), 1);  // the retry reports the first call's count, not 0
  end.set_request_id("bad id with spaces");
  {
    grpc::ClientContext context;
    v1::CancelCommitmentResponse ignored;
    EXPECT_EQ(Field(stub_->CancelCommitment(&context, end, &ignored)), "request_id");
  }
}

TEST_P(SchedulingServiceTest, CheckInNeedsTheBookedWorkerAndChecksTheGeofence) {
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU,TH")).ok());
  Materialize("2026-12-01", 7);
  std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);
  // The commitment recorded the elder's home as the registry's masked view gives it.
  EXPECT_NEAR(visits[0].home().latitude(), 31.200, 1e-9);
  EXPECT_NEAR(visits[0].home().longitude(), 121.480, 1e-9);
  const std::string zhang = workers_[0], li = workers_[1];
  ASSERT_TRUE(Assign(visits[0].name(), zhang).ok());
  ASSERT_TRUE(Assign(visits[1].name(), zhang).ok());
  clock_.Set(absl::FromUnixSeconds(visits[0].window_start().seconds()) + absl::Minutes(5));

  // Someone not booked is refused unless declared a substitute.
  grpc::Status other = CheckIn(visits[0].name(), li, 31.2001, 121.4801, false, nullptr);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(other.error_message().find("substitute"), std::string::npos);
  v1::Visit in;
  // At the door (about 20 m from the true home): no exception.
  ASSERT_TRUE(CheckIn(visits[0].name(), zhang, 31.20020, 121.48010, false, &in).ok());
  EXPECT_TRUE(in.exceptions().empty()) << in.DebugString();
  // The place is kept to about 100 m (at the door it is the elder's address), in the answer and
  // in what is stored.
  EXPECT_NEAR(in.check_in().location().latitude(), 31.200, 1e-9);
  EXPECT_NEAR(in.check_in().location().longitude(), 121.480, 1e-9);
  EXPECT_NEAR(Visits()[0].check_in().location().latitude(), 31.200, 1e-9);

  // Thursday: a substitute checks in 1 km away -> two exceptions, still in progress.
  clock_.Set(absl::FromUnixSeconds(visits[1].window_start().seconds()) + absl::Minutes(5));
  ASSERT_TRUE(CheckIn(visits[1].name(), li, 31.20904, 121.48004, true, &in).ok());
  EXPECT_EQ(in.state(), v1::VISIT_STATE_IN_PROGRESS);
  EXPECT_EQ(std::vector<std::string>(in.exceptions().begin(), in.exceptions().end()),
            (std::vector<std::string>{"WORKER_NOT_PLANNED", "OUTSIDE_GEOFENCE"}));
  EXPECT_NEAR(in.check_in().location().latitude(), 31.209, 1e-9);
  EXPECT_NEAR(in.check_in().location().longitude(), 121.480, 1e-9);

  // Completed with those exceptions, the visit waits for a review; the Tuesday one needs none.
  clock_.Advance(absl::Minutes(60));
  v1::Visit out;
  ASSERT_TRUE(CheckOut(visits[1].name(), li, &out).ok());
  EXPECT_EQ(out.state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(out.review().state(), v1::REVIEW_STATE_PENDING);
  EXPECT_EQ(
      std::vector<std::string>(out.review().exceptions().begin(), out.review().exceptions().end()),
      (std::vector<std::string>{"WORKER_NOT_PLANNED", "OUTSIDE_GEOFENCE"}));
  auto review = [&](const std::string& visit, v1::ReviewDecision decision,
                    const std::string& reason, v1::Visit* result = nullptr,
                    const std::string& request_id = "") {
    v1::ReviewVisitRequest r;
    r.set_name(visit);
    r.set_decision(decision);
    r.set_reason_code(reason);
    r.set_note("电话回访老人，确认张阿姨临时顶班，在社区医院陪同就诊");
    r.set_request_id(request_id);
    v1::ReviewVisitResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "committee_staff:staff/zhou");
    grpc::Status status = stub_->ReviewVisit(&context, r, &response);
    if (result != nullptr) *result = response.visit();
    return status;
  };
  // A reason code of the other decision, a visit that is not completed or has nothing to review.
  grpc::Status bad = review(visits[1].name(), v1::REVIEW_DECISION_APPROVE, "NOT_DELIVERED");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("reason_code"), std::string::npos) << bad.error_message();
  EXPECT_EQ(review(visits[0].name(), v1::REVIEW_DECISION_APPROVE, "AGREED_CHANGE").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // in progress
  ASSERT_TRUE(CheckOut(visits[0].name(), zhang).ok());
  EXPECT_EQ(review(visits[0].name(), v1::REVIEW_DECISION_APPROVE, "AGREED_CHANGE").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // nothing to review
  // Approved, with the caller as reviewer; a retry gets the same answer; a second decision is
  // refused; the event stream carries it.
  v1::Visit approved;
  ASSERT_TRUE(review(visits[1].name(), v1::REVIEW_DECISION_APPROVE, "CONFIRMED_WITH_ELDER",
                     &approved, "review-1")
                  .ok());
  EXPECT_EQ(approved.review().state(), v1::REVIEW_STATE_APPROVED);
  EXPECT_EQ(approved.review().reviewer(), "committee_staff:staff/zhou");
  EXPECT_EQ(approved.review().reason_code(), "CONFIRMED_WITH_ELDER");
  v1::Visit again;
  ASSERT_TRUE(review(visits[1].name(), v1::REVIEW_DECISION_APPROVE, "CONFIRMED_WITH_ELDER", &again,
                     "review-1")
                  .ok());
  EXPECT_EQ(again.review().state(), v1::REVIEW_STATE_APPROVED);
  EXPECT_EQ(review(visits[1].name(), v1::REVIEW_DECISION_REJECT, "NOT_DELIVERED").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Visits()[1].review().state(), v1::REVIEW_STATE_APPROVED);
  v1::ListEventsRequest events_request;
  events_request.set_page_size(1000);
  v1::ListEventsResponse events;
  grpc::ClientContext events_context;
  ASSERT_TRUE(stub_->ListEvents(&events_context, events_request, &events).ok());
  bool reviewed_event = false;
  for (const v1::Event& e : events.events()) reviewed_event |= e.type() == "visit.reviewed";
  EXPECT_TRUE(reviewed_event);
}

TEST_P(SchedulingServiceTest, FallbackProposesOtherSectorsWhenTheOwnerCannotCover) {
  // A public centre in the street offers visiting with capacity; the social organisation that
  // owns the commitment offers nothing and has nobody with the nursing skill.
  ASSERT_FALSE(SeedPublicCentre().empty());

  v1::Commitment nursing = Weekly("FREQ=WEEKLY;BYDAY=MO,WE,FR");
  nursing.add_required_skills("nursing");
  v1::Commitment c;
  ASSERT_TRUE(Create(nursing, &c).ok());
  v1::ProposeFallbackRequest request;
  request.set_commitment(c.name());
  v1::ProposeFallbackResponse response;
  grpc::ClientContext c3;
  grpc::Status status = stub_->ProposeFallback(&c3, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(response.owner_can_cover());
  EXPECT_EQ(response.promised_per_week(), 3);
  std::vector<std::string> gaps;
  for (const auto& g : response.gaps()) gaps.push_back(g.code());
  EXPECT_EQ(gaps, (std::vector<std::string>{"NO_OFFERING", "NO_SKILLED_WORKER"}));
  ASSERT_EQ(response.proposals_size(), 1);
  EXPECT_EQ(response.proposals(0).provider().organisation().name(),
            "organisations/wlq-elder-centre");
  EXPECT_NE(response.proposals(0).reason().find("公共服务 五里桥社区综合为老服务中心"),
            std::string::npos)
      << response.proposals(0).reason();
  EXPECT_NE(response.proposals(0).reason().find("40 a week left"), std::string::npos)
      << response.proposals(0).reason();

  // Bad requests name the field.
  request.set_commitment("nope");
  grpc::ClientContext c4;
  EXPECT_EQ(Field(stub_->ProposeFallback(&c4, request, &response)), "commitment");
  request.set_commitment("commitments/nope");
  grpc::ClientContext c5;
  EXPECT_EQ(stub_->ProposeFallback(&c5, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// GetVisit returns the stored visit as ListVisits shows it; unknown is NOT_FOUND, malformed names
// the field.
TEST_P(SchedulingServiceTest, GetVisitReturnsOneVisit) {
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU")).ok());
  Materialize("2026-11-30", 14);
  const std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);
  v1::GetVisitRequest request;
  request.set_name(visits[1].name());
  v1::GetVisitResponse response;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->GetVisit(&c1, request, &response).ok());
  EXPECT_EQ(response.visit().SerializeAsString(), visits[1].SerializeAsString());
  request.set_name("visits/nope");
  grpc::ClientContext c2;
  EXPECT_EQ(stub_->GetVisit(&c2, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  request.set_name("commitments/x");
  grpc::ClientContext c3;
  EXPECT_EQ(Field(stub_->GetVisit(&c3, request, &response)), "name");
}

TEST_P(SchedulingServiceTest, PlanBooksTheWeeksVisitsWithSkillsAndSynchronisation) {
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU,TH")).ok());
  v1::Commitment bathing = Weekly("FREQ=WEEKLY;BYDAY=TU");
  bathing.add_required_skills("bathing");
  bathing.set_workers_required(2);
  bathing.mutable_synchronisation()->set_type(v1::SYNCHRONISATION_TYPE_SIMULTANEOUS);
  bathing.mutable_recurrence()->set_dtstart("2026-12-01T14:00:00");
  v1::Commitment bath;
  ASSERT_TRUE(Create(bathing, &bath).ok());
  Materialize("2026-11-30", 7);
  ASSERT_EQ(Visits().size(), 3u);

  // A weekend volunteer of the same organisation does not work on Tuesday.
  ASSERT_FALSE(ShiftWorker("周末志愿者", {"visiting", "bathing"}, "FREQ=WEEKLY;BYDAY=SA,SU",
                           "2026-01-03T08:00:00")
                   .empty());
  v1::PlanRequest tuesday;
  tuesday.set_from_date("2026-12-01");
  tuesday.set_days(1);
  tuesday.set_dry_run(true);
  tuesday.set_time_limit_seconds(1);
  v1::PlanResponse dry;
  grpc::ClientContext c0;
  ASSERT_TRUE(stub_->Plan(&c0, tuesday, &dry).ok());
  EXPECT_EQ(dry.visits(), 2);
  EXPECT_EQ(dry.workers(), 3);  // the two bathers and the visitor; not the weekend volunteer
  EXPECT_EQ(dry.booked(), 2);
  EXPECT_TRUE(Visits()[0].assignments().empty());  // a dry run books nothing

  v1::PlanRequest request;
  request.set_from_date("2026-11-30");
  request.set_days(7);
  request.set_region("regions/310101020");
  request.set_time_limit_seconds(2);
  request.set_seed(7);
  v1::PlanResponse plan;
  grpc::ClientContext c1;
  grpc::Status status = stub_->Plan(&c1, request, &plan);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(plan.name(), "plans/"));
  EXPECT_EQ(plan.visits(), 3);
  EXPECT_EQ(plan.workers(), 4);  // the one who left is not planned; the volunteer has weekends
  EXPECT_EQ(plan.booked(), 3);
  EXPECT_EQ(plan.not_booked(), 0);
  EXPECT_EQ(plan.conflicts(), 0);
  EXPECT_TRUE(plan.stats().feasible());
  for (const v1::Visit& visit : Visits()) {
    if (visit.commitment() == bath.name()) {
      // Two bathers, both with the skill, starting together within the window.
      ASSERT_EQ(visit.assignments_size(), 2) << visit.DebugString();
      std::set<std::string> who = {visit.assignments(0).worker(), visit.assignments(1).worker()};
      EXPECT_EQ(who, (std::set<std::string>{workers_[0], workers_[1]}));
      EXPECT_EQ(visit.assignments(0).start().seconds(), visit.assignments(1).start().seconds());
      EXPECT_GE(visit.assignments(0).start().seconds(), visit.window_start().seconds());
    } else {
      ASSERT_EQ(visit.assignments_size(), 1) << visit.DebugString();
      EXPECT_NE(visit.assignments(0).worker(), workers_[3]);
    }
    EXPECT_EQ(visit.assignments(0).source(), plan.name());
  }
  // Everything is staffed: a second plan finds nothing to do.
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->Plan(&c2, request, &plan).ok());
  EXPECT_EQ(plan.visits(), 0);
  // Another committee's plan does not touch this elder; bad requests name the field.
  request.set_region("regions/310101020002");
  grpc::ClientContext c3;
  EXPECT_EQ(Field(stub_->Plan(&c3, request, &plan)), "region");  // unknown region
  request.set_region("");
  request.set_days(8);
  grpc::ClientContext c4;
  EXPECT_EQ(Field(stub_->Plan(&c4, request, &plan)), "days");
}

// Continuity "as last time": the worker who checked in to the commitment's latest completed visit
// is the previous worker of its next visits in the planning problem, and the plan books them.
TEST_P(SchedulingServiceTest, PlanPrefersTheWorkerWhoCameLastTime) {
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU,TH")).ok());  // no preferred worker
  Materialize("2026-11-30", 7);
  std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);  // Tue Dec 1 and Thu Dec 3, 9:00-11:00
  const std::string chen = workers_[2];
  v1::PlanRequest thursday;
  thursday.set_from_date("2026-12-03");
  thursday.set_days(1);
  thursday.set_dry_run(true);
  thursday.set_include_problem(true);
  thursday.set_time_limit_seconds(1);
  thursday.set_seed(3);
  {  // Nobody has come yet: no previous worker.
    v1::PlanResponse dry;
    grpc::ClientContext c;
    ASSERT_TRUE(stub_->Plan(&c, thursday, &dry).ok());
    ASSERT_EQ(dry.problem().visits_size(), 1);
    EXPECT_EQ(dry.problem().visits(0).previous_worker(), "");
  }
  // Chen makes Tuesday's visit.
  clock_.Set(absl::FromUnixSeconds(visits[0].window_start().seconds()) + absl::Minutes(10));
  ASSERT_TRUE(CheckIn(visits[0].name(), chen, 31.2, 121.48, false, nullptr).ok());
  clock_.Advance(absl::Minutes(60));
  ASSERT_TRUE(CheckOut(visits[0].name(), chen).ok());

  v1::PlanResponse dry;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->Plan(&c1, thursday, &dry).ok());
  ASSERT_EQ(dry.problem().visits_size(), 1);
  EXPECT_EQ(dry.problem().visits(0).id(), visits[1].name());
  EXPECT_EQ(dry.problem().visits(0).previous_worker(), chen);

  thursday.set_dry_run(false);
  v1::PlanResponse plan;
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->Plan(&c2, thursday, &plan).ok());
  EXPECT_EQ(plan.booked(), 1);
  v1::Visit booked = Visits()[1];
  EXPECT_EQ(Workers(booked), std::vector<std::string>{chen});
  EXPECT_EQ(plan.objective().continuity_misses(), 0);

  // Weights are the caller's to set, and checked.
  thursday.set_dry_run(true);
  thursday.mutable_weights()->set_continuity(-1);
  grpc::ClientContext c3;
  EXPECT_EQ(Field(stub_->Plan(&c3, thursday, &plan)), "weights.continuity");
  thursday.mutable_weights()->set_continuity(1e300);
  grpc::ClientContext c4;
  EXPECT_EQ(Field(stub_->Plan(&c4, thursday, &plan)), "weights.continuity");
}

// A retried create or booking gets its first answer even when the registry, asked before the
// transaction, is down by then; a new call is refused as unavailable.
TEST_P(SchedulingServiceTest, RetriesAreAnsweredWhileTheRegistryIsDown) {
  v1::CreateCommitmentRequest create;
  *create.mutable_commitment() = Weekly();
  create.set_request_id("create-1");
  v1::CreateCommitmentResponse created, created_again;
  {
    grpc::ClientContext c;
    ASSERT_TRUE(stub_->CreateCommitment(&c, create, &created).ok());
  }
  Materialize("2026-11-30", 7);
  const std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);
  v1::AssignVisitRequest assign;
  assign.set_name(visits[0].name());
  assign.set_worker(workers_[0]);
  assign.set_request_id("assign-1");
  v1::AssignVisitResponse assigned, assigned_again;
  {
    grpc::ClientContext c;
    ASSERT_TRUE(stub_->AssignVisit(&c, assign, &assigned).ok());
  }
  registry_->server.reset();  // the registry goes away
  {
    grpc::ClientContext c;
    grpc::Status status = stub_->CreateCommitment(&c, create, &created_again);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(created_again.SerializeAsString(), created.SerializeAsString());
  }
  {
    grpc::ClientContext c;
    grpc::Status status = stub_->AssignVisit(&c, assign, &assigned_again);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(assigned_again.SerializeAsString(), assigned.SerializeAsString());
  }
  assign.set_name(visits[1].name());
  assign.set_request_id("assign-2");
  grpc::ClientContext c;
  EXPECT_EQ(stub_->AssignVisit(&c, assign, &assigned_again).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Visits()[1].assignments().empty());
}

// A stored reply lives kIdempotencyRetention (24 h) on the service's clock, not on the wall clock:
// a retry 23 h later is answered while the registry is down, one 25 h later is a new call (which
// then needs the registry). The fixture's clock is fixed in the past, so code that asked the wall
// clock would find the reply expired at once, whatever the date the suite runs on.
TEST_P(SchedulingServiceTest, StoredRepliesExpireOnTheServiceClock) {
  v1::CreateCommitmentRequest create;
  *create.mutable_commitment() = Weekly();
  create.set_request_id("create-expiring");
  v1::CreateCommitmentResponse created, replayed;
  {
    grpc::ClientContext c;
    ASSERT_TRUE(stub_->CreateCommitment(&c, create, &created).ok());
  }
  registry_->server.reset();
  clock_.Advance(absl::Hours(23));
  {
    grpc::ClientContext c;
    grpc::Status status = stub_->CreateCommitment(&c, create, &replayed);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(replayed.SerializeAsString(), created.SerializeAsString());
  }
  clock_.Advance(absl::Hours(2));
  grpc::ClientContext c;
  EXPECT_EQ(stub_->CreateCommitment(&c, create, &replayed).error_code(),
            grpc::StatusCode::UNAVAILABLE)
      << "a reply stored 25 h ago (service clock) must no longer be replayed";
}

// The worker who came last time may not work in the period planned (a weekend volunteer who
// stood in on a Tuesday): the preference is dropped, the plan is made.
TEST_P(SchedulingServiceTest, APreviousWorkerWhoCannotWorkThenIsNoObstacle) {
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=TU,TH")).ok());
  Materialize("2026-11-30", 7);
  std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 2u);
  const std::string volunteer =
      ShiftWorker("周末志愿者", {"visiting"}, "FREQ=WEEKLY;BYDAY=SA,SU", "2026-01-03T08:00:00");
  ASSERT_FALSE(volunteer.empty());
  clock_.Set(absl::FromUnixSeconds(visits[0].window_start().seconds()) + absl::Minutes(10));
  ASSERT_TRUE(CheckIn(visits[0].name(), volunteer, 31.2, 121.48, false, nullptr).ok());
  clock_.Advance(absl::Minutes(60));
  ASSERT_TRUE(CheckOut(visits[0].name(), volunteer).ok());

  v1::PlanRequest thursday;
  thursday.set_from_date("2026-12-03");
  thursday.set_days(1);
  thursday.set_include_problem(true);
  thursday.set_time_limit_seconds(1);
  v1::PlanResponse plan;
  grpc::ClientContext c1;
  grpc::Status status = stub_->Plan(&c1, thursday, &plan);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(plan.problem().visits_size(), 1);
  EXPECT_EQ(plan.problem().visits(0).previous_worker(), "");
  EXPECT_EQ(plan.booked(), 1);
}

TEST_P(SchedulingServiceTest, ConcurrentSweepsMarkEachVisitMissedOnce) {
  // Every replica runs a sweeper: the state guard on the UPDATE lets exactly one of them mark a
  // visit (and record its events).
  ASSERT_TRUE(Create(Weekly("FREQ=DAILY")).ok());
  Materialize("2026-12-01", 14);
  ASSERT_EQ(Visits().size(), 14u);
  clock_.Set(absl::FromUnixSeconds(1796227200) + absl::Hours(24 * 30));
  std::atomic<int> missed{0};
  std::vector<std::thread> sweepers;
  for (int i = 0; i < 4; ++i) {
    sweepers.emplace_back([&] {
      absl::StatusOr<int> n = service_->SweepMissed();
      EXPECT_TRUE(n.ok()) << n.status();
      if (n.ok()) missed += *n;
    });
  }
  for (auto& t : sweepers) t.join();
  EXPECT_EQ(missed.load(), 14);
  v1::ListEventsRequest request;
  request.set_page_size(1000);
  v1::ListEventsResponse events;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListEvents(&context, request, &events).ok());
  int missed_events = 0;
  for (const auto& e : events.events()) missed_events += e.type() == "visit.missed";
  EXPECT_EQ(missed_events, 14);
}

TEST_P(SchedulingServiceTest, ConcurrentCheckInsAndOutsEachCountOnce) {
  // Check-ins and check-outs arriving together share transactions (group commit): each visit is
  // still changed once per step, a refused call changes nothing and does not disturb the others,
  // and every change has exactly one event, check-in before check-out.
  ASSERT_TRUE(Create(Weekly("FREQ=DAILY")).ok());
  Materialize("2026-12-01", 24);
  const std::vector<v1::Visit> visits = Visits();
  ASSERT_EQ(visits.size(), 24u);
  clock_.Set(absl::FromUnixSeconds(visits[0].window_start().seconds()));
  // Each visit: three workers race to check in (one wins), plus a check-in of a visit that does
  // not exist; then the winner and a stranger race to check out (the winner wins).
  std::vector<std::string> winner(visits.size());
  std::vector<std::atomic<int>> ok_in(visits.size());
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < visits.size(); ++i) {
        const std::string worker = absl::StrCat("workers/w", t % 3);
        if (t < 3) {
          grpc::Status s = CheckIn(visits[i].name(), worker, 31.2, 121.48, false, nullptr);
          if (s.ok()) {
            ++ok_in[i];
          } else if (s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
            ++unexpected;
          }
        } else {
          grpc::Status s = CheckIn(absl::StrCat("visits/missing", t, "x", i), worker, 31.2, 121.48,
                                   false, nullptr);
          if (s.error_code() != grpc::StatusCode::NOT_FOUND) ++unexpected;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  threads.clear();
  EXPECT_EQ(unexpected.load(), 0);
  std::vector<v1::Visit> in = Visits();
  ASSERT_EQ(in.size(), visits.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(ok_in[i].load(), 1) << in[i].name();
    EXPECT_EQ(in[i].state(), v1::VISIT_STATE_IN_PROGRESS);
    winner[i] = in[i].check_in().worker();
  }
  clock_.Advance(absl::Minutes(45));
  std::atomic<int> ok_out{0};
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < in.size(); ++i) {
        grpc::Status s = CheckOut(in[i].name(), t == 0 ? winner[i] : "workers/stranger");
        if (s.ok()) {
          ++ok_out;
        } else if (t == 0 || s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
          ++unexpected;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(ok_out.load(), static_cast<int>(in.size()));
  for (const v1::Visit& v : Visits()) {
    EXPECT_EQ(v.state(), v1::VISIT_STATE_COMPLETED) << v.name();
  }

  v1::ListEventsRequest request;
  request.set_page_size(1000);
  v1::ListEventsResponse events;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListEvents(&context, request, &events).ok());
  std::map<std::string, std::vector<std::string>> per_visit;
  for (const auto& e : events.events()) per_visit[e.subject()].push_back(e.type());
  ASSERT_EQ(per_visit.size(), visits.size());
  for (const auto& [visit, types] : per_visit) {
    EXPECT_EQ(types,
              (std::vector<std::string>{"visit.scheduled", "visit.checked_in", "visit.completed"}))
        << visit;
  }
}

TEST_P(SchedulingServiceTest, AMissedVisitIsMadeGoodOnceOnADayOfItsOwnByTheFamiliarWorker) {
  v1::Commitment promise = Weekly();  // Tuesdays and Thursdays 09:00-11:00
  promise.set_preferred_worker(workers_[1]);
  v1::Commitment created;
  ASSERT_TRUE(Create(promise, &created).ok());
  Materialize("2026-12-01", 14);
  std::vector<v1::Visit> visits = Visits(created.name());
  ASSERT_GE(visits.size(), 2u);
  const v1::Visit& missed = visits[0];  // Tuesday, December 1
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  clock_.Set(absl::FromCivil(absl::CivilMinute(2026, 12, 1, 12, 0), shanghai));  // Tuesday noon
  ASSERT_TRUE(service_->SweepMissed().ok());

  auto make_up = [&](v1::MakeUpVisitRequest request, v1::MakeUpVisitResponse* out) {
    grpc::ClientContext context;
    return stub_->MakeUpVisit(&context, request, out);
  };
  v1::MakeUpVisitRequest ask;
  ask.set_missed_visit(missed.name());
  ask.set_dry_run(true);
  v1::MakeUpVisitResponse offer;
  grpc::Status s = make_up(ask, &offer);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // Wednesday and Friday at 09:00 (Thursday has its own visit), the familiar worker first.
  ASSERT_EQ(offer.proposals_size(), 2);
  EXPECT_EQ(
      absl::FormatTime("%m-%d %H:%M", FromTimestamp(offer.proposals(0).window_start()), shanghai),
      "12-02 09:00");
  EXPECT_EQ(
      absl::FormatTime("%m-%d %H:%M", FromTimestamp(offer.proposals(1).window_start()), shanghai),
      "12-04 09:00");
  EXPECT_EQ(offer.proposals(0).worker(), workers_[1]);
  EXPECT_EQ(SlotRows(), 0);  // a dry run books nothing

  v1::MakeUpVisitRequest accept;
  accept.set_missed_visit(missed.name());
  *accept.mutable_window_start() = offer.proposals(1).window_start();
  accept.set_request_id("make-up-1");
  v1::MakeUpVisitResponse booked;
  s = make_up(accept, &booked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(booked.visit().make_up_for(), missed.name());
  EXPECT_EQ(booked.visit().commitment(), created.name());
  EXPECT_EQ(booked.visit().state(), v1::VISIT_STATE_SCHEDULED);
  ASSERT_EQ(Workers(booked.visit()), std::vector<std::string>{workers_[1]});
  v1::MakeUpVisitResponse again;
  ASSERT_TRUE(make_up(accept, &again).ok());  // the same request_id: the same visit
  EXPECT_EQ(again.visit().name(), booked.visit().name());
  accept.set_request_id("make-up-2");
  EXPECT_EQ(make_up(accept, &again).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(make_up(ask, &offer).error_code(), grpc::StatusCode::ALREADY_EXISTS);

  // The make-up is a visit of the promise; materialising again leaves it and adds nothing.
  EXPECT_EQ(Visits(created.name()).size(), visits.size() + 1);
  Materialize("2026-12-01", 14);
  EXPECT_EQ(Visits(created.name()).size(), visits.size() + 1);

  // Only a missed visit, only a proposed window, a window to book.
  v1::MakeUpVisitRequest not_missed = ask;
  not_missed.set_missed_visit(visits[1].name());
  EXPECT_EQ(make_up(not_missed, &offer).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::MakeUpVisitRequest bad = accept;
  bad.set_missed_visit(visits[0].name());
  bad.clear_window_start();
  bad.set_request_id("");
  s = make_up(bad, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(s), "window_start");
  bad.set_within_days(9);
  EXPECT_EQ(Field(make_up(bad, &again)), "within_days");
}

TEST_P(SchedulingServiceTest, ADeclinedMakeUpIsRecordedOnceAndNoMakeUpIsBookedAfter) {
  v1::Commitment promise = Weekly();  // Tuesdays and Thursdays 09:00-11:00
  promise.set_preferred_worker(workers_[1]);
  v1::Commitment created;
  ASSERT_TRUE(Create(promise, &created).ok());
  Materialize("2026-12-01", 14);
  std::vector<v1::Visit> visits = Visits(created.name());
  ASSERT_GE(visits.size(), 3u);
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  clock_.Set(absl::FromCivil(absl::CivilMinute(2026, 12, 3, 12, 0), shanghai));  // Thursday noon
  ASSERT_TRUE(service_->SweepMissed().ok());  // Tuesday's and Thursday's visits are missed

  auto decline = [&](const std::string& visit, v1::MakeUpDeclineReason reason,
                     v1::DeclineMakeUpResponse* out, const std::string& request_id = "") {
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "family:family/li");
    v1::DeclineMakeUpRequest request;
    request.set_missed_visit(visit);
    request.set_reason(reason);
    request.set_request_id(request_id);
    return stub_->DeclineMakeUp(&context, request, out);
  };
  v1::DeclineMakeUpResponse declined;
  grpc::Status s =
      decline(visits[0].name(), v1::MAKE_UP_DECLINE_REASON_TIMES_DO_NOT_SUIT, &declined, "d-1");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(declined.visit().state(), v1::VISIT_STATE_MISSED);
  EXPECT_EQ(declined.visit().make_up_declined().by(), "family:family/li");
  EXPECT_EQ(declined.visit().make_up_declined().reason(),
            v1::MAKE_UP_DECLINE_REASON_TIMES_DO_NOT_SUIT);
  EXPECT_EQ(FromTimestamp(declined.visit().make_up_declined().time()), clock_.Now());

  // Declined again (later, another reason): unchanged, and told once.
  clock_.Advance(absl::Minutes(5));
  v1::DeclineMakeUpResponse again;
  ASSERT_TRUE(decline(visits[0].name(), v1::MAKE_UP_DECLINE_REASON_OTHER, &again).ok());
  EXPECT_EQ(again.visit().make_up_declined().reason(),
            v1::MAKE_UP_DECLINE_REASON_TIMES_DO_NOT_SUIT);
  EXPECT_EQ(FromTimestamp(again.visit().make_up_declined().time()),
            FromTimestamp(declined.visit().make_up_declined().time()));
  {
    v1::ListEventsRequest request;
    request.set_page_size(1000);
    v1::ListEventsResponse events;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ListEvents(&context, request, &events).ok());
    int declines = 0;
    for (const auto& e : events.events()) {
      if (e.type() != "visit.make_up_declined") continue;
      ++declines;
      v1::Visit payload;
      ASSERT_TRUE(payload.ParseFromString(e.payload()));
      EXPECT_EQ(payload.name(), visits[0].name());
      EXPECT_TRUE(payload.has_make_up_declined());
    }
    EXPECT_EQ(declines, 1);
  }

  // No make-up for it afterwards, proposed or booked.
  v1::MakeUpVisitRequest ask;
  ask.set_missed_visit(visits[0].name());
  ask.set_dry_run(true);
  v1::MakeUpVisitResponse offer;
  {
    grpc::ClientContext context;
    s = stub_->MakeUpVisit(&context, ask, &offer);
  }
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("declined"), std::string::npos) << s.error_message();

  // Thursday's is made up; its make-up can no longer be declined. A visit not missed neither.
  ask.set_missed_visit(visits[1].name());
  {
    grpc::ClientContext context;
    s = stub_->MakeUpVisit(&context, ask, &offer);
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GT(offer.proposals_size(), 0);
  v1::MakeUpVisitRequest book;
  book.set_missed_visit(visits[1].name());
  *book.mutable_window_start() = offer.proposals(0).window_start();
  {
    grpc::ClientContext context;
    v1::MakeUpVisitResponse booked;
    s = stub_->MakeUpVisit(&context, book, &booked);
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(decline(visits[1].name(), v1::MAKE_UP_DECLINE_REASON_NOT_NEEDED, &again).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(decline(visits[2].name(), v1::MAKE_UP_DECLINE_REASON_NOT_NEEDED, &again).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // A reason is required; the name must be a visit's.
  s = decline(visits[0].name(), v1::MAKE_UP_DECLINE_REASON_UNSPECIFIED, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(s), "reason");
  s = decline("commitments/x", v1::MAKE_UP_DECLINE_REASON_OTHER, &again);
  EXPECT_EQ(Field(s), "missed_visit");
}

// Referrals on the service's clock: one that nobody answers expires at its respond_by; two
// answers at once (a provider's retrying integration, two of its staff) move the promise once;
// cancelling a promise withdraws its waiting referral.
TEST_P(SchedulingServiceTest, ReferralsExpireAreAnsweredOnceAndEndWithTheirPromise) {
  const std::string centre_offering = SeedPublicCentre();
  auto* registry = registry_->stub.get();
  registry::v1::RecordConsentRequest consent;
  consent.set_name(elder_name_);
  consent.set_purpose(registry::v1::CONSENT_PURPOSE_SHARE_WITH_PROVIDERS);
  consent.set_granted(true);
  consent.set_reason("signed form");
  registry::v1::RecordConsentResponse consent_out;
  grpc::ClientContext c3;
  grpc::Status consented = registry->RecordConsent(&c3, consent, &consent_out);
  ASSERT_TRUE(consented.ok()) << consented.error_message();

  auto refer = [&](const std::string& commitment, int hours, v1::Referral* out) {
    v1::CreateReferralRequest request;
    request.set_commitment(commitment);
    request.set_offering(centre_offering);
    request.set_reason(v1::REFERRAL_REASON_OWNER_NO_SKILLED_WORKER);
    request.set_respond_within_hours(hours);
    v1::CreateReferralResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "committee_staff:staff/zhou");
    grpc::Status status = stub_->CreateReferral(&context, request, &response);
    if (out != nullptr) *out = response.referral();
    return status;
  };
  auto sweep = [&] {
    v1::SweepMissedVisitsResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(stub_->SweepMissedVisits(&context, {}, &response).ok());
    return response;
  };

  // Unanswered for the 4 hours given: expired by the sweep once they have passed, not before.
  v1::Commitment first;
  ASSERT_TRUE(Create(Weekly(), &first).ok());
  v1::Referral waiting;
  grpc::Status s = refer(first.name(), 4, &waiting);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(waiting.sent_by(), "committee_staff:staff/zhou");
  clock_.Advance(absl::Hours(3));
  EXPECT_EQ(sweep().referrals_expired(), 0);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(sweep().referrals_expired(), 1);
  EXPECT_EQ(sweep().referrals_expired(), 0);
  v1::GetReferralRequest get;
  get.set_name(waiting.name());
  v1::GetReferralResponse got;
  grpc::ClientContext c4;
  ASSERT_TRUE(stub_->GetReferral(&c4, get, &got).ok());
  EXPECT_EQ(got.referral().state(), v1::REFERRAL_STATE_EXPIRED);

  // Expired, the promise can be referred again; two answers at once accept it once.
  Materialize("2026-12-01", 14);
  // The visits still to come move; one whose window already opened stays with the old promise.
  size_t before = 0;
  for (const v1::Visit& v : Visits(first.name())) {
    before += FromTimestamp(v.window_start()) >= clock_.Now();
  }
  ASSERT_GE(before, 2u);
  ASSERT_LT(before, Visits(first.name()).size());
  v1::Referral again;
  ASSERT_TRUE(refer(first.name(), 0, &again).ok());
  std::atomic<int> accepted{0}, refused{0};
  std::vector<std::thread> answers;
  for (int i = 0; i < 4; ++i) {
    answers.emplace_back([&, i] {
      v1::AnswerReferralRequest request;
      request.set_name(again.name());
      request.set_organisation("organisations/wlq-elder-centre");
      request.set_accept(true);
      request.set_request_id(absl::StrCat("answer-", i));
      v1::AnswerReferralResponse response;
      grpc::ClientContext context;
      grpc::Status status = stub_->AnswerReferral(&context, request, &response);
      if (status.ok()) {
        ++accepted;
        EXPECT_EQ(response.moved_visits(), static_cast<int>(before));
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
            << status.error_message();
        ++refused;
      }
    });
  }
  for (auto& t : answers) t.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(refused.load(), 3);
  v1::ListCommitmentsRequest list;
  list.set_elder(elder_name_);
  v1::ListCommitmentsResponse commitments;
  grpc::ClientContext c5;
  ASSERT_TRUE(stub_->ListCommitments(&c5, list, &commitments).ok());
  int by_centre = 0;
  std::string moved_to;
  for (const auto& c : commitments.commitments()) {
    by_centre += c.owner_organisation() == "organisations/wlq-elder-centre";
    if (c.name() == first.name()) moved_to = c.moved_to();
  }
  EXPECT_EQ(by_centre, 1);
  ASSERT_FALSE(moved_to.empty());
  EXPECT_EQ(Visits(moved_to).size(), before);
  for (const v1::Visit& v : Visits(first.name())) {
    EXPECT_EQ(v.state(), FromTimestamp(v.window_start()) >= clock_.Now()
                             ? v1::VISIT_STATE_CANCELLED
                             : v1::VISIT_STATE_SCHEDULED)
        << v.name();
  }

  // Cancelled while its referral waits: the referral is withdrawn with it.
  v1::Commitment second;
  ASSERT_TRUE(Create(Weekly("FREQ=WEEKLY;BYDAY=FR"), &second).ok());
  v1::Referral open;
  ASSERT_TRUE(refer(second.name(), 0, &open).ok());
  EXPECT_EQ(refer(second.name(), 0, nullptr).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::CancelCommitmentRequest cancel;
  cancel.set_name(second.name());
  cancel.set_reason("elder moved to her daughter's");
  v1::CancelCommitmentResponse cancelled;
  grpc::ClientContext c6;
  ASSERT_TRUE(stub_->CancelCommitment(&c6, cancel, &cancelled).ok());
  get.set_name(open.name());
  grpc::ClientContext c7;
  ASSERT_TRUE(stub_->GetReferral(&c7, get, &got).ok());
  EXPECT_EQ(got.referral().state(), v1::REFERRAL_STATE_WITHDRAWN);
  EXPECT_EQ(refer(second.name(), 0, nullptr).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Every change is an event in the outbox.
  v1::ListEventsRequest events_request;
  events_request.set_page_size(1000);
  v1::ListEventsResponse events;
  grpc::ClientContext c8;
  ASSERT_TRUE(stub_->ListEvents(&c8, events_request, &events).ok());
  std::vector<std::string> types;
  for (const auto& e : events.events()) {
    if (absl::StartsWith(e.type(), "referral.")) types.push_back(e.type());
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"referral.sent", "referral.expired", "referral.sent",
                                      "referral.accepted", "referral.sent", "referral.withdrawn"}));
}

// A provider's past, imported: each row becomes the visit of its promise's occurrence with what
// a live check would have recorded, announced on the event stream; importing again changes
// nothing; a bad row writes nothing unless skip_bad_rows.
TEST_P(SchedulingServiceTest, PastVisitsAreImportedOnceByTheLiveRules) {
  // Tuesdays and Thursdays at 09:00 since 2026-11-01; the clock at 2026-11-30 00:00.
  const absl::TimeZone shanghai = recurrence::ShanghaiTimeZone();
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 30, 0, 0, 0), shanghai));
  v1::Commitment weekly = Weekly();
  weekly.set_valid_from("2026-11-01");
  weekly.mutable_recurrence()->set_dtstart("2026-11-03T09:00:00");
  v1::Commitment promise;
  ASSERT_TRUE(Create(weekly, &promise).ok());
  auto at = [&](int day, int hour, int minute) {
    return absl::FromCivil(absl::CivilSecond(2026, 11, day, hour, minute, 0), shanghai);
  };
  auto came = [&](const std::string& worker, absl::Time in, absl::Time out, double lat) {
    v1::ImportedAttendance a;
    a.set_worker(worker);
    *a.mutable_check_in_time() = ToTimestamp(in);
    a.mutable_check_in_location()->set_latitude(lat);
    a.mutable_check_in_location()->set_longitude(121.48013);
    *a.mutable_check_out_time() = ToTimestamp(out);
    a.mutable_check_out_location()->set_latitude(31.20012);
    a.mutable_check_out_location()->set_longitude(121.48013);
    a.set_method(v1::CHECK_METHOD_APP_GPS);
    return a;
  };
  auto row = [&](int line, const std::string& occurrence, v1::VisitState state) {
    v1::ImportedVisit r;
    r.set_line(line);
    r.set_commitment(promise.name());
    r.set_occurrence(occurrence);
    r.set_state(state);
    return r;
  };
  v1::ImportVisitsRequest request;
  *request.add_rows() = row(2, "2026-11-03T09:00:00", v1::VISIT_STATE_COMPLETED);
  *request.mutable_rows(0)->add_attendance() =
      came(workers_[0], at(3, 9, 20), at(3, 10, 15), 31.20012);
  *request.add_rows() = row(3, "2026-11-05T09:00:00", v1::VISIT_STATE_MISSED);
  *request.add_rows() = row(4, "2026-11-10T09:00:00", v1::VISIT_STATE_CANCELLED);
  request.mutable_rows(2)->set_reason_code("ELDER_IN_HOSPITAL");
  // Late, and a kilometre from the door.
  *request.add_rows() = row(5, "2026-11-12T09:00:00", v1::VISIT_STATE_COMPLETED);
  *request.mutable_rows(3)->add_attendance() =
      came(workers_[1], at(12, 11, 50), at(12, 12, 45), 31.21);
  auto import = [&](const v1::ImportVisitsRequest& r, v1::ImportVisitsResponse* out) {
    grpc::ClientContext context;
    return stub_->ImportVisits(&context, r, out);
  };
  auto last_sequence = [&] {
    v1::ListEventsRequest r;
    v1::ListEventsResponse events;
    grpc::ClientContext context;
    EXPECT_TRUE(stub_->ListEvents(&context, r, &events).ok());
    return events.last_sequence();
  };
  const int64_t before = last_sequence();

  v1::ImportVisitsResponse dry;
  request.set_dry_run(true);
  ASSERT_TRUE(import(request, &dry).ok());
  EXPECT_EQ(dry.created(), 4);
  EXPECT_FALSE(dry.written());
  EXPECT_TRUE(Visits(promise.name()).empty());
  request.set_dry_run(false);

  v1::ImportVisitsResponse first;
  grpc::Status status = import(request, &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(first.created(), 4);
  EXPECT_EQ(first.existing(), 0);
  EXPECT_TRUE(first.written());
  EXPECT_TRUE(first.problems().empty()) << first.problems(0).reason();
  ASSERT_EQ(first.visits_size(), 4);
  std::map<std::string, v1::Visit> by_occurrence;
  for (const v1::Visit& v : Visits(promise.name())) by_occurrence[v.occurrence()] = v;
  ASSERT_EQ(by_occurrence.size(), 4u);
  const v1::Visit& kept = by_occurrence["2026-11-03T09:00:00"];
  EXPECT_EQ(kept.name(), first.visits(0));
  EXPECT_EQ(kept.state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(kept.check_in().worker(), workers_[0]);
  EXPECT_EQ(FromTimestamp(kept.check_in().time()), at(3, 9, 20));
  EXPECT_TRUE(kept.exceptions().empty());
  EXPECT_EQ(by_occurrence["2026-11-05T09:00:00"].state(), v1::VISIT_STATE_MISSED);
  EXPECT_EQ(by_occurrence["2026-11-10T09:00:00"].state(), v1::VISIT_STATE_CANCELLED);
  EXPECT_EQ(by_occurrence["2026-11-10T09:00:00"].reason_code(), "ELDER_IN_HOSPITAL");
  const v1::Visit& late = by_occurrence["2026-11-12T09:00:00"];
  EXPECT_EQ(std::vector<std::string>(late.exceptions().begin(), late.exceptions().end()),
            (std::vector<std::string>{"OUTSIDE_GEOFENCE", "LATE_ARRIVAL"}));
  // One event per visit, of its outcome.
  v1::ListEventsRequest events_request;
  events_request.set_after_sequence(before);
  v1::ListEventsResponse events;
  grpc::ClientContext events_context;
  ASSERT_TRUE(stub_->ListEvents(&events_context, events_request, &events).ok());
  std::multiset<std::string> types;
  for (const v1::Event& e : events.events()) types.insert(e.type());
  EXPECT_EQ(types, (std::multiset<std::string>{"visit.completed", "visit.completed", "visit.missed",
                                               "visit.cancelled"}));

  // Again: every occurrence is recognised, nothing is written or announced.
  const int64_t after_first = last_sequence();
  v1::ImportVisitsResponse again;
  ASSERT_TRUE(import(request, &again).ok());
  EXPECT_EQ(again.created(), 0);
  EXPECT_EQ(again.existing(), 4);
  EXPECT_FALSE(again.written());
  EXPECT_EQ(std::vector<std::string>(again.visits().begin(), again.visits().end()),
            std::vector<std::string>(first.visits().begin(), first.visits().end()));
  EXPECT_EQ(last_sequence(), after_first);
  EXPECT_EQ(Visits(promise.name()).size(), 4u);

  // A scheduled visit of the past nobody checked in to takes the row's outcome.
  v1::MaterializeVisitsRequest materialize;
  materialize.set_from_date("2026-11-17");
  materialize.set_days(1);
  v1::MaterializeVisitsResponse materialized;
  grpc::ClientContext materialize_context;
  ASSERT_TRUE(stub_->MaterializeVisits(&materialize_context, materialize, &materialized).ok());
  ASSERT_EQ(materialized.created(), 1);
  std::string scheduled;
  for (const v1::Visit& v : Visits(promise.name())) {
    if (v.occurrence() == "2026-11-17T09:00:00") scheduled = v.name();
  }
  ASSERT_FALSE(scheduled.empty());

  // Bad rows: not an occurrence (a Wednesday), not over yet, a stranger, the same visit twice.
  v1::ImportVisitsRequest mixed;
  *mixed.add_rows() = row(2, "2026-11-17T09:00:00", v1::VISIT_STATE_COMPLETED);
  *mixed.mutable_rows(0)->add_attendance() =
      came(workers_[2], at(17, 9, 5), at(17, 10, 0), 31.20012);
  *mixed.add_rows() = row(3, "2026-11-18T09:00:00", v1::VISIT_STATE_MISSED);
  *mixed.add_rows() = row(4, "2026-12-01T09:00:00", v1::VISIT_STATE_MISSED);
  *mixed.add_rows() = row(5, "2026-11-19T09:00:00", v1::VISIT_STATE_COMPLETED);
  *mixed.mutable_rows(3)->add_attendance() =
      came("workers/nobody", at(19, 9, 5), at(19, 10, 0), 31.20012);
  *mixed.add_rows() = row(6, "2026-11-17T09:00:00", v1::VISIT_STATE_MISSED);
  v1::ImportVisitsResponse refused;
  ASSERT_TRUE(import(mixed, &refused).ok());
  EXPECT_FALSE(refused.written());
  std::vector<std::pair<int, std::string>> problems;
  for (const common::v1::RowProblem& p : refused.problems())
    problems.push_back({p.line(), p.field()});
  EXPECT_EQ(problems, (std::vector<std::pair<int, std::string>>{{3, "visit.occurrence"},
                                                                {4, "visit.occurrence"},
                                                                {5, "visit.attendance[0].worker"},
                                                                {6, "visit.occurrence"}}));
  EXPECT_EQ(Visits(promise.name()).size(), 5u);  // nothing written
  v1::GetVisitRequest get;
  get.set_name(scheduled);
  v1::GetVisitResponse got;
  grpc::ClientContext get_context;
  ASSERT_TRUE(stub_->GetVisit(&get_context, get, &got).ok());
  EXPECT_EQ(got.visit().state(), v1::VISIT_STATE_SCHEDULED);

  mixed.set_skip_bad_rows(true);
  v1::ImportVisitsResponse skipped;
  ASSERT_TRUE(import(mixed, &skipped).ok());
  EXPECT_TRUE(skipped.written());
  EXPECT_EQ(skipped.created(), 1);
  EXPECT_EQ(skipped.visits(0), scheduled);
  EXPECT_TRUE(skipped.visits(1).empty());
  grpc::ClientContext get_again;
  ASSERT_TRUE(stub_->GetVisit(&get_again, get, &got).ok());
  EXPECT_EQ(got.visit().state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(got.visit().check_in().worker(), workers_[2]);

  // Another provider's import does not see this promise.
  v1::ImportVisitsRequest guarded = request;
  guarded.set_owner_guard("organisations/wlq-elder-centre");
  v1::ImportVisitsResponse foreign;
  ASSERT_TRUE(import(guarded, &foreign).ok());
  ASSERT_EQ(foreign.problems_size(), 4);
  EXPECT_EQ(foreign.problems(0).field(), "visit.commitment");
  EXPECT_EQ(foreign.existing(), 0);

  // No rows, or a bad row only, is INVALID_ARGUMENT / a problem, never INTERNAL.
  v1::ImportVisitsResponse none;
  EXPECT_EQ(import(v1::ImportVisitsRequest(), &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A roster of promises, imported: each row checked as CreateCommitment checks one and stored as
// it stores one; importing again finds them; a bad row writes nothing unless skip_bad_rows; a
// cancelled promise is not the row's promise any more.
TEST_P(SchedulingServiceTest, ImportCommitmentsRegistersARosterOnce) {
  const absl::TimeZone shanghai = recurrence::ShanghaiTimeZone();
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2026, 11, 20, 10, 0, 0), shanghai);
  clock_.Set(now);
  SeedPublicCentre();
  auto row = [](int line, const v1::Commitment& c) {
    v1::ImportedCommitment r;
    r.set_line(line);
    *r.mutable_commitment() = c;
    return r;
  };
  // Grade 4 without recurrence, duration or window: the long-term-care defaults.
  v1::Commitment graded = Weekly();
  graded.clear_recurrence();
  graded.set_duration_minutes(0);
  graded.set_window_minutes(0);
  graded.set_care_grade(4);
  graded.set_valid_from("2026-12-07");
  v1::Commitment centre = Weekly();
  centre.set_owner_organisation("organisations/wlq-elder-centre");
  v1::ImportCommitmentsRequest request;
  *request.add_rows() = row(2, Weekly());
  *request.add_rows() = row(3, graded);
  *request.add_rows() = row(4, centre);
  auto import = [&](const v1::ImportCommitmentsRequest& r, v1::ImportCommitmentsResponse* out) {
    grpc::ClientContext context;
    return stub_->ImportCommitments(&context, r, out);
  };
  auto count = [&] {
    v1::ListCommitmentsRequest list;
    list.set_page_size(1000);
    v1::ListCommitmentsResponse listed;
    grpc::ClientContext context;
    EXPECT_TRUE(stub_->ListCommitments(&context, list, &listed).ok());
    return listed.commitments_size();
  };
  auto get = [&](const std::string& name, v1::Commitment* out) {
    v1::GetCommitmentRequest r;
    r.set_name(name);
    v1::GetCommitmentResponse got;
    grpc::ClientContext context;
    grpc::Status status = stub_->GetCommitment(&context, r, &got);
    *out = got.commitment();
    return status;
  };

  // A dry run counts and writes nothing.
  v1::ImportCommitmentsResponse dry;
  request.set_dry_run(true);
  grpc::Status status = import(request, &dry);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(dry.created(), 3);
  EXPECT_FALSE(dry.written());
  ASSERT_EQ(dry.commitments_size(), 3);
  for (const std::string& name : dry.commitments()) EXPECT_TRUE(name.empty());
  EXPECT_EQ(count(), 0);
  request.set_dry_run(false);

  v1::ImportCommitmentsResponse first;
  status = import(request, &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(first.created(), 3);
  EXPECT_EQ(first.existing(), 0);
  EXPECT_TRUE(first.written());
  EXPECT_TRUE(first.problems().empty()) << first.problems(0).reason();
  ASSERT_EQ(first.commitments_size(), 3);
  EXPECT_EQ(std::set<std::string>(first.commitments().begin(), first.commitments().end()).size(),
            3u);
  for (int i = 0; i < 3; ++i) {
    v1::Commitment stored;
    ASSERT_TRUE(get(first.commitments(i), &stored).ok()) << first.commitments(i);
    EXPECT_EQ(stored.state(), v1::COMMITMENT_STATE_ACTIVE);
    EXPECT_EQ(FromTimestamp(stored.create_time()), now);
    EXPECT_EQ(stored.workers_required(), 1);
    EXPECT_TRUE(stored.has_home()) << "the elder's home, as CreateCommitment records it";
    EXPECT_EQ(stored.owner_organisation(), request.rows(i).commitment().owner_organisation());
  }
  v1::Commitment defaults;
  ASSERT_TRUE(get(first.commitments(1), &defaults).ok());
  EXPECT_EQ(defaults.recurrence().rrule(), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
  EXPECT_EQ(defaults.recurrence().dtstart(), "2026-12-07T09:00:00");
  EXPECT_EQ(defaults.duration_minutes(), 60);
  EXPECT_EQ(defaults.window_minutes(), 120);
  EXPECT_FALSE(defaults.has_care_grade()) << "health data is not kept by scheduling";
  EXPECT_EQ(count(), 3);
  EXPECT_TRUE(Visits().empty()) << "visits come with MaterializeVisits";

  // Again: every promise is recognised, nothing is written.
  v1::ImportCommitmentsResponse again;
  ASSERT_TRUE(import(request, &again).ok());
  EXPECT_EQ(again.created(), 0);
  EXPECT_EQ(again.existing(), 3);
  EXPECT_FALSE(again.written());
  EXPECT_TRUE(again.problems().empty());
  EXPECT_EQ(std::vector<std::string>(again.commitments().begin(), again.commitments().end()),
            std::vector<std::string>(first.commitments().begin(), first.commitments().end()));
  EXPECT_EQ(count(), 3);

  // Bad rows: an elder the registry does not know, a valid_from that is no date, the same promise
  // twice; beside a new promise and one already registered.
  v1::Commitment later = Weekly();
  later.set_valid_from("2026-12-14");
  v1::Commitment stranger = Weekly();
  stranger.set_elder("elders/nobody");
  v1::Commitment undated = Weekly();
  undated.set_valid_from("12/01/2026");
  v1::ImportCommitmentsRequest mixed;
  *mixed.add_rows() = row(2, later);
  *mixed.add_rows() = row(3, stranger);
  *mixed.add_rows() = row(4, undated);
  *mixed.add_rows() = row(5, later);
  *mixed.add_rows() = row(6, Weekly());
  v1::ImportCommitmentsResponse refused;
  status = import(mixed, &refused);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(refused.written());
  std::vector<std::pair<int, std::string>> problems;
  for (const common::v1::RowProblem& p : refused.problems()) {
    problems.push_back({p.line(), p.field()});
  }
  EXPECT_EQ(problems,
            (std::vector<std::pair<int, std::string>>{
                {3, "commitment.elder"}, {4, "commitment.valid_from"}, {5, "commitment"}}));
  ASSERT_EQ(refused.problems_size(), 3);
  EXPECT_EQ(refused.problems(2).reason(), "the same promise as line 2");
  EXPECT_EQ(refused.problems(2).reason_zh(), "与第 2 行是同一项承诺");
  EXPECT_EQ(refused.created(), 1);
  EXPECT_EQ(refused.existing(), 1);
  ASSERT_EQ(refused.commitments_size(), 5);
  EXPECT_TRUE(refused.commitments(0).empty()) << "nothing was written";
  EXPECT_EQ(refused.commitments(4), first.commitments(0));
  EXPECT_EQ(count(), 3);

  mixed.set_skip_bad_rows(true);
  v1::ImportCommitmentsResponse skipped;
  ASSERT_TRUE(import(mixed, &skipped).ok());
  EXPECT_TRUE(skipped.written());
  EXPECT_EQ(skipped.created(), 1);
  EXPECT_EQ(skipped.existing(), 1);
  EXPECT_EQ(skipped.problems_size(), 3);
  ASSERT_EQ(skipped.commitments_size(), 5);
  v1::Commitment written;
  ASSERT_TRUE(get(skipped.commitments(0), &written).ok());
  EXPECT_EQ(written.valid_from(), "2026-12-14");
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(skipped.commitments(i).empty()) << i;
  EXPECT_EQ(skipped.commitments(4), first.commitments(0));
  EXPECT_EQ(count(), 4);

  // A cancelled promise is not the row's promise: a new one is registered.
  v1::CancelCommitmentRequest cancel;
  cancel.set_name(first.commitments(0));
  cancel.set_reason("服务单位更换");
  v1::CancelCommitmentResponse cancelled;
  grpc::ClientContext cancel_context;
  ASSERT_TRUE(stub_->CancelCommitment(&cancel_context, cancel, &cancelled).ok());
  v1::ImportCommitmentsRequest renewed;
  *renewed.add_rows() = row(2, Weekly());
  v1::ImportCommitmentsResponse renewal;
  ASSERT_TRUE(import(renewed, &renewal).ok());
  EXPECT_EQ(renewal.created(), 1);
  EXPECT_EQ(renewal.existing(), 0);
  EXPECT_TRUE(renewal.written());
  ASSERT_EQ(renewal.commitments_size(), 1);
  EXPECT_NE(renewal.commitments(0), first.commitments(0));
  EXPECT_EQ(count(), 5);

  // No rows, or too many, is INVALID_ARGUMENT on rows.
  v1::ImportCommitmentsResponse none;
  grpc::Status empty = import(v1::ImportCommitmentsRequest(), &none);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(empty), "rows");
  v1::ImportCommitmentsRequest too_many;
  for (int i = 0; i <= 1000; ++i) *too_many.add_rows() = row(i + 2, Weekly());
  grpc::Status overflow = import(too_many, &none);
  EXPECT_EQ(overflow.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(overflow), "rows");
  EXPECT_EQ(count(), 5);
}

INSTANTIATE_TEST_SUITE_P(Backends, SchedulingServiceTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli::scheduling
