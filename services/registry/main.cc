// linli-registry: the 条块 map (regions today; lines, organisations, services, elders next).
#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/service_main.h"
#include "services/registry/registry_service.h"
#include "services/registry/registry_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC listen address (host:port).");
ABSL_FLAG(std::string, db, "sqlite:var/registry.db",
          "Database URL: sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB.");

int main(int argc, char** argv) {
  linli::BlockTerminationSignals();
  linli::SetLogService("registry");
  linli::ParseFlags(argc, argv, "linli-registry: the 条块 map of regions. Flags: --listen --db");
  auto db = linli::OpenAndMigrateOrExit(absl::GetFlag(FLAGS_db), "registry",
                                        linli::registry::RegistryMigrations());
  linli::registry::RegistryServiceImpl service(*db, linli::Clock::Real());
  return linli::ServeUntilSignal(
      linli::ServerOptionsFromFlags("registry", absl::GetFlag(FLAGS_listen),
                                    {linli::registry::v1::RegistryService::service_full_name()}),
      {&service});
}
