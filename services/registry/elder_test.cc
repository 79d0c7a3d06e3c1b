#include "services/registry/elder.h"

#include "gtest/gtest.h"

namespace linli::registry {
namespace {

constexpr absl::CivilDay kToday(2026, 12, 4);

std::vector<std::string> ViolatedFields(const FieldViolations& v) {
  std::vector<std::string> fields;
  auto bad_request = GetBadRequest(v.ToStatus());
  if (bad_request.has_value()) {
    for (const auto& fv : bad_request->field_violations()) fields.push_back(fv.field());
  }
  return fields;
}

v1::Elder MinimalElder() {
  v1::Elder e;
  e.set_region("regions/310101020001");
  e.set_display_name("王秀英");
  return e;
}

void Consent(v1::Elder& e, v1::ConsentPurpose purpose, bool granted) {
  v1::Consent* c = e.add_consents();
  c->set_purpose(purpose);
  c->set_granted(granted);
}

TEST(ElderTest, AMinimalElderIsValid) {
  FieldViolations v;
  ValidateElder(MinimalElder(), kToday, v);
  EXPECT_TRUE(v.empty());
}

TEST(ElderTest, ValidatesEveryFieldAtOnce) {
  v1::Elder e;
  e.set_region("310101020001");
  e.set_phone("12");
  e.mutable_location()->set_latitude(91);
  e.set_living_situation(static_cast<v1::LivingSituation>(42));
  e.set_care_grade(7);
  e.set_assessment_date("2026-13-01");
  e.add_needs("meals");
  FieldViolations v;
  ValidateElder(e, kToday, v);
  EXPECT_EQ(ViolatedFields(v), (std::vector<std::string>{
                                   "elder.region", "elder.display_name", "elder.phone",
                                   "elder.location.latitude", "elder.living_situation",
                                   "elder.care_grade", "elder.assessment_date", "elder.needs[0]"}));
}

TEST(ElderTest, ValidatesContactsAndConsentPurposes) {
  v1::Elder e = MinimalElder();
  e.add_contacts()->set_relationship(std::string(65, 'x'));
  e.add_contacts()->set_display_name("李明");
  e.mutable_contacts(1)->set_phone("12");
  e.add_consents();  // no purpose
  FieldViolations v;
  ValidateElder(e, kToday, v);
  EXPECT_EQ(
      ViolatedFields(v),
      (std::vector<std::string>{"elder.contacts[0].display_name", "elder.contacts[0].relationship",
                                "elder.contacts[1].phone", "elder.consents[0].purpose"}));
}

TEST(ElderTest, TheLastConsentForAPurposeWins) {
  v1::Elder e = MinimalElder();
  EXPECT_FALSE(ConsentGranted(e, v1::CONSENT_PURPOSE_PERSONAL_DATA));
  Consent(e, v1::CONSENT_PURPOSE_PERSONAL_DATA, true);
  Consent(e, v1::CONSENT_PURPOSE_HEALTH_DATA, false);
  EXPECT_TRUE(ConsentGranted(e, v1::CONSENT_PURPOSE_PERSONAL_DATA));
  Consent(e, v1::CONSENT_PURPOSE_PERSONAL_DATA, false);
  EXPECT_FALSE(ConsentGranted(e, v1::CONSENT_PURPOSE_PERSONAL_DATA));
}

TEST(ElderTest, IdentityDataNeedsPersonalDataConsent) {
  v1::Elder e = MinimalElder();
  EXPECT_TRUE(CheckConsent(e).ok());  // a name and a committee need no consent
  e.add_contacts()->set_phone("13812345678");
  EXPECT_EQ(CheckConsent(e).code(), absl::StatusCode::kFailedPrecondition);
  Consent(e, v1::CONSENT_PURPOSE_PERSONAL_DATA, true);
  EXPECT_TRUE(CheckConsent(e).ok());
}

TEST(ElderTest, HealthDataNeedsHealthDataConsent) {
  v1::Elder e = MinimalElder();
  e.set_care_grade(0);  // set, even at zero
  Consent(e, v1::CONSENT_PURPOSE_PERSONAL_DATA, true);
  absl::Status status = CheckConsent(e);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("CONSENT_PURPOSE_HEALTH_DATA"), std::string::npos);
  Consent(e, v1::CONSENT_PURPOSE_HEALTH_DATA, true);
  EXPECT_TRUE(CheckConsent(e).ok());
}

TEST(ElderTest, ConsentsAreStampedWithTheCallerNeverTheClient) {
  v1::Elder e = MinimalElder();
  Consent(e, v1::CONSENT_PURPOSE_PERSONAL_DATA, true);
  Consent(e, v1::CONSENT_PURPOSE_HEALTH_DATA, true);
  e.mutable_consents(1)->set_recorded_by("users/someone-the-client-names");
  e.mutable_consents(1)->mutable_record_time()->set_seconds(100);
  StampConsents(e, absl::FromUnixSeconds(1000), "users/operator");
  for (const v1::Consent& c : e.consents()) {
    EXPECT_EQ(c.recorded_by(), "users/operator");
    EXPECT_EQ(c.record_time().seconds(), 1000);
  }
}

TEST(ElderTest, AWithdrawalRemovesTheDataItCoversAndReplacesTheDecision) {
  v1::Elder e = MinimalElder();
  Consent(e, v1::CONSENT_PURPOSE_PERSONAL_DATA, true);
  Consent(e, v1::CONSENT_PURPOSE_HEALTH_DATA, true);
  e.set_id_number("110101194001010016");
  e.set_phone("13812345678");
  e.set_address("丽园路1号");
  e.add_contacts()->set_phone("13900000000");
  e.set_care_grade(3);
  e.set_assessment_date("2026-01-05");

  std::vector<std::string> removed = RecordConsentDecision(
      e, v1::CONSENT_PURPOSE_HEALTH_DATA, false, absl::FromUnixSeconds(50), "staff/zhou");
  EXPECT_EQ(removed, (std::vector<std::string>{"care_grade", "assessment_date"}));
  EXPECT_FALSE(e.has_care_grade());
  EXPECT_EQ(e.phone(), "13812345678");  // identity data is another purpose
  ASSERT_EQ(e.consents_size(), 2);      // replaced, not appended
  EXPECT_FALSE(ConsentGranted(e, v1::CONSENT_PURPOSE_HEALTH_DATA));
  EXPECT_EQ(e.consents(1).recorded_by(), "staff/zhou");
  EXPECT_TRUE(CheckConsent(e).ok());

  removed = RecordConsentDecision(e, v1::CONSENT_PURPOSE_PERSONAL_DATA, false,
                                  absl::FromUnixSeconds(60), "staff/zhou");
  EXPECT_EQ(removed, (std::vector<std::string>{"id_number", "phone", "address", "contacts.phone"}));
  EXPECT_TRUE(e.id_number().empty() && e.phone().empty() && e.address().empty());
  EXPECT_TRUE(e.contacts(0).phone().empty());
  EXPECT_TRUE(CheckConsent(e).ok());
  // Storing a phone again is refused until consent is granted again.
  e.set_phone("13812345678");
  EXPECT_EQ(CheckConsent(e).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(RecordConsentDecision(e, v1::CONSENT_PURPOSE_PERSONAL_DATA, true,
                                    absl::FromUnixSeconds(70), "staff/zhou")
                  .empty());
  EXPECT_TRUE(CheckConsent(e).ok());
}

TEST(ElderTest, ARetirementNeedsAStatusAPastDateAndAReason) {
  const absl::CivilDay today(2026, 12, 5);
  v1::RetireElderRequest request;
  request.set_status(v1::ELDER_STATUS_DECEASED);
  request.set_effective_date("2026-12-05");
  request.set_reason("family informed the committee");
  FieldViolations ok;
  ValidateRetirement(request, today, ok);
  EXPECT_TRUE(ok.empty());

  request.set_status(v1::ELDER_STATUS_ACTIVE);
  request.set_effective_date("2026-12-06");
  request.set_reason("x");
  FieldViolations bad;
  ValidateRetirement(request, today, bad);
  const google::rpc::BadRequest violations = *GetBadRequest(bad.ToStatus());
  ASSERT_EQ(violations.field_violations_size(), 3);
  EXPECT_EQ(violations.field_violations(0).field(), "status");
  EXPECT_EQ(violations.field_violations(1).field(), "effective_date");
  EXPECT_EQ(violations.field_violations(1).description(), "must not be in the future");
  EXPECT_EQ(violations.field_violations(2).field(), "reason");

  v1::Elder elder;
  EXPECT_TRUE(ElderServed(elder));
  elder.set_status(v1::ELDER_STATUS_MOVED_AWAY);
  EXPECT_FALSE(ElderServed(elder));
}

v1::Elder FullElder() {
  v1::Elder e = MinimalElder();
  e.set_name("elders/1");
  e.set_address("上海市黄浦区丽园小区12号楼302室");
  e.set_id_number("310101194501011234");
  e.set_phone("13812345678");
  e.set_care_grade(3);
  e.set_assessment_date("2026-06-01");
  e.mutable_location()->set_latitude(31.2123456);
  e.mutable_location()->set_longitude(121.4876543);
  e.set_living_situation(v1::LIVING_SITUATION_ALONE);
  e.add_needs("serviceTypes/meals");
  v1::Contact* c = e.add_contacts();
  c->set_display_name("李明");
  c->set_phone("13900001111");
  c->set_relationship("son");
  e.mutable_create_time()->set_seconds(42);
  return e;
}

TEST(ElderTest, ThePersonalPartHoldsOnlyPersonalFields) {
  v1::Elder personal = PersonalPart(FullElder());
  EXPECT_EQ(personal.display_name(), "王秀英");
  EXPECT_EQ(personal.id_number(), "310101194501011234");
  EXPECT_EQ(personal.phone(), "13812345678");
  EXPECT_EQ(personal.care_grade(), 3);
  EXPECT_EQ(personal.contacts(0).phone(), "13900001111");
  EXPECT_DOUBLE_EQ(personal.location().latitude(), 31.2123456);
  EXPECT_TRUE(personal.name().empty());
  EXPECT_TRUE(personal.region().empty());
  EXPECT_TRUE(personal.needs().empty());
}

TEST(ElderTest, TheStubShowsNoPersonalDataInTheClear) {
  v1::Elder stub = MaskedStub(FullElder());
  EXPECT_EQ(stub.display_name(), "王**");
  EXPECT_EQ(stub.id_number(), "310***********1234");
  EXPECT_EQ(stub.phone(), "138****5678");
  EXPECT_EQ(stub.address(), "上海市黄浦区****");
  EXPECT_FALSE(stub.has_care_grade());
  EXPECT_TRUE(stub.assessment_date().empty());
  EXPECT_DOUBLE_EQ(stub.location().latitude(), 31.212);  // coarsened
  EXPECT_EQ(stub.contacts(0).display_name(), "李*");
  EXPECT_EQ(stub.contacts(0).phone(), "139****1111");
  EXPECT_EQ(stub.contacts(0).relationship(), "son");
  EXPECT_EQ(stub.needs(0), "serviceTypes/meals");
  EXPECT_EQ(stub.living_situation(), v1::LIVING_SITUATION_ALONE);
}

TEST(ElderTest, ErasureKeepsOnlyWhatHistoryNeeds) {
  v1::Elder erased = ErasedStub(MaskedStub(FullElder()));
  v1::Elder expected;
  expected.set_name("elders/1");
  expected.set_region("regions/310101020001");
  expected.set_display_name("已注销");
  expected.set_erased(true);
  expected.mutable_create_time()->set_seconds(42);
  EXPECT_EQ(erased.SerializeAsString(), expected.SerializeAsString());
}

TEST(ElderTest, AReasonStatesWhyInFourTo256Characters) {
  EXPECT_TRUE(ValidateReason("上门核实").ok());  // 4 characters, 12 bytes
  EXPECT_EQ(ValidateReason("核实").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetBadRequest(ValidateReason(""))->field_violations(0).field(), "reason");
  EXPECT_FALSE(ValidateReason(std::string(257, 'x')).ok());
  EXPECT_FALSE(ValidateReason("\xff\xff\xff\xff").ok());
}

}  // namespace
}  // namespace linli::registry
