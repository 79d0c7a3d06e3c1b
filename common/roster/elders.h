// The elders' roster as a committee keeps it (居委会的老人花名册): each row an Elder as
// CreateElder takes it, with contacts and the consents granted (who recorded them is the
// server's to say).
#ifndef LINLI_COMMON_ROSTER_ELDERS_H_
#define LINLI_COMMON_ROSTER_ELDERS_H_

#include "common/roster/roster.h"

namespace linli::roster {

// Rows are registry::v1::Elder records.
const Roster& EldersRoster();

}  // namespace linli::roster

#endif  // LINLI_COMMON_ROSTER_ELDERS_H_
