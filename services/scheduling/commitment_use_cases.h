// The commitment use cases: creating one (its elder, owner and service checked against the
// registry), cancelling one with its future visits, and materialising active commitments into
// visits. Each opens its transactions and calls the rules of commitment.h / visit_rules.h and the
// store. No gRPC: the adapter (scheduling_commitments.cc) passes the registry as a RegistryView.
#ifndef LINLI_SERVICES_SCHEDULING_COMMITMENT_USE_CASES_H_
#define LINLI_SERVICES_SCHEDULING_COMMITMENT_USE_CASES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/registry_view.h"
#include "services/scheduling/scheduling_store.h"

namespace linli::scheduling {

// Validates the commitment (after the care-grade defaults), checks its references and stores it
// as active; idempotent by request_id (a retry gets its first answer even when the registry
// cannot be asked now).
absl::Status CreateCommitment(storage::Database& db, const Clock& clock, RegistryView& registry,
                              const v1::CreateCommitmentRequest& request,
                              v1::CreateCommitmentResponse* response);

// Registers a roster of promises (SchedulingService.ImportCommitments): each row given the
// care-grade defaults and checked as CreateCommitment checks one (ValidateCommitment, then
// CheckReferences, each elder, organisation and the service types asked once per call), and, in
// one transaction, a promise not cancelled with the row's elder, service type, owner and
// valid_from found (`existing`, left as it is) or, unless it is a dry run or a row was refused
// (without skip_bad_rows), the row stored as CreateCommitment stores one. A row naming the same
// promise as an earlier row, or a reference the registry does not know or an elder no longer
// served, is a problem of its row. INVALID_ARGUMENT for a request without rows or with more than
// kMaxImportRows; UNAVAILABLE when the registry cannot be asked. Visits are not materialised.
absl::StatusOr<v1::ImportCommitmentsResponse> ImportCommitments(
    storage::Database& db, const Clock& clock, RegistryView& registry,
    const v1::ImportCommitmentsRequest& request);

// INVALID_ARGUMENT naming the field when the registry does not know the elder, owner or service
// type; FAILED_PRECONDITION for an erased elder. Records the elder's (masked) home.
absl::Status CheckReferences(RegistryView& registry, v1::Commitment& commitment);

// Cancels commitment `id` (request.name) and its scheduled visits from now on (their bookings
// freed, each with its event); visits started meanwhile keep their course. Idempotent.
absl::Status CancelCommitment(storage::Database& db, const Clock& clock, const std::string& id,
                              const v1::CancelCommitmentRequest& request,
                              v1::CancelCommitmentResponse* response);

// Ends commitment `id` (read in `tx` as `commitment`) inside `tx`: state CANCELLED, its scheduled
// visits from `now` on cancelled with reason `code` and `note` (bookings freed, each with its
// event), and a referral of it still waiting for an answer withdrawn. Visits started meanwhile
// keep their course. Returns the visits it cancelled.
absl::StatusOr<std::vector<VisitRow>> EndCommitmentIn(storage::Transaction& tx, absl::Time now,
                                                      const std::string& id,
                                                      v1::Commitment& commitment,
                                                      const std::string& code,
                                                      const std::string& note);

// Creates the visits of the active commitments (or of request.commitment) over the requested
// days, once per occurrence: one transaction per commitment, so a failure part-way leaves whole
// commitments done and the call can simply be repeated.
absl::StatusOr<v1::MaterializeVisitsResponse> MaterializeVisits(
    storage::Database& db, const Clock& clock, const v1::MaterializeVisitsRequest& request);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_COMMITMENT_USE_CASES_H_
