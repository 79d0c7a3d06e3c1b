// Registry use cases: importing rosters of organisations, relations, offerings and workers
// (ImportRecords), as ImportElders imports elders.
//
// Each row is first checked without the database by the Prepare step of its kind's Create method
// (registry_app_internal.h) and once against the earlier rows of the call; then, in one
// transaction, by the Resolve step, the region guard and what the database already holds. A row
// naming a registered record is counted as existing and left as it is; the others are written by
// the Store step, only when every row passed (or skip_bad_rows), never with dry_run.
#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "services/registry/catalogue.h"
#include "services/registry/region.h"
#include "services/registry/registry_app.h"
#include "services/registry/registry_app_internal.h"
#include "services/registry/registry_store.h"

namespace linli::registry {
namespace {

using storage::Transaction;

// What the transaction makes of a row that passed the checks without the database.
enum class Verdict {
  kNew,       // to be registered
  kExisting,  // names a registered record: left as it is
  kRefused,   // its problems are added
};

// An INVALID_ARGUMENT from a check refuses the row with its problems; any other error ends the
// call.
absl::StatusOr<Verdict> Refuse(int line, const absl::Status& status, RowProblems* problems) {
  if (status.code() != absl::StatusCode::kInvalidArgument) return status;
  AddProblems(line, status, problems);
  return Verdict::kRefused;
}

using Guard = RegionGuard;

// Refuses a row whose `what` (under `field`) lies outside the guard.
Verdict Outside(int line, std::string field, const std::string& what, const Guard& guard,
                std::string reason_zh, RowProblems* problems) {
  AddProblem(line, std::move(field),
             absl::StrCat(what, " is outside ", guard.name, ", where the caller may register"),
             std::move(reason_zh), problems);
  return Verdict::kRefused;
}

// Refuses a row that names the same record as an earlier row of the call.
void Repeats(int line, std::string field, const std::string& what, int earlier_line,
             const std::string& what_zh, RowProblems* problems) {
  AddProblem(line, std::move(field), absl::StrCat("the same ", what, " as line ", earlier_line),
             absl::StrCat(what_zh, "与第 ", earlier_line, " 行重复"), problems);
}

// The rows of one kind that passed the checks without the database: each checked in the
// transaction against the database and the rows accepted before it, then written.
struct ImportSteps {
  size_t rows = 0;
  // Forgets what an earlier attempt of the transaction accepted.
  std::function<void()> reset;
  // Checks ready row i; adds the problems of a refused row.
  std::function<absl::StatusOr<Verdict>(Transaction&, size_t, const Guard&)> check;
  // Writes ready row i, accepted as new.
  std::function<absl::Status(Transaction&, size_t)> write;
};

// Runs the transaction of an import: the guard, every row's check, and the writes when every
// row passed (or skip_bad_rows) and it is not a dry run; then orders the problems by line.
absl::Status RunImport(storage::Database& db, const v1::ImportRecordsRequest& request,
                       const std::string& guard_code, const ImportSteps& steps,
                       v1::ImportRecordsResponse* response) {
  RowProblems* problems = response->mutable_problems();
  const int checked = problems->size();
  absl::Status status = db.RunInTransaction([&](Transaction& tx) -> absl::Status {
    // A retried transaction starts the database checks again.
    while (problems->size() > checked) problems->RemoveLast();
    response->set_created(0);
    response->set_existing(0);
    response->set_written(false);
    steps.reset();
    ASSIGN_OR_RETURN(const Guard guard, LoadRegionGuard(tx, request.region_guard(), guard_code));
    std::vector<size_t> to_write;
    for (size_t i = 0; i < steps.rows; ++i) {
      ASSIGN_OR_RETURN(Verdict verdict, steps.check(tx, i, guard));
      if (verdict == Verdict::kExisting) response->set_existing(response->existing() + 1);
      if (verdict == Verdict::kNew) to_write.push_back(i);
    }
    response->set_created(static_cast<int32_t>(to_write.size()));
    if (request.dry_run() || (problems->size() > 0 && !request.skip_bad_rows())) {
      return absl::OkStatus();
    }
    for (size_t i : to_write) {
      absl::Status written = steps.write(tx, i);
      // Another call registered the same record since this one looked: start again, and find
      // it registered.
      if (absl::IsAlreadyExists(written)) return absl::AbortedError(written.message());
      RETURN_IF_ERROR(written);
    }
    response->set_written(!to_write.empty());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  // The problems by line: those found without the database came first.
  SortByLine(*problems);
  return absl::OkStatus();
}

// Organisations, known by their credit code when they have one, else by their name in their
// region; a row may name as parent an organisation of an earlier row.
absl::Status ImportOrganisations(storage::Database& db, const Clock& clock,
                                 const v1::ImportRecordsRequest& request,
                                 const std::string& guard_code,
                                 v1::ImportRecordsResponse* response) {
  RowProblems* problems = response->mutable_problems();
  const absl::Time now = clock.Now();
  struct Ready {
    int line;
    NewOrganisation organisation;
  };
  std::vector<Ready> ready;
  // Earlier rows by id, credit code, and region and name (every row: a row without a code is
  // known by its name, whichever row holds it).
  std::map<std::string, int> line_of_id, line_of_code, line_of_name;
  for (const v1::ImportedRecord& row : request.rows()) {
    FieldViolations v;
    NewOrganisation org = PrepareOrganisation(row.organisation(), now, v);
    if (!v.empty()) {
      AddProblems(row.line(), v.ToStatus(), problems);
      continue;
    }
    const v1::Organisation& in = org.row.organisation;
    const std::string name = absl::StrCat(org.row.region_code, "|", in.display_name());
    if (!in.credit_code().empty()) {
      if (auto it = line_of_code.find(in.credit_code()); it != line_of_code.end()) {
        Repeats(row.line(), "organisation.credit_code", "credit code", it->second,
                "统一社会信用代码", problems);
        continue;
      }
    } else if (auto it = line_of_name.find(name); it != line_of_name.end()) {
      Repeats(row.line(), "organisation.display_name", "name in the same region", it->second,
              "同一区域内的单位名称", problems);
      continue;
    }
    if (auto it = line_of_id.find(org.row.id); it != line_of_id.end()) {
      Repeats(row.line(), "organisation.id", "id", it->second, "单位编号", problems);
      continue;
    }
    line_of_id.emplace(org.row.id, row.line());
    if (!in.credit_code().empty()) line_of_code.emplace(in.credit_code(), row.line());
    line_of_name.emplace(name, row.line());
    ready.push_back({row.line(), std::move(org)});
  }

  std::set<std::string> accepted;  // ids of the rows accepted as new so far
  std::map<std::string, std::vector<v1::Organisation>> at;  // organisations by region path
  ImportSteps steps;
  steps.rows = ready.size();
  steps.reset = [&] {
    accepted.clear();
    at.clear();
  };
  steps.check = [&](Transaction& tx, size_t i, const Guard& guard) -> absl::StatusOr<Verdict> {
    const int line = ready[i].line;
    NewOrganisation& org = ready[i].organisation;
    const v1::Organisation& in = org.row.organisation;
    absl::Status resolved =
        ResolveOrganisation(tx, org, [&](const std::string& id) { return accepted.count(id) > 0; });
    if (!resolved.ok()) return Refuse(line, resolved, problems);
    if (!guard.Admits(org.row.region_path)) {
      return Outside(line, "organisation.region", in.region(), guard, "单位所在区域不在你的辖区内",
                     problems);
    }
    // The registered organisation the row names, if any.
    std::optional<v1::Organisation> named;
    if (!in.credit_code().empty()) {
      ASSIGN_OR_RETURN(named, FindOrganisationByCreditCode(tx, in.credit_code()));
      if (named.has_value() && named->region() != in.region()) {
        // Registered elsewhere: told without naming it (it may lie outside the caller's region).
        AddProblem(line, "organisation.credit_code",
                   "is the credit code of an organisation registered in another region",
                   "统一社会信用代码已被另一区域的单位使用", problems);
        return Verdict::kRefused;
      }
    } else {
      auto there = at.find(org.row.region_path);
      if (there == at.end()) {
        ASSIGN_OR_RETURN(std::vector<v1::Organisation> orgs,
                         OrganisationsAt(tx, org.row.region_path));
        there = at.emplace(org.row.region_path, std::move(orgs)).first;
      }
      for (const v1::Organisation& o : there->second) {
        // Of two with the name, the one with the row's id.
        if (o.display_name() == in.display_name() && (!named.has_value() || o.id() == in.id())) {
          named = o;
        }
      }
    }
    ASSIGN_OR_RETURN(std::optional<v1::Organisation> holder, FindOrganisation(tx, in.id()));
    if (holder.has_value() && (!named.has_value() || named->id() != holder->id())) {
      // Named only when it lies within the guard: the caller may see it.
      ASSIGN_OR_RETURN(std::optional<std::string> holder_path,
                       OrganisationRegionPath(tx, holder->id()));
      const bool visible = holder_path.has_value() && guard.Admits(*holder_path);
      AddProblem(line, "organisation.id",
                 visible ? absl::StrCat(holder->name(), " is another organisation (",
                                        holder->display_name(), ")")
                         : absl::StrCat(holder->name(), " is taken by another organisation"),
                 visible ? absl::StrCat("单位编号已被另一单位（", holder->display_name(), "）使用")
                         : "单位编号已被另一单位使用",
                 problems);
      return Verdict::kRefused;
    }
    if (named.has_value()) return Verdict::kExisting;
    accepted.insert(in.id());
    return Verdict::kNew;
  };
  steps.write = [&](Transaction& tx, size_t i) {
    return StoreOrganisation(tx, clock, ready[i].organisation);
  };
  return RunImport(db, request, guard_code, steps, response);
}

// Relations, known by source, target and type (of a relation not retired). An administrative
// relation may close no cycle with the stored ones and those of earlier rows.
absl::Status ImportRelations(storage::Database& db, const Clock& clock,
                             const v1::ImportRecordsRequest& request, const std::string& guard_code,
                             v1::ImportRecordsResponse* response) {
  RowProblems* problems = response->mutable_problems();
  struct Ready {
    int line;
    NewRelation relation;
  };
  std::vector<Ready> ready;
  std::map<std::string, int> line_of_tie;
  for (const v1::ImportedRecord& row : request.rows()) {
    FieldViolations v;
    NewRelation relation = PrepareRelation(row.relation(), v);
    if (!v.empty()) {
      AddProblems(row.line(), v.ToStatus(), problems);
      continue;
    }
    const v1::Relation& in = relation.relation;
    auto [it, first] = line_of_tie.emplace(
        absl::StrCat(in.source(), "|", in.target(), "|", in.type()), row.line());
    if (!first) {
      Repeats(row.line(), "relation.target", "source, target and type", it->second, "关系",
              problems);
      continue;
    }
    ready.push_back({row.line(), std::move(relation)});
  }

  // The administrative parents accepted so far, by source.
  std::map<std::string, std::vector<std::string>> added_parents;
  ImportSteps steps;
  steps.rows = ready.size();
  steps.reset = [&] { added_parents.clear(); };
  steps.check = [&](Transaction& tx, size_t i, const Guard& guard) -> absl::StatusOr<Verdict> {
    const int line = ready[i].line;
    const NewRelation& relation = ready[i].relation;
    const v1::Relation& in = relation.relation;
    const ParentsOf parents_of =
        [&](const std::string& node) -> absl::StatusOr<std::vector<std::string>> {
      ASSIGN_OR_RETURN(std::vector<std::string> parents, AdministrativeParents(tx, node));
      if (auto added = added_parents.find(node); added != added_parents.end()) {
        parents.insert(parents.end(), added->second.begin(), added->second.end());
      }
      return parents;
    };
    std::string source_path, target_path;
    absl::Status resolved = ResolveRelation(tx, relation, parents_of, &source_path, &target_path);
    if (!resolved.ok()) return Refuse(line, resolved, problems);
    if (!guard.Admits(source_path)) {
      return Outside(line, "relation.source", in.source(), guard, "关系的来源单位不在你的辖区内",
                     problems);
    }
    // The target as CreateRelation's rule has it: a region within the guard; an organisation
    // within it or above it (a district bureau that guides the street).
    const bool above =
        in.type() != v1::RELATION_TYPE_SERVES_REGION && absl::StartsWith(guard.path, target_path);
    if (!guard.Admits(target_path) && !above) {
      return Outside(line, "relation.target", in.target(), guard, "关系的对象不在你的辖区内",
                     problems);
    }
    ASSIGN_OR_RETURN(std::optional<v1::Relation> same, FindRelationByTriple(tx, in));
    if (same.has_value() && !same->retired()) return Verdict::kExisting;
    if (in.type() == v1::RELATION_TYPE_ADMINISTRATIVE) {
      added_parents[in.source()].push_back(in.target());
    }
    return Verdict::kNew;
  };
  steps.write = [&](Transaction& tx, size_t i) {
    v1::Relation stored;
    return StoreRelation(tx, clock, ready[i].relation, &stored);
  };
  return RunImport(db, request, guard_code, steps, response);
}

// Offerings, known by organisation, service type and display name (of an offering not retired);
// the organisation and every covered region must lie within the guard.
absl::Status ImportOfferings(storage::Database& db, const Clock& clock,
                             const v1::ImportRecordsRequest& request, const std::string& guard_code,
                             v1::ImportRecordsResponse* response) {
  const storage::Dialect dialect = db.dialect();
  RowProblems* problems = response->mutable_problems();
  struct Ready {
    int line;
    NewOffering offering;
  };
  std::vector<Ready> ready;
  std::map<std::string, int> line_of_key;
  for (const v1::ImportedRecord& row : request.rows()) {
    FieldViolations v;
    NewOffering offering = PrepareOffering(row.offering(), v);
    if (!v.empty()) {
      AddProblems(row.line(), v.ToStatus(), problems);
      continue;
    }
    auto [it, first] =
        line_of_key.emplace(absl::StrCat(offering.organisation_id, "|", offering.service_code, "|",
                                         offering.offering.display_name()),
                            row.line());
    if (!first) {
      Repeats(row.line(), "offering.display_name", "organisation, service type and name",
              it->second, "服务项目", problems);
      continue;
    }
    ready.push_back({row.line(), std::move(offering)});
  }

  ImportSteps steps;
  steps.rows = ready.size();
  steps.reset = [] {};
  steps.check = [&](Transaction& tx, size_t i, const Guard& guard) -> absl::StatusOr<Verdict> {
    const int line = ready[i].line;
    const NewOffering& offering = ready[i].offering;
    std::vector<Region> covered;
    absl::Status resolved = ResolveOffering(tx, offering, &covered);
    if (!resolved.ok()) return Refuse(line, resolved, problems);
    ASSIGN_OR_RETURN(std::optional<std::string> owner_path,
                     OrganisationRegionPath(tx, offering.organisation_id));
    if (!owner_path.has_value() || !guard.Admits(*owner_path)) {
      return Outside(line, "offering.organisation", offering.offering.organisation(), guard,
                     "服务项目的单位不在你的辖区内", problems);
    }
    // The owner locked (once it is known to be the caller's): two imports of one roster at once
    // find each other's offerings.
    RETURN_IF_ERROR(FindOrganisationForUpdate(tx, dialect, offering.organisation_id).status());
    // Registered already (the owner is the caller's, so this tells nothing new): left as it is,
    // also when it covers regions beyond the caller's, as an exported roster's rows may.
    ASSIGN_OR_RETURN(
        std::vector<v1::Offering> same_service,
        QueryOfferings(tx, offering.organisation_id, offering.service_code,
                       /*include_retired=*/false, "", std::numeric_limits<int>::max()));
    for (const v1::Offering& o : same_service) {
      if (o.display_name() == offering.offering.display_name()) return Verdict::kExisting;
    }
    for (size_t c = 0; c < covered.size(); ++c) {
      if (!guard.Admits(covered[c].path)) {
        return Outside(line, absl::StrCat("offering.covered_regions[", c, "]"),
                       RegionName(covered[c].code), guard, "服务区域不在你的辖区内", problems);
      }
    }
    return Verdict::kNew;
  };
  steps.write = [&](Transaction& tx, size_t i) {
    return StoreOffering(tx, clock, ready[i].offering);
  };
  return RunImport(db, request, guard_code, steps, response);
}

// Workers, known by organisation and phone (required here); a phone written is audited as
// "import".
absl::Status ImportWorkers(storage::Database& db, const Clock& clock,
                           const pii::FieldCipher& cipher, const Caller& caller,
                           const v1::ImportRecordsRequest& request, const std::string& guard_code,
                           v1::ImportRecordsResponse* response) {
  RowProblems* problems = response->mutable_problems();
  const absl::Time now = clock.Now();
  struct Ready {
    int line;
    NewWorker worker;
    std::string phone_index;
  };
  std::vector<Ready> ready;
  std::map<std::string, int> line_of_key;
  for (const v1::ImportedRecord& row : request.rows()) {
    FieldViolations v;
    NewWorker worker = PrepareWorker(row.worker(), v);
    const bool no_phone = row.worker().phone().empty();
    if (!v.empty() || no_phone) {
      if (!v.empty()) AddProblems(row.line(), v.ToStatus(), problems);
      if (no_phone) {
        AddProblem(row.line(), "worker.phone",
                   "is required: an import knows a worker by organisation and phone",
                   "导入的服务人员须填写电话（按单位和电话识别）", problems);
      }
      continue;
    }
    std::string index = cipher.BlindIndex(WorkerPhoneKey(worker.worker.phone()));
    auto [it, first] =
        line_of_key.emplace(absl::StrCat(worker.organisation_id, "|", index), row.line());
    if (!first) {
      Repeats(row.line(), "worker.phone", "organisation and phone", it->second, "同一单位的电话",
              problems);
      continue;
    }
    ready.push_back({row.line(), std::move(worker), std::move(index)});
  }

  ImportSteps steps;
  steps.rows = ready.size();
  steps.reset = [] {};
  steps.check = [&](Transaction& tx, size_t i, const Guard& guard) -> absl::StatusOr<Verdict> {
    const Ready& r = ready[i];
    std::string organisation_path;
    absl::Status resolved = ResolveWorker(tx, r.worker, &organisation_path);
    if (!resolved.ok()) return Refuse(r.line, resolved, problems);
    if (!guard.Admits(organisation_path)) {
      return Outside(r.line, "worker.organisation", r.worker.worker.organisation(), guard,
                     "服务人员所在单位不在你的辖区内", problems);
    }
    ASSIGN_OR_RETURN(std::optional<std::string> same,
                     FindWorkerIdByPhoneIndex(tx, r.worker.organisation_id, r.phone_index));
    return same.has_value() ? Verdict::kExisting : Verdict::kNew;
  };
  steps.write = [&](Transaction& tx, size_t i) {
    return StoreWorker(tx, clock, cipher, caller, now, "import", ready[i].worker);
  };
  return RunImport(db, request, guard_code, steps, response);
}

}  // namespace

absl::Status Registry::ImportRecords(const v1::ImportRecordsRequest& request, const Caller& caller,
                                     v1::ImportRecordsResponse* response) {
  if (request.rows_size() == 0 || request.rows_size() > kMaxImportRows) {
    return InvalidField("rows", absl::StrCat("must hold 1 to ", kMaxImportRows, " rows"));
  }
  const v1::ImportedRecord::RecordCase kind = request.rows(0).record_case();
  for (const v1::ImportedRecord& row : request.rows()) {
    if (row.record_case() == v1::ImportedRecord::RECORD_NOT_SET || row.record_case() != kind) {
      return InvalidField("rows",
                          absl::StrCat("must all hold records of one kind (organisation, relation, "
                                       "offering or worker): line ",
                                       row.line(), " does not"));
    }
  }
  std::string guard_code;
  if (!request.region_guard().empty()) {
    ASSIGN_OR_RETURN(guard_code, ParseRegionName(request.region_guard(), "region_guard"));
  }
  switch (kind) {
    case v1::ImportedRecord::kOrganisation:
      return ImportOrganisations(db_, clock_, request, guard_code, response);
    case v1::ImportedRecord::kRelation:
      return ImportRelations(db_, clock_, request, guard_code, response);
    case v1::ImportedRecord::kOffering:
      return ImportOfferings(db_, clock_, request, guard_code, response);
    case v1::ImportedRecord::kWorker:
      return ImportWorkers(db_, clock_, cipher_, caller, request, guard_code, response);
    case v1::ImportedRecord::RECORD_NOT_SET:
      break;
  }
  return absl::InternalError("unreachable: an import of no kind");
}

}  // namespace linli::registry
