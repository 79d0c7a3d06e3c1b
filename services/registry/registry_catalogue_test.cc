// The registry's catalogue (lines, service types, organisations, relations, offerings, workers)
// and its imports, elders and their personal data, the map and the provider search, through the
// gRPC surface on a real loopback server, against SQLite and MariaDB.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "common/pii/field_cipher.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "google/protobuf/field_mask.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "services/registry/registry_service.h"
#include "services/registry/registry_store.h"
#include "tests/support/registry_test_server.h"
#include "tests/support/test_env.h"

namespace linli::registry {
namespace {

constexpr char kAddress[] = "上海市黄浦区瞿溪路1111弄5号301室";
constexpr char kMaskedAddress[] = "上海市黄浦区****";
constexpr char kPhone[] = "13812345678";
constexpr char kMaskedPhone[] = "138****5678";
constexpr char kContactPhone[] = "13987654321";
constexpr char kMaskedContactPhone[] = "139****4321";
constexpr char kStreet[] = "regions/310101020";
constexpr char kCommittee1[] = "regions/310101020001";
constexpr char kCommittee2[] = "regions/310101020002";
constexpr char kOtherStreet[] = "regions/310101021";

// A resident ID number with the GB 11643 (ISO 7064 MOD 11-2) check character.
std::string ChineseId(const std::string& area, const std::string& birth, const std::string& seq) {
  const std::string body = area + birth + seq;
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (body[i] - '0') * kWeights[i];
  return body + kCheck[sum % 11];
}

// "310***********" + the last four characters.
std::string MaskedId(const std::string& id) { return "310***********" + id.substr(14); }

common::v1::LatLng Point(double latitude, double longitude) {
  common::v1::LatLng p;
  p.set_latitude(latitude);
  p.set_longitude(longitude);
  return p;
}

v1::Organisation Org(const std::string& id, const std::string& display_name,
                     v1::OrganisationKind kind, v1::Sector sector, const std::string& region,
                     const std::vector<std::string>& lines = {}, const std::string& parent = "") {
  v1::Organisation org;
  org.set_id(id);
  org.set_display_name(display_name);
  org.set_kind(kind);
  org.set_sector(sector);
  org.set_region(region);
  for (const std::string& line : lines) org.add_lines("lines/" + line);
  if (!parent.empty()) org.set_parent("organisations/" + parent);
  return org;
}

std::vector<std::string> Fields(const grpc::Status& status) {
  std::vector<std::string> fields;
  auto bad_request = GetBadRequest(FromGrpcStatus(status));
  if (bad_request.has_value()) {
    for (const auto& v : bad_request->field_violations()) fields.push_back(v.field());
  }
  return fields;
}

// The field of the only violation, or a description of what was found instead.
std::string ViolatedField(const grpc::Status& status) {
  std::vector<std::string> fields = Fields(status);
  if (fields.size() == 1) return fields[0];
  return absl::StrCat("(", fields.size(), " violations: ", absl::StrJoin(fields, ","), ")");
}

std::string Description(const grpc::Status& status, const std::string& field) {
  auto bad_request = GetBadRequest(FromGrpcStatus(status));
  if (bad_request.has_value()) {
    for (const auto& v : bad_request->field_violations()) {
      if (v.field() == field) return v.description();
    }
  }
  return "(no violation of " + field + ")";
}

std::string Reason(const grpc::Status& status) {
  auto info = GetErrorInfo(FromGrpcStatus(status));
  return info.has_value() ? info->reason() : "(no reason)";
}

class RegistryCatalogueTest : public ::testing::TestWithParam<std::string> {
 protected:
  template <typename Request, typename Response>
  using Method = grpc::Status (v1::RegistryService::Stub::*)(grpc::ClientContext*, const Request&,
                                                             Response*);

  void SetUp() override {
    auto started = RegistryTestServer::Start(GetParam(), "registry_catalogue", Clock::Real());
    ASSERT_TRUE(started.ok()) << started.status();
    harness_ = std::move(*started);
    url_ = harness_->url;
    db_ = harness_->db.get();
    stub_ = harness_->stub.get();
  }

  // One unary call with a deadline; `actor` and `request_id` go into the call's metadata.
  template <typename Request, typename Response>
  grpc::Status Call(Method<Request, Response> method, const std::type_identity_t<Request>& request,
                    std::type_identity_t<Response>* response, const std::string& actor = "",
                    const std::string& request_id = "") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!actor.empty()) context.AddMetadata(kActorKey, actor);
    if (!request_id.empty()) context.AddMetadata(kRequestIdKey, request_id);
    return (stub_->*method)(&context, request, response);
  }

  grpc::Status CreateRegion(const std::string& code, const std::string& display_name,
                            v1::RegionLevel level, const std::string& parent) {
    v1::CreateRegionRequest request;
    request.mutable_region()->set_code(code);
    request.mutable_region()->set_display_name(display_name);
    request.mutable_region()->set_level(level);
    request.mutable_region()->set_parent(parent);
    v1::CreateRegionResponse response;
    return Call(&v1::RegistryService::Stub::CreateRegion, request, &response);
  }

  // 上海市 > 黄浦区 > 五里桥街道 (桥一, 桥二居民区) and 打浦桥街道 (打一居民区).
  void BuildTree() {
    ASSERT_TRUE(CreateRegion("310000", "上海市", v1::REGION_LEVEL_MUNICIPALITY, "").ok());
    ASSERT_TRUE(CreateRegion("310101", "黄浦区", v1::REGION_LEVEL_DISTRICT, "regions/310000").ok());
    ASSERT_TRUE(
        CreateRegion("310101020", "五里桥街道", v1::REGION_LEVEL_STREET, "regions/310101").ok());
    ASSERT_TRUE(
        CreateRegion("310101020001", "桥一居民区", v1::REGION_LEVEL_COMMITTEE, kStreet).ok());
    ASSERT_TRUE(
        CreateRegion("310101020002", "桥二居民区", v1::REGION_LEVEL_COMMITTEE, kStreet).ok());
    ASSERT_TRUE(
        CreateRegion("310101021", "打浦桥街道", v1::REGION_LEVEL_STREET, "regions/310101").ok());
    ASSERT_TRUE(
        CreateRegion("310101021001", "打一居民区", v1::REGION_LEVEL_COMMITTEE, kOtherStreet).ok());
  }

  grpc::Status CreateLine(const std::string& id, const std::string& display_name,
                          const std::string& color, v1::Line* out = nullptr) {
    v1::CreateLineRequest request;
    request.mutable_line()->set_id(id);
    request.mutable_line()->set_display_name(display_name);
    request.mutable_line()->set_color(color);
    v1::CreateLineResponse response;
    grpc::Status status = Call(&v1::RegistryService::Stub::CreateLine, request, &response);
    if (out != nullptr) *out = response.line();
    return status;
  }

  grpc::Status CreateServiceType(const std::string& code, const std::string& display_name,
                                 const std::string& parent, v1::Sector sector,
                                 v1::ServiceType* out = nullptr) {
    v1::CreateServiceTypeRequest request;
    request.mutable_service_type()->set_code(code);
    request.mutable_service_type()->set_display_name(display_name);
    request.mutable_service_type()->set_parent(parent);
    request.mutable_service_type()->set_sector(sector);
    v1::CreateServiceTypeResponse response;
    grpc::Status status = Call(&v1::RegistryService::Stub::CreateServiceType, request, &response);
    if (out != nullptr) *out = response.service_type();
    return status;
  }

  grpc::Status CreateOrg(const v1::Organisation& org, v1::Organisation* out = nullptr) {
    v1::CreateOrganisationRequest request;
    *request.mutable_organisation() = org;
    v1::CreateOrganisationResponse response;
    grpc::Status status = Call(&v1::RegistryService::Stub::CreateOrganisation, request, &response);
    if (out != nullptr) *out = response.organisation();
    return status;
  }

  void MustCreateOrg(const v1::Organisation& org) {
    grpc::Status status = CreateOrg(org);
    EXPECT_TRUE(status.ok()) << org.id() << ": " << status.error_message() << " "
                             << ViolatedField(status);
  }

  grpc::Status CreateRelation(const std::string& source, const std::string& target,
                              v1::RelationType type, v1::Relation* out = nullptr,
                              const std::string& note = "") {
    v1::CreateRelationRequest request;
    request.mutable_relation()->set_source(source);
    request.mutable_relation()->set_target(target);
    request.mutable_relation()->set_type(type);
    request.mutable_relation()->set_note(note);
    v1::CreateRelationResponse response;
    grpc::Status status = Call(&v1::RegistryService::Stub::CreateRelation, request, &response);
    if (out != nullptr) *out = response.relation();
    return status;
  }

  grpc::Status CreateOffering(const v1::Offering& offering, v1::Offering* out = nullptr) {
    v1::CreateOfferingRequest request;
    *request.mutable_offering() = offering;
    v1::CreateOfferingResponse response;
    grpc::Status status = Call(&v1::RegistryService::Stub::CreateOffering, request, &response);
    if (out != nullptr) *out = response.offering();
    return status;
  }

  grpc::Status CreateElder(const v1::Elder& elder, v1::Elder* out = nullptr,
                           const std::string& request_id = "") {
    v1::CreateElderRequest request;
    *request.mutable_elder() = elder;
    request.set_request_id(request_id);
    v1::CreateElderResponse response;
    grpc::Status status = Call(&v1::RegistryService::Stub::CreateElder, request, &response);
    if (out != nullptr) *out = response.elder();
    return status;
  }

  grpc::Status GetElder(const std::string& name, v1::ElderView view, const std::string& reason,
                        v1::Elder* out, const std::string& actor = "",
                        const std::string& request_id = "") {
    v1::GetElderRequest request;
    request.set_name(name);
    request.set_view(view);
    request.set_reason(reason);
    v1::GetElderResponse response;
    grpc::Status status =
        Call(&v1::RegistryService::Stub::GetElder, request, &response, actor, request_id);
    if (out != nullptr) *out = response.elder();
    return status;
  }

  std::vector<v1::AuditEntry> Audit(const std::string& elder) {
    v1::ListAuditEntriesRequest request;
    request.set_elder(elder);
    v1::ListAuditEntriesResponse response;
    grpc::Status status = Call(&v1::RegistryService::Stub::ListAuditEntries, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.entries().begin(), response.entries().end()};
  }

  v1::ListOrganisationsResponse ListOrgs(const std::string& region, v1::OrganisationKind kind,
                                         const std::string& line, int page_size,
                                         const std::string& token, grpc::Status* status) {
    v1::ListOrganisationsRequest request;
    request.set_region(region);
    request.set_kind(kind);
    request.set_line(line);
    request.set_page_size(page_size);
    request.set_page_token(token);
    v1::ListOrganisationsResponse response;
    *status = Call(&v1::RegistryService::Stub::ListOrganisations, request, &response);
    return response;
  }

  // Ids of every organisation matching the filters (one page of up to 1000).
  std::vector<std::string> OrgIds(const std::string& region, v1::OrganisationKind kind,
                                  const std::string& line) {
    grpc::Status status;
    v1::ListOrganisationsResponse response = ListOrgs(region, kind, line, 1000, "", &status);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.next_page_token().empty());
    std::vector<std::string> ids;
    for (const auto& o : response.organisations()) ids.push_back(o.id());
    return ids;
  }

  std::vector<v1::Relation> Relations(const std::string& organisation) {
    std::vector<v1::Relation> all;
    std::string token;
    do {
      v1::ListRelationsRequest request;
      request.set_organisation(organisation);
      request.set_page_size(2);
      request.set_page_token(token);
      v1::ListRelationsResponse response;
      grpc::Status status = Call(&v1::RegistryService::Stub::ListRelations, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      all.insert(all.end(), response.relations().begin(), response.relations().end());
      token = response.next_page_token();
    } while (!token.empty());
    return all;
  }

  int64_t Count(const std::string& table) {
    int64_t count = -1;
    absl::Status status = db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      auto rows = tx.Query("SELECT COUNT(*) FROM " + table);
      if (!rows.ok()) return rows.status();
      count = (*rows)[0].GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return count;
  }

  // Every cell of every row of `table`, concatenated (MySQL raw scan).
  std::string AllCells(const std::string& table) {
    std::string out;
    absl::Status status = db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
      auto rows = tx.Query("SELECT * FROM " + table);
      if (!rows.ok()) return rows.status();
      out.clear();
      for (const storage::Row& row : *rows) {
        for (size_t i = 0; i < row.size(); ++i) absl::StrAppend(&out, row.GetString(i), "\x1f");
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return out;
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "";
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  // An elder with every kind of personal data and both consents granted.
  static v1::Elder FullElder(const std::string& id_number) {
    v1::Elder e;
    e.set_display_name("王秀英");
    e.set_region(kCommittee1);
    e.set_address(kAddress);
    e.set_id_number(id_number);
    e.set_phone(kPhone);
    e.set_living_situation(v1::LIVING_SITUATION_ALONE);
    e.set_care_grade(3);
    e.set_assessment_date("2025-11-20");
    v1::Contact* daughter = e.add_contacts();
    daughter->set_display_name("李华");
    daughter->set_relationship("女儿");
    daughter->set_phone(kContactPhone);
    daughter->set_proxy(true);
    v1::Consent* personal = e.add_consents();
    personal->set_purpose(v1::CONSENT_PURPOSE_PERSONAL_DATA);
    personal->set_granted(true);
    v1::Consent* health = e.add_consents();
    health->set_purpose(v1::CONSENT_PURPOSE_HEALTH_DATA);
    health->set_granted(true);
    return e;
  }

  std::unique_ptr<RegistryTestServer> harness_;
  std::string url_;
  storage::Database* db_ = nullptr;
  v1::RegistryService::Stub* stub_ = nullptr;
};

// --- Lines and the service taxonomy ------------------------------------------------------------

TEST_P(RegistryCatalogueTest, LinesAndServiceTaxonomyAreCreatedAndListedInOrder) {
  v1::Line line;
  ASSERT_TRUE(CreateLine("party", "党建", "#1F77B4", &line).ok());
  EXPECT_EQ(line.name(), "lines/party");
  ASSERT_TRUE(CreateLine("civil-affairs", "民政", "").ok());

  grpc::Status bad_color = CreateLine("health", "卫健", "red");
  EXPECT_EQ(bad_color.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(bad_color), "line.color");
  grpc::Status bad_id = CreateLine("Health_Line", "卫健", "");
  EXPECT_EQ(ViolatedField(bad_id), "line.id");
  grpc::Status duplicate = CreateLine("party", "党建", "");
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::ALREADY_EXISTS);

  v1::ListLinesResponse lines;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListLines, v1::ListLinesRequest(), &lines).ok());
  ASSERT_EQ(lines.lines_size(), 2);
  EXPECT_EQ(lines.lines(0).name(), "lines/civil-affairs");
  EXPECT_EQ(lines.lines(1).name(), "lines/party");
  EXPECT_EQ(lines.lines(1).display_name(), "党建");
  EXPECT_EQ(lines.lines(1).color(), "#1F77B4");

  v1::ServiceType meal, delivery;
  ASSERT_TRUE(CreateServiceType("meal", "助餐", "", v1::SECTOR_SOCIAL, &meal).ok());
  EXPECT_EQ(meal.name(), "serviceTypes/meal");
  ASSERT_TRUE(CreateServiceType("meal-delivery", "送餐上门", "serviceTypes/meal",
                                v1::SECTOR_COMMERCIAL, &delivery)
                  .ok());
  EXPECT_EQ(delivery.parent(), "serviceTypes/meal");

  grpc::Status orphan =
      CreateServiceType("bath-home", "上门助浴", "serviceTypes/bath", v1::SECTOR_SOCIAL);
  EXPECT_EQ(orphan.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(orphan), "service_type.parent");
  EXPECT_EQ(CreateServiceType("meal", "助餐", "", v1::SECTOR_SOCIAL).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  v1::ListServiceTypesResponse types;
  ASSERT_TRUE(
      Call(&v1::RegistryService::Stub::ListServiceTypes, v1::ListServiceTypesRequest(), &types)
          .ok());
  ASSERT_EQ(types.service_types_size(), 2);
  EXPECT_EQ(types.service_types(0).code(), "meal");
  EXPECT_EQ(types.service_types(0).parent(), "");
  EXPECT_EQ(types.service_types(1).code(), "meal-delivery");
  EXPECT_EQ(types.service_types(1).parent(), "serviceTypes/meal");
  EXPECT_EQ(types.service_types(1).display_name(), "送餐上门");
  EXPECT_EQ(types.service_types(1).sector(), v1::SECTOR_COMMERCIAL);
}

// --- Organisations -------------------------------------------------------------------------------

TEST_P(RegistryCatalogueTest, OrganisationWithParentGetsAnAdministrativeRelation) {
  BuildTree();
  ASSERT_TRUE(CreateLine("civil-affairs", "民政", "#d62728").ok());
  ASSERT_TRUE(CreateLine("party", "党建", "#1f77b4").ok());

  v1::Organisation office;
  ASSERT_TRUE(
      CreateOrg(Org("wlq-street-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                    v1::SECTOR_PUBLIC, kStreet, {"civil-affairs", "party"}),
                &office)
          .ok());
  EXPECT_EQ(office.name(), "organisations/wlq-street-office");
  EXPECT_GT(office.create_time().seconds(), 0);

  v1::Organisation department =
      Org("wlq-community-office", "社区服务办公室", v1::ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT,
          v1::SECTOR_PUBLIC, kStreet, {"civil-affairs"}, "wlq-street-office");
  *department.mutable_location() = Point(31.2001, 121.4802);
  v1::Organisation created;
  ASSERT_TRUE(CreateOrg(department, &created).ok());
  EXPECT_EQ(created.parent(), "organisations/wlq-street-office");

  v1::GetOrganisationRequest get;
  get.set_name("organisations/wlq-community-office");
  v1::GetOrganisationResponse got;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetOrganisation, get, &got).ok());
  EXPECT_EQ(got.organisation().display_name(), "社区服务办公室");
  EXPECT_EQ(got.organisation().kind(), v1::ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT);
  EXPECT_EQ(got.organisation().sector(), v1::SECTOR_PUBLIC);
  EXPECT_EQ(got.organisation().region(), kStreet);
  ASSERT_EQ(got.organisation().lines_size(), 1);
  EXPECT_EQ(got.organisation().lines(0), "lines/civil-affairs");
  EXPECT_EQ(got.organisation().parent(), "organisations/wlq-street-office");
  EXPECT_DOUBLE_EQ(got.organisation().location().latitude(), 31.2001);
  EXPECT_EQ(got.organisation().create_time().seconds(), created.create_time().seconds());

  get.set_name("organisations/nobody");
  grpc::Status missing = Call(&v1::RegistryService::Stub::GetOrganisation, get, &got);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  get.set_name("wlq-community-office");
  grpc::Status malformed = Call(&v1::RegistryService::Stub::GetOrganisation, get, &got);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(malformed), "name");

  // Exactly one relation: department -> office, administrative; the office has no parent.
  std::vector<v1::Relation> relations = Relations("");
  ASSERT_EQ(relations.size(), 1u);
  EXPECT_EQ(relations[0].source(), "organisations/wlq-community-office");
  EXPECT_EQ(relations[0].target(), "organisations/wlq-street-office");
  EXPECT_EQ(relations[0].type(), v1::RELATION_TYPE_ADMINISTRATIVE);
  EXPECT_TRUE(absl::StartsWith(relations[0].name(), "relations/")) << relations[0].name();
  // Listed from both ends.
  EXPECT_EQ(Relations("organisations/wlq-street-office").size(), 1u);
  EXPECT_EQ(Relations("organisations/wlq-community-office").size(), 1u);
  // Stating the same relation again is a duplicate.
  EXPECT_EQ(CreateRelation("organisations/wlq-community-office", "organisations/wlq-street-office",
                           v1::RELATION_TYPE_ADMINISTRATIVE)
                .error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_P(RegistryCatalogueTest, WorkersAreCreatedReadBackAndListedByOrganisation) {
  BuildTree();
  v1::Organisation org;
  ASSERT_TRUE(
      CreateOrg(Org("wlq-care-centre", "五里桥综合为老服务中心",
                    v1::ORGANISATION_KIND_SOCIAL_ORGANISATION, v1::SECTOR_SOCIAL, kStreet, {}),
                &org)
          .ok());
  v1::CreateWorkerRequest create;
  create.mutable_worker()->set_display_name("李护理员");
  create.mutable_worker()->set_organisation(org.name());
  create.mutable_worker()->add_skills("bathing");
  create.mutable_worker()->add_skills("nursing");
  *create.mutable_worker()->mutable_base_location() = Point(31.2001, 121.4802);
  v1::CreateWorkerResponse created;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::CreateWorker, create, &created).ok());
  EXPECT_TRUE(absl::StartsWith(created.worker().name(), "workers/"));
  EXPECT_EQ(created.worker().status(), v1::WORKER_STATUS_ACTIVE);

  v1::GetWorkerRequest get;
  get.set_name(created.worker().name());
  v1::GetWorkerResponse got;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetWorker, get, &got).ok());
  EXPECT_EQ(got.worker().display_name(), "李护理员");
  ASSERT_EQ(got.worker().skills_size(), 2);
  EXPECT_EQ(got.worker().skills(1), "nursing");
  EXPECT_DOUBLE_EQ(got.worker().base_location().longitude(), 121.4802);

  get.set_name("workers/nobody");
  EXPECT_EQ(Call(&v1::RegistryService::Stub::GetWorker, get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  get.set_name("nobody");
  grpc::Status malformed = Call(&v1::RegistryService::Stub::GetWorker, get, &got);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(malformed), "name");

  // A worker of an unknown organisation is refused and nothing is written.
  create.mutable_worker()->set_organisation("organisations/nobody");
  EXPECT_EQ(Call(&v1::RegistryService::Stub::CreateWorker, create, &created).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListWorkersRequest list;
  list.set_organisation(org.name());
  v1::ListWorkersResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListWorkers, list, &listed).ok());
  ASSERT_EQ(listed.workers_size(), 1);
  EXPECT_EQ(listed.workers(0).name(), got.worker().name());
}

TEST_P(RegistryCatalogueTest, ListOrganisationsFiltersByRegionSubtreeKindAndLine) {
  BuildTree();
  ASSERT_TRUE(CreateLine("civil-affairs", "民政", "").ok());
  ASSERT_TRUE(CreateLine("party", "党建", "").ok());
  MustCreateOrg(Org("hp-civil-affairs", "黄浦区民政局", v1::ORGANISATION_KIND_GOVERNMENT,
                    v1::SECTOR_PUBLIC, "regions/310101", {"civil-affairs"}));
  MustCreateOrg(Org("wlq-street-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                    v1::SECTOR_PUBLIC, kStreet, {"civil-affairs", "party"}));
  MustCreateOrg(Org("qy-committee", "桥一居委会", v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE,
                    v1::SECTOR_PUBLIC, kCommittee1, {"party"}, "wlq-street-office"));
  MustCreateOrg(Org("qe-committee", "桥二居委会", v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE,
                    v1::SECTOR_PUBLIC, kCommittee2, {}, "wlq-street-office"));
  MustCreateOrg(Org("dpq-street-office", "打浦桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                    v1::SECTOR_PUBLIC, kOtherStreet, {"party"}));
  MustCreateOrg(Org("dy-committee", "打一居委会", v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE,
                    v1::SECTOR_PUBLIC, "regions/310101021001", {}, "dpq-street-office"));

  using Ids = std::vector<std::string>;
  const v1::OrganisationKind any = v1::ORGANISATION_KIND_UNSPECIFIED;
  // Region subtree: a committee's organisation is listed under its committee, street, district.
  EXPECT_EQ(OrgIds("", any, ""), (Ids{"dpq-street-office", "dy-committee", "hp-civil-affairs",
                                      "qe-committee", "qy-committee", "wlq-street-office"}));
  EXPECT_EQ(OrgIds("regions/310101", any, ""),
            (Ids{"dpq-street-office", "dy-committee", "hp-civil-affairs", "qe-committee",
                 "qy-committee", "wlq-street-office"}));
  EXPECT_EQ(OrgIds(kStreet, any, ""), (Ids{"qe-committee", "qy-committee", "wlq-street-office"}));
  EXPECT_EQ(OrgIds(kCommittee1, any, ""), (Ids{"qy-committee"}));
  EXPECT_EQ(OrgIds(kOtherStreet, any, ""), (Ids{"dpq-street-office", "dy-committee"}));
  // Kind.
  EXPECT_EQ(OrgIds("", v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE, ""),
            (Ids{"dy-committee", "qe-committee", "qy-committee"}));
  EXPECT_EQ(OrgIds(kStreet, v1::ORGANISATION_KIND_STREET_OFFICE, ""), (Ids{"wlq-street-office"}));
  EXPECT_EQ(OrgIds(kCommittee2, v1::ORGANISATION_KIND_STREET_OFFICE, ""), Ids{});
  // Line.
  EXPECT_EQ(OrgIds("", any, "lines/party"),
            (Ids{"dpq-street-office", "qy-committee", "wlq-street-office"}));
  EXPECT_EQ(OrgIds("", any, "lines/civil-affairs"), (Ids{"hp-civil-affairs", "wlq-street-office"}));
  EXPECT_EQ(OrgIds(kStreet, v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE, "lines/party"),
            (Ids{"qy-committee"}));

  grpc::Status status;
  ListOrgs("310101", any, "", 0, "", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "region");
  ListOrgs("", any, "party", 0, "", &status);
  EXPECT_EQ(ViolatedField(status), "line");
  ListOrgs("", any, "", -1, "", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "page_size");
}

TEST_P(RegistryCatalogueTest, ListOrganisationsPagesAcrossPagesWithTokens) {
  BuildTree();
  ASSERT_TRUE(CreateLine("party", "党建", "").ok());
  std::vector<std::string> expected;
  for (int i = 1; i <= 7; ++i) {
    const std::string id = absl::StrCat("team-", i);
    // Alternate committees so that the region filter is exercised across pages.
    MustCreateOrg(Org(id, absl::StrCat("志愿服务队", i), v1::ORGANISATION_KIND_VOLUNTEER_TEAM,
                      v1::SECTOR_SOCIAL, i % 2 == 0 ? kCommittee2 : kCommittee1, {"party"}));
    expected.push_back(id);
  }
  MustCreateOrg(Org("dpq-team", "打浦桥志愿队", v1::ORGANISATION_KIND_VOLUNTEER_TEAM,
                    v1::SECTOR_SOCIAL, "regions/310101021001", {"party"}));

  std::vector<std::string> seen;
  std::vector<int> page_sizes;
  std::string token;
  grpc::Status status;
  std::string first_token;
  do {
    v1::ListOrganisationsResponse page =
        ListOrgs(kStreet, v1::ORGANISATION_KIND_VOLUNTEER_TEAM, "lines/party", 3, token, &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& o : page.organisations()) seen.push_back(o.id());
    page_sizes.push_back(page.organisations_size());
    token = page.next_page_token();
    if (first_token.empty()) first_token = token;
    ASSERT_LT(page_sizes.size(), 10u) << "pagination does not end";
  } while (!token.empty());
  EXPECT_EQ(seen, expected);  // every one once, in id order, none from the other street
  EXPECT_EQ(page_sizes, (std::vector<int>{3, 3, 1}));

  // A token only works with the filters it was issued for.
  ListOrgs(kStreet, v1::ORGANISATION_KIND_UNSPECIFIED, "lines/party", 3, first_token, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "page_token");
  EXPECT_EQ(Reason(status), "ERROR_REASON_INVALID_PAGE_TOKEN");
  ListOrgs("regions/310101", v1::ORGANISATION_KIND_VOLUNTEER_TEAM, "lines/party", 3, first_token,
           &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Exactly one page's worth: no next token.
  v1::ListOrganisationsResponse exact =
      ListOrgs(kStreet, v1::ORGANISATION_KIND_UNSPECIFIED, "", 7, "", &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(exact.organisations_size(), 7);
  EXPECT_TRUE(exact.next_page_token().empty());
}

TEST_P(RegistryCatalogueTest, BadOrganisationNamesTheFieldAndWritesNothing) {
  BuildTree();
  ASSERT_TRUE(CreateLine("civil-affairs", "民政", "").ok());
  MustCreateOrg(Org("wlq-street-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                    v1::SECTOR_PUBLIC, kStreet, {"civil-affairs"}));
  const int64_t orgs = Count("organisations");
  const int64_t memberships = Count("organisation_lines");
  const int64_t relations = Count("relations");
  ASSERT_EQ(orgs, 1);
  ASSERT_EQ(memberships, 1);
  ASSERT_EQ(relations, 0);

  // A valid organisation that each case breaks in one way.
  const v1::Organisation good =
      Org("wlq-elder-centre", "五里桥综合为老服务中心", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
          v1::SECTOR_SOCIAL, kStreet, {"civil-affairs"}, "wlq-street-office");

  struct Case {
    std::string label;
    std::function<void(v1::Organisation&)> change;
    grpc::StatusCode code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"bad id", [](auto& o) { o.set_id("Elder_Centre"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "organisation.id"},
      {"empty id", [](auto& o) { o.set_id(""); }, grpc::StatusCode::INVALID_ARGUMENT,
       "organisation.id"},
      {"empty display name", [](auto& o) { o.set_display_name(""); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.display_name"},
      {"blank display name", [](auto& o) { o.set_display_name("   "); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.display_name"},
      {"unspecified kind", [](auto& o) { o.set_kind(v1::ORGANISATION_KIND_UNSPECIFIED); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.kind"},
      {"unspecified sector", [](auto& o) { o.set_sector(v1::SECTOR_UNSPECIFIED); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.sector"},
      {"malformed region", [](auto& o) { o.set_region("310101020"); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.region"},
      {"unknown region", [](auto& o) { o.set_region("regions/310101099"); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.region"},
      {"unknown line", [](auto& o) { o.set_lines(0, "lines/health"); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.lines[0]"},
      {"second line unknown", [](auto& o) { o.add_lines("lines/health"); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.lines[1]"},
      {"malformed line", [](auto& o) { o.set_lines(0, "civil-affairs"); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.lines[0]"},
      {"unknown parent", [](auto& o) { o.set_parent("organisations/ghost"); },
       grpc::StatusCode::INVALID_ARGUMENT, "organisation.parent"},
      {"duplicate id", [](auto& o) { o.set_id("wlq-street-office"); },
       grpc::StatusCode::ALREADY_EXISTS, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    v1::Organisation org = good;
    c.change(org);
    grpc::Status status = CreateOrg(org);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    if (!c.field.empty()) {
      EXPECT_EQ(ViolatedField(status), c.field);
    }
    if (c.code == grpc::StatusCode::ALREADY_EXISTS) {
      EXPECT_EQ(Reason(status), "ERROR_REASON_ALREADY_EXISTS");
    }
  }
  EXPECT_EQ(Count("organisations"), orgs);
  EXPECT_EQ(Count("organisation_lines"), memberships);
  EXPECT_EQ(Count("relations"), relations);

  // Several problems at once are all reported.
  v1::Organisation many = good;
  many.set_id("");
  many.set_display_name("");
  many.set_kind(v1::ORGANISATION_KIND_UNSPECIFIED);
  many.set_sector(v1::SECTOR_UNSPECIFIED);
  std::vector<std::string> fields = Fields(CreateOrg(many));
  std::sort(fields.begin(), fields.end());
  EXPECT_EQ(fields, (std::vector<std::string>{"organisation.display_name", "organisation.id",
                                              "organisation.kind", "organisation.sector"}));

  // The original is untouched and the valid one still goes in afterwards.
  ASSERT_TRUE(CreateOrg(good).ok());
  EXPECT_EQ(Count("organisations"), orgs + 1);
  EXPECT_EQ(Count("relations"), relations + 1);
}

// A line or covered region given twice in one request is a bad request (naming the repeated
// entry), not ALREADY_EXISTS: nothing was created, and clients read ALREADY_EXISTS on a create as
// "an earlier attempt went through".
TEST_P(RegistryCatalogueTest, RepeatedListEntriesAreInvalidArgument) {
  BuildTree();
  ASSERT_TRUE(CreateLine("civil-affairs", "民政", "").ok());
  ASSERT_TRUE(CreateServiceType("meal", "助餐", "", v1::SECTOR_SOCIAL).ok());
  MustCreateOrg(Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
                    v1::SECTOR_SOCIAL, kStreet));

  grpc::Status twice =
      CreateOrg(Org("wlq-street-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                    v1::SECTOR_PUBLIC, kStreet, {"civil-affairs", "civil-affairs"}));
  EXPECT_EQ(twice.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << twice.error_message();
  EXPECT_EQ(ViolatedField(twice), "organisation.lines[1]");
  EXPECT_EQ(Count("organisations"), 1);

  v1::Offering offering;
  offering.set_organisation("organisations/wlq-canteen");
  offering.set_service_type("serviceTypes/meal");
  offering.add_covered_regions(kStreet);
  offering.add_covered_regions(kStreet);
  grpc::Status covered_twice = CreateOffering(offering);
  EXPECT_EQ(covered_twice.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << covered_twice.error_message();
  EXPECT_EQ(ViolatedField(covered_twice), "offering.covered_regions[1]");
  EXPECT_EQ(Count("offerings"), 0);
}

TEST_P(RegistryCatalogueTest, UpdateOfferingChangesOnlyTheMaskedFields) {
  BuildTree();
  ASSERT_TRUE(CreateServiceType("meal", "助餐", "", v1::SECTOR_SOCIAL).ok());
  MustCreateOrg(Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
                    v1::SECTOR_SOCIAL, kStreet));
  v1::Offering offering;
  offering.set_organisation("organisations/wlq-canteen");
  offering.set_service_type("serviceTypes/meal");
  offering.add_covered_regions(kStreet);
  offering.set_capacity_per_day(80);
  offering.set_capacity_per_week(400);
  offering.set_display_name("午餐送餐");
  v1::Offering created;
  ASSERT_TRUE(CreateOffering(offering, &created).ok());

  v1::UpdateOfferingRequest request;
  request.mutable_offering()->set_name(created.name());
  request.mutable_offering()->set_capacity_per_day(60);
  request.mutable_offering()->set_capacity_per_week(1);  // not in the mask
  request.mutable_offering()->set_display_name("午餐送餐（周末停）");
  request.mutable_update_mask()->add_paths("capacity_per_day");
  request.mutable_update_mask()->add_paths("display_name");
  request.set_organisation("organisations/wlq-canteen");
  request.set_request_id("sync-1");
  v1::UpdateOfferingResponse response;
  grpc::Status status = Call(&v1::RegistryService::Stub::UpdateOffering, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.offering().capacity_per_day(), 60);
  EXPECT_EQ(response.offering().capacity_per_week(), 400);
  EXPECT_EQ(response.offering().display_name(), "午餐送餐（周末停）");
  EXPECT_EQ(response.offering().covered_regions(0), kStreet);
  // Retried with the same request_id: the same answer; with another payload: refused.
  v1::UpdateOfferingResponse again;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateOffering, request, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), response.SerializeAsString());
  request.mutable_offering()->set_capacity_per_day(61);
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateOffering, request, &again).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.clear_request_id();

  v1::ListOfferingsRequest list;
  list.set_organisation("organisations/wlq-canteen");
  v1::ListOfferingsResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListOfferings, list, &listed).ok());
  ASSERT_EQ(listed.offerings_size(), 1);
  EXPECT_EQ(listed.offerings(0).capacity_per_day(), 60);

  // Bad requests name the field and change nothing.
  v1::UpdateOfferingRequest bad = request;
  bad.mutable_update_mask()->add_paths("covered_regions");
  status = Call(&v1::RegistryService::Stub::UpdateOffering, bad, &again);
  EXPECT_EQ(ViolatedField(status), "update_mask.paths[2]");
  bad = request;
  bad.mutable_update_mask()->clear_paths();
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateOffering, bad, &again)),
            "update_mask");
  bad = request;
  bad.mutable_offering()->set_capacity_per_day(-5);
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateOffering, bad, &again)),
            "offering.capacity_per_day");
  bad = request;
  bad.mutable_update_mask()->add_paths("schedule");
  bad.mutable_offering()->mutable_schedule()->set_rrule("FREQ=SOMETIMES");
  bad.mutable_offering()->mutable_schedule()->set_dtstart("2026-12-01T11:00:00");
  bad.mutable_offering()->mutable_schedule()->set_duration_minutes(90);
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateOffering, bad, &again)),
            "offering.schedule.rrule");
  bad = request;
  bad.set_organisation("organisations/someone-else");
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateOffering, bad, &again).error_code(),
            grpc::StatusCode::NOT_FOUND);
  bad = request;
  bad.mutable_offering()->set_name("offerings/nothing-here");
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateOffering, bad, &again).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListOfferings, list, &listed).ok());
  EXPECT_EQ(listed.offerings(0).capacity_per_day(), 60);
}

// --- Relations -----------------------------------------------------------------------------------

TEST_P(RegistryCatalogueTest, RelationsOfEveryTypeAndDuplicates) {
  BuildTree();
  MustCreateOrg(Org("wlq-street-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                    v1::SECTOR_PUBLIC, kStreet));
  MustCreateOrg(Org("hp-civil-affairs", "黄浦区民政局", v1::ORGANISATION_KIND_GOVERNMENT,
                    v1::SECTOR_PUBLIC, "regions/310101"));
  MustCreateOrg(Org("wlq-community-office", "社区服务办公室",
                    v1::ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT, v1::SECTOR_PUBLIC, kStreet));
  MustCreateOrg(Org("wlq-joint-meeting", "为老服务联席会议",
                    v1::ORGANISATION_KIND_DELIBERATIVE_BODY, v1::SECTOR_PUBLIC, kStreet));
  MustCreateOrg(Org("xinlu-social", "心路社工师事务所", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
                    v1::SECTOR_SOCIAL, kStreet));
  MustCreateOrg(Org("qy-committee", "桥一居委会", v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE,
                    v1::SECTOR_PUBLIC, kCommittee1));
  const std::string office = "organisations/wlq-street-office";
  const std::string bureau = "organisations/hp-civil-affairs";
  const std::string department = "organisations/wlq-community-office";
  const std::string meeting = "organisations/wlq-joint-meeting";
  const std::string social = "organisations/xinlu-social";
  const std::string committee = "organisations/qy-committee";

  struct Want {
    std::string source, target;
    v1::RelationType type;
  };
  const std::vector<Want> wants = {
      {department, office, v1::RELATION_TYPE_ADMINISTRATIVE},
      {department, bureau, v1::RELATION_TYPE_LINE_GUIDANCE},
      {committee, meeting, v1::RELATION_TYPE_JOINT_MEETING_MEMBER},
      {office, social, v1::RELATION_TYPE_FUNDS},
      {social, committee, v1::RELATION_TYPE_PARTNER},
      {social, kStreet, v1::RELATION_TYPE_SERVES_REGION},
  };
  std::set<std::string> names;
  for (const Want& w : wants) {
    SCOPED_TRACE(v1::RelationType_Name(w.type));
    v1::Relation created;
    grpc::Status status = CreateRelation(w.source, w.target, w.type, &created, "2026年度项目");
    ASSERT_TRUE(status.ok()) << status.error_message() << " " << ViolatedField(status);
    EXPECT_TRUE(absl::StartsWith(created.name(), "relations/")) << created.name();
    EXPECT_EQ(created.source(), w.source);
    EXPECT_EQ(created.target(), w.target);
    EXPECT_EQ(created.type(), w.type);
    EXPECT_EQ(created.note(), "2026年度项目");
    EXPECT_TRUE(names.insert(created.name()).second);
  }
  std::vector<v1::Relation> all = Relations("");
  EXPECT_EQ(all.size(), wants.size());
  std::set<std::string> listed;
  for (const auto& r : all) listed.insert(r.name());
  EXPECT_EQ(listed, names);

  // Relations touching the social organisation: funds (target), partner and serves (source).
  std::vector<v1::Relation> of_social = Relations(social);
  std::set<v1::RelationType> types;
  for (const auto& r : of_social) types.insert(r.type());
  EXPECT_EQ(of_social.size(), 3u);
  EXPECT_EQ(types, (std::set<v1::RelationType>{v1::RELATION_TYPE_FUNDS, v1::RELATION_TYPE_PARTNER,
                                               v1::RELATION_TYPE_SERVES_REGION}));

  const int64_t before = Count("relations");
  // The same triple again.
  grpc::Status duplicate = CreateRelation(social, committee, v1::RELATION_TYPE_PARTNER);
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Reason(duplicate), "ERROR_REASON_ALREADY_EXISTS");
  grpc::Status duplicate_region = CreateRelation(social, kStreet, v1::RELATION_TYPE_SERVES_REGION);
  EXPECT_EQ(duplicate_region.error_code(), grpc::StatusCode::ALREADY_EXISTS);

  // Bad relations name the field.
  grpc::Status serves_org = CreateRelation(social, committee, v1::RELATION_TYPE_SERVES_REGION);
  EXPECT_EQ(serves_org.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(serves_org), "relation.target");
  grpc::Status unknown_region =
      CreateRelation(social, "regions/310101099", v1::RELATION_TYPE_SERVES_REGION);
  EXPECT_EQ(unknown_region.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(unknown_region), "relation.target");
  grpc::Status partner_region = CreateRelation(social, kStreet, v1::RELATION_TYPE_PARTNER);
  EXPECT_EQ(ViolatedField(partner_region), "relation.target");
  grpc::Status unknown_target =
      CreateRelation(social, "organisations/ghost", v1::RELATION_TYPE_PARTNER);
  EXPECT_EQ(unknown_target.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(unknown_target), "relation.target");
  grpc::Status unknown_source =
      CreateRelation("organisations/ghost", social, v1::RELATION_TYPE_PARTNER);
  EXPECT_EQ(unknown_source.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(unknown_source), "relation.source");
  grpc::Status no_type = CreateRelation(social, office, v1::RELATION_TYPE_UNSPECIFIED);
  EXPECT_EQ(ViolatedField(no_type), "relation.type");
  grpc::Status long_note =
      CreateRelation(social, office, v1::RELATION_TYPE_PARTNER, nullptr, std::string(257, 'x'));
  EXPECT_EQ(ViolatedField(long_note), "relation.note");
  EXPECT_EQ(Count("relations"), before);

  // Same ends, another type: a different relation.
  EXPECT_TRUE(CreateRelation(social, committee, v1::RELATION_TYPE_FUNDS).ok());
  EXPECT_EQ(Count("relations"), before + 1);
}

TEST_P(RegistryCatalogueTest, AdministrativeCyclesAndSelfLoopsAreRejected) {
  BuildTree();
  for (const char* id : {"org-a", "org-b", "org-c"}) {
    MustCreateOrg(Org(id, absl::StrCat("机构", id), v1::ORGANISATION_KIND_PUBLIC_CENTRE,
                      v1::SECTOR_PUBLIC, kStreet));
  }
  const std::string a = "organisations/org-a", b = "organisations/org-b", c = "organisations/org-c";
  ASSERT_TRUE(CreateRelation(a, b, v1::RELATION_TYPE_ADMINISTRATIVE).ok());  // A under B
  ASSERT_TRUE(CreateRelation(b, c, v1::RELATION_TYPE_ADMINISTRATIVE).ok());  // B under C
  const int64_t before = Count("relations");

  grpc::Status cycle = CreateRelation(c, a, v1::RELATION_TYPE_ADMINISTRATIVE);  // C under A
  EXPECT_EQ(cycle.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(cycle), "relation.target");
  grpc::Status two_cycle = CreateRelation(b, a, v1::RELATION_TYPE_ADMINISTRATIVE);
  EXPECT_EQ(two_cycle.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(two_cycle), "relation.target");
  grpc::Status self_loop = CreateRelation(a, a, v1::RELATION_TYPE_ADMINISTRATIVE);
  EXPECT_EQ(self_loop.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(self_loop), "relation.target");
  EXPECT_EQ(Count("relations"), before);

  // A parent given on creation counts as well: D under A, then A under D closes a cycle.
  MustCreateOrg(Org("org-d", "机构D", v1::ORGANISATION_KIND_PUBLIC_CENTRE, v1::SECTOR_PUBLIC,
                    kStreet, {}, "org-a"));
  grpc::Status via_parent =
      CreateRelation(a, "organisations/org-d", v1::RELATION_TYPE_ADMINISTRATIVE);
  EXPECT_EQ(via_parent.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(via_parent), "relation.target");

  // Other relation types may go round in circles; a shortcut in the same direction is no cycle.
  EXPECT_TRUE(CreateRelation(c, a, v1::RELATION_TYPE_PARTNER).ok());
  EXPECT_TRUE(CreateRelation(a, c, v1::RELATION_TYPE_ADMINISTRATIVE).ok());
  EXPECT_EQ(Count("relations"), before + 1 /* org-d's parent */ + 2);
}

// --- Offerings -----------------------------------------------------------------------------------

TEST_P(RegistryCatalogueTest, OfferingsWithScheduleAndBadOfferings) {
  BuildTree();
  ASSERT_TRUE(CreateServiceType("meal", "助餐", "", v1::SECTOR_SOCIAL).ok());
  ASSERT_TRUE(
      CreateServiceType("meal-delivery", "送餐上门", "serviceTypes/meal", v1::SECTOR_SOCIAL).ok());
  MustCreateOrg(Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
                    v1::SECTOR_SOCIAL, kStreet));

  v1::Offering good;
  good.set_organisation("organisations/wlq-canteen");
  good.set_service_type("serviceTypes/meal-delivery");
  good.add_covered_regions(kCommittee1);
  good.add_covered_regions(kCommittee2);
  good.set_capacity_per_day(40);
  good.set_capacity_per_week(200);
  good.mutable_schedule()->set_rrule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
  good.mutable_schedule()->set_dtstart("2026-01-05T08:00:00");
  good.mutable_schedule()->set_duration_minutes(480);
  good.add_required_skills("meal-delivery");
  good.set_display_name("五里桥长者食堂 午餐送餐");

  v1::Offering created;
  grpc::Status ok = CreateOffering(good, &created);
  ASSERT_TRUE(ok.ok()) << ok.error_message() << " " << ViolatedField(ok);
  EXPECT_TRUE(absl::StartsWith(created.name(), "offerings/")) << created.name();
  EXPECT_EQ(created.schedule().rrule(), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");

  v1::ListOfferingsRequest list;
  list.set_organisation("organisations/wlq-canteen");
  v1::ListOfferingsResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListOfferings, list, &listed).ok());
  ASSERT_EQ(listed.offerings_size(), 1);
  const v1::Offering& stored = listed.offerings(0);
  EXPECT_EQ(stored.name(), created.name());
  EXPECT_EQ(stored.service_type(), "serviceTypes/meal-delivery");
  ASSERT_EQ(stored.covered_regions_size(), 2);
  EXPECT_EQ(stored.covered_regions(1), kCommittee2);
  EXPECT_EQ(stored.capacity_per_week(), 200);
  EXPECT_EQ(stored.schedule().dtstart(), "2026-01-05T08:00:00");
  EXPECT_EQ(stored.schedule().duration_minutes(), 480);
  EXPECT_EQ(stored.display_name(), "五里桥长者食堂 午餐送餐");
  list.set_organisation("");
  list.set_service_type("serviceTypes/meal-delivery");
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListOfferings, list, &listed).ok());
  EXPECT_EQ(listed.offerings_size(), 1);

  const int64_t offerings = Count("offerings");
  const int64_t coverage = Count("offering_coverage");
  ASSERT_EQ(offerings, 1);
  ASSERT_EQ(coverage, 2);

  // An invalid rule names schedule.rrule and says where in the rule the problem is.
  v1::Offering bad_rule = good;
  bad_rule.mutable_schedule()->set_rrule("FREQ=WEEKLY;BYDAY=MO,XX");
  grpc::Status rule = CreateOffering(bad_rule);
  EXPECT_EQ(rule.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(rule), "offering.schedule.rrule");
  EXPECT_TRUE(absl::StrContains(Description(rule, "offering.schedule.rrule"), "position"))
      << Description(rule, "offering.schedule.rrule");

  struct Case {
    std::string label;
    std::function<void(v1::Offering&)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no covered regions", [](auto& o) { o.clear_covered_regions(); },
       "offering.covered_regions"},
      {"unknown covered region", [](auto& o) { o.set_covered_regions(1, "regions/310101020099"); },
       "offering.covered_regions[1]"},
      {"malformed covered region", [](auto& o) { o.set_covered_regions(0, "五里桥"); },
       "offering.covered_regions[0]"},
      {"unknown service type", [](auto& o) { o.set_service_type("serviceTypes/bath"); },
       "offering.service_type"},
      {"malformed service type", [](auto& o) { o.set_service_type("meal"); },
       "offering.service_type"},
      {"unknown organisation", [](auto& o) { o.set_organisation("organisations/ghost"); },
       "offering.organisation"},
      {"negative weekly capacity", [](auto& o) { o.set_capacity_per_week(-1); },
       "offering.capacity_per_week"},
      {"negative daily capacity", [](auto& o) { o.set_capacity_per_day(-5); },
       "offering.capacity_per_day"},
      {"bad dtstart", [](auto& o) { o.mutable_schedule()->set_dtstart("2026-01-05 08:00"); },
       "offering.schedule.dtstart"},
      {"zero duration", [](auto& o) { o.mutable_schedule()->set_duration_minutes(0); },
       "offering.schedule.duration_minutes"},
      {"too long", [](auto& o) { o.mutable_schedule()->set_duration_minutes(1441); },
       "offering.schedule.duration_minutes"},
      {"bad skill", [](auto& o) { o.set_required_skills(0, "Meal Delivery"); },
       "offering.required_skills[0]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    v1::Offering offering = good;
    c.change(offering);
    grpc::Status status = CreateOffering(offering);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_EQ(ViolatedField(status), c.field);
  }
  EXPECT_EQ(Count("offerings"), offerings);
  EXPECT_EQ(Count("offering_coverage"), coverage);

  // Without a schedule (always available) is fine.
  v1::Offering always = good;
  always.clear_schedule();
  EXPECT_TRUE(CreateOffering(always).ok());
  EXPECT_EQ(Count("offerings"), offerings + 1);
}

// --- Elders and personal data --------------------------------------------------------------------

TEST_P(RegistryCatalogueTest, ElderPersonalDataIsMaskedAndFullReadsAreAudited) {
  BuildTree();
  const std::string id_number = ChineseId("310101", "19450101", "123");
  v1::Elder created;
  grpc::Status status = CreateElder(FullElder(id_number), &created);
  ASSERT_TRUE(status.ok()) << status.error_message() << " " << ViolatedField(status);

  // The response is masked and carries no health data.
  EXPECT_TRUE(absl::StartsWith(created.name(), "elders/")) << created.name();
  EXPECT_EQ(created.id_number(), MaskedId(id_number));
  EXPECT_EQ(created.id_number().size(), 18u);
  EXPECT_EQ(created.phone(), kMaskedPhone);
  EXPECT_EQ(created.address(), kMaskedAddress);
  EXPECT_EQ(created.display_name(), "王**");
  EXPECT_FALSE(created.has_care_grade());
  EXPECT_TRUE(created.assessment_date().empty());
  ASSERT_EQ(created.contacts_size(), 1);
  EXPECT_EQ(created.contacts(0).phone(), kMaskedContactPhone);
  EXPECT_EQ(created.region(), kCommittee1);
  EXPECT_EQ(created.living_situation(), v1::LIVING_SITUATION_ALONE);
  EXPECT_FALSE(created.erased());
  EXPECT_GT(created.create_time().seconds(), 0);
  ASSERT_EQ(created.consents_size(), 2);
  EXPECT_GT(created.consents(0).record_time().seconds(), 0);

  // Default and explicitly masked reads: masked, and not audited.
  v1::Elder masked;
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_UNSPECIFIED, "", &masked).ok());
  EXPECT_EQ(masked.SerializeAsString(), created.SerializeAsString());
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_MASKED, "", &masked).ok());
  EXPECT_EQ(masked.id_number(), MaskedId(id_number));
  EXPECT_FALSE(masked.has_care_grade());
  EXPECT_TRUE(Audit(created.name()).empty());

  // A full read needs a reason.
  v1::Elder full;
  grpc::Status no_reason = GetElder(created.name(), v1::ELDER_VIEW_FULL, "", &full);
  EXPECT_EQ(no_reason.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(no_reason), "reason");
  grpc::Status short_reason = GetElder(created.name(), v1::ELDER_VIEW_FULL, "看看", &full);
  EXPECT_EQ(ViolatedField(short_reason), "reason");
  EXPECT_TRUE(Audit(created.name()).empty());

  const std::string reason = "上门评估前核对联系方式";
  ASSERT_TRUE(
      GetElder(created.name(), v1::ELDER_VIEW_FULL, reason, &full, "worker-007", "req-full-read-1")
          .ok());
  EXPECT_EQ(full.id_number(), id_number);
  EXPECT_EQ(full.phone(), kPhone);
  EXPECT_EQ(full.address(), kAddress);
  EXPECT_EQ(full.display_name(), "王秀英");
  ASSERT_TRUE(full.has_care_grade());
  EXPECT_EQ(full.care_grade(), 3);
  EXPECT_EQ(full.assessment_date(), "2025-11-20");
  ASSERT_EQ(full.contacts_size(), 1);
  EXPECT_EQ(full.contacts(0).phone(), kContactPhone);
  EXPECT_EQ(full.contacts(0).display_name(), "李华");
  EXPECT_EQ(full.name(), created.name());
  EXPECT_EQ(full.region(), kCommittee1);

  std::vector<v1::AuditEntry> entries = Audit(created.name());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].action(), "read");
  EXPECT_EQ(entries[0].reason(), reason);
  EXPECT_EQ(entries[0].elder(), created.name());
  EXPECT_EQ(entries[0].actor(), "worker-007");
  EXPECT_EQ(entries[0].request_id(), "req-full-read-1");
  EXPECT_TRUE(absl::StrContains(entries[0].fields(), "id_number")) << entries[0].fields();
  EXPECT_GT(entries[0].time().seconds(), 0);

  // More masked reads add nothing; listing is masked too.
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_MASKED, "", &masked).ok());
  v1::ListEldersRequest list;
  list.set_region(kStreet);
  v1::ListEldersResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListElders, list, &listed).ok());
  ASSERT_EQ(listed.elders_size(), 1);
  EXPECT_EQ(listed.elders(0).phone(), kMaskedPhone);
  EXPECT_EQ(listed.elders(0).id_number(), MaskedId(id_number));
  EXPECT_EQ(Audit(created.name()).size(), 1u);
  EXPECT_EQ(Audit("").size(), 1u);

  // Two more full reads: three entries, newest first, across pages of two.
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "第二次核对", &full).ok());
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "第三次核对", &full).ok());
  std::vector<std::string> reasons;
  std::string token;
  int pages = 0;
  do {
    v1::ListAuditEntriesRequest request;
    request.set_elder(created.name());
    request.set_page_size(2);
    request.set_page_token(token);
    v1::ListAuditEntriesResponse page;
    grpc::Status listed_status = Call(&v1::RegistryService::Stub::ListAuditEntries, request, &page);
    ASSERT_TRUE(listed_status.ok()) << listed_status.error_message();
    for (const auto& e : page.entries()) reasons.push_back(e.reason());
    token = page.next_page_token();
    ASSERT_LT(++pages, 5);
  } while (!token.empty());
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(reasons, (std::vector<std::string>{"第三次核对", "第二次核对", reason}));

  v1::Elder missing;
  EXPECT_EQ(
      GetElder("elders/0123456789abcdef0123456789abcdef", v1::ELDER_VIEW_UNSPECIFIED, "", &missing)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_P(RegistryCatalogueTest, ElderConsentAndValidationFailuresWriteNothing) {
  BuildTree();
  const std::string id_number = ChineseId("310101", "19450101", "123");
  ASSERT_EQ(Count("elders"), 0);

  // Phone without PERSONAL_DATA consent.
  v1::Elder no_personal = FullElder(id_number);
  no_personal.clear_consents();
  no_personal.clear_care_grade();
  no_personal.clear_assessment_date();
  no_personal.clear_id_number();
  no_personal.clear_address();
  no_personal.clear_contacts();
  grpc::Status phone_only = CreateElder(no_personal);
  EXPECT_EQ(phone_only.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << phone_only.error_message();
  // A consent given and then withdrawn: the latest decision counts.
  v1::Consent* given = no_personal.add_consents();
  given->set_purpose(v1::CONSENT_PURPOSE_PERSONAL_DATA);
  given->set_granted(true);
  v1::Consent* withdrawn = no_personal.add_consents();
  withdrawn->set_purpose(v1::CONSENT_PURPOSE_PERSONAL_DATA);
  withdrawn->set_granted(false);
  EXPECT_EQ(CreateElder(no_personal).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Care grade without HEALTH_DATA consent.
  v1::Elder no_health = FullElder(id_number);
  no_health.mutable_consents()->RemoveLast();
  grpc::Status grade = CreateElder(no_health);
  EXPECT_EQ(grade.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << grade.error_message();
  no_health.clear_care_grade();  // the assessment date alone is health data too
  EXPECT_EQ(CreateElder(no_health).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // A street is not a committee.
  v1::Elder on_street = FullElder(id_number);
  on_street.set_region(kStreet);
  grpc::Status street = CreateElder(on_street);
  EXPECT_EQ(street.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(street), "elder.region");
  on_street.set_region("regions/310101020099");
  grpc::Status unknown = CreateElder(on_street);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(unknown), "elder.region");

  // A wrong check character.
  std::string bad_checksum = id_number;
  bad_checksum[17] = bad_checksum[17] == '0' ? '1' : '0';
  v1::Elder bad_id = FullElder(bad_checksum);
  grpc::Status checksum = CreateElder(bad_id);
  EXPECT_EQ(checksum.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(checksum), "elder.id_number");
  // Nor does the message echo the value.
  EXPECT_FALSE(absl::StrContains(checksum.error_message(), bad_checksum));
  grpc::Status bad_phone = [&] {
    v1::Elder e = FullElder(id_number);
    e.set_phone("12345");
    return CreateElder(e);
  }();
  EXPECT_EQ(ViolatedField(bad_phone), "elder.phone");
  EXPECT_EQ(Count("elders"), 0);

  // The same person twice.
  v1::Elder first;
  ASSERT_TRUE(CreateElder(FullElder(id_number), &first).ok());
  v1::Elder again = FullElder(id_number);
  again.set_region(kCommittee2);
  again.set_phone("13900000000");
  grpc::Status duplicate = CreateElder(again);
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::ALREADY_EXISTS) << duplicate.error_message();
  EXPECT_EQ(Count("elders"), 1);

  // Another person, whose check character is 'X', is fine.
  std::string with_x;
  for (int seq = 100; seq < 1000 && with_x.empty(); ++seq) {
    std::string candidate = ChineseId("310104", "19380815", absl::StrCat(seq));
    if (candidate.back() == 'X') with_x = candidate;
  }
  ASSERT_FALSE(with_x.empty());
  v1::Elder other;
  grpc::Status x_status = CreateElder(FullElder(with_x), &other);
  ASSERT_TRUE(x_status.ok()) << x_status.error_message() << " " << ViolatedField(x_status);
  EXPECT_EQ(other.id_number(), MaskedId(with_x));
  EXPECT_NE(other.name(), first.name());
  EXPECT_EQ(Count("elders"), 2);
}

// A CreateElder retried with its request_id after the elder was erased gets the erased stub back
// (no personal data, not re-created); the stored copy of the reply holds nothing personal.
// --- Importing a roster
// ---------------------------------------------------------------------------

v1::ImportEldersRequest Roster(const std::vector<std::pair<int, v1::Elder>>& rows) {
  v1::ImportEldersRequest request;
  for (const auto& [line, elder] : rows) {
    v1::ImportedElder* row = request.add_rows();
    row->set_line(line);
    *row->mutable_elder() = elder;
  }
  return request;
}

TEST_P(RegistryCatalogueTest, ImportingARosterChecksEveryRowAndWritesAllOrNothing) {
  BuildTree();
  const std::string a = ChineseId("310101", "19400101", "111");
  const std::string b = ChineseId("310101", "19410202", "222");
  v1::Elder bad_id = FullElder(a);
  bad_id.set_id_number(a.substr(0, 17) + (a[17] == '1' ? "2" : "1"));  // wrong check digit
  v1::Elder outside = FullElder(ChineseId("310101", "19420303", "333"));
  outside.set_region("regions/310101021001");
  v1::ImportEldersRequest request =
      Roster({{2, FullElder(a)}, {3, FullElder(b)}, {4, FullElder(a)}, {5, bad_id}, {6, outside}});
  request.set_region_guard("regions/310101020");
  v1::ImportEldersResponse response;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportElders, request, &response).ok());
  // Line 4 repeats line 2's ID number, line 5's does not check, line 6 is in another street.
  std::vector<std::string> problems;
  for (const auto& p : response.problems()) {
    problems.push_back(absl::StrCat(p.line(), " ", p.field()));
    EXPECT_FALSE(p.reason().empty());
  }
  EXPECT_EQ(problems,
            (std::vector<std::string>{"4 elder.id_number", "5 elder.id_number", "6 elder.region"}));
  EXPECT_EQ(response.problems(0).reason_zh(), "身份证号与第 2 行重复");
  EXPECT_EQ(response.created(), 2);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("elders"), 0) << "a roster with a bad row writes nothing";

  // A dry run of the good rows writes nothing either; then they are imported.
  v1::ImportEldersRequest good = Roster({{2, FullElder(a)}, {3, FullElder(b)}});
  good.set_dry_run(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportElders, good, &response).ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_EQ(Count("elders"), 0);
  good.set_dry_run(false);
  ASSERT_TRUE(
      Call(&v1::RegistryService::Stub::ImportElders, good, &response, "committee_staff:staff/li")
          .ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_TRUE(response.written());
  EXPECT_EQ(Count("elders"), 2);

  // Imported elders are sealed like registered ones, their consents recorded by the caller.
  v1::ListEldersRequest list;
  list.set_region(kCommittee1);
  v1::ListEldersResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListElders, list, &listed).ok());
  ASSERT_EQ(listed.elders_size(), 2);
  EXPECT_NE(listed.elders(0).id_number(), a);
  EXPECT_NE(listed.elders(0).id_number(), b);
  v1::Elder full;
  ASSERT_TRUE(
      GetElder(listed.elders(0).name(), v1::ELDER_VIEW_FULL, "核对导入的花名册", &full).ok());
  ASSERT_GE(full.consents_size(), 1);
  EXPECT_EQ(full.consents(0).recorded_by(), "committee_staff:staff/li");
  EXPECT_TRUE(full.id_number() == a || full.id_number() == b);

  // The same roster again changes nothing; with skip_bad_rows the good rows of a bad roster go in.
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportElders, good, &response).ok());
  EXPECT_EQ(response.created(), 0);
  EXPECT_EQ(response.existing(), 2);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("elders"), 2);
  const std::string c = ChineseId("310101", "19430404", "444");
  v1::ImportEldersRequest mixed = Roster({{2, FullElder(a)}, {3, FullElder(c)}, {4, bad_id}});
  mixed.set_skip_bad_rows(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportElders, mixed, &response).ok());
  EXPECT_EQ(response.created(), 1);
  EXPECT_EQ(response.existing(), 1);
  ASSERT_EQ(response.problems_size(), 1);
  EXPECT_EQ(response.problems(0).line(), 4);
  EXPECT_EQ(Count("elders"), 3);
}

TEST_P(RegistryCatalogueTest, ImportingNothingOrTooMuchIsInvalid) {
  BuildTree();
  v1::ImportEldersResponse response;
  EXPECT_EQ(Call(&v1::RegistryService::Stub::ImportElders, v1::ImportEldersRequest(), &response)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ImportEldersRequest huge;
  for (int i = 0; i < 1001; ++i) huge.add_rows()->set_line(i + 2);
  EXPECT_EQ(Call(&v1::RegistryService::Stub::ImportElders, huge, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ImportEldersRequest unguarded =
      Roster({{2, FullElder(ChineseId("310101", "19400101", "111"))}});
  unguarded.set_region_guard("regions/310101099");
  EXPECT_EQ(Call(&v1::RegistryService::Stub::ImportElders, unguarded, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Count("elders"), 0);
}

// Imports that name their elders, and elders looked up by ID number: on a fixed date.
class RegistryElderLookupTest : public RegistryCatalogueTest {
 protected:
  void SetUp() override {
    auto started = RegistryTestServer::Start(GetParam(), "registry_lookup", clock_);
    ASSERT_TRUE(started.ok()) << started.status();
    harness_ = std::move(*started);
    url_ = harness_->url;
    db_ = harness_->db.get();
    stub_ = harness_->stub.get();
  }
  // The server goes before the clock it reads.
  void TearDown() override { harness_.reset(); }

  // The elders' names an import returns (the call must succeed).
  std::vector<std::string> Import(const v1::ImportEldersRequest& request,
                                  v1::ImportEldersResponse* response) {
    grpc::Status status = Call(&v1::RegistryService::Stub::ImportElders, request, response);
    EXPECT_TRUE(status.ok()) << status.error_message() << " " << ViolatedField(status);
    return {response->elders().begin(), response->elders().end()};
  }

  grpc::Status Find(const std::vector<std::string>& id_numbers, const std::string& guard,
                    const std::string& reason, std::vector<std::string>* names,
                    const std::string& actor = "", const std::string& request_id = "") {
    v1::FindEldersByIdNumberRequest request;
    for (const std::string& n : id_numbers) request.add_id_numbers(n);
    request.set_region_guard(guard);
    request.set_reason(reason);
    v1::FindEldersByIdNumberResponse response;
    grpc::Status status = Call(&v1::RegistryService::Stub::FindEldersByIdNumber, request, &response,
                               actor, request_id);
    names->assign(response.elders().begin(), response.elders().end());
    return status;
  }

  // Monday 2026-03-02, 10:00 in Shanghai.
  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 3, 2, 2, 0, 0), absl::UTCTimeZone())};
};

TEST_P(RegistryElderLookupTest, ImportingARosterNamesEachRowsElder) {
  BuildTree();
  const std::string a = ChineseId("310101", "19400101", "111");
  const std::string b = ChineseId("310101", "19410202", "222");
  const std::string c = ChineseId("310101", "19420303", "333");
  v1::Elder in_committee2 = FullElder(b);
  in_committee2.set_region(kCommittee2);
  v1::ImportEldersRequest roster =
      Roster({{2, FullElder(a)}, {3, in_committee2}, {4, FullElder(c)}});
  roster.set_region_guard(kStreet);
  v1::ImportEldersResponse response;
  const std::vector<std::string> names = Import(roster, &response);
  EXPECT_EQ(response.created(), 3);
  EXPECT_TRUE(response.written());
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 3u) << "distinct";
  const std::vector<std::string> regions = {kCommittee1, kCommittee2, kCommittee1};
  for (size_t i = 0; i < names.size(); ++i) {
    v1::Elder got;
    grpc::Status status = GetElder(names[i], v1::ELDER_VIEW_MASKED, "", &got);
    ASSERT_TRUE(status.ok()) << names[i] << ": " << status.error_message();
    EXPECT_EQ(got.name(), names[i]);
    EXPECT_EQ(got.region(), regions[i]);
    EXPECT_EQ(got.id_number(), MaskedId(std::vector<std::string>{a, b, c}[i]));
  }

  // The same rows again: the same names, all existing, nothing written.
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(Import(roster, &response), names);
  EXPECT_EQ(response.created(), 0);
  EXPECT_EQ(response.existing(), 3);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("elders"), 3);

  // A refused row has no name; nor has a new row when the refusal stops the writing.
  const std::string d = ChineseId("310101", "19430404", "444");
  v1::Elder bad_id = FullElder(ChineseId("310101", "19440505", "555"));
  bad_id.set_id_number(bad_id.id_number().substr(0, 17) +
                       (bad_id.id_number()[17] == '1' ? "2" : "1"));  // wrong check character
  v1::ImportEldersRequest mixed = Roster({{2, FullElder(a)}, {3, bad_id}, {4, FullElder(d)}});
  EXPECT_EQ(Import(mixed, &response), (std::vector<std::string>{names[0], "", ""}));
  EXPECT_EQ(response.created(), 1);
  EXPECT_EQ(response.existing(), 1);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("elders"), 3);

  // A dry run names the existing elder, not the new one.
  mixed.set_dry_run(true);
  mixed.set_skip_bad_rows(true);
  EXPECT_EQ(Import(mixed, &response), (std::vector<std::string>{names[0], "", ""}));
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("elders"), 3);

  // With skip_bad_rows the new row is written and named; the refused one still is not.
  mixed.set_dry_run(false);
  const std::vector<std::string> skipped = Import(mixed, &response);
  ASSERT_EQ(skipped.size(), 3u);
  EXPECT_EQ(skipped[0], names[0]);
  EXPECT_EQ(skipped[1], "");
  EXPECT_TRUE(absl::StartsWith(skipped[2], "elders/")) << skipped[2];
  EXPECT_EQ(std::count(names.begin(), names.end(), skipped[2]), 0);
  EXPECT_TRUE(response.written());
  EXPECT_EQ(Count("elders"), 4);
  v1::Elder got;
  ASSERT_TRUE(GetElder(skipped[2], v1::ELDER_VIEW_MASKED, "", &got).ok());
  EXPECT_EQ(got.id_number(), MaskedId(d));

  // An elder registered outside the guard is counted as existing but not named, even when the
  // row puts it inside.
  v1::ImportEldersRequest narrow = Roster({{2, FullElder(b)}});  // b lives in committee 2
  narrow.set_region_guard(kCommittee1);
  EXPECT_EQ(Import(narrow, &response), (std::vector<std::string>{""}));
  EXPECT_EQ(response.existing(), 1);
}

TEST_P(RegistryElderLookupTest, EldersAreFoundByIdNumberWithinTheGuardAndAudited) {
  BuildTree();
  const std::string a = ChineseId("310101", "19400101", "111");
  const std::string b = ChineseId("310101", "19410202", "222");
  const std::string elsewhere = ChineseId("310101", "19420303", "333");
  const std::string unregistered = ChineseId("310101", "19430404", "444");
  std::string invalid = unregistered;
  invalid[17] = invalid[17] == '1' ? '2' : '1';  // wrong check character
  v1::Elder in_committee2 = FullElder(b);
  in_committee2.set_region(kCommittee2);
  v1::Elder in_other_street = FullElder(elsewhere);
  in_other_street.set_region("regions/310101021001");
  v1::ImportEldersResponse imported;
  const std::vector<std::string> names =
      Import(Roster({{2, FullElder(a)}, {3, in_committee2}, {4, in_other_street}}), &imported);
  ASSERT_EQ(names.size(), 3u);
  const std::string& name_a = names[0];
  const std::string& name_b = names[1];
  const std::string& name_elsewhere = names[2];
  ASSERT_FALSE(name_elsewhere.empty());

  // In the request's order; an elder outside the guard, no elder and no ID number all give "".
  clock_.Advance(absl::Hours(2));
  const std::string reason = "导入服务承诺花名册";
  std::vector<std::string> found;
  grpc::Status status = Find({b, unregistered, elsewhere, invalid, a}, kStreet, reason, &found,
                             "street_staff:staff/wang", "req-find-1");
  ASSERT_TRUE(status.ok()) << status.error_message() << " " << ViolatedField(status);
  EXPECT_EQ(found, (std::vector<std::string>{name_b, "", "", "", name_a}));

  // One entry for each elder found: a read of its ID number, by the caller, for the reason.
  for (const std::string& name : {name_a, name_b}) {
    std::vector<v1::AuditEntry> entries = Audit(name);
    ASSERT_EQ(entries.size(), 1u) << name;
    EXPECT_EQ(entries[0].elder(), name);
    EXPECT_EQ(entries[0].fields(), "id_number");
    EXPECT_EQ(entries[0].action(), "read");
    EXPECT_EQ(entries[0].reason(), reason);
    EXPECT_EQ(entries[0].actor(), "street_staff:staff/wang");
    EXPECT_EQ(entries[0].request_id(), "req-find-1");
    EXPECT_TRUE(entries[0].resource().empty());
    EXPECT_EQ(entries[0].time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  }
  EXPECT_TRUE(Audit(name_elsewhere).empty());
  EXPECT_EQ(Audit("").size(), 2u);

  // The guard is what hid the elder in the other street; surrounding spaces do not matter.
  ASSERT_TRUE(Find({elsewhere, " " + a + " "}, "", reason, &found).ok());
  EXPECT_EQ(found, (std::vector<std::string>{name_elsewhere, name_a}));
  EXPECT_EQ(Audit(name_elsewhere).size(), 1u);
  EXPECT_EQ(Audit("").size(), 4u);

  // A number given many times is one lookup: one name each time, one entry.
  ASSERT_TRUE(Find(std::vector<std::string>(1000, b), kCommittee2, reason, &found).ok());
  EXPECT_EQ(found, std::vector<std::string>(1000, name_b));
  EXPECT_EQ(Audit(name_b).size(), 2u);

  // An erased elder keeps no ID number to be found by (as an import would register it anew).
  v1::EraseElderRequest erase;
  erase.set_name(name_a);
  erase.set_reason("本人申请删除个人信息");
  v1::EraseElderResponse erased;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::EraseElder, erase, &erased).ok());
  const size_t after_erasure = Audit("").size();
  ASSERT_TRUE(Find({a}, kStreet, reason, &found).ok());
  EXPECT_EQ(found, std::vector<std::string>{""});
  EXPECT_EQ(Audit("").size(), after_erasure);

  // 1-1000 numbers and a reason; a guard that exists. Nothing is audited.
  grpc::Status none = Find({}, kStreet, reason, &found);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(none), "id_numbers");
  grpc::Status too_many = Find(std::vector<std::string>(1001, b), kStreet, reason, &found);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(too_many), "id_numbers");
  grpc::Status no_reason = Find({b}, kStreet, "", &found);
  EXPECT_EQ(no_reason.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(no_reason), "reason");
  grpc::Status long_reason = Find({b}, kStreet, std::string(257, 'x'), &found);
  EXPECT_EQ(ViolatedField(long_reason), "reason");
  grpc::Status bad_guard = Find({b}, "310101020", reason, &found);
  EXPECT_EQ(bad_guard.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(bad_guard), "region_guard");
  EXPECT_EQ(Find({b}, "regions/310101099", reason, &found).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Audit("").size(), after_erasure);
}

TEST_P(RegistryCatalogueTest, ErasureAlsoRedactsTheStoredIdempotentReply) {
  BuildTree();
  const std::string id_number = ChineseId("310101", "19450101", "321");
  const v1::Elder elder = FullElder(id_number);
  v1::Elder created;
  ASSERT_TRUE(CreateElder(elder, &created, "create-elder-1").ok());
  v1::EraseElderRequest erase;
  erase.set_name(created.name());
  erase.set_reason("本人申请删除个人信息");
  v1::EraseElderResponse erased;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::EraseElder, erase, &erased).ok());

  v1::Elder replayed;
  ASSERT_TRUE(CreateElder(elder, &replayed, "create-elder-1").ok());
  EXPECT_EQ(replayed.name(), created.name());
  EXPECT_TRUE(replayed.erased());
  EXPECT_EQ(replayed.display_name(), "已注销");
  EXPECT_TRUE(replayed.id_number().empty());
  EXPECT_TRUE(replayed.phone().empty());
  EXPECT_FALSE(replayed.has_location());
  EXPECT_EQ(Count("elders"), 1);
}

TEST_P(RegistryCatalogueTest, ErasureAlsoRedactsTheStoredRepliesOfCorrections) {
  BuildTree();
  v1::Elder created;
  ASSERT_TRUE(CreateElder(FullElder(ChineseId("310101", "19450101", "321")), &created).ok());
  v1::UpdateElderRequest update;
  update.mutable_elder()->set_name(created.name());
  update.mutable_elder()->set_etag(created.etag());
  update.mutable_elder()->set_phone("13700001111");
  update.mutable_update_mask()->add_paths("phone");
  update.set_reason("女儿来电更新号码");
  update.set_request_id("update-elder-1");
  v1::UpdateElderResponse updated;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateElder, update, &updated).ok());
  EXPECT_EQ(updated.elder().phone(), "137****1111");

  v1::EraseElderRequest erase;
  erase.set_name(created.name());
  erase.set_reason("本人申请删除个人信息");
  v1::EraseElderResponse erased;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::EraseElder, erase, &erased).ok());
  v1::UpdateElderResponse replayed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateElder, update, &replayed).ok());
  EXPECT_TRUE(replayed.elder().erased());
  EXPECT_TRUE(replayed.elder().phone().empty());
  EXPECT_EQ(replayed.elder().display_name(), "已注销");
}

TEST_P(RegistryCatalogueTest, EraseElderLeavesAnAuditedStub) {
  BuildTree();
  const std::string id_number = ChineseId("310101", "19450101", "123");
  v1::Elder created;
  ASSERT_TRUE(CreateElder(FullElder(id_number), &created).ok());
  v1::Elder full;
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "核对身份信息", &full).ok());

  v1::EraseElderRequest erase;
  erase.set_name(created.name());
  erase.set_reason("本人申请删除个人信息");
  v1::EraseElderResponse erased;
  grpc::Status no_reason_status = [&] {
    v1::EraseElderRequest r = erase;
    r.clear_reason();
    v1::EraseElderResponse ignored;
    return Call(&v1::RegistryService::Stub::EraseElder, r, &ignored);
  }();
  EXPECT_EQ(no_reason_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(no_reason_status), "reason");

  ASSERT_TRUE(Call(&v1::RegistryService::Stub::EraseElder, erase, &erased, "worker-009").ok());
  EXPECT_TRUE(erased.elder().erased());
  EXPECT_EQ(erased.elder().display_name(), "已注销");
  EXPECT_EQ(erased.elder().name(), created.name());
  EXPECT_EQ(erased.elder().region(), kCommittee1);
  EXPECT_TRUE(erased.elder().id_number().empty());
  EXPECT_TRUE(erased.elder().phone().empty());
  EXPECT_TRUE(erased.elder().address().empty());
  EXPECT_EQ(erased.elder().contacts_size(), 0);

  v1::Elder after;
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "核对是否已注销", &after).ok());
  EXPECT_TRUE(after.erased());
  EXPECT_EQ(after.display_name(), "已注销");
  EXPECT_TRUE(after.id_number().empty());
  EXPECT_TRUE(after.phone().empty());
  EXPECT_TRUE(after.address().empty());
  EXPECT_FALSE(after.has_care_grade());
  EXPECT_TRUE(after.assessment_date().empty());
  EXPECT_EQ(after.contacts_size(), 0);
  EXPECT_EQ(after.create_time().seconds(), created.create_time().seconds());

  std::vector<v1::AuditEntry> entries = Audit(created.name());
  ASSERT_GE(entries.size(), 2u);
  EXPECT_EQ(entries[0].action(), "erase");  // newest first
  EXPECT_EQ(entries[0].reason(), "本人申请删除个人信息");
  EXPECT_EQ(entries[0].actor(), "worker-009");
  EXPECT_EQ(entries[0].elder(), created.name());
  EXPECT_EQ(entries.back().action(), "read");
  // Erasing twice changes nothing and is not audited again.
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::EraseElder, erase, &erased).ok());
  EXPECT_TRUE(erased.elder().erased());
  int erase_entries = 0;
  for (const auto& e : Audit(created.name())) erase_entries += e.action() == "erase";
  EXPECT_EQ(erase_entries, 1);

  // The ID number is free again: the person may be registered anew.
  v1::Elder again;
  EXPECT_TRUE(CreateElder(FullElder(id_number), &again).ok());
  EXPECT_NE(again.name(), created.name());
}

TEST_P(RegistryCatalogueTest, NoPlaintextPersonalDataAtRest) {
  BuildTree();
  const std::string id_number = ChineseId("310101", "19450101", "123");
  v1::Elder created;
  ASSERT_TRUE(CreateElder(FullElder(id_number), &created, "create-elder-1").ok());
  ASSERT_EQ(created.id_number(), MaskedId(id_number));

  std::string raw;
  if (GetParam() == "sqlite") {
    ASSERT_TRUE(absl::StartsWith(url_, "sqlite:")) << url_;
    const std::string path = url_.substr(7);
    raw = ReadFile(path) + ReadFile(path + "-wal");
  } else {
    raw = AllCells("elders");
    absl::StrAppend(&raw, AllCells("pii_audit"), AllCells("idempotency_keys"));
  }
  ASSERT_FALSE(raw.empty());
  // The scan sees the stored stub...
  EXPECT_TRUE(absl::StrContains(raw, MaskedId(id_number)));
  EXPECT_TRUE(absl::StrContains(raw, kMaskedPhone));
  EXPECT_TRUE(absl::StrContains(raw, kMaskedAddress));
  // ...and no plaintext personal data.
  EXPECT_FALSE(absl::StrContains(raw, id_number)) << "plaintext ID number at rest";
  EXPECT_FALSE(absl::StrContains(raw, kPhone)) << "plaintext phone at rest";
  EXPECT_FALSE(absl::StrContains(raw, kContactPhone)) << "plaintext contact phone at rest";
  EXPECT_FALSE(absl::StrContains(raw, kAddress)) << "plaintext address at rest";
  EXPECT_FALSE(absl::StrContains(raw, "王秀英")) << "plaintext name at rest";

  // Still readable in full, so the data is there, sealed.
  v1::Elder full;
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "核对身份信息", &full).ok());
  EXPECT_EQ(full.id_number(), id_number);
}

// --- The map -------------------------------------------------------------------------------------

class RegistryMapTest : public RegistryCatalogueTest {
 protected:
  // The street of BuildTree() with its office, one of its offices and a committee organisation in
  // each committee; lines with colours.
  void BuildStreet() {
    BuildTree();
    ASSERT_TRUE(CreateLine("civil-affairs", "民政", "#d62728").ok());
    ASSERT_TRUE(CreateLine("party", "党建", "#1f77b4").ok());
    MustCreateOrg(Org("wlq-street-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                      v1::SECTOR_PUBLIC, kStreet, {"civil-affairs", "party"}));
    MustCreateOrg(Org("wlq-community-office", "社区服务办公室",
                      v1::ORGANISATION_KIND_STREET_OFFICE_DEPARTMENT, v1::SECTOR_PUBLIC, kStreet,
                      {"civil-affairs"}, "wlq-street-office"));
    MustCreateOrg(Org("qy-committee", "桥一居委会", v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE,
                      v1::SECTOR_PUBLIC, kCommittee1, {"party"}, "wlq-street-office"));
    MustCreateOrg(Org("qe-committee", "桥二居委会", v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE,
                      v1::SECTOR_PUBLIC, kCommittee2, {}, "wlq-street-office"));
    // Elsewhere: must never show up on the street's map.
    MustCreateOrg(Org("dpq-street-office", "打浦桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                      v1::SECTOR_PUBLIC, kOtherStreet, {"party"}));
  }

  v1::GetMapResponse Map(const v1::GetMapRequest& request, grpc::Status* status) {
    v1::GetMapResponse response;
    *status = Call(&v1::RegistryService::Stub::GetMap, request, &response);
    return response;
  }

  static std::vector<std::string> NodeNames(const v1::GetMapResponse& map) {
    std::vector<std::string> names;
    for (const auto& n : map.nodes()) names.push_back(n.name());
    return names;
  }

  static std::set<std::string> Edges(const v1::GetMapResponse& map) {
    std::set<std::string> edges;
    for (const auto& e : map.edges()) {
      edges.insert(absl::StrCat(e.source(), " -> ", e.target(), " ", e.type()));
    }
    return edges;
  }

  static void ExpectEdgesBetweenNodes(const v1::GetMapResponse& map) {
    std::set<std::string> names;
    for (const auto& n : map.nodes()) names.insert(n.name());
    for (const auto& e : map.edges()) {
      EXPECT_TRUE(names.count(e.source()) > 0 && names.count(e.target()) > 0)
          << e.source() << " -> " << e.target();
    }
  }
};

TEST_P(RegistryMapTest, MapOfAStreetHasRegionsOrganisationsAndTypedEdges) {
  BuildStreet();
  const std::string office = "organisations/wlq-street-office";
  const std::string department = "organisations/wlq-community-office";
  const std::string qy = "organisations/qy-committee";
  const std::string qe = "organisations/qe-committee";

  v1::GetMapRequest request;
  request.set_region(kStreet);
  grpc::Status status;
  v1::GetMapResponse map = Map(request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(NodeNames(map), (std::vector<std::string>{kStreet, kCommittee1, kCommittee2, qe, qy,
                                                      department, office}));
  std::map<std::string, v1::MapNode> nodes;
  for (const auto& n : map.nodes()) nodes[n.name()] = n;
  EXPECT_EQ(nodes[kStreet].kind(), "region");
  EXPECT_EQ(nodes[kStreet].label(), "五里桥街道");
  EXPECT_EQ(nodes[kCommittee1].kind(), "region");
  EXPECT_EQ(nodes[kCommittee1].region(), kStreet);
  EXPECT_EQ(nodes[qy].kind(), "neighbourhood_committee");
  EXPECT_EQ(nodes[qy].region(), kCommittee1);
  EXPECT_EQ(nodes[qy].label(), "桥一居委会");
  EXPECT_EQ(nodes[department].kind(), "street_office_department");
  EXPECT_EQ(nodes[office].kind(), "street_office");
  EXPECT_EQ(nodes[office].sector(), v1::SECTOR_PUBLIC);
  ASSERT_EQ(nodes[office].lines_size(), 2);
  EXPECT_EQ(nodes[office].lines(1), "lines/party");

  EXPECT_EQ(Edges(map), (std::set<std::string>{
                            absl::StrCat(kStreet, " -> ", kCommittee1, " contains"),
                            absl::StrCat(kStreet, " -> ", kCommittee2, " contains"),
                            absl::StrCat(kStreet, " -> ", office, " contains"),
                            absl::StrCat(kStreet, " -> ", department, " contains"),
                            absl::StrCat(kCommittee1, " -> ", qy, " contains"),
                            absl::StrCat(kCommittee2, " -> ", qe, " contains"),
                            absl::StrCat(department, " -> ", office, " administrative"),
                            absl::StrCat(qy, " -> ", office, " administrative"),
                            absl::StrCat(qe, " -> ", office, " administrative"),
                        }));
  EXPECT_EQ(map.edges_size(), 9);
  ExpectEdgesBetweenNodes(map);

  EXPECT_TRUE(absl::StartsWith(map.dot(), "digraph")) << map.dot().substr(0, 40);
  for (const char* label : {"五里桥街道", "桥一居民区", "桥二居民区", "五里桥街道办事处",
                            "社区服务办公室", "桥一居委会", "民政", "党建", "隶属"}) {
    EXPECT_TRUE(absl::StrContains(map.dot(), label)) << label;
  }
  EXPECT_TRUE(absl::StrContains(map.dot(), "cluster_"));
  EXPECT_TRUE(absl::StrContains(map.dot(), "#d62728"));  // line colours
  EXPECT_TRUE(absl::StrContains(map.dot(), "#1f77b4"));
  EXPECT_FALSE(absl::StrContains(map.dot(), "打浦桥"));
  EXPECT_TRUE(absl::EndsWith(map.dot(), "}\n"));

  // From the district the street is one level deeper; other streets appear too.
  request.set_region("regions/310101");
  v1::GetMapResponse district = Map(request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> names = NodeNames(district);
  EXPECT_EQ(names.front(), "regions/310101");
  EXPECT_NE(std::find(names.begin(), names.end(), "organisations/dpq-street-office"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), qy), names.end());
  ExpectEdgesBetweenNodes(district);
  // depth 1 from the district: streets but not committees nor what sits in them.
  request.set_depth(1);
  v1::GetMapResponse shallow = Map(request, &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(NodeNames(shallow),
            (std::vector<std::string>{"regions/310101", kStreet, kOtherStreet,
                                      "organisations/dpq-street-office", department, office}));
}

TEST_P(RegistryMapTest, DepthLinesAndKindsReduceTheMap) {
  BuildStreet();
  const std::string office = "organisations/wlq-street-office";
  const std::string department = "organisations/wlq-community-office";
  const std::string qy = "organisations/qy-committee";
  const std::string qe = "organisations/qe-committee";
  grpc::Status status;

  v1::GetMapRequest only_root;
  only_root.set_region(kStreet);
  only_root.set_depth(0);
  v1::GetMapResponse root = Map(only_root, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(NodeNames(root), (std::vector<std::string>{kStreet, department, office}));
  EXPECT_EQ(Edges(root), (std::set<std::string>{
                             absl::StrCat(kStreet, " -> ", office, " contains"),
                             absl::StrCat(kStreet, " -> ", department, " contains"),
                             absl::StrCat(department, " -> ", office, " administrative"),
                         }));
  EXPECT_FALSE(absl::StrContains(root.dot(), "桥一居委会"));

  v1::GetMapRequest by_line;
  by_line.set_region(kStreet);
  by_line.add_lines("lines/party");
  v1::GetMapResponse party = Map(by_line, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(NodeNames(party),
            (std::vector<std::string>{kStreet, kCommittee1, kCommittee2, qy, office}));
  EXPECT_TRUE(Edges(party).count(absl::StrCat(qy, " -> ", office, " administrative")));
  EXPECT_FALSE(Edges(party).count(absl::StrCat(qe, " -> ", office, " administrative")));
  ExpectEdgesBetweenNodes(party);

  // Kinds (committees only: see FiltersAreNotBypassedByRelations).
  v1::GetMapRequest by_kind;
  by_kind.set_region(kStreet);
  by_kind.add_kinds(v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE);
  by_kind.add_kinds(v1::ORGANISATION_KIND_STREET_OFFICE);
  v1::GetMapResponse two_kinds = Map(by_kind, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(NodeNames(two_kinds),
            (std::vector<std::string>{kStreet, kCommittee1, kCommittee2, qe, qy, office}));
  EXPECT_FALSE(absl::StrContains(two_kinds.dot(), "社区服务办公室"));
  ExpectEdgesBetweenNodes(two_kinds);

  // Lines and kinds together.
  by_line.add_kinds(v1::ORGANISATION_KIND_STREET_OFFICE);
  v1::GetMapResponse both = Map(by_line, &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(NodeNames(both), (std::vector<std::string>{kStreet, kCommittee1, kCommittee2, office}));
}

// Relations must not smuggle organisations of the region that a filter left out back onto the
// map (the map also draws organisations outside the region that map organisations relate to).
TEST_P(RegistryMapTest, FiltersAreNotBypassedByRelations) {
  BuildStreet();
  const std::string office = "organisations/wlq-street-office";
  const std::string department = "organisations/wlq-community-office";
  const std::string qy = "organisations/qy-committee";
  const std::string qe = "organisations/qe-committee";
  grpc::Status status;

  v1::GetMapRequest by_kind;
  by_kind.set_region(kStreet);
  by_kind.add_kinds(v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE);
  v1::GetMapResponse committees = Map(by_kind, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(NodeNames(committees),
            (std::vector<std::string>{kStreet, kCommittee1, kCommittee2, qe, qy}));
  for (const auto& e : committees.edges()) EXPECT_EQ(e.type(), "contains");
  EXPECT_FALSE(absl::StrContains(committees.dot(), "五里桥街道办事处"));

  ASSERT_TRUE(CreateRelation(office, qy, v1::RELATION_TYPE_FUNDS).ok());
  v1::GetMapRequest only_root;
  only_root.set_region(kStreet);
  only_root.set_depth(0);
  v1::GetMapResponse root = Map(only_root, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(NodeNames(root), (std::vector<std::string>{kStreet, department, office}));

  ASSERT_TRUE(CreateRelation(qy, department, v1::RELATION_TYPE_PARTNER).ok());
  v1::GetMapRequest by_line;
  by_line.set_region(kStreet);
  by_line.add_lines("lines/party");
  v1::GetMapResponse party = Map(by_line, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(NodeNames(party),
            (std::vector<std::string>{kStreet, kCommittee1, kCommittee2, qy, office}));
}

TEST_P(RegistryMapTest, BadMapRequests) {
  BuildStreet();
  grpc::Status status;
  v1::GetMapRequest unknown;
  unknown.set_region("regions/310101099");
  Map(unknown, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  v1::GetMapRequest too_deep;
  too_deep.set_region(kStreet);
  too_deep.set_depth(7);
  Map(too_deep, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "depth");
  too_deep.set_depth(-1);
  Map(too_deep, &status);
  EXPECT_EQ(ViolatedField(status), "depth");

  v1::GetMapRequest malformed;
  malformed.set_region("310101020");
  Map(malformed, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "region");

  v1::GetMapRequest bad_filters;
  bad_filters.set_region(kStreet);
  bad_filters.add_lines("party");
  bad_filters.add_kinds(v1::ORGANISATION_KIND_UNSPECIFIED);
  Map(bad_filters, &status);
  std::vector<std::string> fields = Fields(status);
  std::sort(fields.begin(), fields.end());
  EXPECT_EQ(fields, (std::vector<std::string>{"kinds[0]", "lines[0]"}));
}

// --- Provider search -----------------------------------------------------------------------------

class RegistrySearchTest : public RegistryCatalogueTest {
 protected:
  // Two providers of a meal sub-service covering the street (a social one ~556 m and a
  // commercial one ~1112 m from the elder), a far one (~11 km), one covering only the other
  // street, and a bath provider; an elder in committee 1 with a location.
  void BuildProviders() {
    BuildTree();
    ASSERT_TRUE(CreateServiceType("meal", "助餐", "", v1::SECTOR_SOCIAL).ok());
    ASSERT_TRUE(
        CreateServiceType("meal-delivery", "送餐上门", "serviceTypes/meal", v1::SECTOR_SOCIAL)
            .ok());
    ASSERT_TRUE(CreateServiceType("bath", "助浴", "", v1::SECTOR_SOCIAL).ok());
    auto org = [&](const std::string& id, const std::string& name, v1::OrganisationKind kind,
                   v1::Sector sector, const std::string& region, double lat, double lng) {
      v1::Organisation o = Org(id, name, kind, sector, region);
      *o.mutable_location() = Point(lat, lng);
      MustCreateOrg(o);
    };
    org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_SOCIAL_ENTERPRISE, v1::SECTOR_SOCIAL,
        kStreet, 31.2050, 121.4800);
    org("ele-delivery", "饿了么送餐", v1::ORGANISATION_KIND_COMMERCIAL_PROVIDER,
        v1::SECTOR_COMMERCIAL, kStreet, 31.2100, 121.4800);
    org("far-kitchen", "远郊中央厨房", v1::ORGANISATION_KIND_COMMERCIAL_PROVIDER,
        v1::SECTOR_COMMERCIAL, kStreet, 31.3000, 121.4800);
    org("dpq-canteen", "打浦桥长者食堂", v1::ORGANISATION_KIND_SOCIAL_ENTERPRISE, v1::SECTOR_SOCIAL,
        kOtherStreet, 31.2010, 121.4800);
    org("bath-team", "助浴服务队", v1::ORGANISATION_KIND_VOLUNTEER_TEAM, v1::SECTOR_SOCIAL, kStreet,
        31.2020, 121.4800);

    auto offer = [&](const std::string& org_id, const std::string& type,
                     const std::vector<std::string>& regions, int per_week, std::string* name) {
      v1::Offering o;
      o.set_organisation("organisations/" + org_id);
      o.set_service_type("serviceTypes/" + type);
      for (const std::string& region : regions) o.add_covered_regions(region);
      o.set_capacity_per_week(per_week);
      v1::Offering created;
      grpc::Status status = CreateOffering(o, &created);
      EXPECT_TRUE(status.ok()) << org_id << ": " << status.error_message();
      if (name != nullptr) *name = created.name();
    };
    // Covering the committee as well as its street must not make it match twice.
    offer("wlq-canteen", "meal-delivery", {kStreet, kCommittee1}, 70, &canteen_offering_);
    offer("ele-delivery", "meal-delivery", {kStreet}, 35, &ele_offering_);
    offer("far-kitchen", "meal-delivery", {kStreet}, 10, &far_offering_);
    offer("dpq-canteen", "meal", {kOtherStreet}, 100, nullptr);
    offer("bath-team", "bath", {kStreet}, 5, nullptr);

    v1::Elder elder;
    elder.set_display_name("张阿婆");
    elder.set_region(kCommittee1);
    *elder.mutable_location() = Point(31.2000, 121.4800);
    v1::Elder created;
    grpc::Status status = CreateElder(elder, &created);
    ASSERT_TRUE(status.ok()) << status.error_message() << " " << ViolatedField(status);
    elder_ = created.name();
  }

  v1::SearchProvidersResponse Search(const v1::SearchProvidersRequest& request,
                                     grpc::Status* status) {
    v1::SearchProvidersResponse response;
    *status = Call(&v1::RegistryService::Stub::SearchProviders, request, &response);
    return response;
  }

  static std::vector<std::string> OrgIdsOf(const v1::SearchProvidersResponse& response) {
    std::vector<std::string> ids;
    for (const auto& m : response.matches()) ids.push_back(m.organisation().id());
    return ids;
  }

  std::string elder_;
  std::string canteen_offering_, ele_offering_, far_offering_;
};

TEST_P(RegistrySearchTest, FindsProvidersOfSubServicesCoveringTheStreetRankedByDistance) {
  BuildProviders();
  v1::SearchProvidersRequest request;
  request.set_elder(elder_);
  request.set_service_type("serviceTypes/meal");
  grpc::Status status;
  v1::SearchProvidersResponse found = Search(request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message() << " " << ViolatedField(status);
  ASSERT_EQ(OrgIdsOf(found), (std::vector<std::string>{"wlq-canteen", "ele-delivery"}));

  const v1::ProviderMatch& near = found.matches(0);
  EXPECT_EQ(near.offering().name(), canteen_offering_);
  EXPECT_EQ(near.offering().service_type(), "serviceTypes/meal-delivery");
  EXPECT_EQ(near.organisation().sector(), v1::SECTOR_SOCIAL);
  EXPECT_EQ(near.organisation().display_name(), "五里桥长者食堂");
  EXPECT_GT(near.distance_meters(), 0);
  EXPECT_NEAR(near.distance_meters(), 556, 10);
  EXPECT_EQ(near.capacity_left_per_week(), near.offering().capacity_per_week());
  EXPECT_EQ(near.capacity_left_per_week(), 70);

  const v1::ProviderMatch& farther = found.matches(1);
  EXPECT_EQ(farther.offering().name(), ele_offering_);
  EXPECT_EQ(farther.organisation().sector(), v1::SECTOR_COMMERCIAL);
  EXPECT_NEAR(farther.distance_meters(), 1112, 15);
  EXPECT_GT(farther.distance_meters(), near.distance_meters());
  EXPECT_EQ(farther.capacity_left_per_week(), farther.offering().capacity_per_week());
  EXPECT_EQ(farther.capacity_left_per_week(), 35);

  // The sub-service asked for directly matches the same offerings.
  request.set_service_type("serviceTypes/meal-delivery");
  EXPECT_EQ(OrgIdsOf(Search(request, &status)),
            (std::vector<std::string>{"wlq-canteen", "ele-delivery"}));
  // Another service does not.
  request.set_service_type("serviceTypes/bath");
  EXPECT_EQ(OrgIdsOf(Search(request, &status)), (std::vector<std::string>{"bath-team"}));

  // Radius: 800 m keeps only the nearest; 20 km brings in the far kitchen, last.
  request.set_service_type("serviceTypes/meal");
  request.set_radius_meters(800);
  EXPECT_EQ(OrgIdsOf(Search(request, &status)), (std::vector<std::string>{"wlq-canteen"}));
  request.set_radius_meters(20000);
  v1::SearchProvidersResponse wide = Search(request, &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(OrgIdsOf(wide),
            (std::vector<std::string>{"wlq-canteen", "ele-delivery", "far-kitchen"}));
  ASSERT_EQ(wide.matches_size(), 3);
  EXPECT_GT(wide.matches(2).distance_meters(), 10000);
  EXPECT_EQ(wide.matches(2).offering().name(), far_offering_);
  // Page size caps the matches, keeping the best.
  request.set_page_size(1);
  EXPECT_EQ(OrgIdsOf(Search(request, &status)), (std::vector<std::string>{"wlq-canteen"}));

  // By region and point instead of an elder: the same answer.
  v1::SearchProvidersRequest by_point;
  by_point.set_region(kCommittee1);
  *by_point.mutable_point() = Point(31.2000, 121.4800);
  by_point.set_service_type("serviceTypes/meal");
  EXPECT_EQ(OrgIdsOf(Search(by_point, &status)),
            (std::vector<std::string>{"wlq-canteen", "ele-delivery"}));
  // By region without a point: distances unknown, so nobody is filtered out by the radius and
  // the ranking falls back on capacity.
  v1::SearchProvidersRequest by_region;
  by_region.set_region(kCommittee2);
  by_region.set_service_type("serviceTypes/meal");
  v1::SearchProvidersResponse unknown_distance = Search(by_region, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(OrgIdsOf(unknown_distance),
            (std::vector<std::string>{"wlq-canteen", "ele-delivery", "far-kitchen"}));
  for (const auto& m : unknown_distance.matches()) EXPECT_EQ(m.distance_meters(), -1);
  // In the other street only its own canteen covers.
  by_region.set_region("regions/310101021001");
  EXPECT_EQ(OrgIdsOf(Search(by_region, &status)), (std::vector<std::string>{"dpq-canteen"}));

  // The map can be filtered by service (with its sub-services) as well.
  v1::GetMapRequest map_request;
  map_request.set_region(kStreet);
  map_request.add_service_types("serviceTypes/meal");
  v1::GetMapResponse map;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetMap, map_request, &map).ok());
  std::vector<std::string> org_nodes;
  for (const auto& n : map.nodes()) {
    if (n.kind() != "region") org_nodes.push_back(n.name());
  }
  EXPECT_EQ(org_nodes,
            (std::vector<std::string>{"organisations/ele-delivery", "organisations/far-kitchen",
                                      "organisations/wlq-canteen"}));
}

// Ranking by capacity left puts unlimited offerings (capacity_left_per_week = -1) first.
TEST_P(RegistrySearchTest, UnlimitedCapacityRanksBeforeLimitedAtEqualDistance) {
  BuildTree();
  ASSERT_TRUE(CreateServiceType("meal", "助餐", "", v1::SECTOR_SOCIAL).ok());
  v1::Organisation canteen =
      Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
          v1::SECTOR_SOCIAL, kStreet);
  *canteen.mutable_location() = Point(31.2050, 121.4800);
  MustCreateOrg(canteen);
  std::map<int, std::string> by_capacity;
  for (int per_week : {1, 0, 50}) {
    v1::Offering o;
    o.set_organisation("organisations/wlq-canteen");
    o.set_service_type("serviceTypes/meal");
    o.add_covered_regions(kStreet);
    o.set_capacity_per_week(per_week);
    v1::Offering created;
    ASSERT_TRUE(CreateOffering(o, &created).ok());
    by_capacity[per_week] = created.name();
  }
  v1::SearchProvidersRequest request;
  request.set_region(kCommittee1);
  *request.mutable_point() = Point(31.2000, 121.4800);
  request.set_service_type("serviceTypes/meal");
  grpc::Status status;
  v1::SearchProvidersResponse found = Search(request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> order;
  for (const auto& m : found.matches()) order.push_back(m.offering().name());
  EXPECT_EQ(order, (std::vector<std::string>{by_capacity[0], by_capacity[50], by_capacity[1]}));
  ASSERT_EQ(found.matches_size(), 3);
  EXPECT_EQ(found.matches(0).capacity_left_per_week(), -1);
}

TEST_P(RegistrySearchTest, BadSearches) {
  BuildProviders();
  grpc::Status status;

  v1::SearchProvidersRequest unknown_elder;
  unknown_elder.set_elder("elders/0123456789abcdef0123456789abcdef");
  unknown_elder.set_service_type("serviceTypes/meal");
  Search(unknown_elder, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  v1::SearchProvidersRequest nobody;
  nobody.set_service_type("serviceTypes/meal");
  Search(nobody, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "elder");

  v1::SearchProvidersRequest both;
  both.set_elder(elder_);
  both.set_region(kCommittee1);
  both.set_service_type("serviceTypes/meal");
  Search(both, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(status), "region");

  v1::SearchProvidersRequest no_service;
  no_service.set_elder(elder_);
  Search(no_service, &status);
  EXPECT_EQ(ViolatedField(status), "service_type");

  v1::SearchProvidersRequest unknown_service;
  unknown_service.set_elder(elder_);
  unknown_service.set_service_type("serviceTypes/massage");
  Search(unknown_service, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  v1::SearchProvidersRequest negative;
  negative.set_elder(elder_);
  negative.set_service_type("serviceTypes/meal");
  negative.set_radius_meters(-1);
  Search(negative, &status);
  EXPECT_EQ(ViolatedField(status), "radius_meters");

  v1::SearchProvidersRequest unknown_region;
  unknown_region.set_region("regions/310101020099");
  unknown_region.set_service_type("serviceTypes/meal");
  Search(unknown_region, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

// --- Upkeep: corrections with etags, consent decisions, retirement ---------------------------

google::protobuf::FieldMask Paths(std::initializer_list<const char*> paths) {
  google::protobuf::FieldMask mask;
  for (const char* path : paths) mask.add_paths(path);
  return mask;
}

TEST_P(RegistryCatalogueTest, ElderCorrectionsNeedTheLatestEtagAndAreAudited) {
  BuildTree();
  v1::Elder created;
  ASSERT_TRUE(CreateElder(FullElder(ChineseId("310101", "19450101", "123")), &created).ok());
  ASSERT_FALSE(created.etag().empty());
  v1::Elder read;
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_MASKED, "", &read).ok());
  EXPECT_EQ(read.etag(), created.etag());

  v1::UpdateElderRequest update;
  update.mutable_elder()->set_name(created.name());
  update.mutable_elder()->set_etag(created.etag());
  update.mutable_elder()->set_phone("13700001111");
  update.mutable_elder()->set_care_grade(4);
  update.mutable_elder()->set_assessment_date("2026-11-03");
  *update.mutable_update_mask() = Paths({"phone", "care_grade", "assessment_date"});
  update.set_reason("2026年11月复评，女儿来电更新号码");
  v1::UpdateElderResponse updated;
  grpc::Status status =
      Call(&v1::RegistryService::Stub::UpdateElder, update, &updated, "committee_staff:staff/zhou");
  ASSERT_TRUE(status.ok()) << status.error_message() << " " << ViolatedField(status);
  EXPECT_EQ(updated.elder().phone(), "137****1111");  // the reply is masked
  EXPECT_FALSE(updated.elder().has_care_grade());
  EXPECT_NE(updated.elder().etag(), created.etag());

  v1::Elder full;
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "核对复评结果", &full).ok());
  EXPECT_EQ(full.phone(), "13700001111");
  EXPECT_EQ(full.care_grade(), 4);
  EXPECT_EQ(full.assessment_date(), "2026-11-03");
  EXPECT_EQ(full.address(), kAddress);  // not named: unchanged
  EXPECT_EQ(full.contacts(0).phone(), kContactPhone);

  std::vector<v1::AuditEntry> audit = Audit(created.name());
  ASSERT_EQ(audit.size(), 2u);  // the update, then the full read (newest first)
  EXPECT_EQ(audit[1].action(), "update");
  EXPECT_EQ(audit[1].fields(), "phone,care_grade,assessment_date");
  EXPECT_EQ(audit[1].actor(), "committee_staff:staff/zhou");
  EXPECT_EQ(audit[1].reason(), "2026年11月复评，女儿来电更新号码");

  // A second member of staff editing from the first read: ABORTED, nothing written.
  update.mutable_elder()->set_phone("13600002222");
  *update.mutable_update_mask() = Paths({"phone"});
  grpc::Status stale = Call(&v1::RegistryService::Stub::UpdateElder, update, &updated);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED) << stale.error_message();
  EXPECT_EQ(Reason(stale), "ERROR_REASON_STALE_ETAG");
  update.mutable_elder()->clear_etag();
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateElder, update, &updated)),
            "elder.etag");
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "核对是否被覆盖", &full).ok());
  EXPECT_EQ(full.phone(), "13700001111");
  const std::string etag = full.etag();

  // Bad corrections name the field and write nothing.
  struct Case {
    std::function<void(v1::UpdateElderRequest&)> edit;
    grpc::StatusCode code;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& q) { *q.mutable_update_mask() = Paths({"consents"}); },
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask.paths[0]"},
      {[](auto& q) { *q.mutable_update_mask() = Paths({}); }, grpc::StatusCode::INVALID_ARGUMENT,
       "update_mask"},
      {[](auto& q) { q.mutable_elder()->set_phone("12345"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "elder.phone"},
      {[](auto& q) {
         q.mutable_elder()->set_care_grade(2);
         *q.mutable_update_mask() = Paths({"care_grade"});
       },
       grpc::StatusCode::INVALID_ARGUMENT, "update_mask"},
      {[](auto& q) {
         q.mutable_elder()->set_region(kStreet);
         *q.mutable_update_mask() = Paths({"region"});
       },
       grpc::StatusCode::INVALID_ARGUMENT, "elder.region"},
      {[](auto& q) { q.set_reason(""); }, grpc::StatusCode::INVALID_ARGUMENT, "reason"},
  };
  for (const Case& c : cases) {
    v1::UpdateElderRequest bad;
    bad.mutable_elder()->set_name(created.name());
    bad.mutable_elder()->set_etag(etag);
    bad.mutable_elder()->set_phone("13600002222");
    *bad.mutable_update_mask() = Paths({"phone"});
    bad.set_reason("更正电话号码");
    c.edit(bad);
    grpc::Status s = Call(&v1::RegistryService::Stub::UpdateElder, bad, &updated);
    EXPECT_EQ(s.error_code(), c.code) << c.field << ": " << s.error_message();
    EXPECT_EQ(ViolatedField(s), c.field) << s.error_message();
  }
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_MASKED, "", &read).ok());
  EXPECT_EQ(read.etag(), etag);

  // Another elder's ID number is taken; a move to another committee follows the region lists.
  v1::Elder other;
  ASSERT_TRUE(CreateElder(FullElder(ChineseId("310101", "19400202", "456")), &other).ok());
  v1::UpdateElderRequest take;
  take.mutable_elder()->set_name(other.name());
  take.mutable_elder()->set_etag(other.etag());
  take.mutable_elder()->set_id_number(ChineseId("310101", "19450101", "123"));
  *take.mutable_update_mask() = Paths({"id_number"});
  take.set_reason("录入错误更正");
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateElder, take, &updated).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  v1::UpdateElderRequest move;
  move.mutable_elder()->set_name(other.name());
  move.mutable_elder()->set_etag(other.etag());
  move.mutable_elder()->set_region(kCommittee2);
  *move.mutable_update_mask() = Paths({"region"});
  move.set_reason("搬到女儿家（桥二）");
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateElder, move, &updated).ok());
  v1::ListEldersRequest list;
  list.set_region(kCommittee2);
  v1::ListEldersResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListElders, list, &listed).ok());
  ASSERT_EQ(listed.elders_size(), 1);
  EXPECT_EQ(listed.elders(0).name(), other.name());
}

TEST_P(RegistryCatalogueTest, AConsentWithdrawalStopsTheProcessingItCovers) {
  BuildTree();
  v1::Elder created;
  ASSERT_TRUE(CreateElder(FullElder(ChineseId("310101", "19450101", "123")), &created).ok());

  v1::RecordConsentRequest withdraw;
  withdraw.set_name(created.name());
  withdraw.set_purpose(v1::CONSENT_PURPOSE_HEALTH_DATA);
  withdraw.set_granted(false);
  withdraw.set_reason("老人本人书面撤回 2026-12-01");
  v1::RecordConsentResponse recorded;
  grpc::Status status = Call(&v1::RegistryService::Stub::RecordConsent, withdraw, &recorded,
                             "committee_staff:staff/zhou");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(
      std::vector<std::string>(recorded.removed_fields().begin(), recorded.removed_fields().end()),
      (std::vector<std::string>{"care_grade", "assessment_date"}));
  bool found = false;
  for (const v1::Consent& c : recorded.elder().consents()) {
    if (c.purpose() != v1::CONSENT_PURPOSE_HEALTH_DATA) continue;
    found = true;
    EXPECT_FALSE(c.granted());
    EXPECT_EQ(c.recorded_by(), "committee_staff:staff/zhou");
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(recorded.elder().consents_size(), 2);

  v1::Elder full;
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "确认撤回后的数据", &full).ok());
  EXPECT_FALSE(full.has_care_grade());
  EXPECT_TRUE(full.assessment_date().empty());
  EXPECT_EQ(full.phone(), kPhone);
  std::vector<v1::AuditEntry> audit = Audit(created.name());
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].action(), "consent withdrawn");
  EXPECT_EQ(audit[1].fields(), "care_grade,assessment_date");

  // A new grade is refused until the elder consents again.
  v1::UpdateElderRequest regrade;
  regrade.mutable_elder()->set_name(created.name());
  regrade.mutable_elder()->set_etag(full.etag());
  regrade.mutable_elder()->set_care_grade(5);
  regrade.mutable_elder()->set_assessment_date("2026-12-02");
  *regrade.mutable_update_mask() = Paths({"care_grade", "assessment_date"});
  regrade.set_reason("复评结果录入");
  v1::UpdateElderResponse updated;
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateElder, regrade, &updated).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Withdrawing personal data removes the identity data and its blind index: the ID number is
  // no longer held anywhere.
  withdraw.set_purpose(v1::CONSENT_PURPOSE_PERSONAL_DATA);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RecordConsent, withdraw, &recorded).ok());
  EXPECT_EQ(
      std::vector<std::string>(recorded.removed_fields().begin(), recorded.removed_fields().end()),
      (std::vector<std::string>{"id_number", "phone", "address", "contacts.phone"}));
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "确认撤回后的数据", &full).ok());
  EXPECT_TRUE(full.id_number().empty());
  EXPECT_TRUE(full.phone().empty());
  EXPECT_EQ(full.display_name(), "王秀英");
  v1::Elder again;
  EXPECT_TRUE(CreateElder(FullElder(ChineseId("310101", "19450101", "123")), &again).ok());

  withdraw.set_purpose(v1::CONSENT_PURPOSE_UNSPECIFIED);
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::RecordConsent, withdraw, &recorded)),
            "purpose");
}

TEST_P(RegistryCatalogueTest, ARetiredElderLeavesTheListsAndTheRecordCloses) {
  BuildTree();
  v1::Elder created;
  ASSERT_TRUE(CreateElder(FullElder(ChineseId("310101", "19450101", "123")), &created).ok());
  EXPECT_EQ(created.status(), v1::ELDER_STATUS_ACTIVE);

  v1::RetireElderRequest retire;
  retire.set_name(created.name());
  retire.set_status(v1::ELDER_STATUS_DECEASED);
  retire.set_effective_date("2999-01-01");  // in the future on any day this runs
  retire.set_reason("女儿告知居委会");
  retire.set_etag(created.etag());
  v1::RetireElderResponse retired;
  grpc::Status future = Call(&v1::RegistryService::Stub::RetireElder, retire, &retired);
  EXPECT_EQ(ViolatedField(future), "effective_date");
  retire.set_effective_date("2020-03-01");
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireElder, retire, &retired, "staff/zhou").ok());
  EXPECT_EQ(retired.elder().status(), v1::ELDER_STATUS_DECEASED);
  EXPECT_EQ(retired.elder().status_date(), "2020-03-01");
  // Retiring again (a retry, a colleague with an old read) returns the record unchanged.
  v1::RetireElderResponse twice;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireElder, retire, &twice).ok());
  EXPECT_EQ(twice.elder().etag(), retired.elder().etag());
  // Other news about a closed record is refused, not silently dropped.
  retire.set_status(v1::ELDER_STATUS_MOVED_AWAY);
  EXPECT_EQ(Call(&v1::RegistryService::Stub::RetireElder, retire, &twice).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  retire.set_status(v1::ELDER_STATUS_DECEASED);

  v1::ListEldersRequest list;
  list.set_region(kStreet);
  v1::ListEldersResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListElders, list, &listed).ok());
  EXPECT_EQ(listed.elders_size(), 0);
  list.set_show_retired(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListElders, list, &listed).ok());
  ASSERT_EQ(listed.elders_size(), 1);
  EXPECT_EQ(listed.elders(0).status(), v1::ELDER_STATUS_DECEASED);

  v1::Elder full;
  ASSERT_TRUE(GetElder(created.name(), v1::ELDER_VIEW_FULL, "办理身后事务核对", &full).ok());
  EXPECT_EQ(full.phone(), kPhone);  // history is kept
  v1::UpdateElderRequest update;
  update.mutable_elder()->set_name(created.name());
  update.mutable_elder()->set_etag(full.etag());
  update.mutable_elder()->set_phone("13700001111");
  *update.mutable_update_mask() = Paths({"phone"});
  update.set_reason("更正电话号码");
  v1::UpdateElderResponse updated;
  grpc::Status closed = Call(&v1::RegistryService::Stub::UpdateElder, update, &updated);
  EXPECT_EQ(closed.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(closed.error_message(), "deceased")) << closed.error_message();

  std::vector<v1::AuditEntry> audit = Audit(created.name());
  ASSERT_GE(audit.size(), 2u);
  EXPECT_EQ(audit.back().action(), "ELDER_STATUS_DECEASED");
  EXPECT_EQ(audit.back().reason(), "女儿告知居委会");
}

TEST_P(RegistryCatalogueTest, OrganisationsAndWorkersAreCorrectedAndRetired) {
  BuildTree();
  ASSERT_TRUE(CreateLine("civil-affairs", "民政", "#C0392B").ok());
  v1::Organisation org;
  ASSERT_TRUE(CreateOrg(Org("wlq-care-centre", "五里桥综合为老服务中心",
                            v1::ORGANISATION_KIND_SOCIAL_ORGANISATION, v1::SECTOR_SOCIAL, kStreet),
                        &org)
                  .ok());
  ASSERT_FALSE(org.etag().empty());

  v1::UpdateOrganisationRequest update;
  update.mutable_organisation()->set_name(org.name());
  update.mutable_organisation()->set_etag(org.etag());
  update.mutable_organisation()->set_display_name("五里桥街道综合为老服务中心");
  update.mutable_organisation()->add_lines("lines/civil-affairs");
  *update.mutable_update_mask() = Paths({"display_name", "lines"});
  v1::UpdateOrganisationResponse updated;
  grpc::Status status = Call(&v1::RegistryService::Stub::UpdateOrganisation, update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message() << " " << ViolatedField(status);
  EXPECT_EQ(updated.organisation().display_name(), "五里桥街道综合为老服务中心");
  EXPECT_EQ(OrgIds("", v1::ORGANISATION_KIND_UNSPECIFIED, "lines/civil-affairs"),
            std::vector<std::string>{"wlq-care-centre"});
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateOrganisation, update, &updated).error_code(),
            grpc::StatusCode::ABORTED);  // the etag of before the first update

  v1::UpdateOrganisationRequest bad = update;
  bad.mutable_organisation()->set_etag(updated.organisation().etag());
  *bad.mutable_update_mask() = Paths({"region"});
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateOrganisation, bad, &updated)),
            "update_mask.paths[0]");
  bad.mutable_organisation()->clear_lines();
  bad.mutable_organisation()->add_lines("lines/nobody");
  *bad.mutable_update_mask() = Paths({"lines"});
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateOrganisation, bad, &updated)),
            "organisation.lines[0]");
  bad.mutable_organisation()->set_kind(v1::ORGANISATION_KIND_UNSPECIFIED);
  *bad.mutable_update_mask() = Paths({"kind"});
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateOrganisation, bad, &updated)),
            "organisation.kind");

  // Retirement is output only on create.
  v1::Organisation forged =
      Org("forged-retired", "打浦桥助老点", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
          v1::SECTOR_SOCIAL, kOtherStreet);
  forged.set_retired(true);
  forged.set_retire_reason("伪造");
  v1::Organisation made;
  ASSERT_TRUE(CreateOrg(forged, &made).ok());
  EXPECT_FALSE(made.retired());
  EXPECT_TRUE(made.retire_reason().empty());
  EXPECT_EQ(OrgIds(kOtherStreet, v1::ORGANISATION_KIND_UNSPECIFIED, ""),
            std::vector<std::string>{"forged-retired"});

  // A worker: skills changed, then left.
  v1::CreateWorkerRequest hire;
  hire.mutable_worker()->set_display_name("李护理员");
  hire.mutable_worker()->set_organisation(org.name());
  hire.mutable_worker()->add_skills("bathing");
  v1::CreateWorkerResponse hired;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::CreateWorker, hire, &hired).ok());
  v1::UpdateWorkerRequest change;
  change.mutable_worker()->set_name(hired.worker().name());
  change.mutable_worker()->set_etag(hired.worker().etag());
  change.mutable_worker()->add_skills("nursing");
  change.mutable_worker()->set_status(v1::WORKER_STATUS_LEFT);
  *change.mutable_update_mask() = Paths({"skills", "status"});
  change.set_organisation("organisations/someone-else");
  v1::UpdateWorkerResponse changed;
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateWorker, change, &changed).error_code(),
            grpc::StatusCode::NOT_FOUND);  // the guard: not that organisation's worker
  change.set_organisation(org.name());
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateWorker, change, &changed).ok());
  EXPECT_EQ(changed.worker().status(), v1::WORKER_STATUS_LEFT);
  EXPECT_EQ(changed.worker().display_name(), "李护理员");
  ASSERT_EQ(changed.worker().skills_size(), 1);
  EXPECT_EQ(changed.worker().skills(0), "nursing");
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateWorker, change, &changed).error_code(),
            grpc::StatusCode::ABORTED);

  // Retired: out of the lists, still readable, no longer changed.
  v1::RetireOrganisationRequest retire;
  retire.set_name(org.name());
  retire.set_etag(org.etag());
  retire.set_reason("并入街道长者照护之家");
  v1::RetireOrganisationResponse retired;
  EXPECT_EQ(Call(&v1::RegistryService::Stub::RetireOrganisation, retire, &retired).error_code(),
            grpc::StatusCode::ABORTED);
  v1::GetOrganisationRequest get;
  get.set_name(org.name());
  v1::GetOrganisationResponse got;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetOrganisation, get, &got).ok());
  retire.set_etag(got.organisation().etag());
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireOrganisation, retire, &retired).ok());
  EXPECT_TRUE(retired.organisation().retired());
  EXPECT_EQ(retired.organisation().retire_reason(), "并入街道长者照护之家");
  EXPECT_TRUE(OrgIds(kStreet, v1::ORGANISATION_KIND_UNSPECIFIED, "").empty());
  grpc::Status list_status;
  v1::ListOrganisationsRequest all;
  all.set_region(kStreet);
  all.set_show_retired(true);
  v1::ListOrganisationsResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListOrganisations, all, &listed).ok());
  ASSERT_EQ(listed.organisations_size(), 1);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetOrganisation, get, &got).ok());
  EXPECT_TRUE(got.organisation().retired());
  update.mutable_organisation()->set_etag(got.organisation().etag());
  *update.mutable_update_mask() = Paths({"display_name"});
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateOrganisation, update, &updated).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_P(RegistrySearchTest, ARetiredProviderIsNoLongerFound) {
  BuildProviders();
  v1::GetOrganisationRequest get;
  get.set_name("organisations/wlq-canteen");
  v1::GetOrganisationResponse got;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetOrganisation, get, &got).ok());
  v1::RetireOrganisationRequest retire;
  retire.set_name(get.name());
  retire.set_etag(got.organisation().etag());
  retire.set_reason("食堂停业装修");
  v1::RetireOrganisationResponse retired;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireOrganisation, retire, &retired).ok());

  v1::SearchProvidersRequest request;
  request.set_elder(elder_);
  request.set_service_type("serviceTypes/meal");
  grpc::Status status;
  v1::SearchProvidersResponse found = Search(request, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(OrgIdsOf(found), (std::vector<std::string>{"ele-delivery"}));
}

TEST_P(RegistryCatalogueTest, RelationsEndAndComeBack) {
  BuildTree();
  MustCreateOrg(Org("wlq-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                    v1::SECTOR_PUBLIC, kStreet));
  MustCreateOrg(Org("wlq-centre", "五里桥为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
                    v1::SECTOR_SOCIAL, kStreet));
  v1::Relation partner;
  ASSERT_TRUE(CreateRelation("organisations/wlq-centre", "organisations/wlq-office",
                             v1::RELATION_TYPE_PARTNER, &partner, "2025 合作")
                  .ok());
  ASSERT_FALSE(partner.etag().empty());

  v1::RetireRelationRequest retire;
  retire.set_name(partner.name());
  retire.set_etag(partner.etag());
  retire.set_reason("合作协议到期");
  retire.set_organisation("organisations/wlq-office");  // the target, not the source
  v1::RetireRelationResponse retired;
  EXPECT_EQ(Call(&v1::RegistryService::Stub::RetireRelation, retire, &retired).error_code(),
            grpc::StatusCode::NOT_FOUND);
  retire.set_organisation("organisations/wlq-centre");
  retire.set_reason("到期");
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::RetireRelation, retire, &retired)),
            "reason");
  retire.set_reason("合作协议到期");
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireRelation, retire, &retired).ok());
  EXPECT_TRUE(retired.relation().retired());
  EXPECT_EQ(retired.relation().retire_reason(), "合作协议到期");
  EXPECT_TRUE(Relations("organisations/wlq-centre").empty());
  v1::ListRelationsRequest all;
  all.set_organisation("organisations/wlq-centre");
  all.set_show_retired(true);
  v1::ListRelationsResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListRelations, all, &listed).ok());
  ASSERT_EQ(listed.relations_size(), 1);
  EXPECT_TRUE(listed.relations(0).retired());

  // Made again, the same relation comes back with the new note.
  v1::Relation again;
  ASSERT_TRUE(CreateRelation("organisations/wlq-centre", "organisations/wlq-office",
                             v1::RELATION_TYPE_PARTNER, &again, "2027 续签")
                  .ok());
  EXPECT_EQ(again.name(), partner.name());
  EXPECT_FALSE(again.retired());
  EXPECT_EQ(again.note(), "2027 续签");
  ASSERT_EQ(Relations("organisations/wlq-centre").size(), 1u);

  // An ended administrative tie no longer counts for the cycle check.
  v1::Relation under;
  ASSERT_TRUE(CreateRelation("organisations/wlq-centre", "organisations/wlq-office",
                             v1::RELATION_TYPE_ADMINISTRATIVE, &under)
                  .ok());
  EXPECT_EQ(CreateRelation("organisations/wlq-office", "organisations/wlq-centre",
                           v1::RELATION_TYPE_ADMINISTRATIVE)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  retire.set_name(under.name());
  retire.set_etag(under.etag());
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireRelation, retire, &retired).ok());
  EXPECT_TRUE(CreateRelation("organisations/wlq-office", "organisations/wlq-centre",
                             v1::RELATION_TYPE_ADMINISTRATIVE)
                  .ok());
}

TEST_P(RegistrySearchTest, ARetiredOfferingIsNoLongerFoundNorChanged) {
  BuildProviders();
  v1::ListOfferingsRequest list;
  list.set_organisation("organisations/wlq-canteen");
  v1::ListOfferingsResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListOfferings, list, &listed).ok());
  ASSERT_EQ(listed.offerings_size(), 1);
  v1::RetireOfferingRequest retire;
  retire.set_name(canteen_offering_);
  retire.set_etag(listed.offerings(0).etag());
  retire.set_reason("送餐服务停止");
  retire.set_organisation("organisations/ele-delivery");
  v1::RetireOfferingResponse retired;
  EXPECT_EQ(Call(&v1::RegistryService::Stub::RetireOffering, retire, &retired).error_code(),
            grpc::StatusCode::NOT_FOUND);
  retire.set_organisation("organisations/wlq-canteen");
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireOffering, retire, &retired).ok());
  EXPECT_TRUE(retired.offering().retired());

  v1::SearchProvidersRequest request;
  request.set_elder(elder_);
  request.set_service_type("serviceTypes/meal");
  grpc::Status status;
  EXPECT_EQ(OrgIdsOf(Search(request, &status)), (std::vector<std::string>{"ele-delivery"}));
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListOfferings, list, &listed).ok());
  EXPECT_EQ(listed.offerings_size(), 0);
  list.set_show_retired(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListOfferings, list, &listed).ok());
  EXPECT_EQ(listed.offerings_size(), 1);

  v1::UpdateOfferingRequest update;
  update.mutable_offering()->set_name(canteen_offering_);
  update.mutable_offering()->set_capacity_per_week(80);
  update.mutable_update_mask()->add_paths("capacity_per_week");
  v1::UpdateOfferingResponse updated;
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateOffering, update, &updated).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_P(RegistryCatalogueTest, ServiceTypesAreRenamedAndRetired) {
  BuildTree();
  v1::ServiceType meal, delivery;
  ASSERT_TRUE(CreateServiceType("meal", "助餐", "", v1::SECTOR_SOCIAL, &meal).ok());
  ASSERT_TRUE(
      CreateServiceType("meal-delivery", "送餐", "serviceTypes/meal", v1::SECTOR_SOCIAL, &delivery)
          .ok());
  v1::UpdateServiceTypeRequest rename;
  rename.mutable_service_type()->set_name(meal.name());
  rename.mutable_service_type()->set_etag(meal.etag());
  rename.mutable_service_type()->set_display_name("助餐服务");
  rename.mutable_update_mask()->add_paths("display_name");
  v1::UpdateServiceTypeResponse renamed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateServiceType, rename, &renamed).ok());
  EXPECT_EQ(renamed.service_type().display_name(), "助餐服务");
  EXPECT_EQ(renamed.service_type().code(), "meal");
  EXPECT_EQ(Call(&v1::RegistryService::Stub::UpdateServiceType, rename, &renamed).error_code(),
            grpc::StatusCode::ABORTED);
  rename.mutable_update_mask()->set_paths(0, "parent");
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateServiceType, rename, &renamed)),
            "update_mask.paths[0]");

  v1::RetireServiceTypeRequest retire;
  retire.set_name(meal.name());
  retire.set_etag(renamed.service_type().etag());
  retire.set_reason("并入综合为老服务");
  v1::RetireServiceTypeResponse retired;
  grpc::Status parent = Call(&v1::RegistryService::Stub::RetireServiceType, retire, &retired);
  EXPECT_EQ(parent.error_code(), grpc::StatusCode::FAILED_PRECONDITION);  // 送餐 is under it
  retire.set_name(delivery.name());
  retire.set_etag(delivery.etag());
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireServiceType, retire, &retired).ok());
  EXPECT_TRUE(retired.service_type().retired());

  v1::ListServiceTypesRequest list;
  v1::ListServiceTypesResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListServiceTypes, list, &listed).ok());
  ASSERT_EQ(listed.service_types_size(), 1);
  EXPECT_EQ(listed.service_types(0).code(), "meal");
  list.set_show_retired(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListServiceTypes, list, &listed).ok());
  EXPECT_EQ(listed.service_types_size(), 2);

  // New references cannot name it.
  MustCreateOrg(Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_SOCIAL_ENTERPRISE,
                    v1::SECTOR_SOCIAL, kStreet));
  v1::Offering offering;
  offering.set_organisation("organisations/wlq-canteen");
  offering.set_service_type(delivery.name());
  offering.add_covered_regions(kStreet);
  EXPECT_EQ(ViolatedField(CreateOffering(offering)), "offering.service_type");
  EXPECT_EQ(ViolatedField(CreateServiceType("meal-delivery-hot", "热餐送餐",
                                            "serviceTypes/meal-delivery", v1::SECTOR_SOCIAL)),
            "service_type.parent");
}

// --- Credit codes, workers' phones, importing records ------------------------------------------

constexpr char kCreditCode[] = "91350100M000100Y43";
constexpr char kOtherCreditCode[] = "91110000802100433B";
constexpr char kMistypedCreditCode[] = "91350100M000100Y44";  // kCreditCode, check mistyped

// One row a line of a roster of organisations, relations, offerings or workers.
template <typename Record>
v1::ImportRecordsRequest Records(const std::vector<std::pair<int, Record>>& rows) {
  v1::ImportRecordsRequest request;
  for (const auto& [line, record] : rows) {
    v1::ImportedRecord* row = request.add_rows();
    row->set_line(line);
    if constexpr (std::is_same_v<Record, v1::Organisation>) {
      *row->mutable_organisation() = record;
    } else if constexpr (std::is_same_v<Record, v1::Relation>) {
      *row->mutable_relation() = record;
    } else if constexpr (std::is_same_v<Record, v1::Offering>) {
      *row->mutable_offering() = record;
    } else {
      *row->mutable_worker() = record;
    }
  }
  return request;
}

// "line field" of each problem, in the order given.
std::vector<std::string> Problems(const v1::ImportRecordsResponse& response) {
  std::vector<std::string> problems;
  for (const auto& p : response.problems()) {
    problems.push_back(absl::StrCat(p.line(), " ", p.field()));
    EXPECT_FALSE(p.reason().empty()) << p.line() << " " << p.field();
  }
  return problems;
}

v1::Worker WorkerOf(const std::string& display_name, const std::string& organisation,
                    const std::string& phone) {
  v1::Worker worker;
  worker.set_display_name(display_name);
  worker.set_organisation(organisation);
  worker.set_phone(phone);
  worker.add_skills("bathing");
  return worker;
}

v1::Relation Tie(const std::string& source, const std::string& target, v1::RelationType type) {
  v1::Relation relation;
  relation.set_source(source);
  relation.set_target(target);
  relation.set_type(type);
  return relation;
}

TEST_P(RegistryCatalogueTest, OrganisationsCarryACheckedUniqueCreditCode) {
  BuildTree();
  v1::Organisation centre =
      Org("wlq-care-centre", "五里桥综合为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
          v1::SECTOR_SOCIAL, kStreet);
  centre.set_credit_code(kMistypedCreditCode);
  grpc::Status mistyped = CreateOrg(centre);
  EXPECT_EQ(mistyped.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(mistyped), "organisation.credit_code");
  EXPECT_EQ(Count("organisations"), 0);

  centre.set_credit_code(kCreditCode);
  v1::Organisation created;
  ASSERT_TRUE(CreateOrg(centre, &created).ok());
  EXPECT_EQ(created.credit_code(), kCreditCode);
  v1::GetOrganisationRequest get;
  get.set_name(created.name());
  v1::GetOrganisationResponse got;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetOrganisation, get, &got).ok());
  EXPECT_EQ(got.organisation().credit_code(), kCreditCode);
  grpc::Status list_status;
  v1::ListOrganisationsResponse listed =
      ListOrgs(kStreet, v1::ORGANISATION_KIND_UNSPECIFIED, "", 10, "", &list_status);
  ASSERT_TRUE(list_status.ok()) << list_status.error_message();
  ASSERT_EQ(listed.organisations_size(), 1);
  EXPECT_EQ(listed.organisations(0).credit_code(), kCreditCode);

  // No two organisations share a code; any number have none (stored as NULL).
  v1::Organisation canteen =
      Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
          v1::SECTOR_SOCIAL, kStreet);
  canteen.set_credit_code(kCreditCode);
  grpc::Status taken = CreateOrg(canteen);
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Reason(taken), "ERROR_REASON_ALREADY_EXISTS");
  EXPECT_TRUE(absl::StartsWith(taken.error_message(), "organisation.credit_code"))
      << taken.error_message();
  canteen.clear_credit_code();
  v1::Organisation canteen_created;
  ASSERT_TRUE(CreateOrg(canteen, &canteen_created).ok());
  MustCreateOrg(Org("wlq-shop", "桥一便民店", v1::ORGANISATION_KIND_COMMERCIAL_PROVIDER,
                    v1::SECTOR_COMMERCIAL, kCommittee1));
  EXPECT_EQ(Count("organisations"), 3);
  EXPECT_EQ(Count("organisations WHERE credit_code IS NULL"), 2);

  // Set by an update: refused when another organisation holds it or it does not check.
  v1::UpdateOrganisationRequest update;
  update.mutable_organisation()->set_name(canteen_created.name());
  update.mutable_organisation()->set_etag(canteen_created.etag());
  update.mutable_organisation()->set_credit_code(kCreditCode);
  *update.mutable_update_mask() = Paths({"credit_code"});
  v1::UpdateOrganisationResponse updated;
  grpc::Status update_taken =
      Call(&v1::RegistryService::Stub::UpdateOrganisation, update, &updated);
  EXPECT_EQ(update_taken.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_TRUE(absl::StartsWith(update_taken.error_message(), "organisation.credit_code"))
      << update_taken.error_message();
  update.mutable_organisation()->set_credit_code("91110000802100433C");
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateOrganisation, update, &updated)),
            "organisation.credit_code");
  update.mutable_organisation()->set_credit_code(kOtherCreditCode);
  grpc::Status set = Call(&v1::RegistryService::Stub::UpdateOrganisation, update, &updated);
  ASSERT_TRUE(set.ok()) << set.error_message();
  EXPECT_EQ(updated.organisation().credit_code(), kOtherCreditCode);
  EXPECT_EQ(updated.organisation().display_name(), "五里桥长者食堂");
  EXPECT_EQ(Count("organisations WHERE credit_code IS NULL"), 1);

  // Cleared by naming it empty: the code is free for another organisation.
  v1::UpdateOrganisationRequest clear;
  clear.mutable_organisation()->set_name(created.name());
  clear.mutable_organisation()->set_etag(created.etag());
  *clear.mutable_update_mask() = Paths({"credit_code"});
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateOrganisation, clear, &updated).ok());
  EXPECT_EQ(updated.organisation().credit_code(), "");
  EXPECT_EQ(Count("organisations WHERE credit_code IS NULL"), 2);
  v1::Organisation successor =
      Org("wlq-care-centre-2", "五里桥为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
          v1::SECTOR_SOCIAL, kStreet);
  successor.set_credit_code(kCreditCode);
  EXPECT_TRUE(CreateOrg(successor).ok());
}

TEST_P(RegistryCatalogueTest, AWorkersPhoneIsSealedMaskedOncePerOrganisationAndAudited) {
  BuildTree();
  MustCreateOrg(Org("wlq-care-centre", "五里桥综合为老服务中心",
                    v1::ORGANISATION_KIND_SOCIAL_ORGANISATION, v1::SECTOR_SOCIAL, kStreet));
  MustCreateOrg(Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
                    v1::SECTOR_SOCIAL, kStreet));
  const std::string centre = "organisations/wlq-care-centre";
  const std::string actor = "street_staff:staff/wang";
  v1::CreateWorkerRequest hire;
  *hire.mutable_worker() = WorkerOf("李护理员", centre, kPhone);
  hire.set_request_id("hire-li");
  v1::CreateWorkerResponse hired;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::CreateWorker, hire, &hired, actor).ok());
  EXPECT_EQ(hired.worker().phone(), kMaskedPhone);
  const std::string name = hired.worker().name();

  // Every read shows it masked.
  v1::GetWorkerRequest get;
  get.set_name(name);
  v1::GetWorkerResponse got;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetWorker, get, &got).ok());
  EXPECT_EQ(got.worker().phone(), kMaskedPhone);
  v1::ListWorkersRequest list;
  list.set_organisation(centre);
  v1::ListWorkersResponse listed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ListWorkers, list, &listed).ok());
  ASSERT_EQ(listed.workers_size(), 1);
  EXPECT_EQ(listed.workers(0).phone(), kMaskedPhone);

  // A malformed phone is refused as an elder's is; a phone is registered once per organisation.
  v1::CreateWorkerRequest other = hire;
  other.clear_request_id();
  other.mutable_worker()->set_display_name("李护工");
  other.mutable_worker()->set_phone("1381234567");
  v1::CreateWorkerResponse ignored;
  grpc::Status malformed = Call(&v1::RegistryService::Stub::CreateWorker, other, &ignored);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(malformed), "worker.phone");
  other.mutable_worker()->set_phone(kPhone);
  grpc::Status twin = Call(&v1::RegistryService::Stub::CreateWorker, other, &ignored);
  EXPECT_EQ(twin.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_TRUE(absl::StartsWith(twin.error_message(), "worker.phone")) << twin.error_message();
  other.mutable_worker()->set_organisation("organisations/wlq-canteen");
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::CreateWorker, other, &ignored).ok());
  EXPECT_EQ(Count("workers"), 2);

  // At rest: the masked phone in the record, the phone sealed and blind-indexed beside it.
  auto sealed = [&](const std::string& worker) {
    std::pair<std::string, std::string> columns;
    EXPECT_TRUE(db_->RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                     auto rows =
                         tx.Query("SELECT phone_sealed, phone_index FROM workers WHERE id = ?",
                                  {worker.substr(8)});
                     if (!rows.ok()) return rows.status();
                     if (rows->size() != 1) return absl::NotFoundError(worker);
                     columns = {(*rows)[0].GetString(0), (*rows)[0].GetString(1)};
                     return absl::OkStatus();
                   })
                    .ok());
    return columns;
  };
  auto [token, index] = sealed(name);
  EXPECT_TRUE(absl::StartsWith(token, "v1.")) << token;
  EXPECT_EQ(index.size(), pii::FieldCipher::kBlindIndexHexChars);
  std::string raw = AllCells("workers");
  absl::StrAppend(&raw, AllCells("pii_audit"), AllCells("idempotency_keys"));
  if (GetParam() == "sqlite") {
    absl::StrAppend(&raw, ReadFile(url_.substr(7)), ReadFile(url_.substr(7) + "-wal"));
  }
  EXPECT_TRUE(absl::StrContains(raw, kMaskedPhone));
  EXPECT_FALSE(absl::StrContains(raw, kPhone)) << "plaintext phone at rest";

  // Changed when the mask names it; kept when it does not; cleared when named empty.
  v1::UpdateWorkerRequest change;
  change.mutable_worker()->set_name(name);
  change.mutable_worker()->set_etag(hired.worker().etag());
  change.mutable_worker()->set_phone("13700001111");
  *change.mutable_update_mask() = Paths({"phone"});
  v1::UpdateWorkerResponse changed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateWorker, change, &changed, actor).ok());
  EXPECT_EQ(changed.worker().phone(), "137****1111");
  const std::pair<std::string, std::string> after_change = sealed(name);
  EXPECT_NE(after_change.second, index);

  v1::UpdateWorkerRequest rename;
  rename.mutable_worker()->set_name(name);
  rename.mutable_worker()->set_etag(changed.worker().etag());
  rename.mutable_worker()->set_display_name("李春华");
  *rename.mutable_update_mask() = Paths({"display_name"});
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateWorker, rename, &changed, actor).ok());
  EXPECT_EQ(changed.worker().display_name(), "李春华");
  EXPECT_EQ(changed.worker().phone(), "137****1111");
  EXPECT_EQ(sealed(name), after_change);

  // The old phone is free again in the organisation; the new one is not.
  other.mutable_worker()->set_organisation(centre);
  v1::CreateWorkerResponse second;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::CreateWorker, other, &second, actor).ok());
  v1::UpdateWorkerRequest clash;
  clash.mutable_worker()->set_name(second.worker().name());
  clash.mutable_worker()->set_etag(second.worker().etag());
  clash.mutable_worker()->set_phone("13700001111");
  *clash.mutable_update_mask() = Paths({"phone"});
  v1::UpdateWorkerResponse clashed;
  grpc::Status clash_status = Call(&v1::RegistryService::Stub::UpdateWorker, clash, &clashed);
  EXPECT_EQ(clash_status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_TRUE(absl::StartsWith(clash_status.error_message(), "worker.phone"));
  clash.mutable_worker()->set_phone("137-0000-1111");
  EXPECT_EQ(ViolatedField(Call(&v1::RegistryService::Stub::UpdateWorker, clash, &clashed)),
            "worker.phone");

  v1::UpdateWorkerRequest clear;
  clear.mutable_worker()->set_name(name);
  clear.mutable_worker()->set_etag(changed.worker().etag());
  *clear.mutable_update_mask() = Paths({"phone"});
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::UpdateWorker, clear, &changed, actor).ok());
  EXPECT_EQ(changed.worker().phone(), "");
  EXPECT_EQ(changed.worker().display_name(), "李春华");
  EXPECT_EQ(sealed(name), (std::pair<std::string, std::string>{"", ""}));

  // Every write of the phone is audited with who made it; a replayed create and the rename are
  // not.
  v1::CreateWorkerResponse replayed;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::CreateWorker, hire, &replayed, actor).ok());
  EXPECT_EQ(replayed.worker().name(), name);
  std::vector<std::string> writes;
  for (const v1::AuditEntry& entry : Audit("")) {
    if (entry.resource() == name) {
      writes.push_back(absl::StrCat(entry.action(), " ", entry.fields(), " ", entry.actor()));
    }
  }
  EXPECT_EQ(writes, (std::vector<std::string>{"update phone " + actor, "update phone " + actor,
                                              "create phone " + actor}));
}

TEST_P(RegistryCatalogueTest, WorkersAreFoundByPhoneInTheirOrganisationAndEachFindIsAudited) {
  BuildTree();
  MustCreateOrg(Org("wlq-care-centre", "五里桥综合为老服务中心",
                    v1::ORGANISATION_KIND_SOCIAL_ORGANISATION, v1::SECTOR_SOCIAL, kStreet));
  MustCreateOrg(Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
                    v1::SECTOR_SOCIAL, kStreet));
  const std::string centre = "organisations/wlq-care-centre";
  v1::CreateWorkerRequest hire;
  *hire.mutable_worker() = WorkerOf("李护理员", centre, kPhone);
  v1::CreateWorkerResponse li;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::CreateWorker, hire, &li).ok());
  *hire.mutable_worker() = WorkerOf("王送餐员", "organisations/wlq-canteen", "13700002222");
  v1::CreateWorkerResponse wang;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::CreateWorker, hire, &wang).ok());

  const std::string actor = "street_staff:staff/zhou";
  auto find = [&](const std::string& organisation, const std::vector<std::string>& phones,
                  const std::string& reason, v1::FindWorkersByPhoneResponse* response) {
    v1::FindWorkersByPhoneRequest request;
    request.set_organisation(organisation);
    for (const std::string& phone : phones) request.add_phones(phone);
    request.set_reason(reason);
    return Call(&v1::RegistryService::Stub::FindWorkersByPhone, request, response, actor);
  };
  // Per phone in order: the centre's worker (twice, one lookup), the canteen's worker is not the
  // centre's, a value that is not a phone finds nobody.
  v1::FindWorkersByPhoneResponse found;
  ASSERT_TRUE(
      find(centre, {kPhone, "13700002222", "not a phone", kPhone}, "导入上门记录", &found).ok());
  EXPECT_EQ(std::vector<std::string>(found.workers().begin(), found.workers().end()),
            (std::vector<std::string>{li.worker().name(), "", "", li.worker().name()}));
  std::vector<std::string> reads;
  for (const v1::AuditEntry& entry : Audit("")) {
    if (entry.action() == "read") {
      reads.push_back(absl::StrCat(entry.resource(), " ", entry.fields(), " ", entry.actor(), " ",
                                   entry.reason()));
    }
  }
  // The hit and the miss of a phone (not the value that is no phone): each try leaves a trail.
  std::sort(reads.begin(), reads.end());
  EXPECT_EQ(reads, (std::vector<std::string>{
                       absl::StrCat(centre, " phone ", actor, " 导入上门记录"),
                       absl::StrCat(li.worker().name(), " phone ", actor, " 导入上门记录")}));

  // Bad requests name their field and find nothing.
  EXPECT_EQ(ViolatedField(find("wlq-care-centre", {kPhone}, "导入", &found)), "organisation");
  EXPECT_EQ(ViolatedField(find(centre, {}, "导入", &found)), "phones");
  EXPECT_EQ(ViolatedField(find(centre, {kPhone}, "", &found)), "reason");
}

TEST_P(RegistryCatalogueTest, ImportingOrganisationsKnowsThemByCreditCodeOrNameInTheirRegion) {
  BuildTree();
  MustCreateOrg(Org("wlq-street-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                    v1::SECTOR_PUBLIC, kStreet));
  v1::Organisation centre =
      Org("wlq-care-centre", "五里桥综合为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
          v1::SECTOR_SOCIAL, kStreet);
  centre.set_credit_code(kCreditCode);
  // Its parent is the organisation of the row before.
  const v1::Organisation canteen =
      Org("wlq-canteen", "桥一长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
          v1::SECTOR_SOCIAL, kCommittee1, {}, "wlq-care-centre");
  v1::Organisation same_code =
      Org("wlq-centre-copy", "综合为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
          v1::SECTOR_SOCIAL, kStreet);
  same_code.set_credit_code(kCreditCode);
  const v1::Organisation outside =
      Org("dpq-centre", "打浦桥为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
          v1::SECTOR_SOCIAL, kOtherStreet);
  const v1::Organisation same_name =
      Org("wlq-canteen-2", "桥一长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
          v1::SECTOR_SOCIAL, kCommittee1);
  v1::Organisation mistyped =
      Org("wlq-kiosk", "桥一便民亭", v1::ORGANISATION_KIND_COMMERCIAL_PROVIDER,
          v1::SECTOR_COMMERCIAL, kCommittee1);
  mistyped.set_credit_code(kMistypedCreditCode);
  const v1::Organisation taken_id =
      Org("wlq-street-office", "五里桥社区服务中心", v1::ORGANISATION_KIND_PUBLIC_CENTRE,
          v1::SECTOR_PUBLIC, kStreet);
  // Its parent is the refused row 5.
  const v1::Organisation orphan =
      Org("dpq-canteen", "打一长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
          v1::SECTOR_SOCIAL, kStreet, {}, "dpq-centre");
  v1::ImportRecordsRequest request = Records<v1::Organisation>({{2, centre},
                                                                {3, canteen},
                                                                {4, same_code},
                                                                {5, outside},
                                                                {6, same_name},
                                                                {7, mistyped},
                                                                {8, taken_id},
                                                                {9, orphan}});
  request.set_region_guard(kStreet);
  v1::ImportRecordsResponse response;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, request, &response).ok());
  EXPECT_EQ(Problems(response),
            (std::vector<std::string>{"4 organisation.credit_code", "5 organisation.region",
                                      "6 organisation.display_name", "7 organisation.credit_code",
                                      "8 organisation.id", "9 organisation.parent"}));
  ASSERT_EQ(response.problems_size(), 6);
  EXPECT_EQ(response.problems(0).reason_zh(), "统一社会信用代码与第 2 行重复");
  EXPECT_EQ(response.created(), 2);
  EXPECT_EQ(response.existing(), 0);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("organisations"), 1) << "a roster with a bad row writes nothing";
  EXPECT_EQ(Count("relations"), 0);

  // A dry run writes nothing either; then the good rows go in, the parent named by line 3 too.
  v1::ImportRecordsRequest good = Records<v1::Organisation>({{2, centre}, {3, canteen}});
  good.set_region_guard(kStreet);
  good.set_dry_run(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("organisations"), 1);
  good.set_dry_run(false);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_TRUE(response.problems().empty());
  EXPECT_TRUE(response.written());
  EXPECT_EQ(Count("organisations"), 3);
  v1::GetOrganisationRequest get;
  get.set_name("organisations/wlq-canteen");
  v1::GetOrganisationResponse got;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetOrganisation, get, &got).ok());
  EXPECT_EQ(got.organisation().parent(), "organisations/wlq-care-centre");
  std::vector<v1::Relation> ties = Relations("organisations/wlq-canteen");
  ASSERT_EQ(ties.size(), 1u);
  EXPECT_EQ(ties[0].target(), "organisations/wlq-care-centre");
  EXPECT_EQ(ties[0].type(), v1::RELATION_TYPE_ADMINISTRATIVE);
  get.set_name("organisations/wlq-care-centre");
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::GetOrganisation, get, &got).ok());
  EXPECT_EQ(got.organisation().credit_code(), kCreditCode);

  // The same roster again changes nothing.
  auto snapshot = [&] {
    grpc::Status status;
    std::string all =
        ListOrgs("", v1::ORGANISATION_KIND_UNSPECIFIED, "", 1000, "", &status).SerializeAsString();
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const v1::Relation& r : Relations("")) absl::StrAppend(&all, r.SerializeAsString());
    return all;
  };
  const std::string before = snapshot();
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 0);
  EXPECT_EQ(response.existing(), 2);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(snapshot(), before);

  // Known by name in the region without a code, by code whatever the name and id; with
  // skip_bad_rows the good rows of a bad roster go in.
  const v1::Organisation office_by_name =
      Org("wlq-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE, v1::SECTOR_PUBLIC,
          kStreet);
  v1::Organisation centre_by_code =
      Org("wlq-elder-centre", "五里桥为老中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
          v1::SECTOR_SOCIAL, kStreet);
  centre_by_code.set_credit_code(kCreditCode);
  const v1::Organisation shop =
      Org("wlq-shop", "桥一便民店", v1::ORGANISATION_KIND_COMMERCIAL_PROVIDER,
          v1::SECTOR_COMMERCIAL, kCommittee1);
  // A code registered in another region is refused without naming what holds it.
  v1::Organisation code_elsewhere =
      Org("wlq-other", "桥一为老中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION, v1::SECTOR_SOCIAL,
          kCommittee1);
  code_elsewhere.set_credit_code(kCreditCode);
  v1::ImportRecordsResponse refused;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords,
                   Records<v1::Organisation>({{14, code_elsewhere}}), &refused)
                  .ok());
  EXPECT_EQ(Problems(refused), std::vector<std::string>{"14 organisation.credit_code"});
  EXPECT_EQ(refused.problems(0).reason().find("五里桥"), std::string::npos);
  EXPECT_EQ(refused.created(), 0);
  v1::ImportRecordsRequest mixed = Records<v1::Organisation>(
      {{10, office_by_name}, {11, centre_by_code}, {12, shop}, {13, mistyped}});
  mixed.set_skip_bad_rows(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, mixed, &response).ok());
  EXPECT_EQ(Problems(response), std::vector<std::string>{"13 organisation.credit_code"});
  EXPECT_EQ(response.created(), 1);
  EXPECT_EQ(response.existing(), 2);
  EXPECT_TRUE(response.written());
  EXPECT_EQ(Count("organisations"), 4);
}

TEST_P(RegistryCatalogueTest, ImportingRelationsKnowsThemBySourceTargetAndType) {
  BuildTree();
  MustCreateOrg(Org("wlq-street-office", "五里桥街道办事处", v1::ORGANISATION_KIND_STREET_OFFICE,
                    v1::SECTOR_PUBLIC, kStreet));
  MustCreateOrg(Org("wlq-care-centre", "五里桥综合为老服务中心",
                    v1::ORGANISATION_KIND_SOCIAL_ORGANISATION, v1::SECTOR_SOCIAL, kStreet));
  MustCreateOrg(Org("wlq-canteen", "桥一长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
                    v1::SECTOR_SOCIAL, kCommittee1));
  MustCreateOrg(Org("dpq-centre", "打浦桥为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
                    v1::SECTOR_SOCIAL, kOtherStreet));
  const std::string office = "organisations/wlq-street-office";
  const std::string centre = "organisations/wlq-care-centre";
  const std::string canteen = "organisations/wlq-canteen";
  const v1::Relation under = Tie(centre, office, v1::RELATION_TYPE_ADMINISTRATIVE);
  const v1::Relation serves = Tie(canteen, kCommittee1, v1::RELATION_TYPE_SERVES_REGION);
  v1::ImportRecordsRequest request = Records<v1::Relation>(
      {{2, under},
       {3, Tie(office, centre, v1::RELATION_TYPE_ADMINISTRATIVE)},  // a cycle with line 2
       {4, under},
       {5, Tie("organisations/dpq-centre", office, v1::RELATION_TYPE_PARTNER)},
       {6, serves},
       {7, Tie(centre, "organisations/nobody", v1::RELATION_TYPE_FUNDS)},
       // Targets in another street: an organisation, a region served.
       {8, Tie(centre, "organisations/dpq-centre", v1::RELATION_TYPE_PARTNER)},
       {9, Tie(canteen, "regions/310101021001", v1::RELATION_TYPE_SERVES_REGION)}});
  request.set_region_guard(kStreet);
  v1::ImportRecordsResponse response;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, request, &response).ok());
  EXPECT_EQ(
      Problems(response),
      (std::vector<std::string>{"3 relation.target", "4 relation.target", "5 relation.source",
                                "7 relation.target", "8 relation.target", "9 relation.target"}));
  ASSERT_EQ(response.problems_size(), 6);
  EXPECT_EQ(response.problems(1).reason_zh(), "关系与第 2 行重复");
  EXPECT_EQ(response.created(), 2);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("relations"), 0);

  v1::ImportRecordsRequest good = Records<v1::Relation>({{2, under}, {6, serves}});
  good.set_dry_run(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_EQ(Count("relations"), 0);
  good.set_dry_run(false);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_TRUE(response.written());
  EXPECT_EQ(Count("relations"), 2);
  std::vector<v1::Relation> served = Relations(canteen);
  ASSERT_EQ(served.size(), 1u);
  EXPECT_EQ(served[0].target(), kCommittee1);

  // The same roster again changes nothing.
  std::string before;
  for (const v1::Relation& r : Relations("")) absl::StrAppend(&before, r.SerializeAsString());
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 0);
  EXPECT_EQ(response.existing(), 2);
  EXPECT_FALSE(response.written());
  std::string after;
  for (const v1::Relation& r : Relations("")) absl::StrAppend(&after, r.SerializeAsString());
  EXPECT_EQ(after, before);

  // A retired tie is not what a row names: importing it brings it back, as CreateRelation does.
  v1::RetireRelationRequest retire;
  retire.set_name(served[0].name());
  retire.set_etag(served[0].etag());
  retire.set_reason("食堂不再为桥一配送");
  v1::RetireRelationResponse retired;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireRelation, retire, &retired).ok());
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, Records<v1::Relation>({{6, serves}}),
                   &response)
                  .ok());
  EXPECT_EQ(response.created(), 1);
  EXPECT_EQ(Count("relations"), 2);
  served = Relations(canteen);
  ASSERT_EQ(served.size(), 1u);
  EXPECT_FALSE(served[0].retired());

  // With skip_bad_rows the good rows of a bad roster go in; the cycle is now with a stored tie.
  v1::ImportRecordsRequest mixed =
      Records<v1::Relation>({{2, under},
                             {3, Tie(office, centre, v1::RELATION_TYPE_ADMINISTRATIVE)},
                             {8, Tie(canteen, centre, v1::RELATION_TYPE_PARTNER)}});
  mixed.set_skip_bad_rows(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, mixed, &response).ok());
  EXPECT_EQ(Problems(response), std::vector<std::string>{"3 relation.target"});
  EXPECT_EQ(response.created(), 1);
  EXPECT_EQ(response.existing(), 1);
  EXPECT_TRUE(response.written());
  EXPECT_EQ(Count("relations"), 3);
}

TEST_P(RegistryCatalogueTest, ImportingOfferingsKnowsThemByOrganisationServiceAndName) {
  BuildTree();
  ASSERT_TRUE(CreateServiceType("meal", "助餐", "", v1::SECTOR_SOCIAL).ok());
  MustCreateOrg(Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
                    v1::SECTOR_SOCIAL, kStreet));
  MustCreateOrg(Org("dpq-centre", "打浦桥为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
                    v1::SECTOR_SOCIAL, kOtherStreet));
  auto offering = [](const std::string& display_name, const std::vector<std::string>& covered) {
    v1::Offering o;
    o.set_organisation("organisations/wlq-canteen");
    o.set_service_type("serviceTypes/meal");
    for (const std::string& region : covered) o.add_covered_regions(region);
    o.set_display_name(display_name);
    o.set_capacity_per_day(40);
    return o;
  };
  const v1::Offering lunch = offering("午餐", {kCommittee1});
  v1::Offering unknown_service = offering("早餐", {kCommittee1});
  unknown_service.set_service_type("serviceTypes/bathing");
  v1::Offering bad_rule = offering("夜宵", {kCommittee1});
  bad_rule.mutable_schedule()->set_rrule("FREQ=SOMETIMES");
  bad_rule.mutable_schedule()->set_dtstart("2026-01-05T20:00:00");
  bad_rule.mutable_schedule()->set_duration_minutes(60);
  v1::Offering foreign_owner = offering("上门助餐", {kCommittee1});
  foreign_owner.set_organisation("organisations/dpq-centre");  // another street's organisation
  v1::ImportRecordsRequest request = Records<v1::Offering>(
      {{2, lunch},
       {3, offering("午餐", {kCommittee2})},  // line 2's organisation, service and name
       {4, offering("晚餐", {kCommittee1, "regions/310101021001"})},
       {5, unknown_service},
       {6, bad_rule},
       {7, foreign_owner}});
  request.set_region_guard(kStreet);
  v1::ImportRecordsResponse response;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, request, &response).ok());
  EXPECT_EQ(Problems(response),
            (std::vector<std::string>{"3 offering.display_name", "4 offering.covered_regions[1]",
                                      "5 offering.service_type", "6 offering.schedule.rrule",
                                      "7 offering.organisation"}));
  ASSERT_EQ(response.problems_size(), 5);
  EXPECT_EQ(response.problems(0).reason_zh(), "服务项目与第 2 行重复");
  EXPECT_EQ(response.created(), 1);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("offerings"), 0);

  const v1::Offering supper = offering("晚餐", {kCommittee1, kCommittee2});
  v1::ImportRecordsRequest good = Records<v1::Offering>({{2, lunch}, {3, supper}});
  good.set_region_guard(kStreet);
  good.set_dry_run(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_EQ(Count("offerings"), 0);
  good.set_dry_run(false);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_TRUE(response.written());
  EXPECT_EQ(Count("offerings"), 2);
  EXPECT_EQ(Count("offering_coverage"), 3);

  // The same roster again changes nothing.
  auto listed = [&] {
    v1::ListOfferingsRequest list;
    list.set_organisation("organisations/wlq-canteen");
    list.set_show_retired(true);
    v1::ListOfferingsResponse offerings;
    EXPECT_TRUE(Call(&v1::RegistryService::Stub::ListOfferings, list, &offerings).ok());
    return offerings;
  };
  const v1::ListOfferingsResponse before = listed();
  ASSERT_EQ(before.offerings_size(), 2);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 0);
  EXPECT_EQ(response.existing(), 2);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(listed().SerializeAsString(), before.SerializeAsString());

  // A retired offering is not what a row names: the row registers a new one.
  const v1::Offering& stored_supper =
      before.offerings(0).display_name() == "晚餐" ? before.offerings(0) : before.offerings(1);
  v1::RetireOfferingRequest retire;
  retire.set_name(stored_supper.name());
  retire.set_etag(stored_supper.etag());
  retire.set_reason("晚餐停止供应");
  v1::RetireOfferingResponse retired;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::RetireOffering, retire, &retired).ok());
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response).ok());
  EXPECT_EQ(response.created(), 1);
  EXPECT_EQ(response.existing(), 1);
  EXPECT_EQ(Count("offerings"), 3);

  // An offering of the street's organisation that also covers the neighbouring street (registered
  // by someone whose scope holds both) is in the street's own export: the street importing that
  // row again finds it registered, rather than being refused the region it cannot register in.
  const v1::Offering wide = offering("送餐", {kCommittee1, "regions/310101021001"});
  ASSERT_TRUE(
      Call(&v1::RegistryService::Stub::ImportRecords, Records<v1::Offering>({{2, wide}}), &response)
          .ok());
  EXPECT_EQ(response.created(), 1);
  v1::ImportRecordsRequest again = Records<v1::Offering>({{2, wide}});
  again.set_region_guard(kStreet);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, again, &response).ok());
  EXPECT_TRUE(Problems(response).empty());
  EXPECT_EQ(response.existing(), 1);
  EXPECT_EQ(response.created(), 0);
  // A new offering reaching there is still refused.
  v1::ImportRecordsRequest wider =
      Records<v1::Offering>({{2, offering("送餐二", {kCommittee1, "regions/310101021001"})}});
  wider.set_region_guard(kStreet);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, wider, &response).ok());
  EXPECT_EQ(Problems(response), std::vector<std::string>{"2 offering.covered_regions[1]"});
  EXPECT_EQ(Count("offerings"), 4);
}

TEST_P(RegistryCatalogueTest, ImportingWorkersKnowsThemByOrganisationAndPhone) {
  BuildTree();
  MustCreateOrg(Org("wlq-care-centre", "五里桥综合为老服务中心",
                    v1::ORGANISATION_KIND_SOCIAL_ORGANISATION, v1::SECTOR_SOCIAL, kStreet));
  MustCreateOrg(Org("dpq-centre", "打浦桥为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
                    v1::SECTOR_SOCIAL, kOtherStreet));
  const std::string centre = "organisations/wlq-care-centre";
  const std::string actor = "street_staff:staff/zhou";
  const v1::Worker li = WorkerOf("李护理员", centre, kPhone);
  const v1::Worker sun = WorkerOf("孙护理员", centre, "021-64181234");
  v1::ImportRecordsRequest request = Records<v1::Worker>(
      {{2, li},
       {3, WorkerOf("李护工", centre, kPhone)},  // line 2's phone in line 2's organisation
       {4, WorkerOf("王志愿者", centre, "")},
       {5, WorkerOf("赵护理员", "organisations/dpq-centre", "13911112222")},
       {6, WorkerOf("钱护理员", "organisations/nobody", "13911113333")},
       {7, sun}});
  request.set_region_guard(kStreet);
  v1::ImportRecordsResponse response;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, request, &response, actor).ok());
  EXPECT_EQ(Problems(response),
            (std::vector<std::string>{"3 worker.phone", "4 worker.phone", "5 worker.organisation",
                                      "6 worker.organisation"}));
  ASSERT_EQ(response.problems_size(), 4);
  EXPECT_EQ(response.problems(0).reason_zh(), "同一单位的电话与第 2 行重复");
  EXPECT_EQ(response.created(), 2);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(Count("workers"), 0);

  v1::ImportRecordsRequest good = Records<v1::Worker>({{2, li}, {7, sun}});
  good.set_region_guard(kStreet);
  good.set_dry_run(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response, actor).ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_EQ(Count("workers"), 0);
  good.set_dry_run(false);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response, actor).ok());
  EXPECT_EQ(response.created(), 2);
  EXPECT_TRUE(response.written());
  EXPECT_EQ(Count("workers"), 2);

  // Imported workers are sealed, masked and audited as registered ones are.
  auto listed = [&] {
    v1::ListWorkersRequest list;
    list.set_organisation(centre);
    v1::ListWorkersResponse workers;
    EXPECT_TRUE(Call(&v1::RegistryService::Stub::ListWorkers, list, &workers).ok());
    return workers;
  };
  const v1::ListWorkersResponse before = listed();
  std::set<std::string> phones;
  for (const v1::Worker& w : before.workers()) phones.insert(w.phone());
  EXPECT_EQ(phones, (std::set<std::string>{kMaskedPhone, "021-****1234"}));
  std::string raw = AllCells("workers");
  absl::StrAppend(&raw, AllCells("pii_audit"));
  EXPECT_FALSE(absl::StrContains(raw, kPhone)) << "plaintext phone at rest";
  EXPECT_FALSE(absl::StrContains(raw, "64181234")) << "plaintext phone at rest";
  auto imports = [&] {
    int n = 0;
    for (const v1::AuditEntry& entry : Audit("")) {
      n += entry.action() == "import" && entry.fields() == "phone" && entry.actor() == actor &&
           absl::StartsWith(entry.resource(), "workers/");
    }
    return n;
  };
  EXPECT_EQ(imports(), 2);

  // The same roster again changes nothing.
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, good, &response, actor).ok());
  EXPECT_EQ(response.created(), 0);
  EXPECT_EQ(response.existing(), 2);
  EXPECT_FALSE(response.written());
  EXPECT_EQ(listed().SerializeAsString(), before.SerializeAsString());
  EXPECT_EQ(imports(), 2);

  // A worker registered by CreateWorker is known by its phone too; with skip_bad_rows the good
  // rows of a bad roster go in.
  v1::CreateWorkerRequest hire;
  *hire.mutable_worker() = WorkerOf("周护理员", centre, "13911114444");
  v1::CreateWorkerResponse hired;
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::CreateWorker, hire, &hired).ok());
  v1::ImportRecordsRequest mixed =
      Records<v1::Worker>({{2, li},
                           {8, WorkerOf("周阿姨", centre, "13911114444")},
                           {9, WorkerOf("吴护理员", centre, "13911115555")},
                           {10, WorkerOf("郑护理员", centre, "1391111")}});
  mixed.set_skip_bad_rows(true);
  ASSERT_TRUE(Call(&v1::RegistryService::Stub::ImportRecords, mixed, &response).ok());
  EXPECT_EQ(Problems(response), std::vector<std::string>{"10 worker.phone"});
  EXPECT_EQ(response.created(), 1);
  EXPECT_EQ(response.existing(), 2);
  EXPECT_TRUE(response.written());
  EXPECT_EQ(Count("workers"), 4);
}

TEST_P(RegistryCatalogueTest, ImportingRecordsTakesOneKindAndAGuardThatExists) {
  BuildTree();
  v1::ImportRecordsResponse response;
  grpc::Status empty =
      Call(&v1::RegistryService::Stub::ImportRecords, v1::ImportRecordsRequest(), &response);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(empty), "rows");
  const v1::Organisation org =
      Org("wlq-care-centre", "五里桥综合为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
          v1::SECTOR_SOCIAL, kStreet);
  v1::ImportRecordsRequest huge;
  for (int i = 0; i < 1001; ++i) {
    v1::ImportedRecord* row = huge.add_rows();
    row->set_line(i + 2);
    *row->mutable_organisation() = org;
    row->mutable_organisation()->set_id(absl::StrCat("org-", i));
  }
  grpc::Status too_many = Call(&v1::RegistryService::Stub::ImportRecords, huge, &response);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(too_many), "rows");

  // Every row one kind.
  v1::ImportRecordsRequest mixed = Records<v1::Organisation>({{2, org}});
  v1::ImportedRecord* worker = mixed.add_rows();
  worker->set_line(3);
  *worker->mutable_worker() = WorkerOf("李护理员", "organisations/wlq-care-centre", kPhone);
  grpc::Status kinds = Call(&v1::RegistryService::Stub::ImportRecords, mixed, &response);
  EXPECT_EQ(kinds.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(kinds), "rows");
  v1::ImportRecordsRequest blank = Records<v1::Organisation>({{2, org}});
  blank.add_rows()->set_line(3);
  grpc::Status no_record = Call(&v1::RegistryService::Stub::ImportRecords, blank, &response);
  EXPECT_EQ(no_record.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(no_record), "rows");

  v1::ImportRecordsRequest unguarded = Records<v1::Organisation>({{2, org}});
  unguarded.set_region_guard("regions/310101099");
  EXPECT_EQ(Call(&v1::RegistryService::Stub::ImportRecords, unguarded, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  unguarded.set_region_guard("310101020");
  grpc::Status malformed = Call(&v1::RegistryService::Stub::ImportRecords, unguarded, &response);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(malformed), "region_guard");
  EXPECT_EQ(Count("organisations"), 0);
}

TEST_P(RegistryCatalogueTest, RowsWrittenBeforeCreditCodesAndWorkersPhonesKeepWorking) {
  absl::StatusOr<std::string> url = testing::FreshDatabaseUrl(GetParam(), "registry_upgrade");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<std::unique_ptr<storage::Database>> opened = storage::OpenDatabase(*url);
  ASSERT_TRUE(opened.ok()) << opened.status();
  storage::Database& db = **opened;
  std::vector<storage::Migration> older;
  for (const storage::Migration& m : RegistryMigrations()) {
    if (m.version <= 9) older.push_back(m);
  }
  ASSERT_TRUE(storage::ApplyMigrations(db, "registry", older).ok());
  // An organisation and a worker as the registry stored them before migrations 10 and 11.
  v1::Organisation old_org =
      Org("wlq-care-centre", "五里桥综合为老服务中心", v1::ORGANISATION_KIND_SOCIAL_ORGANISATION,
          v1::SECTOR_SOCIAL, kStreet);
  old_org.set_name("organisations/wlq-care-centre");
  v1::Worker old_worker = WorkerOf("李护理员", old_org.name(), "");
  old_worker.set_name("workers/old-1");
  ASSERT_TRUE(db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
                  RETURN_IF_ERROR(
                      tx.Exec("INSERT INTO organisations (id, region_code, region_path, kind, "
                              "data) VALUES (?, ?, ?, ?, ?)",
                              {old_org.id(), std::string("310101020"),
                               std::string("310000/310101/310101020/"),
                               static_cast<int64_t>(old_org.kind()), old_org.SerializeAsString()})
                          .status());
                  return tx
                      .Exec("INSERT INTO workers (id, organisation_id, data) VALUES (?, ?, ?)",
                            {std::string("old-1"), old_org.id(), old_worker.SerializeAsString()})
                      .status();
                }).ok());

  ASSERT_TRUE(storage::ApplyMigrations(db, "registry", RegistryMigrations()).ok());
  absl::Status status = db.RunInTransaction([&](storage::Transaction& tx) -> absl::Status {
    // The old rows read without a code or a phone and are changed as before.
    ASSIGN_OR_RETURN(std::optional<WorkerRow> worker,
                     FindWorkerForUpdate(tx, db.dialect(), "old-1"));
    if (!worker.has_value()) return absl::NotFoundError("old-1");
    EXPECT_EQ(worker->worker.phone(), "");
    EXPECT_EQ(worker->sealed_phone, "");
    EXPECT_EQ(worker->phone_index, "");
    worker->worker.set_display_name("李春华");
    RETURN_IF_ERROR(UpdateWorkerRow(tx, *worker));
    ASSIGN_OR_RETURN(std::optional<v1::Organisation> org,
                     FindOrganisationForUpdate(tx, db.dialect(), "wlq-care-centre"));
    if (!org.has_value()) return absl::NotFoundError("wlq-care-centre");
    EXPECT_EQ(org->credit_code(), "");
    RETURN_IF_ERROR(UpdateOrganisationRow(tx, org->id(), *org, {}));
    // Many without a code or a phone sit beside them.
    OrganisationRow another;
    another.id = "wlq-canteen";
    another.region_code = "310101020";
    another.region_path = "310000/310101/310101020/";
    another.organisation =
        Org("wlq-canteen", "五里桥长者食堂", v1::ORGANISATION_KIND_ELDER_CARE_FACILITY,
            v1::SECTOR_SOCIAL, kStreet);
    another.organisation.set_name("organisations/wlq-canteen");
    RETURN_IF_ERROR(InsertOrganisation(tx, another));
    WorkerRow second;
    second.id = "new-2";
    second.organisation_id = "wlq-care-centre";
    second.worker = WorkerOf("王护理员", old_org.name(), "");
    second.worker.set_name("workers/new-2");
    return InsertWorker(tx, second);
  });
  ASSERT_TRUE(status.ok()) << status;
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryCatalogueTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, RegistryMapTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, RegistrySearchTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, RegistryElderLookupTest,
                         ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli::registry
