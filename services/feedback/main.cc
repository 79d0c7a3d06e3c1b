// linli-feedback: visit feedback, work orders, promise ledger, perception index, alerts and
// evaluation reports, fed by scheduling's event stream.
#include <algorithm>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/auth/internal_identity.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/service_main.h"
#include "services/feedback/consumer.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "services/feedback/registry_directory.h"
#include "services/feedback/webhook_sender.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50053", "gRPC listen address (host:port).");
ABSL_FLAG(std::string, db, "sqlite:var/feedback.db",
          "Database URL: sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB.");
ABSL_FLAG(std::string, registry_address, "127.0.0.1:50051",
          "Address of linli-registry (elder facts, routing along relations).");
ABSL_FLAG(std::string, scheduling_address, "127.0.0.1:50052",
          "Address of linli-scheduling (event stream, commitments).");
ABSL_FLAG(absl::Duration, poll_interval, absl::Seconds(1),
          "How often scheduling's event stream is polled once caught up.");
ABSL_FLAG(std::string, pii_key_file, "",
          "File holding the keyring that seals personal data (the elders' words in answers and "
          "work orders): the same secret as linli-registry's --pii_key_file, entries "
          "KEYID:BASE64KEY, the first one active. Required.");
ABSL_FLAG(absl::Duration, alert_interval, absl::Minutes(5),
          "How often the safety-net checks run (no contact, falling index, overdue work orders).");
ABSL_FLAG(absl::Duration, notice_interval, absl::Minutes(1),
          "How often visits running late or with nobody coming, and safety alerts nobody "
          "acknowledged, are looked for (notices).");
ABSL_FLAG(int, webhook_senders, 8,
          "Webhook deliveries sent at once (each to another webhook or recipient), 1-64.");
ABSL_FLAG(int, webhook_per_endpoint, 4,
          "Of them at most this many to one webhook, 1-webhook_senders.");

int main(int argc, char** argv) {
  linli::BlockTerminationSignals();
  linli::SetLogService("feedback");
  linli::ParseFlags(argc, argv,
                    "linli-feedback: perception management. Flags: --listen --db "
                    "--registry_address --scheduling_address --pii_key_file --poll_interval "
                    "--alert_interval --notice_interval");
  const auto identity = linli::auth::InternalIdentityFromFlagsOrExit();
  // The keyring first: without it nothing is touched, not even the schema.
  const linli::pii::FieldCipher keyring = linli::LoadKeyringOrExit(
      absl::GetFlag(FLAGS_pii_key_file),
      "the elders' words in answers and complaints are personal data and are never stored "
      "unencrypted; use the registry's keyring (`linli keygen` creates one)");
  const linli::Clock& clock = linli::Clock::Real();  // injected from here on
  auto db = linli::OpenAndMigrateOrExit(absl::GetFlag(FLAGS_db), "feedback",
                                        linli::feedback::FeedbackMigrations());
  if (absl::StatusOr<int> sealed = linli::feedback::SealPlainFeedbackTexts(*db, keyring);
      !sealed.ok()) {
    linli::LogError("sealing answers and work orders stored in plain bytes failed",
                    {{"error", sealed.status().ToString()}});
    return 1;
  } else if (*sealed > 0) {
    linli::LogInfo("answers and work orders stored in plain bytes sealed",
                   {{"count", absl::StrCat(*sealed)}});
  }
  if (absl::StatusOr<int> filled = linli::feedback::BackfillWorkOrderElders(*db, keyring);
      !filled.ok()) {
    linli::LogError("backfilling work orders' elders failed",
                    {{"error", filled.status().ToString()}});
    return 1;
  }
  std::shared_ptr<linli::registry::v1::RegistryService::Stub> registry =
      linli::registry::v1::RegistryService::NewStub(linli::auth::NewInternalChannel(
          absl::GetFlag(FLAGS_registry_address), "linli-registry",
          {linli::registry::v1::RegistryService::service_full_name()}, identity, clock));
  std::unique_ptr<linli::scheduling::v1::SchedulingService::Stub> scheduling =
      linli::scheduling::v1::SchedulingService::NewStub(linli::auth::NewInternalChannel(
          absl::GetFlag(FLAGS_scheduling_address), "linli-scheduling",
          {linli::scheduling::v1::SchedulingService::service_full_name()}, identity, clock));
  linli::feedback::FeedbackServiceImpl service(*db, clock, keyring, registry);
  linli::feedback::RpcFacts facts(registry.get(), scheduling.get());
  linli::feedback::EventApplier applier(*db, facts, clock, &service.notices());
  linli::feedback::SchedulingConsumer consumer(*db, applier, scheduling.get());

  absl::Notification stopping;
  // The phone numbers a street's text-message provider is given (deliver_phone webhooks).
  linli::feedback::RegistryDirectory phone_book(*registry, nullptr, absl::Seconds(5));
  linli::feedback::WebhookSenderOptions sending;
  sending.senders = std::clamp(absl::GetFlag(FLAGS_webhook_senders), 1, 64);
  sending.per_webhook = std::clamp(absl::GetFlag(FLAGS_webhook_per_endpoint), 1, sending.senders);
  linli::feedback::WebhookSender sender(*db, clock, keyring, service.notices().signal(),
                                        &phone_book, sending);
  std::thread sender_thread([&] { sender.RunUntil(stopping, absl::Seconds(1)); });
  std::thread notice_thread([&] {
    while (!stopping.WaitForNotificationWithTimeout(absl::GetFlag(FLAGS_notice_interval))) {
      if (absl::StatusOr<int> raised = service.notices().Sweep(clock.Now()); !raised.ok()) {
        linli::LogWarning("notice sweep failed", {{"error", raised.status().ToString()}});
      }
    }
  });
  std::thread consumer_thread(
      [&] { consumer.RunUntil(stopping, absl::GetFlag(FLAGS_poll_interval)); });
  // Every hour the alert thread also seals rows an older replica may have written in plain bytes
  // during a rolling upgrade (start-up sealing only covers what was there before this process).
  std::thread alert_thread([&] {
    absl::Time next_seal = clock.Now() + absl::Hours(1);
    while (!stopping.WaitForNotificationWithTimeout(absl::GetFlag(FLAGS_alert_interval))) {
      if (clock.Now() >= next_seal) {
        next_seal = clock.Now() + absl::Hours(1);
        absl::StatusOr<int> sealed = linli::feedback::SealPlainFeedbackTexts(*db, keyring);
        if (!sealed.ok()) {
          linli::LogWarning("sealing plain answers and work orders failed",
                            {{"error", sealed.status().ToString()}});
        } else if (*sealed > 0) {
          linli::LogInfo("answers and work orders stored in plain bytes sealed",
                         {{"count", absl::StrCat(*sealed)}});
        }
      }
      absl::StatusOr<linli::feedback::v1::SweepAlertsResponse> swept =
          service.Sweep(nullptr, clock.Now());
      if (!swept.ok()) {
        linli::LogWarning("alert sweep failed", {{"error", swept.status().ToString()}});
      } else if (swept->raised() > 0 || swept->escalated() > 0 || swept->notices() > 0) {
        linli::LogInfo("alerts raised", {{"raised", absl::StrCat(swept->raised())},
                                         {"escalated", absl::StrCat(swept->escalated())},
                                         {"notices", absl::StrCat(swept->notices())}});
      }
    }
  });
  linli::ServerOptions options =
      linli::ServerOptionsFromFlags("feedback", absl::GetFlag(FLAGS_listen),
                                    {linli::feedback::v1::FeedbackService::service_full_name()});
  linli::auth::ServeInternally(options, identity, clock);
  const int exit_code = linli::ServeUntilSignal(options, {&service});
  stopping.Notify();
  consumer_thread.join();
  alert_thread.join();
  sender_thread.join();
  notice_thread.join();
  return exit_code;
}
