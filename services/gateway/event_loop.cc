#include "services/gateway/event_loop.h"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/server.h"
#include "google/protobuf/descriptor.h"
#include "grpc/grpc.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"

#if defined(__x86_64__)
// linli_fiber_switch(from, to): pushes the callee-saved registers of the System V x86-64 ABI and
// the SSE and x87 control words on the current stack, stores the stack pointer in *from, switches
// to the stack `to` (saved the same way, or prepared by Fiber's constructor) and pops the same
// from there. Unlike swapcontext it leaves the signal mask alone, which would cost two system
// calls per switch (measured with strace: 7 per gateway call, more than all others together).
extern "C" void linli_fiber_switch(void** from, void* to);
asm(R"(
  .pushsection .text
  .globl linli_fiber_switch
  .type linli_fiber_switch, @function
  .p2align 4
linli_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size linli_fiber_switch, .-linli_fiber_switch
  .popsection
)");
#endif

namespace linli::gateway {

// A body run on a stack of its own (switched with linli_fiber_switch on x86-64, ucontext
// elsewhere). Not thread-safe: a fiber is created, run and destroyed on one thread.
class Fiber {
 public:
  // A fiber that will run `body`; null when no stack could be mapped.
  static std::unique_ptr<Fiber> Create(absl::AnyInvocable<void()> body);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the body until it suspends or returns; true when it has returned.
  bool Run();
  // Inside a fiber: back to the caller of Run(), until the next Run().
  void Suspend();
  // The fiber the calling thread is running, null outside fibers.
  static Fiber* Current() { return current_; }

 private:
  Fiber(absl::AnyInvocable<void()> body, void* stack);
  static void Enter();

  // 512 KiB (mapped lazily: only the pages a call touches are used): protobuf parsing is
  // depth-limited and handlers keep messages small; the guard page below turns an overflow into a
  // fault rather than corruption.
  static constexpr size_t kStackBytes = 512 * 1024;
  static constexpr size_t kMaxPooledStacks = 256;
  static void* TakeStack();
  static void ReturnStack(void* stack);

  static thread_local Fiber* current_;
  // Stacks of ended fibers kept for the next ones; unmapped when the thread ends.
  struct StackPool {
    std::vector<void*> stacks;
    ~StackPool();
  };
  static thread_local StackPool stack_pool_;

  absl::AnyInvocable<void()> body_;
  void* stack_;  // the mapping, guard page first
#if defined(__x86_64__)
  void* sp_ = nullptr;         // the fiber's saved stack pointer
  void* caller_sp_ = nullptr;  // Run()'s, while the fiber runs
#else
  ucontext_t context_{};
  ucontext_t caller_{};
#endif
  bool finished_ = false;
  // The log request id of the call the fiber serves, swapped in while it runs.
  std::string request_id_;
};

thread_local Fiber* Fiber::current_ = nullptr;
thread_local Fiber::StackPool Fiber::stack_pool_;

namespace {
size_t PageBytes() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}
}  // namespace

Fiber::StackPool::~StackPool() {
  for (void* stack : stacks) munmap(stack, kStackBytes + PageBytes());
}

void* Fiber::TakeStack() {
  if (!stack_pool_.stacks.empty()) {
    void* stack = stack_pool_.stacks.back();
    stack_pool_.stacks.pop_back();
    return stack;
  }
  void* stack = mmap(nullptr, kStackBytes + PageBytes(), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (stack == MAP_FAILED) return nullptr;
  if (mprotect(stack, PageBytes(), PROT_NONE) != 0) {  // no stack without its guard page
    munmap(stack, kStackBytes + PageBytes());
    return nullptr;
  }
  return stack;
}

std::unique_ptr<Fiber> Fiber::Create(absl::AnyInvocable<void()> body) {
  void* stack = TakeStack();
  if (stack == nullptr) return nullptr;
  return std::unique_ptr<Fiber>(new Fiber(std::move(body), stack));
}

void Fiber::ReturnStack(void* stack) {
  if (stack_pool_.stacks.size() < kMaxPooledStacks) {
    stack_pool_.stacks.push_back(stack);
  } else {
    munmap(stack, kStackBytes + PageBytes());
  }
}

Fiber::Fiber(absl::AnyInvocable<void()> body, void* stack) : body_(std::move(body)), stack_(stack) {
#if defined(__x86_64__)
  // The frame linli_fiber_switch pops on the first Run: control words, six registers, then
  // Enter as the return address, placed so that Enter starts with the stack aligned as after a
  // call (rsp + 8 a multiple of 16), above it a null return address that ends stack walks.
  void** top = reinterpret_cast<void**>(static_cast<char*>(stack_) + PageBytes() + kStackBytes);
  *--top = nullptr;
  *--top = reinterpret_cast<void*>(&Fiber::Enter);
  for (int i = 0; i < 6; ++i) *--top = nullptr;
  const uint32_t control_words[2] = {0x1F80, 0x037F};  // MXCSR and x87 defaults
  std::memcpy(--top, control_words, sizeof(control_words));
  sp_ = top;
#else
  getcontext(&context_);
  context_.uc_stack.ss_sp = static_cast<char*>(stack_) + PageBytes();
  context_.uc_stack.ss_size = kStackBytes;
  context_.uc_link = nullptr;
  makecontext(&context_, &Fiber::Enter, 0);
#endif
}

Fiber::~Fiber() { ReturnStack(stack_); }

void Fiber::Enter() {
  Fiber* self = current_;
  self->body_();
  self->body_ = nullptr;  // destroys what the body captured while still on this stack
  self->finished_ = true;
  self->Suspend();  // never resumed
}

bool Fiber::Run() {
  Fiber* outer = current_;
  current_ = this;
  SwapCurrentRequestId(request_id_);  // the fiber's in, the caller's kept in request_id_
#if defined(__x86_64__)
  linli_fiber_switch(&caller_sp_, sp_);
#else
  swapcontext(&caller_, &context_);
#endif
  SwapCurrentRequestId(request_id_);  // and back
  current_ = outer;
  return finished_;
}

void Fiber::Suspend() {
#if defined(__x86_64__)
  linli_fiber_switch(&sp_, caller_sp_);
#else
  swapcontext(&context_, &caller_);
#endif
}

// The public services as the server sees them: every method registered asynchronously (no
// handler of gRPC's own), so that calls are accepted on the loops' queues, and so that the
// server still knows the services' names (reflection lists them, unknown methods are
// UNIMPLEMENTED as usual).
class LoopService final : public grpc::Service {
 public:
  // `methods`: full names ("/package.Service/Method") of one service's methods.
  explicit LoopService(std::vector<std::string> methods) : names_(std::move(methods)) {
    for (size_t i = 0; i < names_.size(); ++i) {
      AddMethod(new grpc::internal::RpcServiceMethod(
          names_[i].c_str(), grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
      MarkMethodAsync(static_cast<int>(i));
    }
  }
  const std::vector<std::string>& names() const { return names_; }

  void Request(int method, grpc::ServerContext* context, grpc::ByteBuffer* request,
               grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>* responder,
               grpc::ServerCompletionQueue* queue, void* tag) {
    RequestAsyncUnary(method, context, request, responder, queue, queue, tag);
  }

 private:
  std::vector<std::string> names_;  // the method names gRPC points to
};

// A method as a loop requests its calls: the service and index gRPC knows it by, its handler.
struct LoopMethod {
  LoopService* service;
  int index;
  const MethodTable::Handler* handler;
};

// One thread running one server completion queue.
class EventLoop {
 public:
  using Method = LoopMethod;

  EventLoop(const std::vector<Method>& methods, int max_fibers,
            std::unique_ptr<grpc::ServerCompletionQueue> queue)
      : methods_(methods), max_fibers_(max_fibers), queue_(std::move(queue)) {}

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
      const Method* method = deferred_.back();
      deferred_.pop_back();
      Accept(*method);
    }
  }

 private:
  class IncomingCall;

  void Accept(const Method& method);
  void Serve(IncomingCall& call);

  void Run() {
    current_ = this;
    for (const Method& method : methods_) Accept(method);
    bool shut_down = false;
    for (;;) {
      void* tag = nullptr;
      bool ok = false;
      // The deadline only lets a stopping loop notice that its last fiber has ended.
      auto next = queue_->AsyncNext(&tag, &ok, DeadlineAfter(absl::Milliseconds(200)));
      if (next == grpc::CompletionQueue::SHUTDOWN) break;
      if (next == grpc::CompletionQueue::GOT_EVENT) {
        // The server's interceptor has just set this thread's request id for some call; the
        // loop itself serves none (each fiber carries its own).
        if (!CurrentRequestId().empty()) SetCurrentRequestId("");
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

  const std::vector<Method>& methods_;
  const int max_fibers_;
  std::unique_ptr<grpc::ServerCompletionQueue> queue_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  // Loop thread only: fibers running, requests for calls outstanding, methods whose next
  // request waits for a fiber to end (the cap).
  int fibers_ = 0;
  int accepts_ = 0;
  std::vector<const Method*> deferred_;

  static thread_local EventLoop* current_;
};

thread_local EventLoop* EventLoop::current_ = nullptr;

// A call of one method waiting to be accepted; once accepted, the fiber serving it owns it.
class EventLoop::IncomingCall final : public Completion {
 public:
  IncomingCall(EventLoop& loop, const Method& method) : loop_(loop), method_(method) {}

  grpc::ServerContext context;
  grpc::ByteBuffer request;
  grpc::ServerAsyncResponseWriter<grpc::ByteBuffer> responder{&context};
  const Method& method() const { return method_; }

  void Done(bool ok) override {
    if (rejected_) {  // the RESOURCE_EXHAUSTED answer has been sent
      delete this;
      return;
    }
    EventLoop& loop = loop_;
    --loop.accepts_;
    if (!ok) {  // the server is shutting down
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
    IncomingCall* call = this;
    std::unique_ptr<Fiber> fiber = Fiber::Create([&loop, call] {
      std::unique_ptr<IncomingCall> owned(call);
      loop.Serve(*owned);
    });
    if (fiber == nullptr) {
      LogError("cannot map a fiber stack; call refused",
               {{"method", method_.service->names()[method_.index]}});
      rejected_ = true;
      responder.FinishWithError(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "the gateway is overloaded; retry"),
          this);
      return;
    }
    ++loop.fibers_;
    loop.Resume(fiber.release());
  }

 private:
  EventLoop& loop_;
  const Method& method_;
  bool rejected_ = false;
};

void EventLoop::Accept(const Method& method) {
  ++accepts_;
  auto* call = new IncomingCall(*this, method);
  method.service->Request(method.index, &call->context, &call->request, &call->responder,
                          queue_.get(), call);
}

void EventLoop::Serve(IncomingCall& call) {
  // The call's request id (common/server.cc's interceptor has put it in the metadata) for every
  // log line written while serving it; the fiber keeps it across its suspensions.
  SetCurrentRequestId(RequestId(call.context));
  grpc::ByteBuffer response;
  grpc::Status status;
  try {
    status = (*call.method().handler)(&call.context, &call.request, &response);
  } catch (const std::exception& e) {
    LogError("handler failed", {{"method", call.method().service->names()[call.method().index]},
                                {"error", e.what()}});
    status = grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  } catch (...) {
    LogError("handler failed", {{"method", call.method().service->names()[call.method().index]}});
    status = grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }
  AsyncWait sent;
  if (status.ok()) {
    call.responder.Finish(response, status, sent.Tag());
  } else {
    call.responder.FinishWithError(status, sent.Tag());
  }
  sent.Wait();
}

AsyncWait::AsyncWait(Transport transport) : fiber_(Fiber::Current()), loop_(EventLoop::Current()) {
  if (fiber_ != nullptr && loop_ != nullptr) {
    queue_ = loop_->queue();
    return;
  }
  fiber_ = nullptr;
  if (transport == Transport::kInProcess) {
    grpc_completion_queue_attributes attributes{GRPC_CQ_CURRENT_VERSION, GRPC_CQ_NEXT,
                                                GRPC_CQ_NON_POLLING, nullptr};
    own_queue_ = std::make_unique<grpc::CompletionQueue>(grpc_completion_queue_create(
        grpc_completion_queue_factory_lookup(&attributes), &attributes, nullptr));
  } else {
    own_queue_ = std::make_unique<grpc::CompletionQueue>();
  }
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
  return all_ok_;
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
        return all_ok_;
    }
  }
  return all_ok_;
}

void AsyncWait::Done(bool ok) {
  all_ok_ = all_ok_ && ok;
  --pending_;
  if (pending_ == 0 && waiting_) loop_->Resume(fiber_);
}

const MethodTable::Handler* MethodTable::Find(absl::string_view method) const {
  auto it = handlers_.find(method);
  return it == handlers_.end() ? nullptr : &it->second;
}

std::vector<std::string> MethodTable::Methods() const {
  std::vector<std::string> methods;
  for (const auto& [name, handler] : handlers_) methods.push_back(name);
  std::sort(methods.begin(), methods.end());
  return methods;
}

bool MethodTable::ParseRequest(grpc::ByteBuffer* in, google::protobuf::Message* request) {
  grpc::ProtoBufferReader reader(in);
  return request->ParseFromZeroCopyStream(&reader);
}

void MethodTable::SerializeResponse(const google::protobuf::Message& response,
                                    grpc::ByteBuffer* out) {
  bool own_buffer = false;
  grpc::GenericSerialize<grpc::ProtoBufferWriter, google::protobuf::Message>(response, out,
                                                                             &own_buffer);
}

std::unique_ptr<EventLoops> EventLoops::Create(MethodTable table, int loops, int max_fibers) {
  std::unique_ptr<EventLoops> created(new EventLoops());
  created->table_ = std::move(table);
  created->loop_count_ = std::max(1, loops);
  created->max_fibers_ = std::max(1, max_fibers);
  // One registered service per "/package.Service/" prefix (the names are sorted).
  std::vector<std::vector<std::string>> services;
  std::string previous_service;
  for (std::string& method : created->table_.Methods()) {
    std::string service = method.substr(0, method.rfind('/'));
    if (services.empty() || service != previous_service) services.emplace_back();
    previous_service = service;
    services.back().push_back(std::move(method));
  }
  for (std::vector<std::string>& methods : services) {
    created->services_.push_back(std::make_unique<LoopService>(std::move(methods)));
    LoopService& service = *created->services_.back();
    for (size_t i = 0; i < service.names().size(); ++i) {
      created->methods_.push_back(
          {&service, static_cast<int>(i), created->table_.Find(service.names()[i])});
    }
  }
  return created;
}

EventLoops::EventLoops() = default;
EventLoops::~EventLoops() { Stop(); }

void EventLoops::Configure(grpc::ServerBuilder& builder) {
  for (auto& service : services_) builder.RegisterService(service.get());
  for (int i = 0; i < loop_count_; ++i) {
    loops_.push_back(
        std::make_unique<EventLoop>(methods_, max_fibers_, builder.AddCompletionQueue()));
  }
}

void EventLoops::Start() {
  for (auto& loop : loops_) loop->Start();
}

void EventLoops::Stop() {
  for (auto& loop : loops_) loop->RequestStop();
  for (auto& loop : loops_) loop->Join();
}

}  // namespace linli::gateway
