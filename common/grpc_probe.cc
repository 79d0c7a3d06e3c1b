#include "common/grpc_probe.h"

#include <future>

#include "common/clock.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "src/proto/grpc/reflection/v1alpha/reflection.pb.h"  // libgrpc++_reflection's (proto/CMakeLists.txt)

namespace linli {

// The messages are grpc-proto's (proto/CMakeLists.txt); the calls go through the generic stub on
// the caller's channel, as they always did here. (The generated blocking stubs, tried instead,
// left a test client that restarts a backend again and again without any working connection:
// tests/kill_loop_test.cc, ServiceKillLoopTest on SQLite.)

absl::StatusOr<HealthStatus> CheckHealth(grpc::Channel& channel, const std::string& service,
                                         absl::Duration timeout) {
  grpc::GenericStub stub(std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(timeout));
  grpc::health::v1::HealthCheckRequest check;
  check.set_service(service);
  grpc::ByteBuffer request = ToByteBuffer(check.SerializeAsString());
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return FromGrpcStatus(status);
  grpc::health::v1::HealthCheckResponse answer;
  if (!answer.ParseFromString(FromByteBuffer(response))) {
    return absl::DataLossError("health response does not parse");
  }
  return static_cast<HealthStatus>(answer.status());
}

absl::StatusOr<std::vector<std::string>> ListServices(grpc::Channel& channel,
                                                      absl::Duration timeout) {
  grpc::GenericStub stub(std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(timeout));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  // Each step is waited for before the next starts; a failed step ends in Finish.
  auto step = [&cq](void* expected_tag) {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && tag == expected_tag && ok;
  };
  int tags[5];
  call->StartCall(&tags[0]);
  bool ok = step(&tags[0]);
  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("");
  grpc::ByteBuffer request = ToByteBuffer(list.SerializeAsString());
  grpc::ByteBuffer response;
  if (ok) {
    call->Write(request, &tags[1]);
    ok = step(&tags[1]);
  }
  if (ok) {
    call->WritesDone(&tags[2]);
    ok = step(&tags[2]);
  }
  bool have_response = false;
  if (ok) {
    call->Read(&response, &tags[3]);
    have_response = step(&tags[3]);
  }
  grpc::Status status;
  call->Finish(&status, &tags[4]);
  step(&tags[4]);
  cq.Shutdown();
  void* tag;
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) return FromGrpcStatus(status);
  if (!have_response) return absl::UnavailableError("reflection returned no response");

  grpc::reflection::v1alpha::ServerReflectionResponse answer;
  if (!answer.ParseFromString(FromByteBuffer(response))) {
    return absl::DataLossError("reflection response does not parse");
  }
  std::vector<std::string> names;
  for (const auto& listed : answer.list_services_response().service()) {
    names.push_back(listed.name());
  }
  return names;
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

}  // namespace linli
