// Writes the seed corpus of service_request_fuzz (tests/fuzz/corpus/service_request/): one file
// per seed, the first byte the method's index in linli::fuzz::BackendMethods() (the declaration
// order of the registry, scheduling and feedback services), the rest the binary request. The
// requests are written below in protobuf text format against the method's input type, so the
// seeds stay right when methods are added: rerun this after a proto change moves indices.
//
//   build/bin/make_service_corpus tests/fuzz/corpus/service_request
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "tests/fuzz/service_bodies.h"

namespace {

struct Seed {
  const char* file;
  const char* method;  // full name
  const char* text;    // the request in text format
};

const Seed kSeeds[] = {
    {"registry_get_region", "linli.registry.v1.RegistryService.GetRegion",
     R"(name: "regions/310101020")"},
    {"registry_list_organisations", "linli.registry.v1.RegistryService.ListOrganisations",
     R"(region: "regions/310101020" page_size: 3)"},
    {"registry_create_elder", "linli.registry.v1.RegistryService.CreateElder",
     R"(elder { display_name: "王阿婆" region: "regions/310101020002" address: "桥二小区1号"
        location { latitude: 31.2 longitude: 121.5 } id_number: "310101195001011234"
        phone: "13812345678" living_situation: LIVING_SITUATION_ALONE care_grade: 4 }
        request_id: "seed-elder")"},
    {"registry_get_map", "linli.registry.v1.RegistryService.GetMap",
     R"(region: "regions/310101020")"},
    {"scheduling_create_commitment", "linli.scheduling.v1.SchedulingService.CreateCommitment",
     R"(commitment { elder: "elders/e1" service_type: "serviceTypes/visiting"
        owner_organisation: "organisations/lelin"
        recurrence { rrule: "FREQ=WEEKLY;BYDAY=TU" dtstart: "2026-12-01T09:00:00" }
        window_minutes: 120 duration_minutes: 60 workers_required: 1 valid_from: "2026-12-01" }
        request_id: "seed-commitment")"},
    {"scheduling_list_visits", "linli.scheduling.v1.SchedulingService.ListVisits",
     R"(elder: "elders/e1" from_date: "2026-12-01" to_date: "2026-12-08" page_size: 10)"},
    {"scheduling_materialize", "linli.scheduling.v1.SchedulingService.MaterializeVisits",
     R"(from_date: "2026-12-01" days: 7)"},
    {"scheduling_check_in", "linli.scheduling.v1.SchedulingService.CheckInVisit",
     R"(name: "visits/v1" worker: "workers/w1" location { latitude: 31.2 longitude: 121.5 })"},
    {"feedback_submit", "linli.feedback.v1.FeedbackService.SubmitFeedback",
     R"(feedback { visit: "visits/v1" author: "elders/e1" did_as_promised: ANSWER_YES
        felt_cared_for: ANSWER_YES words: "很好" } request_id: "seed-feedback")"},
    {"feedback_create_work_order", "linli.feedback.v1.FeedbackService.CreateWorkOrder",
     R"(work_order { elder: "elders/e1" description: "没人来" } request_id: "seed-wo")"},
    {"feedback_promise_ledger", "linli.feedback.v1.FeedbackService.GetPromiseLedger",
     R"(subject: "elders/e1" window_days: 28)"},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const auto& methods = linli::fuzz::BackendMethods();
  for (const Seed& seed : kSeeds) {
    const auto found = std::find(methods.begin(), methods.end(), seed.method);
    if (found == methods.end()) {
      std::fprintf(stderr, "%s: no method %s\n", seed.file, seed.method);
      return 1;
    }
    const auto* method =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(seed.method);
    std::unique_ptr<google::protobuf::Message> request(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(method->input_type())
            ->New());
    if (!google::protobuf::TextFormat::ParseFromString(seed.text, request.get())) {
      std::fprintf(stderr, "%s: not a %s\n", seed.file, method->input_type()->full_name().c_str());
      return 1;
    }
    std::string bytes(1, static_cast<char>(found - methods.begin()));
    bytes += request->SerializeAsString();
    std::ofstream(std::string(argv[1]) + "/" + seed.file, std::ios::binary) << bytes;
  }
  std::printf("wrote %zu seeds for %zu methods\n", std::size(kSeeds), methods.size());
  return 0;
}
