// The registry's application layer: one use case per RPC. Each checks the shape of its request,
// opens the transaction (idempotent for the mutating ones, common/idempotency.h), resolves
// references through the store and leaves the rules to the domain (region, catalogue, elder, map,
// providers). No gRPC: statuses are absl::Status, converted by the adapter (registry_service).
// The implementation is split by topic: registry_app.cc (regions), registry_app_catalogue.cc
// (lines, organisations, relations, services, offerings, workers), registry_app_records.cc
// (importing rosters of those), registry_app_elders.cc (elders, personal data, audit),
// registry_app_map.cc (the map and provider search).
#ifndef LINLI_SERVICES_REGISTRY_REGISTRY_APP_H_
#define LINLI_SERVICES_REGISTRY_REGISTRY_APP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/audit.h"
#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli::registry {

class Registry {
 public:
  // `cipher` seals personal data (elders', workers' phones); all three must outlive the registry.
  Registry(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher)
      : db_(db), clock_(clock), cipher_(cipher) {}

#define LINLI_USE_CASE(Method) \
  absl::Status Method(const v1::Method##Request& request, v1::Method##Response* response)
  LINLI_USE_CASE(CreateRegion);
  LINLI_USE_CASE(GetRegion);
  LINLI_USE_CASE(ListRegions);
  LINLI_USE_CASE(CreateLine);
  LINLI_USE_CASE(ListLines);
  LINLI_USE_CASE(CreateOrganisation);
  LINLI_USE_CASE(GetOrganisation);
  LINLI_USE_CASE(ListOrganisations);
  LINLI_USE_CASE(CreateRelation);
  LINLI_USE_CASE(ListRelations);
  LINLI_USE_CASE(CreateServiceType);
  LINLI_USE_CASE(ListServiceTypes);
  LINLI_USE_CASE(CreateOffering);
  LINLI_USE_CASE(ListOfferings);
  LINLI_USE_CASE(UpdateOffering);
  LINLI_USE_CASE(ListElders);
  LINLI_USE_CASE(ListWorkers);
  LINLI_USE_CASE(GetWorker);
  LINLI_USE_CASE(GetMap);
  LINLI_USE_CASE(SearchProviders);
  LINLI_USE_CASE(ListAuditEntries);
  LINLI_USE_CASE(UpdateOrganisation);
  LINLI_USE_CASE(RetireOrganisation);
  LINLI_USE_CASE(RetireRelation);
  LINLI_USE_CASE(RetireOffering);
  LINLI_USE_CASE(UpdateServiceType);
  LINLI_USE_CASE(RetireServiceType);
#undef LINLI_USE_CASE

  // Use cases that record who acted: consents stamped with the caller, full reads and erasures
  // audited in the transaction that makes them (no audit, no data).
  absl::Status CreateElder(const v1::CreateElderRequest& request, const Caller& caller,
                           v1::CreateElderResponse* response);
  absl::Status ImportElders(const v1::ImportEldersRequest& request, const Caller& caller,
                            v1::ImportEldersResponse* response);
  // Looks elders up by ID number; each one found is audited as a read of its ID number.
  absl::Status FindEldersByIdNumber(const v1::FindEldersByIdNumberRequest& request,
                                    const Caller& caller,
                                    v1::FindEldersByIdNumberResponse* response);
  absl::Status GetElder(const v1::GetElderRequest& request, const Caller& caller,
                        v1::GetElderResponse* response);
  absl::Status EraseElder(const v1::EraseElderRequest& request, const Caller& caller,
                          v1::EraseElderResponse* response);
  // Corrections, consent decisions and retirement: each change of personal data is audited with
  // the caller and the request's reason in the transaction that makes it.
  absl::Status UpdateElder(const v1::UpdateElderRequest& request, const Caller& caller,
                           v1::UpdateElderResponse* response);
  absl::Status RecordConsent(const v1::RecordConsentRequest& request, const Caller& caller,
                             v1::RecordConsentResponse* response);
  absl::Status RetireElder(const v1::RetireElderRequest& request, const Caller& caller,
                           v1::RetireElderResponse* response);
  // Workers' phones are personal data too: each write of one is audited with the caller.
  absl::Status CreateWorker(const v1::CreateWorkerRequest& request, const Caller& caller,
                            v1::CreateWorkerResponse* response);
  absl::Status UpdateWorker(const v1::UpdateWorkerRequest& request, const Caller& caller,
                            v1::UpdateWorkerResponse* response);
  // Looks an organisation's workers up by phone; each one found is audited as a read of its
  // phone.
  absl::Status FindWorkersByPhone(const v1::FindWorkersByPhoneRequest& request,
                                  const Caller& caller, v1::FindWorkersByPhoneResponse* response);
  // Rosters of organisations, relations, offerings or workers (registry_app_records.cc): each
  // row checked and written as the Create method of its kind does.
  absl::Status ImportRecords(const v1::ImportRecordsRequest& request, const Caller& caller,
                             v1::ImportRecordsResponse* response);

 private:
  storage::Database& db_;
  const Clock& clock_;
  const pii::FieldCipher& cipher_;
};

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_REGISTRY_APP_H_
