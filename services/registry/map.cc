#include "services/registry/map.h"

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace linli::registry {
namespace {

// Colours for lines without one of their own; distinguishable and readable on white.
constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};

// The map's organisations sit in at most this many nodes before outside ones stop being added;
// a street has a few hundred.
constexpr size_t kMaxOrganisationNodes = 5000;

// "ORGANISATION_KIND_NEIGHBOURHOOD_COMMITTEE" -> "neighbourhood_committee".
std::string LowerSuffix(const std::string& enum_name, size_t prefix_length) {
  return absl::AsciiStrToLower(enum_name.substr(std::min(prefix_length, enum_name.size())));
}

std::string EdgeStyle(const std::string& type) {
  if (type == "contains") return "color=\"#bbbbbb\", arrowhead=none";
  if (type == "administrative") return "color=\"#333333\", penwidth=1.5, label=\"隶属\"";
  if (type == "line_guidance") return "style=dashed, label=\"业务指导\"";
  if (type == "joint_meeting_member") return "style=dotted, label=\"联席会议\"";
  if (type == "funds") return "color=\"#b8860b\", label=\"资助/购买\"";
  if (type == "partner") return "dir=both, style=dashed, color=\"#2e8b57\", label=\"合作\"";
  if (type == "serves_region") return "color=\"#4682b4\", style=dotted, label=\"服务覆盖\"";
  return "";
}

std::string NodeShape(const std::string& kind) {
  if (kind == "street_office" || kind == "street_office_department" || kind == "government") {
    return "box, style=\"rounded,filled\", fillcolor=\"#fff4e0\"";
  }
  if (kind == "neighbourhood_committee") return "house, style=filled, fillcolor=\"#eef6ee\"";
  if (kind == "public_centre" || kind == "elder_care_facility") {
    return "box, style=filled, fillcolor=\"#e8f0fb\"";
  }
  if (kind == "deliberative_body") return "hexagon";
  if (kind == "commercial_provider") return "component";
  return "ellipse";
}

}  // namespace

bool MapFilter::Passes(const v1::Organisation& org) const {
  if (!kinds.empty() && kinds.count(org.kind()) == 0) return false;
  if (offering_organisations.has_value() && offering_organisations->count(org.id()) == 0) {
    return false;
  }
  return lines.empty() || std::any_of(org.lines().begin(), org.lines().end(),
                                      [&](const std::string& l) { return lines.count(l) > 0; });
}

MapBuilder::MapBuilder(Region root, int depth, MapFilter filter)
    : root_(std::move(root)), depth_(depth), filter_(std::move(filter)) {}

void MapBuilder::AddRegions(const std::vector<Region>& subtree) {
  const int max_level = static_cast<int>(root_.level) + depth_;
  for (const Region& r : subtree) {
    if (static_cast<int>(r.level) > max_level) continue;
    region_names_.insert(RegionName(r.code));
    v1::MapNode* node = map_.add_nodes();
    node->set_name(RegionName(r.code));
    node->set_label(r.display_name);
    node->set_kind("region");
    if (r.code != root_.code) node->set_region(RegionName(r.parent_code));
  }
}

void MapBuilder::AddOrganisations(const std::vector<v1::Organisation>& organisations) {
  for (const v1::Organisation& org : organisations) {
    if (region_names_.count(org.region()) == 0) continue;  // deeper than `depth`
    if (!filter_.Passes(org)) continue;
    AddOrganisationNode(org);
  }
}

std::optional<std::string> MapBuilder::OutsideTarget(const v1::Relation& rel) const {
  if (organisation_names_.count(rel.source()) == 0 || organisation_names_.count(rel.target()) > 0 ||
      !absl::StartsWith(rel.target(), "organisations/") ||
      organisation_names_.size() > kMaxOrganisationNodes) {
    return std::nullopt;
  }
  return rel.target().substr(14);
}

void MapBuilder::AddOutside(const v1::Organisation& organisation, const std::string& region_path) {
  if (!filter_.Passes(organisation)) return;
  if (!region_path.empty() && absl::StartsWith(region_path, root_.path)) {
    return;  // inside the region, left out by `depth`
  }
  AddOrganisationNode(organisation);
}

void MapBuilder::AddOrganisationNode(const v1::Organisation& org) {
  organisation_names_.insert(org.name());
  v1::MapNode* node = map_.add_nodes();
  node->set_name(org.name());
  node->set_label(org.display_name());
  node->set_kind(LowerSuffix(v1::OrganisationKind_Name(org.kind()), 18));
  node->set_region(org.region());
  *node->mutable_lines() = org.lines();
  node->set_sector(org.sector());
  used_lines_.insert(org.lines().begin(), org.lines().end());
}

v1::GetMapResponse MapBuilder::Finish(const std::vector<v1::Relation>& relations,
                                      std::vector<v1::Line> lines) {
  for (const v1::MapNode& node : map_.nodes()) {
    if (node.region().empty() || region_names_.count(node.region()) == 0) continue;
    v1::MapEdge* edge = map_.add_edges();
    edge->set_source(node.region());
    edge->set_target(node.name());
    edge->set_type("contains");
  }
  for (const v1::Relation& rel : relations) {
    if (organisation_names_.count(rel.source()) == 0) continue;
    if (organisation_names_.count(rel.target()) == 0 && region_names_.count(rel.target()) == 0) {
      continue;
    }
    v1::MapEdge* edge = map_.add_edges();
    edge->set_source(rel.source());
    edge->set_target(rel.target());
    edge->set_type(LowerSuffix(v1::RelationType_Name(rel.type()), 14));
  }
  std::map<std::string, v1::Line> used;
  for (v1::Line& line : lines) {
    if (used_lines_.count(line.name()) > 0) used[line.name()] = std::move(line);
  }
  map_.set_dot(RenderDot(map_, used));
  return std::move(map_);
}

std::string DotQuote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string RenderDot(const v1::GetMapResponse& graph,
                      const std::map<std::string, v1::Line>& lines) {
  std::map<std::string, std::string> colour_of;
  size_t next = 0;
  for (const auto& [name, line] : lines) {
    colour_of[name] = !line.color().empty() ? line.color() : kPalette[next++ % std::size(kPalette)];
  }
  // Children of each region cluster: sub-regions and organisations.
  std::map<std::string, std::vector<const v1::MapNode*>> children;
  std::vector<const v1::MapNode*> roots;
  std::map<std::string, const v1::MapNode*> by_name;
  for (const v1::MapNode& node : graph.nodes()) by_name[node.name()] = &node;
  for (const v1::MapNode& node : graph.nodes()) {
    if (!node.region().empty() && by_name.count(node.region()) > 0 &&
        node.region() != node.name()) {
      children[node.region()].push_back(&node);
    } else {
      roots.push_back(&node);
    }
  }

  std::string dot =
      "digraph linli_map {\n"
      "  graph [rankdir=LR, fontname=\"WenQuanYi Micro Hei,Noto Sans CJK SC,sans-serif\", "
      "compound=true, labelloc=t];\n"
      "  node [fontname=\"WenQuanYi Micro Hei,Noto Sans CJK SC,sans-serif\", fontsize=11];\n"
      "  edge [fontname=\"WenQuanYi Micro Hei,Noto Sans CJK SC,sans-serif\", fontsize=9];\n";
  int cluster = 0;
  // Regions become clusters holding an anchor node (the region itself) and their children.
  std::function<void(const v1::MapNode&, int)> emit = [&](const v1::MapNode& node, int indent) {
    std::string pad(indent * 2, ' ');
    if (node.kind() == "region") {
      absl::StrAppend(&dot, pad, "subgraph cluster_", cluster++, " {\n", pad,
                      "  label=", DotQuote(node.label()), "; style=rounded; color=\"#999999\";\n",
                      pad, "  ", DotQuote(node.name()), " [label=", DotQuote(node.label()),
                      ", shape=plaintext];\n");
      for (const v1::MapNode* child : children[node.name()]) emit(*child, indent + 1);
      absl::StrAppend(&dot, pad, "}\n");
      return;
    }
    std::string colour = "#444444";
    std::string line_labels;
    for (const std::string& line : node.lines()) {
      auto it = colour_of.find(line);
      if (it != colour_of.end() && line_labels.empty()) colour = it->second;
      auto found = lines.find(line);
      absl::StrAppend(&line_labels, line_labels.empty() ? "" : "·",
                      found != lines.end() ? found->second.display_name() : line);
    }
    std::string label =
        line_labels.empty() ? node.label() : absl::StrCat(node.label(), "\n[", line_labels, "]");
    absl::StrAppend(&dot, pad, DotQuote(node.name()), " [label=", DotQuote(label),
                    ", shape=", NodeShape(node.kind()), ", color=", DotQuote(colour),
                    ", fontcolor=", DotQuote(colour), "];\n");
  };
  for (const v1::MapNode* root : roots) emit(*root, 1);
  for (const v1::MapEdge& edge : graph.edges()) {
    if (edge.type() == "contains") continue;  // drawn as clusters
    absl::StrAppend(&dot, "  ", DotQuote(edge.source()), " -> ", DotQuote(edge.target()), " [",
                    EdgeStyle(edge.type()), "];\n");
  }
  // A legend of the lines (条) and their colours.
  if (!colour_of.empty()) {
    absl::StrAppend(&dot, "  subgraph cluster_legend {\n    label=\"条线\"; style=dashed;\n");
    for (const auto& [name, colour] : colour_of) {
      absl::StrAppend(&dot, "    ", DotQuote("legend:" + name),
                      " [label=", DotQuote(lines.at(name).display_name()),
                      ", shape=box, color=", DotQuote(colour), ", fontcolor=", DotQuote(colour),
                      "];\n");
    }
    absl::StrAppend(&dot, "  }\n");
  }
  absl::StrAppend(&dot, "}\n");
  return dot;
}

}  // namespace linli::registry
