#include "common/grpc_probe.h"

#include <future>

#include "common/clock.h"
#include "common/errors.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace linli {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// Encodes a message whose only field is string field `number`.
std::string StringField(int number, const std::string& value) {
  UnknownFieldSet set;
  set.AddLengthDelimited(number, value);
  std::string out;
  set.SerializeToString(&out);
  return out;
}

}  // namespace

absl::StatusOr<HealthStatus> CheckHealth(grpc::Channel& channel, const std::string& service,
                                         absl::Duration timeout) {
  grpc::GenericStub stub(std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(timeout));
  grpc::ByteBuffer request = ToByteBuffer(service.empty() ? "" : StringField(1, service));
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return FromGrpcStatus(status);
  UnknownFieldSet fields;
  if (!fields.ParseFromString(FromByteBuffer(response))) {
    return absl::DataLossError("health response does not parse");
  }
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (f.number() == 1 && f.type() == UnknownField::TYPE_VARINT) {
      return static_cast<HealthStatus>(f.varint());
    }
  }
  return HealthStatus::kUnknown;  // proto3 default: UNKNOWN is not serialized
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
  // ServerReflectionRequest{list_services = ""}: field 7.
  grpc::ByteBuffer request = ToByteBuffer(StringField(7, ""));
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

  // ServerReflectionResponse.list_services_response (6) -> service (1) -> name (1).
  std::vector<std::string> names;
  UnknownFieldSet top;
  if (!top.ParseFromString(FromByteBuffer(response))) {
    return absl::DataLossError("reflection response does not parse");
  }
  for (int i = 0; i < top.field_count(); ++i) {
    if (top.field(i).number() != 6 || top.field(i).type() != UnknownField::TYPE_LENGTH_DELIMITED) {
      continue;
    }
    UnknownFieldSet list;
    list.ParseFromString(top.field(i).length_delimited());
    for (int j = 0; j < list.field_count(); ++j) {
      if (list.field(j).number() != 1) continue;
      UnknownFieldSet service;
      service.ParseFromString(list.field(j).length_delimited());
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) names.push_back(service.field(k).length_delimited());
      }
    }
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
