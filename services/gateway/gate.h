// The gateway's one entrance check, applied to every method of every linli.gateway.v1 service
// (JSON calls pass through the gRPC port, so they get it too):
//
//   1. authentication: "authorization: Bearer <JWT>" (verified against the key set, see
//      common/auth/jwt.h) or a partner API key ("authorization: Bearer lk.…" or "x-api-key");
//      anything else is UNAUTHENTICATED. Before any verification work, a token bucket per client
//      address (the peer's IPv4 address or IPv6 /64; for JSON calls the HTTP client's, see
//      kClientAddressKey), which only calls without credentials or with failing credentials
//      consume: while it is empty, such calls are RESOURCE_EXHAUSTED (HTTP 429) at the cost of a
//      lookup. A token the gate has already verified (cached) still passes, so a flood from one
//      address locks out neither authenticated callers nor other addresses;
//   2. rate limit: a token bucket per principal; empty is RESOURCE_EXHAUSTED (HTTP 429);
//   3. authorisation: the rule of the full method name (authz_rules.cc) — the roles allowed and a
//      relationship check of the request against the principal (region scope, family of this
//      elder, the worker acting as themself, partner scopes). No rule: PERMISSION_DENIED (deny
//      by default); the matrix test fails for any method without one.
//   4. costly methods (CostlyMethods(): planning, sweeps, bulk materialisation): at most
//      GateOptions::max_costly_calls_per_principal of them run at once per principal; one more is
//      RESOURCE_EXHAUSTED. Backend calls carry the caller's cancellation (BackendContext), so a
//      caller that goes away stops the backend's work too.
//
//   grpc::Status MyService::GetThing(ServerContext* context, const Req* request, Resp* response) {
//     return gate_->Run(context, "/linli.gateway.v1.MyService/GetThing", *request,
//                       [&](const auth::Principal& who) -> grpc::Status { ... });
//   }
#ifndef LINLI_SERVICES_GATEWAY_GATE_H_
#define LINLI_SERVICES_GATEWAY_GATE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/api_keys.h"
#include "common/auth/jwt.h"
#include "common/auth/principal.h"
#include "common/clock.h"
#include "google/protobuf/message.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "linli/feedback/v1/feedback.grpc.pb.h"
#include "linli/registry/v1/registry.grpc.pb.h"
#include "linli/scheduling/v1/scheduling.grpc.pb.h"

namespace linli::gateway {

using RegistryStub = registry::v1::RegistryService::StubInterface;
using SchedulingStub = scheduling::v1::SchedulingService::StubInterface;
using FeedbackStub = feedback::v1::FeedbackService::StubInterface;

// Relationship lookups that need a backend: an elder's committee, a commitment's elder, an
// organisation's region. Each is one backend call with the caller's deadline.
//
// Region scope is decided on region paths as the registry's parent links record them (the
// ancestors GetRegion returns), never on code prefixes: a region is in `who`'s scope when
// `who`'s region is that region or one of its ancestors. Paths come from a cache (at most
// kMaxCachedRegionPaths regions, each kept kRegionPathTtl on the injected clock; a region's
// parent does not change through the API, the expiry bounds how long a correction made in the
// registry's database takes to reach the gateway), so a check costs no backend call once the
// region was seen, and one GetRegion when it was not.
class Relations {
 public:
  static constexpr size_t kMaxCachedRegionPaths = 8192;  // Shanghai has ~5,300 regions
  static constexpr absl::Duration kRegionPathTtl = absl::Minutes(5);

  Relations(std::shared_ptr<registry::v1::RegistryService::StubInterface> registry,
            std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling,
            absl::Duration backend_timeout, const Clock& clock)
      : registry_(std::move(registry)),
        scheduling_(std::move(scheduling)),
        backend_timeout_(backend_timeout),
        clock_(clock) {}

  // OK when `who` may act on `elder` ("elders/{id}"): the elder themself or family (the token
  // names them), staff whose region is the elder's committee or one of its ancestors, admin.
  absl::Status Elder(const grpc::ServerContext& context, const auth::Principal& who,
                     const std::string& elder) const;
  // OK when `region` ("regions/{code}") lies in `who`'s scope: `who`'s region is `region` or one
  // of its ancestors in the registry (admin: everywhere). PERMISSION_DENIED otherwise; NOT_FOUND
  // for a region the registry does not know; UNAVAILABLE when the registry cannot be asked.
  absl::Status Region(const grpc::ServerContext& context, const auth::Principal& who,
                      const std::string& region) const;
  // OK when `region` is in scope or an ancestor of `who`'s region (a street may read its
  // district).
  absl::Status RegionOrAncestor(const grpc::ServerContext& context, const auth::Principal& who,
                                const std::string& region) const;
  // The same without the caller's context (a path the cache lacks is fetched with the backend
  // timeout alone, without the caller's deadline and request id): prefer the overloads above.
  absl::Status Region(const auth::Principal& who, const std::string& region) const;
  absl::Status RegionOrAncestor(const auth::Principal& who, const std::string& region) const;
  // The commitment's elder must pass Elder().
  absl::Status Commitment(const grpc::ServerContext& context, const auth::Principal& who,
                          const std::string& commitment) const;
  // A worker's promise: `who` must be the commitment's familiar (preferred) worker; with a
  // `visit`, the visit must be one of that commitment's from yesterday to tomorrow (NOT_FOUND
  // otherwise).
  absl::Status WorkerCommitment(const grpc::ServerContext& context, const auth::Principal& who,
                                const std::string& commitment, const std::string& visit) const;
  // The organisation's region must be in scope or an ancestor of the principal's.
  absl::Status Organisation(const grpc::ServerContext& context, const auth::Principal& who,
                            const std::string& organisation) const;
  // For changes: the organisation's region must be in scope (a bureau above is not).
  absl::Status OwnOrganisation(const grpc::ServerContext& context, const auth::Principal& who,
                               const std::string& organisation) const;
  // A worker's visit: `who` must be booked on `visit` or have checked in to it; with a
  // `commitment`, the visit must be one of that commitment's (NOT_FOUND otherwise).
  absl::Status WorkerVisit(const grpc::ServerContext& context, const auth::Principal& who,
                           const std::string& visit, const std::string& commitment) const;
  // A partner's delivery: the commitment of `visit` must be owned by the key's organisation.
  absl::Status PartnerVisit(const grpc::ServerContext& context, const auth::Principal& who,
                            const std::string& visit) const;

 private:
  // Organisation() (`or_above`) and OwnOrganisation(): one registry read of its region.
  absl::Status OrganisationIn(const grpc::ServerContext& context, const auth::Principal& who,
                              const std::string& organisation, bool or_above) const;
  // A lookup's context: the caller's deadline (capped) when there is a caller.
  std::unique_ptr<grpc::ClientContext> Context(const grpc::ServerContext& context) const;
  std::unique_ptr<grpc::ClientContext> Context(const grpc::ServerContext* context) const;
  absl::Status RegionIn(const grpc::ServerContext* context, const auth::Principal& who,
                        const std::string& region) const;
  absl::Status RegionOrAncestorIn(const grpc::ServerContext* context, const auth::Principal& who,
                                  const std::string& region) const;
  // The codes from the root to `code` (the region's own code last), from the cache or the
  // registry. NOT_FOUND when the registry does not know the region.
  absl::StatusOr<std::vector<std::string>> RegionPath(const grpc::ServerContext* context,
                                                      const std::string& code) const;

  std::shared_ptr<registry::v1::RegistryService::StubInterface> registry_;
  std::shared_ptr<scheduling::v1::SchedulingService::StubInterface> scheduling_;
  absl::Duration backend_timeout_;
  const Clock& clock_;  // "today" for a worker's visits; the expiry of cached region paths

  struct CachedPath {
    std::vector<std::string> codes;
    absl::Time expires;
  };
  // Never held across a backend call (the gateway's event loops run calls as fibers).
  mutable absl::Mutex paths_mu_;
  mutable absl::flat_hash_map<std::string, CachedPath> paths_ ABSL_GUARDED_BY(paths_mu_);
};

// The authorisation rule of one method.
struct Rule {
  // Roles that may call the method at all.
  std::vector<auth::Role> roles;
  // True when the request names nothing the caller could be a stranger to (taxonomies): the
  // matrix test then accepts success for allowed roles.
  bool unscoped = false;
  // The relationship check of the request (already known to be the method's input type).
  std::function<absl::Status(const Relations&, const grpc::ServerContext&, const auth::Principal&,
                             const google::protobuf::Message&)>
      check;
};

// Rules by full method name ("/linli.gateway.v1.ConsoleService/GetElder"), authz_rules.cc.
const std::map<std::string, Rule>& AuthorisationRules();

struct GateOptions {
  // Issuer and audience every token must carry.
  std::string issuer = "linli-dev";
  std::string audience = "linli-gateway";
  // Token bucket per principal: refill rate and capacity.
  double rate_per_second = 50;
  double burst = 100;
  // The longest a token of each role may live (exp - iat); iat is required.
  auth::TokenLifetimes token_lifetimes;
  // Token bucket per client address, consumed only by calls without credentials or whose
  // credentials fail, and checked before any verification: refill rate and capacity. A rate of 0
  // turns it off. At most `max_tracked_addresses` addresses are tracked (about 100 bytes each);
  // when the table is full, addresses whose bucket has refilled are forgotten, and new addresses
  // that still do not fit share one bucket.
  double unauthenticated_rate_per_second = 5;
  double unauthenticated_burst = 50;
  size_t max_tracked_addresses = 65536;
  // Calls of CostlyMethods() one principal may have running at once (<= 0: no limit).
  int max_costly_calls_per_principal = 1;
};

// Metadata the JSON bridge sets on its in-process calls: the HTTP client's address, and the
// bridge's secret (BridgeSecret()) proving the call is the bridge's. The gate believes the address
// only on a call without a network peer that carries the secret; on any other call it uses the
// peer's address and ignores this metadata, so a client cannot choose the address it is limited
// as. The HTTP bridge forwards no client header under these names.
inline constexpr char kClientAddressKey[] = "x-linli-client-address";
inline constexpr char kBridgeKey[] = "x-linli-bridge";
// A random value drawn once per process; it never leaves the process.
const std::string& BridgeSecret();

// The key an address is limited under: an IPv4 address as is ("203.0.113.7", also when written
// IPv4-mapped, "::ffff:203.0.113.7"), an IPv6 address by its /64 ("2001:db8:1:2::/64": one
// subscriber usually holds a whole /64). `address` is a bare host or a gRPC peer
// ("ipv4:1.2.3.4:5678", "ipv6:[::1]:5678"); anything else is returned without its port.
std::string AddressKey(absl::string_view address);

// The full names of the methods whose work is costly for the backends (planning, sweeps, bulk
// materialisation of visits), limited per principal by the gate.
const std::set<std::string>& CostlyMethods();

// For --jwt_public_keys_only: OK when every key of the key set file `key_set_json` is an RS256 or
// ES256 public key; FAILED_PRECONDITION naming each HMAC (HS256) key — a shared secret that also
// mints tokens — and each private key otherwise. A production gateway verifies the identity
// provider's tokens and can mint none.
absl::Status CheckPublicKeysOnly(absl::string_view key_set_json);

class Gate {
 public:
  // `keys` verifies tokens; `api_keys` (may be null: no partner keys) authenticates partners.
  Gate(auth::JwtKeySet keys, std::unique_ptr<auth::ApiKeyStore> api_keys, GateOptions options,
       std::shared_ptr<Relations> relations, const Clock& clock);

  // Steps 1-3 above for a call of `method` with `request`. The principal, or the status to
  // return (UNAUTHENTICATED, RESOURCE_EXHAUSTED, PERMISSION_DENIED, NOT_FOUND, UNAVAILABLE).
  absl::StatusOr<auth::Principal> Admit(const grpc::ServerContext& context,
                                        absl::string_view method,
                                        const google::protobuf::Message& request);

  // Admit, then `handler` with the principal; the wire status either way (with request id).
  grpc::Status Run(grpc::ServerContext* context, absl::string_view method,
                   const google::protobuf::Message& request,
                   absl::FunctionRef<grpc::Status(const auth::Principal&)> handler);

  // Step 1 alone (no per-address limit).
  absl::StatusOr<auth::Principal> Authenticate(const grpc::ServerContext& context);

  const Relations& relations() const { return *relations_; }

  // The address key (AddressKey) a call is limited under: the peer's, or for the JSON bridge's
  // in-process calls the kClientAddressKey it set (see there).
  static std::string ClientAddress(const grpc::ServerContext& context);
  // Whether the call came through the JSON bridge (the HTTP port), which holds an HTTP thread
  // for as long as the call lasts.
  static bool FromHttpBridge(const grpc::ServerContext& context);

 private:
  // Step 1; `limit_by_address`: calls that would need verification work are refused while their
  // address's bucket is empty, and failures consume from it.
  absl::StatusOr<auth::Principal> AuthenticateFrom(const grpc::ServerContext& context,
                                                   bool limit_by_address);
  bool TakeToken(const std::string& principal_id);
  // The address bucket: whether it holds a token (nothing is consumed), and consuming one.
  bool AddressHasToken(const std::string& address);
  void ChargeAddress(const std::string& address);
  absl::Status AddressExhausted() const;
  // A slot for one more costly call of `principal_id`; false when it has the maximum running.
  bool BeginCostly(const std::string& principal_id);
  void EndCostly(const std::string& principal_id);

  auth::JwtVerifier verifier_;
  std::unique_ptr<auth::ApiKeyStore> api_keys_;
  GateOptions options_;
  std::shared_ptr<Relations> relations_;
  const Clock& clock_;

  // What the gate knows of a method, by full name, looked up once per call (AuthorisationRules()
  // and CostlyMethods() indexed for a lookup without building a std::string).
  struct MethodInfo {
    const Rule* rule = nullptr;  // null: no rule, denied
    bool costly = false;
  };
  absl::flat_hash_map<std::string, MethodInfo> methods_;

  // Verified tokens, so a client's next call skips the signature and JSON work; an entry is used
  // only until the token's exp (plus leeway), and the cache is cleared wholesale when full.
  struct Verified {
    auth::Principal principal;
    absl::Time valid_until;
  };
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, Verified> verified_ ABSL_GUARDED_BY(cache_mu_);  // by token

  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);

  // Per-address buckets (unauthenticated and failed calls). When the table is full, idle
  // addresses (full buckets) are forgotten, at most once per refill time; addresses that still
  // do not fit share `address_overflow_`.
  absl::Mutex address_mu_;
  absl::flat_hash_map<std::string, Bucket> address_buckets_ ABSL_GUARDED_BY(address_mu_);
  Bucket address_overflow_ ABSL_GUARDED_BY(address_mu_);
  absl::Time address_purged_ ABSL_GUARDED_BY(address_mu_) = absl::InfinitePast();

  // Costly calls running, per principal (entries only while some run).
  absl::Mutex costly_mu_;
  absl::flat_hash_map<std::string, int> costly_running_ ABSL_GUARDED_BY(costly_mu_);
};

// What each public service of the gateway works with: the gate every call passes, the three
// backends, the deadline of one backend call and the clock ("today" for what a view shows).
struct Backends {
  Gate* gate = nullptr;
  std::shared_ptr<RegistryStub> registry;
  std::shared_ptr<SchedulingStub> scheduling;
  std::shared_ptr<FeedbackStub> feedback;
  absl::Duration backend_timeout = absl::Seconds(10);
  const Clock* clock = nullptr;  // required
};

// A call through the JSON bridge that waits long (a long read of an inbox, a stream of notices)
// holds one of the HTTP port's threads while it waits (HttpJsonServer has kHttpThreads): at most
// kMaxBridgedWaits hold one at once in the whole gateway, so the other threads stay for other
// calls (and for idle keep-alive connections, which hold a thread for up to 5 s).
// A call from anywhere else needs no slot. The slot, if taken, is held for the object's life.
class BridgedWaitSlot {
 public:
  static constexpr int kMaxBridgedWaits = 24;

  explicit BridgedWaitSlot(const grpc::ServerContext& context);
  ~BridgedWaitSlot();
  BridgedWaitSlot(const BridgedWaitSlot&) = delete;
  BridgedWaitSlot& operator=(const BridgedWaitSlot&) = delete;

  // False for a bridged call that found every slot taken: it must not wait.
  bool may_wait() const { return may_wait_; }

 private:
  bool holds_slot_ = false;
  bool may_wait_ = true;
};

// A read of an inbox that waits for the next notice (FeedbackService.ListNotices wait_seconds,
// at most kMaxNoticeWaitSeconds). Through the JSON bridge without a BridgedWaitSlot the read does
// not wait (wait_seconds() is 0: it answers at once and the app asks again).
class NoticeWait {
 public:
  static constexpr int kMaxNoticeWaitSeconds = 30;

  NoticeWait(const grpc::ServerContext& context, int requested_seconds);

  // The wait to ask feedback for.
  int wait_seconds() const { return wait_seconds_; }
  // What the backend call's deadline needs beyond the usual timeout (the requested wait, 0-30 s).
  absl::Duration extra_deadline() const { return absl::Seconds(requested_seconds_); }

 private:
  int requested_seconds_;
  int wait_seconds_;
  std::optional<BridgedWaitSlot> slot_;
};

// The base of the public services (console, elder app, partner, worker app): their Backends, as
// members.
class GatewayService {
 protected:
  explicit GatewayService(const Backends& backends)
      : gate_(backends.gate),
        registry_(backends.registry),
        scheduling_(backends.scheduling),
        feedback_(backends.feedback),
        backend_timeout_(backends.backend_timeout),
        clock_(*backends.clock) {}

  Gate* gate_;
  std::shared_ptr<RegistryStub> registry_;
  std::shared_ptr<SchedulingStub> scheduling_;
  std::shared_ptr<FeedbackStub> feedback_;
  absl::Duration backend_timeout_;
  const Clock& clock_;
};

// A context for a backend call on behalf of `who`: the caller's deadline (capped by `timeout`)
// and request id, and x-linli-actor set to the principal (never a client-sent value).
std::unique_ptr<grpc::ClientContext> BackendContext(const grpc::ServerContext* context,
                                                    const auth::Principal& who,
                                                    absl::Duration timeout);

}  // namespace linli::gateway

#endif  // LINLI_SERVICES_GATEWAY_GATE_H_
