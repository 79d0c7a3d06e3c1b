// FeedbackService: the safety net — alerts for solitary elders without verified contact, falling
// indices, overdue work orders (escalated to the street's service office) and "nobody came"
// contradictions (raised by SubmitFeedback); acknowledge / resolve with who did it. The handlers
// validate and call AlertUseCases; the rules are alert_policy.h.
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/pagination.h"
#include "common/proto_time.h"
#include "common/server.h"
#include "common/text.h"
#include "services/feedback/feedback_service.h"

namespace linli::feedback {
namespace {

absl::StatusOr<std::string> AlertId(const std::string& name) {
  return ParseResourceName(name, "alerts", "name");
}

// Replies with the alert a use case returned, or its error.
grpc::Status ReplyWith(const grpc::ServerContext& context, const absl::StatusOr<v1::Alert>& alert,
                       v1::Alert* out) {
  if (alert.ok()) *out = *alert;
  return Reply(context, alert.status());
}

}  // namespace

absl::StatusOr<v1::SweepAlertsResponse> FeedbackServiceImpl::Sweep(
    const grpc::ServerContext* context, absl::Time now) {
  RegistryDirectory registry = Registry(context);
  return alerts_.Sweep(registry, now);
}

grpc::Status FeedbackServiceImpl::SweepAlerts(grpc::ServerContext* context,
                                              const v1::SweepAlertsRequest* request,
                                              v1::SweepAlertsResponse* response) {
  absl::Time now = clock_.Now();
  if (request->has_as_of()) {
    const google::protobuf::Timestamp& as_of = request->as_of();
    const bool in_range = as_of.nanos() >= 0 && as_of.nanos() < 1'000'000'000 &&
                          std::abs(as_of.seconds() - absl::ToUnixSeconds(now)) <= 366 * 86400;
    if (!in_range) {
      return Reply(*context,
                   InvalidField("as_of", "must be a valid time at most 366 days from now"));
    }
    now = FromTimestamp(as_of);
  }
  absl::StatusOr<v1::SweepAlertsResponse> result = Sweep(context, now);
  if (result.ok()) *response = *result;
  return Reply(*context, result.status());
}

grpc::Status FeedbackServiceImpl::ListAlerts(grpc::ServerContext* context,
                                             const v1::ListAlertsRequest* request,
                                             v1::ListAlertsResponse* response) {
  FieldViolations v;
  if (request->committee().empty() && request->region().empty()) {
    v.Add("committee", "name a committee, a region (committee or street), or both");
  }
  if (!request->committee().empty() && !IsRegionName(request->committee())) {
    v.Add("committee", "must look like \"regions/CODE\"");
  }
  if (!request->region().empty() && !IsRegionName(request->region())) {
    v.Add("region", "must be a committee or street, \"regions/CODE\"");
  }
  if (!v1::AlertState_IsValid(request->state())) v.Add("state", "unknown state");
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<Page> page =
      Page::Start(request->page_size(), request->page_token(),
                  absl::StrCat("alerts|", request->committee(), "|", request->region(), "|",
                               static_cast<int>(request->state())),
                  50, 500);
  if (!page.ok()) return Reply(*context, page.status());
  return Reply(*context, alerts_.List(*request, *page, response));
}

grpc::Status FeedbackServiceImpl::GetAlert(grpc::ServerContext* context,
                                           const v1::GetAlertRequest* request,
                                           v1::GetAlertResponse* response) {
  absl::StatusOr<std::string> id = AlertId(request->name());
  if (!id.ok()) return Reply(*context, id.status());
  return ReplyWith(*context, alerts_.Get(*id), response->mutable_alert());
}

grpc::Status FeedbackServiceImpl::AcknowledgeAlert(grpc::ServerContext* context,
                                                   const v1::AcknowledgeAlertRequest* request,
                                                   v1::AcknowledgeAlertResponse* response) {
  absl::StatusOr<std::string> id = AlertId(request->name());
  if (!id.ok()) return Reply(*context, id.status());
  return ReplyWith(*context, alerts_.Acknowledge(*id, Actor(*context)), response->mutable_alert());
}

grpc::Status FeedbackServiceImpl::ResolveAlert(grpc::ServerContext* context,
                                               const v1::ResolveAlertRequest* request,
                                               v1::ResolveAlertResponse* response) {
  FieldViolations v;
  absl::StatusOr<std::string> id = AlertId(request->name());
  if (!id.ok()) v.Add("name", "must look like \"alerts/ID\"");
  std::optional<size_t> n = Utf8Length(request->note());
  if (!n.has_value() || *n < 2 || *n > 500) {
    v.Add("note", "must be valid UTF-8 of 2 to 500 characters");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  return ReplyWith(*context, alerts_.Resolve(*id, Actor(*context), request->note()),
                   response->mutable_alert());
}

grpc::Status FeedbackServiceImpl::SetAlertPolicy(grpc::ServerContext* context,
                                                 const v1::SetAlertPolicyRequest* request,
                                                 v1::SetAlertPolicyResponse* response) {
  FieldViolations v;
  if (!IsRegionName(request->committee())) v.Add("committee", "must look like \"regions/CODE\"");
  if (!ValidNoContactDays(request->no_contact_days())) {
    v.Add("no_contact_days",
          absl::StrCat("must be between ", kMinNoContactDays, " and ", kMaxNoContactDays));
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::Status status = alerts_.SetPolicy(request->committee(), request->no_contact_days());
  if (status.ok()) {
    response->set_committee(request->committee());
    response->set_no_contact_days(request->no_contact_days());
  }
  return Reply(*context, status);
}

}  // namespace linli::feedback
