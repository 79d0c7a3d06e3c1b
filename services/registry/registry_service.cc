#include "services/registry/registry_service.h"

#include "common/audit.h"
#include "common/log.h"
#include "common/server.h"

namespace linli::registry {

// Handlers whose use case needs nothing of the call but its request.
#define LINLI_TRANSLATE(Method)                                                \
  grpc::Status RegistryServiceImpl::Method(grpc::ServerContext* context,       \
                                           const v1::Method##Request* request, \
                                           v1::Method##Response* response) {   \
    return Reply(*context, registry_.Method(*request, response));              \
  }
LINLI_TRANSLATE(GetRegion)
LINLI_TRANSLATE(ListRegions)
LINLI_TRANSLATE(CreateLine)
LINLI_TRANSLATE(ListLines)
LINLI_TRANSLATE(CreateOrganisation)
LINLI_TRANSLATE(GetOrganisation)
LINLI_TRANSLATE(ListOrganisations)
LINLI_TRANSLATE(CreateRelation)
LINLI_TRANSLATE(ListRelations)
LINLI_TRANSLATE(CreateServiceType)
LINLI_TRANSLATE(ListServiceTypes)
LINLI_TRANSLATE(CreateOffering)
LINLI_TRANSLATE(ListOfferings)
LINLI_TRANSLATE(UpdateOffering)
LINLI_TRANSLATE(ListElders)
LINLI_TRANSLATE(ListWorkers)
LINLI_TRANSLATE(GetWorker)
LINLI_TRANSLATE(GetMap)
LINLI_TRANSLATE(SearchProviders)
LINLI_TRANSLATE(ListAuditEntries)
LINLI_TRANSLATE(UpdateOrganisation)
LINLI_TRANSLATE(RetireOrganisation)
LINLI_TRANSLATE(RetireRelation)
LINLI_TRANSLATE(RetireOffering)
LINLI_TRANSLATE(UpdateServiceType)
LINLI_TRANSLATE(RetireServiceType)
#undef LINLI_TRANSLATE

// Handlers whose use case records the caller (x-linli-actor) as who acted.
#define LINLI_TRANSLATE_WITH_CALLER(Method)                                           \
  grpc::Status RegistryServiceImpl::Method(grpc::ServerContext* context,              \
                                           const v1::Method##Request* request,        \
                                           v1::Method##Response* response) {          \
    return Reply(*context, registry_.Method(*request, CallerOf(*context), response)); \
  }
LINLI_TRANSLATE_WITH_CALLER(CreateElder)
LINLI_TRANSLATE_WITH_CALLER(ImportElders)
LINLI_TRANSLATE_WITH_CALLER(FindEldersByIdNumber)
LINLI_TRANSLATE_WITH_CALLER(FindWorkersByPhone)
LINLI_TRANSLATE_WITH_CALLER(GetElder)
LINLI_TRANSLATE_WITH_CALLER(EraseElder)
LINLI_TRANSLATE_WITH_CALLER(UpdateElder)
LINLI_TRANSLATE_WITH_CALLER(RecordConsent)
LINLI_TRANSLATE_WITH_CALLER(RetireElder)
LINLI_TRANSLATE_WITH_CALLER(CreateWorker)
LINLI_TRANSLATE_WITH_CALLER(UpdateWorker)
LINLI_TRANSLATE_WITH_CALLER(ImportRecords)
#undef LINLI_TRANSLATE_WITH_CALLER

grpc::Status RegistryServiceImpl::CreateRegion(grpc::ServerContext* context,
                                               const v1::CreateRegionRequest* request,
                                               v1::CreateRegionResponse* response) {
  absl::Status status = registry_.CreateRegion(*request, response);
  if (status.ok()) {
    LogInfo("region created",
            {{"region", response->region().name()}, {"request_id", RequestId(*context)}});
  }
  return Reply(*context, status);
}

}  // namespace linli::registry
