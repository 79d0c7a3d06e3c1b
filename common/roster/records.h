// The rosters of the street's map (条块) as a street office keeps them: organisations (单位名录),
// the ties between them, what they offer (服务项目), and their staff and volunteers. Each row is
// the record the registry's Create method takes; organisations are named by their id
// ("wlq-elder-canteen", without "organisations/"), regions by their code.
#ifndef LINLI_COMMON_ROSTER_RECORDS_H_
#define LINLI_COMMON_ROSTER_RECORDS_H_

#include "common/roster/roster.h"

namespace linli::roster {

// Rows are registry::v1::Organisation records.
const Roster& OrganisationsRoster();
// Rows are registry::v1::Relation records.
const Roster& RelationsRoster();
// Rows are registry::v1::Offering records.
const Roster& OfferingsRoster();
// Rows are registry::v1::Worker records.
const Roster& WorkersRoster();

}  // namespace linli::roster

#endif  // LINLI_COMMON_ROSTER_RECORDS_H_
