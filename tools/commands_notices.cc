// `linli notices` (a recipient's notices through the gateway, optionally followed as they come;
// `notices unreached`, the call list of elders nobody read theirs; `notices read`, marking them),
// `linli webhook create|deliveries` (a recipient's webhooks) and `linli webhook serve` (a
// development receiver that verifies signatures and prints what arrives).
#include <algorithm>
#include <csignal>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/auth/webhook_signature.h"
#include "common/client.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "google/protobuf/util/json_util.h"
#include "httplib.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace linli::cli {
namespace {

constexpr int kFollowWaitSeconds = 25;

void PrintNotice(const feedback::v1::Notice& n) {
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  std::printf("%s  %s  %-16s %s%s  %s\n", n.name().c_str(),
              absl::FormatTime("%m-%d %H:%M", FromTimestamp(n.create_time()), shanghai).c_str(),
              feedback::v1::NoticeKind_Name(n.kind()).substr(12).c_str(), n.subject().c_str(),
              n.urgent() ? " 紧急/urgent" : "", n.text().c_str());
  if (!n.phone().empty()) std::printf("    to %s\n", n.phone().c_str());
}

}  // namespace

int Notices(const Endpoints& e, const std::string& recipient, bool follow) {
  if (recipient.empty()) {
    std::fprintf(stderr, "notices: name the recipient: --elder elders/ID or --region R\n");
    return 2;
  }
  feedback::v1::ListNoticesRequest request;
  request.set_recipient(recipient);
  request.set_newest_first(true);
  request.set_page_size(20);
  feedback::v1::ListNoticesResponse page;
  grpc::Status status =
      Console(e)->ListNotices(NewClientContext(nullptr, e.timeout).get(), request, &page);
  if (!status.ok()) return Fail(status);
  int64_t last = 0;
  for (int i = page.notices_size() - 1; i >= 0; --i) {
    PrintNotice(page.notices(i));
    last = std::max(last, page.notices(i).sequence());
  }
  std::printf("%d unread\n", page.unread_count());
  if (!follow) return 0;
  std::fflush(stdout);
  for (;;) {  // until interrupted
    feedback::v1::ListNoticesRequest next;
    next.set_recipient(recipient);
    next.set_after_sequence(last);
    next.set_wait_seconds(kFollowWaitSeconds);
    feedback::v1::ListNoticesResponse more;
    status = Console(e)->ListNotices(
        NewClientContext(nullptr, e.timeout + absl::Seconds(kFollowWaitSeconds)).get(), next,
        &more);
    if (!status.ok()) return Fail(status);
    for (const auto& n : more.notices()) {
      PrintNotice(n);
      last = n.sequence();
    }
    std::fflush(stdout);
  }
}

int UnreachedElders(const Endpoints& e, const std::string& region, int minutes) {
  if (region.empty()) {
    std::fprintf(stderr, "notices unreached: name the committee or street: --region R\n");
    return 2;
  }
  const absl::TimeZone shanghai = absl::FixedTimeZone(8 * 3600);
  feedback::v1::ListUnreachedEldersRequest request;
  request.set_region(region);
  request.set_unread_for_minutes(minutes);
  request.set_page_size(200);
  int listed = 0;
  do {
    feedback::v1::ListUnreachedEldersResponse page;
    grpc::Status status =
        Console(e)->ListUnreachedElders(NewClientContext(nullptr, e.timeout).get(), request, &page);
    if (!status.ok()) return Fail(status);
    for (const feedback::v1::UnreachedElder& elder : page.elders()) {
      std::printf(
          "%s  %s  %d unread since %s%s  %s\n", elder.elder().c_str(), elder.committee().c_str(),
          elder.unread_count(),
          absl::FormatTime("%m-%d %H:%M", FromTimestamp(elder.oldest_unread_time()), shanghai)
              .c_str(),
          elder.urgent() ? " 紧急/urgent" : "", elder.latest().text().c_str());
      ++listed;
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  std::printf("%d elders not reached (tell them, then: linli notices read --elder NAME)\n", listed);
  return 0;
}

int MarkAllNoticesRead(const Endpoints& e, const std::string& recipient) {
  if (recipient.empty()) {
    std::fprintf(stderr, "notices read: name the recipient: --elder elders/ID or --region R\n");
    return 2;
  }
  feedback::v1::ListNoticesRequest newest;
  newest.set_recipient(recipient);
  newest.set_newest_first(true);
  newest.set_page_size(1);
  feedback::v1::ListNoticesResponse page;
  grpc::Status status =
      Console(e)->ListNotices(NewClientContext(nullptr, e.timeout).get(), newest, &page);
  if (!status.ok()) return Fail(status);
  if (page.notices().empty()) {
    std::printf("no notices\n");
    return 0;
  }
  feedback::v1::MarkNoticesReadRequest read;
  read.set_recipient(recipient);
  read.set_up_to_sequence(page.notices(0).sequence());
  feedback::v1::MarkNoticesReadResponse marked;
  status = Console(e)->MarkNoticesRead(NewClientContext(nullptr, e.timeout).get(), read, &marked);
  if (!status.ok()) return Fail(status);
  std::printf("%d marked read, %d unread\n", marked.marked(), marked.unread_count());
  return 0;
}

int CreateWebhook(const Endpoints& e, const std::string& recipient, const std::string& url,
                  bool elders_of_region, bool deliver_phone) {
  feedback::v1::CreateWebhookRequest request;
  request.mutable_webhook()->set_recipient(recipient);
  request.mutable_webhook()->set_url(url);
  request.mutable_webhook()->set_elders_of_region(elders_of_region);
  request.mutable_webhook()->set_deliver_phone(deliver_phone);
  feedback::v1::CreateWebhookResponse response;
  grpc::Status status =
      Console(e)->CreateWebhook(NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::printf("%s  %s -> %s\nsigning secret (shown once): %s\n", response.webhook().name().c_str(),
              recipient.c_str(), url.c_str(), response.signing_secret().c_str());
  return 0;
}

int WebhookDeliveries(const Endpoints& e, const std::string& recipient) {
  feedback::v1::ListWebhookDeliveriesRequest request;
  request.set_recipient(recipient);
  feedback::v1::ListWebhookDeliveriesResponse response;
  grpc::Status status = Console(e)->ListWebhookDeliveries(
      NewClientContext(nullptr, e.timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  for (const auto& d : response.deliveries()) {
    std::printf("%s  %s  %-9s attempts %d  %s  %s\n", d.name().c_str(), d.notice().c_str(),
                feedback::v1::DeliveryState_Name(d.state()).substr(15).c_str(), d.attempts(),
                d.webhook().c_str(), d.last_error().c_str());
  }
  return 0;
}

int ServeWebhook(int port, const std::string& secret, const Clock& clock) {
  if (secret.empty()) {
    std::fprintf(stderr, "webhook serve: --secret is the signing secret CreateWebhook returned\n");
    return 2;
  }
  httplib::Server server;
  server.Post(".*", [&](const httplib::Request& req, httplib::Response& res) {
    absl::Status verified =
        auth::VerifyWebhook(secret, req.get_header_value(auth::kWebhookTimestampHeader),
                            req.get_header_value(auth::kWebhookSignatureHeader), req.body,
                            clock.Now(), absl::Minutes(5));
    if (!verified.ok()) {
      std::printf("refused %s: %s\n", req.path.c_str(), std::string(verified.message()).c_str());
      std::fflush(stdout);
      res.status = 401;
      return;
    }
    feedback::v1::Notice notice;
    if (!google::protobuf::util::JsonStringToMessage(req.body, &notice).ok()) {
      res.status = 400;
      return;
    }
    std::printf("%s  ", req.get_header_value(auth::kWebhookDeliveryHeader).c_str());
    PrintNotice(notice);
    std::fflush(stdout);
    res.status = 204;
  });
  if (!server.bind_to_port("127.0.0.1", port)) {
    std::fprintf(stderr, "webhook serve: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  std::printf("listening on http://127.0.0.1:%d/ (signatures checked); Ctrl-C stops\n", port);
  std::fflush(stdout);
  server.listen_after_bind();
  return 0;
}

}  // namespace linli::cli
