// Consumption of scheduling's event stream: feedback's projection of visits, the daily counters
// they feed, and the stored cursor.
//
// Applying is idempotent and order-independent: every event carries the whole visit, and a
// visit's projection remembers the sequence of the event it came from, so an event at or below
// that sequence changes nothing. The counters receive the difference between the visit's old and
// new contribution. The cursor (the highest sequence applied) is written in the same transaction.
//
//   RpcFacts facts(registry_stub, scheduling_stub);
//   EventApplier applier(db, facts, clock);
//   RETURN_IF_ERROR(applier.Apply(events));       // any order, any repetition
//
//   SchedulingConsumer consumer(db, applier, scheduling_stub);
//   consumer.RunUntil(stopping, absl::Seconds(1)); // polls ListEvents from the stored cursor
#ifndef LINLI_SERVICES_FEEDBACK_CONSUMER_H_
#define LINLI_SERVICES_FEEDBACK_CONSUMER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/notice_use_cases.h"

namespace linli::feedback {

// The stream's name in consumer_cursors.
inline constexpr char kSchedulingSource[] = "scheduling";

// Where facts feedback does not own come from (commitments from scheduling, elders from the
// registry). Errors other than NOT_FOUND stop the batch, which is retried later. Called from
// several threads at once.
class FactsSource {
 public:
  virtual ~FactsSource() = default;
  virtual absl::StatusOr<CommitmentFacts> Commitment(const std::string& id) = 0;
  // Everything but first_seen_us / last_contact_us.
  virtual absl::StatusOr<ElderFacts> Elder(const std::string& elder) = 0;
};

// FactsSource over gRPC.
class RpcFacts : public FactsSource {
 public:
  RpcFacts(registry::v1::RegistryService::StubInterface* registry,
           scheduling::v1::SchedulingService::StubInterface* scheduling)
      : registry_(registry), scheduling_(scheduling) {}
  absl::StatusOr<CommitmentFacts> Commitment(const std::string& id) override;
  absl::StatusOr<ElderFacts> Elder(const std::string& elder) override;

 private:
  registry::v1::RegistryService::StubInterface* registry_;
  scheduling::v1::SchedulingService::StubInterface* scheduling_;
};

// Facts of one visit's subjects, as the applier resolves them.
struct VisitContext {
  CommitmentFacts commitment;
  ElderFacts elder;
};

class EventApplier {
 public:
  // `notices` (may be null: no notices) raises the notices of visits' changes (notice_policy.h)
  // in the batch's transaction.
  EventApplier(storage::Database& db, FactsSource& facts, const Clock& clock,
               NoticeUseCases* notices = nullptr)
      : db_(db), facts_(facts), clock_(clock), notices_(notices) {}

  // Applies `events` (any order, repetitions allowed) in one transaction and moves the cursor to
  // their highest sequence.
  absl::Status Apply(const std::vector<scheduling::v1::Event>& events);

 private:
  // Facts of a commitment (and its elder), from the cache, the database or the source; new facts
  // are written inside `tx`.
  absl::StatusOr<VisitContext> Context(storage::Transaction& tx, const std::string& commitment_id,
                                       const std::string& elder);

  storage::Database& db_;
  FactsSource& facts_;
  const Clock& clock_;
  NoticeUseCases* notices_;
  absl::Mutex mu_;  // one batch at a time
  std::map<std::string, CommitmentFacts> commitments_;
  std::map<std::string, ElderFacts> elders_;
};

// Polls scheduling's ListEvents from the stored cursor and applies what it gets.
class SchedulingConsumer {
 public:
  SchedulingConsumer(storage::Database& db, EventApplier& applier,
                     scheduling::v1::SchedulingService::StubInterface* scheduling,
                     int page_size = 500)
      : db_(db), applier_(applier), scheduling_(scheduling), page_size_(page_size) {}

  // Applies one page; the number of events it held (0 when caught up).
  absl::StatusOr<int> PollOnce();
  // Polls until caught up, then every `interval`, until `stopping` is notified. Errors are
  // logged and retried after `interval`.
  void RunUntil(absl::Notification& stopping, absl::Duration interval);

 private:
  storage::Database& db_;
  EventApplier& applier_;
  scheduling::v1::SchedulingService::StubInterface* scheduling_;
  int page_size_;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_CONSUMER_H_
