// The gateway's event loops on a real gRPC server over loopback: raw and typed handlers, generated
// services registered by name, server streaming (and a client that leaves mid-stream), calls that
// wait (on an Alarm) without blocking their loop, AsyncWait off a loop, unknown methods, and a
// shutdown with a call in flight.
#include "services/gateway/event_loop.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc_probe.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/server.h"
#include "google/protobuf/wrappers.pb.h"
#include "grpcpp/alarm.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "linli/gateway/v1/console.grpc.pb.h"

namespace linli::gateway {
namespace {

using google::protobuf::StringValue;

constexpr char kEcho[] = "/linli.test.Loop/Echo";
constexpr char kFail[] = "/linli.test.Loop/Fail";
constexpr char kSlow[] = "/linli.test.Loop/Slow";
constexpr char kTyped[] = "/linli.test.Loop/Typed";
constexpr char kOther[] = "/linli.test.Other/Echo";

grpc::Status Echo(grpc::ServerContext*, grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
  *out = ToByteBuffer(FromByteBuffer(*in));
  return grpc::Status::OK;
}

// Suspends the calling fiber for `delay` (on an Alarm), without blocking its loop.
void Pause(absl::Duration delay) {
  AsyncWait wait;
  grpc::Alarm alarm;
  alarm.Set(wait.queue(), absl::ToChronoTime(absl::Now() + delay), wait.Tag());
  wait.Wait();
}

// Waits `delay` on an Alarm through AsyncWait (suspending the fiber, not the thread), then echoes.
// Records the thread it started and ended on.
class Sleeper {
 public:
  explicit Sleeper(absl::Duration delay) : delay_(delay) {}

  MethodTable::Handler Handler() {
    return [this](grpc::ServerContext*, grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
      std::thread::id before = std::this_thread::get_id();
      started_.fetch_add(1);
      AsyncWait wait;
      grpc::Alarm alarm;
      alarm.Set(wait.queue(), absl::ToChronoTime(absl::Now() + delay_), wait.Tag());
      bool ok = wait.Wait();
      std::thread::id after = std::this_thread::get_id();
      {
        absl::MutexLock lock(&mu_);
        if (before != after) moved_threads_ = true;
        threads_.push_back(after);
      }
      finished_.fetch_add(1);
      if (!ok) return grpc::Status(grpc::StatusCode::ABORTED, "the alarm was cancelled");
      *out = ToByteBuffer(FromByteBuffer(*in));
      return grpc::Status::OK;
    };
  }

  int started() const { return started_.load(); }
  int finished() const { return finished_.load(); }
  bool moved_threads() const {
    absl::MutexLock lock(&mu_);
    return moved_threads_;
  }
  std::vector<std::thread::id> threads() const {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  absl::Duration delay_;
  std::atomic<int> started_{0};
  std::atomic<int> finished_{0};
  mutable absl::Mutex mu_;
  bool moved_threads_ = false;
  std::vector<std::thread::id> threads_;
};

// A typed handler on a well-known message type.
class Upper {
 public:
  grpc::Status Handle(grpc::ServerContext*, const StringValue* in, StringValue* out) {
    if (in->value() == "refuse") {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "refused");
    }
    out->set_value(absl::AsciiStrToUpper(in->value()));
    return grpc::Status::OK;
  }
};

// A server whose methods are all served by EventLoops.
class LoopServer {
 public:
  LoopServer(MethodTable table, int loop_count, absl::Duration shutdown_deadline = absl::Seconds(2),
             int max_fibers = kMaxFibersPerLoop)
      : loops(EventLoops::Create(std::move(table), loop_count, max_fibers)) {
    ServerOptions options;
    options.service_name = "looptest";
    options.listen_address = "127.0.0.1:0";
    options.shutdown_deadline = shutdown_deadline;
    EventLoops* serving = loops.get();
    options.configure_builder = [serving](grpc::ServerBuilder& builder) {
      serving->Configure(builder);
    };
    options.records_itself = [serving](absl::string_view method) {
      return serving->Serves(method);
    };
    absl::StatusOr<std::unique_ptr<GrpcServer>> started = GrpcServer::Start(options, {});
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return;
    server = std::move(*started);
    loops->Start();
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                  grpc::InsecureChannelCredentials());
    stub = std::make_unique<grpc::GenericStub>(channel);
  }
  ~LoopServer() { Stop(); }

  void Stop() {
    if (server != nullptr) server->Shutdown();
    if (loops != nullptr) loops->Stop();
  }

  std::unique_ptr<EventLoops> loops;  // destroyed after server
  std::unique_ptr<GrpcServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
};

struct Reply {
  grpc::Status status;
  std::string bytes;
  absl::Duration latency;
};

// One unary call in flight through a GenericStub; keep it alive until Wait() has returned.
class Call {
 public:
  Call(grpc::GenericStub& stub, const std::string& method, const std::string& bytes,
       absl::Duration timeout = absl::Seconds(10))
      : request_(ToByteBuffer(bytes)), start_(absl::Now()) {
    context_.set_deadline(absl::ToChronoTime(start_ + timeout));
    future_ = done_.get_future();
    stub.UnaryCall(&context_, method, grpc::StubOptions(), &request_, &response_,
                   [this](grpc::Status status) {
                     done_.set_value(
                         Reply{std::move(status), FromByteBuffer(response_), absl::Now() - start_});
                   });
  }

  // The reply; a DEADLINE_EXCEEDED-like failure of the test if the callback never ran.
  Reply Wait(absl::Duration limit = absl::Seconds(15)) {
    if (future_.wait_for(absl::ToChronoSeconds(limit)) != std::future_status::ready) {
      ADD_FAILURE() << "the call did not end";
      return Reply{grpc::Status(grpc::StatusCode::UNKNOWN, "test: no reply"), "", limit};
    }
    return future_.get();
  }
  bool ready() const {
    return future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  absl::Time start_;
  std::promise<Reply> done_;
  std::future<Reply> future_;
};

Reply CallOnce(grpc::GenericStub& stub, const std::string& method, const std::string& bytes) {
  Call call(stub, method, bytes);
  return call.Wait();
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration limit) {
  absl::Time end = absl::Now() + limit;
  while (!condition()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// The handled-calls counter of `method` with code OK, from the metrics the server exports.
double HandledOk(const std::string& method) {
  const std::string series =
      "linli_rpc_server_handled_total{method=\"" + method + "\",code=\"OK\"} ";
  const std::string text = metrics::Registry::Default().Render();
  const size_t at = text.find(series);
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + series.size()));
}

// Calls served by the loops keep their own record (the server's interceptor leaves them alone):
// the caller's request id, or a new one, reaches the handler and comes back in the trailers, and
// the call is counted once.
TEST(EventLoopTest, EveryCallHasARequestIdAndIsCountedOnce) {
  constexpr char kMethod[] = "/linli.gateway.v1.ConsoleService/GetRegion";
  absl::Mutex mu;
  std::vector<std::string> seen;
  MethodTable table;
  table.AddRaw(kMethod,
               [&](grpc::ServerContext* context, grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
                 absl::MutexLock lock(&mu);
                 seen.push_back(RequestId(*context) + "|" + CurrentRequestId());
                 *out = ToByteBuffer(FromByteBuffer(*in));
                 return grpc::Status::OK;
               });
  LoopServer server(std::move(table), 1);
  ASSERT_NE(server.stub, nullptr);
  const double before = HandledOk(kMethod);

  for (const std::string sent : {"req-loop-1", ""}) {
    grpc::ClientContext context;
    if (!sent.empty()) context.AddMetadata(kRequestIdKey, sent);
    grpc::ByteBuffer request = ToByteBuffer("x");
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    server.stub->UnaryCall(&context, kMethod, grpc::StubOptions(), &request, &response,
                           [&](grpc::Status status) { done.set_value(std::move(status)); });
    ASSERT_TRUE(done.get_future().get().ok());
    auto trailer = context.GetServerTrailingMetadata().find(kRequestIdKey);
    ASSERT_NE(trailer, context.GetServerTrailingMetadata().end());
    const std::string returned(trailer->second.data(), trailer->second.size());
    if (!sent.empty()) {
      EXPECT_EQ(returned, sent);
    } else {
      EXPECT_EQ(returned.size(), 32u) << returned;  // a new id (common/ids.h)
    }
    absl::MutexLock lock(&mu);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back(), returned + "|" + returned);
  }
  EXPECT_EQ(HandledOk(kMethod) - before, 2);
}

TEST(EventLoopTest, EchoesBytesAndPassesErrorStatusThrough) {
  MethodTable table;
  table.AddRaw(kEcho, Echo);
  table.AddRaw(kFail, [](grpc::ServerContext*, grpc::ByteBuffer*, grpc::ByteBuffer* out) {
    *out = ToByteBuffer("must not be sent");
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad field: x");
  });
  table.AddRaw(kOther, Echo);  // a second service on the same loops
  LoopServer server(std::move(table), 2);
  ASSERT_NE(server.stub, nullptr);

  const std::string binary("\x00\x01\xff payload \x00", 13);
  Reply echoed = CallOnce(*server.stub, kEcho, binary);
  ASSERT_TRUE(echoed.status.ok()) << echoed.status.error_message();
  EXPECT_EQ(echoed.bytes, binary);

  Reply other = CallOnce(*server.stub, kOther, "second service");
  ASSERT_TRUE(other.status.ok()) << other.status.error_message();
  EXPECT_EQ(other.bytes, "second service");

  // An empty message is a message too.
  Reply empty = CallOnce(*server.stub, kEcho, "");
  EXPECT_TRUE(empty.status.ok()) << empty.status.error_code() << " "
                                 << empty.status.error_message();
  EXPECT_EQ(empty.bytes, "");

  Reply failed = CallOnce(*server.stub, kFail, "anything");
  EXPECT_EQ(failed.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(failed.status.error_message(), "bad field: x");
  EXPECT_EQ(failed.bytes, "");

  // Many calls in a row on the same connection (each accepted call re-arms the method's request).
  for (int i = 0; i < 20; ++i) {
    Reply again = CallOnce(*server.stub, kEcho, "n" + std::to_string(i));
    ASSERT_TRUE(again.status.ok()) << again.status.error_message();
    EXPECT_EQ(again.bytes, "n" + std::to_string(i));
  }
}

TEST(EventLoopTest, WaitingCallDoesNotBlockItsLoop) {
  Sleeper slow(absl::Milliseconds(300));
  absl::Mutex mu;
  std::vector<std::thread::id> echo_threads;
  MethodTable table;
  table.AddRaw(kSlow, slow.Handler());
  table.AddRaw(kEcho,
               [&](grpc::ServerContext* context, grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
                 {
                   absl::MutexLock lock(&mu);
                   echo_threads.push_back(std::this_thread::get_id());
                 }
                 return Echo(context, in, out);
               });
  LoopServer server(std::move(table), 1);
  ASSERT_NE(server.stub, nullptr);
  // Warm the connection so that connecting is not part of the timings.
  ASSERT_TRUE(CallOnce(*server.stub, kEcho, "warm").status.ok());

  Call slow_call(*server.stub, kSlow, "slow");
  ASSERT_TRUE(WaitUntil([&] { return slow.started() == 1; }, absl::Seconds(5)));
  for (int i = 0; i < 5; ++i) {
    Reply fast = CallOnce(*server.stub, kEcho, "fast" + std::to_string(i));
    ASSERT_TRUE(fast.status.ok()) << fast.status.error_message();
    EXPECT_EQ(fast.bytes, "fast" + std::to_string(i));
    EXPECT_LT(fast.latency, absl::Milliseconds(150)) << "fast call " << i;
  }
  // All of that happened while the slow call was still waiting.
  EXPECT_EQ(slow.finished(), 0);
  EXPECT_FALSE(slow_call.ready());

  Reply slow_reply = slow_call.Wait();
  ASSERT_TRUE(slow_reply.status.ok()) << slow_reply.status.error_message();
  EXPECT_EQ(slow_reply.bytes, "slow");
  EXPECT_GE(slow_reply.latency, absl::Milliseconds(290));
  EXPECT_FALSE(slow.moved_threads());

  // One loop: every handler ran on the same thread, and the fast ones ran while the slow one's
  // fiber was suspended on it.
  absl::MutexLock lock(&mu);
  ASSERT_EQ(echo_threads.size(), 6u);
  ASSERT_EQ(slow.threads().size(), 1u);
  for (const std::thread::id& id : echo_threads) EXPECT_EQ(id, slow.threads()[0]);
  EXPECT_NE(slow.threads()[0], std::this_thread::get_id());
}

TEST(EventLoopTest, ConcurrentWaitsOnOneLoopInterleave) {
  constexpr int kCalls = 50;
  Sleeper slow(absl::Milliseconds(200));
  MethodTable table;
  table.AddRaw(kSlow, slow.Handler());
  table.AddRaw(kEcho, Echo);
  LoopServer server(std::move(table), 1);
  ASSERT_NE(server.stub, nullptr);
  ASSERT_TRUE(CallOnce(*server.stub, kEcho, "warm").status.ok());

  absl::Time start = absl::Now();
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::make_unique<Call>(*server.stub, kSlow, "c" + std::to_string(i)));
  }
  for (int i = 0; i < kCalls; ++i) {
    Reply reply = calls[i]->Wait();
    ASSERT_TRUE(reply.status.ok()) << i << ": " << reply.status.error_message();
    EXPECT_EQ(reply.bytes, "c" + std::to_string(i));
  }
  absl::Duration total = absl::Now() - start;
  // One after the other they would take 10 s.
  EXPECT_LT(total, absl::Milliseconds(1500));
  EXPECT_GE(total, absl::Milliseconds(190));
  EXPECT_EQ(slow.finished(), kCalls);
  EXPECT_FALSE(slow.moved_threads());
  std::vector<std::thread::id> threads = slow.threads();
  for (const std::thread::id& id : threads) EXPECT_EQ(id, threads[0]);
}

// At its cap of calls at once a loop accepts no more: the next call waits in gRPC until one ends.
TEST(EventLoopTest, ALoopAtItsCapTakesTheNextCallWhenOneEnds) {
  Sleeper sleeper(absl::Milliseconds(300));
  MethodTable table;
  table.AddRaw(kSlow, sleeper.Handler());
  LoopServer server(std::move(table), 1, absl::Seconds(2), /*max_fibers=*/2);
  ASSERT_NE(server.stub, nullptr);
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < 3; ++i) calls.push_back(std::make_unique<Call>(*server.stub, kSlow, "x"));
  absl::SleepFor(absl::Milliseconds(150));
  EXPECT_EQ(sleeper.started(), 2);  // the third is not accepted yet
  std::vector<Reply> replies;
  for (auto& call : calls) replies.push_back(call->Wait());
  for (const Reply& reply : replies) ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
  EXPECT_EQ(sleeper.started(), 3);
  std::vector<absl::Duration> latencies;
  for (const Reply& reply : replies) latencies.push_back(reply.latency);
  std::sort(latencies.begin(), latencies.end());
  EXPECT_LT(latencies[1], absl::Milliseconds(550));  // two at once
  EXPECT_GE(latencies[2], absl::Milliseconds(590));  // the third after one of them
}

TEST(EventLoopTest, AsyncWaitOffALoopUsesItsOwnQueue) {
  // Constructed first: this may be the first gRPC object of the process.
  AsyncWait wait;
  ASSERT_NE(wait.queue(), nullptr);
  grpc::Alarm first;
  grpc::Alarm second;
  absl::Time start = absl::Now();
  first.Set(wait.queue(), absl::ToChronoTime(start + absl::Milliseconds(100)), wait.Tag());
  second.Set(wait.queue(), absl::ToChronoTime(start + absl::Milliseconds(200)), wait.Tag());
  EXPECT_TRUE(wait.Wait());
  // Wait returns when the last tagged operation has completed.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(195));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  // Nothing pending: Wait returns at once.
  absl::Time again = absl::Now();
  EXPECT_TRUE(wait.Wait());
  EXPECT_LT(absl::Now() - again, absl::Milliseconds(100));

  // A cancelled alarm completes with ok == false, which Wait reports.
  grpc::Alarm cancelled;
  cancelled.Set(wait.queue(), absl::ToChronoTime(absl::Now() + absl::Seconds(30)), wait.Tag());
  cancelled.Cancel();
  absl::Time cancel_start = absl::Now();
  EXPECT_FALSE(wait.Wait());
  EXPECT_LT(absl::Now() - cancel_start, absl::Seconds(5));
  // Each Wait reports the operations since the previous one (a stream's reads, one by one).
  grpc::Alarm later;
  later.Set(wait.queue(), absl::ToChronoTime(absl::Now() + absl::Milliseconds(10)), wait.Tag());
  EXPECT_TRUE(wait.Wait());
}

// A handler that throws, before or after its fiber has been suspended (the exception is then
// raised and caught on the fiber's own stack), answers INTERNAL; the loop goes on serving.
TEST(EventLoopTest, AThrowingHandlerAnswersInternalAndTheLoopGoesOn) {
  MethodTable table;
  table.AddRaw(kEcho, Echo);
  table.AddRaw("/linli.test.Loop/Throw",
               [](grpc::ServerContext*, grpc::ByteBuffer* in, grpc::ByteBuffer*) -> grpc::Status {
                 if (FromByteBuffer(*in) == "after a wait") {
                   AsyncWait wait;
                   grpc::Alarm alarm;
                   alarm.Set(wait.queue(), absl::ToChronoTime(absl::Now() + absl::Milliseconds(20)),
                             wait.Tag());
                   wait.Wait();
                 }
                 throw std::runtime_error("handler broke");
               });
  LoopServer server(std::move(table), 1);
  ASSERT_NE(server.stub, nullptr);
  for (const char* when : {"at once", "after a wait", "at once"}) {
    Reply thrown = CallOnce(*server.stub, "/linli.test.Loop/Throw", when);
    EXPECT_EQ(thrown.status.error_code(), grpc::StatusCode::INTERNAL) << when;
    EXPECT_EQ(thrown.status.error_message(), "internal error") << when;
    Reply echoed = CallOnce(*server.stub, kEcho, when);
    ASSERT_TRUE(echoed.status.ok()) << echoed.status.error_message();
    EXPECT_EQ(echoed.bytes, when);
  }
}

TEST(EventLoopTest, UnknownMethodIsUnimplemented) {
  MethodTable table;
  table.AddRaw(kEcho, Echo);
  LoopServer server(std::move(table), 1);
  ASSERT_NE(server.stub, nullptr);
  Reply unknown_method = CallOnce(*server.stub, "/linli.test.Loop/Missing", "x");
  EXPECT_EQ(unknown_method.status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << unknown_method.status.error_message();
  Reply unknown_service = CallOnce(*server.stub, "/linli.test.Nowhere/Echo", "x");
  EXPECT_EQ(unknown_service.status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << unknown_service.status.error_message();
  // The server is still fine afterwards.
  Reply echoed = CallOnce(*server.stub, kEcho, "still here");
  ASSERT_TRUE(echoed.status.ok()) << echoed.status.error_message();
  EXPECT_EQ(echoed.bytes, "still here");
}

// Starts a call of a handler that waits `wait`, then shuts the server down (with
// `shutdown_deadline`) and stops the loops while it is in flight, on another thread so that a hang
// fails the test instead of blocking it. Returns the call's reply.
Reply StopWithCallInFlight(absl::Duration wait, absl::Duration shutdown_deadline) {
  Sleeper slow(wait);
  MethodTable table;
  table.AddRaw(kSlow, slow.Handler());
  table.AddRaw(kEcho, Echo);
  auto server = std::make_unique<LoopServer>(std::move(table), 1, shutdown_deadline);
  if (server->stub == nullptr)
    return Reply{grpc::Status(grpc::StatusCode::UNKNOWN, "no server"), "", absl::ZeroDuration()};

  auto call = std::make_unique<Call>(*server->stub, kSlow, "in flight");
  EXPECT_TRUE(WaitUntil([&] { return slow.started() == 1; }, absl::Seconds(5)));

  auto stopped = std::make_shared<std::promise<void>>();
  std::future<void> stopped_future = stopped->get_future();
  LoopServer* raw = server.get();
  absl::Time stop_start = absl::Now();
  std::thread stopper([raw, stopped] {
    raw->server->Shutdown();
    raw->loops->Stop();
    stopped->set_value();
  });
  if (stopped_future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "Shutdown + Stop did not return within 10 s";
    stopper.detach();
    (void)server.release();  // leaked: the stopper thread still uses it
    (void)call.release();
    return Reply{grpc::Status(grpc::StatusCode::UNKNOWN, "hang"), "", absl::ZeroDuration()};
  }
  stopper.join();
  // Stop waited for the call in progress: its handler has run to its end.
  EXPECT_EQ(slow.finished(), 1);
  EXPECT_GE(absl::Now() - stop_start, std::min(wait, shutdown_deadline) - absl::Milliseconds(100));

  Reply reply = call->Wait(absl::Seconds(10));
  EXPECT_NE(reply.status.error_message(), "test: no reply");

  // Stop is idempotent, and the server refuses new calls.
  server->loops->Stop();
  Reply refused = CallOnce(*server->stub, kEcho, "late");
  EXPECT_FALSE(refused.status.ok());
  return reply;
}

TEST(EventLoopTest, StopsWithACallInFlight) {
  // The call may end either way (answered, or cancelled at the shutdown deadline); it ends.
  StopWithCallInFlight(absl::Seconds(1), absl::Seconds(1));
}

TEST(EventLoopTest, CallInFlightFinishesWithinTheShutdownDeadline) {
  Reply reply = StopWithCallInFlight(absl::Milliseconds(300), absl::Seconds(3));
  ASSERT_TRUE(reply.status.ok()) << reply.status.error_code() << " "
                                 << reply.status.error_message();
  EXPECT_EQ(reply.bytes, "in flight");
}

TEST(EventLoopTest, CallOutlivingTheShutdownDeadlineIsCancelledAndStopStillReturns) {
  // The server cancels the call at its deadline; the handler's fiber still waits for its alarm,
  // and Stop waits for it (asserted in StopWithCallInFlight).
  Reply reply = StopWithCallInFlight(absl::Milliseconds(1500), absl::Milliseconds(300));
  EXPECT_FALSE(reply.status.ok());
  EXPECT_LT(reply.latency, absl::Milliseconds(1400))
      << reply.status.error_code() << " " << reply.status.error_message();
}

TEST(EventLoopTest, StopsIdleLoopsPromptly) {
  MethodTable table;
  table.AddRaw(kEcho, Echo);
  LoopServer server(std::move(table), 3);
  ASSERT_NE(server.stub, nullptr);
  ASSERT_TRUE(CallOnce(*server.stub, kEcho, "x").status.ok());
  absl::Time start = absl::Now();
  server.Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(EventLoopTest, TypedHandlerParsesAndSerializes) {
  Upper upper;
  MethodTable table;
  table.Add(kTyped, &upper, &Upper::Handle);
  EXPECT_EQ(table.Methods(), std::vector<std::string>{kTyped});
  EXPECT_NE(table.Find(kTyped), nullptr);
  EXPECT_EQ(table.Find("/linli.test.Loop/Missing"), nullptr);
  LoopServer server(std::move(table), 1);
  ASSERT_NE(server.stub, nullptr);

  StringValue request;
  request.set_value("hello loop");
  Reply answered = CallOnce(*server.stub, kTyped, request.SerializeAsString());
  ASSERT_TRUE(answered.status.ok()) << answered.status.error_message();
  StringValue response;
  ASSERT_TRUE(response.ParseFromString(answered.bytes));
  EXPECT_EQ(response.value(), "HELLO LOOP");

  // The empty message is valid, and so is its (empty) reply.
  Reply empty = CallOnce(*server.stub, kTyped, "");
  ASSERT_TRUE(empty.status.ok()) << empty.status.error_message();
  EXPECT_EQ(empty.bytes, "");

  Reply invalid = CallOnce(*server.stub, kTyped, "\xff\xff\xff");
  EXPECT_EQ(invalid.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(invalid.status.error_message().find("google.protobuf.StringValue"), std::string::npos)
      << invalid.status.error_message();

  request.set_value("refuse");
  Reply refused = CallOnce(*server.stub, kTyped, request.SerializeAsString());
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(refused.status.error_message(), "refused");
  EXPECT_EQ(refused.bytes, "");
}

// The request id the server runtime gives every call is the one the handler's log lines carry
// (common/server.h: "the id is also set for the handler's thread"), before and after the handler's
// fiber has been suspended and resumed.
TEST(EventLoopTest, HandlerLogsCarryTheCallsRequestId) {
  absl::Mutex mu;
  std::vector<std::pair<std::string, std::string>> seen;  // (CurrentRequestId, RequestId)
  MethodTable table;
  table.AddRaw(kEcho, [&](grpc::ServerContext* context, grpc::ByteBuffer* in,
                          grpc::ByteBuffer* out) {
    std::string before = CurrentRequestId();
    AsyncWait wait;
    grpc::Alarm alarm;
    alarm.Set(wait.queue(), absl::ToChronoTime(absl::Now() + absl::Milliseconds(20)), wait.Tag());
    wait.Wait();
    std::string after = CurrentRequestId();
    absl::MutexLock lock(&mu);
    seen.emplace_back(before, RequestId(*context));
    seen.emplace_back(after, RequestId(*context));
    return Echo(context, in, out);
  });
  LoopServer server(std::move(table), 1);
  ASSERT_NE(server.stub, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(CallOnce(*server.stub, kEcho, "x").status.ok());
  absl::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), 6u);
  for (const auto& [current, call] : seen) {
    EXPECT_FALSE(call.empty());
    EXPECT_EQ(current, call);
  }
}

// A generated service served by the loops: gRPC knows it by name (reflection lists it), its
// handled methods answer, and its methods without a handler are UNIMPLEMENTED (not left hanging).
class OneRegionConsole final : public v1::ConsoleService::Service {
 public:
  grpc::Status GetRegion(grpc::ServerContext*, const v1::GetRegionRequest* request,
                         v1::GetRegionResponse* response) override {
    Pause(absl::Milliseconds(5));  // a suspension, as a backend call would
    if (request->name() != "regions/310101001") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no");
    }
    response->mutable_region()->set_code("310101001");
    response->mutable_region()->set_display_name("外滩街道");
    return grpc::Status::OK;
  }
};

TEST(EventLoopTest, GeneratedServiceIsRegisteredByNameAndAnswersEveryMethod) {
  OneRegionConsole console;
  MethodTable table;
  table.Add("/linli.gateway.v1.ConsoleService/GetRegion", &console,
            &v1::ConsoleService::Service::GetRegion);
  table.AddRaw(kEcho, Echo);
  LoopServer server(std::move(table), 2);
  ASSERT_NE(server.stub, nullptr);

  auto console_stub = v1::ConsoleService::NewStub(server.channel);
  v1::GetRegionRequest request;
  request.set_name("regions/310101001");
  v1::GetRegionResponse region;
  grpc::ClientContext context;
  grpc::Status status = console_stub->GetRegion(&context, request, &region);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(region.region().display_name(), "外滩街道");

  v1::ListRegionsRequest list;
  v1::ListRegionsResponse regions;
  grpc::ClientContext list_context;
  list_context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  status = console_stub->ListRegions(&list_context, list, &regions);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();

  absl::StatusOr<std::vector<std::string>> services =
      ListServices(*server.channel, absl::Seconds(5));
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_NE(std::find(services->begin(), services->end(), "linli.gateway.v1.ConsoleService"),
            services->end());
  // Raw methods are served beside it.
  EXPECT_EQ(CallOnce(*server.stub, kEcho, "raw").bytes, "raw");
}

struct StreamReply {
  std::vector<std::string> messages;
  grpc::Status status;
};

// One server-streaming call through the generic stub: its request, then every message until the
// end, then the status. With `cancel_after` > 0 the client cancels once it has that many.
StreamReply CallStreaming(grpc::GenericStub& stub, const std::string& method,
                          const std::string& bytes, int cancel_after = 0) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::CompletionQueue queue;
  auto next = [&queue] {
    void* tag = nullptr;
    bool ok = false;
    return queue.Next(&tag, &ok) && ok;
  };
  StreamReply reply;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, method, &queue);
  call->StartCall(nullptr);
  next();
  call->WriteLast(ToByteBuffer(bytes), grpc::WriteOptions(), nullptr);
  next();
  for (;;) {
    grpc::ByteBuffer message;
    call->Read(&message, nullptr);
    if (!next()) break;
    reply.messages.push_back(FromByteBuffer(message));
    if (cancel_after > 0 && static_cast<int>(reply.messages.size()) == cancel_after) {
      context.TryCancel();
    }
  }
  call->Finish(&reply.status, nullptr);
  next();
  queue.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (queue.Next(&tag, &ok)) {
  }
  return reply;
}

constexpr char kCount[] = "/linli.test.Loop/Count";

// Writes the request's bytes followed by 1..n, pausing between messages; an empty request makes
// it fail after its first message.
grpc::Status Count(grpc::ServerContext*, grpc::ByteBuffer* in, ByteStream* out) {
  const std::string prefix = FromByteBuffer(*in);
  for (int i = 1; i <= 3; ++i) {
    if (!out->Write(ToByteBuffer(prefix + std::to_string(i)))) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "client gone");
    }
    if (prefix.empty()) return grpc::Status(grpc::StatusCode::ABORTED, "stopped after one");
    Pause(absl::Milliseconds(10));
  }
  return grpc::Status::OK;
}

TEST(EventLoopTest, ServerStreamingSendsEachMessageThenTheStatus) {
  MethodTable table;
  table.AddRawServerStreaming(kCount, Count);
  table.AddRaw(kEcho, Echo);
  LoopServer server(std::move(table), 1);
  ASSERT_NE(server.stub, nullptr);

  // Two streams at once on one loop, interleaved with a unary call.
  std::future<StreamReply> a =
      std::async(std::launch::async, [&] { return CallStreaming(*server.stub, kCount, "a"); });
  std::future<StreamReply> b =
      std::async(std::launch::async, [&] { return CallStreaming(*server.stub, kCount, "b"); });
  EXPECT_EQ(CallOnce(*server.stub, kEcho, "between").bytes, "between");
  StreamReply first = a.get();
  StreamReply second = b.get();
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_EQ(first.messages, (std::vector<std::string>{"a1", "a2", "a3"}));
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_EQ(second.messages, (std::vector<std::string>{"b1", "b2", "b3"}));

  // An error after a message: the message arrives, then the handler's status.
  StreamReply failed = CallStreaming(*server.stub, kCount, "");
  EXPECT_EQ(failed.messages, std::vector<std::string>{"1"});
  EXPECT_EQ(failed.status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(failed.status.error_message(), "stopped after one");

  // A unary method called as a stream still gets its one reply.
  StreamReply echoed = CallStreaming(*server.stub, kEcho, "once");
  EXPECT_TRUE(echoed.status.ok()) << echoed.status.error_message();
  EXPECT_EQ(echoed.messages, std::vector<std::string>{"once"});
}

TEST(EventLoopTest, AStreamsWriteFailsOnceTheClientHasGoneAndTheLoopGoesOn) {
  std::atomic<int> written{0};
  std::atomic<bool> saw_failure{false};
  std::atomic<bool> ended{false};
  MethodTable table;
  table.AddRawServerStreaming(kCount,
                              [&](grpc::ServerContext*, grpc::ByteBuffer*, ByteStream* out) {
                                // An endless feed until the client goes away (bounded so that a bug
                                // fails, not hangs).
                                for (int i = 0; i < 2000; ++i) {
                                  if (!out->Write(ToByteBuffer(std::to_string(i)))) {
                                    saw_failure = true;
                                    break;
                                  }
                                  written.fetch_add(1);
                                  Pause(absl::Milliseconds(5));
                                }
                                ended = true;
                                return grpc::Status::OK;
                              });
  table.AddRaw(kEcho, Echo);
  LoopServer server(std::move(table), 1);
  ASSERT_NE(server.stub, nullptr);

  StreamReply cancelled = CallStreaming(*server.stub, kCount, "", /*cancel_after=*/3);
  EXPECT_EQ(cancelled.status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_GE(cancelled.messages.size(), 3u);
  EXPECT_TRUE(WaitUntil([&] { return ended.load(); }, absl::Seconds(5)));
  EXPECT_TRUE(saw_failure.load());
  EXPECT_LT(written.load(), 2000);
  EXPECT_EQ(CallOnce(*server.stub, kEcho, "after").bytes, "after");
}

}  // namespace
}  // namespace linli::gateway
