#include "services/registry/elder.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/geo.h"
#include "common/pii/masking.h"
#include "common/proto_time.h"
#include "common/text.h"
#include "services/registry/catalogue.h"
#include "services/registry/region.h"

namespace linli::registry {
namespace {

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

}  // namespace

void ValidateElder(const v1::Elder& e, absl::CivilDay today, FieldViolations& v) {
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
  if (!e.address().empty()) {
    ValidateDisplayName(e.address(), 256, "elder.address", v, /*line_breaks=*/true);
  }
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

bool ConsentGranted(const v1::Elder& elder, v1::ConsentPurpose purpose) {
  bool granted = false;  // the last decision for a purpose wins
  for (const v1::Consent& c : elder.consents()) {
    if (c.purpose() == purpose) granted = c.granted();
  }
  return granted;
}

absl::Status CheckConsent(const v1::Elder& e) {
  if (HasIdentityData(e) && !ConsentGranted(e, v1::CONSENT_PURPOSE_PERSONAL_DATA)) {
    return absl::FailedPreconditionError(
        "storing ID number, phone or address needs consent CONSENT_PURPOSE_PERSONAL_DATA");
  }
  if (HasHealthData(e) && !ConsentGranted(e, v1::CONSENT_PURPOSE_HEALTH_DATA)) {
    return absl::FailedPreconditionError(
        "storing care_grade or assessment_date needs consent CONSENT_PURPOSE_HEALTH_DATA");
  }
  return absl::OkStatus();
}

void StampConsents(v1::Elder& elder, absl::Time now, absl::string_view actor) {
  for (v1::Consent& c : *elder.mutable_consents()) {
    *c.mutable_record_time() = ToTimestamp(now);
    c.set_recorded_by(std::string(actor));
  }
}

std::vector<std::string> RecordConsentDecision(v1::Elder& elder, v1::ConsentPurpose purpose,
                                               bool granted, absl::Time now,
                                               absl::string_view actor) {
  google::protobuf::RepeatedPtrField<v1::Consent> kept;
  for (const v1::Consent& c : elder.consents()) {
    if (c.purpose() != purpose) *kept.Add() = c;
  }
  v1::Consent* decision = kept.Add();
  decision->set_purpose(purpose);
  decision->set_granted(granted);
  *decision->mutable_record_time() = ToTimestamp(now);
  decision->set_recorded_by(std::string(actor));
  elder.mutable_consents()->Swap(&kept);

  std::vector<std::string> removed;
  if (granted) return removed;
  auto remove = [&](const char* name, bool held, auto clear) {
    if (!held) return;
    clear();
    removed.push_back(name);
  };
  if (purpose == v1::CONSENT_PURPOSE_PERSONAL_DATA) {
    remove("id_number", !elder.id_number().empty(), [&] { elder.clear_id_number(); });
    remove("phone", !elder.phone().empty(), [&] { elder.clear_phone(); });
    remove("address", !elder.address().empty(), [&] { elder.clear_address(); });
    bool contact_phones = false;
    for (const v1::Contact& c : elder.contacts()) contact_phones |= !c.phone().empty();
    remove("contacts.phone", contact_phones, [&] {
      for (v1::Contact& c : *elder.mutable_contacts()) c.clear_phone();
    });
  } else if (purpose == v1::CONSENT_PURPOSE_HEALTH_DATA) {
    remove("care_grade", elder.has_care_grade(), [&] { elder.clear_care_grade(); });
    remove("assessment_date", !elder.assessment_date().empty(),
           [&] { elder.clear_assessment_date(); });
  }
  return removed;
}

bool ElderServed(const v1::Elder& elder) {
  return !elder.erased() && (elder.status() == v1::ELDER_STATUS_UNSPECIFIED ||
                             elder.status() == v1::ELDER_STATUS_ACTIVE);
}

void ValidateRetirement(const v1::RetireElderRequest& request, absl::CivilDay today,
                        FieldViolations& v) {
  if (request.status() != v1::ELDER_STATUS_MOVED_AWAY &&
      request.status() != v1::ELDER_STATUS_DECEASED) {
    v.Add("status", "must be ELDER_STATUS_MOVED_AWAY or ELDER_STATUS_DECEASED");
  }
  absl::CivilDay day;
  if (!absl::ParseCivilTime(request.effective_date(), &day)) {
    v.Add("effective_date", "must be a date \"YYYY-MM-DD\"");
  } else if (day > today) {
    v.Add("effective_date", "must not be in the future");
  }
  if (absl::Status reason = ValidateReason(request.reason()); !reason.ok()) {
    v.Add("reason", "must state why, in 4 to 256 characters");
  }
}

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

v1::Elder ErasedStub(const v1::Elder& stub) {
  v1::Elder erased;
  erased.set_name(stub.name());
  erased.set_region(stub.region());
  erased.set_display_name("已注销");
  erased.set_erased(true);
  *erased.mutable_create_time() = stub.create_time();
  return erased;
}

absl::Status ValidateReason(absl::string_view reason) {
  std::optional<size_t> n = Utf8Length(reason);
  if (!n.has_value() || *n < 4 || *n > 256) {
    return InvalidField("reason", "must state why, in 4 to 256 characters");
  }
  return absl::OkStatus();
}

}  // namespace linli::registry
