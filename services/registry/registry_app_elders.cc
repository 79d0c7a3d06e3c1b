// Registry use cases: elders, their personal data (sealed, masked, audited) and the audit log.
//
// Personal data never reaches the database in plaintext: the personal fields of an Elder
// (elder.h: PersonalPart) are serialized and sealed with AES-256-GCM bound to "elders/{id}"; the
// stored stub carries only masked values (MaskedStub). A full read decrypts, and is appended to
// the audit log in the same transaction, so a read that is not audited cannot happen.
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/audit.h"
#include "common/errors.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/pagination.h"
#include "common/pii/masking.h"
#include "common/proto_time.h"
#include "common/recurrence/rrule.h"
#include "common/status_macros.h"
#include "services/registry/elder.h"
#include "services/registry/region.h"
#include "services/registry/registry_app.h"
#include "services/registry/registry_store.h"

namespace linli::registry {
namespace {

using storage::Transaction;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;

std::string ElderAad(const std::string& id) { return "elders/" + id; }

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
  const absl::Time now = clock_.Now();
  StampConsents(elder, now, caller.actor);
  *elder.mutable_create_time() = ToTimestamp(now);

  return RunIdempotent(
      db_, "CreateElder", request.request_id(), request, response,
      [&](Transaction& tx) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<Region> region, FindRegion(tx, region_code));
        if (!region.has_value()) {
          return InvalidField("elder.region", in.region() + " does not exist");
        }
        if (region->level != RegionLevel::kCommittee) {
          return InvalidField("elder.region",
                              "must be a neighbourhood or village committee (居委/村委)");
        }
        for (int i = 0; i < in.needs_size(); ++i) {
          ASSIGN_OR_RETURN(bool exists, ServiceTypeExists(tx, in.needs(i).substr(13)));
          if (!exists) {
            return InvalidField(absl::StrCat("elder.needs[", i, "]"),
                                in.needs(i) + " does not exist");
          }
        }
        ElderRow row;
        row.id = NewId(clock_);
        row.region_code = region_code;
        row.region_path = region->path;
        row.living_situation = in.living_situation();
        row.create_time = now;
        v1::Elder named = elder;
        named.set_name("elders/" + row.id);
        row.stub = MaskedStub(named);
        ASSIGN_OR_RETURN(
            row.sealed_personal_data,
            cipher_.Encrypt(PersonalPart(named).SerializeAsString(), ElderAad(row.id)));
        if (!in.id_number().empty()) {
          row.id_number_index =
              cipher_.BlindIndex("id_number:" + pii::NormalizeIdNumber(in.id_number()));
        }
        RETURN_IF_ERROR(InsertElder(tx, row));
        *response->mutable_elder() = row.stub;
        return absl::OkStatus();
      },
      clock_);
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
          ASSIGN_OR_RETURN(std::string bytes,
                           cipher_.Decrypt(row->sealed_personal_data, ElderAad(row->id)));
          v1::Elder personal;
          if (!personal.ParseFromString(bytes)) {
            return absl::DataLossError("sealed personal data does not parse");
          }
          elder.clear_contacts();
          elder.MergeFrom(personal);
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
  ASSIGN_OR_RETURN(
      Page page, Page::Start(request.page_size(), request.page_token(),
                             absl::StrCat("elders|", region_code, "|", request.living_situation()),
                             kDefaultPage, kMaxPage));
  return db_.RunInTransaction(
      [&](Transaction& tx) -> absl::Status {
        std::string path;
        if (!region_code.empty()) {
          ASSIGN_OR_RETURN(auto region, FindRegion(tx, region_code));
          if (!region.has_value()) return NotFound(request.region());
          path = region->path;
        }
        ASSIGN_OR_RETURN(
            auto rows, QueryElders(tx, path, request.living_situation(), page.after, page.limit()));
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
    ASSIGN_OR_RETURN(std::optional<ElderRow> row, FindElder(tx, id));
    if (!row.has_value()) return NotFound(request.name());
    if (!row->erased) {
      row->stub = ErasedStub(row->stub);
      row->erased = true;
      row->living_situation = 0;
      row->sealed_personal_data.clear();
      row->id_number_index.clear();
      RETURN_IF_ERROR(UpdateElder(tx, *row));
      // The stored reply of the CreateElder call holds masked personal data: it becomes the stub.
      v1::CreateElderResponse redacted;
      *redacted.mutable_elder() = row->stub;
      RETURN_IF_ERROR(RedactIdempotentResponses(tx, "CreateElder", request.name(), redacted));
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

absl::Status Registry::ListAuditEntries(const v1::ListAuditEntriesRequest& request,
                                        v1::ListAuditEntriesResponse* response) {
  return FillAuditPage(db_, request, response);
}

}  // namespace linli::registry
