// The gateway's runtime against gRPC's callback API, by measurement (issue 20).
//
//   build/bin/runtime_bench [--rounds 3] [--seconds 3] [--threads 4] [--payload_bytes 100]
//                           [--two_threads=true]
//
// Three pass-through proxies in front of the same trivial echo backend, each proxy and the
// backend a child process (this binary again, `--serve=…`), all on plaintext loopback channels so
// that only the runtime differs. Every proxy accepts any method through gRPC's generic service and
// forwards the raw bytes of the request to the backend with a generic stub on one plain channel,
// propagating the deadline, and answers with the backend's bytes and status:
//   callback API  CallbackGenericService: a ServerGenericBidiReactor per call, whose backend call
//                 is a ClientUnaryReactor started with GenericStub::PrepareUnaryCall; gRPC runs the
//                 reactions on its own threads (it offers no setting for how many).
//   fibers        the gateway's runtime without its gate: linli::gateway::EventLoops serving a
//                 MethodTable::AddRaw handler that forwards with PrepareUnaryCall on AsyncWait's
//                 queue, its fiber suspended until the backend has answered; one loop, and two.
//   floor         the completion-queue state machine without fibers: gateway_bench's bare proxy
//                 (bench/bare_proxy.h), one thread, one queue for both sides, a hand-written
//                 state per call; what the fibers cost is the difference.
// Every process runs as the platform's servers do, with Abseil's mutex deadlock detection off.
// The backend is the same one-thread completion-queue echo for all. This process is the client:
// N threads, each making one call at a time through one channel per proxy (a PrepareUnaryCall
// waited for on the thread's own queue, which is what a blocking stub does); the proxies take
// turns, round after round, after a warm-up each, so that load from elsewhere on the machine
// falls on all of them alike.
//
// The figure is the CPU time (user + system, from /proc) the proxy process used per forwarded
// call: independent of how the 2 shared cores were split between client, proxy and backend,
// unlike calls/s. A proxy's figure is its median round; a ratio is the median of the per-round
// ratios (each round's proxies ran side by side in time).
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bare_proxy.h"
#include "bench/bench_stats.h"
#include "common/clock.h"
#include "common/flags.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/client_callback.h"
#include "grpcpp/support/server_callback.h"
#include "services/gateway/event_loop.h"
#include "tests/support/test_env.h"

ABSL_FLAG(int, rounds, 3, "Rounds; in each, every proxy is measured once.");
ABSL_FLAG(int, seconds, 3, "Seconds of one proxy's measurement in one round.");
ABSL_FLAG(int, threads, 4, "Client threads, each making one blocking call at a time.");
ABSL_FLAG(int, payload_bytes, 100, "Bytes of each request (echoed back by the backend).");
ABSL_FLAG(bool, two_threads, true, "Also measure the fiber proxy with two event loops.");
ABSL_FLAG(std::string, serve, "",
          "Internal: run as a child: echo (the backend), callback, fibers or floor (a proxy).");
ABSL_FLAG(std::string, listen, "", "Internal: the child's address.");
ABSL_FLAG(std::string, backend, "", "Internal: a proxy's backend address.");
ABSL_FLAG(int, loops, 1, "Internal: the fiber proxy's event loops.");

namespace linli {
namespace {

using bench::CpuSeconds;
using bench::Median;

// The one method the client calls; the proxies forward whatever method they receive.
const char kMethod[] = "/linli.bench.Echo/Echo";

std::shared_ptr<grpc::Channel> PlainChannel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

// A server listening on `address` (plaintext), with whatever `configure` registers; exits when
// the address cannot be bound.
std::unique_ptr<grpc::Server> StartServer(
    const std::string& address, const std::function<void(grpc::ServerBuilder&)>& configure) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  configure(builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::fprintf(stderr, "cannot listen on %s\n", address.c_str());
    std::exit(1);
  }
  return server;
}

// ---- The backend: every call answered with its request, one thread, one completion queue.

struct EchoCall {
  enum class Step { kAccepted, kRead, kSent };
  Step step = Step::kAccepted;
  grpc::GenericServerContext context;
  grpc::GenericServerAsyncReaderWriter stream{&context};
  grpc::ByteBuffer request;
};

int RunEcho(const std::string& listen) {
  grpc::AsyncGenericService service;
  std::unique_ptr<grpc::ServerCompletionQueue> queue;
  std::unique_ptr<grpc::Server> server = StartServer(listen, [&](grpc::ServerBuilder& builder) {
    builder.RegisterAsyncGenericService(&service);
    queue = builder.AddCompletionQueue();
  });
  auto accept = [&] {
    auto* call = new EchoCall;
    service.RequestCall(&call->context, &call->stream, queue.get(), queue.get(), call);
  };
  accept();
  void* tag = nullptr;
  bool ok = false;
  while (queue->Next(&tag, &ok)) {
    auto* call = static_cast<EchoCall*>(tag);
    switch (call->step) {
      case EchoCall::Step::kAccepted:
        if (!ok) {
          delete call;
          break;
        }
        accept();
        call->step = EchoCall::Step::kRead;
        call->stream.Read(&call->request, call);
        break;
      case EchoCall::Step::kRead:
        call->step = EchoCall::Step::kSent;
        if (ok) {
          call->stream.WriteAndFinish(call->request, grpc::WriteOptions(), grpc::Status::OK, call);
        } else {
          call->stream.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"), call);
        }
        break;
      case EchoCall::Step::kSent:
        delete call;
        break;
    }
  }
  return 0;
}

// ---- (a) The callback API: a server reactor per call, its backend call a client reactor.

class ForwardReactor final : public grpc::ServerGenericBidiReactor {
 public:
  ForwardReactor(grpc::GenericCallbackServerContext* context, grpc::GenericStub* backend)
      : context_(context), backend_(backend), backend_call_(*this) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
      return;
    }
    client_context_.set_deadline(context_->deadline());
    backend_->PrepareUnaryCall(&client_context_, context_->method(), grpc::StubOptions(), &request_,
                               &response_, &backend_call_);
    backend_call_.StartCall();
  }
  void OnDone() override { delete this; }

 private:
  // The backend call's reactor; its end finishes the incoming call.
  class BackendCall final : public grpc::ClientUnaryReactor {
   public:
    explicit BackendCall(ForwardReactor& call) : call_(call) {}
    void OnDone(const grpc::Status& status) override {
      // The last statement: the incoming call may end (and delete the reactor) at once.
      if (status.ok()) {
        call_.StartWriteAndFinish(&call_.response_, grpc::WriteOptions(), status);
      } else {
        call_.Finish(status);
      }
    }

   private:
    ForwardReactor& call_;
  };

  grpc::GenericCallbackServerContext* context_;
  grpc::GenericStub* backend_;
  grpc::ClientContext client_context_;
  grpc::ByteBuffer request_, response_;
  BackendCall backend_call_;
};

class ForwardService final : public grpc::CallbackGenericService {
 public:
  explicit ForwardService(const std::string& backend) : backend_(PlainChannel(backend)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    return new ForwardReactor(context, &backend_);
  }

 private:
  grpc::GenericStub backend_;
};

int RunCallbackProxy(const std::string& listen, const std::string& backend) {
  ForwardService service(backend);
  std::unique_ptr<grpc::Server> server = StartServer(listen, [&](grpc::ServerBuilder& builder) {
    builder.RegisterCallbackGenericService(&service);
  });
  server->Wait();
  return 0;
}

// ---- (b) Fibers: the gateway's event loops, one raw method forwarded as the gateway forwards.

int RunFiberProxy(const std::string& listen, const std::string& backend, int loops) {
  grpc::GenericStub stub(PlainChannel(backend));
  gateway::MethodTable table;
  table.AddRaw(kMethod, [&stub](grpc::ServerContext* context, grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) {
    grpc::ClientContext client_context;
    client_context.set_deadline(context->deadline());
    grpc::Status status;
    gateway::AsyncWait wait;
    auto call = stub.PrepareUnaryCall(&client_context, kMethod, *request, wait.queue());
    call->StartCall();
    call->Finish(response, &status, wait.Tag());
    wait.Wait();  // the fiber is suspended; the loop serves other calls
    return status;
  });
  std::unique_ptr<gateway::EventLoops> event_loops =
      gateway::EventLoops::Create(std::move(table), loops);
  std::unique_ptr<grpc::Server> server =
      StartServer(listen, [&](grpc::ServerBuilder& builder) { event_loops->Configure(builder); });
  event_loops->Start();
  server->Wait();
  return 0;
}

// ---- The client and the measurement.

// One blocking call of kMethod: true when the backend's echo came back whole.
bool Call(grpc::GenericStub& stub, grpc::CompletionQueue& queue, const grpc::ByteBuffer& request) {
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(absl::Seconds(10)));
  grpc::ByteBuffer response;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(&context, kMethod, request, &queue);
  call->StartCall();
  call->Finish(&response, &status, &status);
  void* tag = nullptr;
  bool ok = false;
  return queue.Next(&tag, &ok) && ok && status.ok() && response.Length() == request.Length();
}

// One measurement of one proxy.
struct Round {
  double rate = 0;        // calls/s
  double proxy_us = 0;    // proxy CPU per call
  double backend_us = 0;  // backend CPU per call
  int64_t errors = 0;
};

// `threads` threads calling through `stub` for `duration`; CPU charged to `proxy` and `backend`.
Round Measure(grpc::GenericStub& stub, const grpc::ByteBuffer& request, int threads,
              absl::Duration duration, pid_t proxy, pid_t backend) {
  std::atomic<int64_t> calls{0}, failed{0};
  const double proxy_start = CpuSeconds(proxy), backend_start = CpuSeconds(backend);
  const Stopwatch stopwatch;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      grpc::CompletionQueue queue;
      while (stopwatch.Elapsed() < duration) {
        if (!Call(stub, queue, request)) failed.fetch_add(1);
        calls.fetch_add(1);
      }
      queue.Shutdown();
      void* tag = nullptr;
      bool ok = false;
      while (queue.Next(&tag, &ok)) {
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  const double elapsed = absl::ToDoubleSeconds(stopwatch.Elapsed());
  const double per_call = calls.load() == 0 ? 0 : 1e6 / static_cast<double>(calls.load());
  Round round;
  round.rate = static_cast<double>(calls.load()) / elapsed;
  round.proxy_us = (CpuSeconds(proxy) - proxy_start) * per_call;
  round.backend_us = (CpuSeconds(backend) - backend_start) * per_call;
  round.errors = failed.load();
  return round;
}

// The children; static so that std::exit still stops them (ChildProcess kills on destruction).
std::optional<testing::ChildProcess> backend_process;

struct Proxy {
  Proxy(std::string n, std::string l, std::vector<std::string> a)
      : name(std::move(n)), label(std::move(l)), args(std::move(a)) {}
  std::string name;   // for SUMMARY lines
  std::string label;  // for the table
  std::vector<std::string> args;
  std::string address;
  std::optional<testing::ChildProcess> process;
  std::unique_ptr<grpc::GenericStub> stub;
  std::vector<Round> rounds;
};

std::optional<testing::ChildProcess> StartChild(const std::vector<std::string>& args,
                                                const std::string& log) {
  absl::StatusOr<testing::ChildProcess> started =
      testing::ChildProcess::Start("/proc/self/exe", args, log);
  if (!started.ok()) {
    std::fprintf(stderr, "cannot start %s: %s\n", log.c_str(), started.status().ToString().c_str());
    return std::nullopt;
  }
  return std::move(*started);
}

// Calls through `stub` until one succeeds (the proxy and the backend are serving), up to 20 s.
bool WaitServing(grpc::GenericStub& stub, const grpc::ByteBuffer& request) {
  grpc::CompletionQueue queue;
  bool serving = false;
  for (int i = 0; i < 200 && !serving; ++i) {
    serving = Call(stub, queue, request);
    if (!serving) absl::SleepFor(absl::Milliseconds(100));
  }
  queue.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (queue.Next(&tag, &ok)) {
  }
  return serving;
}

// Median over rounds of a's proxy CPU per call / b's.
double CpuRatio(const Proxy& a, const Proxy& b) {
  std::vector<double> ratios;
  for (size_t r = 0; r < a.rounds.size(); ++r) {
    if (b.rounds[r].proxy_us > 0) ratios.push_back(a.rounds[r].proxy_us / b.rounds[r].proxy_us);
  }
  return Median(ratios);
}

template <typename Field>
double MedianOf(const Proxy& proxy, Field field) {
  std::vector<double> values;
  for (const Round& round : proxy.rounds) values.push_back(round.*field);
  return Median(values);
}

int Run() {
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  const absl::Duration seconds = absl::Seconds(std::max(1, absl::GetFlag(FLAGS_seconds)));
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  const int payload_bytes = std::max(1, absl::GetFlag(FLAGS_payload_bytes));
  const std::string dir = testing::MakeTempDir("runtime_bench");

  const std::string backend_address = absl::StrCat("127.0.0.1:", testing::FreePort());
  backend_process =
      StartChild({"--serve=echo", "--listen=" + backend_address}, dir + "/backend.log");
  if (!backend_process) return 1;

  std::vector<Proxy> proxies;
  proxies.emplace_back("callback", "callback API (reactors)",
                       std::vector<std::string>{"--serve=callback"});
  proxies.emplace_back("fibers", "fibers, 1 loop",
                       std::vector<std::string>{"--serve=fibers", "--loops=1"});
  proxies.emplace_back("floor", "CQ state machine (floor)",
                       std::vector<std::string>{"--serve=floor"});
  if (absl::GetFlag(FLAGS_two_threads)) {
    proxies.emplace_back("fibers_2_loops", "fibers, 2 loops",
                         std::vector<std::string>{"--serve=fibers", "--loops=2"});
  }
  const std::string payload(static_cast<size_t>(payload_bytes), 'x');
  grpc::Slice slice(payload);
  const grpc::ByteBuffer request(&slice, 1);
  for (Proxy& proxy : proxies) {
    proxy.address = absl::StrCat("127.0.0.1:", testing::FreePort());
    std::vector<std::string> args = proxy.args;
    args.push_back("--listen=" + proxy.address);
    args.push_back("--backend=" + backend_address);
    proxy.process = StartChild(args, absl::StrCat(dir, "/", proxy.name, ".log"));
    if (!proxy.process) return 1;
    proxy.stub = std::make_unique<grpc::GenericStub>(PlainChannel(proxy.address));
  }
  for (Proxy& proxy : proxies) {
    if (!WaitServing(*proxy.stub, request)) {
      std::fprintf(stderr, "%s does not answer (logs in %s)\n", proxy.label.c_str(), dir.c_str());
      return 1;
    }
  }

  // A warm-up turn each, then the rounds, the proxies taking turns.
  for (Proxy& proxy : proxies) {
    Measure(*proxy.stub, request, threads, absl::Milliseconds(500), proxy.process->pid(),
            backend_process->pid());
  }
  for (int r = 0; r < rounds; ++r) {
    for (Proxy& proxy : proxies) {
      proxy.rounds.push_back(Measure(*proxy.stub, request, threads, seconds, proxy.process->pid(),
                                     backend_process->pid()));
    }
  }

  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf(
      "runtime_bench: a one-thread echo backend and %zu pass-through proxies as child processes, "
      "plaintext loopback;\n"
      "  %d client threads, one blocking unary call each at a time (%d-byte request, echoed), one "
      "channel per proxy;\n"
      "  %d rounds x %d s per proxy, proxies in turns, 0.5 s warm-up each; median round; %u "
      "cores, load average %.2f at the end\n",
      proxies.size(), threads, payload_bytes, rounds, absl::GetFlag(FLAGS_seconds),
      std::thread::hardware_concurrency(), load[0]);
  std::printf("  %-26s %10s %15s %17s %8s\n", "proxy", "calls/s", "proxy us/call",
              "backend us/call", "errors");
  for (const Proxy& proxy : proxies) {
    int64_t errors = 0;
    for (const Round& round : proxy.rounds) errors += round.errors;
    std::printf("  %-26s %10.0f %15.1f %17.1f %8lld\n", proxy.label.c_str(),
                MedianOf(proxy, &Round::rate), MedianOf(proxy, &Round::proxy_us),
                MedianOf(proxy, &Round::backend_us), static_cast<long long>(errors));
  }
  std::printf("  per round (proxy us/call):");
  for (const Proxy& proxy : proxies) {
    std::printf("  %s", proxy.name.c_str());
    for (const Round& round : proxy.rounds) std::printf(" %.1f", round.proxy_us);
  }
  std::printf("\n");

  const Proxy& callback = proxies[0];
  const Proxy& fibers = proxies[1];
  const Proxy& floor = proxies[2];
  const double callback_vs_fibers = CpuRatio(callback, fibers);
  const double fibers_vs_floor = CpuRatio(fibers, floor);
  std::printf(
      "proxy CPU per call (median of per-round ratios): callback / fibers = %.2fx, fibers / floor "
      "= %.2fx",
      callback_vs_fibers, fibers_vs_floor);
  if (proxies.size() > 3) {
    std::printf(", callback / fibers with 2 loops = %.2fx, 2 loops / 1 loop = %.2fx",
                CpuRatio(callback, proxies[3]), CpuRatio(proxies[3], fibers));
  }
  std::printf("\n");
  // Machine-readable lines for the table at the end of `make bench` (scripts/bench.sh).
  for (const Proxy& proxy : proxies) {
    std::printf("SUMMARY runtime.%s_cpu_per_call %.1fus - info\n", proxy.name.c_str(),
                MedianOf(proxy, &Round::proxy_us));
  }
  for (const Proxy& proxy : proxies) {
    std::printf("SUMMARY runtime.%s_calls_per_s %.0f - info\n", proxy.name.c_str(),
                MedianOf(proxy, &Round::rate));
  }
  std::printf("SUMMARY runtime.callback_vs_fibers_cpu %.2fx - info\n", callback_vs_fibers);
  std::printf("SUMMARY runtime.fibers_vs_floor_cpu %.2fx - info\n", fibers_vs_floor);

  for (Proxy& proxy : proxies) {
    proxy.process->Signal(SIGKILL);
    (void)proxy.process->Wait(absl::Seconds(5));
  }
  backend_process->Signal(SIGKILL);
  (void)backend_process->Wait(absl::Seconds(5));
  return 0;
}

}  // namespace
}  // namespace linli

int main(int argc, char** argv) {
  linli::ParseFlags(argc, argv, "runtime_bench: the gateway's runtime vs the callback API");
  const std::string serve = absl::GetFlag(FLAGS_serve);
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string backend = absl::GetFlag(FLAGS_backend);
  // As every server of the platform runs (common/server.cc), and the bare proxy does itself.
  if (!serve.empty()) absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (serve == "echo") return linli::RunEcho(listen);
  if (serve == "callback") return linli::RunCallbackProxy(listen, backend);
  if (serve == "fibers") return linli::RunFiberProxy(listen, backend, absl::GetFlag(FLAGS_loops));
  if (serve == "floor") {
    // The floor is gateway_bench's bare proxy, on plaintext here like the other two.
    return linli::bench::RunBareProxy(listen, {{.service = "", .address = backend, .peer = ""}},
                                      nullptr);
  }
  if (!serve.empty()) {
    std::fprintf(stderr, "unknown --serve=%s\n", serve.c_str());
    return 1;
  }
  return linli::Run();
}
