// The 条块 map as a graph: regions (块) contain regions and organisations; organisations belong to
// lines (条) and are linked by typed relations. Building it (what a region's map shows, given
// depth and filters) and rendering it to Graphviz DOT: regions are clusters, organisations are
// coloured by their first line, edges are styled by type. Pure C++: the caller reads the rows.
#ifndef LINLI_SERVICES_REGISTRY_MAP_H_
#define LINLI_SERVICES_REGISTRY_MAP_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "linli/registry/v1/registry.pb.h"
#include "services/registry/region.h"

namespace linli::registry {

// How many levels below its region a map reaches at most (a street down to its committees is 1).
inline constexpr int kMaxMapDepth = 3;

// Which organisations a map shows; each filter that is set must pass.
struct MapFilter {
  std::set<int> kinds;  // OrganisationKind values; empty = every kind
  // Ids of the organisations offering one of the requested services (or a service below one);
  // nullopt = no service filter.
  std::optional<std::set<std::string>> offering_organisations;
  std::set<std::string> lines;  // "lines/x"; an organisation on any of them passes; empty = all

  bool Passes(const v1::Organisation& organisation) const;
};

// Builds the map of one region, in this order:
//
//   MapBuilder map(root, depth, filter);
//   map.AddRegions(RegionSubtree(root));          // the 块 down to `depth`
//   map.AddOrganisations(organisations in root);  // those in the regions shown, filtered
//   for (relation : relations)                    // the 条 reaching outside the region
//     if (auto id = map.OutsideTarget(relation)) map.AddOutside(organisation id, its region path);
//   v1::GetMapResponse response = map.Finish(relations, lines);
class MapBuilder {
 public:
  MapBuilder(Region root, int depth, MapFilter filter);

  const MapFilter& filter() const { return filter_; }

  // Adds the regions of `subtree` (every region under the root, the root included) down to the
  // depth.
  void AddRegions(const std::vector<Region>& subtree);

  // Adds the organisations that sit in a region shown and pass the filter.
  void AddOrganisations(const std::vector<v1::Organisation>& organisations);

  // The id of the organisation `relation` leads to from the map, when it is not on the map yet:
  // organisations outside the region that its organisations report to along a line, are funded
  // by or partner with (e.g. the district bureaus). nullopt otherwise, and once the map is large.
  std::optional<std::string> OutsideTarget(const v1::Relation& relation) const;

  // Adds an organisation OutsideTarget named, unless it fails the filter or sits inside the root
  // region (left out by the depth). `region_path` is the path of the region it sits in, "" when
  // that region is unknown.
  void AddOutside(const v1::Organisation& organisation, const std::string& region_path);

  // The map: the nodes added, an edge from each region to what it contains, the relations
  // between nodes (or from an organisation to a region shown), and the DOT rendering with the
  // lines used (`lines`: every line).
  v1::GetMapResponse Finish(const std::vector<v1::Relation>& relations,
                            std::vector<v1::Line> lines);

 private:
  void AddOrganisationNode(const v1::Organisation& organisation);

  Region root_;
  int depth_;
  MapFilter filter_;
  v1::GetMapResponse map_;
  std::set<std::string> region_names_;
  std::set<std::string> organisation_names_;
  std::set<std::string> used_lines_;
};

// DOT for `graph` (nodes and edges as returned by GetMap). `lines` gives labels and colours of the
// lines used ("lines/x" -> Line); missing colours get a fixed palette entry.
std::string RenderDot(const v1::GetMapResponse& graph,
                      const std::map<std::string, v1::Line>& lines);

// Escapes text for a double-quoted DOT string.
std::string DotQuote(const std::string& text);

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_MAP_H_
