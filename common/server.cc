#include "common/server.h"
#include "absl/strings/string_view.h"

#include <signal.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/storage/database.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/server_interceptor.h"
#include "httplib.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"

namespace linli {
namespace {

constexpr size_t kMaxRequestIdLength = 128;
// Polling threads of the synchronous server kept waiting for calls (see GrpcServer::Start).
constexpr int kMinPollers = 2;
constexpr int kMaxPollers = 64;

// The RPC series every server records (registered once per process).
struct RpcMetrics {
  metrics::Family<metrics::Counter>& handled;
  metrics::Family<metrics::Histogram>& latency;
  metrics::Gauge& in_flight;
};

RpcMetrics& Rpc() {
  static RpcMetrics* rpc = [] {
    metrics::Registry& r = metrics::Registry::Default();
    return new RpcMetrics{
        r.AddCounter("linli_rpc_server_handled_total",
                     "gRPC calls completed by this server, by full method name and status code.",
                     {"method", "code"}),
        r.AddHistogram("linli_rpc_server_handling_seconds",
                       "Server-side latency of gRPC calls (first byte in to status out), by "
                       "method and status code.",
                       {"method", "code"}, metrics::DefaultLatencyBuckets()),
        r.AddGauge("linli_rpc_server_in_flight", "gRPC calls being served right now.", {})
            .WithLabels({})};
  }();
  return *rpc;
}

// The method label for metrics: the full method name when this binary knows it (a method of a
// compiled proto service, or health/reflection), "unknown" otherwise, so that clients calling
// made-up method names cannot grow the number of series without bound.
std::string MethodLabel(absl::string_view method) {
  if (absl::StartsWith(method, "/grpc.health.v1.Health/") ||
      absl::StartsWith(method, "/grpc.reflection.")) {
    return std::string(method);
  }
  // "/pkg.Service/Method" -> "pkg.Service.Method"
  if (method.size() < 4 || method[0] != '/') return "unknown";
  std::string dotted(method.substr(1));
  size_t slash = dotted.find('/');
  if (slash == std::string::npos || dotted.find('/', slash + 1) != std::string::npos) {
    return "unknown";
  }
  dotted[slash] = '.';
  if (google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(dotted) == nullptr) {
    return "unknown";
  }
  return std::string(method);
}

// Keeps a CallRecord for every call of a method that does not keep its own.
class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit CallInterceptor(grpc::experimental::ServerRpcInfo* info) : method_(info->method()) {}

  ~CallInterceptor() override {
    if (record_.has_value() && CurrentRequestId() == record_->request_id()) {
      SetCurrentRequestId("");
    }
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* metadata = methods->GetRecvInitialMetadata();
      auto it = metadata->find(kRequestIdKey);
      const bool sent = it != metadata->end() && !it->second.empty();
      record_.emplace(method_, sent ? absl::string_view(it->second.data(), it->second.size())
                                    : absl::string_view());
      if (!sent) {
        // Handlers read the id from the metadata map; the string lives as long as the call.
        metadata->emplace(grpc::string_ref(kRequestIdKey), grpc::string_ref(record_->request_id()));
      }
      // The sync server runs the handler on this thread right after this hook.
      SetCurrentRequestId(record_->request_id());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        record_.has_value()) {
      methods->GetSendTrailingMetadata()->emplace(kRequestIdKey, record_->request_id());
      record_->End(methods->GetSendStatus());
      if (CurrentRequestId() == record_->request_id()) SetCurrentRequestId("");
    }
    methods->Proceed();
  }

 private:
  const char* method_;
  std::optional<CallRecord> record_;
};

class CallInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallInterceptorFactory(std::function<bool(absl::string_view)> records_itself)
      : records_itself_(std::move(records_itself)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // No interceptor at all for a call that keeps its own record: gRPC then skips its
    // interception machinery for every step of the call.
    if (records_itself_ && info->method() != nullptr && records_itself_(info->method())) {
      return nullptr;
    }
    return new CallInterceptor(info);
  }

 private:
  std::function<bool(absl::string_view)> records_itself_;
};

// Fields of /proc/self/stat after the command name (field 3 onwards), empty when unreadable.
std::vector<std::string> ProcSelfStat() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::istringstream rest(text.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

// Process, build and database-pool series, registered once per process.
void RegisterRuntimeMetrics(const std::string& service_name) {
  static std::atomic<bool> registered{false};
  if (registered.exchange(true)) return;
  metrics::Registry& r = metrics::Registry::Default();
  r.AddGauge("linli_build_info", "Always 1; the labels name the service binary.", {"service"})
      .WithLabels({service_name})
      .Set(1);
  r.AddGauge("linli_process_start_time_seconds", "Start time of the process, Unix seconds.", {})
      .WithLabels({})
      .Set(absl::ToDoubleSeconds(Clock::Real().Now() - absl::UnixEpoch()));
  r.AddCallbackGauge("linli_process_resident_memory_bytes", "Resident set size.", {}, [] {
    std::ifstream in("/proc/self/statm");
    double size = 0, resident = 0;
    in >> size >> resident;
    return std::vector<metrics::Sample>{
        {{}, resident * static_cast<double>(sysconf(_SC_PAGESIZE))}};
  });
  r.AddCallbackCounter("linli_process_cpu_seconds_total", "User and system CPU time used.", {}, [] {
    std::vector<std::string> f = ProcSelfStat();
    double ticks = 0, utime = 0, stime = 0;
    // utime and stime are fields 14 and 15 of stat (11 and 12 here).
    if (f.size() > 12 && absl::SimpleAtod(f[11], &utime) && absl::SimpleAtod(f[12], &stime)) {
      ticks = utime + stime;
    }
    return std::vector<metrics::Sample>{{{}, ticks / static_cast<double>(sysconf(_SC_CLK_TCK))}};
  });
  r.AddCallbackGauge("linli_process_threads", "Threads of the process.", {}, [] {
    std::vector<std::string> f = ProcSelfStat();
    double threads = 0;
    if (f.size() > 17) (void)absl::SimpleAtod(f[17], &threads);  // field 20 of stat
    return std::vector<metrics::Sample>{{{}, threads}};
  });
  r.AddCallbackGauge("linli_db_pool_connections",
                     "Database connections by backend and state: max (pool size), open, in_use.",
                     {"backend", "state"}, [] {
                       std::vector<metrics::Sample> samples;
                       for (const storage::PoolStats& p : storage::ConnectionPoolStats()) {
                         samples.push_back({{p.backend, "max"}, static_cast<double>(p.max)});
                         samples.push_back({{p.backend, "open"}, static_cast<double>(p.open)});
                         samples.push_back({{p.backend, "in_use"}, static_cast<double>(p.in_use)});
                       }
                       return samples;
                     });
  r.AddCallbackCounter("linli_db_pool_acquired_total",
                       "Connections checked out of the pool (one per transaction attempt).",
                       {"backend"}, [] {
                         std::vector<metrics::Sample> samples;
                         for (const storage::PoolStats& p : storage::ConnectionPoolStats()) {
                           samples.push_back({{p.backend}, static_cast<double>(p.acquired_total)});
                         }
                         return samples;
                       });
  r.AddCallbackCounter("linli_db_pool_wait_seconds_total",
                       "Time spent waiting for a free pooled connection.", {"backend"}, [] {
                         std::vector<metrics::Sample> samples;
                         for (const storage::PoolStats& p : storage::ConnectionPoolStats()) {
                           samples.push_back({{p.backend}, p.wait_seconds_total});
                         }
                         return samples;
                       });
  r.AddCallbackCounter(
      "linli_db_pool_wait_timeouts_total",
      "Checkouts that gave up because every connection stayed busy (answered UNAVAILABLE).",
      {"backend"}, [] {
        std::vector<metrics::Sample> samples;
        for (const storage::PoolStats& p : storage::ConnectionPoolStats()) {
          samples.push_back({{p.backend}, static_cast<double>(p.wait_timeouts_total)});
        }
        return samples;
      });
}

// "host:port", "[v6]:port" or ":port" -> host and port. False when malformed.
bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  *host = address.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  if (host->empty()) *host = "0.0.0.0";
  return absl::SimpleAtoi(address.substr(colon + 1), port) && *port >= 0 && *port <= 65535;
}

absl::StatusOr<std::string> ReadPemFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": cannot read \"", path, "\""));
  }
  return text;
}

// OK when `cert_pem` starts with a certificate whose public key matches `key_pem`'s private key,
// so that a wrong or swapped file fails start-up with a message instead of every handshake.
absl::Status CheckKeyPair(const std::string& cert_pem, const std::string& key_pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  ERR_clear_error();
  if (cert == nullptr) {
    return absl::InvalidArgumentError("tls_cert_file holds no PEM certificate");
  }
  if (key == nullptr) {
    return absl::InvalidArgumentError("tls_key_file holds no PEM private key (or it is encrypted)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "tls_key_file does not match the first certificate of tls_cert_file");
  }
  return absl::OkStatus();
}

// Plaintext, or TLS from the PEM files of `options`.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const ServerOptions& options) {
  if (options.credentials != nullptr) return options.credentials;
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both tls_cert_file and tls_key_file (or neither for plaintext)");
  }
  absl::StatusOr<std::string> cert = ReadPemFile(options.tls_cert_file, "tls_cert_file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPemFile(options.tls_key_file, "tls_key_file");
  if (!key.ok()) return key.status();
  absl::Status pair = CheckKeyPair(*cert, *key);
  if (!pair.ok()) return pair;
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({std::move(*key), std::move(*cert)});
  ssl.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

// The RPC series of one method label, by status code, found once per call by method name rather
// than by building label vectors for two family lookups and a descriptor lookup every call.
class MethodSeries {
 public:
  explicit MethodSeries(std::string label) : label_(std::move(label)) {
    for (auto& c : handled_) c.store(nullptr, std::memory_order_relaxed);
    for (auto& h : latency_) h.store(nullptr, std::memory_order_relaxed);
  }

  void Record(grpc::StatusCode code, absl::Duration latency) {
    const int i = static_cast<int>(code);
    if (i < 0 || i >= kCodes) {  // not a code of the wire protocol: looked up every time
      const std::string name(GrpcCodeName(code));
      Rpc().handled.WithLabels({label_, name}).Increment();
      Rpc().latency.WithLabels({label_, name}).Observe(absl::ToDoubleSeconds(latency));
      return;
    }
    metrics::Counter* handled = handled_[i].load(std::memory_order_acquire);
    metrics::Histogram* histogram = latency_[i].load(std::memory_order_acquire);
    if (handled == nullptr || histogram == nullptr) {
      // Families return the same child for the same labels, so a race stores the same pointers.
      const std::string name(GrpcCodeName(code));
      handled = &Rpc().handled.WithLabels({label_, name});
      histogram = &Rpc().latency.WithLabels({label_, name});
      handled_[i].store(handled, std::memory_order_release);
      latency_[i].store(histogram, std::memory_order_release);
    }
    handled->Increment();
    histogram->Observe(absl::ToDoubleSeconds(latency));
  }

 private:
  static constexpr int kCodes = 17;  // OK .. UNAUTHENTICATED
  const std::string label_;
  std::atomic<metrics::Counter*> handled_[kCodes];
  std::atomic<metrics::Histogram*> latency_[kCodes];
};

// The series of `method`: one entry per method this binary knows (a bounded set, see
// MethodLabel), and one shared "unknown" entry for every other name, which is not remembered.
static MethodSeries& SeriesOf(absl::string_view method) {
  static absl::Mutex mu;
  static auto* known =  // guarded by mu
      new absl::flat_hash_map<std::string, std::unique_ptr<MethodSeries>>();
  static auto* unknown = new MethodSeries("unknown");
  {
    absl::ReaderMutexLock lock(&mu);
    auto it = known->find(method);
    if (it != known->end()) return *it->second;
  }
  std::string label = MethodLabel(method);
  if (label == "unknown") return *unknown;
  absl::MutexLock lock(&mu);
  std::unique_ptr<MethodSeries>& series = (*known)[method];
  if (series == nullptr) series = std::make_unique<MethodSeries>(std::move(label));
  return *series;
}

bool IsPlatformMethod(absl::string_view method) {
  return method == "/grpc.health.v1.Health/Check" || method == "/grpc.health.v1.Health/Watch" ||
         method == "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
}

CallRecord::CallRecord(absl::string_view method, absl::string_view caller_request_id)
    : method_(method),
      series_(SeriesOf(method_)),
      request_id_(caller_request_id.empty()
                      ? NewId(Clock::Real())
                      : std::string(caller_request_id.substr(0, kMaxRequestIdLength))) {
  Rpc().in_flight.Add(1);
}

CallRecord::~CallRecord() {
  if (in_flight_) Rpc().in_flight.Add(-1);
}

void CallRecord::End(const grpc::Status& status) {
  if (!in_flight_) return;
  in_flight_ = false;
  Rpc().in_flight.Add(-1);
  const absl::Duration latency = started_.Elapsed();
  series_.Record(status.error_code(), latency);
  const bool quiet =
      absl::StartsWith(method_, "/grpc.health.") || absl::StartsWith(method_, "/grpc.reflection.");
  if (!quiet || !status.ok()) {
    LogInfo("rpc", {{"method", method_},
                    {"code", std::string(GrpcCodeName(status.error_code()))},
                    {"latency_ms", absl::StrCat(absl::ToDoubleMilliseconds(latency))},
                    {"request_id", request_id_}});
  }
}

// GET /metrics and GET /healthz on their own HTTP port, served by a cpp-httplib thread pool.
class GrpcServer::MetricsEndpoint {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& address) {
    std::string host;
    int port = 0;
    if (!SplitHostPort(address, &host, &port)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics_listen: \"", address, "\" is not host:port"));
    }
    auto endpoint = std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint());
    httplib::Server& http = endpoint->http_;
    MetricsEndpoint* self = endpoint.get();
    // cpp-httplib's default options include SO_REUSEPORT, which would let a second process bind
    // the same port silently; a taken port must fail start-up (as for the gRPC port).
    http.set_socket_options([](int sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    // Scrapes are few and light: two workers rather than httplib's default of one per core (at
    // least eight), and idle keep-alive connections released quickly so shutdown is prompt.
    http.new_task_queue = [] { return new httplib::ThreadPool(2); };
    http.set_keep_alive_timeout(2);
    http.Get("/metrics", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(metrics::Registry::Default().Render(),
                           "text/plain; version=0.0.4; charset=utf-8");
    });
    http.Get("/healthz", [self](const httplib::Request&, httplib::Response& response) {
      const bool serving = self->serving_.load();
      response.status = serving ? 200 : 503;
      response.set_content(serving ? "SERVING\n" : "NOT_SERVING\n", "text/plain");
    });
    const int bound =
        port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
    if (bound <= 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", address, " for /metrics (address in use?)"));
    }
    endpoint->port_ = bound;
    endpoint->thread_ = std::thread([self] { self->http_.listen_after_bind(); });
    LogInfo("metrics listening", {{"address", address}, {"port", absl::StrCat(bound)}});
    return endpoint;
  }

  ~MetricsEndpoint() {
    http_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  void SetNotServing() { serving_.store(false); }

 private:
  MetricsEndpoint() = default;

  httplib::Server http_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> serving_{true};
};

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const ServerOptions& options, const std::vector<grpc::Service*>& services) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ListenerCredentials(options);
  if (!credentials.ok()) return credentials.status();
  // Abseil's Mutex deadlock detection (on in Debian's build) takes a global lock and walks a
  // graph on every lock operation, and gRPC locks many times per call: a debugging aid, off in
  // servers.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  RegisterRuntimeMetrics(options.service_name);
  Rpc();  // the RPC series appear (empty) on /metrics before the first call
  std::unique_ptr<MetricsEndpoint> metrics;
  if (!options.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> started =
        MetricsEndpoint::Start(options.metrics_listen);
    if (!started.ok()) return started.status();
    metrics = std::move(*started);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, *credentials, &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // The synchronous server serves each call on a polling thread and, by default, keeps at most
  // two of them: with more calls in flight (a handler that waits for a backend, a page fanning
  // out to one service twice) every call beyond that started a thread and every return ended
  // one. Idle pollers are kept instead (they cost a parked thread each), so a server grows to its
  // peak concurrency once and then reuses its threads.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, kMinPollers);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kMaxPollers);
  // gRPC enables SO_REUSEPORT by default, which lets a second process bind the same port
  // silently and steal half the connections; a taken port must fail start-up instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Keepalive: ping idle connections so dead peers are noticed; allow clients' pings.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.shutdown_deadline)));
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<CallInterceptorFactory>(options.records_itself));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  if (options.configure_builder) options.configure_builder(builder);

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address, " (address in use?)"));
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const std::string& name : options.health_service_names) {
    health->SetServingStatus(name, true);
  }
  LogInfo("listening", {{"address", options.listen_address},
                        {"port", absl::StrCat(port)},
                        {"transport", options.credentials != nullptr  ? "mtls"
                                      : options.tls_cert_file.empty() ? "plaintext"
                                                                      : "tls"}});
  auto started = std::unique_ptr<GrpcServer>(new GrpcServer(options, std::move(server), port));
  started->options_.configure_builder = nullptr;  // used once, above; may refer to Start's caller
  started->metrics_ = std::move(metrics);
  return started;
}

GrpcServer::GrpcServer(ServerOptions options, std::unique_ptr<grpc::Server> server, int port)
    : options_(std::move(options)), server_(std::move(server)), port_(port) {}

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() const {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(options_.max_receive_message_bytes);
  // What comes back is this server's own answer, already bounded by its handler (a roster export
  // of 50,000 rows is ~10 MB): gRPC's default 4 MB receive limit would fail it here only.
  args.SetMaxReceiveMessageSize(-1);
  return server_->InProcessChannel(args);
}

int GrpcServer::metrics_port() const { return metrics_ == nullptr ? 0 : metrics_->port(); }

GrpcServer::~GrpcServer() { Shutdown(); }

void GrpcServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  LogInfo("shutting down",
          {{"deadline_ms", absl::StrCat(absl::ToInt64Milliseconds(options_.shutdown_deadline))}});
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(false);
  for (const std::string& name : options_.health_service_names) {
    health->SetServingStatus(name, false);
  }
  if (metrics_ != nullptr) metrics_->SetNotServing();
  if (options_.drain_delay > absl::ZeroDuration()) absl::SleepFor(options_.drain_delay);
  server_->Shutdown(DeadlineAfter(options_.shutdown_deadline));
  server_->Wait();
  metrics_.reset();  // scrapes keep working while calls drain
  LogInfo("stopped");
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  LogInfo("signal received", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  return signal;
}

std::string Actor(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kActorKey);
  if (it == metadata.end() || it->second.empty()) return "unknown";
  return std::string(it->second.data(), std::min<size_t>(it->second.size(), 128));
}

std::string RequestId(const grpc::ServerContext& context) {
  // The interceptor adds a generated id when the caller sent none or an empty one; skip empties.
  auto [begin, end] = context.client_metadata().equal_range(kRequestIdKey);
  for (auto it = begin; it != end; ++it) {
    if (!it->second.empty()) {
      return std::string(it->second.data(), std::min(it->second.size(), kMaxRequestIdLength));
    }
  }
  // A call that keeps its own record (ServerOptions::records_itself) has its id as the serving
  // thread's (or fiber's) current one.
  return CurrentRequestId();
}

Caller CallerOf(const grpc::ServerContext& context) {
  return Caller{.actor = Actor(context), .request_id = RequestId(context)};
}

grpc::Status Reply(const grpc::ServerContext& context, const absl::Status& status) {
  std::string request_id = RequestId(context);
  if (absl::IsInternal(status) || absl::IsUnknown(status) || absl::IsDataLoss(status)) {
    LogError("internal error", {{"error", status.ToString()}, {"request_id", request_id}});
  }
  return ToGrpcStatus(status, request_id);
}

}  // namespace linli
