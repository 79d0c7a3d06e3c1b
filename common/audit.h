// The personal-data audit log (PIPL: "who read it"), one mechanism for every service that holds
// personal data. Each such service keeps an append-only `pii_audit` table in its own database and
// appends to it in the same transaction as the read it records, so a read that is not audited
// cannot happen: the registry for elders' sealed fields, scheduling for workers' visit notes.
//
//   // inside the transaction that decrypts (caller = CallerOf(*context) in the adapter):
//   RETURN_IF_ERROR(AuditPersonalData(tx, caller, clock.Now(),
//                                     {.elder = "elders/123", .resource = "visits/456",
//                                      .fields = "notes", .reason = request.reason(),
//                                      .action = "read"}));
//
// The actor and request id come from the call's metadata (x-linli-actor, set by the gateway from
// the authenticated principal; common/server.h's CallerOf reads them), never from the request
// body. There is no update or delete path. No gRPC here: use cases audit without it.
#ifndef LINLI_COMMON_AUDIT_H_
#define LINLI_COMMON_AUDIT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/storage/database.h"
#include "linli/registry/v1/registry.pb.h"

namespace linli {

// DDL of the pii_audit table (the same table the registry created in its migration 4), for a
// service's migration list.
storage::Migration AuditMigration(int version);

// What one audited access touched.
struct AuditedAccess {
  std::string elder;     // whose data, "elders/{id}"
  std::string resource;  // the record read when it is not the elder's own, e.g. "visits/{id}"
  std::string fields;    // which fields, e.g. "notes" or "id_number,phone"
  std::string reason;    // the reason the caller stated ("" when none was asked for)
  std::string action;    // "read" or "erase"
};

// Who makes a call, as the adapter learns it from the call's metadata.
struct Caller {
  std::string actor;       // "role:id", from x-linli-actor
  std::string request_id;  // the call's request id
};

// Appends an entry for `access` by `caller` at `now`, inside `tx`.
absl::Status AuditPersonalData(storage::Transaction& tx, const Caller& caller, absl::Time now,
                               const AuditedAccess& access);

// Appends a prepared entry (AuditPersonalData fills one from the call).
absl::Status AppendAudit(storage::Transaction& tx, const registry::v1::AuditEntry& entry,
                         absl::Time time);

struct AuditRow {
  int64_t sequence = 0;
  registry::v1::AuditEntry entry;
};
// Newest first, entries with sequence < before_sequence (0 = from the newest), only those about
// `elder_name` unless it is empty.
absl::StatusOr<std::vector<AuditRow>> QueryAudit(storage::Transaction& tx,
                                                 const std::string& elder_name,
                                                 int64_t before_sequence, int limit);

// One page of the log for a List…AuditEntries handler: entries about `elder` ("elders/{id}"; ""
// for all), newest first; page_size 0 means 100, at most 1000. INVALID_ARGUMENT naming the field
// for a malformed elder, page size or page token.
struct AuditPage {
  std::vector<registry::v1::AuditEntry> entries;
  std::string next_page_token;
};
absl::StatusOr<AuditPage> ReadAuditPage(storage::Database& db, const std::string& elder,
                                        int32_t page_size, const std::string& page_token);

// ListAuditEntries of a service (registry's, scheduling's): the page `request` (elder, page_size,
// page_token) names, into `response` (entries, next_page_token).
template <typename Request, typename Response>
absl::Status FillAuditPage(storage::Database& db, const Request& request, Response* response) {
  absl::StatusOr<AuditPage> page =
      ReadAuditPage(db, request.elder(), request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  for (registry::v1::AuditEntry& entry : page->entries) {
    *response->add_entries() = std::move(entry);
  }
  response->set_next_page_token(std::move(page->next_page_token));
  return absl::OkStatus();
}

}  // namespace linli

#endif  // LINLI_COMMON_AUDIT_H_
