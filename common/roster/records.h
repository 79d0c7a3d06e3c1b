// The rosters of the street's map (条块) as a street office keeps them: organisations (单位名录),
// the ties between them, what they offer (服务项目), and their staff and volunteers; and the care
// promises made to elders. Each row is the record the matching Create method takes; organisations
// are named by their id ("wlq-elder-canteen", without "organisations/"), regions by their code.
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
// The care promises made to elders (服务承诺). Rows are scheduling::v1::Commitment records whose
// `elder` holds the elder's resident ID number as the file gives it (upper case): the importer
// finds the elder (RegistryService.FindEldersByIdNumber) and puts the elder's name there before
// the rows go to SchedulingService.ImportCommitments.
const Roster& CommitmentsRoster();
// Past visits from a provider's own records (上门记录). Rows are scheduling::v1::ImportedVisit
// records naming their promise by elder, service type and owner, whose `elder` holds the elder's
// resident ID number and each attendance's `worker` the worker's phone, as the file gives them:
// the importer finds the elder and the workers (RegistryService.FindEldersByIdNumber,
// FindWorkersByPhone) and puts their names there before the rows go to
// SchedulingService.ImportVisits. An attendance whose method the file leaves out is the
// provider's record (CHECK_METHOD_PARTNER_REPORT).
const Roster& VisitsRoster();
// Elders' past answers about visits (回访记录). Rows are gateway::v1::AnswerRosterRow records:
// the visit named as a roster of past visits names it, the answer as ImportFeedback takes it
// without its visit and author (the importer finds the visit and puts the elder as author). An
// answer whose channel the file leaves out is left unspecified here: the importer takes it as a
// phone call (FEEDBACK_CHANNEL_PHONE_CALL).
const Roster& AnswersRoster();

}  // namespace linli::roster

#endif  // LINLI_COMMON_ROSTER_RECORDS_H_
