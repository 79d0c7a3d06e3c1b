// Registry throughput against a bare gRPC server, driven the same way in the same run.
//
//   build/bin/registry_bench [--elders 25000] [--seconds 3] [--threads 4]
//
// Loads the demo street into a fresh SQLite registry (in process, real gRPC on loopback), then
// measures with the same client code (generic unary calls from N threads on one channel):
//   echo     grpc.health.v1.Health/Check on a server that has nothing else to do
//   get      RegistryService/GetElder (masked) by id, ids drawn from the demo elders
//   list     RegistryService/ListOrganisations, page of 50 of the demo street
//   map      RegistryService/GetMap of the demo street, all nodes (latency, single caller)
// The elders are loaded by importing them as a CSV roster (common/roster + ImportElders), timed,
// and imported a second time, which must register nobody.
// and prints calls/s, p50/p99 latency and the ratio to echo.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/client.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/pii/field_cipher.h"
#include "common/roster/csv.h"
#include "common/roster/elders.h"
#include "common/server.h"
#include "grpcpp/generic/generic_stub.h"
#include "services/registry/registry_service.h"
#include "services/registry/registry_store.h"
#include "tests/support/test_env.h"
#include "tools/demo_street.h"

ABSL_FLAG(int, elders, 25000, "Demo elders to load.");
ABSL_FLAG(int, seconds, 3, "Seconds per workload.");
ABSL_FLAG(int, threads, 4, "Concurrent callers.");

namespace linli {
namespace {

struct Result {
  double calls_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t errors = 0;
};

grpc::ByteBuffer Bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

// Calls `method` with request bytes from `next_request` as fast as `threads` callers can.
Result Drive(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
             const std::function<std::string(int)>& next_request, int threads,
             absl::Duration duration) {
  grpc::GenericStub stub(channel);
  std::atomic<int64_t> errors{0};
  std::vector<std::vector<double>> latencies(threads);
  const absl::Time end = absl::Now() + duration;
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; absl::Now() < end; ++i) {
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        grpc::ByteBuffer request = Bytes(next_request(t * 1000003 + i));
        grpc::ByteBuffer response;
        std::promise<grpc::Status> done;
        const absl::Time start = absl::Now();
        stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                       [&done](grpc::Status s) { done.set_value(std::move(s)); });
        if (!done.get_future().get().ok()) ++errors;
        latencies[t].push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      }
    });
  }
  for (auto& c : callers) c.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.calls_per_second = all.size() / absl::ToDoubleSeconds(duration);
  r.p50_ms = all.empty() ? 0 : all[all.size() / 2];
  r.p99_ms = all.empty() ? 0 : all[std::min(all.size() - 1, all.size() * 99 / 100)];
  r.errors = errors;
  return r;
}

int Main() {
  SetLogService("bench");
  const std::string url = *testing::FreshDatabaseUrl("sqlite", "registry-bench");
  auto db = storage::OpenDatabase(url);
  if (!db.ok() ||
      !storage::ApplyMigrations(**db, "registry", registry::RegistryMigrations()).ok()) {
    std::fprintf(stderr, "cannot open %s\n", url.c_str());
    return 1;
  }
  auto cipher = *pii::FieldCipher::FromSpec(pii::FieldCipher::GenerateKeySpec("k1"));
  registry::RegistryServiceImpl service(**db, Clock::Real(), cipher);
  ServerOptions options;
  options.service_name = "registry";
  options.listen_address = "127.0.0.1:0";
  auto server = GrpcServer::Start(options, {&service});
  ServerOptions bare_options = options;
  bare_options.service_name = "echo";
  auto bare = GrpcServer::Start(bare_options, {});
  if (!server.ok() || !bare.ok()) return 1;
  auto channel = NewChannel(absl::StrCat("127.0.0.1:", (*server)->port()), {});
  auto bare_channel = NewChannel(absl::StrCat("127.0.0.1:", (*bare)->port()), {});
  auto stub = registry::v1::RegistryService::NewStub(channel);

  // Load the demo street through the API.
  const absl::Time load_start = absl::Now();
  demo::DemoStreet street = demo::GenerateDemoStreet(absl::GetFlag(FLAGS_elders));
  auto call = [&](auto method, const auto& request, auto* response) {
    grpc::ClientContext context;
    return (stub.get()->*method)(&context, request, response);
  };
  for (const auto& r : street.regions) {
    registry::v1::CreateRegionResponse out;
    call(&registry::v1::RegistryService::Stub::CreateRegion, r, &out);
  }
  for (const auto& r : street.lines) {
    registry::v1::CreateLineResponse out;
    call(&registry::v1::RegistryService::Stub::CreateLine, r, &out);
  }
  for (const auto& r : street.service_types) {
    registry::v1::CreateServiceTypeResponse out;
    call(&registry::v1::RegistryService::Stub::CreateServiceType, r, &out);
  }
  for (const auto& r : street.organisations) {
    registry::v1::CreateOrganisationResponse out;
    call(&registry::v1::RegistryService::Stub::CreateOrganisation, r, &out);
  }
  for (const auto& r : street.relations) {
    registry::v1::CreateRelationResponse out;
    call(&registry::v1::RegistryService::Stub::CreateRelation, r, &out);
  }
  std::fprintf(stderr, "map loaded in %.1f s\n", absl::ToDoubleSeconds(absl::Now() - load_start));

  // The elders as a committee's spreadsheet would hold them, imported the way `linli import`
  // and the console do: the CSV read (common/roster) and sent in chunks of 1000 rows to
  // ImportElders. Twice: the second import finds every elder registered and writes nothing.
  std::string csv = roster::HeaderRow(roster::EldersRoster()) + "\r\n";
  for (const auto& request : street.elders) {
    absl::StrAppend(&csv, roster::CsvRow(roster::EldersRoster(), request.elder()), "\r\n");
  }
  struct Imported {
    double seconds = 0;
    int created = 0, existing = 0, problems = 0;
  };
  auto import = [&]() -> Imported {
    const absl::Time start = absl::Now();
    Imported result;
    roster::Encoding encoding;
    auto text = roster::DecodeText(csv, &encoding);
    auto records = roster::ParseCsv(*text);
    auto read = roster::Read(roster::EldersRoster(), *records, 0);
    result.problems = static_cast<int>(read->problems.size());
    for (size_t first = 0; first < read->rows.size(); first += 1000) {
      registry::v1::ImportEldersRequest request;
      for (size_t i = first; i < std::min(read->rows.size(), first + 1000); ++i) {
        registry::v1::ImportedElder* row = request.add_rows();
        row->set_line(read->rows[i].line);
        row->mutable_elder()->CopyFrom(*read->rows[i].record);
      }
      registry::v1::ImportEldersResponse response;
      grpc::Status status =
          call(&registry::v1::RegistryService::Stub::ImportElders, request, &response);
      if (!status.ok()) {
        std::fprintf(stderr, "import failed: %s\n", status.error_message().c_str());
        result.problems = -1;
        return result;
      }
      result.created += response.created();
      result.existing += response.existing();
      result.problems += response.problems_size();
      std::fprintf(stderr, "\rimporting elders: %zu/%zu", first + request.rows_size(),
                   read->rows.size());
    }
    std::fprintf(stderr, "\n");
    result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return result;
  };
  const Imported first_import = import();
  const Imported second_import = import();
  if (first_import.problems != 0 || second_import.problems != 0) return 1;

  std::vector<std::string> elder_names;
  registry::v1::ListEldersRequest list_elders;
  list_elders.set_region(demo::kDemoStreetRegion);
  list_elders.set_page_size(1000);
  do {
    registry::v1::ListEldersResponse page;
    if (!call(&registry::v1::RegistryService::Stub::ListElders, list_elders, &page).ok()) return 1;
    for (const auto& e : page.elders()) elder_names.push_back(e.name());
    list_elders.set_page_token(page.next_page_token());
  } while (!list_elders.page_token().empty());
  if (elder_names.empty()) return 1;

  const int threads = absl::GetFlag(FLAGS_threads);
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  Result echo = Drive(
      bare_channel, "/grpc.health.v1.Health/Check", [](int) { return std::string(); }, threads,
      duration);
  Result get = Drive(
      channel, "/linli.registry.v1.RegistryService/GetElder",
      [&](int i) {
        registry::v1::GetElderRequest r;
        r.set_name(elder_names[static_cast<size_t>(i) % elder_names.size()]);
        return r.SerializeAsString();
      },
      threads, duration);
  Result list = Drive(
      channel, "/linli.registry.v1.RegistryService/ListOrganisations",
      [](int) {
        registry::v1::ListOrganisationsRequest r;
        r.set_region(demo::kDemoStreetRegion);
        r.set_page_size(50);
        return r.SerializeAsString();
      },
      threads, duration);
  Result map = Drive(
      channel, "/linli.registry.v1.RegistryService/GetMap",
      [](int) {
        registry::v1::GetMapRequest r;
        r.set_region(demo::kDemoStreetRegion);
        return r.SerializeAsString();
      },
      1, duration);
  std::printf("\nregistry benchmark: SQLite, %zu elders, %d callers, %d s per workload\n",
              elder_names.size(), threads, absl::GetFlag(FLAGS_seconds));
  std::printf("%-28s %12s %9s %9s %7s %10s\n", "workload", "calls/s", "p50 ms", "p99 ms", "errors",
              "vs echo");
  auto row = [&](const char* name, const Result& r, bool ratio) {
    std::printf(
        "%-28s %12.0f %9.3f %9.3f %7lld %10s\n", name, r.calls_per_second, r.p50_ms, r.p99_ms,
        static_cast<long long>(r.errors),
        ratio ? absl::StrFormat("%.2fx", r.calls_per_second / echo.calls_per_second).c_str() : "");
  };
  row("echo (bare gRPC health)", echo, false);
  row("GetElder by id", get, true);
  row("ListOrganisations page 50", list, true);
  row("GetMap whole street (1 caller)", map, false);
  std::printf("%-28s %9.1f s  %d created, %d existing (%zu bytes of CSV)\n",
              "import elders from CSV", first_import.seconds, first_import.created,
              first_import.existing, csv.size());
  std::printf("%-28s %9.1f s  %d created, %d existing\n", "the same CSV again",
              second_import.seconds, second_import.created, second_import.existing);
  std::printf("targets: import of the elders < 60 s: %s; again changes nothing: %s\n",
              first_import.seconds < 60 ? "met" : "NOT met",
              second_import.created == 0 ? "met" : "NOT met");
  std::printf("targets: GetElder >= 0.50x echo: %s; GetMap p50 <= 50 ms: %s\n",
              get.calls_per_second >= 0.5 * echo.calls_per_second ? "met" : "NOT met",
              map.p50_ms <= 50 ? "met" : "NOT met");
  // Machine-readable lines for the table at the end of `make bench` (scripts/bench.sh):
  // SUMMARY <name> <value> <target> <met|missed|info>.
  const double get_ratio = get.calls_per_second / echo.calls_per_second;
  std::printf("SUMMARY registry.get_elder_vs_echo %.2fx >=0.50x %s\n", get_ratio,
              get_ratio >= 0.5 ? "met" : "missed");
  std::printf("SUMMARY registry.get_map_p50 %.2fms <=50ms %s\n", map.p50_ms,
              map.p50_ms <= 50 ? "met" : "missed");
  std::printf(
      "SUMMARY registry.import_elders_csv %.1fs <60s %s\n", first_import.seconds,
      first_import.seconds < 60 && first_import.created == static_cast<int>(street.elders.size())
          ? "met"
          : "missed");
  std::printf("SUMMARY registry.import_again_created %d =0 %s\n", second_import.created,
              second_import.created == 0 ? "met" : "missed");
  std::printf("SUMMARY registry.get_elder_calls_per_s %.0f - info\n", get.calls_per_second);
  std::printf("SUMMARY registry.list_organisations_vs_echo %.2fx - info\n",
              list.calls_per_second / echo.calls_per_second);
  return 0;
}

}  // namespace
}  // namespace linli

int main(int argc, char** argv) {
  linli::ParseFlags(argc, argv, "registry_bench: registry throughput vs a bare gRPC server");
  return linli::Main();
}
