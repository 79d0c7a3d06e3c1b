#include "services/registry/map.h"

#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"

namespace linli::registry {
namespace {

// Colours for lines without one of their own; distinguishable and readable on white.
constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};

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
