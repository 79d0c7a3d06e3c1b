#include "services/gateway/gate.h"
#include "services/gateway/event_loop.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/server.h"
#include "nlohmann/json.hpp"

namespace linli::gateway {
namespace {

constexpr size_t kMaxBuckets = 100000;
constexpr size_t kMaxVerifiedTokens = 10000;

absl::Status Denied(absl::string_view what) {
  return absl::PermissionDeniedError(std::string(what));
}

// A value of the call's metadata ("" when absent), valid as long as the call.
absl::string_view Metadata(const grpc::ServerContext& context, const char* key) {
  auto it = context.client_metadata().find(key);
  if (it == context.client_metadata().end()) return "";
  return absl::string_view(it->second.data(), it->second.size());
}

// Backend errors met while checking a relationship: NOT_FOUND passes (the caller named something
// that does not exist), an unreachable backend is UNAVAILABLE, anything else is refused rather
// than leaked.
absl::Status LookupFailed(const grpc::Status& status, absl::string_view what) {
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return absl::NotFoundError(absl::StrCat(what, " not found"));
    case grpc::StatusCode::INVALID_ARGUMENT:
      return FromGrpcStatus(status);
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError(
          absl::StrCat("cannot check access to ", what, " now; retry later"));
    default:
      return Denied(absl::StrCat("cannot check access to ", what));
  }
}

// "regions/310101020" (or a bare "310101020") -> "310101020"; "" when it is not 2-12 digits.
std::string RegionCode(absl::string_view region) {
  absl::ConsumePrefix(&region, "regions/");
  if (region.size() < 2 || region.size() > 12) return "";
  for (char c : region) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return "";
  }
  return std::string(region);
}

// A request that leaves out the record it is about is bad input, not a denial: INVALID_ARGUMENT
// (as an admin, whom no rule stops, gets from the backend's own check).
absl::Status Unnamed(absl::string_view what, absl::string_view collection) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " must be named (\"", collection, "/…\"); the request names none"));
}

absl::Status OutOfScope(const std::string& region) {
  return Denied(absl::StrCat("region \"", region.substr(0, 64), "\" is outside your scope"));
}

// A bucket of `capacity` tokens refilled at `rate` per second, brought up to `now`.
template <typename Bucket>
void Refill(Bucket& bucket, absl::Time now, double rate, double capacity) {
  if (now > bucket.updated) {
    bucket.tokens =
        std::min(capacity, bucket.tokens + absl::ToDoubleSeconds(now - bucket.updated) * rate);
    bucket.updated = now;
  }
}

}  // namespace

std::string AddressKey(absl::string_view address) {
  // A gRPC peer: "ipv4:1.2.3.4:5678", "ipv6:[::1]:5678", "unix:/path", "inproc".
  if (absl::ConsumePrefix(&address, "ipv4:")) {
    if (size_t colon = address.rfind(':'); colon != absl::string_view::npos) {
      address = address.substr(0, colon);
    }
  } else if (absl::ConsumePrefix(&address, "ipv6:")) {
    if (absl::ConsumePrefix(&address, "[")) address = address.substr(0, address.find(']'));
  } else if (absl::StartsWith(address, "[")) {  // "[::1]" or "[::1]:5678"
    address.remove_prefix(1);
    address = address.substr(0, address.find(']'));
  }
  // Without a zone ("fe80::1%eth0").
  const std::string host(address.substr(0, address.find('%')));
  unsigned char bytes[16];
  if (inet_pton(AF_INET, host.c_str(), bytes) == 1) return host;
  if (inet_pton(AF_INET6, host.c_str(), bytes) == 1) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char text[INET6_ADDRSTRLEN];
    if (std::memcmp(bytes, kMapped, sizeof(kMapped)) == 0) {
      inet_ntop(AF_INET, bytes + 12, text, sizeof(text));
      return text;
    }
    std::memset(bytes + 8, 0, 8);
    inet_ntop(AF_INET6, bytes, text, sizeof(text));
    return absl::StrCat(text, "/64");
  }
  return std::string(address.substr(0, 128));
}

const std::string& BridgeSecret() {
  static const std::string* secret = [] {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
      LogError("cannot draw the JSON bridge's secret; JSON calls share one address bucket");
      return new std::string("no secret: never matches metadata");
    }
    return new std::string(absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes))));
  }();
  return *secret;
}

const std::set<std::string>& CostlyMethods() {
  static const auto* methods = new std::set<std::string>{
      "/linli.gateway.v1.ConsoleService/Plan",
      "/linli.gateway.v1.ConsoleService/MaterializeVisits",
      "/linli.gateway.v1.ConsoleService/SweepMissedVisits",
      "/linli.gateway.v1.ConsoleService/SweepAlerts",
  };
  return *methods;
}

absl::Status CheckPublicKeysOnly(absl::string_view key_set_json) {
  nlohmann::json document =
      nlohmann::json::parse(key_set_json.begin(), key_set_json.end(), nullptr, false);
  if (document.is_discarded() || !document.is_object() || !document.contains("keys") ||
      !document["keys"].is_array() || document["keys"].empty()) {
    return absl::InvalidArgumentError("key set: expected {\"keys\": [...]} with at least one key");
  }
  std::vector<std::string> refused;
  for (const nlohmann::json& entry : document["keys"]) {
    const std::string kid = entry.is_object() && entry.contains("kid") && entry["kid"].is_string()
                                ? entry["kid"].get<std::string>()
                                : "(no kid)";
    // A JSON Web Key is public unless it carries private or secret members (RFC 7518, 6.2.2,
    // 6.3.2, 6.4.1); the verifier loads only public halves, and skips kinds it does not use.
    if (entry.is_object() && entry.contains("kty")) {
      for (const char* secret : {"d", "p", "q", "k"}) {
        if (entry.contains(secret)) {
          refused.push_back(absl::StrCat("key \"", kid.substr(0, 64), "\" carries \"", secret,
                                         "\" (private or secret key material)"));
          break;
        }
      }
      continue;
    }
    const std::string alg = entry.is_object() && entry.contains("alg") && entry["alg"].is_string()
                                ? entry["alg"].get<std::string>()
                                : "";
    if (alg != "RS256" && alg != "ES256") {
      refused.push_back(absl::StrCat(
          "key \"", kid.substr(0, 64), "\" is ", alg.empty() ? "not an RS256/ES256 key" : alg,
          alg == "HS256" ? " (a shared secret: whoever holds it mints tokens)" : ""));
      continue;
    }
    if (entry.contains("k")) {
      refused.push_back(absl::StrCat("key \"", kid.substr(0, 64), "\" carries a secret \"k\""));
      continue;
    }
    const std::string pem =
        entry.contains("pem") && entry["pem"].is_string() ? entry["pem"].get<std::string>() : "";
    // As JwtKey::FromPem reads it: a private key if one parses; and any PEM block labelled
    // private (also an encrypted one) is refused.
    bool is_private = absl::StrContains(pem, "PRIVATE KEY");
    if (!is_private) {
      std::unique_ptr<BIO, decltype(&BIO_free)> bio(
          BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
      EVP_PKEY* pkey =
          bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
      if (pkey != nullptr) {
        is_private = true;
        EVP_PKEY_free(pkey);
      }
    }
    if (is_private) {
      refused.push_back(absl::StrCat("key \"", kid.substr(0, 64),
                                     "\" is a private key (only the public half belongs here)"));
    }
  }
  if (refused.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the key set must hold only RS256 or ES256 public keys of the identity "
                   "provider (--jwt_public_keys_only): ",
                   absl::StrJoin(refused, "; ")));
}

std::unique_ptr<grpc::ClientContext> BackendContext(const grpc::ServerContext* context,
                                                    const auth::Principal& who,
                                                    absl::Duration timeout) {
  auto client_context = NewClientContext(context, timeout);
  client_context->AddMetadata(kActorKey, who.Actor());
  return client_context;
}

std::unique_ptr<grpc::ClientContext> Relations::Context(const grpc::ServerContext* context) const {
  auto client_context = NewClientContext(context, backend_timeout_);
  client_context->AddMetadata(kActorKey, "gateway:access-check");
  return client_context;
}

std::unique_ptr<grpc::ClientContext> Relations::Context(const grpc::ServerContext& context) const {
  return Context(&context);
}

absl::StatusOr<std::vector<std::string>> Relations::RegionPath(const grpc::ServerContext* context,
                                                               const std::string& code) const {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&paths_mu_);
    auto it = paths_.find(code);
    if (it != paths_.end() && now < it->second.expires) return it->second.codes;
  }
  // Not under the lock: the call suspends this fiber, and another fiber of the loop may need it.
  registry::v1::GetRegionRequest request;
  request.set_name(absl::StrCat("regions/", code));
  registry::v1::GetRegionResponse response;
  grpc::Status status = Unary(*registry_, &RegistryStub::PrepareAsyncGetRegion,
                              Context(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, request.name());
  std::vector<std::string> codes;
  codes.reserve(response.ancestors_size() + 1);
  for (const std::string& ancestor : response.ancestors()) {
    absl::string_view ancestor_code = ancestor;
    if (!absl::ConsumePrefix(&ancestor_code, "regions/") || ancestor_code.empty()) {
      return Denied(absl::StrCat("cannot check access to ", request.name()));
    }
    codes.emplace_back(ancestor_code);
  }
  // A region with a parent whose ancestors do not end at that parent (a registry too old to
  // return them): refused, and not cached, rather than read as a shorter path.
  const std::string& parent = response.region().parent();
  if (!parent.empty() &&
      (response.ancestors().empty() || *response.ancestors().rbegin() != parent)) {
    return Denied(absl::StrCat("cannot check access to ", request.name(),
                               ": the registry did not return its ancestors"));
  }
  codes.push_back(code);
  absl::MutexLock lock(&paths_mu_);
  if (paths_.size() >= kMaxCachedRegionPaths) {
    absl::erase_if(paths_, [&](const auto& entry) { return entry.second.expires <= now; });
    if (paths_.size() >= kMaxCachedRegionPaths) paths_.clear();  // wholesale, as the gate's caches
  }
  paths_[code] = CachedPath{codes, now + kRegionPathTtl};
  return codes;
}

absl::Status Relations::RegionIn(const grpc::ServerContext* context, const auth::Principal& who,
                                 const std::string& region) const {
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();
  if (region.empty()) return Unnamed("a region", "regions");
  const std::string code = RegionCode(region);
  if (who.region.empty() || code.empty()) return OutOfScope(region);
  if (code == who.region) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> path = RegionPath(context, code);
  if (!path.ok()) return path.status();
  if (std::find(path->begin(), path->end(), who.region) != path->end()) return absl::OkStatus();
  return OutOfScope(region);
}

absl::Status Relations::RegionOrAncestorIn(const grpc::ServerContext* context,
                                           const auth::Principal& who,
                                           const std::string& region) const {
  absl::Status in_scope = RegionIn(context, who, region);
  if (!absl::IsPermissionDenied(in_scope)) return in_scope;
  // Above the principal: `region` on the path of the principal's own region.
  const std::string code = RegionCode(region);
  if (who.region.empty() || code.empty()) return in_scope;
  absl::StatusOr<std::vector<std::string>> own = RegionPath(context, who.region);
  if (!own.ok()) {
    return absl::IsUnavailable(own.status()) ? own.status() : in_scope;
  }
  if (std::find(own->begin(), own->end(), code) != own->end()) return absl::OkStatus();
  return in_scope;
}

absl::Status Relations::Region(const grpc::ServerContext& context, const auth::Principal& who,
                               const std::string& region) const {
  return RegionIn(&context, who, region);
}

absl::Status Relations::RegionOrAncestor(const grpc::ServerContext& context,
                                         const auth::Principal& who,
                                         const std::string& region) const {
  return RegionOrAncestorIn(&context, who, region);
}

absl::Status Relations::Region(const auth::Principal& who, const std::string& region) const {
  return RegionIn(nullptr, who, region);
}

absl::Status Relations::RegionOrAncestor(const auth::Principal& who,
                                         const std::string& region) const {
  return RegionOrAncestorIn(nullptr, who, region);
}

absl::Status Relations::Elder(const grpc::ServerContext& context, const auth::Principal& who,
                              const std::string& elder) const {
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();  // including "every elder"
  if (elder.empty()) return Unnamed("an elder", "elders");
  if (who.ActsFor(elder)) return absl::OkStatus();
  if (who.role != auth::Role::kCommitteeStaff && who.role != auth::Role::kStreetStaff) {
    return Denied(absl::StrCat("you may not act for ", elder.substr(0, 64)));
  }
  registry::v1::GetElderRequest request;
  request.set_name(elder);  // masked view: only the committee is needed
  registry::v1::GetElderResponse response;
  grpc::Status status = Unary(*registry_, &RegistryStub::PrepareAsyncGetElder,
                              Context(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, elder.substr(0, 64));
  return Region(context, who, response.elder().region());
}

absl::Status Relations::Commitment(const grpc::ServerContext& context, const auth::Principal& who,
                                   const std::string& commitment) const {
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();
  if (commitment.empty()) return Unnamed("a commitment", "commitments");
  scheduling::v1::GetCommitmentRequest request;
  request.set_name(commitment);
  scheduling::v1::GetCommitmentResponse response;
  grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetCommitment,
                              Context(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, commitment.substr(0, 64));
  return Elder(context, who, response.commitment().elder());
}

absl::Status Relations::Organisation(const grpc::ServerContext& context, const auth::Principal& who,
                                     const std::string& organisation) const {
  return OrganisationIn(context, who, organisation, /*or_above=*/true);
}

absl::Status Relations::OwnOrganisation(const grpc::ServerContext& context,
                                        const auth::Principal& who,
                                        const std::string& organisation) const {
  return OrganisationIn(context, who, organisation, /*or_above=*/false);
}

absl::Status Relations::OrganisationIn(const grpc::ServerContext& context,
                                       const auth::Principal& who, const std::string& organisation,
                                       bool or_above) const {
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();
  if (organisation.empty()) return Unnamed("an organisation", "organisations");
  if (who.role == auth::Role::kPartner) {
    if (organisation == who.organisation) return absl::OkStatus();
    return Denied("a partner key reaches only its own organisation");
  }
  registry::v1::GetOrganisationRequest request;
  request.set_name(organisation);
  registry::v1::GetOrganisationResponse response;
  grpc::Status status = Unary(*registry_, &RegistryStub::PrepareAsyncGetOrganisation,
                              Context(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, organisation.substr(0, 64));
  const std::string& region = response.organisation().region();
  return or_above ? RegionOrAncestor(context, who, region) : Region(context, who, region);
}

absl::Status Relations::WorkerCommitment(const grpc::ServerContext& context,
                                         const auth::Principal& who, const std::string& commitment,
                                         const std::string& visit) const {
  if (who.role != auth::Role::kWorker) return Denied("only workers use the worker app");
  if (commitment.empty()) return Unnamed("a commitment", "commitments");
  scheduling::v1::GetCommitmentRequest request;
  request.set_name(commitment);
  scheduling::v1::GetCommitmentResponse response;
  grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetCommitment,
                              Context(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, commitment.substr(0, 64));
  if (response.commitment().preferred_worker() != who.id) {
    return Denied(absl::StrCat("you are not the worker of ", commitment.substr(0, 64)));
  }
  if (visit.empty()) return absl::OkStatus();
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), absl::FixedTimeZone(8 * 3600));
  scheduling::v1::ListVisitsRequest visits_request;
  visits_request.set_commitment(commitment);
  visits_request.set_from_date(absl::FormatCivilTime(today - 1));
  visits_request.set_to_date(absl::FormatCivilTime(today + 2));
  visits_request.set_page_size(200);
  scheduling::v1::ListVisitsResponse visits;
  status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncListVisits, Context(context).get(),
                 visits_request, &visits);
  if (!status.ok()) return LookupFailed(status, commitment.substr(0, 64));
  for (const auto& v : visits.visits()) {
    if (v.name() == visit) return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat(
      visit.substr(0, 64), " is not a visit of this promise from yesterday to tomorrow"));
}

absl::Status Relations::WorkerVisit(const grpc::ServerContext& context, const auth::Principal& who,
                                    const std::string& visit, const std::string& commitment) const {
  if (who.role != auth::Role::kWorker) return Denied("only workers use the worker app");
  if (visit.empty()) return Unnamed("a visit", "visits");
  scheduling::v1::GetVisitRequest request;
  request.set_name(visit);
  scheduling::v1::GetVisitResponse response;
  grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetVisit,
                              Context(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, visit.substr(0, 64));
  bool on_visit = response.visit().check_in().worker() == who.id;
  for (const auto& a : response.visit().assignments()) on_visit = on_visit || a.worker() == who.id;
  if (!on_visit) {
    return Denied(absl::StrCat("you are not booked on ", visit.substr(0, 64)));
  }
  if (!commitment.empty() && response.visit().commitment() != commitment) {
    return absl::NotFoundError(
        absl::StrCat(visit.substr(0, 64), " is not a visit of ", commitment.substr(0, 64)));
  }
  return absl::OkStatus();
}

absl::Status Relations::PartnerVisit(const grpc::ServerContext& context, const auth::Principal& who,
                                     const std::string& visit) const {
  if (who.role != auth::Role::kPartner || who.organisation.empty()) {
    return Denied("only partner keys of an organisation");
  }
  if (visit.empty()) return Unnamed("a visit", "visits");
  scheduling::v1::GetVisitRequest request;
  request.set_name(visit);
  scheduling::v1::GetVisitResponse response;
  grpc::Status status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetVisit,
                              Context(context).get(), request, &response);
  if (!status.ok()) return LookupFailed(status, visit.substr(0, 64));
  scheduling::v1::GetCommitmentRequest commitment_request;
  commitment_request.set_name(response.visit().commitment());
  scheduling::v1::GetCommitmentResponse commitment;
  status = Unary(*scheduling_, &SchedulingStub::PrepareAsyncGetCommitment, Context(context).get(),
                 commitment_request, &commitment);
  if (!status.ok()) return LookupFailed(status, visit.substr(0, 64));
  if (commitment.commitment().owner_organisation() != who.organisation) {
    // Not NOT_FOUND-distinguishable from a missing visit on purpose: a key learns nothing about
    // other organisations' visits.
    return absl::NotFoundError(absl::StrCat(visit.substr(0, 64), " is not a visit of yours"));
  }
  return absl::OkStatus();
}

Gate::Gate(auth::JwtKeySet keys, std::unique_ptr<auth::ApiKeyStore> api_keys, GateOptions options,
           std::shared_ptr<Relations> relations, const Clock& clock)
    : verifier_(std::move(keys), {.issuer = options.issuer,
                                  .audience = options.audience,
                                  .max_lifetime = std::max(options.token_lifetimes.staff,
                                                           options.token_lifetimes.app)}),
      api_keys_(std::move(api_keys)),
      options_(std::move(options)),
      relations_(std::move(relations)),
      clock_(clock) {
  address_overflow_ = Bucket{options_.unauthenticated_burst, absl::InfinitePast()};
  for (const auto& [method, rule] : AuthorisationRules()) methods_[method].rule = &rule;
  for (const std::string& method : CostlyMethods()) methods_[method].costly = true;
}

absl::StatusOr<auth::Principal> Gate::Authenticate(const grpc::ServerContext& context) {
  return AuthenticateFrom(context, /*limit_by_address=*/false);
}

namespace {
std::atomic<int> bridged_waits{0};

}  // namespace

BridgedWaitSlot::BridgedWaitSlot(const grpc::ServerContext& context) {
  if (!Gate::FromHttpBridge(context)) return;
  holds_slot_ = bridged_waits.fetch_add(1) < kMaxBridgedWaits;
  if (!holds_slot_) {
    bridged_waits.fetch_sub(1);
    may_wait_ = false;
  }
}

BridgedWaitSlot::~BridgedWaitSlot() {
  if (holds_slot_) bridged_waits.fetch_sub(1);
}

NoticeWait::NoticeWait(const grpc::ServerContext& context, int requested_seconds)
    : requested_seconds_(std::clamp(requested_seconds, 0, kMaxNoticeWaitSeconds)),
      wait_seconds_(requested_seconds) {  // out of range: feedback names the field
  if (requested_seconds_ == 0) return;
  slot_.emplace(context);
  if (!slot_->may_wait()) wait_seconds_ = 0;
}

bool Gate::FromHttpBridge(const grpc::ServerContext& context) {
  const std::string peer = context.peer();
  // A network call has a network peer; an in-process call has none ("unknown" in this gRPC).
  const bool network = absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:") ||
                       absl::StartsWith(peer, "unix") || absl::StartsWith(peer, "vsock:");
  return !network && Metadata(context, kBridgeKey) == BridgeSecret();
}

std::string Gate::ClientAddress(const grpc::ServerContext& context) {
  if (FromHttpBridge(context)) {
    const absl::string_view forwarded = Metadata(context, kClientAddressKey);
    if (!forwarded.empty()) return AddressKey(forwarded);
  }
  return AddressKey(context.peer());
}

absl::Status Gate::AddressExhausted() const {
  return absl::ResourceExhaustedError(
      absl::StrCat("too many calls without valid credentials from your address (at most ",
                   options_.unauthenticated_rate_per_second,
                   " a second); retry later with a valid \"authorization: Bearer <token>\""));
}

absl::StatusOr<auth::Principal> Gate::AuthenticateFrom(const grpc::ServerContext& context,
                                                       bool limit_by_address) {
  limit_by_address = limit_by_address && options_.unauthenticated_rate_per_second > 0;
  // Work that may fail: refused outright while the address's bucket is empty, and charged to
  // the address when it fails. (A cached token needs neither, nor the address.)
  auto attempt = [&](const std::function<absl::StatusOr<auth::Principal>()>& work)
      -> absl::StatusOr<auth::Principal> {
    if (!limit_by_address) return work();
    const std::string address = ClientAddress(context);
    if (!AddressHasToken(address)) return AddressExhausted();
    absl::StatusOr<auth::Principal> who = work();
    if (!who.ok()) ChargeAddress(address);
    return who;
  };
  // Views into the call's metadata: a cached token costs no copy of it.
  absl::string_view api_key = Metadata(context, "x-api-key");
  const absl::string_view authorization = Metadata(context, "authorization");
  if (api_key.empty() && authorization.empty()) {
    return attempt([]() -> absl::StatusOr<auth::Principal> {
      return absl::UnauthenticatedError(
          "missing credentials: send \"authorization: Bearer <token>\" (or a partner API key)");
    });
  }
  if (!authorization.empty()) {
    constexpr absl::string_view kBearer = "bearer ";
    if (authorization.size() <= kBearer.size() ||
        !absl::EqualsIgnoreCase(authorization.substr(0, kBearer.size()), kBearer)) {
      return attempt([]() -> absl::StatusOr<auth::Principal> {
        return absl::UnauthenticatedError("authorization must be \"Bearer <token>\"");
      });
    }
    const absl::string_view credential = authorization.substr(kBearer.size());
    if (absl::StartsWith(credential, "lk.")) {
      api_key = credential;
    } else {
      const absl::Time now = clock_.Now();
      {
        absl::MutexLock lock(&cache_mu_);
        auto it = verified_.find(credential);
        if (it != verified_.end() && now <= it->second.valid_until) return it->second.principal;
      }
      return attempt([&]() -> absl::StatusOr<auth::Principal> {
        absl::StatusOr<nlohmann::json> claims = verifier_.Verify(credential, now);
        if (!claims.ok()) return claims.status();
        absl::StatusOr<auth::Principal> principal =
            auth::PrincipalFromClaims(*claims, options_.token_lifetimes);
        if (principal.ok() && (*claims)["exp"].is_number_integer()) {
          const int64_t exp = (*claims)["exp"].get<int64_t>();
          if (exp < absl::ToUnixSeconds(absl::InfiniteFuture()) / 2) {
            absl::MutexLock lock(&cache_mu_);
            if (verified_.size() >= kMaxVerifiedTokens) verified_.clear();
            // The verifier's leeway is 30 s; the cache stops at exp itself (stricter).
            verified_[std::string(credential)] = {*principal, absl::FromUnixSeconds(exp)};
          }
        }
        return principal;
      });
    }
  }
  return attempt([&]() -> absl::StatusOr<auth::Principal> {
    if (api_keys_ == nullptr) return absl::UnauthenticatedError("API keys are not enabled");
    return api_keys_->Authenticate(api_key);
  });
}

bool Gate::TakeToken(const std::string& principal_id) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (buckets_.size() > kMaxBuckets) buckets_.clear();  // forget idle principals wholesale
  auto [it, inserted] = buckets_.try_emplace(principal_id, Bucket{options_.burst, now});
  Bucket& bucket = it->second;
  if (!inserted) Refill(bucket, now, options_.rate_per_second, options_.burst);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

bool Gate::AddressHasToken(const std::string& address) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&address_mu_);
  auto it = address_buckets_.find(address);
  Bucket* bucket = nullptr;
  if (it != address_buckets_.end()) {
    bucket = &it->second;
  } else if (address_buckets_.size() >= options_.max_tracked_addresses) {
    bucket = &address_overflow_;  // where ChargeAddress would charge it
  } else {
    return true;  // a new address starts with a full bucket
  }
  Refill(*bucket, now, options_.unauthenticated_rate_per_second, options_.unauthenticated_burst);
  return bucket->tokens >= 1;
}

void Gate::ChargeAddress(const std::string& address) {
  const absl::Time now = clock_.Now();
  const double rate = options_.unauthenticated_rate_per_second;
  const double burst = options_.unauthenticated_burst;
  absl::MutexLock lock(&address_mu_);
  auto it = address_buckets_.find(address);
  if (it == address_buckets_.end() && address_buckets_.size() >= options_.max_tracked_addresses &&
      now - address_purged_ >= absl::Seconds(burst / rate)) {
    // Forget the addresses whose buckets have refilled (idle for a refill time at least); at
    // most once per refill time, so a table full of active addresses is not scanned every call.
    address_purged_ = now;
    absl::erase_if(address_buckets_, [&](auto& entry) {
      Refill(entry.second, now, rate, burst);
      return entry.second.tokens >= burst;
    });
    it = address_buckets_.end();  // `address` was not there, and still is not
  }
  Bucket* bucket = nullptr;
  if (it != address_buckets_.end()) {
    bucket = &it->second;
  } else if (address_buckets_.size() < options_.max_tracked_addresses) {
    bucket = &address_buckets_.try_emplace(address, Bucket{burst, now}).first->second;
  } else {
    bucket = &address_overflow_;
  }
  Refill(*bucket, now, rate, burst);
  bucket->tokens = std::max(0.0, bucket->tokens - 1);
}

bool Gate::BeginCostly(const std::string& principal_id) {
  if (options_.max_costly_calls_per_principal <= 0) return true;
  absl::MutexLock lock(&costly_mu_);
  int& running = costly_running_[principal_id];
  if (running >= options_.max_costly_calls_per_principal) return false;
  ++running;
  return true;
}

void Gate::EndCostly(const std::string& principal_id) {
  if (options_.max_costly_calls_per_principal <= 0) return;
  absl::MutexLock lock(&costly_mu_);
  auto it = costly_running_.find(principal_id);
  if (it != costly_running_.end() && --it->second <= 0) costly_running_.erase(it);
}

absl::StatusOr<auth::Principal> Gate::Admit(const grpc::ServerContext& context,
                                            absl::string_view method,
                                            const google::protobuf::Message& request) {
  absl::StatusOr<auth::Principal> who = AuthenticateFrom(context, /*limit_by_address=*/true);
  if (!who.ok()) return who.status();
  if (!TakeToken(who->id)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rate limit of ", options_.rate_per_second, " calls/s exceeded; retry later"));
  }
  auto info = methods_.find(method);
  if (info == methods_.end() || info->second.rule == nullptr) {
    return Denied("no authorisation rule for this method");
  }
  const Rule& rule = *info->second.rule;
  if (std::find(rule.roles.begin(), rule.roles.end(), who->role) == rule.roles.end()) {
    return Denied(absl::StrCat("role ", auth::RoleName(who->role), " may not call ",
                               method.substr(method.rfind('/') + 1)));
  }
  if (rule.check) {
    absl::Status allowed = rule.check(*relations_, context, *who, request);
    if (!allowed.ok()) return allowed;
  }
  return who;
}

grpc::Status Gate::Run(grpc::ServerContext* context, absl::string_view method,
                       const google::protobuf::Message& request,
                       absl::FunctionRef<grpc::Status(const auth::Principal&)> handler) {
  absl::StatusOr<auth::Principal> who = Admit(*context, method, request);
  if (!who.ok()) return Reply(*context, who.status());
  auto info = methods_.find(method);  // Admit found it
  if (info == methods_.end() || !info->second.costly) return handler(*who);
  if (!BeginCostly(who->id)) {
    return Reply(*context,
                 absl::ResourceExhaustedError(absl::StrCat(
                     method.substr(method.rfind('/') + 1), " refused: you already have ",
                     options_.max_costly_calls_per_principal,
                     " costly operation(s) (Plan, MaterializeVisits, SweepMissedVisits, "
                     "SweepAlerts) running, the most one caller may run at once; wait for it "
                     "to finish")));
  }
  struct Slot {
    Gate* gate;
    const std::string& id;
    ~Slot() { gate->EndCostly(id); }
  } slot{this, who->id};
  return handler(*who);
}

}  // namespace linli::gateway
