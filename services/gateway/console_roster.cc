// ConsoleService's rosters: a street's spreadsheets imported into the registry and exported
// from it (common/roster reads and writes them).
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
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
    default:
      return InvalidField("kind",
                          "must name a roster (ROSTER_KIND_ELDERS, _ORGANISATIONS, _RELATIONS, "
                          "_OFFERINGS, _WORKERS or _COMMITMENTS)");
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

common::v1::RowProblem RowRefused(int line, const char* column, const char* field,
                                  std::string reason, const char* reason_zh) {
  common::v1::RowProblem p;
  p.set_line(line);
  p.set_column(column);
  p.set_field(field);
  p.set_reason(std::move(reason));
  p.set_reason_zh(reason_zh);
  return p;
}

}  // namespace

grpc::Status ConsoleServiceImpl::ImportCommitmentRows(grpc::ServerContext* context,
                                                      const auth::Principal& who,
                                                      std::vector<roster::Row>& read, bool dry_run,
                                                      bool skip_bad_rows,
                                                      std::vector<common::v1::RowProblem>& problems,
                                                      v1::ImportRosterResponse* response) {
  // The elders by ID number, within the caller's region: an elder elsewhere is not found.
  registry::v1::FindEldersByIdNumberRequest find;
  for (const roster::Row& row : read) {
    find.add_id_numbers(static_cast<const scheduling::v1::Commitment&>(*row.record).elder());
  }
  find.set_region_guard(who.role == auth::Role::kAdmin ? "" : "regions/" + who.region);
  find.set_reason("导入服务承诺名册 (import of a roster of care promises)");
  registry::v1::FindEldersByIdNumberResponse found;
  grpc::Status status =
      Forward(context, who, registry_.get(),
              &registry::v1::RegistryService::StubInterface::PrepareAsyncFindEldersByIdNumber, find,
              &found, "registry");
  if (!status.ok()) return status;
  // The owners the caller may name, as CreateCommitment's rule says (asked once each).
  std::map<std::string, absl::Status> owners;
  scheduling::v1::ImportCommitmentsRequest rows;
  for (size_t i = 0; i < read.size(); ++i) {
    auto& commitment = static_cast<scheduling::v1::Commitment&>(*read[i].record);
    if (i >= static_cast<size_t>(found.elders_size()) || found.elders(i).empty()) {
      problems.push_back(RowRefused(read[i].line, "身份证号", "commitment.elder",
                                    "no elder is registered under this ID number in your region",
                                    "你的辖区内没有以此身份证号登记的老人"));
      continue;
    }
    auto owner = owners.find(commitment.owner_organisation());
    if (owner == owners.end()) {
      owner = owners
                  .emplace(commitment.owner_organisation(),
                           gate_->relations().Organisation(*context, who,
                                                           commitment.owner_organisation()))
                  .first;
    }
    if (absl::IsUnavailable(owner->second)) return Reply(*context, owner->second);
    if (!owner->second.ok()) {
      problems.push_back(RowRefused(read[i].line, "服务单位", "commitment.owner_organisation",
                                    std::string(owner->second.message()),
                                    "服务单位不存在，或不在你的辖区内"));
      continue;
    }
    commitment.set_elder(found.elders(i));
    scheduling::v1::ImportedCommitment* imported = rows.add_rows();
    imported->set_line(read[i].line);
    imported->mutable_commitment()->Swap(&commitment);
  }
  if (rows.rows().empty()) return grpc::Status::OK;
  rows.set_dry_run(dry_run || (!problems.empty() && !skip_bad_rows));
  rows.set_skip_bad_rows(skip_bad_rows);
  scheduling::v1::ImportCommitmentsResponse imported;
  status = Forward(context, who, scheduling_.get(),
                   &scheduling::v1::SchedulingService::StubInterface::PrepareAsyncImportCommitments,
                   rows, &imported, "scheduling");
  if (!status.ok()) return status;
  response->set_created(imported.created());
  response->set_existing(imported.existing());
  response->set_written(imported.written());
  problems.insert(problems.end(), imported.problems().begin(), imported.problems().end());
  return grpc::Status::OK;
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

// Every page of a registry List method, each record handed to `add`; FAILED_PRECONDITION once
// more than kMaxExportRows were read.
template <typename Request, typename Response, typename Call, typename Records, typename Add>
grpc::Status AllPages(const grpc::ServerContext& context, Request request, Call call,
                      Records records, Add add, int* total) {
  request.set_page_size(kMaxPageSize);
  do {
    Response page;
    if (grpc::Status status = call(request, &page); !status.ok()) return status;
    for (const auto& record : records(page)) {
      if (++*total > kMaxExportRows) {
        return Reply(context, absl::FailedPreconditionError(absl::StrCat(
                                  "the roster holds more than ", kMaxExportRows,
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
        if (request->kind() == v1::ROSTER_KIND_COMMITMENTS) {
          return Reply(*context, InvalidField("kind",
                                              "a roster of care promises is imported, not exported "
                                              "(ListCommitments lists an elder's promises)"));
        }
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
          default:
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
