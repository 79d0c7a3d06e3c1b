// FeedbackService: notices — every recipient's inbox (with waiting reads for an open app),
// quiet hours, webhooks and their delivery log. The handlers validate and call NoticeUseCases;
// the rules are notice_policy.h.
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/pagination.h"
#include "common/server.h"
#include "common/text.h"
#include "services/feedback/feedback_service.h"

namespace linli::feedback {
namespace {

constexpr int kMaxWaitSeconds = 30;

// A recipient: "elders/ID", "regions/CODE", "organisations/ID" or "partners/ID".
void CheckRecipient(const std::string& recipient, const std::string& field, FieldViolations& v) {
  if (recipient.empty()) {
    v.Add(field, "is required");
    return;
  }
  if (absl::StartsWith(recipient, "regions/")) {
    if (!IsRegionName(recipient)) v.Add(field, "must look like \"regions/CODE\"");
    return;
  }
  for (const char* collection : {"elders", "organisations", "partners"}) {
    if (absl::StartsWith(recipient, absl::StrCat(collection, "/"))) {
      if (!ParseResourceName(recipient, collection, field).ok()) {
        v.Add(field, absl::StrCat("must look like \"", collection, "/ID\""));
      }
      return;
    }
  }
  v.Add(field, "must name an elder, a region, an organisation or a partner");
}

// "notices/123" -> 123.
bool ParseSequence(const std::string& name, absl::string_view collection, int64_t* out) {
  const std::string prefix = absl::StrCat(collection, "/");
  return absl::StartsWith(name, prefix) && absl::SimpleAtoi(name.substr(prefix.size()), out) &&
         *out > 0;
}

void CheckPageSize(int page_size, FieldViolations& v) {
  if (page_size < 0 || page_size > 200) v.Add("page_size", "must be between 0 and 200");
}

}  // namespace

grpc::Status FeedbackServiceImpl::ListNotices(grpc::ServerContext* context,
                                              const v1::ListNoticesRequest* request,
                                              v1::ListNoticesResponse* response) {
  FieldViolations v;
  CheckRecipient(request->recipient(), "recipient", v);
  if (request->after_sequence() < 0) v.Add("after_sequence", "must not be negative");
  if (request->before_sequence() < 0) v.Add("before_sequence", "must not be negative");
  if (request->newest_first() && request->after_sequence() > 0) {
    v.Add("after_sequence", "reads oldest first; with newest_first use before_sequence");
  }
  if (!request->newest_first() && request->before_sequence() > 0) {
    v.Add("before_sequence", "is for newest_first reads");
  }
  CheckPageSize(request->page_size(), v);
  if (request->wait_seconds() < 0 || request->wait_seconds() > kMaxWaitSeconds) {
    v.Add("wait_seconds", absl::StrCat("must be between 0 and ", kMaxWaitSeconds));
  }
  if (request->wait_seconds() > 0 && request->newest_first()) {
    v.Add("wait_seconds", "waits only in oldest-first reads");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  return Reply(*context, notices_.List(*request, response));
}

grpc::Status FeedbackServiceImpl::MarkNoticesRead(grpc::ServerContext* context,
                                                  const v1::MarkNoticesReadRequest* request,
                                                  v1::MarkNoticesReadResponse* response) {
  FieldViolations v;
  CheckRecipient(request->recipient(), "recipient", v);
  std::vector<int64_t> sequences;
  for (int i = 0; i < request->names_size(); ++i) {
    int64_t sequence = 0;
    if (!ParseSequence(request->names(i), "notices", &sequence)) {
      v.Add(absl::StrCat("names[", i, "]"), "must look like \"notices/SEQUENCE\"");
    }
    sequences.push_back(sequence);
  }
  if (request->names_size() > 500) v.Add("names", "at most 500 at once");
  if (request->up_to_sequence() < 0) v.Add("up_to_sequence", "must not be negative");
  if (request->names().empty() && request->up_to_sequence() == 0) {
    v.Add("names", "name the notices, or give up_to_sequence");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<v1::MarkNoticesReadResponse> result = notices_.MarkRead(
      request->recipient(), sequences, request->up_to_sequence(), Actor(*context));
  if (result.ok()) *response = *result;
  return Reply(*context, result.status());
}

grpc::Status FeedbackServiceImpl::ListUnreachedElders(grpc::ServerContext* context,
                                                      const v1::ListUnreachedEldersRequest* request,
                                                      v1::ListUnreachedEldersResponse* response) {
  FieldViolations v;
  if (request->region().empty()) {
    v.Add("region", "is required");
  } else if (!IsRegionName(request->region())) {
    v.Add("region", "must look like \"regions/CODE\" (a committee or a street)");
  }
  constexpr int kMaxMinutes = 7 * 24 * 60;
  if (request->unread_for_minutes() < 0 || request->unread_for_minutes() > kMaxMinutes) {
    v.Add("unread_for_minutes", absl::StrCat("must be between 0 and ", kMaxMinutes));
  }
  CheckPageSize(request->page_size(), v);
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  const int minutes = request->unread_for_minutes() == 0 ? 60 : request->unread_for_minutes();
  absl::StatusOr<Page> page =
      Page::Start(request->page_size(), request->page_token(),
                  absl::StrCat("unreached|", request->region(), "|", minutes), 50, 200);
  if (!page.ok()) return Reply(*context, page.status());
  absl::StatusOr<v1::ListUnreachedEldersResponse> result =
      notices_.Unreached(request->region(), absl::Minutes(minutes), *page);
  if (result.ok()) *response = std::move(*result);
  return Reply(*context, result.status());
}

grpc::Status FeedbackServiceImpl::GetNoticePreferences(
    grpc::ServerContext* context, const v1::GetNoticePreferencesRequest* request,
    v1::GetNoticePreferencesResponse* response) {
  FieldViolations v;
  CheckRecipient(request->recipient(), "recipient", v);
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<v1::NoticePreferences> result = notices_.Preferences(request->recipient());
  if (result.ok()) *response->mutable_preferences() = *result;
  return Reply(*context, result.status());
}

grpc::Status FeedbackServiceImpl::SetNoticePreferences(
    grpc::ServerContext* context, const v1::SetNoticePreferencesRequest* request,
    v1::SetNoticePreferencesResponse* response) {
  FieldViolations v;
  CheckRecipient(request->preferences().recipient(), "preferences.recipient", v);
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  if (absl::Status s = ValidatePreferences(request->preferences()); !s.ok()) {
    return Reply(*context, s);
  }
  absl::StatusOr<v1::NoticePreferences> result = notices_.SetPreferences(request->preferences());
  if (result.ok()) *response->mutable_preferences() = *result;
  return Reply(*context, result.status());
}

grpc::Status FeedbackServiceImpl::CreateWebhook(grpc::ServerContext* context,
                                                const v1::CreateWebhookRequest* request,
                                                v1::CreateWebhookResponse* response) {
  const v1::Webhook& w = request->webhook();
  FieldViolations v;
  CheckRecipient(w.recipient(), "webhook.recipient", v);
  if (w.elders_of_region() && !absl::StartsWith(w.recipient(), "regions/")) {
    v.Add("webhook.elders_of_region", "needs a region (committee or street) as recipient");
  }
  if (w.deliver_phone() && !w.elders_of_region()) {
    v.Add("webhook.deliver_phone",
          "is for a provider that texts or calls the elders of a region (elders_of_region)");
  }
  if (std::optional<std::string> problem = WebhookUrlProblem(w.url())) {
    v.Add("webhook.url", *problem);
  }
  for (int i = 0; i < w.kinds_size(); ++i) {
    if (w.kinds(i) == v1::NOTICE_KIND_UNSPECIFIED || !v1::NoticeKind_IsValid(w.kinds(i))) {
      v.Add(absl::StrCat("webhook.kinds[", i, "]"), "unknown kind");
    }
  }
  if (w.kinds_size() > 10) v.Add("webhook.kinds", "at most 10");
  if (!v1::NoticeChannel_IsValid(w.channel())) v.Add("webhook.channel", "unknown channel");
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<v1::CreateWebhookResponse> result = notices_.CreateWebhook(w, Actor(*context));
  if (result.ok()) *response = *result;
  return Reply(*context, result.status());
}

grpc::Status FeedbackServiceImpl::ListWebhooks(grpc::ServerContext* context,
                                               const v1::ListWebhooksRequest* request,
                                               v1::ListWebhooksResponse* response) {
  FieldViolations v;
  CheckRecipient(request->recipient(), "recipient", v);
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<std::vector<v1::Webhook>> result = notices_.Webhooks(request->recipient());
  if (result.ok()) {
    for (v1::Webhook& w : *result) *response->add_webhooks() = std::move(w);
  }
  return Reply(*context, result.status());
}

grpc::Status FeedbackServiceImpl::DeleteWebhook(grpc::ServerContext* context,
                                                const v1::DeleteWebhookRequest* request,
                                                v1::DeleteWebhookResponse*) {
  FieldViolations v;
  absl::StatusOr<std::string> id = ParseResourceName(request->name(), "webhooks", "name");
  if (!id.ok()) v.Add("name", "must look like \"webhooks/ID\"");
  CheckRecipient(request->recipient(), "recipient", v);
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  return Reply(*context, notices_.DeleteWebhook(*id, request->recipient()));
}

grpc::Status FeedbackServiceImpl::ListWebhookDeliveries(
    grpc::ServerContext* context, const v1::ListWebhookDeliveriesRequest* request,
    v1::ListWebhookDeliveriesResponse* response) {
  FieldViolations v;
  CheckRecipient(request->recipient(), "recipient", v);
  std::string webhook_id;
  if (!request->webhook().empty()) {
    absl::StatusOr<std::string> id = ParseResourceName(request->webhook(), "webhooks", "webhook");
    if (id.ok()) {
      webhook_id = *id;
    } else {
      v.Add("webhook", "must look like \"webhooks/ID\"");
    }
  }
  if (!v1::DeliveryState_IsValid(request->state())) v.Add("state", "unknown state");
  CheckPageSize(request->page_size(), v);
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<Page> page =
      Page::Start(request->page_size(), request->page_token(),
                  absl::StrCat("deliveries|", request->recipient(), "|", request->webhook(), "|",
                               static_cast<int>(request->state())),
                  50, 200);
  if (!page.ok()) return Reply(*context, page.status());
  int64_t before_id = 0;
  if (!page->after.empty() && !absl::SimpleAtoi(page->after, &before_id)) {
    return Reply(*context, InvalidField("page_token", "is not a token of this list"));
  }
  absl::StatusOr<std::vector<DeliveryRow>> rows = notices_.Deliveries(
      request->recipient(), webhook_id, request->state(), before_id, page->limit());
  if (!rows.ok()) return Reply(*context, rows.status());
  response->set_next_page_token(
      page->Finish(*rows, [](const DeliveryRow& r) { return absl::StrCat(r.id); }));
  for (const DeliveryRow& row : *rows) *response->add_deliveries() = row.ToProto();
  return grpc::Status::OK;
}

grpc::Status FeedbackServiceImpl::RetryWebhookDelivery(
    grpc::ServerContext* context, const v1::RetryWebhookDeliveryRequest* request,
    v1::RetryWebhookDeliveryResponse* response) {
  FieldViolations v;
  int64_t id = 0;
  if (!ParseSequence(request->name(), "webhookDeliveries", &id)) {
    v.Add("name", "must look like \"webhookDeliveries/ID\"");
  }
  CheckRecipient(request->recipient(), "recipient", v);
  if (absl::Status s = v.ToStatus(); !s.ok()) return Reply(*context, s);
  absl::StatusOr<v1::WebhookDelivery> result = notices_.RetryDelivery(id, request->recipient());
  if (result.ok()) *response->mutable_delivery() = *result;
  return Reply(*context, result.status());
}

}  // namespace linli::feedback
