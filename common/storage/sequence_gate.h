// Sequences a reader follows with a cursor (scheduling's event outbox, feedback's notices): the
// reader remembers the highest sequence it was given and asks for the ones after it, so it must
// never be given a sequence while a smaller one can still appear.
//
// SQLite guarantees it by itself: one writer at a time, so sequences become visible in order. On
// MySQL/MariaDB a sequence is taken when the row is inserted but becomes visible when its
// transaction commits, and two transactions can commit in the other order. There every
// transaction that inserts such rows holds the one row of a gate table in share mode, from its
// first insert until it ends (writers never wait for each other), and the reader takes that row
// exclusively for a moment: once it has it, every transaction that inserted before has ended, so
// every sequence up to the largest one visible then is final (committed or rolled back).
//
// The writers' share lock costs no statement of its own: it is a scalar subquery in the first
// row of the INSERT, `time + (SELECT 0 FROM gate … LOCK IN SHARE MODE)`. InnoDB evaluates a row's
// values before it writes the row, and takes the AUTO_INCREMENT value (all of a multi-row
// INSERT's at once) at the first write, so the sequence is taken under the gate (checked: an
// INSERT waiting for the gate got a larger sequence than one started after it). Were the gate's
// row missing, the subquery would give NULL, which a NOT NULL column refuses. MySQL and MariaDB
// execute the text of a /*! ... */ comment; SQLite skips it.
//
//   CREATE TABLE outbox_gate (id INTEGER PRIMARY KEY); INSERT INTO outbox_gate (id) VALUES (1);
//   "INSERT INTO outbox_events (…, create_time_us) VALUES (…, " + GatedValueSql("outbox_gate") +
//   ")" ASSIGN_OR_RETURN(int64_t settled, SettledSequence(db, "outbox_gate",
//                                                     "SELECT COALESCE(MAX(sequence), 0) FROM …"));
//   … WHERE sequence > cursor AND sequence <= settled …
#ifndef LINLI_COMMON_STORAGE_SEQUENCE_GATE_H_
#define LINLI_COMMON_STORAGE_SEQUENCE_GATE_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "common/storage/database.h"

namespace linli::storage {

// A placeholder for an integer column's value ("?") that also takes `gate_table`'s row in share
// mode on MySQL; bind the value as usual.
std::string GatedValueSql(absl::string_view gate_table);

// The highest sequence (`max_sql`, one integer) up to which every row is final. SQLite: the
// largest int64 (whatever is visible is settled). MySQL: waits, in a transaction of its own, for
// the writers holding `gate_table` (new ones wait for it meanwhile) and reads `max_sql`.
absl::StatusOr<int64_t> SettledSequence(Database& db, absl::string_view gate_table,
                                        absl::string_view max_sql);

}  // namespace linli::storage

#endif  // LINLI_COMMON_STORAGE_SEQUENCE_GATE_H_
