// gRPC adapter of the registry: proto in/out, validation, status mapping. Behaviour lives in
// region.{h,cc} (rules) and registry_store.{h,cc} (tables).
#ifndef LINLI_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
#define LINLI_SERVICES_REGISTRY_REGISTRY_SERVICE_H_

#include "common/clock.h"
#include "common/storage/database.h"
#include "linli/registry/v1/registry.grpc.pb.h"

namespace linli::registry {

class RegistryServiceImpl final : public v1::RegistryService::Service {
 public:
  RegistryServiceImpl(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  grpc::Status CreateRegion(grpc::ServerContext* context, const v1::CreateRegionRequest* request,
                            v1::CreateRegionResponse* response) override;
  grpc::Status GetRegion(grpc::ServerContext* context, const v1::GetRegionRequest* request,
                         v1::GetRegionResponse* response) override;
  grpc::Status ListRegions(grpc::ServerContext* context, const v1::ListRegionsRequest* request,
                           v1::ListRegionsResponse* response) override;

 private:
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
