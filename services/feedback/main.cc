// linli-feedback: feedback, work orders, promise ledger, perception index, alerts (today: the
// event consumer's bookkeeping).
#include "absl/flags/flag.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/service_main.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50053", "gRPC listen address (host:port).");
ABSL_FLAG(std::string, db, "sqlite:var/feedback.db",
          "Database URL: sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB.");

int main(int argc, char** argv) {
  linli::BlockTerminationSignals();
  linli::SetLogService("feedback");
  linli::ParseFlags(argc, argv, "linli-feedback: perception management. Flags: --listen --db");
  auto db = linli::OpenAndMigrateOrExit(absl::GetFlag(FLAGS_db), "feedback",
                                        linli::feedback::FeedbackMigrations());
  linli::feedback::FeedbackServiceImpl service(*db);
  return linli::ServeUntilSignal(
      linli::ServerOptionsFromFlags("feedback", absl::GetFlag(FLAGS_listen),
                                    {linli::feedback::v1::FeedbackService::service_full_name()}),
      {&service});
}
