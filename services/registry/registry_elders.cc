// RegistryService: elders, their personal data (sealed, masked, audited) and the audit log.
//
// Personal data never reaches the database in plaintext: the personal fields of an Elder
// (name, address, ID number, phone, care grade and assessment date, contacts' phones) are copied
// into a separate Elder message, serialized and sealed with AES-256-GCM bound to "elders/{id}";
// the stored stub carries only masked values. A full read decrypts, and is appended to the audit
// log in the same transaction, so a read that is not audited cannot happen.
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "common/audit.h"
#include "common/errors.h"
#include "common/geo.h"
#include "common/idempotency.h"
#include "common/ids.h"
#include "common/pagination.h"
#include "common/pii/masking.h"
#include "common/recurrence/rrule.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "services/registry/catalogue.h"
#include "services/registry/registry_service.h"
#include "services/registry/registry_store.h"

namespace linli::registry {
namespace {

using storage::Transaction;

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;

std::string ElderAad(const std::string& id) { return "elders/" + id; }

bool Granted(const v1::Elder& elder, v1::ConsentPurpose purpose) {
  bool granted = false;  // the last decision for a purpose wins
  for (const v1::Consent& c : elder.consents()) {
    if (c.purpose() == purpose) granted = c.granted();
  }
  return granted;
}

bool HasIdentityData(const v1::Elder& e) {
  if (!e.id_number().empty() || !e.phone().empty() || !e.address().empty()) return true;
  for (const v1::Contact& c : e.contacts()) {
    if (!c.phone().empty()) return true;
  }
  return false;
}

bool HasHealthData(const v1::Elder& e) {
  return e.has_care_grade() || !e.assessment_date().empty();
}

// The personal part of `elder` (what gets sealed).
v1::Elder PersonalPart(const v1::Elder& elder) {
  v1::Elder personal;
  personal.set_display_name(elder.display_name());
  personal.set_address(elder.address());
  personal.set_id_number(elder.id_number());
  personal.set_phone(elder.phone());
  if (elder.has_care_grade()) personal.set_care_grade(elder.care_grade());
  personal.set_assessment_date(elder.assessment_date());
  *personal.mutable_contacts() = elder.contacts();
  if (elder.has_location()) *personal.mutable_location() = elder.location();
  return personal;
}

// `elder` with every personal field masked or removed: what is stored in the clear and shown by
// default.
v1::Elder MaskedStub(const v1::Elder& elder) {
  v1::Elder stub = elder;
  stub.set_display_name(pii::MaskName(elder.display_name()));
  stub.set_address(pii::MaskAddress(elder.address()));
  stub.set_id_number(pii::MaskIdNumber(elder.id_number()));
  stub.set_phone(pii::MaskPhone(elder.phone()));
  stub.clear_care_grade();
  stub.clear_assessment_date();
  if (elder.has_location()) *stub.mutable_location() = Coarsen(elder.location());
  for (v1::Contact& c : *stub.mutable_contacts()) {
    c.set_display_name(pii::MaskName(c.display_name()));
    c.set_phone(pii::MaskPhone(c.phone()));
  }
  return stub;
}

// `today` is the Shanghai date of the service's clock: birth dates after it are implausible.
void ValidateElder(const v1::Elder& e, absl::CivilDay today, FieldViolations& v) {
  std::string region;
  if (!ParseRegionName(e.region(), "elder.region").ok()) {
    v.Add("elder.region", "must name a neighbourhood committee, \"regions/310101020001\"");
  }
  ValidateDisplayName(e.display_name(), 64, "elder.display_name", v);
  if (!e.id_number().empty()) {
    if (absl::Status s = pii::ValidateIdNumber(e.id_number(), today); !s.ok()) {
      v.Add("elder.id_number", std::string(s.message()));
    }
  }
  if (!e.phone().empty()) {
    if (absl::Status s = pii::ValidatePhone(e.phone()); !s.ok()) {
      v.Add("elder.phone", std::string(s.message()));
    }
  }
  if (!e.address().empty()) ValidateDisplayName(e.address(), 256, "elder.address", v);
  if (e.has_location()) ValidateLatLng(e.location(), "elder.location", v);
  if (!v1::LivingSituation_IsValid(e.living_situation())) {
    v.Add("elder.living_situation", "is not a known living situation");
  }
  if (e.has_care_grade() && (e.care_grade() < 0 || e.care_grade() > 6)) {
    v.Add("elder.care_grade", "must be between 0 and 6");
  }
  absl::CivilDay day;
  if (!e.assessment_date().empty() && !absl::ParseCivilTime(e.assessment_date(), &day)) {
    v.Add("elder.assessment_date", "must be a date \"YYYY-MM-DD\"");
  }
  for (int i = 0; i < e.needs_size(); ++i) {
    if (!ParseResourceName(e.needs(i), "serviceTypes", "n").ok()) {
      v.Add(absl::StrCat("elder.needs[", i, "]"), "must look like \"serviceTypes/CODE\"");
    }
  }
  for (int i = 0; i < e.contacts_size(); ++i) {
    const v1::Contact& c = e.contacts(i);
    const std::string field = absl::StrCat("elder.contacts[", i, "]");
    ValidateDisplayName(c.display_name(), 64, field + ".display_name", v);
    if (!c.phone().empty()) {
      if (absl::Status s = pii::ValidatePhone(c.phone()); !s.ok()) {
        v.Add(field + ".phone", std::string(s.message()));
      }
    }
    if (c.relationship().size() > 64) v.Add(field + ".relationship", "is too long");
  }
  for (int i = 0; i < e.consents_size(); ++i) {
    const v1::ConsentPurpose p = e.consents(i).purpose();
    if (p == v1::CONSENT_PURPOSE_UNSPECIFIED || !v1::ConsentPurpose_IsValid(p)) {
      v.Add(absl::StrCat("elder.consents[", i, "].purpose"), "must be a CONSENT_PURPOSE_ value");
    }
  }
}

absl::Status CheckConsent(const v1::Elder& e) {
  if (HasIdentityData(e) && !Granted(e, v1::CONSENT_PURPOSE_PERSONAL_DATA)) {
    return absl::FailedPreconditionError(
        "storing ID number, phone or address needs consent CONSENT_PURPOSE_PERSONAL_DATA");
  }
  if (HasHealthData(e) && !Granted(e, v1::CONSENT_PURPOSE_HEALTH_DATA)) {
    return absl::FailedPreconditionError(
        "storing care_grade or assessment_date needs consent CONSENT_PURPOSE_HEALTH_DATA");
  }
  return absl::OkStatus();
}

absl::Status ValidateReason(const std::string& reason) {
  std::optional<size_t> n = Utf8Length(reason);
  if (!n.has_value() || *n < 4 || *n > 256) {
    return InvalidField("reason", "must state why, in 4 to 256 characters");
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status RegistryServiceImpl::CreateElder(grpc::ServerContext* context,
                                              const v1::CreateElderRequest* request,
                                              v1::CreateElderResponse* response) {
  const v1::Elder& in = request->elder();
  FieldViolations v;
  ValidateElder(in, absl::ToCivilDay(clock_.Now(), recurrence::ShanghaiTimeZone()), v);
  if (!ValidateRequestId(request->request_id()).ok()) v.Add("request_id", "is malformed");
  if (!v.empty()) return Reply(*context, v.ToStatus());
  if (absl::Status consent = CheckConsent(in); !consent.ok()) return Reply(*context, consent);

  const std::string region_code = *ParseRegionName(in.region(), "elder.region");
  v1::Elder elder = in;
  elder.set_erased(false);
  const absl::Time now = clock_.Now();
  for (v1::Consent& c : *elder.mutable_consents()) {
    if (!c.has_record_time()) {
      *c.mutable_record_time() =
          google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(now));
    }
    if (c.recorded_by().empty()) c.set_recorded_by(Actor(*context));
  }
  *elder.mutable_create_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(now));

  return Reply(
      *context,
      RunIdempotent(
          db_, "CreateElder", request->request_id(), *request, response,
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
              ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT 1 FROM service_types WHERE code = ?",
                                                   {in.needs(i).substr(13)}));
              if (rows.empty()) {
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
          clock_));
}

grpc::Status RegistryServiceImpl::GetElder(grpc::ServerContext* context,
                                           const v1::GetElderRequest* request,
                                           v1::GetElderResponse* response) {
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "elders", "name");
  if (!id.ok()) return Reply(*context, id.status());
  if (!v1::ElderView_IsValid(request->view())) {
    return Reply(*context, InvalidField("view", "is not a known view"));
  }
  const bool full = request->view() == v1::ELDER_VIEW_FULL;
  if (full) {
    if (absl::Status s = ValidateReason(request->reason()); !s.ok()) return Reply(*context, s);
  }
  // A full read writes its audit entry in the same transaction: no audit, no data.
  return Reply(
      *context,
      db_.RunInTransaction(
          [&](Transaction& tx) -> absl::Status {
            ASSIGN_OR_RETURN(std::optional<ElderRow> row, FindElder(tx, *id));
            if (!row.has_value()) return NotFound(request->name());
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
              RETURN_IF_ERROR(AuditPersonalData(
                  tx, *context, clock_.Now(),
                  {.elder = request->name(),
                   .resource = "",
                   .fields = "display_name,address,location,id_number,phone,care_grade,contacts",
                   .reason = request->reason(),
                   .action = "read"}));
            }
            *response->mutable_elder() = std::move(elder);
            return absl::OkStatus();
          },
          {.read_only = !full}));
}

grpc::Status RegistryServiceImpl::ListElders(grpc::ServerContext* context,
                                             const v1::ListEldersRequest* request,
                                             v1::ListEldersResponse* response) {
  std::string region_code;
  if (!request->region().empty()) {
    absl::StatusOr<std::string> code = ParseRegionName(request->region(), "region");
    if (!code.ok()) return Reply(*context, code.status());
    region_code = *code;
  }
  if (!v1::LivingSituation_IsValid(request->living_situation())) {
    return Reply(*context, InvalidField("living_situation", "is not a known living situation"));
  }
  absl::StatusOr<Page> page =
      Page::Start(request->page_size(), request->page_token(),
                  absl::StrCat("elders|", region_code, "|", request->living_situation()),
                  kDefaultPage, kMaxPage);
  if (!page.ok()) return Reply(*context, page.status());
  return Reply(*context, db_.RunInTransaction(
                             [&](Transaction& tx) -> absl::Status {
                               std::string path;
                               if (!region_code.empty()) {
                                 ASSIGN_OR_RETURN(auto region, FindRegion(tx, region_code));
                                 if (!region.has_value()) return NotFound(request->region());
                                 path = region->path;
                               }
                               ASSIGN_OR_RETURN(auto rows,
                                                QueryElders(tx, path, request->living_situation(),
                                                            page->after, page->limit()));
                               response->Clear();
                               response->set_next_page_token(
                                   page->Finish(rows, [](const ElderRow& r) { return r.id; }));
                               for (auto& r : rows) *response->add_elders() = std::move(r.stub);
                               return absl::OkStatus();
                             },
                             {.read_only = true}));
}

grpc::Status RegistryServiceImpl::EraseElder(grpc::ServerContext* context,
                                             const v1::EraseElderRequest* request,
                                             v1::EraseElderResponse* response) {
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "elders", "name");
  if (!id.ok()) return Reply(*context, id.status());
  if (absl::Status s = ValidateReason(request->reason()); !s.ok()) return Reply(*context, s);
  return Reply(*context, db_.RunInTransaction([&](Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<ElderRow> row, FindElder(tx, *id));
    if (!row.has_value()) return NotFound(request->name());
    if (!row->erased) {
      // Keep only what history needs to stay consistent: id, region, creation time.
      v1::Elder stub;
      stub.set_name(row->stub.name());
      stub.set_region(row->stub.region());
      stub.set_display_name("已注销");
      stub.set_erased(true);
      *stub.mutable_create_time() = row->stub.create_time();
      row->stub = stub;
      row->erased = true;
      row->living_situation = 0;
      row->sealed_personal_data.clear();
      row->id_number_index.clear();
      RETURN_IF_ERROR(UpdateElder(tx, *row));
      // The stored reply of the CreateElder call holds masked personal data: it becomes the stub.
      v1::CreateElderResponse redacted;
      *redacted.mutable_elder() = row->stub;
      RETURN_IF_ERROR(RedactIdempotentResponses(tx, "CreateElder", request->name(), redacted));
      RETURN_IF_ERROR(AuditPersonalData(tx, *context, clock_.Now(),
                                        {.elder = request->name(),
                                         .resource = "",
                                         .fields = "all personal data",
                                         .reason = request->reason(),
                                         .action = "erase"}));
    }
    *response->mutable_elder() = row->stub;
    return absl::OkStatus();
  }));
}

grpc::Status RegistryServiceImpl::ListAuditEntries(grpc::ServerContext* context,
                                                   const v1::ListAuditEntriesRequest* request,
                                                   v1::ListAuditEntriesResponse* response) {
  return Reply(*context, FillAuditPage(db_, *request, response));
}

}  // namespace linli::registry
