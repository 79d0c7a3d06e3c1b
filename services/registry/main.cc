// linli-registry: the 条块 map (regions today; lines, organisations, services, elders next).
#include "absl/flags/flag.h"
#include "common/auth/internal_identity.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/pii/field_cipher.h"
#include "common/service_main.h"
#include "services/registry/registry_service.h"
#include "services/registry/registry_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC listen address (host:port).");
ABSL_FLAG(std::string, db, "sqlite:var/registry.db",
          "Database URL: sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB.");
ABSL_FLAG(std::string, pii_key_file, "",
          "File holding the keyring that seals personal data (a mounted secret): entries "
          "KEYID:BASE64KEY separated by commas or newlines, the first one active; optional "
          "index:BASE64KEY for blind indexes. `linli keygen` prints one. Required.");

int main(int argc, char** argv) {
  linli::BlockTerminationSignals();
  linli::SetLogService("registry");
  linli::ParseFlags(argc, argv, "linli-registry: the 条块 map of regions. Flags: --listen --db");
  const auto identity = linli::auth::InternalIdentityFromFlagsOrExit();
  auto db = linli::OpenAndMigrateOrExit(absl::GetFlag(FLAGS_db), "registry",
                                        linli::registry::RegistryMigrations());
  const linli::pii::FieldCipher keyring = linli::LoadKeyringOrExit(
      absl::GetFlag(FLAGS_pii_key_file),
      "personal data is never stored unencrypted; create one with `linli keygen`");
  linli::registry::RegistryServiceImpl service(*db, linli::Clock::Real(), keyring);
  linli::ServerOptions options =
      linli::ServerOptionsFromFlags("registry", absl::GetFlag(FLAGS_listen),
                                    {linli::registry::v1::RegistryService::service_full_name()});
  linli::auth::ServeInternally(options, identity, linli::Clock::Real());
  return linli::ServeUntilSignal(options, {&service});
}
