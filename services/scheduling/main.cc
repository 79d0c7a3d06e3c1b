// linli-scheduling: care commitments, visits, bookings, visit verification and the event outbox.
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/auth/internal_identity.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/pii/field_cipher.h"
#include "common/service_main.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "services/scheduling/visit_notes.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50052", "gRPC listen address (host:port).");
ABSL_FLAG(std::string, registry_address, "127.0.0.1:50051", "Address of linli-registry.");
ABSL_FLAG(absl::Duration, sweep_interval, absl::Minutes(1),
          "How often scheduled visits whose window has passed are marked missed.");
ABSL_FLAG(double, geofence_radius_m, 200,
          "Check-ins/outs farther than this (plus 80 m for the masked home location) from the "
          "elder's home are OUTSIDE_GEOFENCE exceptions.");
ABSL_FLAG(std::string, db, "sqlite:var/scheduling.db",
          "Database URL: sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB.");
ABSL_FLAG(std::string, pii_key_file, "",
          "File holding the keyring that seals personal data (workers' visit notes): the same "
          "secret as linli-registry's --pii_key_file, entries KEYID:BASE64KEY, the first one "
          "active. Required.");

int main(int argc, char** argv) {
  linli::BlockTerminationSignals();
  linli::SetLogService("scheduling");
  linli::ParseFlags(
      argc, argv, "linli-scheduling: commitments and visits. Flags: --listen --db --pii_key_file");
  const auto identity = linli::auth::InternalIdentityFromFlagsOrExit();
  // The keyring first: without it nothing is touched, not even the schema.
  const linli::pii::FieldCipher keyring =
      linli::LoadKeyringOrExit(absl::GetFlag(FLAGS_pii_key_file),
                               "visit notes are personal data and are never stored unencrypted; "
                               "use the registry's keyring (`linli keygen` creates one)");
  auto db = linli::OpenAndMigrateOrExit(absl::GetFlag(FLAGS_db), "scheduling",
                                        linli::scheduling::SchedulingMigrations());
  if (absl::StatusOr<int> filled = linli::scheduling::BackfillCommitmentOwners(*db); !filled.ok()) {
    linli::LogError("backfilling commitments' owners failed",
                    {{"error", filled.status().ToString()}});
    return 1;
  }
  if (absl::StatusOr<int> sealed = linli::scheduling::SealPlainVisitNotes(*db, keyring);
      !sealed.ok()) {
    linli::LogError("sealing visit notes stored in plain text failed",
                    {{"error", sealed.status().ToString()}});
    return 1;
  } else if (*sealed > 0) {
    linli::LogInfo("visit notes stored in plain text sealed", {{"count", absl::StrCat(*sealed)}});
  }
  const linli::Clock& clock = linli::Clock::Real();  // injected from here on
  linli::scheduling::SchedulingServiceImpl service(
      *db, clock, keyring,
      linli::registry::v1::RegistryService::NewStub(linli::auth::NewInternalChannel(
          absl::GetFlag(FLAGS_registry_address), "linli-registry",
          {linli::registry::v1::RegistryService::service_full_name()}, identity, clock)),
      {.geofence_radius_m = absl::GetFlag(FLAGS_geofence_radius_m)});
  // Outbox head for /metrics; a consumer's lag is this minus its stored cursor.
  linli::metrics::Registry::Default().AddCallbackGauge(
      "linli_outbox_head_sequence", "Highest event sequence in this service's outbox.", {"outbox"},
      [&db] {
        int64_t head = 0;
        absl::Status read = db->RunInTransaction(
            [&](linli::storage::Transaction& tx) -> absl::Status {
              absl::StatusOr<int64_t> last = linli::scheduling::LastSequence(tx);
              if (last.ok()) head = *last;
              return last.status();
            },
            {.max_attempts = 1, .read_only = true});
        if (!read.ok()) return std::vector<linli::metrics::Sample>{};
        return std::vector<linli::metrics::Sample>{{{"scheduling"}, static_cast<double>(head)}};
      });
  // The sweeper (missed visits, unanswered and started referrals): once a minute until shutdown.
  absl::Notification stopping;
  // Every hour it also seals notes an older replica may have stored in plain text during a
  // rolling upgrade (start-up sealing only covers what was there before this process).
  std::thread sweeper([&] {
    absl::Time next_seal = clock.Now() + absl::Hours(1);
    while (!stopping.WaitForNotificationWithTimeout(absl::GetFlag(FLAGS_sweep_interval))) {
      absl::StatusOr<linli::scheduling::v1::SweepMissedVisitsResponse> swept = service.Sweep();
      if (!swept.ok()) {
        linli::LogWarning("missed-visit sweep failed", {{"error", swept.status().ToString()}});
      } else if (swept->missed() > 0 || swept->referrals_expired() > 0 ||
                 swept->referrals_in_service() > 0) {
        linli::LogInfo("sweep",
                       {{"missed_visits", absl::StrCat(swept->missed())},
                        {"referrals_expired", absl::StrCat(swept->referrals_expired())},
                        {"referrals_in_service", absl::StrCat(swept->referrals_in_service())}});
      }
      if (clock.Now() >= next_seal) {
        next_seal = clock.Now() + absl::Hours(1);
        absl::StatusOr<int> sealed = linli::scheduling::SealPlainVisitNotes(*db, keyring);
        if (!sealed.ok()) {
          linli::LogWarning("sealing plain-text visit notes failed",
                            {{"error", sealed.status().ToString()}});
        } else if (*sealed > 0) {
          linli::LogInfo("visit notes stored in plain text sealed",
                         {{"count", absl::StrCat(*sealed)}});
        }
      }
    }
  });
  linli::ServerOptions options = linli::ServerOptionsFromFlags(
      "scheduling", absl::GetFlag(FLAGS_listen),
      {linli::scheduling::v1::SchedulingService::service_full_name()});
  linli::auth::ServeInternally(options, identity, clock);
  const int exit_code = linli::ServeUntilSignal(options, {&service});
  stopping.Notify();
  sweeper.join();
  return exit_code;
}
