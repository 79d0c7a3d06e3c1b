#include "services/scheduling/visit_notes.h"

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/idempotency.h"
#include "common/status_macros.h"
#include "common/storage/erase.h"
#include "linli/scheduling/v1/scheduling.pb.h"
#include "services/scheduling/scheduling_store.h"

namespace linli::scheduling {

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
      RETURN_IF_ERROR(storage::OverwriteFreedBytes(db, tx));
      ASSIGN_OR_RETURN(std::vector<StoredVisitNote> plain,
                       QueryPlainVisitNotes(tx, after_id, kBatch));
      more = static_cast<int>(plain.size()) == kBatch;
      for (const StoredVisitNote& note : plain) {
        batch_last = note.id;
        ASSIGN_OR_RETURN(std::string token,
                         cipher.Encrypt(note.text, VisitNoteAad(note.visit_id, note.id)));
        ASSIGN_OR_RETURN(bool stored, SealVisitNote(tx, note.id, token));
        batch_sealed += stored ? 1 : 0;
      }
      return absl::OkStatus();
    }));
    after_id = batch_last;
    sealed += batch_sealed;
  }
  // Replies stored for request_id retries (kept 24 h) before notes were sealed hold the text.
  int redacted = 0;
  RETURN_IF_ERROR(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(storage::OverwriteFreedBytes(db, tx));
    ASSIGN_OR_RETURN(redacted, RewriteIdempotentResponses(
                                   tx, "AddVisitNote", v1::AddVisitNoteResponse(),
                                   [](google::protobuf::Message& message) {
                                     auto& reply = static_cast<v1::AddVisitNoteResponse&>(message);
                                     if (reply.note().text().empty()) return false;
                                     reply.mutable_note()->clear_text();
                                     return true;
                                   }));
    return absl::OkStatus();
  }));
  if (sealed > 0 || redacted > 0) {
    // The WAL still holds the pages as they were: copy the rewritten ones home and empty it.
    RETURN_IF_ERROR(storage::TruncateWal(db));
  }
  return sealed;
}

}  // namespace linli::scheduling
