// Feedback on real loopback servers (registry, scheduling, feedback) against SQLite and MariaDB:
// a scripted history of visits flows through scheduling's event stream into feedback's ledger,
// index and alerts.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/auth/webhook_signature.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "common/proto_time.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/feedback/consumer.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/registry_directory.h"
#include "services/feedback/webhook_sender.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "tests/support/registry_test_server.h"
#include "tests/support/test_env.h"

namespace linli::feedback {
namespace {

namespace sv1 = scheduling::v1;
namespace rv1 = registry::v1;

constexpr char kOrg[] = "organisations/lelin-social-work";
constexpr char kOffice[] = "organisations/wlq-office-service";
constexpr char kCommittee[] = "regions/310101020001";
constexpr char kStreet[] = "regions/310101020";

class FeedbackTest : public ::testing::TestWithParam<std::string> {
 protected:
  // 2026-11-30 00:00 Shanghai, a Monday.
  FeedbackTest() : clock_(absl::FromUnixSeconds(1795968000)) {}

  void SetUp() override {
    auto registry = registry::RegistryTestServer::Start(GetParam(), "fb_registry", Clock::Real());
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
    SeedRegistry();
    registry_stub_ = rv1::RegistryService::NewStub(
        NewChannel(absl::StrCat("127.0.0.1:", registry_->server->port()), {}));

    absl::StatusOr<std::string> sched_url = testing::FreshDatabaseUrl(GetParam(), "fb_sched");
    ASSERT_TRUE(sched_url.ok()) << sched_url.status();
    auto sched_db = storage::OpenDatabase(*sched_url);
    ASSERT_TRUE(sched_db.ok()) << sched_db.status();
    sched_db_ = std::move(*sched_db);
    ASSERT_TRUE(
        storage::ApplyMigrations(*sched_db_, "scheduling", scheduling::SchedulingMigrations())
            .ok());
    sched_service_ = std::make_unique<scheduling::SchedulingServiceImpl>(
        *sched_db_, clock_, *registry_->cipher,
        rv1::RegistryService::NewStub(
            NewChannel(absl::StrCat("127.0.0.1:", registry_->server->port()), {})));
    sched_server_ = StartServer("scheduling", sched_service_.get());
    sched_stub_ = sv1::SchedulingService::NewStub(
        NewChannel(absl::StrCat("127.0.0.1:", sched_server_->port()), {}));

    absl::StatusOr<std::string> url = testing::FreshDatabaseUrl(GetParam(), "feedback");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    OpenFeedback();
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    if (sched_server_ != nullptr) sched_server_->Shutdown();
  }

  std::unique_ptr<GrpcServer> StartServer(const std::string& name, grpc::Service* service) {
    ServerOptions options;
    options.service_name = name;
    options.listen_address = "127.0.0.1:0";
    auto server = GrpcServer::Start(options, {service});
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  // (Re)opens feedback's database, service, server, applier and consumer: a restart.
  void OpenFeedback() {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    consumer_.reset();
    applier_.reset();
    facts_.reset();
    service_.reset();
    db_.reset();
    auto db = storage::OpenDatabase(url_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, "feedback", FeedbackMigrations()).ok());
    service_ = std::make_unique<FeedbackServiceImpl>(
        *db_, clock_, *registry_->cipher,
        rv1::RegistryService::NewStub(
            NewChannel(absl::StrCat("127.0.0.1:", registry_->server->port()), {})));
    server_ = StartServer("feedback", service_.get());
    stub_ =
        v1::FeedbackService::NewStub(NewChannel(absl::StrCat("127.0.0.1:", server_->port()), {}));
    facts_ = std::make_unique<RpcFacts>(registry_stub_.get(), sched_stub_.get());
    applier_ = std::make_unique<EventApplier>(*db_, *facts_, clock_, &service_->notices());
    consumer_ = std::make_unique<SchedulingConsumer>(*db_, *applier_, sched_stub_.get(), 4);
  }

  template <typename Fn>
  void Registry(Fn fn) {
    grpc::ClientContext context;
    grpc::Status status = fn(registry_->stub.get(), &context);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // 上海市 > 黄浦区 > 五里桥街道 > 桥一居民区; the civil-affairs line; the street's service office
  // on that line; a social organisation guided by it; the visiting service; three elders.
  void SeedRegistry() {
    const std::pair<std::string, rv1::RegionLevel> regions[] = {
        {"310000", rv1::REGION_LEVEL_MUNICIPALITY},
        {"310101", rv1::REGION_LEVEL_DISTRICT},
        {"310101020", rv1::REGION_LEVEL_STREET},
        {"310101020001", rv1::REGION_LEVEL_COMMITTEE}};
    std::string parent;
    for (const auto& [code, level] : regions) {
      rv1::CreateRegionRequest r;
      r.mutable_region()->set_code(code);
      r.mutable_region()->set_display_name("区域" + code);
      r.mutable_region()->set_level(level);
      r.mutable_region()->set_parent(parent);
      rv1::CreateRegionResponse out;
      Registry([&](auto* s, auto* c) { return s->CreateRegion(c, r, &out); });
      parent = "regions/" + code;
    }
    rv1::CreateLineRequest line;
    line.mutable_line()->set_id("civil-affairs");
    line.mutable_line()->set_display_name("民政");
    rv1::CreateLineResponse line_out;
    Registry([&](auto* s, auto* c) { return s->CreateLine(c, line, &line_out); });
    auto org = [&](const std::string& id, const std::string& name, rv1::OrganisationKind kind,
                   rv1::Sector sector, bool on_line) {
      rv1::CreateOrganisationRequest r;
      r.mutable_organisation()->set_id(id);
      r.mutable_organisation()->set_display_name(name);
      r.mutable_organisation()->set_kind(kind);
      r.mutable_organisation()->set_sector(sector);
      r.mutable_organisation()->set_region(kStreet);
      if (on_line) r.mutable_organisation()->add_lines("lines/civil-affairs");
      rv1::CreateOrganisationResponse out;
      Registry([&](auto* s, auto* c) { return s->CreateOrganisation(c, r, &out); });
    };
    org("wlq-office-admin", "党政办公室", rv1::ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT,
        rv1::SECTOR_PUBLIC, false);
    org("wlq-office-service", "社区服务办公室", rv1::ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT,
        rv1::SECTOR_PUBLIC, true);
    org("lelin-social-work", "乐龄社工服务社", rv1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
        rv1::SECTOR_SOCIAL, false);
    rv1::CreateRelationRequest rel;
    rel.mutable_relation()->set_source(kOrg);
    rel.mutable_relation()->set_target(kOffice);
    rel.mutable_relation()->set_type(rv1::RELATION_TYPE_LINE_GUIDANCE);
    rv1::CreateRelationResponse rel_out;
    Registry([&](auto* s, auto* c) { return s->CreateRelation(c, rel, &rel_out); });
    rv1::CreateServiceTypeRequest type;
    type.mutable_service_type()->set_code("visiting");
    type.mutable_service_type()->set_display_name("探访");
    rv1::CreateServiceTypeResponse type_out;
    Registry([&](auto* s, auto* c) { return s->CreateServiceType(c, type, &type_out); });
    auto elder = [&](const std::string& name, rv1::LivingSituation situation) {
      rv1::CreateElderRequest r;
      r.mutable_elder()->set_display_name(name);
      r.mutable_elder()->set_region(kCommittee);
      r.mutable_elder()->set_living_situation(situation);
      rv1::Contact* daughter = r.mutable_elder()->add_contacts();
      daughter->set_display_name("李梅");
      daughter->set_relationship("女儿");
      daughter->set_proxy(true);
      rv1::CreateElderResponse out;
      Registry([&](auto* s, auto* c) { return s->CreateElder(c, r, &out); });
      return out.elder().name();
    };
    alone_ = elder("王秀英", rv1::LIVING_SITUATION_ALONE);
    no_family_ = elder("张建国", rv1::LIVING_SITUATION_NO_FAMILY);
    family_ = elder("刘淑珍", rv1::LIVING_SITUATION_WITH_FAMILY);
  }

  // Local time on a day of December 2026.
  absl::Time Dec(int day, int hour, int minute = 0) const {
    return absl::FromUnixSeconds(1795968000) + absl::Hours(24 * day) + absl::Hours(hour) +
           absl::Minutes(minute);
  }

  std::string Commit(const std::string& elder, const std::string& rrule,
                     const std::string& preferred = "workers/w1") {
    sv1::CreateCommitmentRequest request;
    sv1::Commitment* c = request.mutable_commitment();
    c->set_elder(elder);
    c->set_service_type("serviceTypes/visiting");
    c->set_owner_organisation(kOrg);
    c->mutable_recurrence()->set_rrule(rrule);
    c->mutable_recurrence()->set_dtstart("2026-12-01T09:00:00");
    c->set_window_minutes(120);
    c->set_duration_minutes(60);
    c->set_valid_from("2026-12-01");
    c->set_preferred_worker(preferred);
    sv1::CreateCommitmentResponse response;
    grpc::ClientContext context;
    grpc::Status status = sched_stub_->CreateCommitment(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    sv1::MaterializeVisitsRequest m;
    m.set_from_date("2026-12-01");
    m.set_days(14);
    m.set_commitment(response.commitment().name());
    sv1::MaterializeVisitsResponse m_out;
    grpc::ClientContext m_context;
    EXPECT_TRUE(sched_stub_->MaterializeVisits(&m_context, m, &m_out).ok());
    return response.commitment().name();
  }

  std::vector<sv1::Visit> Visits(const std::string& commitment) {
    sv1::ListVisitsRequest request;
    request.set_commitment(commitment);
    request.set_page_size(100);
    sv1::ListVisitsResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(sched_stub_->ListVisits(&context, request, &response).ok());
    return {response.visits().begin(), response.visits().end()};
  }

  // A worker arrives at `arrive` and leaves an hour later; `located`: the phone sends its
  // position at the door (without it the visit is NO_LOCATION and waits for a review).
  void Visit(const std::string& visit, const std::string& worker, absl::Time arrive,
             bool located = true) {
    clock_.Set(arrive);
    sv1::CheckInVisitRequest in;
    in.set_name(visit);
    in.set_worker(worker);
    in.set_method(sv1::CHECK_METHOD_APP_GPS);
    if (located) {
      in.mutable_location()->set_latitude(31.2);
      in.mutable_location()->set_longitude(121.48);
    }
    sv1::CheckInVisitResponse in_out;
    grpc::ClientContext c1;
    grpc::Status s1 = sched_stub_->CheckInVisit(&c1, in, &in_out);
    ASSERT_TRUE(s1.ok()) << s1.error_message();
    clock_.Advance(absl::Hours(1));
    sv1::CheckOutVisitRequest out;
    out.set_name(visit);
    out.set_worker(worker);
    out.set_method(sv1::CHECK_METHOD_APP_GPS);
    if (located) *out.mutable_location() = in.location();
    sv1::CheckOutVisitResponse out_out;
    grpc::ClientContext c2;
    grpc::Status s2 = sched_stub_->CheckOutVisit(&c2, out, &out_out);
    ASSERT_TRUE(s2.ok()) << s2.error_message();
  }

  void SweepMissed(absl::Time at) {
    clock_.Set(at);
    sv1::SweepMissedVisitsRequest request;
    sv1::SweepMissedVisitsResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(sched_stub_->SweepMissedVisits(&context, request, &response).ok());
  }

  void CancelVisit(const std::string& visit) {
    sv1::CancelVisitRequest request;
    request.set_name(visit);
    request.set_reason_code("ELDER_IN_HOSPITAL");
    sv1::CancelVisitResponse response;
    grpc::ClientContext context;
    grpc::Status s = sched_stub_->CancelVisit(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Applies every pending scheduling event.
  void Consume() {
    for (int i = 0; i < 1000; ++i) {
      absl::StatusOr<int> n = consumer_->PollOnce();
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) return;
    }
    FAIL() << "consumer did not catch up";
  }

  // The scripted history of the alone elder's Tuesday/Thursday commitment:
  //   Dec 1  w1 arrives 09:30 (on time, the familiar worker)      -> completed
  //   Dec 3  w2 arrives 11:30 (after the 9-11 window: late)       -> completed
  //   Dec 8  nobody comes                                         -> missed
  //   Dec 10 cancelled beforehand (elder in hospital)             -> cancelled
  // The clock ends on Dec 10 at 20:00.
  void ScriptHistory() {
    commitment_ = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU,TH");
    std::vector<sv1::Visit> visits = Visits(commitment_);
    ASSERT_EQ(visits.size(), 4u);
    for (const auto& v : visits) visits_.push_back(v.name());
    Visit(visits_[0], "workers/w1", Dec(1, 9, 30));
    Visit(visits_[1], "workers/w2", Dec(3, 11, 30));
    CancelVisit(visits_[3]);
    SweepMissed(Dec(8, 12, 0));
    clock_.Set(Dec(10, 20, 0));
  }

  grpc::Status Submit(const std::string& visit, const std::string& author, int faces,
                      v1::Answer as_promised, v1::Answer cared, bool nobody_came = false,
                      v1::SubmitFeedbackResponse* out = nullptr,
                      const std::string& request_id = "") {
    v1::SubmitFeedbackRequest request;
    v1::Feedback* f = request.mutable_feedback();
    f->set_visit(visit);
    f->set_author(author);
    f->set_channel(v1::FEEDBACK_CHANNEL_APP);
    f->set_faces(faces);
    f->set_did_as_promised(as_promised);
    f->set_felt_cared_for(cared);
    f->set_nobody_came(nobody_came);
    f->set_words("谢谢小王，聊得很开心");
    request.set_request_id(request_id);
    v1::SubmitFeedbackResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->SubmitFeedback(&context, request, &response);
    if (out != nullptr) *out = response;
    return status;
  }

  v1::PromiseLedger Ledger(const std::string& subject, int days) {
    v1::GetPromiseLedgerRequest request;
    request.set_subject(subject);
    request.set_window_days(days);
    v1::GetPromiseLedgerResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->GetPromiseLedger(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.ledger();
  }

  v1::PerceptionIndex Index(const std::string& subject, int days = 30) {
    v1::GetPerceptionIndexRequest request;
    request.set_subject(subject);
    request.set_window_days(days);
    v1::GetPerceptionIndexResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->GetPerceptionIndex(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.index();
  }

  v1::SweepAlertsResponse SweepAlerts() {
    v1::SweepAlertsRequest request;
    v1::SweepAlertsResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->SweepAlerts(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  std::vector<v1::Alert> Alerts(v1::AlertKind kind = v1::ALERT_KIND_UNSPECIFIED) {
    v1::ListAlertsRequest request;
    request.set_committee(kCommittee);
    v1::ListAlertsResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->ListAlerts(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<v1::Alert> out;
    for (const auto& a : response.alerts()) {
      if (kind == v1::ALERT_KIND_UNSPECIFIED || a.kind() == kind) out.push_back(a);
    }
    return out;
  }

  // Occurrences of `needle` in `text`.
  static int CountOf(const std::string& text, const std::string& needle) {
    int n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

  static std::string Field(const grpc::Status& status) {
    auto bad = GetBadRequest(FromGrpcStatus(status));
    return bad.has_value() && bad->field_violations_size() > 0 ? bad->field_violations(0).field()
                                                               : "(none)";
  }

  // Every non-zero counter row and every projected visit, as text, for comparing two databases.
  std::vector<std::string> Snapshot(storage::Database& db) {
    std::vector<std::string> out;
    absl::Status s = db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT * FROM daily_counters ORDER BY subject, "
                                           "day_number"));
      for (const storage::Row& row : rows) {
        std::vector<std::string> cells;
        bool zero = true;
        for (size_t i = 0; i < row.size(); ++i) {
          cells.push_back(row.GetString(i));
          if (i >= 2 && row.GetInt(i) != 0) zero = false;
        }
        if (!zero) out.push_back(absl::StrJoin(cells, "|"));
      }
      ASSIGN_OR_RETURN(auto visits, tx.Query("SELECT id, state, worker, day_number, late, "
                                             "last_sequence FROM fb_visits ORDER BY id"));
      for (const storage::Row& row : visits) {
        out.push_back(absl::StrCat("visit|", row.GetString(0), "|", row.GetInt(1), "|",
                                   row.GetString(2), "|", row.GetInt(3), "|", row.GetInt(4), "|",
                                   row.GetInt(5)));
      }
      ASSIGN_OR_RETURN(auto elders, tx.Query("SELECT elder, last_contact_us FROM fb_elders "
                                             "ORDER BY elder"));
      for (const storage::Row& row : elders) {
        out.push_back(absl::StrCat("elder|", row.GetString(0), "|", row.GetInt(1)));
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  FakeClock clock_;
  // The recipient's notices, oldest first.
  v1::ListNoticesResponse Notices(const std::string& recipient) {
    v1::ListNoticesRequest request;
    request.set_recipient(recipient);
    v1::ListNoticesResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->ListNotices(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  void Classify(const std::string& work_order, v1::WorkOrderCategory category) {
    v1::ClassifyWorkOrderRequest request;
    request.set_name(work_order);
    request.set_category(category);
    v1::ClassifyWorkOrderResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->ClassifyWorkOrder(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  std::unique_ptr<registry::RegistryTestServer> registry_;
  std::unique_ptr<rv1::RegistryService::Stub> registry_stub_;
  std::string alone_, no_family_, family_;
  std::unique_ptr<storage::Database> sched_db_;
  std::unique_ptr<scheduling::SchedulingServiceImpl> sched_service_;
  std::unique_ptr<GrpcServer> sched_server_;
  std::unique_ptr<sv1::SchedulingService::Stub> sched_stub_;
  std::string url_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<FeedbackServiceImpl> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::FeedbackService::Stub> stub_;
  std::unique_ptr<RpcFacts> facts_;
  std::unique_ptr<EventApplier> applier_;
  std::unique_ptr<SchedulingConsumer> consumer_;
  std::string commitment_;
  std::vector<std::string> visits_;
};

TEST_P(FeedbackTest, LedgerNumbersOfAScriptedHistoryAreExact) {
  ScriptHistory();
  Consume();
  v1::PromiseLedger month = Ledger(commitment_, 30);
  EXPECT_EQ(month.first_day(), "2026-11-11");
  EXPECT_EQ(month.last_day(), "2026-12-10");
  const v1::PromiseFigures& f = month.figures();
  EXPECT_EQ(f.expected_visits(), 3);  // two completed, one missed; the cancelled one is not due
  EXPECT_EQ(f.verified_visits(), 2);
  EXPECT_EQ(f.punctual_visits(), 1);  // Dec 3 was late
  EXPECT_EQ(f.familiar_eligible_visits(), 2);
  EXPECT_EQ(f.familiar_visits(), 1);  // w2 is not the familiar worker
  EXPECT_EQ(f.missed_visits(), 1);
  EXPECT_EQ(f.disputed_visits(), 0);
  EXPECT_DOUBLE_EQ(month.punctuality(), 0.5);
  EXPECT_DOUBLE_EQ(month.continuity(), 0.5);
  EXPECT_DOUBLE_EQ(month.kept_ratio(), 2.0 / 3.0);
  EXPECT_EQ(month.status(), v1::PROMISE_STATUS_BROKEN);  // 66.7% < 70%

  // The 7-day window (Dec 4-10) only holds the missed Tuesday.
  v1::PromiseLedger week = Ledger(commitment_, 7);
  EXPECT_EQ(week.figures().expected_visits(), 1);
  EXPECT_EQ(week.figures().verified_visits(), 0);
  EXPECT_EQ(week.figures().missed_visits(), 1);
  EXPECT_EQ(week.status(), v1::PROMISE_STATUS_BROKEN);

  // The elder's ledger (across commitments) is the same here; the elder says Dec 3 was not done
  // as promised: one verified visit becomes disputed.
  ASSERT_TRUE(Submit(visits_[1], alone_, 2, v1::ANSWER_NO, v1::ANSWER_PARTLY).ok());
  v1::PromiseLedger elder = Ledger(alone_, 30);
  EXPECT_EQ(elder.figures().expected_visits(), 3);
  EXPECT_EQ(elder.figures().disputed_visits(), 1);
  EXPECT_EQ(elder.figures().done_as_promised(), 1);
  EXPECT_DOUBLE_EQ(elder.kept_ratio(), 1.0 / 3.0);
  // A second commitment of another sector for the same elder adds to the elder's ledger only.
  clock_.Set(Dec(10, 20, 0));
  v1::PromiseLedger commitment_again = Ledger(commitment_, 90);
  EXPECT_EQ(commitment_again.figures().expected_visits(), 3);

  // Nothing expected yet: kept by definition.
  v1::PromiseLedger empty = Ledger(family_, 30);
  EXPECT_EQ(empty.figures().expected_visits(), 0);
  EXPECT_EQ(empty.status(), v1::PROMISE_STATUS_KEPT);
}

TEST_P(FeedbackTest, TrendSplitsTheCountersIntoCalendarWeeks) {
  ScriptHistory();  // Dec 1 and 3 done, Dec 8 missed, Dec 10 cancelled; now Thursday Dec 10
  Consume();
  auto trend = [&](const std::string& subject, int weeks, v1::GetPerceptionTrendResponse* out) {
    v1::GetPerceptionTrendRequest request;
    request.set_subject(subject);
    request.set_weeks(weeks);
    grpc::ClientContext context;
    return stub_->GetPerceptionTrend(&context, request, out);
  };
  v1::GetPerceptionTrendResponse response;
  grpc::Status status = trend(commitment_, 3, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.subject(), commitment_);
  ASSERT_EQ(response.weeks_size(), 3);
  EXPECT_EQ(response.weeks(0).week_start(), "2026-11-23");
  EXPECT_EQ(response.weeks(1).week_start(), "2026-11-30");
  EXPECT_EQ(response.weeks(2).week_start(), "2026-12-07");
  EXPECT_FALSE(response.weeks(0).index().has_value());
  EXPECT_EQ(response.weeks(1).index().window_days(), 7);
  EXPECT_EQ(response.weeks(1).index().figures().verified_visits(), 2);
  EXPECT_EQ(response.weeks(1).index().figures().missed_visits(), 0);
  EXPECT_EQ(response.weeks(2).index().window_days(), 4);  // Monday to today
  EXPECT_EQ(response.weeks(2).index().figures().missed_visits(), 1);
  EXPECT_LT(response.weeks(2).index().promise_score(), response.weeks(1).index().promise_score());
  // The weeks add up to the ledger of the same days.
  const v1::PromiseLedger ledger = Ledger(commitment_, 30);
  int64_t verified = 0, missed = 0;
  for (const auto& week : response.weeks()) {
    verified += week.index().figures().verified_visits();
    missed += week.index().figures().missed_visits();
  }
  EXPECT_EQ(verified, ledger.figures().verified_visits());
  EXPECT_EQ(missed, ledger.figures().missed_visits());
  // 12 weeks by default; bad requests name the field.
  ASSERT_TRUE(trend(kCommittee, 0, &response).ok());
  EXPECT_EQ(response.weeks_size(), 12);
  EXPECT_EQ(Field(trend(commitment_, 27, &response)), "weeks");
  EXPECT_EQ(Field(trend("somewhere", 4, &response)), "subject");
}

TEST_P(FeedbackTest, PromisesOfAStreetAreListedWorstFirstWithWhy) {
  ScriptHistory();  // the alone elder's promise: Dec 3 late, Dec 8 missed; now Thursday Dec 10
  // The family's Tuesday promise is kept on Dec 8; the no-family elder's Saturday promise has had
  // no visit counted but a complaint is open about it.
  const std::string family_tuesdays = Commit(family_, "FREQ=WEEKLY;BYDAY=TU");
  const std::vector<sv1::Visit> family_visits = Visits(family_tuesdays);
  ASSERT_GE(family_visits.size(), 2u);
  Visit(family_visits[1].name(), "workers/w1", Dec(8, 9, 30));
  const std::string no_family_saturdays = Commit(no_family_, "FREQ=WEEKLY;BYDAY=SA");
  clock_.Set(Dec(10, 20, 0));
  Consume();
  {
    v1::CreateWorkOrderRequest request;
    request.mutable_work_order()->set_source(v1::WORK_ORDER_SOURCE_STAFF);
    request.mutable_work_order()->set_commitment(no_family_saturdays);
    request.mutable_work_order()->set_description("老人说上周六没人来送餐");
    v1::CreateWorkOrderResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->CreateWorkOrder(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  auto list = [&](const std::string& region, int days,
                  v1::PromiseStatus status = v1::PROMISE_STATUS_UNSPECIFIED, int page_size = 0,
                  const std::string& token = "", v1::ListPromisesResponse* out = nullptr) {
    v1::ListPromisesRequest request;
    request.set_region(region);
    request.set_days(days);
    request.set_status(status);
    request.set_page_size(page_size);
    request.set_page_token(token);
    v1::ListPromisesResponse response;
    grpc::ClientContext context;
    grpc::Status result = stub_->ListPromises(&context, request, &response);
    EXPECT_TRUE(result.ok()) << result.error_message();
    std::vector<std::string> names;
    for (const auto& p : response.promises()) names.push_back(p.commitment());
    if (out != nullptr) *out = response;
    return names;
  };
  auto issues = [](const v1::PromiseOverview& p) {
    return std::vector<int>(p.issues().begin(), p.issues().end());
  };
  // The week (Dec 4-10): the alone elder's only visit due was missed.
  v1::ListPromisesResponse week;
  EXPECT_EQ(list(kStreet, 7, v1::PROMISE_STATUS_UNSPECIFIED, 0, "", &week),
            (std::vector<std::string>{commitment_, no_family_saturdays, family_tuesdays}));
  EXPECT_EQ(week.broken(), 1);
  EXPECT_EQ(week.at_risk(), 0);
  EXPECT_EQ(week.kept(), 2);
  EXPECT_EQ(week.no_visits_due(), 1);
  ASSERT_EQ(week.promises_size(), 3);
  const v1::PromiseOverview& broken = week.promises(0);
  EXPECT_EQ(broken.status(), v1::PROMISE_STATUS_BROKEN);
  EXPECT_EQ(broken.elder(), alone_);
  EXPECT_EQ(broken.committee(), kCommittee);
  EXPECT_EQ(broken.owner_organisation(), kOrg);
  EXPECT_EQ(broken.service_type(), "serviceTypes/visiting");
  EXPECT_EQ(broken.figures().missed_visits(), 1);
  EXPECT_EQ(issues(broken), std::vector<int>{v1::PROMISE_ISSUE_MISSED_VISIT});
  // Kept as the ledger judges it (nothing was due), but a complaint is open: it comes first.
  EXPECT_EQ(week.promises(1).status(), v1::PROMISE_STATUS_KEPT);
  EXPECT_EQ(week.promises(1).open_complaints(), 1);
  EXPECT_EQ(issues(week.promises(1)), std::vector<int>{v1::PROMISE_ISSUE_COMPLAINT_OPEN});
  EXPECT_EQ(week.promises(2).status(), v1::PROMISE_STATUS_KEPT);
  EXPECT_TRUE(week.promises(2).issues().empty());
  // The same verdict as the promise's own ledger over those days.
  EXPECT_EQ(Ledger(commitment_, 7).status(), v1::PROMISE_STATUS_BROKEN);
  // Two weeks: the late Dec 3 visit stands against it too.
  v1::ListPromisesResponse fortnight;
  list(kCommittee, 14, v1::PROMISE_STATUS_UNSPECIFIED, 0, "", &fortnight);
  ASSERT_GE(fortnight.promises_size(), 1);
  EXPECT_EQ(issues(fortnight.promises(0)),
            (std::vector<int>{v1::PROMISE_ISSUE_MISSED_VISIT, v1::PROMISE_ISSUE_LATE}));
  // Filters and pages.
  EXPECT_EQ(list(kStreet, 7, v1::PROMISE_STATUS_BROKEN), std::vector<std::string>{commitment_});
  v1::ListPromisesResponse page;
  EXPECT_EQ(list(kStreet, 7, v1::PROMISE_STATUS_UNSPECIFIED, 2, "", &page).size(), 2u);
  EXPECT_EQ(list(kStreet, 7, v1::PROMISE_STATUS_UNSPECIFIED, 2, page.next_page_token(), &page),
            std::vector<std::string>{family_tuesdays});
  EXPECT_TRUE(page.next_page_token().empty());
  EXPECT_TRUE(list("regions/310101021", 7).empty());
  // Bad requests name the field.
  for (const auto& [region, days, org, field] :
       {std::tuple{std::string(kStreet), 91, std::string(), "days"},
        std::tuple{std::string("310101020"), 7, std::string(), "region"},
        std::tuple{std::string(kStreet), 7, std::string("lelin"), "owner_organisation"}}) {
    v1::ListPromisesRequest request;
    request.set_region(region);
    request.set_days(days);
    request.set_owner_organisation(org);
    v1::ListPromisesResponse response;
    grpc::ClientContext context;
    EXPECT_EQ(Field(stub_->ListPromises(&context, request, &response)), field);
  }
}

TEST_P(FeedbackTest, IndexMovesAsTheFormulaSays) {
  ScriptHistory();
  Consume();
  // Before any answer: promise part only, kept 2/3 (0.5), punctuality 1/2 (0.2), continuity 1/2
  // (0.15), renormalised over 0.85.
  const double promise_before = 100.0 * (0.5 * 2.0 / 3.0 + 0.2 * 0.5 + 0.15 * 0.5) / 0.85;
  v1::PerceptionIndex before = Index(alone_);
  ASSERT_TRUE(before.has_value());
  EXPECT_NEAR(before.value(), promise_before, 1e-9);
  EXPECT_EQ(before.felt_care_answers(), 0);
  EXPECT_DOUBLE_EQ(before.confidence(), 0.0);

  // A happy answer for Dec 1: five faces, yes, yes.
  ASSERT_TRUE(Submit(visits_[0], alone_, 5, v1::ANSWER_YES, v1::ANSWER_YES).ok());
  const double promise_1 = 100.0 * (0.5 * 2.0 / 3.0 + 0.2 * 0.5 + 0.15 * 0.5 + 0.15 * 1.0);
  const double care_1 = 100.0 * (0.6 * 1.0 + 0.4 * 1.0);
  v1::PerceptionIndex one = Index(alone_);
  EXPECT_NEAR(one.promise_score(), promise_1, 1e-9);
  EXPECT_NEAR(one.felt_care_score(), care_1, 1e-9);
  EXPECT_NEAR(one.value(), (promise_1 + care_1) / 2, 1e-9);
  EXPECT_NEAR(one.confidence(), 1.0 / 6.0, 1e-12);

  // The daughter (proxy) says Dec 3 was partly as promised, three faces, partly cared for.
  ASSERT_TRUE(
      Submit(visits_[1], alone_ + "/contacts/0", 3, v1::ANSWER_PARTLY, v1::ANSWER_PARTLY).ok());
  const double as_promised = (1.0 + 0.5) / 2.0;
  const double promise_2 = 100.0 * (0.5 * 2.0 / 3.0 + 0.2 * 0.5 + 0.15 * 0.5 + 0.15 * as_promised);
  const double care_2 = 100.0 * (0.6 * ((8.0 / 2.0 - 1.0) / 4.0) + 0.4 * 0.75);
  v1::PerceptionIndex two = Index(alone_);
  EXPECT_NEAR(two.value(), (promise_2 + care_2) / 2, 1e-9);
  EXPECT_NEAR(two.confidence(), 2.0 / 7.0, 1e-12);
  EXPECT_LT(two.value(), one.value());

  // The same figures roll up to the worker, the organisation, the committee and the street.
  EXPECT_EQ(Index(kOrg).figures().feedback_answers(), 2);
  EXPECT_EQ(Index(kCommittee).figures().feedback_answers(), 2);
  EXPECT_EQ(Index(kStreet).figures().expected_visits(), 3);
  EXPECT_EQ(Index("workers/w1").figures().feedback_answers(), 1);
  EXPECT_EQ(Index("workers/w2").figures().faces_sum(), 3);
  // The worker's own answer is recorded but does not count as felt care.
  ASSERT_TRUE(Submit(visits_[0], "workers/w1", 5, v1::ANSWER_YES, v1::ANSWER_YES).ok());
  EXPECT_NEAR(Index(alone_).value(), two.value(), 1e-9);
}

TEST_P(FeedbackTest, BadFeedbackIsRefusedAndNothingCountsTwice) {
  ScriptHistory();
  Consume();
  // Scores out of range, unknown channel.
  grpc::Status faces = Submit(visits_[0], alone_, 6, v1::ANSWER_YES, v1::ANSWER_YES);
  EXPECT_EQ(faces.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(faces), "feedback.faces");
  EXPECT_EQ(Field(Submit(visits_[0], alone_, 0, v1::ANSWER_YES, v1::ANSWER_YES)), "feedback.faces");
  EXPECT_EQ(Field(Submit(visits_[0], alone_, 3, static_cast<v1::Answer>(9), v1::ANSWER_YES)),
            "feedback.did_as_promised");
  // A visit that did not happen: missed, cancelled, unknown.
  EXPECT_EQ(Submit(visits_[2], alone_, 3, v1::ANSWER_YES, v1::ANSWER_YES).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Submit(visits_[3], alone_, 3, v1::ANSWER_YES, v1::ANSWER_YES).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Submit("visits/nosuchvisit", alone_, 3, v1::ANSWER_YES, v1::ANSWER_YES).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Whose visit it is is checked before its state: a stranger is refused as a stranger and does
  // not learn that the visit was missed or cancelled (or that someone is in that home now).
  for (int i : {2, 3}) {
    grpc::Status nosy = Submit(visits_[i], family_, 3, v1::ANSWER_YES, v1::ANSWER_YES);
    EXPECT_EQ(nosy.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << nosy.error_message();
    EXPECT_EQ(Field(nosy), "feedback.author");
    EXPECT_FALSE(absl::StrContains(nosy.error_message(), "records it as")) << nosy.error_message();
  }
  // Someone not related to the visit: another elder, a contact who is not a proxy, another worker.
  grpc::Status stranger = Submit(visits_[0], family_, 5, v1::ANSWER_YES, v1::ANSWER_YES);
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(stranger), "feedback.author");
  EXPECT_EQ(Field(Submit(visits_[0], alone_ + "/contacts/3", 5, v1::ANSWER_YES, v1::ANSWER_YES)),
            "feedback.author");
  EXPECT_EQ(Field(Submit(visits_[0], "workers/w2", 5, v1::ANSWER_YES, v1::ANSWER_YES)),
            "feedback.author");
  EXPECT_EQ(Index(alone_).figures().feedback_answers(), 0);

  // Once; the same request_id gives the first answer again; a second answer is ALREADY_EXISTS.
  v1::SubmitFeedbackResponse first, again;
  ASSERT_TRUE(
      Submit(visits_[0], alone_, 4, v1::ANSWER_YES, v1::ANSWER_YES, false, &first, "req-1").ok());
  ASSERT_TRUE(
      Submit(visits_[0], alone_, 4, v1::ANSWER_YES, v1::ANSWER_YES, false, &again, "req-1").ok());
  EXPECT_EQ(first.feedback().name(), again.feedback().name());
  EXPECT_EQ(first.feedback().commitment(), commitment_);
  EXPECT_EQ(Submit(visits_[0], alone_, 1, v1::ANSWER_NO, v1::ANSWER_NO).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  const v1::PromiseFigures f = Index(alone_).figures();
  EXPECT_EQ(f.feedback_answers(), 1);
  EXPECT_EQ(f.faces_sum(), 4);
  EXPECT_EQ(f.disputed_visits(), 0);
}

// A sweep as of a later time sees the silence the clock has not reached yet, stamps its alert with
// that time, and GetAlert returns the alert the gateway needs to check the committee of.
TEST_P(FeedbackTest, SweepAsOfAGivenTimeAndGetAlert) {
  const std::string tuesday = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU");
  Visit(Visits(tuesday)[0].name(), "workers/w1", Dec(1, 9, 30));
  Consume();
  clock_.Set(Dec(2, 9, 0));
  EXPECT_EQ(SweepAlerts().raised(), 0);

  auto at = [](absl::Time t) {
    return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
  };
  v1::SweepAlertsRequest request;
  *request.mutable_as_of() = at(Dec(2, 9, 0) + absl::Hours(24 * 400));
  v1::SweepAlertsResponse response;
  {
    grpc::ClientContext context;
    grpc::Status s = stub_->SweepAlerts(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(Field(s), "as_of");
  }
  EXPECT_TRUE(Alerts().empty());

  *request.mutable_as_of() = at(Dec(8, 10, 0));
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->SweepAlerts(&context, request, &response).ok());
  }
  EXPECT_EQ(response.raised(), 1);
  std::vector<v1::Alert> alerts = Alerts(v1::ALERT_KIND_NO_CONTACT);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].elder(), alone_);
  EXPECT_EQ(alerts[0].create_time().seconds(), absl::ToUnixSeconds(Dec(8, 10, 0)));

  // The street's alerts are its committees'; another street has none of them; both named filter
  // together.
  auto by_region = [&](const std::string& committee, const std::string& region) {
    v1::ListAlertsRequest request;
    request.set_committee(committee);
    request.set_region(region);
    v1::ListAlertsResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ListAlerts(&context, request, &response);
    std::vector<std::string> names;
    for (const v1::Alert& a : response.alerts()) names.push_back(a.name());
    return std::pair{status, names};
  };
  auto [street_status, street_alerts] = by_region("", kStreet);
  ASSERT_TRUE(street_status.ok()) << street_status.error_message();
  EXPECT_EQ(street_alerts, std::vector<std::string>{alerts[0].name()});
  EXPECT_EQ(by_region("", kCommittee).second, std::vector<std::string>{alerts[0].name()});
  auto [other_status, other_alerts] = by_region("", "regions/310101021");
  EXPECT_TRUE(other_status.ok()) << other_status.error_message();
  EXPECT_TRUE(other_alerts.empty());
  EXPECT_EQ(by_region(kCommittee, kStreet).second, std::vector<std::string>{alerts[0].name()});
  EXPECT_TRUE(by_region(kCommittee, "regions/310101021").second.empty());
  EXPECT_EQ(Field(by_region("", "310101020").first), "region");
  EXPECT_EQ(Field(by_region("", "").first), "committee");

  v1::GetAlertRequest get;
  get.set_name(alerts[0].name());
  v1::GetAlertResponse got;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetAlert(&context, get, &got).ok());
  }
  EXPECT_EQ(got.alert().SerializeAsString(), alerts[0].SerializeAsString());
  get.set_name("alerts/nope");
  {
    grpc::ClientContext context;
    EXPECT_EQ(stub_->GetAlert(&context, get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  get.set_name("elders/x");
  {
    grpc::ClientContext context;
    EXPECT_EQ(stub_->GetAlert(&context, get, &got).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_P(FeedbackTest, SevenDayAlertFiresForTheUnvisitedSolitaryElderOnly) {
  // 王秀英 (alone) is visited on Tuesday Dec 1; 张建国 (no family) on Monday Dec 7, day 6.
  const std::string tuesday = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU");
  const std::string monday = Commit(no_family_, "FREQ=WEEKLY;BYDAY=MO");
  Visit(Visits(tuesday)[0].name(), "workers/w1", Dec(1, 9, 30));
  Visit(Visits(monday)[0].name(), "workers/w1", Dec(7, 9, 30));
  Consume();

  clock_.Set(Dec(8, 9, 29));  // 6 days 23 h 59 min after the last contact
  EXPECT_EQ(SweepAlerts().raised(), 0);
  // The committee asks for 10 days: nothing at day 7 either.
  v1::SetAlertPolicyRequest policy;
  policy.set_committee(kCommittee);
  policy.set_no_contact_days(10);
  v1::SetAlertPolicyResponse policy_out;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->SetAlertPolicy(&context, policy, &policy_out).ok());
  }
  clock_.Set(Dec(8, 10, 0));
  EXPECT_EQ(SweepAlerts().raised(), 0);
  policy.set_no_contact_days(7);
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->SetAlertPolicy(&context, policy, &policy_out).ok());
  }
  EXPECT_EQ(SweepAlerts().raised(), 1);
  std::vector<v1::Alert> alerts = Alerts(v1::ALERT_KIND_NO_CONTACT);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].elder(), alone_);
  EXPECT_EQ(alerts[0].committee(), kCommittee);
  EXPECT_EQ(alerts[0].state(), v1::ALERT_STATE_OPEN);
  // Sweeping again raises nothing new for the same silence.
  EXPECT_EQ(SweepAlerts().raised(), 0);

  // Acknowledge and resolve, recording who did it; out of order is FAILED_PRECONDITION.
  v1::AcknowledgeAlertRequest ack;
  ack.set_name(alerts[0].name());
  v1::AcknowledgeAlertResponse ack_out;
  grpc::ClientContext c1;
  c1.AddMetadata(kActorKey, "staff/zhou");
  ASSERT_TRUE(stub_->AcknowledgeAlert(&c1, ack, &ack_out).ok());
  EXPECT_EQ(ack_out.alert().acknowledged_by(), "staff/zhou");
  grpc::ClientContext c2;
  EXPECT_EQ(stub_->AcknowledgeAlert(&c2, ack, &ack_out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::ResolveAlertRequest resolve;
  resolve.set_name(alerts[0].name());
  resolve.set_note("居委会上门探望，老人平安");
  v1::ResolveAlertResponse resolve_out;
  grpc::ClientContext c3;
  c3.AddMetadata(kActorKey, "staff/li");
  ASSERT_TRUE(stub_->ResolveAlert(&c3, resolve, &resolve_out).ok());
  EXPECT_EQ(resolve_out.alert().state(), v1::ALERT_STATE_RESOLVED);
  EXPECT_EQ(resolve_out.alert().resolved_by(), "staff/li");
  EXPECT_EQ(resolve_out.alert().acknowledged_by(), "staff/zhou");
}

TEST_P(FeedbackTest, AFallingIndexRaisesAnAlert) {
  // 刘淑珍 (with family) is visited every day from Dec 1 to Dec 14 by her familiar worker.
  const std::string daily = Commit(family_, "FREQ=DAILY");
  std::vector<sv1::Visit> visits = Visits(daily);
  ASSERT_EQ(visits.size(), 14u);
  for (int d = 0; d < 14; ++d) Visit(visits[d].name(), "workers/w1", Dec(d + 1, 9, 30));
  Consume();
  clock_.Set(Dec(14, 20, 0));
  // She is happy every day: no alert.
  for (int d = 0; d < 14; ++d) {
    ASSERT_TRUE(Submit(visits[d].name(), family_, 5, v1::ANSWER_YES, v1::ANSWER_YES).ok());
  }
  SweepAlerts();
  EXPECT_TRUE(Alerts(v1::ALERT_KIND_FALLING_INDEX).empty());
  // Her daughter says the last week's visits were not done as promised: the last 7 days fall
  // from 100 to (42.5 + 50) / 2 against the week before.
  for (int d = 7; d < 14; ++d) {
    ASSERT_TRUE(
        Submit(visits[d].name(), family_ + "/contacts/0", 1, v1::ANSWER_NO, v1::ANSWER_NO).ok());
  }
  EXPECT_NEAR(Index(family_, 7).value(), (42.5 + 50.0) / 2, 1e-9);
  EXPECT_EQ(SweepAlerts().raised(), 1);
  std::vector<v1::Alert> falling = Alerts(v1::ALERT_KIND_FALLING_INDEX);
  ASSERT_EQ(falling.size(), 1u);
  EXPECT_EQ(falling[0].elder(), family_);
  EXPECT_TRUE(Alerts(v1::ALERT_KIND_NO_CONTACT).empty());  // not solitary
  EXPECT_EQ(SweepAlerts().raised(), 0);                    // once a day
}

TEST_P(FeedbackTest, NobodyCameOnACompletedVisitRaisesAContradiction) {
  ScriptHistory();
  Consume();
  ASSERT_TRUE(
      Submit(visits_[0], alone_ + "/contacts/0", 1, v1::ANSWER_NO, v1::ANSWER_NO, true).ok());
  std::vector<v1::Alert> alerts = Alerts(v1::ALERT_KIND_CONTRADICTION);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].subject(), visits_[0]);
  EXPECT_EQ(alerts[0].elder(), alone_);
  // The visit no longer counts as done as promised.
  v1::PromiseLedger ledger = Ledger(commitment_, 30);
  EXPECT_EQ(ledger.figures().disputed_visits(), 1);
  EXPECT_EQ(ledger.figures().done_as_promised(), 1);
  // The worker cannot claim nobody came.
  EXPECT_EQ(Field(Submit(visits_[0], "workers/w1", 5, v1::ANSWER_YES, v1::ANSWER_YES, true)),
            "feedback.nobody_came");
}

TEST_P(FeedbackTest, VisitsAwaitingAnAnswerAreQueuedByNeedAndLeaveWhenAnswered) {
  const std::string alone_tuesdays = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU");
  const std::string family_tuesdays = Commit(family_, "FREQ=WEEKLY;BYDAY=TU");
  const std::vector<sv1::Visit> alone_visits = Visits(alone_tuesdays);
  const std::vector<sv1::Visit> family_visits = Visits(family_tuesdays);
  ASSERT_GE(alone_visits.size(), 2u);
  ASSERT_GE(family_visits.size(), 2u);
  Visit(alone_visits[0].name(), "workers/w1", Dec(1, 9, 30));
  Visit(family_visits[0].name(), "workers/w1", Dec(1, 10, 0));
  Visit(alone_visits[1].name(), "workers/w1", Dec(8, 9, 30));
  Visit(family_visits[1].name(), "workers/w1", Dec(8, 10, 0));
  Consume();
  // The family's daughter disputes the first visit; the worker answers for the alone elder's
  // first visit, which does not take it off the queue (only the elder's voice does).
  ASSERT_TRUE(
      Submit(family_visits[0].name(), family_ + "/contacts/0", 2, v1::ANSWER_NO, v1::ANSWER_PARTLY)
          .ok());
  ASSERT_TRUE(Submit(alone_visits[0].name(), "workers/w1", 5, v1::ANSWER_YES, v1::ANSWER_YES).ok());
  clock_.Set(Dec(8, 20, 0));

  auto queue = [&](const std::string& region, int days, int page_size = 0,
                   const std::string& token = "",
                   v1::ListVisitsAwaitingAnswerResponse* out = nullptr) {
    v1::ListVisitsAwaitingAnswerRequest request;
    request.set_region(region);
    request.set_window_days(days);
    request.set_page_size(page_size);
    request.set_page_token(token);
    v1::ListVisitsAwaitingAnswerResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ListVisitsAwaitingAnswer(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> visits;
    for (const v1::AwaitingVisit& v : response.visits()) visits.push_back(v.visit());
    if (out != nullptr) *out = response;
    return visits;
  };
  // Two weeks: the solitary elder's visits first (never answered in her own voice, oldest
  // first), then the family that disputed a visit.
  v1::ListVisitsAwaitingAnswerResponse two_weeks;
  EXPECT_EQ(queue(kCommittee, 14, 0, "", &two_weeks),
            (std::vector<std::string>{alone_visits[0].name(), alone_visits[1].name(),
                                      family_visits[1].name()}));
  ASSERT_EQ(two_weeks.visits_size(), 3);
  const v1::AwaitingVisit& first = two_weeks.visits(0);
  EXPECT_EQ(first.elder(), alone_);
  EXPECT_EQ(first.commitment(), alone_tuesdays);
  EXPECT_EQ(first.worker(), "workers/w1");
  EXPECT_EQ(first.visit_date(), "2026-12-01");
  EXPECT_TRUE(first.solitary());
  EXPECT_FALSE(first.has_last_answer_time());
  const v1::AwaitingVisit& family = two_weeks.visits(2);
  EXPECT_FALSE(family.solitary());
  EXPECT_EQ(family.disputed_visits(), 1);
  ASSERT_TRUE(family.has_last_answer_time());
  EXPECT_EQ(FromTimestamp(family.last_answer_time()), Dec(8, 11, 0));
  // The street sees its committees' queues; a week leaves out the first Tuesday and its dispute.
  EXPECT_EQ(queue(kStreet, 14).size(), 3u);
  v1::ListVisitsAwaitingAnswerResponse one_week;
  EXPECT_EQ(queue(kCommittee, 7, 0, "", &one_week),
            (std::vector<std::string>{alone_visits[1].name(), family_visits[1].name()}));
  EXPECT_EQ(one_week.visits(1).disputed_visits(), 0);
  // Pages resume after the last one.
  v1::ListVisitsAwaitingAnswerResponse page;
  EXPECT_EQ(queue(kCommittee, 14, 2, "", &page).size(), 2u);
  ASSERT_FALSE(page.next_page_token().empty());
  EXPECT_EQ(queue(kCommittee, 14, 2, page.next_page_token(), &page),
            (std::vector<std::string>{family_visits[1].name()}));
  EXPECT_TRUE(page.next_page_token().empty());

  // The committee calls the alone elder: her answer, recorded by phone under the caller's name,
  // takes the visit off the queue.
  v1::SubmitFeedbackRequest call;
  call.mutable_feedback()->set_visit(alone_visits[1].name());
  call.mutable_feedback()->set_author(alone_);
  call.mutable_feedback()->set_channel(v1::FEEDBACK_CHANNEL_DOOR_VISIT);
  call.mutable_feedback()->set_faces(4);
  call.mutable_feedback()->set_recorded_by("someone the client names");
  v1::SubmitFeedbackResponse recorded;
  {
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "committee_staff:staff/zhou");
    grpc::Status status = stub_->SubmitFeedback(&context, call, &recorded);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(recorded.feedback().recorded_by(), "committee_staff:staff/zhou");
  EXPECT_EQ(recorded.feedback().channel(), v1::FEEDBACK_CHANNEL_DOOR_VISIT);
  EXPECT_EQ(queue(kCommittee, 14),
            (std::vector<std::string>{alone_visits[0].name(), family_visits[1].name()}));

  // Bad requests name the field.
  for (const auto& [region, days, field] :
       {std::tuple{std::string("310101020001"), 7, "region"},
        std::tuple{std::string(kCommittee), 32, "window_days"},
        std::tuple{std::string(kCommittee), -1, "window_days"}}) {
    v1::ListVisitsAwaitingAnswerRequest request;
    request.set_region(region);
    request.set_window_days(days);
    v1::ListVisitsAwaitingAnswerResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ListVisitsAwaitingAnswer(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(Field(status), field);
  }
}

// Verification exceptions reviewed: a visit completed without a location waits in the review
// queue, is not judged until decided, counts as kept once approved and as broken once rejected.
TEST_P(FeedbackTest, VisitsWithExceptionsWaitForReviewAndCountOnlyOnceDecided) {
  const std::string tuesdays = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU");
  const std::vector<sv1::Visit> visits = Visits(tuesdays);
  ASSERT_GE(visits.size(), 2u);
  auto decide = [&](const std::string& visit, sv1::ReviewDecision decision,
                    const std::string& reason) {
    sv1::ReviewVisitRequest r;
    r.set_name(visit);
    r.set_decision(decision);
    r.set_reason_code(reason);
    sv1::ReviewVisitResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "committee_staff:staff/zhou");
    grpc::Status status = sched_stub_->ReviewVisit(&context, r, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  };
  auto queue = [&](const std::string& region, const std::string& organisation) {
    v1::ListVisitsAwaitingReviewRequest request;
    request.set_region(region);
    request.set_owner_organisation(organisation);
    v1::ListVisitsAwaitingReviewResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ListVisitsAwaitingReview(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const auto& v : response.visits()) names.push_back(v.visit());
    return names;
  };

  // The worker's phone sent no position: NO_LOCATION.
  Visit(visits[0].name(), "workers/w1", Dec(1, 9, 30), /*located=*/false);
  EXPECT_EQ(Visits(tuesdays)[0].review().state(), sv1::REVIEW_STATE_PENDING);
  Consume();
  clock_.Set(Dec(2, 9, 0));
  v1::PromiseLedger pending = Ledger(tuesdays, 7);
  EXPECT_EQ(pending.figures().under_review_visits(), 1);
  EXPECT_EQ(pending.figures().verified_visits(), 0);
  EXPECT_EQ(pending.kept_ratio(), 1.0);  // nothing judged yet
  EXPECT_EQ(queue(kCommittee, ""), std::vector<std::string>{visits[0].name()});
  EXPECT_EQ(queue(kStreet, kOrg), std::vector<std::string>{visits[0].name()});
  EXPECT_TRUE(queue("", "organisations/wlq-office-admin").empty());
  EXPECT_TRUE(queue("regions/310101020099", "").empty());
  {
    v1::GetDayBoardRequest request;
    request.set_region(kCommittee);
    request.set_date("2026-12-01");
    v1::GetDayBoardResponse board;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetDayBoard(&context, request, &board).ok());
    EXPECT_EQ(board.total().done(), 1);
    EXPECT_EQ(board.total().under_review(), 1);
  }

  // Approved: kept, out of the queue.
  decide(visits[0].name(), sv1::REVIEW_DECISION_APPROVE, "CONFIRMED_WITH_ELDER");
  Consume();
  v1::PromiseLedger approved = Ledger(tuesdays, 7);
  EXPECT_EQ(approved.figures().under_review_visits(), 0);
  EXPECT_EQ(approved.figures().verified_visits(), 1);
  EXPECT_EQ(approved.status(), v1::PROMISE_STATUS_KEPT);
  EXPECT_TRUE(queue(kCommittee, "").empty());

  // The next Tuesday's, rejected: broken, and the promise says why.
  Visit(visits[1].name(), "workers/w1", Dec(8, 9, 30), /*located=*/false);
  decide(visits[1].name(), sv1::REVIEW_DECISION_REJECT, "NOT_DELIVERED");
  Consume();
  clock_.Set(Dec(8, 20, 0));
  v1::PromiseLedger rejected = Ledger(tuesdays, 7);
  EXPECT_EQ(rejected.figures().rejected_visits(), 1);
  EXPECT_EQ(rejected.status(), v1::PROMISE_STATUS_BROKEN);
  v1::ListPromisesRequest promises;
  promises.set_region(kCommittee);
  promises.set_days(7);
  v1::ListPromisesResponse listed;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListPromises(&context, promises, &listed).ok());
  ASSERT_GE(listed.promises_size(), 1);
  EXPECT_EQ(listed.promises(0).commitment(), tuesdays);
  EXPECT_EQ(listed.promises(0).issues(0), v1::PROMISE_ISSUE_REJECTED);

  // Bad requests name the field.
  v1::ListVisitsAwaitingReviewRequest bad;
  v1::ListVisitsAwaitingReviewResponse response;
  grpc::ClientContext bad_context;
  grpc::Status status = stub_->ListVisitsAwaitingReview(&bad_context, bad, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(status), "region");
}

// The day board: each visit of a day where it stands as bookings, check-ins and the clock move,
// per committee, with the visits that need someone first.
TEST_P(FeedbackTest, DayBoardShowsWhereEachVisitOfTheDayStands) {
  rv1::CreateWorkerRequest w;
  w.mutable_worker()->set_display_name("小王");
  w.mutable_worker()->set_organisation(kOrg);
  w.mutable_worker()->add_skills("visiting");
  rv1::CreateWorkerResponse worker;
  Registry([&](auto* s, auto* c) { return s->CreateWorker(c, w, &worker); });
  const std::string wang = worker.worker().name();
  ASSERT_FALSE(wang.empty());
  const std::string alone_visit = Visits(Commit(alone_, "FREQ=WEEKLY;BYDAY=TU"))[1].name();
  const std::string family_visit = Visits(Commit(family_, "FREQ=WEEKLY;BYDAY=TU"))[1].name();
  const std::string unstaffed_visit = Visits(Commit(no_family_, "FREQ=WEEKLY;BYDAY=TU"))[1].name();
  clock_.Set(Dec(7, 18, 0));
  for (const std::string& visit : {alone_visit, family_visit}) {
    sv1::AssignVisitRequest assign;
    assign.set_name(visit);
    assign.set_worker(wang);
    *assign.mutable_start() = ToTimestamp(Dec(8, visit == alone_visit ? 9 : 10));
    sv1::AssignVisitResponse assigned;
    grpc::ClientContext context;
    grpc::Status status = sched_stub_->AssignVisit(&context, assign, &assigned);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  Consume();
  auto board = [&](const std::string& region, const std::string& date = "", int limit = 0) {
    v1::GetDayBoardRequest request;
    request.set_region(region);
    request.set_date(date);
    request.set_attention_limit(limit);
    v1::GetDayBoardResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->GetDayBoard(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };

  // The morning of the 8th: two booked, one with nobody.
  clock_.Set(Dec(8, 8, 0));
  v1::GetDayBoardResponse morning = board(kCommittee);
  EXPECT_EQ(morning.date(), "2026-12-08");
  EXPECT_EQ(morning.total().scheduled(), 2);
  EXPECT_EQ(morning.total().unstaffed(), 1);
  ASSERT_EQ(morning.attention_size(), 1);
  EXPECT_EQ(morning.attention(0).visit(), unstaffed_visit);
  EXPECT_EQ(morning.attention(0).state(), v1::BOARD_STATE_UNSTAFFED);
  EXPECT_EQ(morning.attention(0).elder(), no_family_);
  EXPECT_EQ(FromTimestamp(morning.attention(0).window_start()), Dec(8, 9));
  EXPECT_EQ(FromTimestamp(morning.attention(0).window_end()), Dec(8, 11));

  // Wang visits the alone elder at 09:30; nobody checks in to the family's visit by 11:00.
  Visit(alone_visit, wang, Dec(8, 9, 30));
  Consume();
  clock_.Set(Dec(8, 11, 30));
  v1::GetDayBoardResponse noon = board(kStreet);
  EXPECT_EQ(noon.total().done(), 1);
  EXPECT_EQ(noon.total().late(), 1);
  EXPECT_EQ(noon.total().unstaffed(), 1);
  EXPECT_EQ(noon.total().scheduled(), 0);
  EXPECT_EQ(noon.attention_total(), 2);
  ASSERT_EQ(noon.attention_size(), 2);
  EXPECT_EQ(noon.attention(0).visit(), family_visit);  // late before unstaffed
  EXPECT_EQ(noon.attention(0).state(), v1::BOARD_STATE_LATE);
  EXPECT_EQ(noon.attention(0).committee(), kCommittee);
  ASSERT_EQ(noon.committees_size(), 1);
  EXPECT_EQ(noon.committees(0).committee(), kCommittee);
  EXPECT_EQ(noon.committees(0).counts().done(), 1);
  EXPECT_EQ(board(kStreet, "", 1).attention_size(), 1);
  // The sweep marks both missed once their tolerance has passed.
  SweepMissed(Dec(8, 14, 0));
  Consume();
  v1::GetDayBoardResponse afternoon = board(kCommittee);
  EXPECT_EQ(afternoon.total().missed(), 2);
  EXPECT_EQ(afternoon.total().done(), 1);
  // Another day, another region.
  v1::GetDayBoardResponse first = board(kCommittee, "2026-12-01");
  EXPECT_EQ(first.date(), "2026-12-01");
  EXPECT_EQ(first.total().missed() + first.total().unstaffed(), 3);
  EXPECT_EQ(board("regions/310101020099").total().done(), 0);

  // Bad requests name the field.
  for (const auto& [region, date, limit, field] :
       {std::tuple{std::string("310101020001"), std::string(""), 0, "region"},
        std::tuple{std::string(kCommittee), std::string("2026-13-01"), 0, "date"},
        std::tuple{std::string(kCommittee), std::string(""), -1, "attention_limit"}}) {
    v1::GetDayBoardRequest request;
    request.set_region(region);
    request.set_date(date);
    request.set_attention_limit(limit);
    v1::GetDayBoardResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->GetDayBoard(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(Field(status), field);
  }
}

// The elders' own words (an answer's words, a complaint's texts) are personal data: stored
// sealed, read back whole by the calls that may read them, and every read that returns them is in
// the audit log; rows stored in plain bytes before sealing are sealed at start-up.
TEST_P(FeedbackTest, ElderWordsAreSealedAtRestAndEveryReadIsAudited) {
  const std::string tuesdays = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU");
  const std::vector<sv1::Visit> visits = Visits(tuesdays);
  ASSERT_GE(visits.size(), 2u);
  Visit(visits[0].name(), "workers/w1", Dec(1, 9, 30));
  Visit(visits[1].name(), "workers/w1", Dec(8, 9, 30));
  Consume();
  clock_.Set(Dec(8, 20, 0));
  const std::string words = "腿疼得厉害，药也快吃完了";
  const std::string complaint = "上周二没有人来，电话也没人接";

  // The elder answers with words, once with a request id: a retry gets the words back too.
  v1::SubmitFeedbackRequest answer;
  answer.mutable_feedback()->set_visit(visits[0].name());
  answer.mutable_feedback()->set_author(alone_);
  answer.mutable_feedback()->set_channel(v1::FEEDBACK_CHANNEL_PHONE_CALL);
  answer.mutable_feedback()->set_faces(2);
  answer.mutable_feedback()->set_words(words);
  answer.set_request_id("answer-with-words");
  for (int attempt = 0; attempt < 2; ++attempt) {
    v1::SubmitFeedbackResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "committee_staff:staff/zhou");
    grpc::Status status = stub_->SubmitFeedback(&context, answer, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.feedback().words(), words) << attempt;
  }
  // A second answer, five minutes later, without words, by the worker.
  clock_.Set(Dec(8, 20, 5));
  {
    v1::SubmitFeedbackRequest plain = answer;
    plain.mutable_feedback()->set_visit(visits[1].name());
    plain.mutable_feedback()->set_author("workers/w1");
    plain.mutable_feedback()->set_channel(v1::FEEDBACK_CHANNEL_APP);
    plain.mutable_feedback()->clear_words();
    plain.clear_request_id();
    v1::SubmitFeedbackResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->SubmitFeedback(&context, plain, &response).ok());
  }
  v1::CreateWorkOrderRequest filed;
  filed.mutable_work_order()->set_source(v1::WORK_ORDER_SOURCE_STAFF);
  filed.mutable_work_order()->set_visit(visits[1].name());
  filed.mutable_work_order()->set_description(complaint);
  filed.set_request_id("complaint-1");
  v1::WorkOrder order;
  for (int attempt = 0; attempt < 2; ++attempt) {
    v1::CreateWorkOrderResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "committee_staff:staff/zhou");
    grpc::Status status = stub_->CreateWorkOrder(&context, filed, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.work_order().description(), complaint) << attempt;
    order = response.work_order();
  }

  // At rest: neither the rows nor the replies kept for retries hold the words.
  auto stored_bytes = [&] {
    std::string all;
    EXPECT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                     for (const char* sql :
                          {"SELECT data FROM feedback_answers", "SELECT data FROM work_orders",
                           "SELECT response FROM idempotency_keys"}) {
                       absl::StatusOr<std::vector<storage::Row>> rows = tx.Query(sql, {});
                       if (!rows.ok()) return rows.status();
                       for (const storage::Row& row : *rows) all += row.GetString(0);
                     }
                     return absl::OkStatus();
                   })
                    .ok());
    return all;
  };
  std::string at_rest = stored_bytes();
  EXPECT_FALSE(at_rest.empty());
  EXPECT_EQ(at_rest.find("腿疼"), std::string::npos);
  EXPECT_EQ(at_rest.find("没有人来"), std::string::npos);

  // Committee staff read the words of their committee's elders, with a reason.
  auto list = [&](v1::ListFeedbackRequest request, grpc::Status* status = nullptr) {
    v1::ListFeedbackResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "committee_staff:staff/wang");
    grpc::Status s = stub_->ListFeedback(&context, request, &response);
    if (status != nullptr)
      *status = s;
    else
      EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  };
  v1::ListFeedbackRequest by_committee;
  by_committee.set_region(kCommittee);
  by_committee.set_reason("回访前了解情况");
  v1::ListFeedbackResponse all = list(by_committee);
  ASSERT_EQ(all.feedback_size(), 2);
  EXPECT_EQ(all.feedback(0).author(), "workers/w1");  // newest first
  EXPECT_EQ(all.feedback(1).words(), words);
  EXPECT_EQ(all.feedback(1).elder(), alone_);
  EXPECT_EQ(all.feedback(1).recorded_by(), "committee_staff:staff/zhou");
  by_committee.set_with_words_only(true);
  ASSERT_EQ(list(by_committee).feedback_size(), 1);
  v1::ListFeedbackRequest by_elder;
  by_elder.set_elder(alone_);
  by_elder.set_page_size(1);
  v1::ListFeedbackResponse first_page = list(by_elder);
  ASSERT_EQ(first_page.feedback_size(), 1);
  ASSERT_FALSE(first_page.next_page_token().empty());
  by_elder.set_page_token(first_page.next_page_token());
  v1::ListFeedbackResponse second_page = list(by_elder);
  ASSERT_EQ(second_page.feedback_size(), 1);
  EXPECT_EQ(second_page.feedback(0).words(), words);
  EXPECT_TRUE(second_page.next_page_token().empty());
  v1::ListFeedbackRequest elsewhere;
  elsewhere.set_region("regions/310101020099");
  EXPECT_EQ(list(elsewhere).feedback_size(), 0);
  // A street's list over the last day: both answers were recorded on the 8th.
  v1::ListFeedbackRequest a_day;
  a_day.set_region(kStreet);
  a_day.set_window_days(1);
  EXPECT_EQ(list(a_day).feedback_size(), 2);
  clock_.Set(Dec(9, 20, 0));
  EXPECT_EQ(list(a_day).feedback_size(), 0);

  // The complaint's text, read back by GetWorkOrder.
  {
    v1::GetWorkOrderRequest get;
    get.set_name(order.name());
    v1::GetWorkOrderResponse got;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "organisation_staff:staff/li");
    ASSERT_TRUE(stub_->GetWorkOrder(&context, get, &got).ok());
    EXPECT_EQ(got.work_order().description(), complaint);
  }

  // The audit log, newest first: the work order read, then each answer with words returned (four
  // reads: the committee list, the words filter, the second page of the elder's list, the
  // street's day).
  v1::ListAuditEntriesRequest audit;
  audit.set_elder(alone_);
  v1::ListAuditEntriesResponse entries;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ListAuditEntries(&context, audit, &entries).ok());
  }
  ASSERT_EQ(entries.entries_size(), 5);
  EXPECT_EQ(entries.entries(0).resource(), order.name());
  EXPECT_EQ(entries.entries(0).actor(), "organisation_staff:staff/li");
  EXPECT_EQ(entries.entries(1).reason(), "");
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(entries.entries(i).resource(), all.feedback(1).name()) << i;
    EXPECT_EQ(entries.entries(i).fields(), "words") << i;
    EXPECT_EQ(entries.entries(i).actor(), "committee_staff:staff/wang") << i;
  }
  EXPECT_EQ(entries.entries(4).reason(), "回访前了解情况");

  // Rows an older version stored in plain bytes are sealed at start-up and read the same.
  ASSERT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                   v1::Feedback plain = all.feedback(1);
                   v1::WorkOrder plain_order = order;
                   absl::Status s =
                       tx.Exec(
                             "UPDATE feedback_answers SET data = ?, sealed = 0, has_words = 0 "
                             "WHERE id = ?",
                             {plain.SerializeAsString(), plain.name().substr(9)})
                           .status();
                   if (!s.ok()) return s;
                   return tx
                       .Exec("UPDATE work_orders SET data = ?, sealed = 0 WHERE id = ?",
                             {plain_order.SerializeAsString(), order.name().substr(11)})
                       .status();
                 })
                  .ok());
  EXPECT_NE(stored_bytes().find("腿疼"), std::string::npos);
  absl::StatusOr<int> sealed = SealPlainFeedbackTexts(*db_, *registry_->cipher);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(*sealed, 2);
  EXPECT_EQ(*SealPlainFeedbackTexts(*db_, *registry_->cipher), 0);
  at_rest = stored_bytes();
  EXPECT_EQ(at_rest.find("腿疼"), std::string::npos);
  EXPECT_EQ(at_rest.find("没有人来"), std::string::npos);
  clock_.Set(Dec(8, 20, 0));
  EXPECT_EQ(list(by_committee).feedback(0).words(), words);  // has_words restored

  // Bad requests name the field.
  for (const auto& [region, elder, days, field] :
       {std::tuple{std::string(""), std::string(""), 0, "region"},
        std::tuple{std::string("310101020001"), std::string(""), 0, "region"},
        std::tuple{std::string(""), std::string("elder-1"), 0, "elder"},
        std::tuple{std::string(kCommittee), std::string(""), 91, "window_days"}}) {
    v1::ListFeedbackRequest bad;
    bad.set_region(region);
    bad.set_elder(elder);
    bad.set_window_days(days);
    grpc::Status status;
    list(bad, &status);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(Field(status), field);
  }
}

TEST_P(FeedbackTest, WorkOrdersFollowThe12345FlowAndTheReportShowsThem) {
  ScriptHistory();
  Consume();
  auto create = [&](const std::string& visit, v1::WorkOrder* out) {
    v1::CreateWorkOrderRequest request;
    request.mutable_work_order()->set_source(v1::WORK_ORDER_SOURCE_HOTLINE_12345);
    request.mutable_work_order()->set_external_reference("12345-20261210-0001");
    request.mutable_work_order()->set_visit(visit);
    request.mutable_work_order()->set_description("老人反映社工迟到且未按约定陪同就医");
    v1::CreateWorkOrderResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "hotline/operator-7");
    grpc::Status s = stub_->CreateWorkOrder(&context, request, &response);
    *out = response.work_order();
    return s;
  };
  v1::WorkOrder order;
  ASSERT_TRUE(create(visits_[1], &order).ok());
  EXPECT_EQ(order.state(), v1::WORK_ORDER_STATE_ACCEPTED);
  EXPECT_EQ(order.commitment(), commitment_);
  EXPECT_EQ(order.elder(), alone_);

  auto route = [&](const std::string& name, v1::WorkOrder* out) {
    v1::RouteWorkOrderRequest r;
    r.set_name(name);
    v1::RouteWorkOrderResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->RouteWorkOrder(&context, r, &response);
    if (out != nullptr) *out = response.work_order();
    return s;
  };
  auto classify = [&](const std::string& name, v1::WorkOrderCategory category, v1::WorkOrder* out) {
    v1::ClassifyWorkOrderRequest r;
    r.set_name(name);
    r.set_category(category);
    v1::ClassifyWorkOrderResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->ClassifyWorkOrder(&context, r, &response);
    if (out != nullptr) *out = response.work_order();
    return s;
  };
  // Out of order: routing before classification.
  EXPECT_EQ(route(order.name(), nullptr).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(classify(order.name(), v1::WORK_ORDER_CATEGORY_MISSED_VISIT, &order).ok());
  EXPECT_EQ(order.deadline().seconds() - order.create_time().seconds(), 72 * 3600);
  EXPECT_EQ(classify(order.name(), v1::WORK_ORDER_CATEGORY_SAFETY, nullptr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(route(order.name(), &order).ok());
  EXPECT_EQ(order.responsible_organisation(), kOrg);
  EXPECT_EQ(order.supervising_organisation(), kOffice);
  {
    v1::CloseWorkOrderRequest r;
    r.set_name(order.name());
    v1::CloseWorkOrderResponse response;
    grpc::ClientContext context;
    EXPECT_EQ(stub_->CloseWorkOrder(&context, r, &response).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  clock_.Advance(absl::Hours(20));
  {
    v1::ResolveWorkOrderRequest r;
    r.set_name(order.name());
    r.set_resolution("已约谈社工，调整排班，下周起由固定社工上门");
    v1::ResolveWorkOrderResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ResolveWorkOrder(&context, r, &response).ok());
    EXPECT_TRUE(response.work_order().resolved_in_time());
  }
  {
    v1::RecordCallbackRequest r;
    r.set_name(order.name());
    r.set_satisfaction(4);
    v1::RecordCallbackResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->RecordCallback(&context, r, &response).ok());
  }
  {
    v1::CloseWorkOrderRequest r;
    r.set_name(order.name());
    v1::CloseWorkOrderResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->CloseWorkOrder(&context, r, &response).ok());
    order = response.work_order();
  }
  std::vector<v1::WorkOrderState> states;
  for (const auto& t : order.history()) states.push_back(t.to_state());
  EXPECT_EQ(states, (std::vector<v1::WorkOrderState>{
                        v1::WORK_ORDER_STATE_ACCEPTED, v1::WORK_ORDER_STATE_CLASSIFIED,
                        v1::WORK_ORDER_STATE_ROUTED, v1::WORK_ORDER_STATE_RESOLVED,
                        v1::WORK_ORDER_STATE_CALLED_BACK, v1::WORK_ORDER_STATE_CLOSED}));
  EXPECT_EQ(order.history(0).actor(), "hotline/operator-7");

  // A safety complaint nobody answers within 24 hours is escalated to the street service office.
  v1::WorkOrder urgent;
  ASSERT_TRUE(create(visits_[0], &urgent).ok());
  ASSERT_TRUE(classify(urgent.name(), v1::WORK_ORDER_CATEGORY_SAFETY, nullptr).ok());
  ASSERT_TRUE(route(urgent.name(), nullptr).ok());
  clock_.Advance(absl::Hours(23));
  EXPECT_EQ(SweepAlerts().escalated(), 0);
  clock_.Advance(absl::Hours(2));
  v1::SweepAlertsResponse swept = SweepAlerts();
  EXPECT_EQ(swept.escalated(), 1);
  {
    v1::GetWorkOrderRequest r;
    r.set_name(urgent.name());
    v1::GetWorkOrderResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetWorkOrder(&context, r, &response).ok());
    EXPECT_EQ(response.work_order().state(), v1::WORK_ORDER_STATE_ESCALATED);
    EXPECT_EQ(response.work_order().escalated_to(), kOffice);
  }
  EXPECT_EQ(Alerts(v1::ALERT_KIND_OVERDUE_WORK_ORDER).size(), 1u);
  EXPECT_EQ(SweepAlerts().escalated(), 0);

  // Feedback, then the evaluation report of December.
  ASSERT_TRUE(Submit(visits_[0], alone_, 5, v1::ANSWER_YES, v1::ANSWER_YES).ok());
  v1::GetEvaluationReportRequest report_request;
  report_request.set_organisation(kOrg);
  report_request.set_from_date("2026-12-01");
  report_request.set_to_date("2026-12-31");
  v1::GetEvaluationReportResponse report;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetEvaluationReport(&context, report_request, &report).ok());
  const v1::EvaluationReport& r = report.report();
  EXPECT_EQ(r.organisation_display_name(), "乐龄社工服务社");
  EXPECT_EQ(r.figures().expected_visits(), 3);
  EXPECT_EQ(r.figures().verified_visits(), 2);
  EXPECT_DOUBLE_EQ(r.punctuality(), 0.5);
  EXPECT_DOUBLE_EQ(r.continuity(), 0.5);
  EXPECT_DOUBLE_EQ(r.mean_faces(), 5.0);
  EXPECT_EQ(r.complaints().total(), 2);
  EXPECT_EQ(r.complaints().resolved(), 1);
  EXPECT_EQ(r.complaints().resolved_in_time(), 1);
  EXPECT_EQ(r.complaints().escalated(), 1);
  EXPECT_EQ(r.complaints().open(), 1);
  EXPECT_DOUBLE_EQ(r.complaints().mean_satisfaction(), 4.0);
  const std::string& html = report.html();
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>"));
  EXPECT_TRUE(absl::StrContains(html, "乐龄社工服务社 服务评估报告 2026-12-01 — 2026-12-31"));
  EXPECT_TRUE(absl::StrContains(html, "<th>应到访 Expected visits</th><td>3</td>"));
  EXPECT_TRUE(absl::StrContains(html, "<th>准时率 Punctuality</th><td>50.0%</td>"));
  EXPECT_TRUE(absl::StrContains(html, "<th>受理 Accepted</th><td>2</td>"));
  EXPECT_TRUE(absl::StrContains(
      html, absl::StrFormat("<p class=\"index\" id=\"index\">%.1f</p>", r.index().value())));
  EXPECT_TRUE(absl::EndsWith(html, "</html>\n"));
  // December week by week: Mondays from Nov 30, the last week cut at Dec 31; the charts draw a
  // point for each week with data and a bar for each week with visits due.
  ASSERT_EQ(r.weeks_size(), 5);
  EXPECT_EQ(r.weeks(0).week_start(), "2026-11-30");
  EXPECT_EQ(r.weeks(0).index().window_days(), 6);  // Dec 1-6
  EXPECT_EQ(r.weeks(4).week_start(), "2026-12-28");
  EXPECT_EQ(r.weeks(4).index().window_days(), 4);  // Dec 28-31
  int64_t expected = 0;
  int with_data = 0, with_visits = 0;
  for (const auto& week : r.weeks()) {
    expected += week.index().figures().expected_visits();
    with_data += week.index().has_value() ? 1 : 0;
    with_visits += week.index().figures().expected_visits() > 0 ? 1 : 0;
  }
  EXPECT_EQ(expected, r.figures().expected_visits());
  EXPECT_EQ(with_data, 2);
  EXPECT_EQ(CountOf(html, "class=\"index-point\""), with_data);
  EXPECT_EQ(CountOf(html, "<svg "), 2);
  EXPECT_GE(CountOf(html, "<rect "), with_visits);
  EXPECT_EQ(CountOf(html, "class=\"failed\""), 1);  // the missed visit's week
}

TEST_P(FeedbackTest, WorkOrdersAreListedByElderAndOlderRowsAreBackfilled) {
  ScriptHistory();
  Consume();
  std::vector<std::string> created;
  for (const std::string& visit : {visits_[0], visits_[1]}) {
    v1::CreateWorkOrderRequest request;
    request.mutable_work_order()->set_source(v1::WORK_ORDER_SOURCE_APP);
    request.mutable_work_order()->set_visit(visit);
    request.mutable_work_order()->set_description("饭菜送来时已经凉了");
    v1::CreateWorkOrderResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->CreateWorkOrder(&context, request, &response).ok());
    created.push_back(response.work_order().name());
  }
  std::sort(created.begin(), created.end());  // lists are ordered by id
  auto list = [&](const std::string& elder, grpc::Status* status = nullptr) {
    std::vector<std::string> names;
    v1::ListWorkOrdersRequest request;
    request.set_elder(elder);
    request.set_page_size(1);
    do {
      v1::ListWorkOrdersResponse response;
      grpc::ClientContext context;
      grpc::Status s = stub_->ListWorkOrders(&context, request, &response);
      if (status != nullptr) *status = s;
      if (!s.ok()) break;
      for (const auto& order : response.work_orders()) {
        EXPECT_EQ(order.elder(), elder);
        names.push_back(order.name());
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return names;
  };
  EXPECT_EQ(list(alone_), created);
  EXPECT_TRUE(list("elders/someone-else").empty());
  grpc::Status bad;
  list("regions/310101020001", &bad);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(bad), "elder");
  // Rows stored before the elder column existed: found again once backfilled from their data.
  ASSERT_TRUE(db_->RunInTransaction([](storage::Transaction& tx) {
                   return tx.Exec("UPDATE work_orders SET elder = ''").status();
                 })
                  .ok());
  EXPECT_TRUE(list(alone_).empty());
  absl::StatusOr<int> filled = BackfillWorkOrderElders(*db_, *registry_->cipher);
  ASSERT_TRUE(filled.ok()) << filled.status();
  EXPECT_EQ(*filled, 2);
  EXPECT_EQ(list(alone_), created);
  EXPECT_EQ(*BackfillWorkOrderElders(*db_, *registry_->cipher), 0);
}

// ListWorkOrders' region keeps the work orders about elders of one committee or street (the
// gateway's row scope for staff), whichever organisation is responsible, across pages; a region
// matches by equality, never as a code prefix, and a malformed one is named.
TEST_P(FeedbackTest, WorkOrdersAreListedByRegionOfTheirElder) {
  rv1::CreateRegionRequest committee;
  committee.mutable_region()->set_code("310101020002");
  committee.mutable_region()->set_display_name("桥二居民区");
  committee.mutable_region()->set_level(rv1::REGION_LEVEL_COMMITTEE);
  committee.mutable_region()->set_parent(kStreet);
  rv1::CreateRegionResponse committee_out;
  Registry([&](auto* s, auto* c) { return s->CreateRegion(c, committee, &committee_out); });
  rv1::CreateElderRequest neighbour_request;
  neighbour_request.mutable_elder()->set_display_name("陈阿姨");
  neighbour_request.mutable_elder()->set_region("regions/310101020002");
  rv1::CreateElderResponse neighbour;
  Registry([&](auto* s, auto* c) { return s->CreateElder(c, neighbour_request, &neighbour); });
  // Both promises are owned by the same street-level organisation (kOrg).
  const std::string mine = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU,TH");
  const std::string theirs = Commit(neighbour.elder().name(), "FREQ=WEEKLY;BYDAY=TU,TH");
  Consume();
  std::map<std::string, std::vector<std::string>> by_committee;
  for (int i = 0; i < 2; ++i) {
    for (const auto& [commitment, region] :
         {std::pair{mine, std::string(kCommittee)},
          std::pair{theirs, std::string("regions/310101020002")}}) {
      v1::CreateWorkOrderRequest request;
      request.mutable_work_order()->set_source(v1::WORK_ORDER_SOURCE_STAFF);
      request.mutable_work_order()->set_commitment(commitment);
      request.mutable_work_order()->set_description("服务人员态度不好");
      v1::CreateWorkOrderResponse response;
      grpc::ClientContext context;
      grpc::Status status = stub_->CreateWorkOrder(&context, request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      by_committee[region].push_back(response.work_order().name());
    }
  }
  auto list = [&](const std::string& region, grpc::Status* status = nullptr) {
    std::vector<std::string> names;
    v1::ListWorkOrdersRequest request;
    request.set_region(region);
    request.set_page_size(1);
    do {
      v1::ListWorkOrdersResponse response;
      grpc::ClientContext context;
      grpc::Status s = stub_->ListWorkOrders(&context, request, &response);
      if (status != nullptr) *status = s;
      if (!s.ok()) break;
      for (const auto& order : response.work_orders()) names.push_back(order.name());
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    std::sort(names.begin(), names.end());
    return names;
  };
  std::vector<std::string> all = by_committee[kCommittee];
  all.insert(all.end(), by_committee["regions/310101020002"].begin(),
             by_committee["regions/310101020002"].end());
  std::sort(all.begin(), all.end());
  for (auto& [region, names] : by_committee) std::sort(names.begin(), names.end());
  EXPECT_EQ(list(kCommittee), by_committee[kCommittee]);
  EXPECT_EQ(list("regions/310101020002"), by_committee["regions/310101020002"]);
  EXPECT_EQ(list(kStreet), all);
  // Not a prefix match: a district above the street, a shorter code, another committee.
  EXPECT_TRUE(list("regions/310101").empty());
  EXPECT_TRUE(list("regions/31010102").empty());
  EXPECT_TRUE(list("regions/310101020003").empty());
  // With the other filters: the responsible organisation is kOrg for both committees' orders.
  v1::ListWorkOrdersRequest both;
  both.set_region(kCommittee);
  both.set_elder(neighbour.elder().name());
  v1::ListWorkOrdersResponse none;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListWorkOrders(&context, both, &none).ok());
  EXPECT_EQ(none.work_orders_size(), 0);
  for (const char* bad_region : {"310101020001", "regions/", "regions/31010102000x"}) {
    grpc::Status bad;
    list(bad_region, &bad);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad_region;
    EXPECT_EQ(Field(bad), "region") << bad_region;
  }
}

TEST_P(FeedbackTest, TripleOutOfOrderDeliveryAcrossACrashEqualsOneDelivery) {
  ScriptHistory();
  Commit(family_, "FREQ=WEEKLY;BYDAY=MO,WE,FR");  // more visits, still scheduled or missed
  SweepMissed(Dec(10, 20, 0));
  // The events as scheduling serves them.
  std::vector<sv1::Event> events;
  int64_t after = 0;
  for (;;) {
    sv1::ListEventsRequest request;
    request.set_after_sequence(after);
    request.set_page_size(1000);
    sv1::ListEventsResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(sched_stub_->ListEvents(&context, request, &response).ok());
    if (response.events_size() == 0) break;
    events.insert(events.end(), response.events().begin(), response.events().end());
    after = events.back().sequence();
  }
  ASSERT_GT(events.size(), 15u);

  // Reference: a fresh database fed each event once, in order.
  absl::StatusOr<std::string> ref_url = testing::FreshDatabaseUrl(GetParam(), "fb_reference");
  ASSERT_TRUE(ref_url.ok());
  auto ref_db = storage::OpenDatabase(*ref_url);
  ASSERT_TRUE(ref_db.ok());
  ASSERT_TRUE(storage::ApplyMigrations(**ref_db, "feedback", FeedbackMigrations()).ok());
  {
    EventApplier once(**ref_db, *facts_, clock_);
    ASSERT_TRUE(once.Apply(events).ok());
  }
  const std::vector<std::string> reference = Snapshot(**ref_db);
  ASSERT_FALSE(reference.empty());

  // Every event three times, shuffled, in small batches; the process "dies" halfway (database,
  // caches and consumer dropped) and a new one carries on.
  std::vector<sv1::Event> delivery;
  for (int i = 0; i < 3; ++i) delivery.insert(delivery.end(), events.begin(), events.end());
  std::mt19937 random(20261210);
  std::shuffle(delivery.begin(), delivery.end(), random);
  const size_t half = delivery.size() / 2;
  for (size_t i = 0; i < delivery.size(); i += 5) {
    if (i >= half && i < half + 5) OpenFeedback();  // the crash and restart
    std::vector<sv1::Event> batch(delivery.begin() + i,
                                  delivery.begin() + std::min(delivery.size(), i + 5));
    ASSERT_TRUE(applier_->Apply(batch).ok());
  }
  EXPECT_EQ(Snapshot(*db_), reference);

  // The real consumer over the same database, restarted after two pages, changes nothing and
  // ends with the cursor at the last sequence.
  ASSERT_TRUE(consumer_->PollOnce().ok());
  OpenFeedback();
  Consume();
  EXPECT_EQ(Snapshot(*db_), reference);
  v1::GetConsumerStatusRequest status_request;
  v1::GetConsumerStatusResponse status;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetConsumerStatus(&context, status_request, &status).ok());
  ASSERT_EQ(status.cursors_size(), 1);
  EXPECT_EQ(status.cursors(0).sequence(), events.back().sequence());
}

TEST_P(FeedbackTest, AConsumerRestartedMidStreamResumesFromItsCursor) {
  ScriptHistory();
  // Page size 4: stop after two pages, restart, catch up.
  ASSERT_TRUE(consumer_->PollOnce().ok());
  ASSERT_TRUE(consumer_->PollOnce().ok());
  int64_t cursor = 0;
  ASSERT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                   ASSIGN_OR_RETURN(cursor, GetCursor(tx, kSchedulingSource));
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(cursor, 8);
  OpenFeedback();
  Consume();
  v1::PromiseLedger ledger = Ledger(commitment_, 30);
  EXPECT_EQ(ledger.figures().expected_visits(), 3);
  EXPECT_EQ(ledger.figures().verified_visits(), 2);
  EXPECT_EQ(ledger.figures().missed_visits(), 1);
}

// A webhook endpoint on loopback that checks each delivery's signature with the secret it is
// given and records what arrived; `down` makes it answer 503; `held` keeps each request waiting
// (a slow endpoint) until released (or 20 s).
class WebhookReceiver {
 public:
  struct Arrival {
    std::string delivery;
    v1::Notice notice;
    bool signature_ok = false;
  };
  explicit WebhookReceiver(const Clock& clock) : clock_(clock) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      ++requests_;
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](bool* held) { return !*held; }, &held_),
                           absl::Seconds(20));
      if (down_) {
        res.status = 503;
        return;
      }
      Arrival a;
      a.delivery = req.get_header_value(auth::kWebhookDeliveryHeader);
      a.signature_ok =
          auth::VerifyWebhook(secret_, req.get_header_value(auth::kWebhookTimestampHeader),
                              req.get_header_value(auth::kWebhookSignatureHeader), req.body,
                              clock_.Now(), absl::Minutes(5))
              .ok();
      const bool parsed = google::protobuf::util::JsonStringToMessage(req.body, &a.notice).ok();
      a.signature_ok = a.signature_ok && parsed;
      arrivals_.push_back(std::move(a));
      res.status = 204;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(5));
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_, "/hook"); }
  void set_secret(const std::string& secret) {
    absl::MutexLock lock(&mu_);
    secret_ = secret;
  }
  void set_down(bool down) {
    absl::MutexLock lock(&mu_);
    down_ = down;
  }
  void set_held(bool held) {
    absl::MutexLock lock(&mu_);
    held_ = held;
  }
  // Requests received, answered or still held.
  int requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<Arrival> arrivals() {
    absl::MutexLock lock(&mu_);
    return arrivals_;
  }

 private:
  const Clock& clock_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::string secret_;
  bool down_ = false;
  bool held_ = false;
  int requests_ = 0;
  std::vector<Arrival> arrivals_;
};

// Creates a webhook of `recipient` (with elders_of_region: of its elders) on `channel` that
// posts to `receiver`, and gives the receiver its signing secret.
v1::Webhook CreateHookFor(v1::FeedbackService::Stub& stub, WebhookReceiver& receiver,
                          const std::string& recipient, bool elders_of_region,
                          v1::NoticeChannel channel = v1::NOTICE_CHANNEL_UNSPECIFIED) {
  v1::CreateWebhookRequest request;
  request.mutable_webhook()->set_recipient(recipient);
  request.mutable_webhook()->set_elders_of_region(elders_of_region);
  request.mutable_webhook()->set_url(receiver.url());
  request.mutable_webhook()->set_channel(channel);
  v1::CreateWebhookResponse response;
  grpc::ClientContext context;
  grpc::Status s = stub.CreateWebhook(&context, request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  receiver.set_secret(response.signing_secret());
  return response.webhook();
}

TEST_P(FeedbackTest, AMissedVisitIsToldOnceToEachWhoMustKnowAndReachesTheirWebhooksInOrder) {
  WebhookReceiver committee_hook(clock_);
  auto create_hook = [&](const std::string& recipient, bool elders) {
    v1::CreateWebhookRequest request;
    request.mutable_webhook()->set_recipient(recipient);
    request.mutable_webhook()->set_elders_of_region(elders);
    request.mutable_webhook()->set_url(committee_hook.url());
    v1::CreateWebhookResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->CreateWebhook(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.signing_secret().size(), 64u);
    return response;
  };
  v1::CreateWebhookResponse hook = create_hook(kCommittee, false);
  committee_hook.set_secret(hook.signing_secret());
  // The same secret for both only because one receiver checks both: a second hook has its own.
  v1::CreateWebhookResponse sms = create_hook(kStreet, true);
  EXPECT_NE(sms.signing_secret(), hook.signing_secret());

  commitment_ = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU,TH");
  std::vector<sv1::Visit> visits = Visits(commitment_);
  ASSERT_GE(visits.size(), 3u);
  SweepMissed(Dec(1, 12));  // Dec 1, 9-11: nobody came
  Consume();

  for (const std::string& recipient : {alone_, std::string(kOrg), std::string(kCommittee)}) {
    v1::ListNoticesResponse inbox = Notices(recipient);
    ASSERT_EQ(inbox.notices_size(), 1) << recipient;
    EXPECT_EQ(inbox.notices(0).kind(), v1::NOTICE_KIND_MISSED);
    EXPECT_EQ(inbox.notices(0).subject(), visits[0].name());
    EXPECT_EQ(inbox.unread_count(), 1);
  }
  // Swept and consumed again, sweeps of the notices: nobody hears twice.
  SweepMissed(Dec(1, 13));
  Consume();
  ASSERT_TRUE(service_->notices().Sweep(clock_.Now()).ok());
  EXPECT_EQ(Notices(alone_).notices_size(), 1);

  WebhookSender sender(*db_, clock_, *registry_->cipher, service_->notices().signal(),
                       /*directory=*/nullptr);
  auto send_all = [&] {
    for (int i = 0; i < 20; ++i) {
      absl::StatusOr<int> n = sender.SendDue();
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) return;
    }
  };
  send_all();
  auto of = [](const std::vector<WebhookReceiver::Arrival>& arrivals, const std::string& who) {
    std::vector<WebhookReceiver::Arrival> out;
    for (const auto& a : arrivals) {
      if (a.notice.recipient() == who) out.push_back(a);
    }
    return out;
  };
  std::vector<WebhookReceiver::Arrival> arrived = committee_hook.arrivals();
  ASSERT_EQ(arrived.size(), 2u);  // the committee's notice, and the elder's for the street's SMS
  ASSERT_EQ(of(arrived, kCommittee).size(), 1u);
  EXPECT_TRUE(of(arrived, kCommittee)[0].signature_ok);
  ASSERT_EQ(of(arrived, alone_).size(), 1u);
  EXPECT_FALSE(of(arrived, alone_)[0].signature_ok);  // signed with the SMS hook's own secret

  // The endpoint goes down for an hour: the next missed visit fails and is retried; a safety
  // report to the committee meanwhile waits behind it.
  committee_hook.set_down(true);
  SweepMissed(Dec(3, 12));
  Consume();
  send_all();
  clock_.Advance(absl::Seconds(30));
  send_all();
  v1::CreateWorkOrderRequest report;
  report.mutable_work_order()->set_source(v1::WORK_ORDER_SOURCE_WORKER_APP);
  report.mutable_work_order()->set_visit(visits[1].name());
  report.mutable_work_order()->set_description("老人摔倒后独自在家，已叫120");
  v1::CreateWorkOrderResponse reported;
  grpc::ClientContext r1;
  r1.AddMetadata(kActorKey, "worker:workers/w1");
  ASSERT_TRUE(stub_->CreateWorkOrder(&r1, report, &reported).ok());
  Classify(reported.work_order().name(), v1::WORK_ORDER_CATEGORY_SAFETY);
  send_all();
  auto deliveries = [&](const std::string& recipient) {
    v1::ListWebhookDeliveriesRequest request;
    request.set_recipient(recipient);
    v1::ListWebhookDeliveriesResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(stub_->ListWebhookDeliveries(&context, request, &response).ok());
    return response;
  };
  v1::ListWebhookDeliveriesResponse log = deliveries(kCommittee);
  ASSERT_EQ(log.deliveries_size(), 3);  // newest first
  EXPECT_EQ(log.deliveries(2).state(), v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(log.deliveries(1).state(), v1::DELIVERY_STATE_PENDING);
  EXPECT_EQ(log.deliveries(1).attempts(), 2);
  EXPECT_EQ(log.deliveries(1).last_error(), "HTTP 503");
  EXPECT_EQ(log.deliveries(0).attempts(), 0);  // waits behind the one before it
  EXPECT_EQ(committee_hook.arrivals().size(), 2u);

  // Back an hour later: everything arrives once, the committee's in the order raised.
  clock_.Advance(absl::Hours(1));
  committee_hook.set_down(false);
  send_all();
  arrived = committee_hook.arrivals();
  ASSERT_EQ(arrived.size(), 5u);
  std::vector<WebhookReceiver::Arrival> to_committee = of(arrived, kCommittee);
  ASSERT_EQ(to_committee.size(), 3u);
  EXPECT_EQ(to_committee[1].notice.kind(), v1::NOTICE_KIND_MISSED);
  EXPECT_EQ(to_committee[2].notice.kind(), v1::NOTICE_KIND_SAFETY);
  EXPECT_LT(to_committee[0].notice.sequence(), to_committee[1].notice.sequence());
  EXPECT_LT(to_committee[1].notice.sequence(), to_committee[2].notice.sequence());
  std::map<std::string, int> per_delivery;
  for (const auto& a : arrived) ++per_delivery[a.delivery];
  for (const auto& [delivery, count] : per_delivery) EXPECT_EQ(count, 1) << delivery;

  // Found late in the evening: the committee hears at once, the elder's text waits for 07:00.
  SweepMissed(Dec(8, 22));
  Consume();
  send_all();
  EXPECT_EQ(committee_hook.arrivals().size(), 6u);
  v1::ListWebhookDeliveriesResponse sms_log = deliveries(kStreet);
  ASSERT_EQ(sms_log.deliveries_size(), 3);
  EXPECT_EQ(sms_log.deliveries(0).state(), v1::DELIVERY_STATE_PENDING);
  EXPECT_EQ(FromTimestamp(sms_log.deliveries(0).next_attempt_time()), Dec(9, 7));
  clock_.Set(Dec(9, 7, 1));
  send_all();
  EXPECT_EQ(committee_hook.arrivals().size(), 7u);

  // Replay of a delivery: its webhook's recipient only.
  v1::RetryWebhookDeliveryRequest retry;
  retry.set_name(log.deliveries(2).name());
  retry.set_recipient(kOrg);
  v1::RetryWebhookDeliveryResponse retried;
  grpc::ClientContext c1;
  EXPECT_EQ(stub_->RetryWebhookDelivery(&c1, retry, &retried).error_code(),
            grpc::StatusCode::NOT_FOUND);
  retry.set_recipient(kCommittee);
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->RetryWebhookDelivery(&c2, retry, &retried).ok());
  EXPECT_EQ(retried.delivery().state(), v1::DELIVERY_STATE_PENDING);
  send_all();
  EXPECT_EQ(committee_hook.arrivals().size(), 8u);

  // Read: the inbox's unread count falls.
  v1::MarkNoticesReadRequest read;
  read.set_recipient(kCommittee);
  read.set_up_to_sequence(Notices(kCommittee).notices(0).sequence());
  v1::MarkNoticesReadResponse read_out;
  grpc::ClientContext c3;
  ASSERT_TRUE(stub_->MarkNoticesRead(&c3, read, &read_out).ok());
  EXPECT_EQ(read_out.marked(), 1);
  EXPECT_EQ(read_out.unread_count(), 3);
  read.clear_up_to_sequence();
  read.add_names(Notices(alone_).notices(0).name());  // not the committee's
  grpc::ClientContext c4;
  EXPECT_EQ(stub_->MarkNoticesRead(&c4, read, &read_out).error_code(), grpc::StatusCode::NOT_FOUND);
}

// The street's text-message provider is given, with each notice to an elder, the number to text:
// the elder's own, else a family proxy's. Each read is in the elder's audit log under the
// webhook's name; an elder with no phone on record is not delivered to (and stays unreached).
TEST_P(FeedbackTest, ATextMessageProviderGetsThePhoneToReachTheElderAndEveryReadIsAudited) {
  auto elder = [&](const std::string& name, const std::string& phone,
                   const std::string& daughter_phone) {
    rv1::CreateElderRequest r;
    r.mutable_elder()->set_display_name(name);
    r.mutable_elder()->set_region(kCommittee);
    r.mutable_elder()->set_phone(phone);
    rv1::Consent* consent = r.mutable_elder()->add_consents();  // the numbers may be kept
    consent->set_purpose(rv1::CONSENT_PURPOSE_PERSONAL_DATA);
    consent->set_granted(true);
    rv1::Contact* daughter = r.mutable_elder()->add_contacts();
    daughter->set_display_name("李梅");
    daughter->set_relationship("女儿");
    daughter->set_phone(daughter_phone);
    daughter->set_proxy(true);
    rv1::CreateElderResponse out;
    Registry([&](auto* s, auto* c) { return s->CreateElder(c, r, &out); });
    return out.elder().name();
  };
  const std::string own = elder("陈桂兰", "13900001111", "13900002222");
  const std::string by_daughter = elder("周福生", "", "13900003333");
  const std::string unreachable = elder("吴阿婆", "", "");

  WebhookReceiver provider(clock_);
  auto create_hook = [&](bool deliver_phone, bool elders_of_region, grpc::Status* status) {
    v1::CreateWebhookRequest request;
    request.mutable_webhook()->set_recipient(kStreet);
    request.mutable_webhook()->set_elders_of_region(elders_of_region);
    request.mutable_webhook()->set_deliver_phone(deliver_phone);
    request.mutable_webhook()->set_url(provider.url());
    v1::CreateWebhookResponse response;
    grpc::ClientContext context;
    *status = stub_->CreateWebhook(&context, request, &response);
    return response;
  };
  grpc::Status status;
  create_hook(/*deliver_phone=*/true, /*elders_of_region=*/false, &status);
  EXPECT_EQ(Field(status), "webhook.deliver_phone");
  const v1::CreateWebhookResponse sms = create_hook(true, true, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(sms.webhook().deliver_phone());
  provider.set_secret(sms.signing_secret());

  for (const std::string& e : {own, by_daughter, unreachable}) Commit(e, "FREQ=WEEKLY;BYDAY=TU");
  SweepMissed(Dec(1, 12));  // Dec 1, 9-11: nobody came to any of them
  Consume();
  RegistryDirectory phone_book(*registry_->stub, nullptr, absl::Seconds(5));
  WebhookSender sender(*db_, clock_, *registry_->cipher, service_->notices().signal(), &phone_book);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sender.SendDue().ok());

  std::map<std::string, std::string> phones;  // elder -> phone delivered
  for (const WebhookReceiver::Arrival& a : provider.arrivals()) {
    EXPECT_TRUE(a.signature_ok);
    phones[a.notice.recipient()] = a.notice.phone();
  }
  EXPECT_EQ(phones, (std::map<std::string, std::string>{{own, "13900001111"},
                                                        {by_daughter, "13900003333"}}));
  // Never stored with the notice.
  EXPECT_TRUE(Notices(own).notices(0).phone().empty());

  // The unreachable elder's delivery failed at once and for good; the elder stays unreached.
  v1::ListWebhookDeliveriesRequest log_request;
  log_request.set_recipient(kStreet);
  v1::ListWebhookDeliveriesResponse log;
  grpc::ClientContext c1;
  ASSERT_TRUE(stub_->ListWebhookDeliveries(&c1, log_request, &log).ok());
  int failed = 0;
  for (const v1::WebhookDelivery& d : log.deliveries()) {
    if (d.state() != v1::DELIVERY_STATE_FAILED) continue;
    ++failed;
    EXPECT_EQ(d.attempts(), 1);
    EXPECT_EQ(d.last_error(), unreachable + " has no phone on record");
  }
  EXPECT_EQ(failed, 1);

  // Texted is reached: an hour later only the elder with no number is on the call list.
  clock_.Advance(absl::Minutes(61));
  v1::ListUnreachedEldersRequest call;
  call.set_region(kCommittee);
  v1::ListUnreachedEldersResponse listed;
  grpc::ClientContext c2;
  ASSERT_TRUE(stub_->ListUnreachedElders(&c2, call, &listed).ok());
  ASSERT_EQ(listed.elders_size(), 1);
  EXPECT_EQ(listed.elders(0).elder(), unreachable);

  // Every phone read is audited under the webhook's name.
  for (const std::string& e : {own, by_daughter}) {
    rv1::ListAuditEntriesRequest audit_request;
    audit_request.set_elder(e);
    rv1::ListAuditEntriesResponse audit;
    Registry([&](auto* s, auto* c) { return s->ListAuditEntries(c, audit_request, &audit); });
    bool read_by_hook = false;
    for (const rv1::AuditEntry& entry : audit.entries()) {
      if (entry.actor() == "webhook:" + sms.webhook().name()) {
        read_by_hook = true;
        EXPECT_NE(entry.reason().find(sms.webhook().name()), std::string::npos) << entry.reason();
      }
    }
    EXPECT_TRUE(read_by_hook) << e;
  }
}

// Most elders have no app: an elder whose notices nobody opened (neither they nor their family)
// comes on the committee's call list, the longest unreached first, until someone reads them —
// the family in the app, or the staff who phoned (recorded as the reader).
TEST_P(FeedbackTest, EldersNobodyReachedAreOnTheCommitteesCallListUntilSomeoneReadsTheirNotices) {
  commitment_ = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU,TH");
  Commit(family_, "FREQ=WEEKLY;BYDAY=TU,TH");
  SweepMissed(Dec(1, 12));  // Dec 1, 9-11: nobody came to either
  Consume();
  auto call_list = [&](const std::string& region, int minutes, int page_size,
                       const std::string& token, v1::ListUnreachedEldersResponse* out) {
    v1::ListUnreachedEldersRequest request;
    request.set_region(region);
    request.set_unread_for_minutes(minutes);
    request.set_page_size(page_size);
    request.set_page_token(token);
    out->Clear();
    grpc::ClientContext context;
    return stub_->ListUnreachedElders(&context, request, out);
  };
  v1::ListUnreachedEldersResponse page;
  // Raised just now: an hour (the default) has not passed.
  ASSERT_TRUE(call_list(kCommittee, 0, 0, "", &page).ok());
  EXPECT_EQ(page.elders_size(), 0);

  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(call_list(kCommittee, 20, 0, "", &page).ok());
  ASSERT_EQ(page.elders_size(), 2);
  std::set<std::string> listed;
  for (const v1::UnreachedElder& e : page.elders()) {
    listed.insert(e.elder());
    EXPECT_EQ(e.committee(), kCommittee);
    EXPECT_EQ(e.unread_count(), 1);
    EXPECT_EQ(e.latest().kind(), v1::NOTICE_KIND_MISSED);
    EXPECT_EQ(e.latest().recipient(), e.elder());
    EXPECT_FALSE(e.latest().text().empty());
    EXPECT_FALSE(e.urgent());
    EXPECT_EQ(FromTimestamp(e.oldest_unread_time()), Dec(1, 12));
  }
  EXPECT_EQ(listed, (std::set<std::string>{alone_, family_}));
  EXPECT_TRUE(page.next_page_token().empty());

  // The street sees its committees' elders; another street none. The committee's and the
  // provider's own inboxes are not elders.
  clock_.Advance(absl::Minutes(31));
  ASSERT_TRUE(call_list(kStreet, 0, 0, "", &page).ok());
  EXPECT_EQ(page.elders_size(), 2);
  ASSERT_TRUE(call_list("regions/310101021", 0, 0, "", &page).ok());
  EXPECT_EQ(page.elders_size(), 0);

  // A page at a time, every elder once.
  ASSERT_TRUE(call_list(kCommittee, 0, 1, "", &page).ok());
  ASSERT_EQ(page.elders_size(), 1);
  ASSERT_FALSE(page.next_page_token().empty());
  const std::string first = page.elders(0).elder();
  ASSERT_TRUE(call_list(kCommittee, 0, 1, page.next_page_token(), &page).ok());
  ASSERT_EQ(page.elders_size(), 1);
  EXPECT_NE(page.elders(0).elder(), first);
  EXPECT_TRUE(page.next_page_token().empty());

  // The daughter reads her mother's notices in the app; staff phone the other elder and mark
  // theirs read: both are off the list, and the notice says who told the elder.
  auto mark_read = [&](const std::string& elder, const std::string& actor) {
    v1::MarkNoticesReadRequest read;
    read.set_recipient(elder);
    read.set_up_to_sequence(Notices(elder).notices(0).sequence());
    v1::MarkNoticesReadResponse out;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, actor);
    grpc::Status s = stub_->MarkNoticesRead(&context, read, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  };
  mark_read(family_, absl::StrCat("family:", family_, "/contacts/0"));
  ASSERT_TRUE(call_list(kCommittee, 0, 0, "", &page).ok());
  ASSERT_EQ(page.elders_size(), 1);
  EXPECT_EQ(page.elders(0).elder(), alone_);
  mark_read(alone_, "committee_staff:staff/zhou");
  ASSERT_TRUE(call_list(kCommittee, 0, 0, "", &page).ok());
  EXPECT_EQ(page.elders_size(), 0);
  EXPECT_EQ(Notices(alone_).notices(0).read_by(), "committee_staff:staff/zhou");

  // Bad input names the field.
  EXPECT_EQ(Field(call_list("", 0, 0, "", &page)), "region");
  EXPECT_EQ(Field(call_list("elders/x", 0, 0, "", &page)), "region");
  EXPECT_EQ(Field(call_list(kCommittee, -1, 0, "", &page)), "unread_for_minutes");
  EXPECT_EQ(Field(call_list(kCommittee, 7 * 24 * 60 + 1, 0, "", &page)), "unread_for_minutes");
  EXPECT_EQ(Field(call_list(kCommittee, 0, -1, "", &page)), "page_size");
  EXPECT_EQ(Field(call_list(kCommittee, 0, 0, "not-a-token", &page)), "page_token");
}

TEST_P(FeedbackTest, AWaitingReadReturnsAsSoonAsANoticeIsRaised) {
  commitment_ = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU,TH");
  v1::ListNoticesResponse got;
  grpc::Status status;
  absl::Duration waited;
  std::thread reader([&] {
    v1::ListNoticesRequest request;
    request.set_recipient(alone_);
    request.set_wait_seconds(20);
    grpc::ClientContext context;
    const Stopwatch watch;
    status = stub_->ListNotices(&context, request, &got);
    waited = watch.Elapsed();
  });
  absl::SleepFor(absl::Milliseconds(300));
  SweepMissed(Dec(1, 12));
  Consume();
  reader.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(got.notices_size(), 1);
  EXPECT_EQ(got.notices(0).kind(), v1::NOTICE_KIND_MISSED);
  EXPECT_LT(waited, absl::Seconds(10));  // woken, not timed out

  v1::ListNoticesRequest bad;
  bad.set_recipient("people/x");
  bad.set_wait_seconds(31);
  grpc::ClientContext context;
  grpc::Status refused = stub_->ListNotices(&context, bad, &got);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("recipient"), std::string::npos);
}

TEST_P(FeedbackTest, ASafetyReportAlertsTheCommitteeAndReachesTheStreetWhenNobodyAcknowledges) {
  commitment_ = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU,TH");
  std::vector<sv1::Visit> visits = Visits(commitment_);
  clock_.Set(Dec(1, 3));
  Consume();
  auto file = [&](v1::WorkOrderSource source, const std::string& actor) {
    v1::CreateWorkOrderRequest request;
    request.mutable_work_order()->set_source(source);
    request.mutable_work_order()->set_visit(visits[0].name());
    request.mutable_work_order()->set_description("老人家中燃气有异味，已开窗通风");
    v1::CreateWorkOrderResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, actor);
    grpc::Status s = stub_->CreateWorkOrder(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.work_order();
  };
  v1::WorkOrder report = file(v1::WORK_ORDER_SOURCE_WORKER_APP, "worker:workers/w1");
  Classify(report.name(), v1::WORK_ORDER_CATEGORY_SAFETY);
  v1::ListNoticesResponse committee = Notices(kCommittee);
  ASSERT_EQ(committee.notices_size(), 1);
  EXPECT_EQ(committee.notices(0).kind(), v1::NOTICE_KIND_SAFETY);
  EXPECT_TRUE(committee.notices(0).urgent());
  EXPECT_TRUE(absl::StartsWith(committee.notices(0).subject(), "alerts/"));
  EXPECT_EQ(Notices(alone_).notices_size(), 0);  // a worker's report is staff business

  clock_.Advance(absl::Minutes(29));
  ASSERT_TRUE(service_->notices().Sweep(clock_.Now()).ok());
  EXPECT_EQ(Notices(kStreet).notices_size(), 0);
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(service_->notices().Sweep(clock_.Now()).ok());
  v1::ListNoticesResponse street = Notices(kStreet);
  ASSERT_EQ(street.notices_size(), 1);
  EXPECT_EQ(street.notices(0).kind(), v1::NOTICE_KIND_SAFETY_ESCALATED);
  EXPECT_EQ(street.notices(0).subject(), committee.notices(0).subject());

  // The elder's own complaint: the elder hears of its steps.
  v1::WorkOrder complaint = file(v1::WORK_ORDER_SOURCE_APP, "elder:" + alone_);
  Classify(complaint.name(), v1::WORK_ORDER_CATEGORY_SERVICE_QUALITY);
  v1::ListNoticesResponse elder = Notices(alone_);
  ASSERT_EQ(elder.notices_size(), 1);  // accepted (classifying is an internal step)
  EXPECT_EQ(elder.notices(0).kind(), v1::NOTICE_KIND_WORK_ORDER);
  EXPECT_EQ(elder.notices(0).work_order_state(), v1::WORK_ORDER_STATE_ACCEPTED);
  EXPECT_EQ(elder.notices(0).subject(), complaint.name());
}

TEST_P(FeedbackTest, AMissedVisitMadeGoodShowsTheLedgerRepairedOnceTheMakeUpIsDone) {
  ScriptHistory();  // Dec 8 missed; now Thursday Dec 10, 20:00
  rv1::CreateWorkerRequest w;
  w.mutable_worker()->set_display_name("周社工");
  w.mutable_worker()->set_organisation(kOrg);
  w.mutable_worker()->add_skills("visiting");
  rv1::CreateWorkerResponse worker;
  Registry([&](auto* s, auto* c) { return s->CreateWorker(c, w, &worker); });
  Consume();
  EXPECT_EQ(Ledger(commitment_, 30).figures().missed_visits(), 1);

  sv1::MakeUpVisitRequest ask;
  ask.set_missed_visit(visits_[2]);
  ask.set_dry_run(true);
  sv1::MakeUpVisitResponse offer;
  grpc::ClientContext c1;
  grpc::Status s = sched_stub_->MakeUpVisit(&c1, ask, &offer);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GE(offer.proposals_size(), 1);
  EXPECT_EQ(FromTimestamp(offer.proposals(0).window_start()), Dec(11, 9));  // Friday 09:00
  sv1::MakeUpVisitRequest accept;
  accept.set_missed_visit(visits_[2]);
  *accept.mutable_window_start() = offer.proposals(0).window_start();
  sv1::MakeUpVisitResponse booked;
  grpc::ClientContext c2;
  s = sched_stub_->MakeUpVisit(&c2, accept, &booked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Consume();
  // Booked, not yet done: the missed visit still counts as missed.
  EXPECT_EQ(Ledger(commitment_, 30).figures().repaired_visits(), 0);

  Visit(booked.visit().name(), worker.worker().name(), Dec(11, 9, 30));
  Consume();
  const v1::PromiseLedger ledger = Ledger(commitment_, 30);
  EXPECT_EQ(ledger.figures().repaired_visits(), 1);
  EXPECT_EQ(ledger.figures().missed_visits(), 0);
  EXPECT_EQ(ledger.figures().expected_visits(), 3);  // Dec 1, Dec 3 and the make-up
  EXPECT_EQ(ledger.figures().verified_visits(), 3);
  EXPECT_EQ(ledger.status(), v1::PROMISE_STATUS_KEPT);
}

// The elder declines the make-up of a missed visit: the provider and the committee are told once,
// and the ledger keeps the visit missed.
TEST_P(FeedbackTest, ADeclinedMakeUpIsToldToTheProviderAndCommitteeOnceAndStaysMissed) {
  ScriptHistory();  // Dec 8 missed; now Thursday Dec 10, 20:00
  Consume();
  auto kinds = [&](const std::string& recipient) {
    std::vector<v1::Notice> out;
    const v1::ListNoticesResponse inbox = Notices(recipient);
    for (const v1::Notice& n : inbox.notices()) {
      if (n.kind() == v1::NOTICE_KIND_MAKE_UP_DECLINED) out.push_back(n);
    }
    return out;
  };
  ASSERT_TRUE(kinds(kOrg).empty());
  auto decline = [&] {
    sv1::DeclineMakeUpRequest request;
    request.set_missed_visit(visits_[2]);
    request.set_reason(sv1::MAKE_UP_DECLINE_REASON_AWAY);
    sv1::DeclineMakeUpResponse response;
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "elder:" + alone_);
    grpc::Status s = sched_stub_->DeclineMakeUp(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  };
  decline();
  Consume();
  for (const std::string& recipient : {std::string(kOrg), std::string(kCommittee)}) {
    std::vector<v1::Notice> told = kinds(recipient);
    ASSERT_EQ(told.size(), 1u) << recipient;
    EXPECT_EQ(told[0].subject(), visits_[2]);
    EXPECT_EQ(told[0].elder(), alone_);
    EXPECT_NE(told[0].text().find("老人不在家"), std::string::npos) << told[0].text();
  }
  EXPECT_TRUE(kinds(alone_).empty());  // the elder knows: they declined
  // Declined again: nobody hears twice. The promise stays broken for that visit.
  decline();
  Consume();
  EXPECT_EQ(kinds(kOrg).size(), 1u);
  EXPECT_EQ(kinds(kCommittee).size(), 1u);
  const v1::PromiseLedger ledger = Ledger(commitment_, 30);
  EXPECT_EQ(ledger.figures().missed_visits(), 1);
  EXPECT_EQ(ledger.figures().repaired_visits(), 0);
}

// Channels: an elder who wants no text messages about missed visits gets none from the street's
// text-message provider, while its voice-call provider still calls and the inbox has everything.
TEST_P(FeedbackTest, AnElderMutesAKindOnOneChannelAndOnlyThatChannelIsSpared) {
  WebhookReceiver texts(clock_);
  WebhookReceiver calls(clock_);
  EXPECT_EQ(CreateHookFor(*stub_, texts, kStreet, true, v1::NOTICE_CHANNEL_TEXT_MESSAGE).channel(),
            v1::NOTICE_CHANNEL_TEXT_MESSAGE);
  CreateHookFor(*stub_, calls, kStreet, true, v1::NOTICE_CHANNEL_VOICE_CALL);
  {
    WebhookReceiver system(clock_);
    const v1::Webhook plain = CreateHookFor(*stub_, system, kCommittee, false);
    EXPECT_EQ(plain.channel(), v1::NOTICE_CHANNEL_WEBHOOK);  // the default
    v1::DeleteWebhookRequest remove;
    remove.set_name(plain.name());
    remove.set_recipient(kCommittee);
    v1::DeleteWebhookResponse removed;
    grpc::ClientContext c2;
    ASSERT_TRUE(stub_->DeleteWebhook(&c2, remove, &removed).ok());
    v1::CreateWebhookRequest unknown;
    unknown.mutable_webhook()->set_recipient(kCommittee);
    unknown.mutable_webhook()->set_url(system.url());
    unknown.mutable_webhook()->set_channel(static_cast<v1::NoticeChannel>(9));
    v1::CreateWebhookResponse refused;
    grpc::ClientContext c3;
    EXPECT_EQ(Field(stub_->CreateWebhook(&c3, unknown, &refused)), "webhook.channel");
  }

  auto set = [&](const v1::NoticePreferences& preferences) {
    v1::SetNoticePreferencesRequest request;
    *request.mutable_preferences() = preferences;
    v1::SetNoticePreferencesResponse response;
    grpc::ClientContext context;
    return stub_->SetNoticePreferences(&context, request, &response);
  };
  v1::NoticePreferences mine;
  mine.set_recipient(alone_);
  mine.set_quiet_start("21:00");
  mine.set_quiet_end("07:00");
  v1::ChannelPreference* no_texts = mine.add_channels();
  no_texts->set_channel(v1::NOTICE_CHANNEL_TEXT_MESSAGE);
  no_texts->add_muted_kinds(v1::NOTICE_KIND_MISSED);
  // Refused: a channel twice, no channel, an unknown kind.
  v1::NoticePreferences twice = mine;
  *twice.add_channels() = *no_texts;
  grpc::Status s = set(twice);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(s), "preferences.channels[1].channel");
  v1::NoticePreferences unnamed = mine;
  unnamed.mutable_channels(0)->set_channel(v1::NOTICE_CHANNEL_UNSPECIFIED);
  EXPECT_EQ(Field(set(unnamed)), "preferences.channels[0].channel");
  v1::NoticePreferences unknown_kind = mine;
  unknown_kind.mutable_channels(0)->add_muted_kinds(static_cast<v1::NoticeKind>(99));
  EXPECT_EQ(Field(set(unknown_kind)), "preferences.channels[0].muted_kinds[1]");
  s = set(mine);
  ASSERT_TRUE(s.ok()) << s.error_message();
  {
    v1::GetNoticePreferencesRequest request;
    request.set_recipient(alone_);
    v1::GetNoticePreferencesResponse got;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetNoticePreferences(&context, request, &got).ok());
    ASSERT_EQ(got.preferences().channels_size(), 1);
    EXPECT_EQ(got.preferences().channels(0).channel(), v1::NOTICE_CHANNEL_TEXT_MESSAGE);
    ASSERT_EQ(got.preferences().channels(0).muted_kinds_size(), 1);
    EXPECT_EQ(got.preferences().channels(0).muted_kinds(0), v1::NOTICE_KIND_MISSED);
    EXPECT_EQ(got.preferences().quiet_start(), "21:00");
  }

  commitment_ = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU,TH");
  SweepMissed(Dec(1, 12));  // Dec 1, 9-11: nobody came
  Consume();
  WebhookSender sender(*db_, clock_, *registry_->cipher, service_->notices().signal(),
                       /*directory=*/nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sender.SendDue().ok());
  EXPECT_TRUE(texts.arrivals().empty());
  ASSERT_EQ(calls.arrivals().size(), 1u);
  EXPECT_EQ(calls.arrivals()[0].notice.recipient(), alone_);
  EXPECT_EQ(calls.arrivals()[0].notice.kind(), v1::NOTICE_KIND_MISSED);
  EXPECT_EQ(Notices(alone_).notices_size(), 1);  // the inbox always has it
}

// Deliveries of a pass go out in parallel lanes: an endpoint that hangs holds up its own notices
// only, not another webhook's.
TEST_P(FeedbackTest, ASlowEndpointHoldsUpOnlyItsOwnDeliveries) {
  WebhookReceiver slow(clock_);
  WebhookReceiver fast(clock_);
  CreateHookFor(*stub_, slow, kStreet, true);      // the elder's notice: raised first, sent first
  CreateHookFor(*stub_, fast, kCommittee, false);  // the committee's
  commitment_ = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU,TH");
  SweepMissed(Dec(1, 12));
  Consume();

  slow.set_held(true);
  WebhookSender sender(*db_, clock_, *registry_->cipher, service_->notices().signal(),
                       /*directory=*/nullptr);
  absl::StatusOr<int> attempted;
  std::thread pass([&] { attempted = sender.SendDue(); });
  // The committee's notice arrives while the elder's text is still held at the slow endpoint.
  bool both_in = false;
  for (int i = 0; i < 500 && !both_in; ++i) {
    both_in = !fast.arrivals().empty() && slow.requests() == 1;
    if (!both_in) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(both_in) << "fast: " << fast.arrivals().size() << ", slow: " << slow.requests();
  EXPECT_TRUE(slow.arrivals().empty());
  slow.set_held(false);
  pass.join();
  ASSERT_TRUE(attempted.ok()) << attempted.status();
  EXPECT_EQ(*attempted, 2);
  EXPECT_EQ(slow.arrivals().size(), 1u);
  EXPECT_EQ(fast.arrivals().size(), 1u);
}

// A pass claims a lane's due deliveries together; those after a failed one are handed back at
// once, so they go out as soon as the one before them is delivered, not when the claim expires.
TEST_P(FeedbackTest, DeliveriesWaitingBehindAFailedOneAreHandedBackAtOnce) {
  WebhookReceiver committee_hook(clock_);
  CreateHookFor(*stub_, committee_hook, kCommittee, false);
  committee_hook.set_down(true);
  WebhookSender sender(*db_, clock_, *registry_->cipher, service_->notices().signal(),
                       /*directory=*/nullptr);

  commitment_ = Commit(alone_, "FREQ=WEEKLY;BYDAY=TU,TH");
  SweepMissed(Dec(1, 12));  // Tuesday's visit missed: its notice fails to arrive
  Consume();
  ASSERT_TRUE(sender.SendDue().ok());
  SweepMissed(Dec(3, 12));  // Thursday's too; the first is retried (and fails) ahead of it
  Consume();
  absl::StatusOr<int> attempted = sender.SendDue();
  ASSERT_TRUE(attempted.ok()) << attempted.status();
  EXPECT_EQ(*attempted, 1);
  EXPECT_EQ(committee_hook.requests(), 2);

  // Back within the minute a claim lasts: both arrive now, in order.
  committee_hook.set_down(false);
  clock_.Advance(absl::Seconds(25));  // past the second retry's backoff (at most 20 s)
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sender.SendDue().ok());
  const std::vector<WebhookReceiver::Arrival> arrived = committee_hook.arrivals();
  ASSERT_EQ(arrived.size(), 2u);
  EXPECT_LT(arrived[0].notice.sequence(), arrived[1].notice.sequence());
}

// ImportFeedback: answers given before Linli, at their own time, counted on the visit's day; a
// second import of the same file changes nothing.
v1::ImportedFeedback PastAnswer(int line, const std::string& visit, const std::string& author,
                                int faces, v1::Answer answer, absl::Time at,
                                bool nobody_came = false) {
  v1::ImportedFeedback row;
  row.set_line(line);
  v1::Feedback* f = row.mutable_feedback();
  f->set_visit(visit);
  f->set_author(author);
  f->set_channel(v1::FEEDBACK_CHANNEL_PHONE_CALL);
  f->set_faces(faces);
  f->set_did_as_promised(answer);
  f->set_felt_cared_for(answer);
  f->set_nobody_came(nobody_came);
  *row.mutable_answer_time() = ToTimestamp(at);
  return row;
}

grpc::Status ImportAnswers(v1::FeedbackService::Stub& stub,
                           const v1::ImportFeedbackRequest& request,
                           v1::ImportFeedbackResponse* response) {
  grpc::ClientContext context;
  context.AddMetadata(kActorKey, "committee_staff:staff/zhou");
  return stub.ImportFeedback(&context, request, response);
}

// "line field" of each problem, in order.
std::vector<std::string> ProblemLines(const v1::ImportFeedbackResponse& response) {
  std::vector<std::string> out;
  for (const auto& p : response.problems()) {
    EXPECT_FALSE(p.reason().empty());
    EXPECT_FALSE(p.reason_zh().empty());
    out.push_back(absl::StrCat(p.line(), " ", p.field()));
  }
  return out;
}

TEST_P(FeedbackTest, ImportedAnswersCountOnTheirVisitsDayAndImportTwiceChangesNothing) {
  ScriptHistory();  // the clock at Dec 10 20:00
  Consume();
  // Live, the worker already answered Dec 1.
  ASSERT_TRUE(Submit(visits_[0], "workers/w1", 5, v1::ANSWER_YES, v1::ANSWER_YES).ok());
  auto day_figures = [&](const std::string& subject, absl::Time at) {
    Figures f;
    absl::Status read = db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      ASSIGN_OR_RETURN(f, SumCounters(tx, subject, LocalDay(at), LocalDay(at)));
      return absl::OkStatus();
    });
    EXPECT_TRUE(read.ok()) << read;
    return f;
  };

  v1::ImportFeedbackRequest request;
  // The elder was happy with Dec 1 (asked that afternoon); her daughter says nobody came on Dec 3.
  *request.add_rows() = PastAnswer(2, visits_[0], alone_, 5, v1::ANSWER_YES, Dec(1, 15));
  *request.add_rows() =
      PastAnswer(3, visits_[1], alone_ + "/contacts/0", 1, v1::ANSWER_NO, Dec(3, 18), true);
  // The worker's answer, given live already.
  *request.add_rows() = PastAnswer(4, visits_[0], "workers/w1", 5, v1::ANSWER_YES, Dec(1, 11));
  // The same author and visit twice in one file is refused, not merged.
  v1::ImportFeedbackRequest twice = request;
  *twice.add_rows() = PastAnswer(5, visits_[0], alone_, 2, v1::ANSWER_NO, Dec(1, 16));
  v1::ImportFeedbackResponse imported;
  grpc::Status status = ImportAnswers(*stub_, twice, &imported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ProblemLines(imported), std::vector<std::string>{"5 feedback"});
  EXPECT_EQ(imported.problems(0).reason(), "the same answer as line 2");
  EXPECT_FALSE(imported.written());

  status = ImportAnswers(*stub_, request, &imported);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(imported.created(), 2);
  EXPECT_EQ(imported.existing(), 1);
  EXPECT_TRUE(imported.problems().empty()) << imported.DebugString();
  EXPECT_TRUE(imported.written());

  // Counted on each visit's day, for the elder, the promise and the worker who came.
  EXPECT_EQ(day_figures(alone_, Dec(1, 0))[kAnswers], 1);
  EXPECT_EQ(day_figures(alone_, Dec(1, 0))[kFacesSum], 5);
  EXPECT_EQ(day_figures(alone_, Dec(3, 0))[kAnswers], 1);
  EXPECT_EQ(day_figures(alone_, Dec(3, 0))[kDisputed], 1);
  EXPECT_EQ(day_figures("workers/w2", Dec(3, 0))[kAnswers], 1);
  const v1::PerceptionIndex index = Index(alone_);
  EXPECT_EQ(index.figures().feedback_answers(), 2);
  EXPECT_EQ(index.figures().faces_sum(), 6);
  const v1::PromiseLedger ledger = Ledger(commitment_, 30);
  EXPECT_EQ(ledger.figures().disputed_visits(), 1);
  // "Nobody came" raised its contradiction as of the answer's time.
  std::vector<v1::Alert> alerts = Alerts(v1::ALERT_KIND_CONTRADICTION);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].subject(), visits_[1]);
  EXPECT_EQ(FromTimestamp(alerts[0].create_time()), Dec(3, 18));
  // The answers keep their time and name who entered them.
  v1::ListFeedbackRequest list;
  list.set_elder(alone_);
  list.set_reason("核对导入");
  v1::ListFeedbackResponse answers;
  {
    grpc::ClientContext context;
    context.AddMetadata(kActorKey, "committee_staff:staff/zhou");
    ASSERT_TRUE(stub_->ListFeedback(&context, list, &answers).ok());
  }
  ASSERT_EQ(answers.feedback_size(), 3);  // the worker's live answer (newest), then the two
  EXPECT_EQ(answers.feedback(0).author(), "workers/w1");
  EXPECT_EQ(FromTimestamp(answers.feedback(1).create_time()), Dec(3, 18));
  EXPECT_EQ(answers.feedback(1).recorded_by(), "committee_staff:staff/zhou");
  EXPECT_EQ(FromTimestamp(answers.feedback(2).create_time()), Dec(1, 15));

  // The same file again: every row is already there, nothing counts twice.
  clock_.Advance(absl::Hours(1));
  v1::ImportFeedbackResponse again;
  ASSERT_TRUE(ImportAnswers(*stub_, request, &again).ok());
  EXPECT_EQ(again.created(), 0);
  EXPECT_EQ(again.existing(), 3);
  EXPECT_TRUE(again.problems().empty());
  EXPECT_FALSE(again.written());
  EXPECT_EQ(Index(alone_).figures().feedback_answers(), 2);
  EXPECT_EQ(Index(alone_).figures().faces_sum(), 6);
  EXPECT_EQ(Ledger(commitment_, 30).figures().disputed_visits(), 1);
  EXPECT_EQ(Alerts(v1::ALERT_KIND_CONTRADICTION).size(), 1u);
  // A live answer after the import is refused as a second one.
  EXPECT_EQ(Submit(visits_[0], alone_, 1, v1::ANSWER_NO, v1::ANSWER_NO).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_P(FeedbackTest, ImportedRowsThatAreRefusedWriteNothingUnlessSkipped) {
  ScriptHistory();  // the clock at Dec 10 20:00
  Consume();
  v1::ImportFeedbackRequest request;
  *request.add_rows() = PastAnswer(2, visits_[0], alone_, 4, v1::ANSWER_YES, Dec(1, 15));
  // Given tomorrow; before the worker arrived (11:30); for a missed visit; for a visit feedback
  // has not seen; five faces too many; no time at all.
  *request.add_rows() = PastAnswer(3, visits_[1], alone_, 4, v1::ANSWER_YES, Dec(11, 9));
  *request.add_rows() = PastAnswer(4, visits_[1], alone_, 4, v1::ANSWER_YES, Dec(3, 10));
  *request.add_rows() = PastAnswer(5, visits_[2], alone_, 4, v1::ANSWER_YES, Dec(8, 15));
  *request.add_rows() = PastAnswer(6, "visits/nosuchvisit", alone_, 4, v1::ANSWER_YES, Dec(2, 9));
  *request.add_rows() = PastAnswer(7, visits_[1], alone_, 10, v1::ANSWER_YES, Dec(3, 15));
  v1::ImportedFeedback untimed = PastAnswer(8, visits_[1], alone_, 4, v1::ANSWER_YES, Dec(3, 15));
  untimed.clear_answer_time();
  *request.add_rows() = untimed;
  const std::vector<std::string> problems = {
      "3 feedback.answer_time", "4 feedback.answer_time", "5 feedback",
      "6 feedback.visit",       "7 feedback.faces",       "8 feedback.answer_time"};

  // Refused rows: nothing written, the good row counted as it would be.
  v1::ImportFeedbackResponse refused;
  grpc::Status status = ImportAnswers(*stub_, request, &refused);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ProblemLines(refused), problems);
  EXPECT_EQ(refused.problems(0).reason(), "is in the future; only past answers are imported");
  EXPECT_EQ(refused.problems(0).reason_zh(), "在将来；只能导入过去的回答");
  EXPECT_TRUE(absl::StrContains(refused.problems(3).reason(), "is not known to feedback yet"))
      << refused.problems(3).reason();
  EXPECT_TRUE(absl::StrContains(refused.problems(2).reason(), "did not happen"))
      << refused.problems(2).reason();
  EXPECT_EQ(refused.created(), 1);
  EXPECT_FALSE(refused.written());
  EXPECT_EQ(Index(alone_).figures().feedback_answers(), 0);

  // A dry run of the good row alone writes nothing either.
  v1::ImportFeedbackRequest good;
  *good.add_rows() = request.rows(0);
  good.set_dry_run(true);
  v1::ImportFeedbackResponse dry;
  ASSERT_TRUE(ImportAnswers(*stub_, good, &dry).ok());
  EXPECT_EQ(dry.created(), 1);
  EXPECT_TRUE(dry.problems().empty());
  EXPECT_FALSE(dry.written());
  EXPECT_EQ(Index(alone_).figures().feedback_answers(), 0);

  // Skipping the bad rows writes the good one.
  request.set_skip_bad_rows(true);
  v1::ImportFeedbackResponse skipped;
  ASSERT_TRUE(ImportAnswers(*stub_, request, &skipped).ok());
  EXPECT_EQ(ProblemLines(skipped), problems);
  EXPECT_EQ(skipped.created(), 1);
  EXPECT_TRUE(skipped.written());
  EXPECT_EQ(Index(alone_).figures().feedback_answers(), 1);
  EXPECT_EQ(Index(alone_).figures().faces_sum(), 4);
  EXPECT_EQ(Submit(visits_[0], alone_, 1, v1::ANSWER_NO, v1::ANSWER_NO).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  // 1-1000 rows.
  v1::ImportFeedbackRequest none;
  v1::ImportFeedbackResponse out;
  status = ImportAnswers(*stub_, none, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(status), "rows");
  v1::ImportFeedbackRequest too_many;
  for (int i = 0; i < 1001; ++i) *too_many.add_rows() = request.rows(0);
  status = ImportAnswers(*stub_, too_many, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Field(status), "rows");
}

INSTANTIATE_TEST_SUITE_P(Backends, FeedbackTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli::feedback
