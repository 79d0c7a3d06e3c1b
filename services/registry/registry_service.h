// gRPC adapter of the registry: proto in/out, validation, status mapping. Rules live in
// region / catalogue / map (pure C++), tables in registry_store. The implementation is split by
// topic: registry_service.cc (regions), registry_catalogue.cc (lines, organisations, relations,
// services, offerings, workers), registry_elders.cc (elders, personal data, audit),
// registry_map.cc (the map and provider search).
#ifndef LINLI_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
#define LINLI_SERVICES_REGISTRY_REGISTRY_SERVICE_H_

#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"
#include "linli/registry/v1/registry.grpc.pb.h"

namespace linli::registry {

class RegistryServiceImpl final : public v1::RegistryService::Service {
 public:
  // `cipher` seals elders' personal data; all three must outlive the service.
  RegistryServiceImpl(storage::Database& db, const Clock& clock, const pii::FieldCipher& cipher)
      : db_(db), clock_(clock), cipher_(cipher) {}

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
  LINLI_RPC(GetElder);
  LINLI_RPC(ListElders);
  LINLI_RPC(EraseElder);
  LINLI_RPC(CreateWorker);
  LINLI_RPC(ListWorkers);
  LINLI_RPC(GetWorker);
  LINLI_RPC(GetMap);
  LINLI_RPC(SearchProviders);
  LINLI_RPC(ListAuditEntries);
#undef LINLI_RPC

 private:
  storage::Database& db_;
  const Clock& clock_;
  const pii::FieldCipher& cipher_;
};

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
