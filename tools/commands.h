// The `linli` commands: demo seeding, the map, provider search, organisations, elders, the audit
// log, commitments and visits. Each returns the process exit code.
#ifndef LINLI_TOOLS_COMMANDS_H_
#define LINLI_TOOLS_COMMANDS_H_

#include <string>

#include "absl/time/time.h"

namespace linli::cli {

struct Endpoints {
  std::string gateway;
  std::string registry;
  std::string scheduling;
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
int ListCommitments(const Endpoints& endpoints, const std::string& elder);
int ListVisits(const Endpoints& endpoints, const std::string& elder, const std::string& from,
               int days);
// Plans and books a period day by day through scheduling's Plan, showing progress per day;
// with `problem_dir`, writes each day's planning problem there (for `linli-plan --problem`).
int Plan(const Endpoints& endpoints, const std::string& region, const std::string& from, int days,
         double time_limit_seconds, bool dry_run, const std::string& problem_dir);

// Feedback commands call linli-feedback directly at `feedback_address`.
// The evaluation report of a provider: HTML (or JSON when `out` ends in .json) to `out`.
int Report(const std::string& feedback_address, absl::Duration timeout, const std::string& org,
           const std::string& from, const std::string& to, const std::string& out);
// A committee's safety-net alerts.
int Alerts(const std::string& feedback_address, absl::Duration timeout,
           const std::string& committee);
// Perception index (and, for an elder or commitment, the promise ledger) of a subject.
int PerceptionIndex(const std::string& feedback_address, absl::Duration timeout,
                    const std::string& subject, int window_days);

}  // namespace linli::cli

#endif  // LINLI_TOOLS_COMMANDS_H_
