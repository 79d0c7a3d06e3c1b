#include "services/scheduling/visit_notes.h"

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "linli/scheduling/v1/scheduling.pb.h"

namespace linli::scheduling {
namespace {

// SQLite: overwrite the freed bytes of rewritten rows, so plain text does not linger in the
// file's free space (a setting of this connection only).
absl::Status SecureDelete(storage::Database& db, storage::Transaction& tx) {
  if (db.dialect() != storage::Dialect::kSqlite) return absl::OkStatus();
  return tx.Query("PRAGMA secure_delete = ON", {}).status();
}

}  // namespace

std::string VisitNoteAad(const std::string& visit_id, const std::string& note_id) {
  return absl::StrCat("visits/", visit_id, "/notes/", note_id, "#text");
}

absl::StatusOr<int> SealPlainVisitNotes(storage::Database& db, const pii::FieldCipher& cipher) {
  constexpr int kBatch = 200;
  int sealed = 0;
  std::string after_id;
  for (bool more = true; more;) {
    // The cursor and count move only when a batch commits: a retried transaction starts again
    // from the same place.
    std::string batch_last;
    int batch_sealed = 0;
    RETURN_IF_ERROR(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      batch_last = after_id;
      batch_sealed = 0;
      RETURN_IF_ERROR(SecureDelete(db, tx));
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, visit_id, body FROM visit_notes WHERE "
                                           "sealed_body IS NULL AND id > ? ORDER BY id LIMIT ?",
                                           {after_id, static_cast<int64_t>(kBatch)}));
      more = static_cast<int>(rows.size()) == kBatch;
      for (const storage::Row& row : rows) {
        batch_last = row.GetString(0);
        ASSIGN_OR_RETURN(
            std::string token,
            cipher.Encrypt(row.GetString(2), VisitNoteAad(row.GetString(1), batch_last)));
        ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE visit_notes SET sealed_body = ?, body = '' "
                                            "WHERE id = ? AND sealed_body IS NULL",
                                            {token, batch_last}));
        batch_sealed += static_cast<int>(n);
      }
      return absl::OkStatus();
    }));
    after_id = batch_last;
    sealed += batch_sealed;
  }
  // Replies stored for request_id retries (kept 24 h) before notes were sealed hold the text.
  int redacted = 0;
  RETURN_IF_ERROR(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    redacted = 0;
    RETURN_IF_ERROR(SecureDelete(db, tx));
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT request_id, response FROM idempotency_keys WHERE "
                                         "method = 'AddVisitNote'",
                                         {}));
    for (const storage::Row& row : rows) {
      v1::AddVisitNoteResponse reply;
      if (!reply.ParseFromString(row.GetString(1)) || reply.note().text().empty()) continue;
      reply.mutable_note()->clear_text();
      RETURN_IF_ERROR(tx.Exec("UPDATE idempotency_keys SET response = ? WHERE method = "
                              "'AddVisitNote' AND request_id = ?",
                              {reply.SerializeAsString(), row.GetString(0)})
                          .status());
      ++redacted;
    }
    return absl::OkStatus();
  }));
  if ((sealed > 0 || redacted > 0) && db.dialect() == storage::Dialect::kSqlite) {
    // The WAL still holds the pages as they were: copy the rewritten ones home and empty it.
    RETURN_IF_ERROR(db.ExecRaw("PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  return sealed;
}

}  // namespace linli::scheduling
