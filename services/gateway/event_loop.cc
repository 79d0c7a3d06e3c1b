#include "services/gateway/event_loop.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "boost/context/fiber.hpp"
#include "boost/context/protected_fixedsize_stack.hpp"
#include "common/clock.h"
#include "common/log.h"
#include "common/server.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/slice.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace linli::gateway {
namespace {

// 512 KiB per call (mapped lazily: only the pages a call touches are used): protobuf parsing is
// depth-limited and handlers keep messages small. Boost's protected stacks put a guard page
// below, so an overflow faults rather than corrupts.
constexpr size_t kStackBytes = 512 * 1024;
// Stacks of ended fibers a thread keeps for its next ones.
constexpr size_t kMaxPooledStacks = 256;

// Boost.Context's StackAllocator: protected stacks, pooled per thread (a fiber is created, run
// and destroyed on one loop thread, so its stack returns to the pool it came from). Tells
// `*allocated` which stack it gave.
class PooledStack {
 public:
  explicit PooledStack(boost::context::stack_context* allocated) : allocated_(allocated) {}

  boost::context::stack_context allocate() {
    std::vector<boost::context::stack_context>& pool = Pool().stacks;
    if (!pool.empty()) {
      *allocated_ = pool.back();
      pool.pop_back();
    } else {
      *allocated_ = boost::context::protected_fixedsize_stack(kStackBytes).allocate();  // may throw
    }
    return *allocated_;
  }
  void deallocate(boost::context::stack_context& stack) noexcept {
    std::vector<boost::context::stack_context>& pool = Pool().stacks;
    if (pool.size() < kMaxPooledStacks) {
      pool.push_back(stack);
    } else {
      boost::context::protected_fixedsize_stack(kStackBytes).deallocate(stack);
    }
  }

 private:
  struct ThreadPool {
    std::vector<boost::context::stack_context> stacks;
    ~ThreadPool() {
      for (boost::context::stack_context& stack : stacks) {
        boost::context::protected_fixedsize_stack(kStackBytes).deallocate(stack);
      }
    }
  };
  static ThreadPool& Pool() {
    static thread_local ThreadPool pool;
    return pool;
  }

  boost::context::stack_context* allocated_;
};

// AddressSanitizer must be told of every switch between stacks (its documented fiber
// interface), or it takes a fiber's frames for overflows of the thread's stack. No-ops in
// builds without it.
#if defined(__SANITIZE_ADDRESS__)
void StartSwitch(void** fake_stack, const void* bottom, size_t size) {
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
}
void FinishSwitch(void* fake_stack, const void** bottom, size_t* size) {
  __sanitizer_finish_switch_fiber(fake_stack, bottom, size);
}
#else
void StartSwitch(void**, const void*, size_t) {}
void FinishSwitch(void*, const void**, size_t*) {}
#endif

}  // namespace

// A body run on a stack of its own (a Boost.Context fiber). Not thread-safe: a fiber is created,
// run and destroyed on one thread.
class Fiber {
 public:
  // A fiber that will run `body`; null when no stack could be mapped.
  static std::unique_ptr<Fiber> Create(absl::AnyInvocable<void()> body) {
    std::unique_ptr<Fiber> fiber(new Fiber(std::move(body)));
    try {
      fiber->context_ = boost::context::fiber(
          std::allocator_arg, PooledStack(&fiber->stack_),
          [self = fiber.get()](boost::context::fiber&& caller) {
            FinishSwitch(nullptr, &self->caller_bottom_, &self->caller_size_);
            self->caller_ = std::move(caller);
            self->body_();
            self->body_ = nullptr;  // destroys what the body captured while still on this stack
            self->finished_ = true;
            StartSwitch(nullptr, self->caller_bottom_, self->caller_size_);  // for good
            return std::move(self->caller_);
          });
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
    return fiber;
  }
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the body until it suspends or returns; true when it has returned.
  bool Run() {
    Fiber* outer = current_;
    current_ = this;
    SwapCurrentRequestId(request_id_);  // the fiber's in, the caller's kept in request_id_
    void* fake_stack = nullptr;
    StartSwitch(&fake_stack, static_cast<char*>(stack_.sp) - stack_.size, stack_.size);
    context_ = std::move(context_).resume();
    FinishSwitch(fake_stack, nullptr, nullptr);
    SwapCurrentRequestId(request_id_);  // and back
    current_ = outer;
    return finished_;
  }
  // Inside a fiber: back to the caller of Run(), until the next Run().
  void Suspend() {
    void* fake_stack = nullptr;
    StartSwitch(&fake_stack, caller_bottom_, caller_size_);
    caller_ = std::move(caller_).resume();
    FinishSwitch(fake_stack, &caller_bottom_, &caller_size_);
  }
  // The fiber the calling thread is running, null outside fibers.
  static Fiber* Current() { return current_; }

 private:
  explicit Fiber(absl::AnyInvocable<void()> body) : body_(std::move(body)) {}

  static thread_local Fiber* current_;

  absl::AnyInvocable<void()> body_;
  boost::context::stack_context stack_;  // the fiber's stack (PooledStack sets it)
  boost::context::fiber context_;        // the fiber, while it is suspended
  boost::context::fiber caller_;         // Run()'s caller, while the fiber runs
  // The caller's stack, for AddressSanitizer (StartSwitch back to it).
  const void* caller_bottom_ = nullptr;
  size_t caller_size_ = 0;
  bool finished_ = false;
  // The log request id of the call the fiber serves, swapped in while it runs.
  std::string request_id_;
};

thread_local Fiber* Fiber::current_ = nullptr;

// How a loop requests calls: one method of a registered service (by its index there), or the
// generic service (every other method).
struct LoopMethod {
  RegisteredService* service;  // null: the generic service
  int index;
  bool server_streaming;
  std::string name;  // empty for the generic service
  const MethodTable::Method* method;
};

namespace {

grpc::Status Unimplemented(absl::string_view method) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, absl::StrCat("unknown method ", method));
}

}  // namespace

// One thread running one server completion queue.
class EventLoop {
 public:
  EventLoop(const MethodTable& table, const std::vector<LoopMethod>& methods,
            grpc::AsyncGenericService* generic, int max_fibers,
            std::unique_ptr<grpc::ServerCompletionQueue> queue)
      : table_(table),
        methods_(methods),
        generic_(generic),
        max_fibers_(max_fibers),
        queue_(std::move(queue)) {}

  grpc::ServerCompletionQueue* queue() const { return queue_.get(); }
  // The loop whose thread is the calling thread, null elsewhere.
  static EventLoop* Current() { return current_; }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  // After the server's Shutdown: the loop ends once its calls have (see Run).
  void RequestStop() { stopping_.store(true); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // Runs `fiber` until it suspends or ends (then deletes it).
  void Resume(Fiber* fiber) {
    if (!fiber->Run()) return;
    delete fiber;
    --fibers_;
    // A method held back at the cap may take its next call now.
    if (!deferred_.empty() && !stopping_.load()) {
      const LoopMethod* method = deferred_.back();
      deferred_.pop_back();
      Accept(*method);
    }
  }

 private:
  class IncomingCall;

  void Accept(const LoopMethod& method);
  void Serve(IncomingCall& call);

  void Run() {
    current_ = this;
    for (const LoopMethod& method : methods_) Accept(method);
    bool shut_down = false;
    for (;;) {
      void* tag = nullptr;
      bool ok = false;
      // The deadline only lets a stopping loop notice that its last fiber has ended.
      auto next = queue_->AsyncNext(&tag, &ok, DeadlineAfter(absl::Milliseconds(200)));
      if (next == grpc::CompletionQueue::SHUTDOWN) break;
      if (next == grpc::CompletionQueue::GOT_EVENT) {
        static_cast<Completion*>(tag)->Done(ok);
      }
      // The server has been shut down, every request for a call has come back and every fiber
      // has ended: nothing can start an operation on the queue any more.
      if (!shut_down && stopping_.load() && fibers_ == 0 && accepts_ == 0) {
        queue_->Shutdown();
        shut_down = true;
      }
    }
    current_ = nullptr;
  }

  const MethodTable& table_;
  const std::vector<LoopMethod>& methods_;
  grpc::AsyncGenericService* generic_;
  const int max_fibers_;
  std::unique_ptr<grpc::ServerCompletionQueue> queue_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  // Loop thread only: fibers running, requests for calls outstanding, methods whose next
  // request waits for a fiber to end (the cap).
  int fibers_ = 0;
  int accepts_ = 0;
  std::vector<const LoopMethod*> deferred_;

  static thread_local EventLoop* current_;
};

thread_local EventLoop* EventLoop::current_ = nullptr;

// A call of one method waiting to be accepted; once accepted, the fiber serving it owns it. It
// speaks to gRPC through whichever of the three stream objects its kind uses.
//
// A server-streaming call of a generated service may run long (a watch): it asks gRPC to say when
// the call is over, so that ServerContext::IsCancelled() tells its handler of a client that went
// away. Such a call is deleted once its fiber has ended and that notice has come (gRPC gives it
// for every call that started).
class EventLoop::IncomingCall final : public Completion, public ByteStream {
 public:
  IncomingCall(EventLoop& loop, const LoopMethod& method)
      : loop_(loop), method_(method), done_notice_(*this) {
    if (method.service == nullptr) {
      generic_.emplace();
    } else if (method.server_streaming) {
      writer_ = std::make_unique<grpc::ServerAsyncWriter<grpc::ByteBuffer>>(&context_);
      context_.AsyncNotifyWhenDone(static_cast<Completion*>(&done_notice_));
      awaits_done_notice_ = true;
    } else {
      responder_ = std::make_unique<grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>>(&context_);
    }
  }

  void Request(grpc::ServerCompletionQueue* queue) {
    if (generic_.has_value()) {
      loop_.generic_->RequestCall(&generic_->context, &generic_->stream, queue, queue, this);
    } else if (writer_ != nullptr) {
      method_.service->RequestServerStreaming(method_.index, &context_, &request_, writer_.get(),
                                              queue, this);
    } else {
      method_.service->RequestUnary(method_.index, &context_, &request_, responder_.get(), queue,
                                    this);
    }
  }

  grpc::ServerContext& context() {
    return generic_.has_value() ? static_cast<grpc::ServerContext&>(generic_->context) : context_;
  }
  const std::string& name() const {
    return generic_.has_value() ? generic_->context.method() : method_.name;
  }

  // On the fiber. The handler to run, null when the method is unknown; for the generic service
  // the request is read first (false: the client sent none).
  bool Prepare(const MethodTable::Method** handler, const MethodTable& table) {
    if (!generic_.has_value()) {
      *handler = method_.method;
      return true;
    }
    *handler = table.Find(generic_->context.method());
    if (*handler == nullptr) return true;
    AsyncWait read;
    generic_->stream.Read(&request_, read.Tag());
    return read.Wait();
  }
  grpc::ByteBuffer* request() { return &request_; }
  const std::string& request_id() const { return record_->request_id(); }

  bool Write(const grpc::ByteBuffer& message) override {
    AsyncWait sent;
    if (generic_.has_value()) {
      generic_->stream.Write(message, sent.Tag());
    } else {
      writer_->Write(message, sent.Tag());
    }
    return sent.Wait();
  }

  // Ends the call: `response` (unary, when `status` is OK) then `status`.
  void Finish(const grpc::Status& status, const grpc::ByteBuffer* response) {
    EndRecord(status);
    AsyncWait sent;
    if (generic_.has_value()) {
      if (response != nullptr && status.ok()) {
        generic_->stream.WriteAndFinish(*response, grpc::WriteOptions(), status, sent.Tag());
      } else {
        generic_->stream.Finish(status, sent.Tag());
      }
    } else if (writer_ != nullptr) {
      writer_->Finish(status, sent.Tag());
    } else if (response != nullptr && status.ok()) {
      responder_->Finish(*response, status, sent.Tag());
    } else {
      responder_->FinishWithError(status, sent.Tag());
    }
    sent.Wait();
  }

  void Done(bool ok) override {
    if (rejected_) {  // the RESOURCE_EXHAUSTED answer has been sent
      served_ = true;
      DeleteWhenOver();
      return;
    }
    EventLoop& loop = loop_;
    --loop.accepts_;
    if (!ok) {  // the server is shutting down (no call started: no done notice either)
      delete this;
      return;
    }
    // The next call of the same method, unless stopping or at the cap.
    if (!loop.stopping_.load()) {
      if (loop.fibers_ + 1 < loop.max_fibers_) {
        loop.Accept(method_);
      } else {
        loop.deferred_.push_back(&method_);
      }
    }
    // The call's record (common/server.h): the server's interceptor leaves these calls alone.
    auto sent_id = context().client_metadata().find(kRequestIdKey);
    record_.emplace(name(),
                    sent_id == context().client_metadata().end()
                        ? absl::string_view()
                        : absl::string_view(sent_id->second.data(), sent_id->second.size()));
    IncomingCall* call = this;
    std::unique_ptr<Fiber> fiber = Fiber::Create([&loop, call] {
      loop.Serve(*call);
      call->served_ = true;
      call->DeleteWhenOver();
    });
    if (fiber == nullptr) {
      LogError("cannot map a fiber stack; call refused", {{"method", name()}});
      rejected_ = true;
      const grpc::Status overloaded(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                    "the gateway is overloaded; retry");
      EndRecord(overloaded);
      if (generic_.has_value()) {
        generic_->stream.Finish(overloaded, this);
      } else if (writer_ != nullptr) {
        writer_->Finish(overloaded, this);
      } else {
        responder_->FinishWithError(overloaded, this);
      }
      return;
    }
    ++loop.fibers_;
    loop.Resume(fiber.release());
  }

 private:
  struct Generic {
    grpc::GenericServerContext context;
    grpc::GenericServerAsyncReaderWriter stream{&context};
  };
  class DoneNotice final : public Completion {
   public:
    explicit DoneNotice(IncomingCall& call) : call_(call) {}
    void Done(bool) override {
      call_.awaits_done_notice_ = false;
      call_.DeleteWhenOver();
    }

   private:
    IncomingCall& call_;
  };

  // The status is about to be sent: the request id goes with it, the record is closed.
  void EndRecord(const grpc::Status& status) {
    if (!record_.has_value()) return;
    context().AddTrailingMetadata(kRequestIdKey, record_->request_id());
    record_->End(status);
  }

  void DeleteWhenOver() {
    if (served_ && !awaits_done_notice_) delete this;
  }

  EventLoop& loop_;
  const LoopMethod& method_;
  DoneNotice done_notice_;
  bool awaits_done_notice_ = false;
  bool served_ = false;  // the fiber has ended, or the call was refused and answered
  grpc::ServerContext context_;
  grpc::ByteBuffer request_;
  std::unique_ptr<grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>> responder_;
  std::unique_ptr<grpc::ServerAsyncWriter<grpc::ByteBuffer>> writer_;
  std::optional<Generic> generic_;
  bool rejected_ = false;
  std::optional<CallRecord> record_;
};

void EventLoop::Accept(const LoopMethod& method) {
  ++accepts_;
  auto* call = new IncomingCall(*this, method);
  call->Request(queue_.get());
}

void EventLoop::Serve(IncomingCall& call) {
  // The call's request id for every log line written while serving it (and for RequestId(), which
  // falls back to it); the fiber keeps it across its suspensions.
  SetCurrentRequestId(call.request_id());
  const MethodTable::Method* handler = nullptr;
  if (!call.Prepare(&handler, table_)) {
    call.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the call carried no request"),
                nullptr);
    return;
  }
  if (handler == nullptr) {
    call.Finish(Unimplemented(call.name()), nullptr);
    return;
  }
  grpc::ByteBuffer response;
  grpc::Status status;
  try {
    if (handler->server_streaming) {
      status = handler->server_streaming(&call.context(), call.request(), &call);
    } else {
      status = handler->unary(&call.context(), call.request(), &response);
    }
  } catch (const std::exception& e) {
    LogError("handler failed", {{"method", call.name()}, {"error", e.what()}});
    status = grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  } catch (...) {
    LogError("handler failed", {{"method", call.name()}});
    status = grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }
  call.Finish(status, handler->server_streaming ? nullptr : &response);
}

AsyncWait::AsyncWait() : fiber_(Fiber::Current()), loop_(EventLoop::Current()) {
  if (fiber_ != nullptr && loop_ != nullptr) {
    queue_ = loop_->queue();
    return;
  }
  fiber_ = nullptr;
  own_queue_ = std::make_unique<grpc::CompletionQueue>();
  queue_ = own_queue_.get();
}

AsyncWait::~AsyncWait() {
  Wait();
  if (own_queue_ != nullptr) {
    own_queue_->Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (own_queue_->Next(&tag, &ok)) {
    }
  }
}

void* AsyncWait::Tag() {
  ++pending_;
  return static_cast<Completion*>(this);
}

bool AsyncWait::Wait() {
  if (fiber_ != nullptr) {
    if (pending_ > 0) {
      waiting_ = true;
      fiber_->Suspend();  // Done() resumes it when the last operation completes
      waiting_ = false;
    }
  } else {
    while (pending_ > 0) {
      void* tag = nullptr;
      bool ok = false;
      if (!own_queue_->Next(&tag, &ok)) break;
      static_cast<Completion*>(tag)->Done(ok);
    }
  }
  return TakeAllOk();
}

bool AsyncWait::TakeAllOk() {
  const bool all_ok = all_ok_;
  all_ok_ = true;
  return all_ok;
}

bool AsyncWait::Wait(absl::Duration interval, const std::function<void()>& tick) {
  if (fiber_ != nullptr) return Wait();
  while (pending_ > 0) {
    void* tag = nullptr;
    bool ok = false;
    switch (own_queue_->AsyncNext(&tag, &ok, DeadlineAfter(interval))) {
      case grpc::CompletionQueue::GOT_EVENT:
        static_cast<Completion*>(tag)->Done(ok);
        break;
      case grpc::CompletionQueue::TIMEOUT:
        tick();
        break;
      case grpc::CompletionQueue::SHUTDOWN:
        return TakeAllOk();
    }
  }
  return TakeAllOk();
}

void AsyncWait::Done(bool ok) {
  all_ok_ = all_ok_ && ok;
  --pending_;
  if (pending_ == 0 && waiting_) loop_->Resume(fiber_);
}

const MethodTable::Method* MethodTable::Find(absl::string_view method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? nullptr : &it->second;
}

std::vector<std::string> MethodTable::Methods() const {
  std::vector<std::string> methods;
  for (const auto& [name, handler] : methods_) methods.push_back(name);
  std::sort(methods.begin(), methods.end());
  return methods;
}

bool MethodTable::ParseRequest(grpc::ByteBuffer* in, google::protobuf::Message* request) {
  grpc::ProtoBufferReader reader(in);
  return request->ParseFromZeroCopyStream(&reader);
}

grpc::Status MethodTable::InvalidRequest(const google::protobuf::Message& request) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      "the request is not a valid " + request.GetTypeName() + " message");
}

void MethodTable::Serialize(const google::protobuf::Message& message, grpc::ByteBuffer* out) {
  // One slice of the exact size, serialized into directly (sizes are cached by ByteSizeLong).
  grpc::Slice slice(message.ByteSizeLong());
  message.SerializeWithCachedSizesToArray(const_cast<uint8_t*>(slice.begin()));
  *out = grpc::ByteBuffer(&slice, 1);
}

std::unique_ptr<EventLoops> EventLoops::Create(MethodTable table, int loops, int max_fibers) {
  std::unique_ptr<EventLoops> created(new EventLoops());
  created->table_ = std::move(table);
  created->loop_count_ = std::max(1, loops);
  created->max_fibers_ = std::max(1, max_fibers);
  const MethodTable& served = created->table_;
  // Each registered service with every one of its methods, by index in the generated descriptor
  // (the order in which the generated Service class adds them).
  for (const auto& [name, factory] : served.services_) {
    const google::protobuf::ServiceDescriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name.substr(1));
    if (descriptor == nullptr) continue;  // unreachable: Base's descriptor is linked in with it
    created->services_.push_back(factory(descriptor->method_count()));
    RegisteredService* service = created->services_.back().get();
    for (int i = 0; i < descriptor->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = descriptor->method(i);
      std::string full_name = absl::StrCat(name, "/", method->name());
      const MethodTable::Method* handler = served.Find(full_name);
      created->methods_.push_back(
          {service, i, method->server_streaming(), std::move(full_name), handler});
    }
  }
  // Every other method, and names nobody serves, through the generic service.
  created->generic_ = std::make_unique<grpc::AsyncGenericService>();
  created->methods_.push_back({nullptr, 0, false, "", nullptr});
  return created;
}

EventLoops::EventLoops() = default;
EventLoops::~EventLoops() { Stop(); }

void EventLoops::Configure(grpc::ServerBuilder& builder) {
  for (auto& service : services_) builder.RegisterService(service->service());
  builder.RegisterAsyncGenericService(generic_.get());
  for (int i = 0; i < loop_count_; ++i) {
    loops_.push_back(std::make_unique<EventLoop>(table_, methods_, generic_.get(), max_fibers_,
                                                 builder.AddCompletionQueue()));
  }
}

bool EventLoops::Serves(absl::string_view method) const {
  return !IsPlatformMethod(method) || table_.Find(method) != nullptr;
}

void EventLoops::Start() {
  for (auto& loop : loops_) loop->Start();
}

void EventLoops::Stop() {
  for (auto& loop : loops_) loop->RequestStop();
  for (auto& loop : loops_) loop->Join();
}

}  // namespace linli::gateway
