// `linli` commands that work on the registry's data: demo seeding, the map, provider search,
// organisations, elders and the audit log. Each returns the process exit code.
#ifndef LINLI_TOOLS_REGISTRY_COMMANDS_H_
#define LINLI_TOOLS_REGISTRY_COMMANDS_H_

#include <string>

#include "absl/time/time.h"

namespace linli::cli {

struct Endpoints {
  std::string gateway;
  std::string registry;
  absl::Duration timeout;
};

int Keygen();
int SeedDemo(const Endpoints& endpoints, int elders, int parallelism);
int Map(const Endpoints& endpoints, const std::string& region, const std::string& format,
        const std::string& out);
int Providers(const Endpoints& endpoints, const std::string& elder, const std::string& service);
int ListOrganisations(const Endpoints& endpoints, const std::string& region);
int ListElders(const Endpoints& endpoints, const std::string& region);
int GetElder(const Endpoints& endpoints, const std::string& name, const std::string& reason);
int Audit(const Endpoints& endpoints, const std::string& elder);

}  // namespace linli::cli

#endif  // LINLI_TOOLS_REGISTRY_COMMANDS_H_
