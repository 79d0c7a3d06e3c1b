#include "services/scheduling/fallback.h"

#include "common/errors.h"
#include "gtest/gtest.h"

namespace linli::scheduling {
namespace {

v1::Commitment Bathing(int workers = 1) {
  v1::Commitment c;
  c.set_name("commitments/c");
  c.set_owner_organisation("organisations/own");
  c.set_service_type("serviceTypes/bathing");
  c.add_required_skills("bathing");
  c.add_required_skills("nursing");
  c.set_workers_required(workers);
  return c;
}

registry::v1::Offering Offering(int per_week) {
  registry::v1::Offering o;
  o.set_capacity_per_week(per_week);
  return o;
}

std::vector<std::string> Codes(const std::vector<v1::CoverageGap>& gaps) {
  std::vector<std::string> codes;
  for (const auto& g : gaps) codes.push_back(g.code());
  return codes;
}

TEST(Fallback, RequestValidation) {
  v1::ProposeFallbackRequest request;
  request.set_commitment("commitments/c1");
  absl::StatusOr<std::string> id = ValidateFallbackRequest(request);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "c1");
  request.set_commitment("c1");
  request.set_radius_meters(50001);
  request.set_page_size(21);
  absl::StatusOr<std::string> refused = ValidateFallbackRequest(request);
  ASSERT_TRUE(absl::IsInvalidArgument(refused.status()));
  EXPECT_EQ(GetBadRequest(refused.status())->field_violations_size(), 3);
}

TEST(Fallback, AWorkerServesWhenActiveWithEverySkill) {
  registry::v1::Worker w;
  w.add_skills("nursing");
  w.add_skills("bathing");
  EXPECT_FALSE(CanServe(w, Bathing()));  // status unspecified: not active
  w.set_status(registry::v1::WORKER_STATUS_ACTIVE);
  EXPECT_TRUE(CanServe(w, Bathing()));
  w.clear_skills();
  w.add_skills("bathing");
  EXPECT_FALSE(CanServe(w, Bathing()));
}

TEST(Fallback, CoverageGaps) {
  EXPECT_TRUE(CoverageGaps(Bathing(), 7, {Offering(5), Offering(2)}, 1).empty());
  EXPECT_TRUE(CoverageGaps(Bathing(), 70, {Offering(5), Offering(0)}, 1).empty());  // unlimited
  EXPECT_EQ(Codes(CoverageGaps(Bathing(), 8, {Offering(5), Offering(2)}, 1)),
            std::vector<std::string>{"NO_CAPACITY"});
  const std::vector<v1::CoverageGap> gaps = CoverageGaps(Bathing(2), 1, {}, 1);
  EXPECT_EQ(Codes(gaps), (std::vector<std::string>{"NO_OFFERING", "NO_SKILLED_WORKER"}));
  EXPECT_EQ(gaps[1].message(),
            "organisations/own has 1 active worker(s) with bathing, nursing; the visit needs 2");
}

TEST(Fallback, ProposalsSkipTheOwnerAndFullProviders) {
  auto match = [](const std::string& org, registry::v1::Sector sector, int meters, int left) {
    registry::v1::ProviderMatch m;
    m.mutable_organisation()->set_name(org);
    m.mutable_organisation()->set_display_name(org.substr(14));
    m.mutable_organisation()->set_sector(sector);
    m.mutable_offering()->set_service_type("serviceTypes/bathing");
    m.set_distance_meters(meters);
    m.set_capacity_left_per_week(left);
    return m;
  };
  std::vector<registry::v1::ProviderMatch> matches = {
      match("organisations/own", registry::v1::SECTOR_PUBLIC, 100, 5),
      match("organisations/full", registry::v1::SECTOR_PUBLIC, 200, 0),
      match("organisations/near", registry::v1::SECTOR_SOCIAL, 800, 3),
      match("organisations/far", registry::v1::SECTOR_COMMERCIAL, 2460, -1),
      match("organisations/farther", registry::v1::SECTOR_COMMERCIAL, 3000, -1)};
  matches[2].mutable_offering()->set_display_name("助浴");
  const std::vector<v1::FallbackProposal> proposals = Proposals(matches, "organisations/own", 2);
  ASSERT_EQ(proposals.size(), 2u);
  EXPECT_EQ(proposals[0].reason(), "社会力量 near: offers 助浴 800 m away, 3 a week left");
  EXPECT_EQ(proposals[1].reason(),
            "市场主体 far: offers serviceTypes/bathing 2.5 km away, no weekly limit");
}

}  // namespace
}  // namespace linli::scheduling
