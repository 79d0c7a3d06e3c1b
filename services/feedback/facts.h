// What feedback keeps of records other services own: a commitment (from scheduling) and an elder
// (from the registry). Plain data, shared by the domain rules, the use cases and the store.
#ifndef LINLI_SERVICES_FEEDBACK_FACTS_H_
#define LINLI_SERVICES_FEEDBACK_FACTS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace linli::feedback {

// What feedback keeps of a commitment (from scheduling's GetCommitment).
struct CommitmentFacts {
  std::string id;                // without "commitments/"
  std::string elder;             // "elders/…"
  std::string organisation;      // "organisations/…"
  std::string preferred_worker;  // "workers/…" or ""
  std::string service_type;      // "serviceTypes/…"
};

// What feedback keeps of an elder (from the registry).
struct ElderFacts {
  std::string elder;                // "elders/…"
  std::string committee;            // "regions/…" or ""
  std::string street;               // "regions/…" or ""
  bool solitary = false;            // 独居 or 孤寡
  std::vector<int> proxy_contacts;  // indices of contacts that may act as proxy
  int64_t first_seen_us = 0;
  int64_t last_contact_us = 0;  // check-in time of the latest completed visit, 0 = never
};

}  // namespace linli::feedback

#endif  // LINLI_SERVICES_FEEDBACK_FACTS_H_
