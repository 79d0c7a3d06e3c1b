// linli-scheduling: care commitments, visits and plans (today: the event outbox).
#include "absl/flags/flag.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/service_main.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50052", "gRPC listen address (host:port).");
ABSL_FLAG(std::string, db, "sqlite:var/scheduling.db",
          "Database URL: sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB.");

int main(int argc, char** argv) {
  linli::BlockTerminationSignals();
  linli::SetLogService("scheduling");
  linli::ParseFlags(argc, argv, "linli-scheduling: commitments and visits. Flags: --listen --db");
  auto db = linli::OpenAndMigrateOrExit(absl::GetFlag(FLAGS_db), "scheduling",
                                        linli::scheduling::SchedulingMigrations());
  linli::scheduling::SchedulingServiceImpl service(*db, linli::Clock::Real());
  return linli::ServeUntilSignal(
      linli::ServerOptionsFromFlags(
          "scheduling", absl::GetFlag(FLAGS_listen),
          {linli::scheduling::v1::SchedulingService::service_full_name()}),
      {&service});
}
