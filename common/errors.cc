#include "common/errors.h"

#include <iterator>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"

namespace linli {
namespace {

constexpr char kTypePrefix[] = "type.googleapis.com/";

template <typename Message>
std::string TypeUrl() {
  return absl::StrCat(kTypePrefix, Message::descriptor()->full_name());
}

template <typename Message>
std::optional<Message> GetPayload(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(TypeUrl<Message>());
  if (!payload.has_value()) return std::nullopt;
  Message message;
  if (!message.ParseFromString(std::string(*payload))) return std::nullopt;
  return message;
}

template <typename Message>
void SetPayload(absl::Status& status, const Message& message) {
  status.SetPayload(TypeUrl<Message>(), absl::Cord(message.SerializeAsString()));
}

}  // namespace

void FieldViolations::Add(std::string field, std::string description) {
  violations_.emplace_back(std::move(field), std::move(description));
}

absl::Status FieldViolations::ToStatus(common::v1::ErrorReason reason) const {
  if (violations_.empty()) return absl::OkStatus();
  // The details travel in trailing metadata, which clients cap (8 KiB by default): a request
  // with thousands of bad entries must still get its INVALID_ARGUMENT, so only the first ones are
  // listed, each cut to a bounded length.
  constexpr size_t kMaxListed = 10;
  constexpr size_t kMaxText = 120;
  google::rpc::BadRequest bad_request;
  std::string message;
  for (size_t i = 0; i < violations_.size() && i < kMaxListed; ++i) {
    const std::string field = violations_[i].first.substr(0, kMaxText);
    const std::string description = violations_[i].second.substr(0, kMaxText);
    auto* v = bad_request.add_field_violations();
    v->set_field(field);
    v->set_description(description);
    absl::StrAppend(&message, message.empty() ? "" : "; ", field, ": ", description);
  }
  if (violations_.size() > kMaxListed) {
    absl::StrAppend(&message, "; and ", violations_.size() - kMaxListed, " more");
  }
  absl::Status status = absl::InvalidArgumentError(message);
  SetPayload(status, bad_request);
  return WithReason(std::move(status), reason);
}

absl::Status InvalidField(std::string field, std::string description,
                          common::v1::ErrorReason reason) {
  FieldViolations v;
  v.Add(std::move(field), std::move(description));
  return v.ToStatus(reason);
}

absl::Status NotFound(absl::string_view what) {
  return WithReason(absl::NotFoundError(absl::StrCat(what, " not found")),
                    common::v1::ERROR_REASON_NOT_FOUND);
}

absl::Status WithReason(absl::Status status, common::v1::ErrorReason reason) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_domain(kErrorDomain);
  info.set_reason(common::v1::ErrorReason_Name(reason));
  SetPayload(status, info);
  return status;
}

std::optional<google::rpc::BadRequest> GetBadRequest(const absl::Status& status) {
  return GetPayload<google::rpc::BadRequest>(status);
}

std::optional<google::rpc::ErrorInfo> GetErrorInfo(const absl::Status& status) {
  return GetPayload<google::rpc::ErrorInfo>(status);
}

}  // namespace linli
