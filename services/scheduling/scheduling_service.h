// gRPC adapter of scheduling: each handler checks the request's form, calls a use case and maps
// its absl::Status to gRPC. The use cases (plan_use_case, commitment_, visit_, booking_,
// note_use_cases, fallback_use_case) open the transactions and ask the registry through
// RegistryView (GrpcRegistryView here); the rules are pure C++ with unit tests (plan_problem,
// commitment, availability, staffing, visit_check, visit_rules, fallback); the tables are in
// scheduling_store.{h,cc}. Every change to a visit records its event in the outbox in the same
// transaction.
#ifndef LINLI_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
#define LINLI_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "common/storage/group_commit.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/visit_check.h"

namespace linli::scheduling {

struct SchedulingOptions {
  // Deadline of each registry call (shortened to the caller's deadline when that is sooner).
  absl::Duration backend_timeout = absl::Seconds(5);
  // A check-in or check-out farther than this from the elder's home is an OUTSIDE_GEOFENCE
  // exception. The home scheduling knows is the registry's masked location (rounded to 0.001
  // degree), so kGeofenceRoundingSlackMeters is added to the radius.
  double geofence_radius_m = 200;
  // Check-ins/outs arriving together share a transaction (storage::GroupCommit); this many such
  // transactions run at once. 0: one on SQLite (its writers queue anyway), two otherwise.
  int parallel_visit_commits = 0;
  // How long a check-in/out that would start a transaction while another one is running waits
  // for more to join it (storage::GroupCommit's gather time). Negative: the default (none on
  // SQLite, 100 microseconds otherwise).
  absl::Duration visit_commit_gather = absl::Microseconds(-1);
};

class SchedulingServiceImpl final : public v1::SchedulingService::Service {
 public:
  // `registry` confirms that the elder, organisation, service and workers named exist; `cipher`
  // (the personal-data keyring) seals visit notes. `db`, `clock` and `cipher` must outlive the
  // service.
  SchedulingServiceImpl(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher,
                        std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
                        SchedulingOptions options = {})
      : db_(db),
        clock_(clock),
        cipher_(cipher),
        registry_(std::move(registry)),
        options_(options),
        visit_changes_(
            kVisitChangesPerCommit,
            options.parallel_visit_commits > 0
                ? static_cast<size_t>(options.parallel_visit_commits)
                : (db.dialect() == storage::Dialect::kSqlite ? 1 : 2),
            [this](const std::vector<PendingVisitChange*>& batch) {
              ChangeVisitsTogether(db_, batch, &visit_cache_);
            },
            options.visit_commit_gather >= absl::ZeroDuration()
                ? options.visit_commit_gather
                : (db.dialect() == storage::Dialect::kSqlite ? absl::ZeroDuration()
                                                             : absl::Microseconds(100))) {}

#define LINLI_RPC(Method)                                                               \
  grpc::Status Method(grpc::ServerContext* context, const v1::Method##Request* request, \
                      v1::Method##Response* response) override
  LINLI_RPC(ListEvents);
  LINLI_RPC(CreateCommitment);
  LINLI_RPC(GetCommitment);
  LINLI_RPC(ListCommitments);
  LINLI_RPC(CancelCommitment);
  LINLI_RPC(MaterializeVisits);
  LINLI_RPC(ListVisits);
  LINLI_RPC(GetVisit);
  LINLI_RPC(CancelVisit);
  LINLI_RPC(ReviewVisit);
  LINLI_RPC(RescheduleVisit);
  LINLI_RPC(CheckInVisit);
  LINLI_RPC(CheckOutVisit);
  LINLI_RPC(SweepMissedVisits);
  LINLI_RPC(AssignVisit);
  LINLI_RPC(UnassignVisit);
  LINLI_RPC(SwapVisitWorkers);
  LINLI_RPC(ReleaseWorker);
  LINLI_RPC(MakeUpVisit);
  LINLI_RPC(DeclineMakeUp);
  LINLI_RPC(ProposeFallback);
  LINLI_RPC(CreateReferral);
  LINLI_RPC(GetReferral);
  LINLI_RPC(ListReferrals);
  LINLI_RPC(AnswerReferral);
  LINLI_RPC(CompleteReferral);
  LINLI_RPC(WithdrawReferral);
  LINLI_RPC(ListUnmetNeeds);
  LINLI_RPC(Plan);
  LINLI_RPC(ListWorkerVisits);
  LINLI_RPC(AddVisitNote);
  LINLI_RPC(ListVisitNotes);
  LINLI_RPC(ListAuditEntries);
  LINLI_RPC(ImportVisits);
  LINLI_RPC(ImportCommitments);
#undef LINLI_RPC

  // The persistence of CheckInVisit / CheckOutVisit without the RPC layer (validation, rules,
  // one transaction with the outbox event); `result` gets the visit.
  // `recorder`: the caller, kept as the check's recorded_by when the method is not the worker's
  // app GPS.
  absl::Status CheckIn(const v1::CheckInVisitRequest& request, v1::Visit* result,
                       const std::string& recorder = "");
  absl::Status CheckOut(const v1::CheckOutVisitRequest& request, v1::Visit* result,
                        const std::string& recorder = "");

  // Transactions the check-ins/outs have run so far and the check-ins/outs they carried (for
  // benchmarks and metrics: their quotient is the mean group-commit batch).
  std::pair<int64_t, int64_t> VisitCommitCounts() const { return visit_changes_.Counts(); }

  // Marks scheduled visits whose window plus tolerance has passed as missed; returns how many.
  // The server calls it periodically; SweepMissedVisits calls it on demand.
  absl::StatusOr<int> SweepMissed();
  // SweepMissed, then expires the referrals nobody answered in time and marks in service the
  // accepted ones whose provider checked in (referral_use_cases.h). The server's periodic sweep.
  absl::StatusOr<v1::SweepMissedVisitsResponse> Sweep();

 private:
  // Applies a check-in/out through the group commit (concurrent ones share a transaction); one
  // that met a concurrent change of its visit is retried alone.
  absl::Status ChangeVisitGrouped(PendingVisitChange& change, v1::Visit* result);

  storage::Database& db_;
  const Clock& clock_;
  const pii::FieldCipher& cipher_;
  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  SchedulingOptions options_;
  // At most this many check-ins/outs share one transaction.
  static constexpr size_t kVisitChangesPerCommit = 32;
  // Visits this replica put in progress (the check-out after a check-in skips the read); declared
  // before visit_changes_, whose batches use it.
  VisitCache visit_cache_;
  storage::GroupCommit<PendingVisitChange> visit_changes_;
};

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_SCHEDULING_SERVICE_H_
