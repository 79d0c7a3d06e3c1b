// Registry use cases: elders, their personal data (sealed, masked, audited) and the audit log.
//
// Personal data never reaches the database in plaintext: the personal fields of an Elder
// (elder.h: PersonalPart) are serialized and sealed with AES-256-GCM bound to "elders/{id}"; the
// stored stub carries only masked values (MaskedStub). A full read decrypts, and is appended to
// the audit log in the same transaction, so a read that is not audited cannot happen.
#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "common/audit.h"
#include "common/errors.h"
#include "common/etag.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/pagination.h"
#include "common/pii/masking.h"
#include "common/proto_time.h"
#include "common/recurrence/rrule.h"
#include "common/status_macros.h"
#include "common/update_mask.h"
#include "services/registry/elder.h"
#include "services/registry/region.h"
#include "services/registry/registry_app.h"
#include "services/registry/registry_app_internal.h"
#include "services/registry/registry_store.h"

namespace linli::registry {
namespace {

using storage::Transaction;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;
// ID numbers one FindEldersByIdNumber call may look up.
constexpr int kMaxIdNumbersFound = 1000;

std::string ElderAad(const std::string& id) { return "elders/" + id; }

// The elder with the personal part unsealed (the caller audits the read).
absl::StatusOr<v1::Elder> Unseal(const pii::FieldCipher& cipher, const ElderRow& row) {
  v1::Elder elder = row.stub;
  if (row.erased || row.sealed_personal_data.empty()) return elder;
  ASSIGN_OR_RETURN(std::string bytes, cipher.Decrypt(row.sealed_personal_data, ElderAad(row.id)));
  v1::Elder personal;
  if (!personal.ParseFromString(bytes)) {
    return absl::DataLossError("sealed personal data does not parse");
  }
  elder.clear_contacts();
  elder.MergeFrom(personal);
  return elder;
}

// Stores `full` in `row`: the masked stub, the sealed personal part, the blind index.
absl::Status Seal(const pii::FieldCipher& cipher, const v1::Elder& full, ElderRow& row) {
  row.stub = MaskedStub(full);
  row.living_situation = full.living_situation();
  ASSIGN_OR_RETURN(row.sealed_personal_data,
                   cipher.Encrypt(PersonalPart(full).SerializeAsString(), ElderAad(row.id)));
  row.id_number_index.clear();
  if (!full.id_number().empty()) {
    row.id_number_index =
        cipher.BlindIndex("id_number:" + pii::NormalizeIdNumber(full.id_number()));
  }
  return absl::OkStatus();
}

// FAILED_PRECONDITION for an erased elder.
absl::Status RequireNotErased(const ElderRow& row) {
  if (row.erased) {
    return absl::FailedPreconditionError(row.stub.name() +
                                         " was erased: nothing is left to change");
  }
  return absl::OkStatus();
}

// FAILED_PRECONDITION for an elder whose record is closed.
absl::Status RequireServed(const ElderRow& row) {
  RETURN_IF_ERROR(RequireNotErased(row));
  if (!ElderServed(row.stub)) {
    return absl::FailedPreconditionError(
        absl::StrCat(row.stub.name(), " is recorded as ",
                     row.stub.status() == v1::ELDER_STATUS_DECEASED ? "deceased" : "moved away",
                     " since ", row.stub.status_date(), ": the record is closed"));
  }
  return absl::OkStatus();
}

// INVALID_ARGUMENT unless `name` is a committee (where elders are registered).
absl::Status RequireCommittee(Transaction& tx, const std::string& name, Region* out) {
  const std::string code = *ParseRegionName(name, "elder.region");
  ASSIGN_OR_RETURN(std::optional<Region> region, FindRegion(tx, code));
  if (!region.has_value()) return InvalidField("elder.region", name + " does not exist");
  if (region->level != RegionLevel::kCommittee) {
    return InvalidField("elder.region", "must be a neighbourhood or village committee (居委/村委)");
  }
  *out = *region;
  return absl::OkStatus();
}

absl::Status RequireNeeds(Transaction& tx, const v1::Elder& elder) {
  for (int i = 0; i < elder.needs_size(); ++i) {
    ASSIGN_OR_RETURN(bool exists, ServiceTypeExists(tx, elder.needs(i).substr(13)));
    if (!exists) {
      return InvalidField(absl::StrCat("elder.needs[", i, "]"), elder.needs(i) + " does not exist");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Registry::CreateElder(const v1::CreateElderRequest& request, const Caller& caller,
                                   v1::CreateElderResponse* response) {
  const v1::Elder& in = request.elder();
  FieldViolations v;
  ValidateElder(in, absl::ToCivilDay(clock_.Now(), recurrence::ShanghaiTimeZone()), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  RETURN_IF_ERROR(CheckConsent(in));

  const std::string region_code = *ParseRegionName(in.region(), "elder.region");
  v1::Elder elder = in;
  elder.set_erased(false);
  elder.clear_status_date();  // output only, like the status set below
  const absl::Time now = clock_.Now();
  StampConsents(elder, now, caller.actor);
  *elder.mutable_create_time() = ToTimestamp(now);

  return RunIdempotent(
      db_, "CreateElder", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        Region region;
        RETURN_IF_ERROR(RequireCommittee(tx, in.region(), &region));
        RETURN_IF_ERROR(RequireNeeds(tx, in));
        ElderRow row;
        row.id = NewId(clock_);
        row.region_code = region_code;
        row.region_path = region.path;
        row.create_time = now;
        row.status = v1::ELDER_STATUS_ACTIVE;
        v1::Elder named = elder;
        named.set_name("elders/" + row.id);
        named.set_status(v1::ELDER_STATUS_ACTIVE);
        RETURN_IF_ERROR(Seal(cipher_, named, row));
        RETURN_IF_ERROR(InsertElder(tx, row));
        *response->mutable_elder() = row.stub;
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::ImportElders(const v1::ImportEldersRequest& request, const Caller& caller,
                                    v1::ImportEldersResponse* response) {
  if (request.rows_size() == 0 || request.rows_size() > kMaxImportRows) {
    return InvalidField("rows", absl::StrCat("must hold 1 to ", kMaxImportRows, " rows"));
  }
  std::string guard_code;
  if (!request.region_guard().empty()) {
    ASSIGN_OR_RETURN(guard_code, ParseRegionName(request.region_guard(), "region_guard"));
  }
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, recurrence::ShanghaiTimeZone());
  auto* problems = response->mutable_problems();

  // Each row as CreateElder checks it, without the database; then its ID number once in the call.
  struct Ready {
    int row;  // its index in the request (and in response->elders)
    int line;
    v1::Elder elder;
    std::string index;  // the ID number's blind index, "" without one
  };
  std::vector<Ready> ready;
  std::map<std::string, int> line_of_index;
  for (int i = 0; i < request.rows_size(); ++i) {
    const v1::ImportedElder& row = request.rows(i);
    FieldViolations v;
    ValidateElder(row.elder(), today, v);
    absl::Status status = v.ToStatus();
    if (status.ok()) status = CheckConsent(row.elder());
    if (!status.ok()) {
      // CheckConsent's FAILED_PRECONDITION names no field: the consents are what is missing.
      AddProblems(row.line(), status, problems, "elder.consents");
      continue;
    }
    Ready r{i, row.line(), row.elder(), ""};
    if (!r.elder.id_number().empty()) {
      r.index = cipher_.BlindIndex("id_number:" + pii::NormalizeIdNumber(r.elder.id_number()));
      auto [it, first] = line_of_index.emplace(r.index, row.line());
      if (!first) {
        AddProblem(row.line(), "elder.id_number",
                   absl::StrCat("the same ID number as line ", it->second),
                   absl::StrCat("身份证号与第 ", it->second, " 行重复"), problems);
        continue;
      }
    }
    r.elder.set_erased(false);
    r.elder.clear_status_date();
    StampConsents(r.elder, now, caller.actor);
    *r.elder.mutable_create_time() = ToTimestamp(now);
    ready.push_back(std::move(r));
  }

  // Then against the database: the committee (inside the guard), the needs, an elder already
  // registered under the ID number. Rows are written only when every row passed (or
  // skip_bad_rows), never with dry_run; the transaction holds all of it.
  const int checked = problems->size();
  return db_.RunInTransaction([&](Transaction& tx) -> absl::Status {
    // A retried transaction starts the database checks again.
    while (problems->size() > checked) problems->RemoveLast();
    response->set_existing(0);
    response->set_written(false);
    // One name a row, "" until the row is known to be (or have been) written.
    response->clear_elders();
    for (int i = 0; i < request.rows_size(); ++i) response->add_elders();
    ASSIGN_OR_RETURN(const RegionGuard guard,
                     LoadRegionGuard(tx, request.region_guard(), guard_code));
    std::map<std::string, Region> committees;
    std::vector<std::pair<const Ready*, Region>> to_insert;
    for (const Ready& r : ready) {
      auto known = committees.find(r.elder.region());
      if (known == committees.end()) {
        Region region;
        absl::Status committee = RequireCommittee(tx, r.elder.region(), &region);
        if (!committee.ok()) {
          if (committee.code() != absl::StatusCode::kInvalidArgument) return committee;
          AddProblems(r.line, committee, problems);
          continue;
        }
        known = committees.emplace(r.elder.region(), region).first;
      }
      if (!guard.Admits(known->second.path)) {
        AddProblem(r.line, "elder.region",
                   absl::StrCat(r.elder.region(), " is outside ", request.region_guard(),
                                ", where the caller may register elders"),
                   "居委会不在你的辖区内", problems);
        continue;
      }
      if (absl::Status needs = RequireNeeds(tx, r.elder); !needs.ok()) {
        if (needs.code() != absl::StatusCode::kInvalidArgument) return needs;
        AddProblems(r.line, needs, problems);
        continue;
      }
      if (!r.index.empty()) {
        ASSIGN_OR_RETURN(std::optional<std::string> existing,
                         FindElderIdByIdNumberIndex(tx, r.index));
        if (existing.has_value()) {
          response->set_existing(response->existing() + 1);
          // Named as FindEldersByIdNumber names an elder: only inside the guard (a row's
          // committee inside it does not make an elder registered outside it known), and the
          // lookup by ID number audited as a read.
          ASSIGN_OR_RETURN(std::optional<ElderRow> stored, FindElder(tx, *existing));
          if (stored.has_value() && guard.Admits(stored->region_path)) {
            const std::string name = "elders/" + *existing;
            RETURN_IF_ERROR(AuditPersonalData(tx, caller, now,
                                              {.elder = name,
                                               .resource = "",
                                               .fields = "id_number",
                                               .reason = "roster import: the elder is registered",
                                               .action = "read"}));
            response->set_elders(r.row, name);
          }
          continue;
        }
      }
      to_insert.emplace_back(&r, known->second);
    }
    response->set_created(static_cast<int32_t>(to_insert.size()));
    if (request.dry_run() || (problems->size() > 0 && !request.skip_bad_rows())) {
      return absl::OkStatus();
    }
    for (const auto& [r, region] : to_insert) {
      ElderRow row;
      row.id = NewId(clock_);
      row.region_code = region.code;
      row.region_path = region.path;
      row.create_time = now;
      row.status = v1::ELDER_STATUS_ACTIVE;
      v1::Elder named = r->elder;
      named.set_name("elders/" + row.id);
      named.set_status(v1::ELDER_STATUS_ACTIVE);
      RETURN_IF_ERROR(Seal(cipher_, named, row));
      RETURN_IF_ERROR(InsertElder(tx, row));
      response->set_elders(r->row, named.name());
    }
    response->set_written(!to_insert.empty());
    return absl::OkStatus();
  });
}

absl::Status Registry::FindEldersByIdNumber(const v1::FindEldersByIdNumberRequest& request,
                                            const Caller& caller,
                                            v1::FindEldersByIdNumberResponse* response) {
  if (request.id_numbers_size() == 0 || request.id_numbers_size() > kMaxIdNumbersFound) {
    return InvalidField("id_numbers",
                        absl::StrCat("must hold 1 to ", kMaxIdNumbersFound, " ID numbers"));
  }
  RETURN_IF_ERROR(ValidateReason(request.reason()));
  std::string guard_code;
  if (!request.region_guard().empty()) {
    ASSIGN_OR_RETURN(guard_code, ParseRegionName(request.region_guard(), "region_guard"));
  }
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, recurrence::ShanghaiTimeZone());
  // Each number's blind index, as ImportElders computes it; "" for one that is not a valid ID
  // number (which no elder can be registered under).
  std::vector<std::string> indexes;
  indexes.reserve(request.id_numbers_size());
  for (const std::string& number : request.id_numbers()) {
    const std::string normalized = pii::NormalizeIdNumber(number);
    indexes.push_back(pii::ValidateIdNumber(normalized, today).ok()
                          ? cipher_.BlindIndex("id_number:" + normalized)
                          : "");
  }

  // The lookups and their audit entries in one transaction: no audit, no answer. An erased elder
  // has no blind index left, so is not found; one who moved away or died is, as ImportElders
  // counts it as existing.
  return db_.RunInTransaction([&](Transaction& tx) -> absl::Status {
    response->clear_elders();  // a retried transaction starts again
    ASSIGN_OR_RETURN(const RegionGuard guard,
                     LoadRegionGuard(tx, request.region_guard(), guard_code));
    // By blind index: the name found ("" for none); a number given twice is looked up and
    // audited once.
    std::map<std::string, std::string> found;
    for (const std::string& index : indexes) {
      if (index.empty()) {
        response->add_elders();
        continue;
      }
      auto it = found.find(index);
      if (it == found.end()) {
        std::string name;
        ASSIGN_OR_RETURN(std::optional<std::string> id, FindElderIdByIdNumberIndex(tx, index));
        if (id.has_value()) {
          ASSIGN_OR_RETURN(std::optional<ElderRow> row, FindElder(tx, *id));
          if (row.has_value() && guard.Admits(row->region_path)) {
            name = "elders/" + *id;
            RETURN_IF_ERROR(AuditPersonalData(tx, caller, now,
                                              {.elder = name,
                                               .resource = "",
                                               .fields = "id_number",
                                               .reason = request.reason(),
                                               .action = "read"}));
          }
        }
        it = found.emplace(index, std::move(name)).first;
      }
      response->add_elders(it->second);
    }
    return absl::OkStatus();
  });
}

absl::Status Registry::GetElder(const v1::GetElderRequest& request, const Caller& caller,
                                v1::GetElderResponse* response) {
  ASSIGN_OR_RETURN(std::string id, ParseResourceName(request.name(), "elders", "name"));
  if (!v1::ElderView_IsValid(request.view())) return InvalidField("view", "is not a known view");
  const bool full = request.view() == v1::ELDER_VIEW_FULL;
  if (full) RETURN_IF_ERROR(ValidateReason(request.reason()));
  // A full read writes its audit entry in the same transaction: no audit, no data.
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<ElderRow> row, FindElder(tx, id));
        if (!row.has_value()) return NotFound(request.name());
        v1::Elder elder = row->stub;
        if (full && !row->erased && !row->sealed_personal_data.empty()) {
          ASSIGN_OR_RETURN(elder, Unseal(cipher_, *row));
          RETURN_IF_ERROR(AuditPersonalData(tx, caller, clock_.Now(),
                                            {.elder = request.name(),
                                             .resource = "",
                                             .fields = kPersonalFields,
                                             .reason = request.reason(),
                                             .action = "read"}));
        }
        *response->mutable_elder() = std::move(elder);
        return absl::OkStatus();
      },
      {.read_only = !full});
}

absl::Status Registry::ListElders(const v1::ListEldersRequest& request,
                                  v1::ListEldersResponse* response) {
  std::string region_code;
  if (!request.region().empty()) {
    ASSIGN_OR_RETURN(region_code, ParseRegionName(request.region(), "region"));
  }
  if (!v1::LivingSituation_IsValid(request.living_situation())) {
    return InvalidField("living_situation", "is not a known living situation");
  }
  ASSIGN_OR_RETURN(Page page,
                   Page::Start(request.page_size(), request.page_token(),
                               absl::StrCat("elders|", region_code, "|", request.living_situation(),
                                            request.show_retired() ? "|retired" : ""),
                               kDefaultPage, kMaxPage));
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        std::string path;
        if (!region_code.empty()) {
          ASSIGN_OR_RETURN(auto region, FindRegion(tx, region_code));
          if (!region.has_value()) return NotFound(request.region());
          path = region->path;
        }
        ASSIGN_OR_RETURN(auto rows, QueryElders(tx, path, request.living_situation(),
                                                request.show_retired(), page.after, page.limit()));
        response->Clear();
        response->set_next_page_token(page.Finish(rows, [](const ElderRow& r) { return r.id; }));
        for (auto& r : rows) *response->add_elders() = std::move(r.stub);
        return absl::OkStatus();
      },
      {.read_only = true});
}

absl::Status Registry::EraseElder(const v1::EraseElderRequest& request, const Caller& caller,
                                  v1::EraseElderResponse* response) {
  ASSIGN_OR_RETURN(std::string id, ParseResourceName(request.name(), "elders", "name"));
  RETURN_IF_ERROR(ValidateReason(request.reason()));
  return db_.RunInTransaction([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<ElderRow> row, FindElderForUpdate(tx, db_.dialect(), id));
    if (!row.has_value()) return NotFound(request.name());
    if (!row->erased) {
      row->stub = ErasedStub(row->stub);
      row->erased = true;
      row->living_situation = 0;
      row->sealed_personal_data.clear();
      row->id_number_index.clear();
      RETURN_IF_ERROR(UpdateElderRow(tx, *row));
      // The stored replies of the calls that registered or changed the elder hold masked
      // personal data: each becomes the stub.
      v1::CreateElderResponse created;
      *created.mutable_elder() = row->stub;
      RETURN_IF_ERROR(RedactIdempotentResponses(tx, "CreateElder", request.name(), created));
      v1::UpdateElderResponse updated;
      *updated.mutable_elder() = row->stub;
      RETURN_IF_ERROR(RedactIdempotentResponses(tx, "UpdateElder", request.name(), updated));
      v1::RecordConsentResponse consented;
      *consented.mutable_elder() = row->stub;
      RETURN_IF_ERROR(RedactIdempotentResponses(tx, "RecordConsent", request.name(), consented));
      v1::RetireElderResponse retired;
      *retired.mutable_elder() = row->stub;
      RETURN_IF_ERROR(RedactIdempotentResponses(tx, "RetireElder", request.name(), retired));
      RETURN_IF_ERROR(AuditPersonalData(tx, caller, clock_.Now(),
                                        {.elder = request.name(),
                                         .resource = "",
                                         .fields = "all personal data",
                                         .reason = request.reason(),
                                         .action = "erase"}));
    }
    *response->mutable_elder() = row->stub;
    return absl::OkStatus();
  });
}

absl::Status Registry::UpdateElder(const v1::UpdateElderRequest& request, const Caller& caller,
                                   v1::UpdateElderResponse* response) {
  const v1::Elder& in = request.elder();
  FieldViolations v;
  absl::StatusOr<std::string> id = ParseResourceName(in.name(), "elders", "elder.name");
  if (!id.ok()) v.Add("elder.name", "must look like \"elders/ID\"");
  const std::vector<std::string> paths =
      UpdateMaskPaths(request.update_mask(), kElderUpdatePaths, v);
  const auto named = [&](const char* path) {
    return std::find(paths.begin(), paths.end(), path) != paths.end();
  };
  if (named("care_grade") && in.has_care_grade() && !named("assessment_date")) {
    v.Add("update_mask", "a new care_grade comes from an assessment: name assessment_date too");
  }
  if (!ValidateReason(request.reason()).ok()) {
    v.Add("reason", "must state why, in 4 to 256 characters");
  }
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, recurrence::ShanghaiTimeZone());

  return RunIdempotent(
      db_, "UpdateElder", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<ElderRow> row, FindElderForUpdate(tx, db_.dialect(), *id));
        if (!row.has_value()) return NotFound(in.name());
        RETURN_IF_ERROR(CheckEtag(in.etag(), row->stub.etag(), "elder.etag"));
        RETURN_IF_ERROR(RequireServed(*row));
        ASSIGN_OR_RETURN(v1::Elder updated, Unseal(cipher_, *row));
        ApplyUpdateMask(in, paths, updated);
        FieldViolations terms;
        ValidateElder(updated, today, terms);
        RETURN_IF_ERROR(terms.ToStatus());
        RETURN_IF_ERROR(CheckConsent(updated));
        if (named("region")) {
          Region region;
          RETURN_IF_ERROR(RequireCommittee(tx, updated.region(), &region));
          row->region_code = region.code;
          row->region_path = region.path;
        }
        if (named("needs")) RETURN_IF_ERROR(RequireNeeds(tx, updated));
        RETURN_IF_ERROR(Seal(cipher_, updated, *row));
        RETURN_IF_ERROR(UpdateElderRow(tx, *row));
        RETURN_IF_ERROR(AuditPersonalData(tx, caller, now,
                                          {.elder = in.name(),
                                           .resource = "",
                                           .fields = absl::StrJoin(paths, ","),
                                           .reason = request.reason(),
                                           .action = "update"}));
        *response->mutable_elder() = row->stub;
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::RecordConsent(const v1::RecordConsentRequest& request, const Caller& caller,
                                     v1::RecordConsentResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> id = ParseResourceName(request.name(), "elders", "name");
  if (!id.ok()) v.Add("name", "must look like \"elders/ID\"");
  if (request.purpose() == v1::CONSENT_PURPOSE_UNSPECIFIED ||
      !v1::ConsentPurpose_IsValid(request.purpose())) {
    v.Add("purpose", "must be a CONSENT_PURPOSE_ value");
  }
  if (!ValidateReason(request.reason()).ok()) {
    v.Add("reason", "must say how the decision was given, in 4 to 256 characters");
  }
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());
  const absl::Time now = clock_.Now();

  return RunIdempotent(
      db_, "RecordConsent", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<ElderRow> row, FindElderForUpdate(tx, db_.dialect(), *id));
        if (!row.has_value()) return NotFound(request.name());
        RETURN_IF_ERROR(RequireNotErased(*row));
        ASSIGN_OR_RETURN(v1::Elder full, Unseal(cipher_, *row));
        const std::vector<std::string> removed =
            RecordConsentDecision(full, request.purpose(), request.granted(), now, caller.actor);
        RETURN_IF_ERROR(Seal(cipher_, full, *row));
        RETURN_IF_ERROR(UpdateElderRow(tx, *row));
        const std::string purpose = v1::ConsentPurpose_Name(request.purpose());
        RETURN_IF_ERROR(AuditPersonalData(
            tx, caller, now,
            {.elder = request.name(),
             .resource = "",
             .fields = removed.empty() ? purpose : absl::StrJoin(removed, ","),
             .reason = request.reason(),
             .action = request.granted() ? "consent granted" : "consent withdrawn"}));
        response->Clear();
        *response->mutable_elder() = row->stub;
        for (const std::string& field : removed) response->add_removed_fields(field);
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::RetireElder(const v1::RetireElderRequest& request, const Caller& caller,
                                   v1::RetireElderResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> id = ParseResourceName(request.name(), "elders", "name");
  if (!id.ok()) v.Add("name", "must look like \"elders/ID\"");
  const absl::Time now = clock_.Now();
  ValidateRetirement(request, absl::ToCivilDay(now, recurrence::ShanghaiTimeZone()), v);
  if (!ValidateRequestId(request.request_id()).ok()) v.Add("request_id", "is malformed");
  RETURN_IF_ERROR(v.ToStatus());

  return RunIdempotent(
      db_, "RetireElder", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<ElderRow> row, FindElderForUpdate(tx, db_.dialect(), *id));
        if (!row.has_value()) return NotFound(request.name());
        RETURN_IF_ERROR(RequireNotErased(*row));
        // Retiring a retired elder with the same news returns the record as it is: a retry after
        // a lost reply, or a second member of staff recording it. Other news is refused: the
        // record is closed.
        if (!ElderServed(row->stub) && (row->stub.status() != request.status() ||
                                        row->stub.status_date() != request.effective_date())) {
          RETURN_IF_ERROR(RequireServed(*row));
        }
        if (ElderServed(row->stub)) {
          RETURN_IF_ERROR(CheckEtag(request.etag(), row->stub.etag(), "etag"));
          row->status = request.status();
          row->stub.set_status(request.status());
          row->stub.set_status_date(request.effective_date());
          RETURN_IF_ERROR(UpdateElderRow(tx, *row));
          RETURN_IF_ERROR(AuditPersonalData(tx, caller, now,
                                            {.elder = request.name(),
                                             .resource = "",
                                             .fields = "status",
                                             .reason = request.reason(),
                                             .action = v1::ElderStatus_Name(request.status())}));
        }
        *response->mutable_elder() = row->stub;
        return absl::OkStatus();
      },
      clock_);
}

absl::Status Registry::ListAuditEntries(const v1::ListAuditEntriesRequest& request,
                                        v1::ListAuditEntriesResponse* response) {
  return FillAuditPage(db_, request, response);
}

}  // namespace linli::registry
