// Feedback's tables: the consumer cursors, the projection of scheduling's visits and commitments,
// the elders' facts it needs (committee, street, solitary, proxies, last verified contact),
// feedback answers, daily counters per subject, work orders, alerts and alert policies.
//
// Cursors move in the same transaction as the effects of the events, so applying an event and
// moving the cursor are one atomic step.
#ifndef LINLI_SERVICES_FEEDBACK_FEEDBACK_STORE_H_
#define LINLI_SERVICES_FEEDBACK_FEEDBACK_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/feedback/v1/feedback.pb.h"
#include "services/feedback/day_board.h"
#include "services/feedback/facts.h"
#include "services/feedback/feedback_answer.h"
#include "services/feedback/perception.h"

namespace linli::feedback {

const std::vector<storage::Migration>& FeedbackMigrations();

// Answers and work orders hold the elders' own words (personal data): their stored data is
// sealed with the personal-data keyring (common/pii/field_cipher.h), bound to its row; the
// functions below that write or read it take the keyring.

// Seals the answers and work orders stored in plain bytes before migration 8 (or by an older
// replica since), and removes the words from the replies stored for request_id retries of
// SubmitFeedback and CreateWorkOrder. Idempotent and safe with several replicas starting at
// once; returns how many rows it sealed. Run at start-up.
absl::StatusOr<int> SealPlainFeedbackTexts(storage::Database& db, const pii::FieldCipher& cipher);

// --- Cursors -----------------------------------------------------------------------------------

struct ConsumerCursor {
  std::string source;
  int64_t sequence = 0;
  absl::Time update_time;
};

absl::StatusOr<std::vector<ConsumerCursor>> ListCursors(storage::Transaction& tx);
absl::StatusOr<int64_t> GetCursor(storage::Transaction& tx, const std::string& source);
// Moves the cursor forward to `sequence` (never backwards).
absl::Status AdvanceCursor(storage::Transaction& tx, const std::string& source, int64_t sequence,
                           absl::Time now);

// --- Projection: the facts of facts.h and the visits -----------------------------------------

absl::StatusOr<std::optional<CommitmentFacts>> FindCommitmentFacts(storage::Transaction& tx,
                                                                   const std::string& id);
absl::Status InsertCommitmentFacts(storage::Transaction& tx, const CommitmentFacts& facts);
absl::StatusOr<std::optional<ElderFacts>> FindElderFacts(storage::Transaction& tx,
                                                         const std::string& elder);
absl::Status InsertElderFacts(storage::Transaction& tx, const ElderFacts& facts);
// Raises last_contact_us to `contact_us` when it is later.
absl::Status RaiseLastContact(storage::Transaction& tx, const std::string& elder,
                              int64_t contact_us);
// Every solitary elder.
absl::StatusOr<std::vector<ElderFacts>> SolitaryElders(storage::Transaction& tx);
// Every elder feedback has seen.
absl::StatusOr<std::vector<ElderFacts>> KnownElders(storage::Transaction& tx);

absl::StatusOr<std::optional<ProjectedVisit>> FindVisit(storage::Transaction& tx,
                                                        const std::string& id);
// Inserts the visit, or updates everything but `disputed` (which only feedback sets, see
// MarkDisputed).
absl::Status UpsertVisit(storage::Transaction& tx, const ProjectedVisit& visit, bool exists);
// The visits of local day `day` to the elders whose committee or street is `region`, each with
// the elder's committee; unordered.
absl::StatusOr<std::vector<BoardRow>> VisitsOfDay(storage::Transaction& tx,
                                                  const std::string& region, int64_t day);
// A visit waiting for its exception review, with whose it is.
struct ReviewRow {
  std::string visit_id;       // without "visits/"
  std::string elder;          // "elders/…"
  std::string commitment_id;  // without "commitments/"
  std::string organisation;   // the commitment's owner
  std::string committee;      // the elder's
  int64_t day = 0;
};
// Visits whose review is pending, of the elders of `region` ("" = any) and of the promises of
// `organisation` ("" = any), ordered by (day, id) after (after_day, after_id).
absl::StatusOr<std::vector<ReviewRow>> VisitsAwaitingReview(storage::Transaction& tx,
                                                            const std::string& region,
                                                            const std::string& organisation,
                                                            int64_t after_day,
                                                            const std::string& after_id, int limit);
// Scheduled visits whose window opens in [from, to] and has not ended at `now`.
absl::StatusOr<std::vector<ProjectedVisit>> ScheduledVisitsAround(storage::Transaction& tx,
                                                                  absl::Time from, absl::Time to,
                                                                  absl::Time now);
// The visit `worker` ("workers/…") has checked in to and not yet out of, if any.
absl::StatusOr<std::optional<ProjectedVisit>> VisitInProgressOf(storage::Transaction& tx,
                                                                const std::string& worker);
// Sets `disputed` on a completed visit; true when it changed.
absl::StatusOr<bool> MarkDisputed(storage::Transaction& tx, const std::string& id);

// --- Counters ------------------------------------------------------------------------------------

// Adds `delta` to the counters of (subject, day).
absl::Status AddCounters(storage::Transaction& tx, storage::Dialect dialect,
                         const std::string& subject, int64_t day, const Figures& delta);
// Sum of the counters of `subject` over days [first_day, last_day].
absl::StatusOr<Figures> SumCounters(storage::Transaction& tx, const std::string& subject,
                                    int64_t first_day, int64_t last_day);
// Accumulates counter changes of a batch so each (subject, day) row is written once.
class CounterBatch {
 public:
  void Add(const std::vector<std::string>& subjects, int64_t day, const Figures& delta);
  absl::Status Flush(storage::Transaction& tx, storage::Dialect dialect);
  size_t size() const { return rows_.size(); }

 private:
  std::map<std::pair<std::string, int64_t>, Figures> rows_;
};

// A commitment of a region with its counters over a period.
struct PromiseRow {
  CommitmentFacts commitment;
  std::string committee;  // the elder's
  std::string moved_to;   // "commitments/…" it moved to by a referral, or ""
  Figures figures;
};
// The commitments to the elders whose committee or street is `region`, optionally only those of
// `organisation` and of `service_type` ("" = any), each with its counters summed over the local
// days [first_day, last_day] (zeros when none); unordered.
absl::StatusOr<std::vector<PromiseRow>> PromisesOfRegion(storage::Transaction& tx,
                                                         storage::Dialect dialect,
                                                         const std::string& region,
                                                         const std::string& organisation,
                                                         const std::string& service_type,
                                                         int64_t first_day, int64_t last_day);

// Records that commitment `commitment_id` moved to `moved_to` ("commitments/…") by an accepted
// referral; a second record of the same move changes nothing.
absl::Status RecordMove(storage::Transaction& tx, const std::string& commitment_id,
                        const std::string& moved_to);

// --- Feedback answers ----------------------------------------------------------------------------

// ALREADY_EXISTS when this author already answered for this visit.
absl::Status InsertFeedback(storage::Transaction& tx, const pii::FieldCipher& cipher,
                            const std::string& id, const std::string& visit_id,
                            const v1::Feedback& feedback, absl::Time now);
// Which answers QueryFeedback returns.
struct FeedbackQuery {
  std::string region;  // "regions/…": answers about visits to its elders ("" = any)
  std::string elder;   // "elders/…": answers about this elder's visits ("" = any)
  bool with_words_only = false;
  int64_t since_us = 0;   // recorded at or after
  int64_t before_us = 0;  // with before_id: strictly before (before_us, before_id)
  std::string before_id;  // "" = from the newest
  int limit = 50;
};
// Answers newest first (by record time, then id), opened.
absl::StatusOr<std::vector<v1::Feedback>> QueryFeedback(storage::Transaction& tx,
                                                        const pii::FieldCipher& cipher,
                                                        const FeedbackQuery& query);
absl::StatusOr<int64_t> CountFeedback(storage::Transaction& tx);
// Completed visits of the local days [first_day, last_day] of the elders whose committee or
// street is `region` ("regions/…") that have no answer in the elder's voice yet, each with what
// ranks it (feedback_answer.h); unordered.
absl::StatusOr<std::vector<AwaitingAnswer>> VisitsAwaitingAnswer(storage::Transaction& tx,
                                                                 const std::string& region,
                                                                 int64_t first_day,
                                                                 int64_t last_day);

// --- Work orders ---------------------------------------------------------------------------------

struct WorkOrderRow {
  std::string id;
  std::string organisation;  // owner of the commitment concerned
  std::string committee;     // the elder's committee (for alerts)
  std::string street;        // the elder's street (for escalation)
  v1::WorkOrder order;
};
absl::Status InsertWorkOrder(storage::Transaction& tx, const pii::FieldCipher& cipher,
                             const WorkOrderRow& row);
absl::Status UpdateWorkOrder(storage::Transaction& tx, const pii::FieldCipher& cipher,
                             const WorkOrderRow& row);
absl::StatusOr<std::optional<WorkOrderRow>> FindWorkOrder(storage::Transaction& tx,
                                                          const pii::FieldCipher& cipher,
                                                          const std::string& id);
// Ordered by id, after `after_id`; `responsible`, `elder` ("elders/…") and `state` filter when
// set, and `region` ("regions/…") keeps the rows whose committee or street is that region (each
// has an index).
absl::StatusOr<std::vector<WorkOrderRow>> QueryWorkOrders(storage::Transaction& tx,
                                                          const pii::FieldCipher& cipher,
                                                          const std::string& responsible, int state,
                                                          const std::string& after_id, int limit,
                                                          const std::string& elder = "",
                                                          const std::string& region = "");
// Fills the elder column of work orders stored before it existed (migration 4) from their data;
// returns how many rows changed. Cheap when there is nothing to do; run at start-up.
absl::StatusOr<int> BackfillWorkOrderElders(storage::Database& db, const pii::FieldCipher& cipher);
// Classified or routed work orders whose deadline passed.
// Open work orders (accepted, classified, routed or escalated) about elders of the committee or
// street `region`, counted by commitment ("commitments/…").
absl::StatusOr<std::map<std::string, int>> OpenComplaintsByCommitment(
    storage::Transaction& tx, const pii::FieldCipher& cipher, const std::string& region);
absl::StatusOr<std::vector<WorkOrderRow>> OverdueWorkOrders(storage::Transaction& tx,
                                                            const pii::FieldCipher& cipher,
                                                            absl::Time now);
// Work orders about `organisation`'s commitments accepted in [from, to).
absl::StatusOr<std::vector<WorkOrderRow>> WorkOrdersOfPeriod(storage::Transaction& tx,
                                                             const pii::FieldCipher& cipher,
                                                             const std::string& organisation,
                                                             absl::Time from, absl::Time to);

// --- Alerts --------------------------------------------------------------------------------------

struct AlertRow {
  std::string id;
  std::string dedupe_key;  // one alert per key, ever
  v1::Alert alert;
};
// Inserts unless an alert with the same dedupe key exists; true when inserted.
absl::StatusOr<bool> InsertAlertOnce(storage::Transaction& tx, const AlertRow& row);
absl::Status UpdateAlert(storage::Transaction& tx, const AlertRow& row);
absl::StatusOr<std::optional<AlertRow>> FindAlert(storage::Transaction& tx, const std::string& id);
// Alerts of `committee` and of the committee or street `region` (its elders' committees), each
// filter applied when not empty, newest (highest id) first, before `before_id` ("" = from the
// newest); `state` 0 = any.
absl::StatusOr<std::vector<AlertRow>> QueryAlerts(storage::Transaction& tx,
                                                  const std::string& committee,
                                                  const std::string& region, int state,
                                                  const std::string& before_id, int limit);

// Days without contact per committee that has a policy.
absl::StatusOr<std::map<std::string, int>> AlertPolicies(storage::Transaction& tx);
absl::Status SetAlertPolicy(storage::Transaction& tx, storage::Dialect dialect,
                            const std::string& committee, int days);

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_FEEDBACK_STORE_H_
