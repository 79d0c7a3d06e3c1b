#include "bench/bare_proxy.h"

#include "common/clock.h"

#include <cstdio>
#include <memory>

#include "grpcpp/create_channel.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/byte_buffer.h"

namespace linli::bench {
namespace {

// One forwarded call; its address is the tag of every step, the step says what completed.
struct ProxiedCall {
  enum class Step { kAccepted, kRead, kBackendDone, kSent };
  Step step = Step::kAccepted;
  grpc::GenericServerContext server_context;
  grpc::GenericServerAsyncReaderWriter stream{&server_context};
  grpc::ClientContext client_context;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> backend_call;
  grpc::ByteBuffer request, response;
  grpc::Status status;
};

}  // namespace

int RunBareProxy(const std::string& listen, const std::string& backend,
                 std::shared_ptr<const auth::InternalIdentity> identity) {
  grpc::AsyncGenericService service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials());
  builder.RegisterAsyncGenericService(&service);
  std::unique_ptr<grpc::ServerCompletionQueue> queue = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::fprintf(stderr, "bare proxy: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  grpc::GenericStub stub(
      auth::NewInternalChannel(backend, "linli-registry", {}, std::move(identity), Clock::Real()));
  auto accept = [&] {
    auto* call = new ProxiedCall;
    service.RequestCall(&call->server_context, &call->stream, queue.get(), queue.get(), call);
  };
  accept();
  void* tag = nullptr;
  bool ok = false;
  while (queue->Next(&tag, &ok)) {
    auto* call = static_cast<ProxiedCall*>(tag);
    switch (call->step) {
      case ProxiedCall::Step::kAccepted:
        if (!ok) {  // shutting down
          delete call;
          break;
        }
        accept();
        call->step = ProxiedCall::Step::kRead;
        call->stream.Read(&call->request, call);
        break;
      case ProxiedCall::Step::kRead:
        if (!ok) {
          call->step = ProxiedCall::Step::kSent;
          call->stream.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"), call);
          break;
        }
        call->client_context.set_deadline(call->server_context.deadline());
        call->backend_call = stub.PrepareUnaryCall(
            &call->client_context, call->server_context.method(), call->request, queue.get());
        call->step = ProxiedCall::Step::kBackendDone;
        call->backend_call->StartCall();
        call->backend_call->Finish(&call->response, &call->status, call);
        break;
      case ProxiedCall::Step::kBackendDone:
        call->step = ProxiedCall::Step::kSent;
        if (call->status.ok()) {
          call->stream.WriteAndFinish(call->response, grpc::WriteOptions(), call->status, call);
        } else {
          call->stream.Finish(call->status, call);
        }
        break;
      case ProxiedCall::Step::kSent:
        delete call;
        break;
    }
  }
  return 0;
}

}  // namespace linli::bench
