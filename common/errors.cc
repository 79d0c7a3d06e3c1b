#include "common/errors.h"

#include <iterator>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/text.h"
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
  // The details travel in trailing metadata, which clients cap (8 KiB by default; a message's
  // non-ASCII bytes are percent-encoded there, three characters each): a request with thousands
  // of bad entries must still get its INVALID_ARGUMENT, so the texts listed are bounded, each
  // and together, and cut on a character boundary (a cut inside a Chinese character would make
  // the details invalid UTF-8, which protobuf refuses to send).
  constexpr size_t kMaxListed = 10;
  constexpr size_t kMaxField = 120;
  constexpr size_t kMaxDescription = 400;
  constexpr size_t kMaxTotal = 1200;
  google::rpc::BadRequest bad_request;
  std::string message;
  size_t listed = 0;
  size_t total = 0;
  for (; listed < violations_.size() && listed < kMaxListed; ++listed) {
    const std::string field = Utf8Prefix(violations_[listed].first, kMaxField);
    const std::string description = Utf8Prefix(violations_[listed].second, kMaxDescription);
    if (listed > 0 && total + field.size() + description.size() > kMaxTotal) break;
    total += field.size() + description.size();
    auto* v = bad_request.add_field_violations();
    v->set_field(field);
    v->set_description(description);
    absl::StrAppend(&message, message.empty() ? "" : "; ", field, ": ", description);
  }
  if (violations_.size() > listed) {
    absl::StrAppend(&message, "; and ", violations_.size() - listed, " more");
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
