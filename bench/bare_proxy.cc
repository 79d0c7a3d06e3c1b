#include "bench/bare_proxy.h"

#include <cstdio>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
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

// "/linli.registry.v1.RegistryService/GetRegion" -> "linli.registry.v1.RegistryService".
absl::string_view ServiceOf(absl::string_view method) {
  if (!absl::ConsumePrefix(&method, "/")) return "";
  const size_t slash = method.find('/');
  return slash == absl::string_view::npos ? "" : method.substr(0, slash);
}

}  // namespace

absl::StatusOr<BareProxyBackend> ParseBareProxyBackend(const std::string& spec) {
  const size_t equals = spec.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == spec.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bare proxy backend \"", spec, "\" is not <service>=<address>"));
  }
  BareProxyBackend backend{spec.substr(0, equals), spec.substr(equals + 1), ""};
  absl::string_view name = backend.service;
  if (!absl::ConsumePrefix(&name, "linli.") || name.find('.') == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("bare proxy backend \"", spec, "\": not a linli.<name>.v1 service"));
  }
  backend.peer = absl::StrCat("linli-", name.substr(0, name.find('.')));
  return backend;
}

int RunBareProxy(const std::string& listen, const std::vector<BareProxyBackend>& backends,
                 std::shared_ptr<const auth::InternalIdentity> identity) {
  // As every server of the platform runs (common/server.cc): Abseil's mutex deadlock detection,
  // on in Debian's build, costs every lock gRPC takes; left on, it would charge the reference
  // with work the gateway does not do.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
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
  // One channel per backend, of the kind the gateway has (common/client.h: mutual TLS, a principal
  // token per call, round_robin, and the retry policy on UNAVAILABLE for the backend's service,
  // when it has one); a call picks its channel by its service.
  if (backends.empty()) {
    std::fprintf(stderr, "bare proxy: no backend\n");
    return 1;
  }
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  absl::flat_hash_map<std::string, grpc::GenericStub*> by_service;
  for (const BareProxyBackend& backend : backends) {
    stubs.push_back(std::make_unique<grpc::GenericStub>(auth::NewInternalChannel(
        backend.address, backend.peer,
        backend.service.empty() ? std::vector<std::string>{}
                                : std::vector<std::string>{backend.service},
        identity, Clock::Real())));
    by_service[backend.service] = stubs.back().get();
  }
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
      case ProxiedCall::Step::kRead: {
        if (!ok) {
          call->step = ProxiedCall::Step::kSent;
          call->stream.Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"), call);
          break;
        }
        auto it = by_service.find(ServiceOf(call->server_context.method()));
        grpc::GenericStub* stub = it == by_service.end() ? stubs.front().get() : it->second;
        call->client_context.set_deadline(call->server_context.deadline());
        call->backend_call = stub->PrepareUnaryCall(
            &call->client_context, call->server_context.method(), call->request, queue.get());
        call->step = ProxiedCall::Step::kBackendDone;
        call->backend_call->StartCall();
        call->backend_call->Finish(&call->response, &call->status, call);
        break;
      }
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
