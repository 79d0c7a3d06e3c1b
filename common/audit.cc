#include "common/audit.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/pagination.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "common/storage/proto_rows.h"
#include "common/text.h"

namespace linli {

storage::Migration AuditMigration(int version) {
  return storage::Migration{version, "personal-data audit log",
                            R"sql(CREATE TABLE pii_audit (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  time_us INTEGER NOT NULL,
  elder TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX pii_audit_by_elder ON pii_audit (elder, sequence))sql",
                            R"sql(CREATE TABLE pii_audit (
  sequence BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  time_us BIGINT NOT NULL,
  elder VARCHAR(64) NOT NULL,
  data LONGBLOB NOT NULL,
  INDEX pii_audit_by_elder (elder, sequence)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)sql"};
}

absl::Status AuditPersonalData(storage::Transaction& tx, const Caller& caller, absl::Time now,
                               const AuditedAccess& access) {
  registry::v1::AuditEntry entry;
  *entry.mutable_time() = ToTimestamp(now);
  entry.set_actor(caller.actor);
  entry.set_elder(access.elder);
  entry.set_resource(access.resource);
  entry.set_fields(access.fields);
  entry.set_reason(access.reason);
  entry.set_action(access.action);
  entry.set_request_id(caller.request_id);
  return AppendAudit(tx, entry, now);
}

absl::Status AppendAudit(storage::Transaction& tx, const registry::v1::AuditEntry& entry,
                         absl::Time time) {
  return tx
      .Exec("INSERT INTO pii_audit (time_us, elder, data) VALUES (?, ?, ?)",
            {absl::ToUnixMicros(time), entry.elder(), entry.SerializeAsString()})
      .status();
}

absl::StatusOr<std::vector<AuditRow>> QueryAudit(storage::Transaction& tx,
                                                 const std::string& elder_name,
                                                 int64_t before_sequence, int limit) {
  const int64_t before = before_sequence > 0 ? before_sequence : INT64_MAX;
  const int64_t limit64 = limit;
  absl::StatusOr<std::vector<storage::Row>> rows =
      elder_name.empty()
          ? tx.Query(
                "SELECT sequence, data FROM pii_audit WHERE sequence < ? ORDER BY sequence "
                "DESC LIMIT ?",
                {before, limit64})
          : tx.Query(
                "SELECT sequence, data FROM pii_audit WHERE elder = ? AND sequence < ? "
                "ORDER BY sequence DESC LIMIT ?",
                {elder_name, before, limit64});
  RETURN_IF_ERROR(rows.status());
  std::vector<AuditRow> out;
  out.reserve(rows->size());
  for (const storage::Row& row : *rows) {
    ASSIGN_OR_RETURN(registry::v1::AuditEntry entry,
                     storage::ParseProtoColumn<registry::v1::AuditEntry>(row, 1));
    out.push_back(AuditRow{row.GetInt(0), std::move(entry)});
  }
  return out;
}

absl::StatusOr<AuditPage> ReadAuditPage(storage::Database& db, const std::string& elder,
                                        int32_t page_size, const std::string& page_token) {
  constexpr int kDefaultPage = 100;
  constexpr int kMaxPage = 1000;
  if (!elder.empty()) RETURN_IF_ERROR(ParseResourceName(elder, "elders", "elder").status());
  ASSIGN_OR_RETURN(Page page,
                   Page::Start(page_size, page_token, "audit|" + elder, kDefaultPage, kMaxPage));
  int64_t before = 0;
  if (!page.after.empty() && (!absl::SimpleAtoi(page.after, &before) || before <= 0)) {
    return InvalidField("page_token", "is not a token issued by this service",
                        common::v1::ERROR_REASON_INVALID_PAGE_TOKEN);
  }
  AuditPage out;
  RETURN_IF_ERROR(db.RunInTransaction(
      [&](storage::Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<AuditRow> rows, QueryAudit(tx, elder, before, page.limit()));
        out.entries.clear();
        out.next_page_token =
            page.Finish(rows, [](const AuditRow& r) { return absl::StrCat(r.sequence); });
        for (AuditRow& r : rows) out.entries.push_back(std::move(r.entry));
        return absl::OkStatus();
      },
      {.read_only = true}));
  return out;
}

}  // namespace linli
