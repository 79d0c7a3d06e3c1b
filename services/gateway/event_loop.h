// The gateway serves its public methods from event loops: each loop is one thread running one
// completion queue, and every call it accepts runs as a fiber on that thread. A handler is
// written as straight-line code; where it waits for a backend (Unary, AsyncWait) its fiber is
// suspended, the loop serves other calls, and the backend's reply, which arrives on the same
// queue, resumes it on the same thread. A call is thus received, checked, forwarded and answered
// without handing it from thread to thread, which is what a synchronous gRPC server spends most
// of a pass-through call's CPU on (see bench/gateway_bench.cc).
//
//   MethodTable table;
//   table.Add("/linli.gateway.v1.ConsoleService/GetRegion", &console,
//             &v1::ConsoleService::Service::GetRegion);
//   std::unique_ptr<EventLoops> loops = EventLoops::Create(std::move(table), 1);
//   options.configure_builder = [&](grpc::ServerBuilder& b) { loops->Configure(b); };
//   server = GrpcServer::Start(options, {});  loops->Start();
//   ...
//   server->Shutdown();  loops->Stop();  // in this order (GatewayServer does it)
//
// Rules for code running on a loop: never hold a lock across a backend call (another fiber of the
// same thread may want it); never wait for a backend inside a catch block (the C++ runtime keeps
// the exception being handled per thread, not per fiber); block only briefly (a blocked fiber
// blocks its whole loop). Off a loop (tests calling Relations directly, tools) the same helpers
// wait on a private queue instead.
//
// A loop runs at most kMaxFibersPerLoop calls at once; further calls wait in gRPC, unaccepted,
// until one ends. A call for which no fiber stack can be mapped is RESOURCE_EXHAUSTED.
#ifndef LINLI_SERVICES_GATEWAY_EVENT_LOOP_H_
#define LINLI_SERVICES_GATEWAY_EVENT_LOOP_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_unary_call.h"
#include "grpcpp/support/byte_buffer.h"

namespace linli::gateway {

class Fiber;
class EventLoop;

// A tag on an event loop's queue: Done runs on the loop's thread when the operation completes.
class Completion {
 public:
  virtual void Done(bool ok) = 0;

 protected:
  ~Completion() = default;
};

// Waits for asynchronous gRPC operations started by handler code: start each on queue() with a
// Tag(), then Wait(). On a loop's fiber the operations use the loop's queue and Wait() suspends
// the fiber; elsewhere they use a private queue that Wait() drains.
class AsyncWait final : private Completion {
 public:
  // Off a loop: whether the private queue polls the network itself (kPolling, for calls over
  // sockets) or only receives completions others produce (kInProcess: calls on an in-process
  // channel, which the loops serve; the waiting thread then never competes with the loops for
  // their network events).
  enum class Transport { kPolling, kInProcess };
  explicit AsyncWait(Transport transport = Transport::kPolling);
  // Waits for operations still pending (an operation must not outlive its buffers).
  ~AsyncWait();
  AsyncWait(const AsyncWait&) = delete;
  AsyncWait& operator=(const AsyncWait&) = delete;

  grpc::CompletionQueue* queue() const { return queue_; }
  // The tag of one more operation to wait for.
  void* Tag();
  // Returns when every tagged operation has completed; false if any completed with ok == false
  // (for a server-side read: there was no message).
  bool Wait();
  // Wait(), calling `tick` every `interval` while operations are pending (off a loop only: on a
  // loop's fiber it is Wait()). `tick` may cancel the operations (ClientContext::TryCancel).
  bool Wait(absl::Duration interval, const std::function<void()>& tick);

 private:
  void Done(bool ok) override;

  Fiber* fiber_;
  EventLoop* loop_;
  std::unique_ptr<grpc::CompletionQueue> own_queue_;
  grpc::CompletionQueue* queue_;
  int pending_ = 0;
  bool all_ok_ = true;
  bool waiting_ = false;
};

// One unary backend call through `prepare`, a stub's PrepareAsync<Method>:
//   Unary(*registry_, &RegistryStub::PrepareAsyncGetRegion, context.get(), request, &response)
template <typename Stub, typename Request, typename Response>
grpc::Status Unary(Stub& stub,
                   std::unique_ptr<grpc::ClientAsyncResponseReaderInterface<Response>> (
                       Stub::*prepare)(grpc::ClientContext*, const Request&,
                                       grpc::CompletionQueue*),
                   grpc::ClientContext* context, const Request& request, Response* response) {
  grpc::Status status;
  AsyncWait wait;
  auto call = (stub.*prepare)(context, request, wait.queue());
  call->StartCall();
  call->Finish(response, &status, wait.Tag());
  wait.Wait();
  return status;
}

// The handlers of the served methods by full name ("/linli.gateway.v1.ConsoleService/GetRegion"),
// each taking the request's bytes and producing the response's.
class MethodTable {
 public:
  using Handler =
      std::function<grpc::Status(grpc::ServerContext*, grpc::ByteBuffer*, grpc::ByteBuffer*)>;

  template <typename Service, typename Base, typename Request, typename Response>
  void Add(std::string method, Service* service,
           grpc::Status (Base::*handler)(grpc::ServerContext*, const Request*, Response*)) {
    handlers_[std::move(method)] = [service, handler](grpc::ServerContext* context,
                                                      grpc::ByteBuffer* in,
                                                      grpc::ByteBuffer* out) -> grpc::Status {
      Request request;
      if (!ParseRequest(in, &request)) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "the request is not a valid " + request.GetTypeName() + " message");
      }
      Response response;
      grpc::Status status = (service->*handler)(context, &request, &response);
      if (status.ok()) SerializeResponse(response, out);
      return status;
    };
  }

  // A method whose messages the handler decodes and encodes itself.
  void AddRaw(std::string method, Handler handler) {
    handlers_[std::move(method)] = std::move(handler);
  }

  const Handler* Find(absl::string_view method) const;
  // Every method's full name, sorted.
  std::vector<std::string> Methods() const;

 private:
  static bool ParseRequest(grpc::ByteBuffer* in, google::protobuf::Message* request);
  static void SerializeResponse(const google::protobuf::Message& response, grpc::ByteBuffer* out);

  absl::flat_hash_map<std::string, Handler> handlers_;
};

class LoopService;
struct LoopMethod;

// Calls a loop serves at once (each a fiber with its own stack).
inline constexpr int kMaxFibersPerLoop = 4096;

// The loops serving a MethodTable on a gRPC server.
class EventLoops {
 public:
  // Loops serving every method of `table`, each running at most `max_fibers` calls at once.
  static std::unique_ptr<EventLoops> Create(MethodTable table, int loops,
                                            int max_fibers = kMaxFibersPerLoop);
  ~EventLoops();
  EventLoops(const EventLoops&) = delete;
  EventLoops& operator=(const EventLoops&) = delete;

  // Registers the services and the loops' queues on `builder`, before the server is built.
  void Configure(grpc::ServerBuilder& builder);
  // Starts the loop threads; after the server is built and started.
  void Start();
  // Waits for the calls in progress to end and stops the threads; only after the server's
  // Shutdown (before it, calls still being accepted keep the loops from ending). Idempotent.
  void Stop();

 private:
  EventLoops();
  MethodTable table_;
  int loop_count_ = 1;
  int max_fibers_ = kMaxFibersPerLoop;
  std::vector<std::unique_ptr<LoopService>> services_;
  std::vector<LoopMethod> methods_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_EVENT_LOOP_H_
