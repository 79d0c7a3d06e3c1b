// Test support: a registry on a fresh database of one backend, served by a real gRPC server on
// a loopback port, with a stub to call it.
//
//   absl::StatusOr<std::unique_ptr<RegistryTestServer>> r =
//       RegistryTestServer::Start("mysql", "x", clock);
//   (*r)->stub->GetRegion(&context, request, &response);
#ifndef LINLI_TESTS_SUPPORT_REGISTRY_TEST_SERVER_H_
#define LINLI_TESTS_SUPPORT_REGISTRY_TEST_SERVER_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/pii/field_cipher.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "services/registry/registry_service.h"
#include "services/registry/registry_store.h"
#include "tests/support/test_env.h"

namespace linli::registry {

struct RegistryTestServer {
  std::string url;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<pii::FieldCipher> cipher;
  std::unique_ptr<RegistryServiceImpl> service;
  std::unique_ptr<GrpcServer> server;
  std::unique_ptr<v1::RegistryService::Stub> stub;

  // `clock` outlives the server.
  static absl::StatusOr<std::unique_ptr<RegistryTestServer>> Start(const std::string& backend,
                                                                   const std::string& label,
                                                                   const Clock& clock) {
    auto r = std::make_unique<RegistryTestServer>();
    ASSIGN_OR_RETURN(r->url, testing::FreshDatabaseUrl(backend, label));
    ASSIGN_OR_RETURN(r->db, storage::OpenDatabase(r->url));
    RETURN_IF_ERROR(storage::ApplyMigrations(*r->db, "registry", RegistryMigrations()));
    ASSIGN_OR_RETURN(pii::FieldCipher cipher,
                     pii::FieldCipher::FromSpec(pii::FieldCipher::GenerateKeySpec("k1")));
    r->cipher = std::make_unique<pii::FieldCipher>(std::move(cipher));
    r->service = std::make_unique<RegistryServiceImpl>(*r->db, clock, *r->cipher);
    ServerOptions options;
    options.service_name = "registry";
    options.listen_address = "127.0.0.1:0";
    options.health_service_names = {v1::RegistryService::service_full_name()};
    ASSIGN_OR_RETURN(r->server, GrpcServer::Start(options, {r->service.get()}));
    r->stub =
        v1::RegistryService::NewStub(NewChannel(absl::StrCat("127.0.0.1:", r->server->port()), {}));
    return r;
  }
};

}  // namespace linli::registry

#endif  // LINLI_TESTS_SUPPORT_REGISTRY_TEST_SERVER_H_
