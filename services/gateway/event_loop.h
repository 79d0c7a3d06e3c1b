// The gateway serves its public methods from event loops: each loop is one thread running one
// completion queue, and every call it accepts runs as a fiber on that thread (Boost.Context's
// fiber on pooled stacks with guard pages). A handler is written as straight-line code; where it
// waits for a backend (Unary, AsyncWait) its fiber is suspended, the loop serves other calls, and
// the backend's reply, which arrives on the same queue, resumes it on the same thread. A call is
// thus received, checked, forwarded and answered without handing it from thread to thread, which
// is what a synchronous gRPC server spends most of a pass-through call's CPU on (see
// bench/gateway_bench.cc and docs/ARCHITECTURE.md "Gateway" for the measurements behind the
// choice over gRPC's callback API).
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
// Methods of a generated service (Add with its Service class, AddServerStreaming) are registered
// with gRPC under that service, so reflection lists them; every other method (AddRaw, Add on
// another class) is served through gRPC's generic service, which also answers UNIMPLEMENTED for
// names nobody registered. Both are gRPC's public asynchronous API.
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
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_stream.h"
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
  AsyncWait();
  // Waits for operations still pending (an operation must not outlive its buffers).
  ~AsyncWait();
  AsyncWait(const AsyncWait&) = delete;
  AsyncWait& operator=(const AsyncWait&) = delete;

  grpc::CompletionQueue* queue() const { return queue_; }
  // The tag of one more operation to wait for.
  void* Tag();
  // Returns when every tagged operation has completed; false if any completed with ok == false
  // since the previous Wait (for a server-side read: there was no message; for a write: the
  // client has gone; for a client-side read: the stream has ended).
  bool Wait();
  // Wait(), calling `tick` every `interval` while operations are pending (off a loop only: on a
  // loop's fiber it is Wait()). `tick` may cancel the operations (ClientContext::TryCancel).
  bool Wait(absl::Duration interval, const std::function<void()>& tick);

 private:
  void Done(bool ok) override;
  // all_ok_, which starts again at true.
  bool TakeAllOk();

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

// The responses of a server-streaming call as its handler sends them, as bytes.
class ByteStream {
 public:
  // Sends one response and waits until gRPC has taken it (suspending the fiber, not the loop);
  // false once the client has gone or cancelled: the handler should then return.
  virtual bool Write(const grpc::ByteBuffer& message) = 0;

 protected:
  ~ByteStream() = default;
};

// The same, typed: what a server-streaming handler registered with AddServerStreaming receives.
template <typename Response>
class ResponseStream {
 public:
  explicit ResponseStream(ByteStream& bytes) : bytes_(bytes) {}
  bool Write(const Response& response);

 private:
  ByteStream& bytes_;
};

// A generated service as gRPC's server sees it when the loops serve it: every method is raw
// (requested by the loops, as bytes), so that calls are accepted on the loops' queues and the
// server knows the service's name (reflection lists it).
class RegisteredService {
 public:
  virtual ~RegisteredService() = default;
  virtual grpc::Service* service() = 0;
  virtual void RequestUnary(int index, grpc::ServerContext* context, grpc::ByteBuffer* request,
                            grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* responder,
                            grpc::ServerCompletionQueue* queue, void* tag) = 0;
  virtual void RequestServerStreaming(int index, grpc::ServerContext* context,
                                      grpc::ByteBuffer* request,
                                      grpc::ServerAsyncWriter<grpc::ByteBuffer>* writer,
                                      grpc::ServerCompletionQueue* queue, void* tag) = 0;
};

template <typename GeneratedService>
class RegisteredServiceOf final : public GeneratedService, public RegisteredService {
 public:
  explicit RegisteredServiceOf(int methods) {
    for (int i = 0; i < methods; ++i) this->MarkMethodRaw(i);
  }
  grpc::Service* service() override { return this; }
  void RequestUnary(int index, grpc::ServerContext* context, grpc::ByteBuffer* request,
                    grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* responder,
                    grpc::ServerCompletionQueue* queue, void* tag) override {
    this->RequestAsyncUnary(index, context, request, responder, queue, queue, tag);
  }
  void RequestServerStreaming(int index, grpc::ServerContext* context, grpc::ByteBuffer* request,
                              grpc::ServerAsyncWriter<grpc::ByteBuffer>* writer,
                              grpc::ServerCompletionQueue* queue, void* tag) override {
    this->RequestAsyncServerStreaming(index, context, request, writer, queue, queue, tag);
  }
};

// The handlers of the served methods by full name ("/linli.gateway.v1.ConsoleService/GetRegion"),
// each taking the request's bytes and producing the response's.
class MethodTable {
 public:
  using Handler =
      std::function<grpc::Status(grpc::ServerContext*, grpc::ByteBuffer*, grpc::ByteBuffer*)>;
  using StreamHandler =
      std::function<grpc::Status(grpc::ServerContext*, grpc::ByteBuffer*, ByteStream*)>;

  // A served method: exactly one of the handlers is set.
  struct Method {
    Handler unary;
    StreamHandler server_streaming;
  };

  // A unary method. When `Base` is a generated gRPC service class (v1::X::Service), the loops
  // register that service with gRPC; otherwise the method is served as a raw one.
  template <typename Service, typename Base, typename Request, typename Response>
  void Add(std::string method, Service* service,
           grpc::Status (Base::*handler)(grpc::ServerContext*, const Request*, Response*)) {
    if constexpr (std::is_base_of_v<grpc::Service, Base>) RegisterService<Base>(method);
    methods_[std::move(method)].unary = [service, handler](grpc::ServerContext* context,
                                                           grpc::ByteBuffer* in,
                                                           grpc::ByteBuffer* out) -> grpc::Status {
      Request request;
      if (!ParseRequest(in, &request)) return InvalidRequest(request);
      Response response;
      grpc::Status status = (service->*handler)(context, &request, &response);
      if (status.ok()) Serialize(response, out);
      return status;
    };
  }

  // A server-streaming method of the generated service `Base` (v1::X::Service), served by
  // `handler`, which writes its responses to the stream and returns the call's status.
  template <typename Base, typename Service, typename Request, typename Response>
  void AddServerStreaming(std::string method, Service* service,
                          grpc::Status (Service::*handler)(grpc::ServerContext*, const Request*,
                                                           ResponseStream<Response>*)) {
    static_assert(std::is_base_of_v<grpc::Service, Base>, "Base is a generated Service class");
    RegisterService<Base>(method);
    methods_[std::move(method)].server_streaming =
        [service, handler](grpc::ServerContext* context, grpc::ByteBuffer* in,
                           ByteStream* out) -> grpc::Status {
      Request request;
      if (!ParseRequest(in, &request)) return InvalidRequest(request);
      ResponseStream<Response> stream(*out);
      return (service->*handler)(context, &request, &stream);
    };
  }

  // A method whose messages the handler decodes and encodes itself (served as a raw method).
  void AddRaw(std::string method, Handler handler) {
    methods_[std::move(method)].unary = std::move(handler);
  }
  void AddRawServerStreaming(std::string method, StreamHandler handler) {
    methods_[std::move(method)].server_streaming = std::move(handler);
  }

  const Method* Find(absl::string_view method) const;
  // Every method's full name, sorted.
  std::vector<std::string> Methods() const;

  // Encodes a message for the wire (as ResponseStream and the HTTP bridge do).
  static void Serialize(const google::protobuf::Message& message, grpc::ByteBuffer* out);

 private:
  friend class EventLoops;
  using ServiceFactory = std::function<std::unique_ptr<RegisteredService>(int methods)>;

  template <typename Base>
  void RegisterService(const std::string& method) {
    services_[method.substr(0, method.rfind('/'))] = [](int methods) {
      return std::make_unique<RegisteredServiceOf<Base>>(methods);
    };
  }
  static bool ParseRequest(grpc::ByteBuffer* in, google::protobuf::Message* request);
  static grpc::Status InvalidRequest(const google::protobuf::Message& request);

  absl::flat_hash_map<std::string, Method> methods_;
  // By service name with its leading slash ("/linli.gateway.v1.ConsoleService").
  std::map<std::string, ServiceFactory> services_;
};

template <typename Response>
bool ResponseStream<Response>::Write(const Response& response) {
  grpc::ByteBuffer bytes;
  MethodTable::Serialize(response, &bytes);
  return bytes_.Write(bytes);
}

struct LoopMethod;

// Calls a loop serves at once (each a fiber with its own stack).
inline constexpr int kMaxFibersPerLoop = 4096;

// The loops serving a MethodTable on a gRPC server.
class EventLoops {
 public:
  // Loops serving every method of `table`, each running at most `max_fibers` calls at once. A
  // method of a registered service without a handler is answered UNIMPLEMENTED.
  static std::unique_ptr<EventLoops> Create(MethodTable table, int loops,
                                            int max_fibers = kMaxFibersPerLoop);
  ~EventLoops();
  EventLoops(const EventLoops&) = delete;
  EventLoops& operator=(const EventLoops&) = delete;

  // Registers the services and the loops' queues on `builder`, before the server is built.
  void Configure(grpc::ServerBuilder& builder);
  // True for the calls the loops serve (every name but the health and reflection methods of
  // the server's own services, unless the table has them): they keep their own CallRecord, so
  // pass this as ServerOptions::records_itself.
  bool Serves(absl::string_view method) const;
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
  std::vector<std::unique_ptr<RegisteredService>> services_;
  std::unique_ptr<grpc::AsyncGenericService> generic_;
  std::vector<LoopMethod> methods_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
};

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_EVENT_LOOP_H_
