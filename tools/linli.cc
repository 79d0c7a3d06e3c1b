// linli: the operator and developer command line.
//
//   linli health                      health and reflection of the four services
//   linli seed-demo                   loads the demo street through the gateway (idempotent)
//   linli regions list [--parent regions/310101020]
//   linli regions get regions/310101
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/flags.h"
#include "common/grpc_probe.h"
#include "google/protobuf/util/json_util.h"
#include "linli/gateway/v1/console.grpc.pb.h"

ABSL_FLAG(std::string, gateway, "127.0.0.1:50050", "Gateway gRPC address.");
ABSL_FLAG(std::string, registry_address, "127.0.0.1:50051", "Registry address (for `health`).");
ABSL_FLAG(std::string, scheduling_address, "127.0.0.1:50052", "Scheduling address (for `health`).");
ABSL_FLAG(std::string, feedback_address, "127.0.0.1:50053", "Feedback address (for `health`).");
ABSL_FLAG(std::string, parent, "", "`regions list`: only children of this region.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "Deadline of each call.");

namespace {

using linli::gateway::v1::ConsoleService;
using linli::registry::v1::RegionLevel;

constexpr char kUsage[] =
    "linli <command>\n"
    "  health                 check health and reflection of the four services\n"
    "  seed-demo              load the demo street through the gateway (idempotent)\n"
    "  regions list           list regions (--parent regions/CODE for one level)\n"
    "  regions get NAME       show one region, e.g. regions/310101\n";

struct DemoRegion {
  const char* code;
  const char* display_name;
  RegionLevel level;
  const char* parent;
};

// The demo street: a real hierarchy with illustrative codes and committee names.
const DemoRegion kDemoStreet[] = {
    {"310000", "上海市", linli::registry::v1::REGION_LEVEL_MUNICIPALITY, ""},
    {"310101", "黄浦区", linli::registry::v1::REGION_LEVEL_DISTRICT, "regions/310000"},
    {"310101020", "五里桥街道", linli::registry::v1::REGION_LEVEL_STREET, "regions/310101"},
    {"310101020001", "桥一居民区", linli::registry::v1::REGION_LEVEL_COMMITTEE,
     "regions/310101020"},
    {"310101020002", "桥二居民区", linli::registry::v1::REGION_LEVEL_COMMITTEE,
     "regions/310101020"},
    {"310101020003", "桥三居民区", linli::registry::v1::REGION_LEVEL_COMMITTEE,
     "regions/310101020"},
    {"310101020004", "铁三居民区", linli::registry::v1::REGION_LEVEL_COMMITTEE,
     "regions/310101020"},
    {"310101020005", "瞿溪居民区", linli::registry::v1::REGION_LEVEL_COMMITTEE,
     "regions/310101020"},
    {"310101020006", "紫霞居民区", linli::registry::v1::REGION_LEVEL_COMMITTEE,
     "regions/310101020"},
};

std::unique_ptr<grpc::ClientContext> Context() {
  return linli::NewClientContext(nullptr, absl::GetFlag(FLAGS_timeout));
}

int Fail(const grpc::Status& status) {
  std::cerr << "error: " << linli::FromGrpcStatus(status) << "\n";
  return 1;
}

std::string Json(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

int Health() {
  struct Target {
    const char* label;
    std::string address;
    const char* service;
  };
  const Target targets[] = {
      {"gateway", absl::GetFlag(FLAGS_gateway), "linli.gateway.v1.ConsoleService"},
      {"registry", absl::GetFlag(FLAGS_registry_address), "linli.registry.v1.RegistryService"},
      {"scheduling", absl::GetFlag(FLAGS_scheduling_address),
       "linli.scheduling.v1.SchedulingService"},
      {"feedback", absl::GetFlag(FLAGS_feedback_address), "linli.feedback.v1.FeedbackService"},
  };
  int failures = 0;
  for (const Target& t : targets) {
    auto channel = linli::NewChannel(t.address, {});
    auto health = linli::CheckHealth(*channel, t.service, absl::Seconds(3));
    auto services = linli::ListServices(*channel, absl::Seconds(3));
    bool serving = health.ok() && *health == linli::HealthStatus::kServing;
    if (!serving) ++failures;
    std::printf("%-10s %-16s %-12s %s\n", t.label, t.address.c_str(),
                serving ? "SERVING" : (health.ok() ? "NOT_SERVING" : "UNREACHABLE"),
                services.ok() ? absl::StrJoin(*services, " ").c_str() : "");
  }
  return failures == 0 ? 0 : 1;
}

int SeedDemo() {
  auto stub = ConsoleService::NewStub(
      linli::NewChannel(absl::GetFlag(FLAGS_gateway), {"linli.gateway.v1.ConsoleService"}));
  const int total = static_cast<int>(std::size(kDemoStreet));
  int done = 0;
  for (const DemoRegion& r : kDemoStreet) {
    linli::gateway::v1::CreateRegionRequest request;
    request.mutable_region()->set_code(r.code);
    request.mutable_region()->set_display_name(r.display_name);
    request.mutable_region()->set_level(r.level);
    request.mutable_region()->set_parent(r.parent);
    // A stable request id makes re-seeding an existing database a no-op.
    request.set_request_id(absl::StrCat("demo-region-", r.code));
    linli::gateway::v1::CreateRegionResponse response;
    grpc::Status status = stub->CreateRegion(Context().get(), request, &response);
    if (!status.ok() && status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
      return Fail(status);
    }
    std::fprintf(stderr, "\rseeding demo street: regions %d/%d", ++done, total);
  }
  std::fprintf(stderr, "\n");
  return 0;
}

int ListRegions() {
  auto stub = ConsoleService::NewStub(linli::NewChannel(absl::GetFlag(FLAGS_gateway), {}));
  linli::gateway::v1::ListRegionsRequest request;
  request.set_parent(absl::GetFlag(FLAGS_parent));
  do {
    linli::gateway::v1::ListRegionsResponse response;
    grpc::Status status = stub->ListRegions(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    for (const auto& region : response.regions()) {
      std::printf("%-22s %-14s %s\n", region.name().c_str(),
                  linli::registry::v1::RegionLevel_Name(region.level()).substr(13).c_str(),
                  region.display_name().c_str());
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return 0;
}

int GetRegion(const std::string& name) {
  auto stub = ConsoleService::NewStub(linli::NewChannel(absl::GetFlag(FLAGS_gateway), {}));
  linli::gateway::v1::GetRegionRequest request;
  request.set_name(name);
  linli::gateway::v1::GetRegionResponse response;
  grpc::Status status = stub->GetRegion(Context().get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s\n", Json(response.region()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = linli::ParseFlags(argc, argv, kUsage);
  std::vector<std::string> words(args.begin() + 1, args.end());
  if (words == std::vector<std::string>{"health"}) return Health();
  if (words == std::vector<std::string>{"seed-demo"}) return SeedDemo();
  if (words == std::vector<std::string>{"regions", "list"}) return ListRegions();
  if (words.size() == 3 && words[0] == "regions" && words[1] == "get") return GetRegion(words[2]);
  std::fputs(kUsage, stderr);
  return 2;
}
