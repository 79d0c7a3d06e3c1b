// What feedback's use cases ask the registry about organisations. The use cases depend on this
// interface only; RegistryDirectory (registry_directory.h) answers it over gRPC, and a test can
// answer it from a table.
#ifndef LINLI_SERVICES_FEEDBACK_DIRECTORY_H_
#define LINLI_SERVICES_FEEDBACK_DIRECTORY_H_

#include <string>

#include "absl/status/statusor.h"

namespace linli::feedback {

class Directory {
 public:
  virtual ~Directory() = default;
  // The street service office a work order about `street` escalates to: the street office
  // department on the civil-affairs line (社区服务办公室), else the street office; "" when there
  // is none or the registry cannot be asked (escalation goes on without a target).
  virtual std::string EscalationTarget(const std::string& street) = 0;
  // The office guiding `organisation` along its line (业务指导), else its administrative parent;
  // "" when the organisation is unknown. UNAVAILABLE (BACKEND_UNAVAILABLE) when the registry
  // cannot be asked.
  virtual absl::StatusOr<std::string> Supervisor(const std::string& organisation) = 0;
  // The organisation's display name; "" when it cannot be had (a report is made without it).
  virtual std::string DisplayName(const std::string& organisation) = 0;
  // The number to text or call `elder` by: their own phone, else their first proxy contact's
  // with a phone; "" when none is on record. Read in the registry's full view, so the read is in
  // the elder's audit log under `actor` with `reason`. NOT_FOUND for an unknown elder; UNAVAILABLE
  // (BACKEND_UNAVAILABLE) when the registry cannot be asked.
  virtual absl::StatusOr<std::string> PhoneToReach(const std::string& elder,
                                                   const std::string& actor,
                                                   const std::string& reason) = 0;
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_DIRECTORY_H_
