// The gateway's limits before authentication and on costly work (issue 18, item 6), with fake
// backends in this process and the gateway's own gRPC and HTTP ports on loopback:
//
//   - calls without credentials or with failing ones are limited per client address, on the gRPC
//     port (the peer's address) and on the HTTP port (the HTTP client's address, carried over the
//     in-process channel), while other addresses and callers with a verified token get through;
//     a client cannot choose the address it is limited as; the table of addresses is bounded;
//   - the HTTP port queues a burst of connects (its listen backlog is not httplib's 5);
//   - one principal runs one costly call (Plan, sweeps) at a time, and a caller that goes away
//     cancels the backend's work, over gRPC and over JSON;
//   - --jwt_public_keys_only refuses a key set with an HMAC or a private key.
//
// Every bucket runs on a FakeClock: nothing refills unless a test advances it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/jwt.h"
#include "common/clock.h"
#include "common/server.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "linli/gateway/v1/console.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/gateway/console_service.h"
#include "services/gateway/elder_app_service.h"
#include "services/gateway/gate.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/http_json.h"
#include "services/gateway/partner_service.h"
#include "services/gateway/worker_app_service.h"
#include "tests/support/in_process_gateway.h"
#include "tests/support/platform_pki.h"
#include "tests/support/test_env.h"

namespace linli::gateway {
namespace {

const std::string kSecret = "limits-test-secret-0123456789abcdef";
const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

class FakeRegistry final : public registry::v1::RegistryService::Service {
 public:
  grpc::Status ListLines(grpc::ServerContext*, const registry::v1::ListLinesRequest*,
                         registry::v1::ListLinesResponse*) override {
    return grpc::Status::OK;
  }
};

// Plan with seed 1 runs until its caller cancels it (at most 60 s); other plans and sweeps answer
// at once.
class FakeScheduling final : public scheduling::v1::SchedulingService::Service {
 public:
  grpc::Status Plan(grpc::ServerContext* context, const scheduling::v1::PlanRequest* request,
                    scheduling::v1::PlanResponse*) override {
    if (request->seed() != 1) return grpc::Status::OK;
    {
      absl::MutexLock lock(&mu_);
      ++entered_;
    }
    const Stopwatch running;
    while (!context->IsCancelled() && running.Elapsed() < absl::Seconds(60)) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    absl::MutexLock lock(&mu_);
    if (context->IsCancelled()) ++cancelled_;
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }
  grpc::Status SweepMissedVisits(grpc::ServerContext*,
                                 const scheduling::v1::SweepMissedVisitsRequest*,
                                 scheduling::v1::SweepMissedVisitsResponse*) override {
    return grpc::Status::OK;
  }

  // Whether `n` blocking plans have started / have seen their cancellation within `timeout`.
  bool AwaitEntered(int n, absl::Duration timeout) { return Await(&entered_, n, timeout); }
  bool AwaitCancelled(int n, absl::Duration timeout) { return Await(&cancelled_, n, timeout); }

 private:
  bool Await(int* counter, int n, absl::Duration timeout) {
    std::pair<int*, int> want{counter, n};
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](std::pair<int*, int>* w) { return *w->first >= w->second; }, &want),
        timeout);
  }
  absl::Mutex mu_;
  int entered_ ABSL_GUARDED_BY(mu_) = 0;
  int cancelled_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeFeedback final : public feedback::v1::FeedbackService::Service {};

// A street staff token of `subject`, valid at kStart for ten minutes.
std::string Token(const std::string& subject) {
  auto key = auth::JwtKey::Hmac("test", kSecret);
  const int64_t now = absl::ToUnixSeconds(kStart);
  return *auth::SignJwt(*key, {{"iss", "linli-test"},
                               {"aud", "linli-gateway"},
                               {"role", "street_staff"},
                               {"sub", subject},
                               {"region", "310101020"},
                               {"iat", now},
                               {"exp", now + 600}});
}

// One HTTP/1.1 exchange on a new connection from `source` (an address of 127.0.0.0/8).
struct HttpAnswer {
  int status = 0;
  std::string text;
};

int ConnectFrom(const std::string& source, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  timeval timeout{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string PostText(const std::string& path, const std::string& body,
                     const std::vector<std::string>& headers) {
  std::string text = absl::StrCat("POST ", path,
                                  " HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n"
                                  "Content-Type: application/json\r\nContent-Length: ",
                                  body.size(), "\r\n");
  for (const std::string& header : headers) absl::StrAppend(&text, header, "\r\n");
  absl::StrAppend(&text, "\r\n", body);
  return text;
}

bool SendAll(int fd, const std::string& text) {
  for (size_t sent = 0; sent < text.size();) {
    ssize_t n = send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

HttpAnswer ReadAnswer(int fd) {
  HttpAnswer answer;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) answer.text.append(buffer, n);
  if (absl::StartsWith(answer.text, "HTTP/1.1 ") && answer.text.size() >= 12) {
    answer.status = std::stoi(answer.text.substr(9, 3));
  }
  return answer;
}

HttpAnswer HttpPost(const std::string& source, int port, const std::string& path,
                    const std::string& body, const std::vector<std::string>& headers = {}) {
  int fd = ConnectFrom(source, port);
  if (fd < 0) return {};
  HttpAnswer answer;
  if (SendAll(fd, PostText(path, body, headers))) answer = ReadAnswer(fd);
  close(fd);
  return answer;
}

// The listen backlog of the TCP socket listening on `port` (sock_diag reports it as the
// listener's write queue), the largest over IPv4 and IPv6; -1 when there is none.
int ListenBacklog(int port) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  int backlog = -1;
  for (int family : {AF_INET, AF_INET6}) {
    struct {
      nlmsghdr header;
      inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof(message);
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = static_cast<uint8_t>(family);
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = 1u << 10;  // TCP_LISTEN
    if (send(fd, &message, sizeof(message), 0) < 0) break;
    bool done = false;
    while (!done) {
      alignas(nlmsghdr) char buffer[16384];
      ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, static_cast<size_t>(n));
           h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
          done = true;
          break;
        }
        const auto* socket = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
        if (ntohs(socket->id.idiag_sport) == port) {
          backlog = std::max(backlog, static_cast<int>(socket->idiag_wqueue));
        }
      }
    }
  }
  close(fd);
  return backlog;
}

// Fake backends, a gate on a FakeClock, and the gateway's gRPC port (IPv4 and IPv6) and HTTP
// port.
class Limits : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(GateOptions options) {
    if (gateway_ != nullptr) Stop();
    auto world = testing::InProcessGateway::Start(
        {&registry_, &scheduling_, &feedback_}, kSecret,
        {.gate = options,
         .listen = "[::]:0",  // IPv4 and IPv6: two client addresses
         .backend_timeout = absl::Seconds(60)},
        clock_);
    ASSERT_TRUE(world.ok()) << world.status();
    world_ = std::move(*world);
    gateway_ = &world_->server();
    auto http = HttpJsonServer::Start("127.0.0.1:0", PublicServiceNames(), *gateway_,
                                      absl::Seconds(60), 64 * 1024);
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = std::move(*http);
  }

  void TearDown() override { Stop(); }

  void Stop() {
    if (http_ != nullptr) http_->Stop();
    http_.reset();
    world_.reset();
    gateway_ = nullptr;
  }

  // A console stub over the gRPC port from 127.0.0.1 ("ipv4") or ::1 ("ipv6"), or over the
  // in-process channel ("inproc").
  std::unique_ptr<v1::ConsoleService::Stub> Console(const std::string& from) {
    if (from == "inproc") return v1::ConsoleService::NewStub(gateway_->InProcessChannel());
    const std::string target = from == "ipv6" ? absl::StrCat("ipv6:[::1]:", gateway_->port())
                                              : absl::StrCat("ipv4:127.0.0.1:", gateway_->port());
    return v1::ConsoleService::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  }

  // ListLines with `authorization` ("" for none) and extra metadata.
  static grpc::StatusCode ListLines(
      v1::ConsoleService::Stub& stub, const std::string& authorization,
      const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(absl::Seconds(30)));
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
    registry::v1::ListLinesResponse response;
    return stub.ListLines(&context, {}, &response).error_code();
  }

  static scheduling::v1::PlanRequest PlanRequest(uint64_t seed) {
    scheduling::v1::PlanRequest request;
    request.set_from_date("2027-01-15");
    request.set_days(1);
    request.set_region("regions/310101020");
    request.set_seed(seed);
    return request;
  }

  FakeClock clock_{kStart};
  FakeRegistry registry_;
  FakeScheduling scheduling_;
  FakeFeedback feedback_;
  std::unique_ptr<testing::InProcessGateway> world_;
  GatewayServer* gateway_ = nullptr;  // world_'s
  std::unique_ptr<HttpJsonServer> http_;
};

GateOptions SmallAddressBuckets() {
  GateOptions options;
  options.unauthenticated_rate_per_second = 1;
  options.unauthenticated_burst = 5;
  return options;
}

TEST(AddressKey, OneKeyPerIpv4AddressAndPerIpv6Slash64) {
  EXPECT_EQ(AddressKey("ipv4:203.0.113.7:5678"), "203.0.113.7");
  EXPECT_EQ(AddressKey("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(AddressKey("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(AddressKey("ipv6:[::ffff:127.0.0.1]:80"), "127.0.0.1");
  EXPECT_EQ(AddressKey("ipv6:[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("2001:db8:1:2::99"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("ipv6:[::1]:443"), "::/64");
  EXPECT_NE(AddressKey("2001:db8:1:3::1"), AddressKey("2001:db8:1:2::1"));
  EXPECT_EQ(AddressKey("inproc"), "inproc");
}

TEST_F(Limits, AnonymousAndBadTokenFloodFromOneAddressIsLimitedOnGrpc) {
  Start(SmallAddressBuckets());
  auto v4 = Console("ipv4");
  auto v6 = Console("ipv6");
  const std::string alice = "Bearer " + Token("staff/alice");
  ASSERT_EQ(ListLines(*v4, alice), grpc::StatusCode::OK);  // verified once, then cached

  // Five failures empty the address's bucket (burst 5, nothing refills on the fake clock)...
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ListLines(*v4, i % 2 == 0 ? "" : "Bearer garbage." + std::to_string(i)),
              grpc::StatusCode::UNAUTHENTICATED)
        << i;
  }
  // ...then the flood is refused before any verification, whatever it sends.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(ListLines(*v4, i % 2 == 0 ? "" : "Bearer garbage"),
              grpc::StatusCode::RESOURCE_EXHAUSTED)
        << i;
  }
  EXPECT_EQ(ListLines(*v4, "Bearer " + Token("staff/forged").substr(1)),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A client cannot claim another address on the network port.
  EXPECT_EQ(ListLines(*v4, "", {{kClientAddressKey, "198.51.100.1"}}),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ListLines(*v4, "", {{kClientAddressKey, "198.51.100.1"}, {kBridgeKey, BridgeSecret()}}),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The authenticated caller at the flooded address is not locked out.
  EXPECT_EQ(ListLines(*v4, alice), grpc::StatusCode::OK);
  // Another address has its own bucket; a new token from there is verified.
  EXPECT_EQ(ListLines(*v6, ""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListLines(*v6, "Bearer " + Token("staff/bob")), grpc::StatusCode::OK);
  // One second refills one token (1/s).
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(ListLines(*v4, ""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListLines(*v4, ""), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(Limits, AnonymousAndBadTokenFloodFromOneAddressIsLimitedOnHttp) {
  Start(SmallAddressBuckets());
  const int port = http_->port();
  const std::string path = "/linli.gateway.v1.ConsoleService/ListLines";
  const std::string alice = "Authorization: Bearer " + Token("staff/alice");
  ASSERT_EQ(HttpPost("127.0.0.1", port, path, "{}", {alice}).status, 200);
  for (int i = 0; i < 5; ++i) {
    HttpAnswer answer = HttpPost("127.0.0.1", port, path, "{}",
                                 i % 2 == 0 ? std::vector<std::string>{}
                                            : std::vector<std::string>{"Authorization: Bearer x"});
    EXPECT_EQ(answer.status, 401) << i << answer.text;
  }
  for (int i = 0; i < 20; ++i) {
    HttpAnswer answer = HttpPost("127.0.0.1", port, path, "{}",
                                 i % 2 == 0 ? std::vector<std::string>{}
                                            : std::vector<std::string>{"Authorization: Bearer x"});
    EXPECT_EQ(answer.status, 429) << i << answer.text;
    if (i == 0) {
      EXPECT_TRUE(absl::StrContains(answer.text, "resource_exhausted")) << answer.text;
    }
  }
  // Headers cannot move the call to another address.
  EXPECT_EQ(HttpPost("127.0.0.1", port, path, "{}",
                     {"X-Linli-Client-Address: 198.51.100.1", "X-Forwarded-For: 198.51.100.2"})
                .status,
            429);
  EXPECT_EQ(HttpPost("127.0.0.1", port, path, "{}", {alice}).status, 200);
  // 127.0.0.2 is another client; and gRPC clients at 127.0.0.1 share the HTTP clients' bucket
  // there (one address, whichever port).
  EXPECT_EQ(HttpPost("127.0.0.2", port, path, "{}").status, 401);
  EXPECT_EQ(
      HttpPost("127.0.0.2", port, path, "{}", {"Authorization: Bearer " + Token("staff/carol")})
          .status,
      200);
  EXPECT_EQ(ListLines(*Console("ipv4"), ""), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(Limits, TheTableOfAddressesIsBounded) {
  GateOptions options;
  options.unauthenticated_rate_per_second = 1;
  options.unauthenticated_burst = 1;
  options.max_tracked_addresses = 3;
  Start(options);
  // The JSON bridge's path: the in-process channel, and the bridge's secret. There the gate
  // believes the address the metadata names.
  auto inproc = Console("inproc");
  auto from = [&](const std::string& address) {
    return ListLines(*inproc, "", {{kClientAddressKey, address}, {kBridgeKey, BridgeSecret()}});
  };

  for (const char* address : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
    EXPECT_EQ(from(address), grpc::StatusCode::UNAUTHENTICATED) << address;
    EXPECT_EQ(from(address), grpc::StatusCode::RESOURCE_EXHAUSTED) << address;
  }
  // The table is full: new addresses share one bucket.
  EXPECT_EQ(from("10.0.0.4"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(from("10.0.0.5"), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Once buckets have refilled, their idle addresses make room.
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(from("10.0.0.6"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(from("10.0.0.6"), grpc::StatusCode::RESOURCE_EXHAUSTED);  // its own bucket now
  EXPECT_EQ(from("10.0.0.7"), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(Limits, HttpPortQueuesABurstOfConnects) {
  const int port = http_->port();
  // The listener's backlog (httplib's own listen() uses 5) and the gRPC port's.
  EXPECT_GE(ListenBacklog(port), 200);
  EXPECT_GE(ListenBacklog(gateway_->port()), 200);

  // 200 connects at once, then a request on each: every one is answered, and no SYN or segment
  // had to be sent twice (a full accept queue drops SYNs, which clients resend after 1 s).
  constexpr int kConnects = 200;
  std::vector<int> sockets;
  for (int i = 0; i < kConnects; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << strerror(errno);
    sockets.push_back(fd);
  }
  for (int fd : sockets) {
    pollfd p{fd, POLLOUT, 0};
    ASSERT_EQ(poll(&p, 1, 30000), 1);
    int error = 0;
    socklen_t length = sizeof(error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    EXPECT_EQ(error, 0) << strerror(error);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval timeout{30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  int answered = 0;
  for (int fd : sockets) {
    ASSERT_TRUE(SendAll(fd, "GET /nothing HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n"));
  }
  for (int fd : sockets) {
    if (ReadAnswer(fd).status == 404) ++answered;
    tcp_info info{};
    socklen_t length = sizeof(info);
    ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length), 0);
    EXPECT_EQ(info.tcpi_total_retrans, 0u) << "a connect or request had to be resent";
    close(fd);
  }
  EXPECT_EQ(answered, kConnects);
}

TEST_F(Limits, OnePrincipalRunsOneCostlyCallAtATimeAndCancellingStopsTheBackend) {
  auto stub = Console("ipv4");
  const std::string alice = "Bearer " + Token("staff/alice");
  const std::string bob = "Bearer " + Token("staff/bob");
  grpc::ClientContext first;
  first.AddMetadata("authorization", alice);
  first.set_deadline(DeadlineAfter(absl::Seconds(60)));
  auto running = std::async(std::launch::async, [&] {
    scheduling::v1::PlanResponse response;
    return stub->Plan(&first, PlanRequest(1), &response);
  });
  ASSERT_TRUE(scheduling_.AwaitEntered(1, absl::Seconds(30)));

  auto call = [&](const std::string& who, auto method, const auto& request, auto response) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", who);
    context.set_deadline(DeadlineAfter(absl::Seconds(30)));
    return ((*stub).*method)(&context, request, &response);
  };
  // A second plan of the same caller, or a sweep, is refused while the first runs.
  grpc::Status second =
      call(alice, &v1::ConsoleService::Stub::Plan, PlanRequest(2), scheduling::v1::PlanResponse());
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << second.error_message();
  EXPECT_TRUE(absl::StrContains(second.error_message(), "running")) << second.error_message();
  EXPECT_EQ(
      call(alice, &v1::ConsoleService::Stub::SweepMissedVisits,
           scheduling::v1::SweepMissedVisitsRequest(), scheduling::v1::SweepMissedVisitsResponse())
          .error_code(),
      grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Another caller plans meanwhile.
  EXPECT_TRUE(
      call(bob, &v1::ConsoleService::Stub::Plan, PlanRequest(2), scheduling::v1::PlanResponse())
          .ok());
  // Ordinary calls of the same caller are not held up.
  EXPECT_EQ(ListLines(*stub, alice), grpc::StatusCode::OK);

  // The caller goes away: the backend's plan is cancelled too.
  first.TryCancel();
  EXPECT_EQ(running.get().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(scheduling_.AwaitCancelled(1, absl::Seconds(10)))
      << "the backend's Plan did not see the cancellation";
  // Its slot is free again once the gateway's call has ended.
  grpc::Status again;
  const Stopwatch waited;
  do {
    again = call(alice, &v1::ConsoleService::Stub::Plan, PlanRequest(2),
                 scheduling::v1::PlanResponse());
  } while (again.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
           waited.Elapsed() < absl::Seconds(10));
  EXPECT_TRUE(again.ok()) << again.error_message();
}

TEST_F(Limits, AJsonClientThatHangsUpCancelsItsPlan) {
  const int port = http_->port();
  int fd = ConnectFrom("127.0.0.1", port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, PostText("/linli.gateway.v1.ConsoleService/Plan",
                                   R"({"fromDate": "2027-01-15", "days": 1,
                                       "region": "regions/310101020", "seed": "1"})",
                                   {"Authorization: Bearer " + Token("staff/alice")})));
  ASSERT_TRUE(scheduling_.AwaitEntered(1, absl::Seconds(30)));
  // While it runs, the same caller's second plan over JSON is refused with 429.
  HttpAnswer second =
      HttpPost("127.0.0.1", port, "/linli.gateway.v1.ConsoleService/Plan",
               R"({"fromDate": "2027-01-15", "days": 1, "region": "regions/310101020"})",
               {"Authorization: Bearer " + Token("staff/alice")});
  EXPECT_EQ(second.status, 429) << second.text;
  close(fd);
  EXPECT_TRUE(scheduling_.AwaitCancelled(1, absl::Seconds(10)))
      << "the backend's Plan went on after its JSON client hung up";
}

// Keys for key sets: an RSA or P-256 key, its public or private half as PEM.
std::string Pem(bool rsa, bool private_half) {
  EVP_PKEY* key = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  if (private_half) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio, key);
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

std::string KeySet(const std::vector<nlohmann::json>& keys) {
  return nlohmann::json{{"keys", keys}}.dump();
}

TEST(PublicKeysOnly, RefusesHmacAndPrivateKeys) {
  const nlohmann::json hs256 = {
      {"kid", "dev"}, {"alg", "HS256"}, {"k", auth::Base64UrlEncode(kSecret)}};
  const nlohmann::json rs256_public = {
      {"kid", "idp-rsa"}, {"alg", "RS256"}, {"pem", Pem(true, false)}};
  const nlohmann::json es256_public = {
      {"kid", "idp-ec"}, {"alg", "ES256"}, {"pem", Pem(false, false)}};
  const nlohmann::json rs256_private = {
      {"kid", "signer"}, {"alg", "RS256"}, {"pem", Pem(true, true)}};
  const nlohmann::json es256_private = {
      {"kid", "signer-ec"}, {"alg", "ES256"}, {"pem", Pem(false, true)}};
  // Every set below is a valid key set for the verifier.
  for (const auto& key : {hs256, rs256_public, es256_public, rs256_private, es256_private}) {
    ASSERT_TRUE(auth::JwtKeySet::Parse(KeySet({key})).ok()) << key["kid"];
  }

  EXPECT_TRUE(CheckPublicKeysOnly(KeySet({rs256_public})).ok());
  EXPECT_TRUE(CheckPublicKeysOnly(KeySet({rs256_public, es256_public})).ok());

  absl::Status development = CheckPublicKeysOnly(KeySet({hs256}));
  EXPECT_EQ(development.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(development.message(), "\"dev\" is HS256")) << development;
  absl::Status mixed = CheckPublicKeysOnly(KeySet({rs256_public, hs256}));
  EXPECT_EQ(mixed.code(), absl::StatusCode::kFailedPrecondition);
  for (const auto& key : {rs256_private, es256_private}) {
    absl::Status status = CheckPublicKeysOnly(KeySet({es256_public, key}));
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << key["kid"];
    EXPECT_TRUE(absl::StrContains(status.message(), "is a private key")) << status;
  }
  EXPECT_FALSE(CheckPublicKeysOnly("{\"keys\": []}").ok());
  EXPECT_FALSE(CheckPublicKeysOnly("not json").ok());

  // An identity provider's published key set as it stands (JWKs, "alg" often absent) passes;
  // a JWK with private or secret members does not.
  const nlohmann::json jwk = {{"kid", "idp-2027"}, {"kty", "RSA"}, {"n", "sXch"}, {"e", "AQAB"}};
  const nlohmann::json ed = {{"kid", "idp-ed"}, {"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qY"}};
  EXPECT_TRUE(CheckPublicKeysOnly(KeySet({jwk, ed, rs256_public})).ok());
  nlohmann::json private_jwk = jwk;
  private_jwk["d"] = "secret";
  absl::Status with_d = CheckPublicKeysOnly(KeySet({rs256_public, private_jwk}));
  EXPECT_EQ(with_d.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(with_d.message(), "carries \"d\"")) << with_d;
  EXPECT_FALSE(
      CheckPublicKeysOnly(KeySet({{{"kid", "s"}, {"kty", "oct"}, {"k", "c2VjcmV0"}}})).ok());
}

TEST(PublicKeysOnly, TheGatewayRefusesToStartWithTheDevelopmentKeySet) {
  const std::string dir = testing::MakeTempDir("gateway_public_keys_only");
  std::ofstream(dir + "/jwt-keys.json")
      << KeySet({{{"kid", "dev"}, {"alg", "HS256"}, {"k", auth::Base64UrlEncode(kSecret)}}});
  std::vector<std::string> args = {absl::StrCat("--listen=127.0.0.1:", testing::FreePort()),
                                   absl::StrCat("--http_listen=127.0.0.1:", testing::FreePort()),
                                   "--jwt_keys_file=" + dir + "/jwt-keys.json",
                                   "--jwt_public_keys_only"};
  testing::PlatformPki::Shared().AppendFlags("linli-gateway", args);  // so it gets that far
  auto gateway = testing::ChildProcess::Start(absl::StrCat(LINLI_BIN_DIR, "/linli-gateway"), args,
                                              dir + "/gateway.log");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  absl::StatusOr<int> exited = gateway->Wait(absl::Seconds(30));
  ASSERT_TRUE(exited.ok()) << "the gateway started with an HS256 key set";
  EXPECT_TRUE(WIFEXITED(*exited) && WEXITSTATUS(*exited) == 1);
  std::ifstream log(dir + "/gateway.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_TRUE(absl::StrContains(text.str(), "jwt_public_keys_only")) << text.str();
  EXPECT_TRUE(absl::StrContains(text.str(), "HS256")) << text.str();
}

}  // namespace
}  // namespace linli::gateway
