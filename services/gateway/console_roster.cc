// ConsoleService's rosters: a street's spreadsheets imported into the registry and exported
// from it (common/roster reads and writes them).
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/roster/csv.h"
#include "common/roster/elders.h"
#include "common/roster/export.h"
#include "common/roster/records.h"
#include "common/server.h"
#include "services/gateway/console_service.h"

namespace linli::gateway {
namespace {

// The roster a request's kind names; INVALID_ARGUMENT for none.
absl::StatusOr<const roster::Roster*> RosterOf(v1::RosterKind kind) {
  switch (kind) {
    case v1::ROSTER_KIND_ELDERS:
      return &roster::EldersRoster();
    case v1::ROSTER_KIND_ORGANISATIONS:
      return &roster::OrganisationsRoster();
    case v1::ROSTER_KIND_RELATIONS:
      return &roster::RelationsRoster();
    case v1::ROSTER_KIND_OFFERINGS:
      return &roster::OfferingsRoster();
    case v1::ROSTER_KIND_WORKERS:
      return &roster::WorkersRoster();
    case v1::ROSTER_KIND_COMMITMENTS:
      return &roster::CommitmentsRoster();
    case v1::ROSTER_KIND_VISITS:
      return &roster::VisitsRoster();
    case v1::ROSTER_KIND_ANSWERS:
      return &roster::AnswersRoster();
    default:
      return InvalidField("kind",
                          "must name a roster (ROSTER_KIND_ELDERS, _ORGANISATIONS, _RELATIONS, "
                          "_OFFERINGS, _WORKERS, _COMMITMENTS, _VISITS or _ANSWERS)");
  }
}

// A record read from a roster as one row of RegistryService.ImportRecords.
void AddRecord(v1::RosterKind kind, roster::Row& row, registry::v1::ImportRecordsRequest& rows) {
  registry::v1::ImportedRecord* record = rows.add_rows();
  record->set_line(row.line);
  google::protobuf::Message* into = nullptr;
  switch (kind) {
    case v1::ROSTER_KIND_ORGANISATIONS:
      into = record->mutable_organisation();
      break;
    case v1::ROSTER_KIND_RELATIONS:
      into = record->mutable_relation();
      break;
    case v1::ROSTER_KIND_OFFERINGS:
      into = record->mutable_offering();
      break;
    default:
      into = record->mutable_worker();
      break;
  }
  into->GetReflection()->Swap(into, row.record.get());
}

// A row of staff in a committee's roster of workers.
common::v1::RowProblem StaffRowRefused(int line) {
  common::v1::RowProblem p;
  p.set_line(line);
  p.set_column("志愿者");
  p.set_field("worker.volunteer");
  p.set_reason("committee staff import volunteers; the street registers staff");
  p.set_reason_zh("居委会只能导入志愿者，服务人员由街道登记");
  return p;
}

common::v1::RowProblem RowRefused(int line, const char* column, std::string field,
                                  std::string reason, const char* reason_zh) {
  common::v1::RowProblem p;
  p.set_line(line);
  p.set_column(column);
  p.set_field(std::move(field));
  p.set_reason(std::move(reason));
  p.set_reason_zh(reason_zh);
  return p;
}

}  // namespace

std::vector<std::string> ConsoleServiceImpl::RowElders(
    grpc::ServerContext* context, const auth::Principal& who, const std::vector<roster::Row>& rows,
    const std::string& (*id_number)(const google::protobuf::Message&), const char* reason,
    grpc::Status* status) {
  registry::v1::FindEldersByIdNumberRequest find;
  for (const roster::Row& row : rows) find.add_id_numbers(id_number(*row.record));
  find.set_region_guard(who.role == auth::Role::kAdmin ? "" : "regions/" + who.region);
  find.set_reason(reason);
  registry::v1::FindEldersByIdNumberResponse found;
  *status = Forward(context, who, registry_.get(),
                    &registry::v1::RegistryService::StubInterface::PrepareAsyncFindEldersByIdNumber,
                    find, &found, "registry");
  std::vector<std::string> names(found.elders().begin(), found.elders().end());
  names.resize(rows.size());
  return names;
}

absl::StatusOr<bool> ConsoleServiceImpl::RowPasses(grpc::ServerContext* context,
                                                   const auth::Principal& who, int line,
                                                   const std::string& elder,
                                                   const std::string& owner, const char* record,
                                                   std::map<std::string, absl::Status>& owners,
                                                   std::vector<common::v1::RowProblem>& problems) {
  if (elder.empty()) {
    problems.push_back(RowRefused(line, "身份证号", absl::StrCat(record, ".elder"),
                                  "no elder is registered under this ID number in your region",
                                  "你的辖区内没有以此身份证号登记的老人"));
    return false;
  }
  // The owners the caller may name, as CreateCommitment's rule says (asked once each).
  auto it = owners.find(owner);
  if (it == owners.end()) {
    it = owners.emplace(owner, gate_->relations().Organisation(*context, who, owner)).first;
  }
  if (absl::IsUnavailable(it->second)) return it->second;
  if (!it->second.ok()) {
    problems.push_back(RowRefused(line, "服务单位", absl::StrCat(record, ".owner_organisation"),
                                  std::string(it->second.message()),
                                  "服务单位不存在，或不在你的辖区内"));
    return false;
  }
  return true;
}

grpc::Status ConsoleServiceImpl::ImportCommitmentRows(grpc::ServerContext* context,
                                                      const auth::Principal& who,
                                                      std::vector<roster::Row>& read, bool dry_run,
                                                      bool skip_bad_rows,
                                                      std::vector<common::v1::RowProblem>& problems,
                                                      v1::ImportRosterResponse* response) {
  // The elders by ID number, within the caller's region: an elder elsewhere is not found.
  grpc::Status status;
  const std::vector<std::string> elders = RowElders(
      context, who, read,
      [](const google::protobuf::Message& r) -> const std::string& {
        return static_cast<const scheduling::v1::Commitment&>(r).elder();
      },
      "导入服务承诺名册 (import of a roster of care promises)", &status);
  if (!status.ok()) return status;
  std::map<std::string, absl::Status> owners;
  scheduling::v1::ImportCommitmentsRequest rows;
  for (size_t i = 0; i < read.size(); ++i) {
    auto& commitment = static_cast<scheduling::v1::Commitment&>(*read[i].record);
    absl::StatusOr<bool> passes =
        RowPasses(context, who, read[i].line, elders[i], commitment.owner_organisation(),
                  "commitment", owners, problems);
    if (!passes.ok()) return Reply(*context, passes.status());
    if (!*passes) continue;
    commitment.set_elder(elders[i]);
    scheduling::v1::ImportedCommitment* imported = rows.add_rows();
    imported->set_line(read[i].line);
    imported->mutable_commitment()->Swap(&commitment);
  }
  scheduling::v1::ImportCommitmentsResponse imported;
  return ImportAtBackend(
      context, who, scheduling_.get(),
      &scheduling::v1::SchedulingService::StubInterface::PrepareAsyncImportCommitments, rows,
      &imported, "scheduling", dry_run, skip_bad_rows, problems, response);
}

grpc::Status ConsoleServiceImpl::ImportVisitRows(grpc::ServerContext* context,
                                                 const auth::Principal& who,
                                                 std::vector<roster::Row>& read, bool dry_run,
                                                 bool skip_bad_rows,
                                                 std::vector<common::v1::RowProblem>& problems,
                                                 v1::ImportRosterResponse* response) {
  constexpr char kReason[] = "导入上门记录 (import of past visits)";
  grpc::Status status;
  const std::vector<std::string> elders = RowElders(
      context, who, read,
      [](const google::protobuf::Message& r) -> const std::string& {
        return static_cast<const scheduling::v1::ImportedVisit&>(r).elder();
      },
      kReason, &status);
  if (!status.ok()) return status;
  // The rows whose elder and owner pass, and each owner's phones named by them.
  std::map<std::string, absl::Status> owners;
  std::vector<size_t> passed;
  std::map<std::string, std::vector<std::string>> phones;  // owner -> phones, each once
  for (size_t i = 0; i < read.size(); ++i) {
    const auto& visit = static_cast<const scheduling::v1::ImportedVisit&>(*read[i].record);
    absl::StatusOr<bool> passes = RowPasses(context, who, read[i].line, elders[i],
                                            visit.owner_organisation(), "visit", owners, problems);
    if (!passes.ok()) return Reply(*context, passes.status());
    if (!*passes) continue;
    std::vector<std::string>& of_owner = phones[visit.owner_organisation()];
    for (const auto& attendance : visit.attendance()) {
      if (std::find(of_owner.begin(), of_owner.end(), attendance.worker()) == of_owner.end()) {
        of_owner.push_back(attendance.worker());
      }
    }
    passed.push_back(i);
  }
  // The workers by phone, among each owner's (RegistryService.FindWorkersByPhone, audited; at
  // most 1000 phones a call, and a file of 1000 rows of two workers may name 2000).
  constexpr size_t kPhonesPerCall = 1000;
  std::map<std::pair<std::string, std::string>, std::string> workers;  // owner, phone -> name
  for (const auto& [owner, named] : phones) {
    for (size_t from = 0; from < named.size(); from += kPhonesPerCall) {
      registry::v1::FindWorkersByPhoneRequest find;
      find.set_organisation(owner);
      for (size_t p = from; p < std::min(named.size(), from + kPhonesPerCall); ++p) {
        find.add_phones(named[p]);
      }
      find.set_reason(kReason);
      registry::v1::FindWorkersByPhoneResponse found;
      status =
          Forward(context, who, registry_.get(),
                  &registry::v1::RegistryService::StubInterface::PrepareAsyncFindWorkersByPhone,
                  find, &found, "registry");
      if (!status.ok()) return status;
      for (int p = 0; p < found.workers_size() && p < find.phones_size(); ++p) {
        workers.emplace(std::pair(owner, find.phones(p)), found.workers(p));
      }
    }
  }
  scheduling::v1::ImportVisitsRequest rows;
  for (size_t i : passed) {
    auto& visit = static_cast<scheduling::v1::ImportedVisit&>(*read[i].record);
    bool known = true;
    for (int a = 0; a < visit.attendance_size(); ++a) {
      auto* attendance = visit.mutable_attendance(a);
      const std::string& name =
          workers[std::pair(visit.owner_organisation(), attendance->worker())];
      if (name.empty()) {
        problems.push_back(RowRefused(read[i].line, "工作人员电话",
                                      absl::StrCat("visit.attendance[", a, "].worker"),
                                      absl::StrCat("no worker of ", visit.owner_organisation(),
                                                   " is registered under this phone"),
                                      "服务单位没有以此电话登记的人员"));
        known = false;
        continue;
      }
      attendance->set_worker(name);
    }
    if (!known) continue;
    visit.set_elder(elders[i]);
    visit.set_line(read[i].line);
    rows.add_rows()->Swap(&visit);
  }
  scheduling::v1::ImportVisitsResponse imported;
  return ImportAtBackend(
      context, who, scheduling_.get(),
      &scheduling::v1::SchedulingService::StubInterface::PrepareAsyncImportVisits, rows, &imported,
      "scheduling", dry_run, skip_bad_rows, problems, response);
}

grpc::Status ConsoleServiceImpl::ImportAnswerRows(grpc::ServerContext* context,
                                                  const auth::Principal& who,
                                                  std::vector<roster::Row>& read, bool dry_run,
                                                  bool skip_bad_rows,
                                                  std::vector<common::v1::RowProblem>& problems,
                                                  v1::ImportRosterResponse* response) {
  grpc::Status status;
  const std::vector<std::string> elders = RowElders(
      context, who, read,
      [](const google::protobuf::Message& r) -> const std::string& {
        return static_cast<const v1::AnswerRosterRow&>(r).id_number();
      },
      "导入回访记录 (import of elders' past answers)", &status);
  if (!status.ok()) return status;
  std::map<std::string, absl::Status> owners;
  // Each elder's visits by that owner on that day, asked once (ListVisits).
  // How far from its planned day a visit may have been moved.
  constexpr int kRescheduleDays = 7;
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<scheduling::v1::Visit>>
      visits;
  feedback::v1::ImportFeedbackRequest rows;
  for (size_t i = 0; i < read.size(); ++i) {
    auto& row = static_cast<v1::AnswerRosterRow&>(*read[i].record);
    absl::StatusOr<bool> passes = RowPasses(context, who, read[i].line, elders[i],
                                            row.owner_organisation(), "visit", owners, problems);
    if (!passes.ok()) return Reply(*context, passes.status());
    if (!*passes) continue;
    absl::CivilSecond planned;
    if (row.occurrence().size() != 19 || !absl::ParseCivilTime(row.occurrence(), &planned)) {
      problems.push_back(RowRefused(read[i].line, "计划时间", "visit.occurrence",
                                    "must be a local time \"YYYY-MM-DDTHH:MM:SS\"",
                                    "计划时间格式应为 YYYY-MM-DDTHH:MM:SS"));
      continue;
    }
    // The visits of the elder by the owner around the planned day (a visit moved to another
    // day keeps its occurrence; ListVisits filters by the window's day), all pages.
    const absl::CivilDay day(planned);
    auto key = std::tuple(elders[i], row.owner_organisation(), absl::FormatCivilTime(day));
    auto listed = visits.find(key);
    if (listed == visits.end()) {
      scheduling::v1::ListVisitsRequest list;
      list.set_elder(elders[i]);
      list.set_owner_organisation(row.owner_organisation());
      list.set_from_date(absl::FormatCivilTime(day - kRescheduleDays));
      list.set_to_date(absl::FormatCivilTime(day + kRescheduleDays + 1));
      list.set_page_size(kMaxPageSize);
      std::vector<scheduling::v1::Visit> around;
      do {
        scheduling::v1::ListVisitsResponse page;
        status = Forward(context, who, scheduling_.get(),
                         &scheduling::v1::SchedulingService::StubInterface::PrepareAsyncListVisits,
                         list, &page, "scheduling");
        if (!status.ok()) return status;
        for (scheduling::v1::Visit& v : *page.mutable_visits()) around.push_back(std::move(v));
        list.set_page_token(page.next_page_token());
      } while (!list.page_token().empty());
      listed = visits.emplace(key, std::move(around)).first;
    }
    // Of the service type at the planned time; a completed one before any other (two promises
    // of one service may share an occurrence).
    const scheduling::v1::Visit* visit = nullptr;
    for (const scheduling::v1::Visit& v : listed->second) {
      if (v.service_type() != row.service_type() || v.occurrence() != row.occurrence()) continue;
      if (visit == nullptr || (v.state() == scheduling::v1::VISIT_STATE_COMPLETED &&
                               visit->state() != scheduling::v1::VISIT_STATE_COMPLETED)) {
        visit = &v;
      }
    }
    if (visit == nullptr) {
      problems.push_back(RowRefused(
          read[i].line, "计划时间", "visit.occurrence",
          absl::StrCat("no visit of ", row.service_type(), " by ", row.owner_organisation(),
                       " at this time is recorded for the elder: import the visit first"),
          "找不到这次上门的记录：请先导入上门记录"));
      continue;
    }
    feedback::v1::ImportedFeedback* imported = rows.add_rows();
    imported->Swap(row.mutable_answer());
    imported->set_line(read[i].line);
    feedback::v1::Feedback* answer = imported->mutable_feedback();
    answer->set_visit(visit->name());
    answer->set_author(elders[i]);  // the elder's own answer
    if (answer->channel() == feedback::v1::FEEDBACK_CHANNEL_UNSPECIFIED) {
      answer->set_channel(feedback::v1::FEEDBACK_CHANNEL_PHONE_CALL);
    }
  }
  const size_t before = problems.size();
  feedback::v1::ImportFeedbackResponse imported;
  status =
      ImportAtBackend(context, who, feedback_.get(),
                      &feedback::v1::FeedbackService::StubInterface::PrepareAsyncImportFeedback,
                      rows, &imported, "feedback", dry_run, skip_bad_rows, problems, response);
  // The visit (and the answer as a whole: about a visit not completed, or given twice) is what
  // the row's planned time names.
  for (size_t p = before; p < problems.size(); ++p) {
    if (problems[p].field() == "feedback.visit" || problems[p].field() == "feedback") {
      problems[p].set_field("visit.occurrence");
    }
  }
  return status;
}

grpc::Status ConsoleServiceImpl::ImportRoster(grpc::ServerContext* context,
                                              const v1::ImportRosterRequest* request,
                                              v1::ImportRosterResponse* response) {
  constexpr size_t kMaxRows = 1000;
  return gate_->Run(
      context, "/linli.gateway.v1.ConsoleService/ImportRoster", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        absl::StatusOr<const roster::Roster*> named = RosterOf(request->kind());
        if (!named.ok()) return Reply(*context, named.status());
        const roster::Roster* kind = *named;
        roster::Encoding encoding;
        absl::StatusOr<std::string> text = roster::DecodeText(request->csv(), &encoding);
        if (!text.ok()) return Reply(*context, text.status());
        absl::StatusOr<std::vector<roster::CsvRecord>> records = roster::ParseCsv(*text);
        if (!records.ok()) return Reply(*context, records.status());
        if (records->size() > kMaxRows + 1) {
          return Reply(*context,
                       InvalidField("csv", absl::StrCat("holds ", records->size() - 1,
                                                        " rows; send at most ", kMaxRows,
                                                        " a call (linli import splits a file)")));
        }
        absl::StatusOr<roster::ReadRows> read =
            roster::Read(*kind, *records, request->line_offset());
        if (!read.ok()) return Reply(*context, read.status());
        response->set_encoding(roster::EncodingName(encoding));
        response->set_rows(static_cast<int32_t>(records->size()) - 1);
        std::vector<common::v1::RowProblem> problems = std::move(read->problems);
        const bool dry_run = request->dry_run() || (!problems.empty() && !request->skip_bad_rows());
        const std::string guard = who.role == auth::Role::kAdmin ? "" : "regions/" + who.region;
        auto take = [&](const auto& imported) {
          response->set_created(imported.created());
          response->set_existing(imported.existing());
          response->set_written(imported.written());
          problems.insert(problems.end(), imported.problems().begin(), imported.problems().end());
        };
        if (!read->rows.empty() && request->kind() == v1::ROSTER_KIND_ELDERS) {
          registry::v1::ImportEldersRequest rows;
          for (roster::Row& row : read->rows) {
            registry::v1::ImportedElder* imported = rows.add_rows();
            imported->set_line(row.line);
            imported->mutable_elder()->Swap(static_cast<registry::v1::Elder*>(row.record.get()));
          }
          rows.set_dry_run(dry_run);
          rows.set_skip_bad_rows(request->skip_bad_rows());
          rows.set_region_guard(guard);
          registry::v1::ImportEldersResponse imported;
          grpc::Status status =
              Forward(context, who, registry_.get(),
                      &registry::v1::RegistryService::StubInterface::PrepareAsyncImportElders, rows,
                      &imported, "registry");
          if (!status.ok()) return status;
          take(imported);
        } else if (!read->rows.empty() && request->kind() == v1::ROSTER_KIND_COMMITMENTS) {
          grpc::Status status = ImportCommitmentRows(context, who, read->rows, dry_run,
                                                     request->skip_bad_rows(), problems, response);
          if (!status.ok()) return status;
        } else if (!read->rows.empty() && request->kind() == v1::ROSTER_KIND_VISITS) {
          grpc::Status status = ImportVisitRows(context, who, read->rows, dry_run,
                                                request->skip_bad_rows(), problems, response);
          if (!status.ok()) return status;
        } else if (!read->rows.empty() && request->kind() == v1::ROSTER_KIND_ANSWERS) {
          grpc::Status status = ImportAnswerRows(context, who, read->rows, dry_run,
                                                 request->skip_bad_rows(), problems, response);
          if (!status.ok()) return status;
        } else if (!read->rows.empty()) {
          registry::v1::ImportRecordsRequest rows;
          for (roster::Row& row : read->rows) {
            if (request->kind() == v1::ROSTER_KIND_WORKERS &&
                who.role == auth::Role::kCommitteeStaff &&
                !static_cast<const registry::v1::Worker&>(*row.record).volunteer()) {
              problems.push_back(StaffRowRefused(row.line));
              continue;
            }
            AddRecord(request->kind(), row, rows);
          }
          rows.set_dry_run(request->dry_run() || (!problems.empty() && !request->skip_bad_rows()));
          rows.set_skip_bad_rows(request->skip_bad_rows());
          rows.set_region_guard(guard);
          registry::v1::ImportRecordsResponse imported;
          if (!rows.rows().empty()) {
            grpc::Status status =
                Forward(context, who, registry_.get(),
                        &registry::v1::RegistryService::StubInterface::PrepareAsyncImportRecords,
                        rows, &imported, "registry");
            if (!status.ok()) return status;
            take(imported);
          }
        }
        for (common::v1::RowProblem& p : problems) roster::DescribeProblem(*kind, p);
        std::stable_sort(problems.begin(), problems.end(),
                         [](const auto& a, const auto& b) { return a.line() < b.line(); });
        for (common::v1::RowProblem& p : problems) *response->add_problems() = std::move(p);
        return grpc::Status::OK;
      });
}

namespace {

constexpr int kMaxExportRows = 50000;

// The organisations with each one's parent (when listed too) before it, else in their order:
// what an import of the file into an empty registry needs.
std::vector<const registry::v1::Organisation*> ParentsFirst(
    const std::vector<registry::v1::Organisation>& organisations) {
  std::map<std::string, const registry::v1::Organisation*> by_name;
  for (const auto& o : organisations) by_name.emplace(o.name(), &o);
  std::vector<const registry::v1::Organisation*> ordered;
  std::set<std::string> placed;
  // Depth first up the parents; a cycle (which the registry refuses) cannot loop: `placed` is
  // marked before the parent is visited.
  std::function<void(const registry::v1::Organisation&)> place =
      [&](const registry::v1::Organisation& o) {
        if (!placed.insert(o.name()).second) return;
        auto parent = by_name.find(o.parent());
        if (parent != by_name.end()) place(*parent->second);
        ordered.push_back(&o);
      };
  for (const auto& o : organisations) place(o);
  return ordered;
}

// A roster of care promises reads each of its elders' promises, the cancelled and (with an
// `organisation`) other owners' ones too: at most this many in all.
constexpr int kMaxExportCommitmentsRead = 10 * kMaxExportRows;

// Every page of a List method, each record handed to `add`; FAILED_PRECONDITION once more than
// `limit` were read (counted in `total`), saying `too_many` (by default: the roster is too long).
template <typename Request, typename Response, typename Call, typename Records, typename Add>
grpc::Status AllPages(const grpc::ServerContext& context, Request request, Call call,
                      Records records, Add add, int* total, int limit = kMaxExportRows,
                      const std::string& too_many = "") {
  request.set_page_size(kMaxPageSize);
  do {
    Response page;
    if (grpc::Status status = call(request, &page); !status.ok()) return status;
    for (const auto& record : records(page)) {
      if (++*total > limit) {
        return Reply(context,
                     absl::FailedPreconditionError(
                         !too_many.empty()
                             ? too_many
                             : absl::StrCat("the roster holds more than ", kMaxExportRows,
                                            " rows: export a smaller region or one organisation")));
      }
      add(record);
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ConsoleServiceImpl::ExportRoster(grpc::ServerContext* context,
                                              const v1::ExportRosterRequest* request,
                                              v1::ExportRosterResponse* response) {
  return gate_->Run(
      context, "/linli.gateway.v1.ConsoleService/ExportRoster", *request,
      [&](const auth::Principal& who) -> grpc::Status {
        absl::StatusOr<const roster::Roster*> named = RosterOf(request->kind());
        if (!named.ok()) return Reply(*context, named.status());
        const roster::Roster* kind = *named;
        if (request->format() != v1::ROSTER_FORMAT_CSV &&
            request->format() != v1::ROSTER_FORMAT_XLSX) {
          return Reply(*context,
                       InvalidField("format", "must be ROSTER_FORMAT_CSV or ROSTER_FORMAT_XLSX"));
        }
        // The region the rule let through, else the caller's own (admins: everywhere).
        const std::string region =
            InOwnRegionUnlessNamed(*request, who, !request->region().empty()).region();
        using Stub = registry::v1::RegistryService::StubInterface;
        auto list = [&](auto prepare) {
          return [&, prepare](const auto& page_request, auto* page) {
            return Forward(context, who, registry_.get(), prepare, page_request, page, "registry");
          };
        };
        int total = 0;
        // Organisations of the region (those named by `organisation` only, for workers).
        std::vector<registry::v1::Organisation> organisations;
        auto list_organisations = [&]() -> grpc::Status {
          registry::v1::ListOrganisationsRequest q;
          q.set_region(region);
          int seen = 0;
          return AllPages<registry::v1::ListOrganisationsRequest,
                          registry::v1::ListOrganisationsResponse>(
              *context, q, list(&Stub::PrepareAsyncListOrganisations),
              [](const auto& page) -> const auto& { return page.organisations(); },
              [&](const registry::v1::Organisation& o) { organisations.push_back(o); }, &seen);
        };
        roster::Table table;
        std::vector<std::unique_ptr<google::protobuf::Message>> records;
        auto keep = [&](const google::protobuf::Message& record) {
          records.emplace_back(record.New());
          records.back()->CopyFrom(record);
        };
        grpc::Status status;
        switch (request->kind()) {
          case v1::ROSTER_KIND_ELDERS: {
            std::vector<registry::v1::Elder> elders;
            registry::v1::ListEldersRequest q;
            q.set_region(region);
            status = AllPages<registry::v1::ListEldersRequest, registry::v1::ListEldersResponse>(
                *context, q, list(&Stub::PrepareAsyncListElders),
                [](const auto& page) -> const auto& { return page.elders(); },
                [&](const registry::v1::Elder& e) { elders.push_back(e); }, &total);
            if (status.ok()) table = roster::EldersTable(elders);
            break;
          }
          case v1::ROSTER_KIND_ORGANISATIONS:
            status = list_organisations();
            for (const auto* o : ParentsFirst(organisations)) keep(*o);
            total = static_cast<int>(records.size());
            break;
          case v1::ROSTER_KIND_RELATIONS:
          case v1::ROSTER_KIND_OFFERINGS:
          case v1::ROSTER_KIND_WORKERS: {
            if (!request->organisation().empty()) {
              organisations.emplace_back().set_name(request->organisation());
            } else {
              status = list_organisations();
            }
            std::set<std::string> seen;  // a relation between two of them is listed by both
            for (size_t i = 0; status.ok() && i < organisations.size(); ++i) {
              const std::string& owner = organisations[i].name();
              if (request->kind() == v1::ROSTER_KIND_RELATIONS) {
                registry::v1::ListRelationsRequest q;
                q.set_organisation(owner);
                status = AllPages<registry::v1::ListRelationsRequest,
                                  registry::v1::ListRelationsResponse>(
                    *context, q, list(&Stub::PrepareAsyncListRelations),
                    [](const auto& page) -> const auto& { return page.relations(); },
                    [&](const registry::v1::Relation& r) {
                      if (r.source() == owner && seen.insert(r.name()).second) keep(r);
                    },
                    &total);
              } else if (request->kind() == v1::ROSTER_KIND_OFFERINGS) {
                registry::v1::ListOfferingsRequest q;
                q.set_organisation(owner);
                status = AllPages<registry::v1::ListOfferingsRequest,
                                  registry::v1::ListOfferingsResponse>(
                    *context, q, list(&Stub::PrepareAsyncListOfferings),
                    [](const auto& page) -> const auto& { return page.offerings(); },
                    [&](const registry::v1::Offering& o) { keep(o); }, &total);
              } else {
                registry::v1::ListWorkersRequest q;
                q.set_organisation(owner);
                status =
                    AllPages<registry::v1::ListWorkersRequest, registry::v1::ListWorkersResponse>(
                        *context, q, list(&Stub::PrepareAsyncListWorkers),
                        [](const auto& page) -> const auto& { return page.workers(); },
                        [&](registry::v1::Worker w) {
                          CoarsenForStaff(who, w);
                          keep(w);
                        },
                        &total);
              }
            }
            break;
          }
          case v1::ROSTER_KIND_COMMITMENTS: {
            // The region's elders as ListElders shows them to the caller (as the roster of
            // elders): each one's ID number masked as the caller sees it, nothing unmasked.
            std::vector<std::pair<std::string, std::string>> elders;  // name, ID number
            registry::v1::ListEldersRequest q;
            q.set_region(region);
            int elders_read = 0;
            status = AllPages<registry::v1::ListEldersRequest, registry::v1::ListEldersResponse>(
                *context, q, list(&Stub::PrepareAsyncListElders),
                [](const auto& page) -> const auto& { return page.elders(); },
                [&](const registry::v1::Elder& e) { elders.emplace_back(e.name(), e.id_number()); },
                &elders_read, kMaxExportRows,
                absl::StrCat("the region holds more than ", kMaxExportRows,
                             " elders: export the promises of a smaller region"));
            // Each elder's promises, asked for by elder (ListCommitments' `elder` is indexed):
            // the work grows with the region's elders, and no promise of another region is
            // read. Listing every promise of the platform and keeping the region's would read
            // the whole platform's for one committee's file, and a bound on that reading would
            // refuse a small region's export once the platform grew past it.
            int read = 0;
            for (size_t i = 0; status.ok() && i < elders.size(); ++i) {
              const std::string& elder = elders[i].first;
              const std::string& id_number = elders[i].second;
              scheduling::v1::ListCommitmentsRequest promises;
              promises.set_elder(elder);
              status = AllPages<scheduling::v1::ListCommitmentsRequest,
                                scheduling::v1::ListCommitmentsResponse>(
                  *context, promises,
                  [&](const auto& page_request, auto* page) {
                    return Forward(context, who, scheduling_.get(),
                                   &scheduling::v1::SchedulingService::StubInterface::
                                       PrepareAsyncListCommitments,
                                   page_request, page, "scheduling");
                  },
                  [](const auto& page) -> const auto& { return page.commitments(); },
                  [&](const scheduling::v1::Commitment& c) {
                    // The current roster: a cancelled promise is no longer one.
                    if (c.elder() != elder ||
                        c.state() != scheduling::v1::COMMITMENT_STATE_ACTIVE ||
                        (!request->organisation().empty() &&
                         c.owner_organisation() != request->organisation())) {
                      return;
                    }
                    auto row = std::make_unique<scheduling::v1::Commitment>(c);
                    row->set_elder(id_number);  // the 身份证号 column
                    records.push_back(std::move(row));
                  },
                  &read, kMaxExportCommitmentsRead,
                  absl::StrCat("more than ", kMaxExportCommitmentsRead,
                               " care promises (cancelled ones too) belong to the region's "
                               "elders: export a smaller region"));
              if (status.ok() && records.size() > static_cast<size_t>(kMaxExportRows)) {
                status = Reply(*context, absl::FailedPreconditionError(absl::StrCat(
                                             "the roster holds more than ", kMaxExportRows,
                                             " rows: export a smaller region or one "
                                             "organisation")));
              }
            }
            total = static_cast<int>(records.size());
            break;
          }
          default:
            // A roster read on import that has no export here: refused, not an empty file.
            status = Reply(*context, InvalidField("kind", absl::StrCat("the roster of ", kind->name,
                                                                       " has no export")));
            break;
        }
        if (!status.ok()) return status;
        if (request->kind() != v1::ROSTER_KIND_ELDERS) {
          std::vector<const google::protobuf::Message*> rows;
          for (const auto& record : records) rows.push_back(record.get());
          table = roster::RosterTable(*kind, rows);
        }
        // The file is named after what it holds: one organisation's, a region's, or all.
        const std::string scope =
            !request->organisation().empty() && request->kind() != v1::ROSTER_KIND_ELDERS &&
                    request->kind() != v1::ROSTER_KIND_ORGANISATIONS
                ? std::string(absl::StripPrefix(request->organisation(), "organisations/"))
            : region.empty() ? "all"
                             : std::string(absl::StripPrefix(region, "regions/"));
        const std::string day =
            absl::FormatTime("%Y-%m-%d", clock_.Now(), absl::FixedTimeZone(8 * 3600));
        const std::string base = absl::StrCat(kind->name, "-", scope, "-", day);
        if (request->format() == v1::ROSTER_FORMAT_XLSX) {
          absl::StatusOr<std::string> bytes = roster::ToXlsx(table, kind->name);
          if (!bytes.ok()) return Reply(*context, bytes.status());
          response->set_content(std::move(*bytes));
          response->set_content_type(
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
          response->set_file_name(base + ".xlsx");
        } else {
          response->set_content(roster::ToCsv(table));
          response->set_content_type("text/csv; charset=utf-8");
          response->set_file_name(base + ".csv");
        }
        response->set_rows(static_cast<int32_t>(table.rows.size()));
        return grpc::Status::OK;
      });
}

}  // namespace linli::gateway
