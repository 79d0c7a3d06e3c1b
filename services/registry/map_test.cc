#include "services/registry/map.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace linli::registry {
namespace {

v1::Organisation Org(const std::string& id, const std::string& region_code,
                     v1::OrganisationKind kind, std::vector<std::string> lines = {}) {
  v1::Organisation org;
  org.set_id(id);
  org.set_name("organisations/" + id);
  org.set_display_name(id);
  org.set_region("regions/" + region_code);
  org.set_kind(kind);
  for (auto& l : lines) org.add_lines("lines/" + l);
  return org;
}

v1::Relation Rel(const std::string& source, const std::string& target, v1::RelationType type) {
  v1::Relation rel;
  rel.set_source(source);
  rel.set_target(target);
  rel.set_type(type);
  return rel;
}

v1::Line Line(const std::string& id, const std::string& color) {
  v1::Line line;
  line.set_id(id);
  line.set_name("lines/" + id);
  line.set_display_name("条" + id);
  line.set_color(color);
  return line;
}

std::vector<std::string> NodeNames(const v1::GetMapResponse& map) {
  std::vector<std::string> names;
  for (const auto& n : map.nodes()) names.push_back(n.name());
  return names;
}

std::vector<std::string> Edges(const v1::GetMapResponse& map) {
  std::vector<std::string> edges;
  for (const auto& e : map.edges()) {
    edges.push_back(e.source() + " -" + e.type() + "-> " + e.target());
  }
  return edges;
}

// A street (310101020) with one committee (310101020001), in district 310101.
struct Street {
  Region street;
  Region committee;
  Street() {
    street.code = "310101020";
    street.display_name = "五里桥街道";
    street.level = RegionLevel::kStreet;
    street.parent_code = "310101";
    street.path = "310000/310101/310101020/";
    committee.code = "310101020001";
    committee.display_name = "丽园居委";
    committee.level = RegionLevel::kCommittee;
    committee.parent_code = "310101020";
    committee.path = street.path + "310101020001/";
  }
  std::vector<Region> Subtree() const { return {street, committee}; }
};

TEST(MapFilterTest, EveryFilterSetMustPass) {
  const v1::Organisation canteen =
      Org("canteen", "310101020", v1::ORGANISATION_KIND_PUBLIC_CENTRE, {"civil"});
  EXPECT_TRUE(MapFilter{}.Passes(canteen));

  MapFilter kinds;
  kinds.kinds = {v1::ORGANISATION_KIND_PUBLIC_CENTRE};
  EXPECT_TRUE(kinds.Passes(canteen));
  kinds.kinds = {v1::ORGANISATION_KIND_STREET_OFFICE};
  EXPECT_FALSE(kinds.Passes(canteen));

  MapFilter lines;
  lines.lines = {"lines/health", "lines/civil"};
  EXPECT_TRUE(lines.Passes(canteen));
  lines.lines = {"lines/health"};
  EXPECT_FALSE(lines.Passes(canteen));

  MapFilter services;
  services.offering_organisations = std::set<std::string>{"canteen"};
  EXPECT_TRUE(services.Passes(canteen));
  services.offering_organisations->clear();  // a service nobody offers: nothing passes
  EXPECT_FALSE(services.Passes(canteen));
}

TEST(MapBuilderTest, ShowsRegionsAndOrganisationsDownToTheDepth) {
  Street s;
  const std::vector<v1::Organisation> orgs = {
      Org("office", "310101020", v1::ORGANISATION_KIND_STREET_OFFICE),
      Org("committee", "310101020001", v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE)};

  MapBuilder shallow(s.street, 0, {});
  shallow.AddRegions(s.Subtree());
  shallow.AddOrganisations(orgs);
  v1::GetMapResponse top = shallow.Finish({}, {});
  EXPECT_EQ(NodeNames(top),
            (std::vector<std::string>{"regions/310101020", "organisations/office"}));
  EXPECT_EQ(Edges(top),
            std::vector<std::string>{"regions/310101020 -contains-> organisations/office"});

  MapBuilder deep(s.street, 1, {});
  deep.AddRegions(s.Subtree());
  deep.AddOrganisations(orgs);
  v1::GetMapResponse all = deep.Finish({}, {});
  EXPECT_EQ(NodeNames(all),
            (std::vector<std::string>{"regions/310101020", "regions/310101020001",
                                      "organisations/office", "organisations/committee"}));
  EXPECT_EQ(all.nodes(2).kind(), "street_office");
  EXPECT_EQ(all.nodes(3).kind(), "neighbourhood_committee");
  EXPECT_EQ(all.nodes(0).region(), "");  // the root has no container on the map
  EXPECT_EQ(Edges(all),
            (std::vector<std::string>{"regions/310101020 -contains-> regions/310101020001",
                                      "regions/310101020 -contains-> organisations/office",
                                      "regions/310101020001 -contains-> organisations/committee"}));
}

TEST(MapBuilderTest, FollowsRelationsToOrganisationsOutsideTheRegion) {
  Street s;
  MapFilter civil;
  civil.lines = {"lines/civil"};
  MapBuilder map(s.street, 0, civil);
  map.AddRegions(s.Subtree());
  map.AddOrganisations({Org("office", "310101020", v1::ORGANISATION_KIND_STREET_OFFICE, {"civil"}),
                        Org("shop", "310101020", v1::ORGANISATION_KIND_COMMERCIAL_PROVIDER)});
  const v1::Relation to_bureau =
      Rel("organisations/office", "organisations/bureau", v1::RELATION_TYPE_LINE_GUIDANCE);
  const v1::Relation from_outside =
      Rel("organisations/bureau", "organisations/office", v1::RELATION_TYPE_FUNDS);
  const v1::Relation to_committee_org =
      Rel("organisations/office", "organisations/committee", v1::RELATION_TYPE_PARTNER);
  const v1::Relation to_region =
      Rel("organisations/office", "regions/310101020", v1::RELATION_TYPE_SERVES_REGION);
  const v1::Relation from_filtered =
      Rel("organisations/shop", "organisations/bureau", v1::RELATION_TYPE_PARTNER);

  EXPECT_EQ(map.OutsideTarget(to_bureau), "bureau");
  EXPECT_EQ(map.OutsideTarget(from_outside), std::nullopt);  // only from the map outwards
  EXPECT_EQ(map.OutsideTarget(to_region), std::nullopt);
  EXPECT_EQ(map.OutsideTarget(from_filtered), std::nullopt);  // the shop is not on the map

  // Inside the street but deeper than the depth: stays off the map.
  map.AddOutside(
      Org("committee", "310101020001", v1::ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE, {"civil"}),
      s.committee.path);
  // Fails the line filter.
  map.AddOutside(Org("hospital", "310101", v1::ORGANISATION_KIND_GOVERNMENT, {"health"}),
                 "310000/310101/");
  map.AddOutside(Org("bureau", "310101", v1::ORGANISATION_KIND_GOVERNMENT, {"civil"}),
                 "310000/310101/");
  EXPECT_EQ(map.OutsideTarget(to_bureau), std::nullopt);  // already on the map

  v1::GetMapResponse graph = map.Finish(
      {to_bureau, from_outside, to_committee_org, to_region, from_filtered}, {Line("civil", "")});
  EXPECT_EQ(NodeNames(graph), (std::vector<std::string>{"regions/310101020", "organisations/office",
                                                        "organisations/bureau"}));
  EXPECT_EQ(Edges(graph),
            (std::vector<std::string>{"regions/310101020 -contains-> organisations/office",
                                      "organisations/office -line_guidance-> organisations/bureau",
                                      "organisations/bureau -funds-> organisations/office",
                                      "organisations/office -serves_region-> regions/310101020"}));
}

TEST(MapBuilderTest, TheDotHasClustersAndALegendOfTheLinesUsed) {
  Street s;
  MapBuilder map(s.street, 1, {});
  map.AddRegions(s.Subtree());
  map.AddOrganisations(
      {Org("office", "310101020", v1::ORGANISATION_KIND_STREET_OFFICE, {"civil"})});
  v1::GetMapResponse graph = map.Finish({}, {Line("civil", "#123456"), Line("unused", "#654321")});
  EXPECT_TRUE(absl::StrContains(graph.dot(), "subgraph cluster_0"));
  EXPECT_TRUE(absl::StrContains(graph.dot(), "label=\"五里桥街道\""));
  EXPECT_TRUE(absl::StrContains(graph.dot(), "\"legend:lines/civil\" [label=\"条civil\""));
  EXPECT_TRUE(absl::StrContains(graph.dot(), "color=\"#123456\""));
  EXPECT_FALSE(absl::StrContains(graph.dot(), "#654321"));
}

TEST(MapDotTest, QuotesForDot) { EXPECT_EQ(DotQuote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\""); }

}  // namespace
}  // namespace linli::registry
