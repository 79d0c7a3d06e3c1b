#include "common/service_main.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "common/log.h"

ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(10),
          "How long in-flight calls may finish after SIGTERM before they are cancelled.");
ABSL_FLAG(absl::Duration, drain_delay, absl::ZeroDuration(),
          "Time between reporting NOT_SERVING and refusing new calls (set to a few seconds "
          "behind load balancers).");
ABSL_FLAG(absl::Duration, max_connection_age, absl::Minutes(5),
          "Connections older than this are closed gracefully so clients rebalance.");

ABSL_FLAG(std::string, metrics_listen, "",
          "host:port of the HTTP endpoint serving GET /metrics (Prometheus text) and GET /healthz; "
          "empty: no endpoint; port 0 picks a free port (logged as \"metrics listening\").");

ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain: serve the gRPC port over TLS only (with --tls_key_file). For "
          "the gateway's public listener; internal services are called in plaintext inside the "
          "cluster, so leave it empty for them unless every caller is configured for TLS.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file (unencrypted).");

namespace linli {

ServerOptions ServerOptionsFromFlags(std::string service_name, std::string listen_address,
                                     std::vector<std::string> health_service_names) {
  ServerOptions options;
  options.service_name = std::move(service_name);
  options.listen_address = std::move(listen_address);
  options.health_service_names = std::move(health_service_names);
  options.shutdown_deadline = absl::GetFlag(FLAGS_shutdown_deadline);
  options.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  options.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  return options;
}

std::unique_ptr<storage::Database> OpenAndMigrateOrExit(
    const std::string& url, absl::string_view schema,
    const std::vector<storage::Migration>& migrations) {
  absl::StatusOr<std::unique_ptr<storage::Database>> db = storage::OpenDatabase(url);
  if (!db.ok()) {
    LogError("cannot open database",
             {{"db", storage::RedactUrl(url)}, {"error", db.status().ToString()}});
    std::exit(1);
  }
  absl::Status migrated =
      storage::ApplyMigrations(**db, std::string_view(schema.data(), schema.size()), migrations);
  if (!migrated.ok()) {
    LogError("cannot migrate database",
             {{"db", storage::RedactUrl(url)}, {"error", migrated.ToString()}});
    std::exit(1);
  }
  LogInfo("database ready", {{"db", storage::RedactUrl(url)}});
  return std::move(*db);
}

pii::FieldCipher LoadKeyringOrExit(const std::string& key_file, absl::string_view why_required) {
  if (key_file.empty()) {
    LogError(absl::StrCat("--pii_key_file (LINLI_PII_KEY_FILE) is required: ", why_required));
    std::exit(1);
  }
  absl::StatusOr<pii::FieldCipher> cipher = pii::FieldCipher::FromFile(key_file);
  if (!cipher.ok()) {
    LogError("cannot load the personal-data keyring",
             {{"file", key_file}, {"error", cipher.status().ToString()}});
    std::exit(1);
  }
  return std::move(*cipher);
}

int ServeUntilSignal(const ServerOptions& options, const std::vector<grpc::Service*>& services) {
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(options, services);
  if (!server.ok()) {
    LogError("cannot start server", {{"error", server.status().ToString()}});
    return 1;
  }
  WaitForTerminationSignal();
  (*server)->Shutdown();
  return 0;
}

}  // namespace linli
