// ChangeVisitsTogether, the store side of the check-in/out group commit, against SQLite and
// MariaDB: a batch stores each change once with its event in visit order, an item that fails
// its own rules writes nothing, and (MariaDB, where another connection can commit between the
// batch's read and its write) a visit changed concurrently is never overwritten: the batch falls
// back from its one multi-row UPDATE to an UPDATE per visit and stores the others. And two
// service replicas on one database: each one's cache of the visits it put in progress never
// decides an outcome once the other replica changed the visit.
#include <algorithm>
#include <atomic>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "common/status_macros.h"
#include "gtest/gtest.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/scheduling_util.h"
#include "tests/support/test_env.h"

namespace linli::scheduling {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1796263200);  // 2026-12-01 09:00 Shanghai

std::unique_ptr<storage::Database> OpenFresh(const std::string& backend) {
  absl::StatusOr<std::string> url = testing::FreshDatabaseUrl(backend, "sched_store");
  EXPECT_TRUE(url.ok()) << url.status();
  if (!url.ok()) return nullptr;
  auto db = storage::OpenDatabase(*url);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return nullptr;
  EXPECT_TRUE(storage::ApplyMigrations(**db, "scheduling", SchedulingMigrations()).ok());
  return std::move(*db);
}

// Scheduled visits with ids v0..v{n-1} (one commitment).
void SeedVisits(storage::Database& db, int n) {
  ASSERT_TRUE(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                  for (int i = 0; i < n; ++i) {
                    VisitRow row;
                    row.id = absl::StrCat("v", i);
                    row.commitment_id = "c1";
                    row.window_start_us = absl::ToUnixMicros(kNow);
                    row.visit.set_name("visits/" + row.id);
                    row.visit.set_commitment("commitments/c1");
                    row.visit.set_elder("elders/e1");
                    row.visit.set_occurrence(absl::StrCat("2026-12-01T09:0", i));
                    *row.visit.mutable_window_start() = ToTimestamp(kNow);
                    *row.visit.mutable_window_end() = ToTimestamp(kNow + absl::Hours(2));
                    row.visit.set_state(v1::VISIT_STATE_SCHEDULED);
                    RETURN_IF_ERROR(InsertVisit(tx, row));
                  }
                  return absl::OkStatus();
                }).ok());
}

VisitRow Read(storage::Database& db, const std::string& id) {
  VisitRow out;
  EXPECT_TRUE(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                  ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, id));
                  if (!row.has_value()) return absl::NotFoundError(id);
                  out = std::move(*row);
                  return absl::OkStatus();
                }).ok());
  return out;
}

std::vector<OutboxEvent> Events(storage::Database& db) {
  absl::StatusOr<EventPage> page = ListEvents(db, 0, 100);
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? page->events : std::vector<OutboxEvent>{};
}

// A check-in-like change: the visit starts, stamped with `worker`.
std::unique_ptr<PendingVisitChange> StartVisit(const std::string& id, const std::string& worker) {
  auto change = std::make_unique<PendingVisitChange>();
  change->id = id;
  change->name = "visits/" + id;
  change->expected = v1::VISIT_STATE_SCHEDULED;
  change->event = "visit.checked_in";
  change->now = kNow;
  change->change = [worker](v1::Visit& visit) {
    visit.mutable_check_in()->set_worker(worker);
    visit.set_state(v1::VISIT_STATE_IN_PROGRESS);
    return absl::OkStatus();
  };
  return change;
}

class SchedulingStoreTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SchedulingStoreTest, ABatchStoresEachChangeOnceAndOnlyTheChangesThatPassTheirRules) {
  std::unique_ptr<storage::Database> db = OpenFresh(GetParam());
  ASSERT_NE(db, nullptr);
  SeedVisits(*db, 6);
  // Submitted out of id order; v3 refuses, v9 does not exist, v5 is in the wrong state.
  std::vector<std::unique_ptr<PendingVisitChange>> owned;
  for (const char* id : {"v4", "v0", "v3", "v9", "v2", "v1", "v5"}) {
    owned.push_back(StartVisit(id, absl::StrCat("workers/w", id)));
  }
  owned[2]->change = [](v1::Visit&) { return absl::FailedPreconditionError("refused"); };
  owned[6]->expected = v1::VISIT_STATE_IN_PROGRESS;
  std::vector<PendingVisitChange*> batch;
  for (auto& item : owned) batch.push_back(item.get());
  ChangeVisitsTogether(*db, batch);

  std::map<std::string, PendingVisitChange*> by_id;
  for (auto& item : owned) by_id[item->id] = item.get();
  for (const char* id : {"v0", "v1", "v2", "v4"}) {
    SCOPED_TRACE(id);
    PendingVisitChange& item = *by_id[id];
    EXPECT_TRUE(item.status.ok()) << item.status;
    EXPECT_FALSE(item.conflicted);
    EXPECT_EQ(item.result.state(), v1::VISIT_STATE_IN_PROGRESS);
    const VisitRow stored = Read(*db, id);
    EXPECT_EQ(stored.version, 1);
    EXPECT_EQ(stored.visit.state(), v1::VISIT_STATE_IN_PROGRESS);
    EXPECT_EQ(stored.visit.check_in().worker(), absl::StrCat("workers/w", id));
  }
  EXPECT_TRUE(absl::IsFailedPrecondition(by_id["v3"]->status)) << by_id["v3"]->status;
  EXPECT_TRUE(absl::IsNotFound(by_id["v9"]->status)) << by_id["v9"]->status;
  EXPECT_TRUE(absl::IsFailedPrecondition(by_id["v5"]->status)) << by_id["v5"]->status;
  for (const char* id : {"v3", "v5"}) {
    const VisitRow untouched = Read(*db, id);
    EXPECT_EQ(untouched.version, 0) << id;
    EXPECT_EQ(untouched.visit.state(), v1::VISIT_STATE_SCHEDULED) << id;
  }
  // One event per stored change, in id order (the order the batch writes in).
  const std::vector<OutboxEvent> events = Events(*db);
  std::vector<std::string> subjects;
  for (const OutboxEvent& e : events) subjects.push_back(e.subject);
  EXPECT_EQ(subjects,
            (std::vector<std::string>{"visits/v0", "visits/v1", "visits/v2", "visits/v4"}));
  for (const OutboxEvent& e : events) {
    v1::Visit payload;
    ASSERT_TRUE(payload.ParseFromString(e.payload));
    EXPECT_EQ(payload.state(), v1::VISIT_STATE_IN_PROGRESS);
    EXPECT_EQ(e.type, "visit.checked_in");
  }
}

TEST_P(SchedulingStoreTest, CompletingVisitsReleasesTheirSlots) {
  std::unique_ptr<storage::Database> db = OpenFresh(GetParam());
  ASSERT_NE(db, nullptr);
  SeedVisits(*db, 4);  // v3 is not booked
  // Booked as the service books: the slots and the assignment in one change of the visit.
  for (int i = 0; i < 3; ++i) {
    v1::Visit booked;
    const std::string worker = absl::StrCat("workers/w", i);
    ASSERT_TRUE(ChangeVisit(
                    *db, kNow, absl::StrCat("v", i), absl::StrCat("visits/v", i),
                    v1::VISIT_STATE_SCHEDULED, "visit.assigned",
                    [&](storage::Transaction& tx, v1::Visit& visit) -> absl::Status {
                      RETURN_IF_ERROR(BookWorker(tx, worker, absl::StrCat("v", i),
                                                 kNow + absl::Hours(i),
                                                 kNow + absl::Hours(i) + absl::Minutes(30)));
                      visit.add_assignments()->set_worker(worker);
                      return absl::OkStatus();
                    },
                    &booked)
                    .ok());
  }
  std::vector<std::unique_ptr<PendingVisitChange>> owned;
  for (const char* id : {"v0", "v1", "v2", "v3"}) owned.push_back(StartVisit(id, "workers/x"));
  for (int i : {0, 2, 3}) {  // these complete; v1 only starts
    owned[i]->change = [](v1::Visit& visit) {
      visit.set_state(v1::VISIT_STATE_COMPLETED);
      return absl::OkStatus();
    };
  }
  std::vector<PendingVisitChange*> batch;
  for (auto& item : owned) batch.push_back(item.get());
  ChangeVisitsTogether(*db, batch);
  for (auto& item : owned) EXPECT_TRUE(item->status.ok()) << item->status;
  ASSERT_TRUE(db->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                  for (int i = 0; i < 3; ++i) {
                    ASSIGN_OR_RETURN(std::vector<std::string> ids,
                                     BookedVisitIds(tx, absl::StrCat("workers/w", i),
                                                    kNow - absl::Hours(1), kNow + absl::Hours(5)));
                    EXPECT_EQ(ids.size(), i == 1 ? 1u : 0u) << "worker " << i;
                  }
                  return absl::OkStatus();
                }).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, SchedulingStoreTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

// Between the batch's read and its write another connection changes v1 (as a second replica or
// a member of staff booking a worker would), on the first `concurrent_edits` runs of v1's
// change. The batch must not overwrite that edit: its one multi-row UPDATE finds fewer rows than
// it read, the transaction is rolled back and run again with an UPDATE per visit.
void RunBatchWithAConcurrentEdit(int concurrent_edits) {
  // Only a client-server database lets another transaction commit between the batch's read and
  // its write (SQLite's BEGIN IMMEDIATE holds the only write lock from the start).
  std::unique_ptr<storage::Database> db = OpenFresh("mysql");
  ASSERT_NE(db, nullptr);
  SeedVisits(*db, 3);
  std::vector<std::unique_ptr<PendingVisitChange>> owned;
  for (const char* id : {"v0", "v1", "v2"}) owned.push_back(StartVisit(id, "workers/a"));
  int runs_of_v0 = 0;
  int edits = 0;
  owned[0]->change = [&, inner = owned[0]->change](v1::Visit& visit) {
    ++runs_of_v0;
    return inner(visit);
  };
  owned[1]->change = [&, inner = owned[1]->change](v1::Visit& visit) -> absl::Status {
    if (edits < concurrent_edits) {
      ++edits;
      v1::Visit edited;
      RETURN_IF_ERROR(ChangeVisit(
          *db, kNow, "v1", "visits/v1", v1::VISIT_STATE_SCHEDULED, "visit.edited",
          [&](storage::Transaction&, v1::Visit& v) {
            v.add_exceptions(absl::StrCat("EDIT_", edits));
            return absl::OkStatus();
          },
          &edited));
    }
    return inner(visit);
  };
  std::vector<PendingVisitChange*> batch;
  for (auto& item : owned) batch.push_back(item.get());
  ChangeVisitsTogether(*db, batch);

  EXPECT_EQ(runs_of_v0, 2) << "the batch ran once together, then once visit by visit";
  for (int i : {0, 2}) {
    EXPECT_TRUE(owned[i]->status.ok()) << owned[i]->status;
    EXPECT_FALSE(owned[i]->conflicted);
    EXPECT_EQ(Read(*db, owned[i]->id).visit.state(), v1::VISIT_STATE_IN_PROGRESS);
  }
  const VisitRow v1_row = Read(*db, "v1");
  EXPECT_EQ(v1_row.visit.exceptions_size(), concurrent_edits) << "an edit was lost";
  std::vector<std::string> subjects;
  for (const OutboxEvent& e : Events(*db)) subjects.push_back(absl::StrCat(e.type, " ", e.subject));
  if (concurrent_edits == 1) {
    // The second run read the edited visit: the check-in applies on top of the edit.
    EXPECT_FALSE(owned[1]->conflicted);
    EXPECT_TRUE(owned[1]->status.ok()) << owned[1]->status;
    EXPECT_EQ(v1_row.visit.state(), v1::VISIT_STATE_IN_PROGRESS);
    EXPECT_EQ(v1_row.version, 2);
    EXPECT_EQ(subjects, (std::vector<std::string>{
                            "visit.edited visits/v1", "visit.checked_in visits/v0",
                            "visit.checked_in visits/v1", "visit.checked_in visits/v2"}));
  } else {
    // Edited again under the second run too: v1 is reported conflicted (its caller submits it
    // again) and nothing of it was stored; the others were.
    EXPECT_TRUE(owned[1]->conflicted);
    EXPECT_EQ(v1_row.visit.state(), v1::VISIT_STATE_SCHEDULED);
    EXPECT_EQ(v1_row.version, 2);
    EXPECT_EQ(subjects, (std::vector<std::string>{
                            "visit.edited visits/v1", "visit.edited visits/v1",
                            "visit.checked_in visits/v0", "visit.checked_in visits/v2"}));
  }
}

TEST(SchedulingStoreMysqlTest, AVisitEditedBetweenTheBatchReadAndWriteKeepsTheEdit) {
  RunBatchWithAConcurrentEdit(1);
}

TEST(SchedulingStoreMysqlTest, AVisitEditedAgainOnTheRetryIsReportedConflicted) {
  RunBatchWithAConcurrentEdit(2);
}

// Two replicas (two SchedulingServiceImpl, each with its own visit cache) on one database.
class TwoReplicasTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = OpenFresh(GetParam());
    ASSERT_NE(db_, nullptr);
    for (auto& replica : replicas_) {
      replica = std::make_unique<SchedulingServiceImpl>(
          *db_, clock_, cipher_,
          registry::v1::RegistryService::NewStub(NewChannel("127.0.0.1:1", {})));  // not called
    }
  }
  absl::Status CheckIn(int replica, const std::string& visit, const std::string& worker,
                       v1::Visit* out) {
    v1::CheckInVisitRequest request;
    request.set_name("visits/" + visit);
    request.set_worker(worker);
    request.set_method(v1::CHECK_METHOD_PHONE);
    return replicas_[replica]->CheckIn(request, out);
  }
  absl::Status CheckOut(int replica, const std::string& visit, const std::string& worker,
                        v1::Visit* out) {
    v1::CheckOutVisitRequest request;
    request.set_name("visits/" + visit);
    request.set_worker(worker);
    request.set_method(v1::CHECK_METHOD_PHONE);
    return replicas_[replica]->CheckOut(request, out);
  }

  FakeClock clock_{kNow + absl::Minutes(5)};
  const pii::FieldCipher cipher_ =
      *pii::FieldCipher::FromSpec(pii::FieldCipher::GenerateKeySpec("k1"));  // seals notes
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<SchedulingServiceImpl> replicas_[2];
};

TEST_P(TwoReplicasTest, ACheckOutOnTheOtherReplicaIsNotUndoneByAStaleCache) {
  SeedVisits(*db_, 1);
  v1::Visit visit;
  ASSERT_TRUE(CheckIn(0, "v0", "workers/a", &visit).ok());   // replica 0 caches v0 in progress
  ASSERT_TRUE(CheckOut(1, "v0", "workers/a", &visit).ok());  // replica 1 completes it
  EXPECT_EQ(visit.state(), v1::VISIT_STATE_COMPLETED);
  // Replica 0's cached copy is still in progress; the database decides: already completed.
  const absl::Status again = CheckOut(0, "v0", "workers/a", &visit);
  EXPECT_TRUE(absl::IsFailedPrecondition(again)) << again;
  const VisitRow stored = Read(*db_, "v0");
  EXPECT_EQ(stored.visit.state(), v1::VISIT_STATE_COMPLETED);
  EXPECT_EQ(stored.version, 2);
  EXPECT_EQ(Events(*db_).size(), 2u);
}

TEST_P(TwoReplicasTest, AWorkerWhoJoinedOnTheOtherReplicaCanCheckOutHere) {
  SeedVisits(*db_, 1);
  ASSERT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                   ASSIGN_OR_RETURN(std::optional<VisitRow> row, FindVisit(tx, "v0"));
                   row->visit.set_workers_required(2);
                   ASSIGN_OR_RETURN(bool stored,
                                    UpdateVisitIf(tx, *row, v1::VISIT_STATE_SCHEDULED));
                   return stored ? absl::OkStatus() : absl::AbortedError("changed");
                 })
                  .ok());
  v1::Visit visit;
  ASSERT_TRUE(CheckIn(0, "v0", "workers/a", &visit).ok());  // cached by replica 0
  ASSERT_TRUE(CheckIn(1, "v0", "workers/b", &visit).ok());  // b joins through replica 1
  // On replica 0's cached copy b never checked in; the database says b did.
  const absl::Status out_b = CheckOut(0, "v0", "workers/b", &visit);
  ASSERT_TRUE(out_b.ok()) << out_b;
  EXPECT_EQ(visit.team_check_outs_size(), 1);
  ASSERT_TRUE(CheckOut(0, "v0", "workers/a", &visit).ok());
  EXPECT_EQ(visit.state(), v1::VISIT_STATE_COMPLETED);
  std::vector<std::string> types;
  for (const OutboxEvent& e : Events(*db_)) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"visit.checked_in", "visit.checked_in",
                                             "visit.worker_checked_out", "visit.completed"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, TwoReplicasTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

// --- The outbox as its consumers see it -------------------------------------------------------
// A consumer (feedback's SchedulingConsumer) asks ListEvents for the events after its cursor and
// moves the cursor to the last one it got. On MariaDB two transactions take their sequences when
// they insert their events but may commit in the other order; ListEvents must never hand out a
// sequence while a smaller one can still appear, or the smaller one is never delivered.

// Follows the stream as feedback's consumer does, through the service's own ListEvents.
class Follower {
 public:
  explicit Follower(SchedulingServiceImpl& service) : service_(service) {}

  // One poll of at most `page_size` events; false when the call failed.
  bool Poll(int page_size = 100) {
    grpc::ServerContext context;
    v1::ListEventsRequest request;
    request.set_after_sequence(cursor_);
    request.set_page_size(page_size);
    v1::ListEventsResponse response;
    const grpc::Status status = service_.ListEvents(&context, &request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) return false;
    last_page_ = response.events_size();
    for (const v1::Event& event : response.events()) {
      EXPECT_GT(event.sequence(), cursor_) << "out of order";
      cursor_ = std::max(cursor_, event.sequence());
      delivered_.push_back(event.subject());
    }
    return true;
  }
  // Polls until a poll brings nothing new.
  void CatchUp() {
    while (Poll() && last_page_ > 0) {
    }
  }
  const std::vector<std::string>& delivered() const { return delivered_; }
  std::vector<std::string> SortedDelivered() const {
    std::vector<std::string> sorted = delivered_;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }

 private:
  SchedulingServiceImpl& service_;
  int64_t cursor_ = 0;
  int last_page_ = 0;
  std::vector<std::string> delivered_;
};

OutboxEvent TestEvent(const std::string& subject) {
  return OutboxEvent{0, "test.event", subject, "", kNow};
}

absl::Status AppendCommitted(storage::Database& db, const std::string& subject) {
  return db.RunInTransaction(
      [&](storage::Transaction& tx) { return AppendEvent(tx, TestEvent(subject)); });
}

class OutboxDeliveryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = OpenFresh(GetParam());
    ASSERT_NE(db_, nullptr);
    service_ = std::make_unique<SchedulingServiceImpl>(
        *db_, clock_, cipher_,
        registry::v1::RegistryService::NewStub(NewChannel("127.0.0.1:1", {})));  // not called
  }

  FakeClock clock_{kNow};
  const pii::FieldCipher cipher_ =
      *pii::FieldCipher::FromSpec(pii::FieldCipher::GenerateKeySpec("k1"));
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<SchedulingServiceImpl> service_;
};

// A transaction that rolls back after taking a sequence leaves a gap for good: the events after
// it are delivered at once, not held back.
TEST_P(OutboxDeliveryTest, ARolledBackEventHoldsNothingBack) {
  ASSERT_TRUE(AppendCommitted(*db_, "before").ok());
  const absl::Status rolled_back = db_->RunInTransaction([&](storage::Transaction& tx) {
    RETURN_IF_ERROR(AppendEvents(tx, {TestEvent("lost 1"), TestEvent("lost 2")}));
    return absl::FailedPreconditionError("refused after the insert");
  });
  ASSERT_TRUE(absl::IsFailedPrecondition(rolled_back)) << rolled_back;
  ASSERT_TRUE(AppendCommitted(*db_, "after").ok());
  Follower follower(*service_);
  ASSERT_TRUE(follower.Poll());
  EXPECT_EQ(follower.delivered(), (std::vector<std::string>{"before", "after"}));
}

// Without the gate's row the writers' lock would lock nothing: recording an event is refused
// rather than done unguarded (and, on MySQL, so is listing).
TEST_P(OutboxDeliveryTest, WithoutTheGateRowNothingIsRecorded) {
  ASSERT_TRUE(db_->RunInTransaction([](storage::Transaction& tx) {
                   return tx.Exec("DELETE FROM outbox_gate").status();
                 })
                  .ok());
  EXPECT_FALSE(AppendCommitted(*db_, "one").ok());
  EXPECT_FALSE(db_->RunInTransaction([](storage::Transaction& tx) {
                    return AppendEvents(tx, {TestEvent("two"), TestEvent("three")});
                  })
                   .ok());
  absl::StatusOr<EventPage> page = ListEvents(*db_, 0, 10);
  if (GetParam() == "mysql") {
    EXPECT_FALSE(page.ok());
  } else {
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_TRUE(page->events.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxDeliveryTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

// T1 inserts its event (the smaller sequence) and stays open; T2 inserts and commits; a consumer
// polls; then T1 commits (or rolls back). Every committed event must reach the consumer.
void RunCommitsOutOfSequenceOrder(storage::Database& db, SchedulingServiceImpl& service,
                                  bool first_commits) {
  absl::Notification first_inserted, poll_returned;
  absl::Status first_status;
  std::thread first([&] {
    first_status = db.RunInTransaction(
        [&](storage::Transaction& tx) -> absl::Status {
          RETURN_IF_ERROR(AppendEvent(tx, TestEvent("first")));
          first_inserted.Notify();
          // Open until the poll returned, or (when the poll waits for this transaction) a while.
          poll_returned.WaitForNotificationWithTimeout(absl::Seconds(1));
          return first_commits ? absl::OkStatus() : absl::FailedPreconditionError("rolled back");
        },
        {.max_attempts = 1});
  });
  first_inserted.WaitForNotification();
  const absl::Status second = AppendCommitted(db, "second");  // the larger sequence, committed
  Follower follower(service);
  std::thread poller([&] {
    follower.Poll();
    poll_returned.Notify();
  });
  poller.join();
  first.join();
  ASSERT_TRUE(second.ok()) << second;
  EXPECT_EQ(first_status.ok(), first_commits) << first_status;
  ASSERT_TRUE(AppendCommitted(db, "third").ok());
  follower.CatchUp();
  if (first_commits) {
    EXPECT_EQ(follower.SortedDelivered(), (std::vector<std::string>{"first", "second", "third"}))
        << "an event committed after a larger sequence was delivered is lost";
  } else {
    EXPECT_EQ(follower.SortedDelivered(), (std::vector<std::string>{"second", "third"}));
  }
}

class OutboxDeliveryMysqlTest : public OutboxDeliveryTest {};

TEST_P(OutboxDeliveryMysqlTest, AnEventCommittedAfterALargerSequenceIsDelivered) {
  RunCommitsOutOfSequenceOrder(*db_, *service_, /*first_commits=*/true);
}

TEST_P(OutboxDeliveryMysqlTest, AnEventRolledBackAfterALargerSequenceWasDeliveredIsSkipped) {
  RunCommitsOutOfSequenceOrder(*db_, *service_, /*first_commits=*/false);
}

// Writers that commit in random order (each holds its transaction open for a random while after
// inserting) and a consumer polling all along: every committed event is delivered exactly once.
TEST_P(OutboxDeliveryMysqlTest, AConsumerPollingDuringConcurrentWritersMissesNothing) {
  constexpr int kWriters = 4;
  constexpr int kEventsPerWriter = 60;
  std::atomic<int> writers_left{kWriters};
  std::vector<std::string> committed[kWriters];
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 random(w);
      for (int i = 0; i < kEventsPerWriter; ++i) {
        const std::string subject = absl::StrCat("w", w, "/", i);
        const int events = 1 + static_cast<int>(random() % 3);
        const absl::Duration hold = absl::Microseconds(random() % 3000);
        const bool commit = random() % 8 != 0;
        const absl::Status status = db_->RunInTransaction(
            [&](storage::Transaction& tx) -> absl::Status {
              std::vector<OutboxEvent> batch;
              for (int e = 0; e < events; ++e) batch.push_back(TestEvent(absl::StrCat(subject, e)));
              RETURN_IF_ERROR(events == 1 ? AppendEvent(tx, batch[0]) : AppendEvents(tx, batch));
              absl::SleepFor(hold);
              return commit ? absl::OkStatus() : absl::FailedPreconditionError("rolled back");
            },
            {.max_attempts = 1});
        EXPECT_EQ(status.ok(), commit) << status;
        if (status.ok()) {
          for (int e = 0; e < events; ++e) committed[w].push_back(absl::StrCat(subject, e));
        }
      }
      --writers_left;
    });
  }
  Follower follower(*service_);
  while (writers_left.load() > 0) {
    if (!follower.Poll(7)) break;
  }
  for (std::thread& t : writers) t.join();
  follower.CatchUp();
  std::vector<std::string> expected;
  for (const auto& list : committed) expected.insert(expected.end(), list.begin(), list.end());
  std::sort(expected.begin(), expected.end());
  const std::vector<std::string> delivered = follower.SortedDelivered();
  std::vector<std::string> missing, unexpected;
  std::set_difference(expected.begin(), expected.end(), delivered.begin(), delivered.end(),
                      std::back_inserter(missing));
  std::set_difference(delivered.begin(), delivered.end(), expected.begin(), expected.end(),
                      std::back_inserter(unexpected));
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << expected.size()
                               << " committed events never delivered, e.g. " << missing[0];
  EXPECT_TRUE(unexpected.empty()) << "delivered but not committed (or twice): " << unexpected[0];
  EXPECT_EQ(delivered.size(), expected.size());
}

// Only a client-server database lets a transaction commit while another one that took a smaller
// sequence is still open (SQLite's writers hold its only write lock from BEGIN IMMEDIATE).
INSTANTIATE_TEST_SUITE_P(Backends, OutboxDeliveryMysqlTest, ::testing::Values("mysql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli::scheduling
