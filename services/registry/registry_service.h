// gRPC adapter of the registry: each handler hands its request to the use case of the same name
// (registry_app.h), with the caller read from the call's metadata, and turns the result into the
// wire status (Reply). Use cases live in registry_app*, rules in region / catalogue / elder / map /
// providers (pure C++), tables in registry_store.
#ifndef LINLI_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
#define LINLI_SERVICES_REGISTRY_REGISTRY_SERVICE_H_

#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "services/registry/registry_app.h"

namespace linli::registry {

class RegistryServiceImpl final : public v1::RegistryService::Service {
 public:
  // `cipher` seals personal data (elders', workers' phones); all three must outlive the service.
  RegistryServiceImpl(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher)
      : registry_(db, clock, cipher) {}

#define LINLI_RPC(Method)                                                               \
  grpc::Status Method(grpc::ServerContext* context, const v1::Method##Request* request, \
                      v1::Method##Response* response) override
  LINLI_RPC(CreateRegion);
  LINLI_RPC(GetRegion);
  LINLI_RPC(ListRegions);
  LINLI_RPC(CreateLine);
  LINLI_RPC(ListLines);
  LINLI_RPC(CreateOrganisation);
  LINLI_RPC(GetOrganisation);
  LINLI_RPC(ListOrganisations);
  LINLI_RPC(CreateRelation);
  LINLI_RPC(ListRelations);
  LINLI_RPC(CreateServiceType);
  LINLI_RPC(ListServiceTypes);
  LINLI_RPC(CreateOffering);
  LINLI_RPC(ListOfferings);
  LINLI_RPC(UpdateOffering);
  LINLI_RPC(CreateElder);
  LINLI_RPC(ImportElders);
  LINLI_RPC(FindEldersByIdNumber);
  LINLI_RPC(FindWorkersByPhone);
  LINLI_RPC(GetElder);
  LINLI_RPC(ListElders);
  LINLI_RPC(EraseElder);
  LINLI_RPC(CreateWorker);
  LINLI_RPC(ListWorkers);
  LINLI_RPC(GetWorker);
  LINLI_RPC(GetMap);
  LINLI_RPC(SearchProviders);
  LINLI_RPC(ListAuditEntries);
  LINLI_RPC(UpdateOrganisation);
  LINLI_RPC(RetireOrganisation);
  LINLI_RPC(UpdateWorker);
  LINLI_RPC(UpdateElder);
  LINLI_RPC(RecordConsent);
  LINLI_RPC(RetireElder);
  LINLI_RPC(RetireRelation);
  LINLI_RPC(RetireOffering);
  LINLI_RPC(UpdateServiceType);
  LINLI_RPC(RetireServiceType);
  LINLI_RPC(ImportRecords);
#undef LINLI_RPC

 private:
  Registry registry_;
};

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
