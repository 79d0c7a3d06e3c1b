#include "tests/fuzz/service_bodies.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/pii/field_cipher.h"
#include "common/recurrence/rrule.h"
#include "common/server.h"
#include "common/storage/database.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/stubs/logging.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/feedback/feedback_service.h"
#include "services/feedback/feedback_store.h"
#include "services/registry/registry_service.h"
#include "services/registry/registry_store.h"
#include "services/scheduling/commitment.h"
#include "services/scheduling/scheduling_service.h"
#include "services/scheduling/scheduling_store.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/support/backends.h"

namespace linli::fuzz {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// The methods, in kBackendServices order. Naming a generated message of each proto file keeps
// its descriptor registration in every link.
const std::vector<const MethodDescriptor*>& MethodList() {
  static const auto* const methods = [] {
    google::protobuf::SetLogHandler(IgnoreProtobufLog);
    const google::protobuf::FileDescriptor* files[] = {
        registry::v1::GetRegionRequest::descriptor()->file(),
        scheduling::v1::GetCommitmentRequest::descriptor()->file(),
        feedback::v1::GetWorkOrderRequest::descriptor()->file()};
    (void)files;
    auto* list = new std::vector<const MethodDescriptor*>;
    for (const char* name : kBackendServices) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
      LINLI_FUZZ_CHECK(service != nullptr, absl::StrCat(name, " is not in the generated pool"));
      for (int i = 0; i < service->method_count(); ++i) list->push_back(service->method(i));
    }
    return list;
  }();
  return *methods;
}

// One gRPC server per process with the three services on SQLite in a temporary directory
// (tmpfs when there is one: the fsync of each commit is then free), removed at exit.
class Backends {
 public:
  static Backends& Get() {
    static Backends* const backends = new Backends();
    return *backends;
  }

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  Backends() {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string pattern = base + "/linli-service-fuzz.XXXXXX";
    LINLI_FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    dir_ = new std::string(pattern);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(*dir_, ignored);
    });
    registry_db_ = Open("registry", registry::RegistryMigrations());
    scheduling_db_ = Open("scheduling", scheduling::SchedulingMigrations());
    feedback_db_ = Open("feedback", feedback::FeedbackMigrations());
    absl::StatusOr<pii::FieldCipher> cipher =
        pii::FieldCipher::FromSpec(pii::FieldCipher::GenerateKeySpec("k1"));
    LINLI_FUZZ_CHECK(cipher.ok(), cipher.status().ToString());
    cipher_ = std::make_unique<pii::FieldCipher>(*std::move(cipher));
    registry_ =
        std::make_unique<registry::RegistryServiceImpl>(*registry_db_, Clock::Real(), *cipher_);

    // Two servers: an in-process channel exists only once its server runs, and scheduling and
    // feedback take their registry stub when they are made.
    grpc::ServerBuilder builder;
    builder.RegisterService(registry_.get());
    registry_only_ = builder.BuildAndStart();
    LINLI_FUZZ_CHECK(registry_only_ != nullptr, "cannot start the registry server");
    std::shared_ptr<registry::v1::RegistryService::Stub> registry_stub =
        registry::v1::RegistryService::NewStub(
            registry_only_->InProcessChannel(grpc::ChannelArguments()));
    absl::Status seeded = testing::SeedVisitingStreet(*registry_stub);
    LINLI_FUZZ_CHECK(seeded.ok(), seeded.ToString());

    scheduling_ = std::make_unique<scheduling::SchedulingServiceImpl>(
        *scheduling_db_, Clock::Real(), *cipher_, registry_stub,
        scheduling::SchedulingOptions{.backend_timeout = absl::Seconds(2)});
    feedback_ = std::make_unique<feedback::FeedbackServiceImpl>(
        *feedback_db_, Clock::Real(), *cipher_, registry_stub, absl::Seconds(2));
    grpc::ServerBuilder all;
    all.RegisterService(scheduling_.get());
    all.RegisterService(feedback_.get());
    server_ = all.BuildAndStart();
    LINLI_FUZZ_CHECK(server_ != nullptr, "cannot start the scheduling/feedback server");
    registry_channel_ = registry_only_->InProcessChannel(grpc::ChannelArguments());
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }

  std::unique_ptr<storage::Database> Open(const std::string& schema,
                                          const std::vector<storage::Migration>& migrations) {
    absl::StatusOr<std::unique_ptr<storage::Database>> db =
        storage::OpenDatabase(absl::StrCat("sqlite:", *dir_, "/", schema, ".db"));
    LINLI_FUZZ_CHECK(db.ok(), db.status().ToString());
    absl::Status migrated = storage::ApplyMigrations(**db, schema, migrations);
    LINLI_FUZZ_CHECK(migrated.ok(), migrated.ToString());
    return *std::move(db);
  }

 public:
  // The channel of the server hosting `method`'s service.
  std::shared_ptr<grpc::Channel> ChannelFor(const MethodDescriptor& method) const {
    return method.service()->full_name() == kBackendServices[0] ? registry_channel_ : channel_;
  }

 private:
  static inline std::string* dir_ = nullptr;
  std::unique_ptr<storage::Database> registry_db_, scheduling_db_, feedback_db_;
  std::unique_ptr<pii::FieldCipher> cipher_;
  std::unique_ptr<registry::RegistryServiceImpl> registry_;
  std::unique_ptr<scheduling::SchedulingServiceImpl> scheduling_;
  std::unique_ptr<feedback::FeedbackServiceImpl> feedback_;
  std::unique_ptr<grpc::Server> registry_only_, server_;
  std::shared_ptr<grpc::Channel> registry_channel_, channel_;
};

// Sends `request` to `method` and returns the status (the answer itself is not looked at).
grpc::Status Call(const MethodDescriptor& method, const Message& request) {
  std::string bytes;
  LINLI_FUZZ_CHECK(request.SerializeToString(&bytes),
                   absl::StrCat("cannot serialize ", request.GetTypeName()));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer payload(&slice, 1);
  grpc::GenericStub stub(Backends::Get().ChannelFor(method));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  context.AddMetadata(kRequestIdKey, "fuzz");
  context.AddMetadata(kActorKey, "users/fuzz");
  grpc::CompletionQueue queue;
  const std::string path = absl::StrCat("/", method.service()->full_name(), "/", method.name());
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, path, payload, &queue);
  call->StartCall();
  grpc::ByteBuffer answer;
  grpc::Status status;
  call->Finish(&answer, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  LINLI_FUZZ_CHECK(queue.Next(&tag, &ok) && tag == reinterpret_cast<void*>(1),
                   "completion queue lost the call");
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return status;
}

}  // namespace

namespace {
std::atomic<size_t> calls{0};
}  // namespace

size_t ServiceRequestCalls() { return calls.load(); }

const std::vector<std::string>& BackendMethods() {
  static const auto* const names = [] {
    auto* list = new std::vector<std::string>;
    for (const MethodDescriptor* method : MethodList()) list->push_back(method->full_name());
    return list;
  }();
  return *names;
}

void ServiceRequest(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const std::vector<const MethodDescriptor*>& methods = MethodList();
  const MethodDescriptor& method = *methods[data[0] % methods.size()];
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(method.input_type());
  LINLI_FUZZ_CHECK(prototype != nullptr,
                   absl::StrCat("no generated prototype for ", method.input_type()->full_name()));
  std::unique_ptr<Message> request(prototype->New());
  if (!request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;

  calls.fetch_add(1, std::memory_order_relaxed);
  const grpc::Status status = Call(method, *request);
  const grpc::StatusCode code = status.error_code();
  LINLI_FUZZ_CHECK(code != grpc::StatusCode::INTERNAL && code != grpc::StatusCode::UNKNOWN &&
                       code != grpc::StatusCode::DATA_LOSS &&
                       code != grpc::StatusCode::UNIMPLEMENTED &&
                       code != grpc::StatusCode::DEADLINE_EXCEEDED,
                   absl::StrCat(method.full_name(), " answered ", code, " ", status.error_message(),
                                " to ", request->ShortDebugString(), "; input ", Show(bytes)));
  if (code == grpc::StatusCode::INVALID_ARGUMENT) {
    google::rpc::Status details;
    bool explained = false;
    if (details.ParseFromString(status.error_details())) {
      for (const auto& any : details.details()) {
        google::rpc::BadRequest bad_request;
        google::rpc::ErrorInfo info;
        if (any.UnpackTo(&bad_request) && bad_request.field_violations_size() > 0 &&
            !bad_request.field_violations(0).field().empty()) {
          explained = true;
        } else if (any.UnpackTo(&info) && !info.reason().empty()) {
          explained = true;
        }
      }
    }
    LINLI_FUZZ_CHECK(
        explained, absl::StrCat(method.full_name(),
                                " answered INVALID_ARGUMENT without naming a field "
                                "or a reason: ",
                                status.error_message(), "; request ", request->ShortDebugString()));
  }
}

namespace {

// The fields of a CommitmentRecurrence input.
struct RecurrenceInput {
  scheduling::v1::Commitment commitment;
  absl::CivilDay from;
  int days = 0;
  size_t max = 1000;
};

RecurrenceInput ParseRecurrenceInput(absl::string_view text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  lines.resize(std::max<size_t>(lines.size(), 9));
  RecurrenceInput in;
  scheduling::v1::Commitment& c = in.commitment;
  c.set_elder("elders/e1");
  c.set_service_type("serviceTypes/visiting");
  c.set_owner_organisation("organisations/lelin");
  c.mutable_recurrence()->set_rrule(lines[0]);
  c.mutable_recurrence()->set_dtstart(lines[1]);
  c.set_valid_from(lines[2]);
  c.set_valid_until(lines[3]);
  int number = 0;
  if (absl::SimpleAtoi(lines[4], &number)) c.set_care_grade(number);
  if (absl::SimpleAtoi(lines[5], &number)) c.set_window_minutes(number);
  c.set_duration_minutes(60);
  c.set_workers_required(1);
  if (!absl::ParseCivilTime(lines[6], &in.from)) in.from = absl::CivilDay(2026, 11, 30);
  if (absl::SimpleAtoi(lines[7], &number)) in.days = std::clamp(number, 0, 800);
  if (absl::SimpleAtoi(lines[8], &number))
    in.max = static_cast<size_t>(std::clamp(number, 0, 2000));
  return in;
}

std::string Keys(const std::vector<scheduling::Occurrence>& occurrences) {
  std::string out;
  for (const auto& o : occurrences) absl::StrAppend(&out, o.key, " ");
  return out;
}

}  // namespace

void CommitmentRecurrence(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  RecurrenceInput in = ParseRecurrenceInput(text);
  scheduling::v1::Commitment& c = in.commitment;
  scheduling::ApplyCareGradeDefaults(c);
  FieldViolations violations;
  scheduling::ValidateCommitment(c, violations);
  if (!violations.empty()) return;

  const absl::CivilDay to = in.from + in.days;
  const std::vector<scheduling::Occurrence> occurrences =
      scheduling::Occurrences(c, in.from, to, in.max);
  LINLI_FUZZ_CHECK(
      occurrences.size() <= in.max,
      absl::StrCat(occurrences.size(), " occurrences > max ", in.max, "; input ", Show(text)));
  absl::CivilDay valid_from, valid_until;
  LINLI_FUZZ_CHECK(absl::ParseCivilTime(c.valid_from(), &valid_from), "valid_from accepted");
  absl::CivilDay end = to;
  if (!c.valid_until().empty()) {
    LINLI_FUZZ_CHECK(absl::ParseCivilTime(c.valid_until(), &valid_until), "valid_until accepted");
    end = std::min(end, valid_until + 1);
  }
  const absl::CivilDay begin = std::max(in.from, valid_from);
  const absl::TimeZone tz = recurrence::ShanghaiTimeZone();
  for (size_t i = 0; i < occurrences.size(); ++i) {
    const scheduling::Occurrence& o = occurrences[i];
    absl::CivilSecond local;
    LINLI_FUZZ_CHECK(absl::ParseCivilTime(o.key, &local),
                     absl::StrCat("key ", o.key, " is not a local time; input ", Show(text)));
    const absl::CivilDay day(local);
    LINLI_FUZZ_CHECK(day >= begin && day < end,
                     absl::StrCat("occurrence ", o.key, " outside [", absl::FormatCivilTime(begin),
                                  ", ", absl::FormatCivilTime(end), "); input ", Show(text)));
    LINLI_FUZZ_CHECK(
        o.window_start == absl::FromCivil(local, tz),
        absl::StrCat("window start of ", o.key, " is not its local time; input ", Show(text)));
    LINLI_FUZZ_CHECK(o.window_end - o.window_start == absl::Minutes(c.window_minutes()),
                     absl::StrCat("window of ", o.key, " does not last ", c.window_minutes(),
                                  " minutes; input ", Show(text)));
    if (i > 0) {
      LINLI_FUZZ_CHECK(occurrences[i - 1].window_start < o.window_start,
                       absl::StrCat("occurrences out of order: ", occurrences[i - 1].key, " then ",
                                    o.key, "; input ", Show(text)));
    }
  }
  if (occurrences.size() < in.max && in.days >= 2) {
    const absl::CivilDay mid = in.from + in.days / 2;
    std::vector<scheduling::Occurrence> halves = scheduling::Occurrences(c, in.from, mid, in.max);
    for (auto& o : scheduling::Occurrences(c, mid, to, in.max)) halves.push_back(std::move(o));
    LINLI_FUZZ_CHECK(Keys(halves) == Keys(occurrences),
                     absl::StrCat("cutting the range at ", absl::FormatCivilTime(mid),
                                  " changes the occurrences: ", Keys(occurrences), "vs ",
                                  Keys(halves), "; input ", Show(text)));
  }
  // Validation accepted the commitment, so it promises a visit within two years.
  absl::CivilSecond dtstart;
  LINLI_FUZZ_CHECK(absl::ParseCivilTime(c.recurrence().dtstart(), &dtstart), "dtstart accepted");
  const absl::CivilDay first = std::max(valid_from, absl::CivilDay(dtstart));
  LINLI_FUZZ_CHECK(!scheduling::Occurrences(c, first, first + 733, 1).empty(),
                   absl::StrCat("a valid commitment has no visit in the two years from ",
                                absl::FormatCivilTime(first), ": ", c.ShortDebugString(),
                                "; input ", Show(text)));
}

}  // namespace linli::fuzz
