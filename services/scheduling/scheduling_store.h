// Scheduling's tables: the transactional outbox (events recorded in the same transaction as the
// change they describe, read by consumers with a cursor), commitments, visits and bookings.
#ifndef LINLI_SERVICES_SCHEDULING_SCHEDULING_STORE_H_
#define LINLI_SERVICES_SCHEDULING_SCHEDULING_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {

const std::vector<storage::Migration>& SchedulingMigrations();

// --- The outbox -------------------------------------------------------------------------------
// Events are recorded in the transaction of the change they describe; consumers read them with a
// cursor (the highest sequence they applied, see ListEvents). For that to lose nothing, a
// consumer must never be given a sequence while a smaller one can still appear.
//
// SQLite guarantees it by itself: one writer at a time, so sequences become visible in order. On
// MySQL/MariaDB a sequence is taken when the event is inserted but becomes visible when its
// transaction commits, and two transactions can commit in the other order. There every
// transaction that records events holds the one row of `outbox_gate` in share mode, from its
// first event until it ends (writers never wait for each other), and ListEvents takes that row
// exclusively for a moment: once it has it, every transaction that recorded events before has
// ended, so every sequence up to the largest one visible then is final (committed or rolled
// back), and the page stops there. Events recorded meanwhile come with the next page.
//
//   db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
//     RETURN_IF_ERROR(UpdateSomething(tx, …));
//     return AppendEvent(tx, OutboxEvent{0, "visit.completed", visit.name(), payload, now});
//   });
//   ASSIGN_OR_RETURN(EventPage page, ListEvents(db, cursor, 500));  // a consumer's poll

struct OutboxEvent {
  int64_t sequence = 0;
  std::string type;
  std::string subject;
  std::string payload;
  absl::Time create_time;
};

// Records an event inside the caller's transaction; the sequence is assigned by the database.
// On MySQL the transaction holds the outbox gate (shared) from here until it ends, so it should
// not record its first event long before it commits.
absl::Status AppendEvent(storage::Transaction& tx, const OutboxEvent& event);
// Several events in one statement, sequences in the order given.
absl::Status AppendEvents(storage::Transaction& tx, const std::vector<OutboxEvent>& events);
// A visit event ("visit.completed", …) whose payload is the visit, subject its name.
absl::Status AppendVisitEvent(storage::Transaction& tx, const std::string& type,
                              const v1::Visit& visit, absl::Time now);

// A page of the outbox for a consumer.
struct EventPage {
  // Events with sequence > the cursor, in order; none of a smaller sequence can appear later.
  std::vector<OutboxEvent> events;
  // Highest sequence recorded so far, settled or not (for a consumer's lag).
  int64_t last_sequence = 0;
};
// The events after `after`, at most `limit`, up to the settled end of the outbox (see above): a
// consumer that moves its cursor to the last event of each page misses none. Runs its own
// transactions (on MySQL first a short one that waits for the transactions recording events
// right now, and makes new ones wait for it).
absl::StatusOr<EventPage> ListEvents(storage::Database& db, int64_t after, int limit);

// Highest recorded sequence (0 when empty). Not a cursor: on MySQL smaller sequences may still
// be on their way (ListEvents knows where the outbox is settled).
absl::StatusOr<int64_t> LastSequence(storage::Transaction& tx);

// --- Commitments ------------------------------------------------------------------------------

// `import_key` (ImportCommitments: CommitmentKey) is unique among the stored promises not
// cancelled: ALREADY_EXISTS when another holds it. Empty: none.
absl::Status InsertCommitment(storage::Transaction& tx, const std::string& id,
                              const v1::Commitment& commitment, const std::string& import_key = "");
// Cancelling (state CANCELLED) releases the import key.
absl::Status UpdateCommitment(storage::Transaction& tx, const std::string& id,
                              const v1::Commitment& commitment);
absl::StatusOr<std::optional<v1::Commitment>> FindCommitment(storage::Transaction& tx,
                                                             const std::string& id);
// Commitments with id > after (optionally of one elder / only active), ordered by id.
absl::StatusOr<std::vector<v1::Commitment>> QueryCommitments(storage::Transaction& tx,
                                                             const std::string& elder,
                                                             bool only_active,
                                                             const std::string& after_id,
                                                             int limit);
// The commitment not cancelled of `elder` with this service type, owner organisation and
// valid_from (the same day, however written): the natural key of an imported promise. The first
// by id when there are several.
absl::StatusOr<std::optional<v1::Commitment>> FindLiveCommitment(
    storage::Transaction& tx, const std::string& elder, const std::string& service_type,
    const std::string& owner_organisation, const std::string& valid_from);

// --- Visits -----------------------------------------------------------------------------------

// A visit row: the proto plus the keys queries use.
struct VisitRow {
  std::string id;
  std::string commitment_id;
  v1::Visit visit;
  int64_t window_start_us = 0;
  // Incremented by every update; an update applies only to the version it read.
  int64_t version = 0;
};
// ALREADY_EXISTS when the commitment already has a visit for this occurrence.
absl::Status InsertVisit(storage::Transaction& tx, const VisitRow& row);
// Stores the visit only if its stored row is still the one the caller read (state `expected`,
// same version): false when another transaction changed it meanwhile (the caller must not act
// on what it read). The guard is what keeps two replicas, or a sweep and a check-in, or two staff
// booking two workers on one visit, from both changing one visit on what they read: the second
// UPDATE waits for the first and then matches no row.
absl::StatusOr<bool> UpdateVisitIf(storage::Transaction& tx, const VisitRow& row,
                                   v1::VisitState expected);
absl::StatusOr<std::optional<VisitRow>> FindVisit(storage::Transaction& tx, const std::string& id);
// The visit of a commitment's occurrence (local "YYYY-MM-DDTHH:MM:SS"), if any.
absl::StatusOr<std::optional<VisitRow>> FindVisitOfOccurrence(storage::Transaction& tx,
                                                              const std::string& commitment_id,
                                                              const std::string& occurrence);
// Occurrence keys of a commitment's visits in [from_key, to_key).
absl::StatusOr<std::vector<std::string>> OccurrenceKeys(storage::Transaction& tx,
                                                        const std::string& commitment_id,
                                                        const std::string& from_key,
                                                        const std::string& to_key);
// The one way a single visit changes: find it (NOT_FOUND naming `name`), require `expected` state
// (FAILED_PRECONDITION otherwise; VISIT_STATE_UNSPECIFIED: any), let `change` edit it (it may also
// write, e.g. bookings, in the same transaction; its error aborts the whole change), store it and
// record `event` in the outbox. `result` gets the new visit. ChangeVisitIn runs in the caller's
// transaction, ChangeVisit in its own.
using VisitChange = std::function<absl::Status(storage::Transaction&, v1::Visit&)>;
absl::Status ChangeVisitIn(storage::Transaction& tx, absl::Time now, const std::string& id,
                           const std::string& name, v1::VisitState expected,
                           const std::string& event, const VisitChange& change, v1::Visit* result);
absl::Status ChangeVisit(storage::Database& db, absl::Time now, const std::string& id,
                         const std::string& name, v1::VisitState expected, const std::string& event,
                         const VisitChange& change, v1::Visit* result);

// A change of one visit that edits only the visit itself (check-in, check-out), so that
// concurrent ones can share a transaction (storage::GroupCommit, keyed by visit): the rules of
// ChangeVisit, applied to a whole batch by ChangeVisitsTogether.
struct PendingVisitChange {
  std::string id;    // visit id
  std::string name;  // "visits/ID", for errors
  // Required state; VISIT_STATE_UNSPECIFIED: `change` checks the state itself.
  v1::VisitState expected = v1::VISIT_STATE_UNSPECIFIED;
  // Outbox event type; `change` may set it (the outcome can decide it).
  std::string event;
  absl::Time now;
  std::function<absl::Status(v1::Visit&)> change;
  // Outcome. `conflicted`: the visit changed between the read and the write (another replica,
  // a sweep); nothing was stored for it and the caller submits it again.
  absl::Status status;
  bool conflicted = false;
  v1::Visit result;
  const std::string& key() const { return id; }
};
// Applies a batch of changes of distinct visits in one transaction: one read of all of them, one
// UPDATE of all the changed ones guarded by the state and version each was read with, one outbox
// insert, and one release of the slots of booked visits the batch finished (completed): five
// statements however many visits. Only when another transaction changed one of the visits
// between the read and the write is the batch rolled back and run again with a guarded UPDATE
// per visit, so that the changed one is told apart (`conflicted`) and the others are stored.
// An item that is not found, is in the wrong state or whose change refuses fails alone (it
// writes nothing, the others go on); a database failure fails them all (nothing of the batch is
// stored).
//
// With a `cache`, visits found in it are not read: the row this process stored last is used,
// and the guarded UPDATE confirms it is still current (every change of a visit increments its
// version, so the same version means the same row). A cached visit that turns out changed, or
// whose change refuses on the cached row, sends the batch to the second run on freshly read
// rows, so the cache never decides an outcome. Afterwards the committed visits still in progress
// are cached (the check-out after a check-in needs no read) and the others dropped.
class VisitCache;
void ChangeVisitsTogether(storage::Database& db, const std::vector<PendingVisitChange*>& batch,
                          VisitCache* cache = nullptr);

// Visits as this process last stored them, by id; shared by the threads of one service. A hint
// only (see ChangeVisitsTogether): other replicas and other writers do not update it. Holds at
// most `capacity` visits (in progress ones: a street has a few hundred at a time).
class VisitCache {
 public:
  explicit VisitCache(size_t capacity = 10000) : capacity_(capacity) {}
  std::optional<VisitRow> Find(const std::string& id) const;
  void Put(VisitRow row);
  void Erase(const std::string& id);

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, VisitRow> rows_;
};

// --- Bookings ---------------------------------------------------------------------------------
// A booking holds one row per minute it touches, keyed by (worker, minute): two bookings of one
// worker that overlap share the minute in which the later one starts, so the database's primary
// key refuses the second one, in whichever process or replica it is attempted. Times are rounded
// outwards to whole minutes (plans book whole-minute starts). Rows of visits that are over
// (completed, missed, cancelled) are deleted, so the table holds the bookings still to come.
inline constexpr int kBookingSlotMinutes = 1;

// Books `worker` ("workers/…") on visit `visit_id` for [start, end). FAILED_PRECONDITION with
// reason ERROR_REASON_WORKER_DOUBLE_BOOKED when it overlaps another booking of the worker.
absl::Status BookWorker(storage::Transaction& tx, const std::string& worker,
                        const std::string& visit_id, absl::Time start, absl::Time end);
// Frees the slots of one worker on one visit, or (worker empty) of every worker on the visit.
absl::Status ReleaseBookings(storage::Transaction& tx, const std::string& visit_id,
                             const std::string& worker = "");
// Ids of visits the worker has slots on within [from, to), without duplicates.
absl::StatusOr<std::vector<std::string>> BookedVisitIds(storage::Transaction& tx,
                                                        const std::string& worker, absl::Time from,
                                                        absl::Time to);

// --- Visit notes --------------------------------------------------------------------------------
// Workers' notes on visits, in their own table: never part of the visit's data or its events.

// The text is stored only sealed (`sealed_text`, see visit_notes.h); note.text() is not stored.
absl::Status InsertVisitNote(storage::Transaction& tx, const std::string& id,
                             const std::string& visit_id, const v1::VisitNote& note,
                             const std::string& sealed_text);
struct StoredVisitNote {
  std::string id;
  std::string visit_id;
  v1::VisitNote note;  // without text
  bool sealed = true;  // false: a row from before migration 8 not sealed yet, `text` is plain
  std::string text;    // the sealed token (or the legacy plain text)
};
// The visit's notes, oldest first, at most `limit`.
absl::StatusOr<std::vector<StoredVisitNote>> QueryVisitNotes(storage::Transaction& tx,
                                                             const std::string& visit_id,
                                                             int limit);

// Notes stored before migration 8 with their text in plain: id > `after_id`, by id, at most
// `limit`; `text` is the plain text.
absl::StatusOr<std::vector<StoredVisitNote>> QueryPlainVisitNotes(storage::Transaction& tx,
                                                                  const std::string& after_id,
                                                                  int limit);
// Stores note `id`'s sealed text and empties its plain column, only while it is still unsealed:
// false when another replica sealed it first.
absl::StatusOr<bool> SealVisitNote(storage::Transaction& tx, const std::string& id,
                                   const std::string& sealed_text);

// Fills the owner_organisation column of commitments stored before it existed (migration 6)
// from their data; returns how many rows changed. Cheap when there is nothing to do; run at
// start-up.
absl::StatusOr<int> BackfillCommitmentOwners(storage::Database& db);

struct VisitFilter {
  std::string commitment_id;  // "" = any
  std::string elder;          // "" = any
  int64_t from_us = INT64_MIN;
  int64_t to_us = INT64_MAX;
  int state = 0;                        // 0 = any
  std::string owner_organisation = "";  // "organisations/…" owning the commitment; "" = any
};
// Ordered by (window_start_us, id), after the key (after_start_us, after_id).
absl::StatusOr<std::vector<VisitRow>> QueryVisits(storage::Transaction& tx,
                                                  const VisitFilter& filter, int64_t after_start_us,
                                                  const std::string& after_id, int limit);
// The latest completed visit of `commitment_id` (an elder's, `elder`) that started before
// `before_us`, or nullopt: who came last time, for continuity.
absl::StatusOr<std::optional<VisitRow>> LastCompletedVisit(storage::Transaction& tx,
                                                           const std::string& elder,
                                                           const std::string& commitment_id,
                                                           int64_t before_us);

// --- Referrals ---------------------------------------------------------------------------------
// One row per referral (referral.h): the proto plus the keys the lists filter on.

// ALREADY_EXISTS when the referral is sent and its promise already has a referral sent.
absl::Status InsertReferral(storage::Transaction& tx, const std::string& id,
                            const v1::Referral& referral);
// Stores the referral only while its stored state is still `expected`: false when another
// transaction (the sweep, another answer) changed it meanwhile.
absl::StatusOr<bool> UpdateReferralIf(storage::Transaction& tx, const std::string& id,
                                      const v1::Referral& referral, v1::ReferralState expected);
absl::StatusOr<std::optional<v1::Referral>> FindReferral(storage::Transaction& tx,
                                                         const std::string& id);
// The promise's referral that is sent now, if any.
absl::StatusOr<std::optional<v1::Referral>> FindOpenReferral(storage::Transaction& tx,
                                                             const std::string& commitment_id);
// The referral that created `provider_commitment_id`, if any.
absl::StatusOr<std::optional<v1::Referral>> FindReferralOfProviderCommitment(
    storage::Transaction& tx, const std::string& provider_commitment_id);

struct ReferralFilter {
  std::string region;             // committee or street "regions/…"; "" = any
  std::string to_organisation;    // "" = any
  std::string from_organisation;  // "" = any
  std::string commitment_id;      // "" = any
  std::vector<int> states;        // empty = any
};
// Newest first (by id, descending), ids below `before_id` ("" = from the newest).
absl::StatusOr<std::vector<v1::Referral>> QueryReferrals(storage::Transaction& tx,
                                                         const ReferralFilter& filter,
                                                         const std::string& before_id, int limit);
// Referrals in `state` with id > after_id, oldest first (for the sweep).
absl::StatusOr<std::vector<v1::Referral>> ReferralsInState(storage::Transaction& tx,
                                                           v1::ReferralState state,
                                                           const std::string& after_id, int limit);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_SCHEDULING_STORE_H_
