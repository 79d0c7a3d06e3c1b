// Workers' visit notes are personal data: a note often holds health information ("血压偏高，已告知
// 女儿"). Their text is sealed with the personal-data keyring (common/pii/field_cipher.h, the
// registry's --pii_key_file) and bound to its note, so a token copied into another row does not
// decrypt; reads of notes are audited (common/audit.h).
//
//   ASSIGN_OR_RETURN(std::string token, cipher.Encrypt(text, VisitNoteAad(visit_id, note_id)));
#ifndef LINLI_SERVICES_SCHEDULING_VISIT_NOTES_H_
#define LINLI_SERVICES_SCHEDULING_VISIT_NOTES_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/pii/field_cipher.h"
#include "common/storage/database.h"

namespace linli::scheduling {

// Associated data sealing one note's text: "visits/{visit_id}/notes/{note_id}#text".
std::string VisitNoteAad(const std::string& visit_id, const std::string& note_id);

// Seals the notes stored in plain text before migration 8 and empties their plain column, and
// removes note text from the stored replies of AddVisitNote calls (a retry gets the text back from
// its own request). Idempotent and safe with several replicas starting at once (each row is
// updated only while it is still unsealed); returns how many notes it sealed. Run at start-up.
absl::StatusOr<int> SealPlainVisitNotes(storage::Database& db, const pii::FieldCipher& cipher);

}  // namespace linli::scheduling

#endif  // LINLI_SERVICES_SCHEDULING_VISIT_NOTES_H_
