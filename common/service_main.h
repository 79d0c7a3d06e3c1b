// What every service's main() does, written once: flags shared by all servers, opening and
// migrating the database, serving until SIGTERM/SIGINT.
//
//   int main(int argc, char** argv) {
//     linli::BlockTerminationSignals();
//     linli::ParseFlags(argc, argv, "linli-registry: the 条块 map");  // also umask 077
//     auto db = linli::OpenAndMigrateOrExit(absl::GetFlag(FLAGS_db), "registry", migrations);
//     RegistryServiceImpl service(*db, linli::Clock::Real());
//     return linli::ServeUntilSignal(linli::ServerOptionsFromFlags("registry", listen, {...}),
//                                    {&service});
//   }
#ifndef LINLI_COMMON_SERVICE_MAIN_H_
#define LINLI_COMMON_SERVICE_MAIN_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/pii/field_cipher.h"
#include "common/server.h"
#include "common/storage/database.h"

namespace linli {

// ServerOptions from the shared flags --shutdown_deadline, --drain_delay, --max_connection_age,
// --metrics_listen, --tls_cert_file, --tls_key_file (each also settable as LINLI_<FLAG> in the
// environment).
ServerOptions ServerOptionsFromFlags(std::string service_name, std::string listen_address,
                                     std::vector<std::string> health_service_names);

// Opens `url` and applies `migrations`; logs and exits with status 1 on failure.
std::unique_ptr<storage::Database> OpenAndMigrateOrExit(
    const std::string& url, absl::string_view schema,
    const std::vector<storage::Migration>& migrations);

// The personal-data keyring in `key_file` (the --pii_key_file flag). Logs and exits with status 1
// when the flag is empty (saying "--pii_key_file (LINLI_PII_KEY_FILE) is required: " and
// `why_required`) or the keyring cannot be loaded. Call it before opening the database.
pii::FieldCipher LoadKeyringOrExit(const std::string& key_file, absl::string_view why_required);

// Starts the server, waits for SIGTERM/SIGINT, shuts down gracefully. Returns the process exit
// code: 0 after a clean stop, 1 when the server could not start.
int ServeUntilSignal(const ServerOptions& options, const std::vector<grpc::Service*>& services);

}  // namespace linli

#endif  // LINLI_COMMON_SERVICE_MAIN_H_
