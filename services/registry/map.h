// The 条块 map as a graph: regions (块) contain regions and organisations; organisations belong to
// lines (条) and are linked by typed relations. Rendering to Graphviz DOT: regions are clusters,
// organisations are coloured by their first line, edges are styled by type. Pure C++.
#ifndef LINLI_SERVICES_REGISTRY_MAP_H_
#define LINLI_SERVICES_REGISTRY_MAP_H_

#include <map>
#include <string>

#include "linli/registry/v1/registry.pb.h"

namespace linli::registry {

// DOT for `graph` (nodes and edges as returned by GetMap). `lines` gives labels and colours of the
// lines used ("lines/x" -> Line); missing colours get a fixed palette entry.
std::string RenderDot(const v1::GetMapResponse& graph,
                      const std::map<std::string, v1::Line>& lines);

// Escapes text for a double-quoted DOT string.
std::string DotQuote(const std::string& text);

}  // namespace linli::registry

#endif  // LINLI_SERVICES_REGISTRY_MAP_H_
