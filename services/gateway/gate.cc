#include "services/gateway/gate.h"
#include "services/gateway/event_loop.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/client.h"
#include "common/errors.h"
#include "common/server.h"

namespace linli::gateway {
namespace {

constexpr size_t kMaxBuckets = 100000;
constexpr size_t kMaxVerifiedTokens = 10000;

absl::Status Denied(absl::string_view what) {
  return absl::PermissionDeniedError(std::string(what));
}

std::string Metadata(const grpc::ServerContext& context, const char* key) {
  auto it = context.client_metadata().find(key);
  if (it == context.client_metadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
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

absl::Status OutOfScope(const std::string& region) {
  return Denied(absl::StrCat("region \"", region.substr(0, 64), "\" is outside your scope"));
}

}  // namespace

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
  if (elder.empty()) return Denied("an elder must be named");
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
  if (commitment.empty()) return Denied("a commitment must be named");
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
  if (who.role == auth::Role::kAdmin) return absl::OkStatus();
  if (organisation.empty()) return Denied("an organisation must be named");
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
  return RegionOrAncestor(context, who, response.organisation().region());
}

absl::Status Relations::WorkerCommitment(const grpc::ServerContext& context,
                                         const auth::Principal& who, const std::string& commitment,
                                         const std::string& visit) const {
  if (who.role != auth::Role::kWorker) return Denied("only workers use the worker app");
  if (commitment.empty()) return Denied("a commitment must be named");
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
  if (visit.empty()) return Denied("a visit must be named");
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
  if (visit.empty()) return Denied("a visit must be named");
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
      clock_(clock) {}

absl::StatusOr<auth::Principal> Gate::Authenticate(const grpc::ServerContext& context) {
  std::string api_key = Metadata(context, "x-api-key");
  std::string authorization = Metadata(context, "authorization");
  if (api_key.empty() && authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing credentials: send \"authorization: Bearer <token>\" (or a partner API key)");
  }
  if (!authorization.empty()) {
    constexpr absl::string_view kBearer = "bearer ";
    if (authorization.size() <= kBearer.size() ||
        !absl::EqualsIgnoreCase(absl::string_view(authorization).substr(0, kBearer.size()),
                                kBearer)) {
      return absl::UnauthenticatedError("authorization must be \"Bearer <token>\"");
    }
    std::string credential = authorization.substr(kBearer.size());
    if (absl::StartsWith(credential, "lk.")) {
      api_key = credential;
    } else {
      const absl::Time now = clock_.Now();
      {
        absl::MutexLock lock(&cache_mu_);
        auto it = verified_.find(credential);
        if (it != verified_.end() && now <= it->second.valid_until) return it->second.principal;
      }
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
          verified_[credential] = {*principal, absl::FromUnixSeconds(exp)};
        }
      }
      return principal;
    }
  }
  if (api_keys_ == nullptr) return absl::UnauthenticatedError("API keys are not enabled");
  return api_keys_->Authenticate(api_key);
}

bool Gate::TakeToken(const std::string& principal_id) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (buckets_.size() > kMaxBuckets) buckets_.clear();  // forget idle principals wholesale
  auto [it, inserted] = buckets_.try_emplace(principal_id, Bucket{options_.burst, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    bucket.tokens =
        std::min(options_.burst, bucket.tokens + absl::ToDoubleSeconds(now - bucket.updated) *
                                                     options_.rate_per_second);
    bucket.updated = now;
  }
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

absl::StatusOr<auth::Principal> Gate::Admit(const grpc::ServerContext& context,
                                            const std::string& method,
                                            const google::protobuf::Message& request) {
  absl::StatusOr<auth::Principal> who = Authenticate(context);
  if (!who.ok()) return who.status();
  if (!TakeToken(who->id)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rate limit of ", options_.rate_per_second, " calls/s exceeded; retry later"));
  }
  const auto& rules = AuthorisationRules();
  auto rule = rules.find(method);
  if (rule == rules.end()) return Denied("no authorisation rule for this method");
  if (std::find(rule->second.roles.begin(), rule->second.roles.end(), who->role) ==
      rule->second.roles.end()) {
    return Denied(absl::StrCat("role ", auth::RoleName(who->role), " may not call ",
                               method.substr(method.rfind('/') + 1)));
  }
  if (rule->second.check) {
    absl::Status allowed = rule->second.check(*relations_, context, *who, request);
    if (!allowed.ok()) return allowed;
  }
  return who;
}

grpc::Status Gate::Run(grpc::ServerContext* context, const std::string& method,
                       const google::protobuf::Message& request,
                       const std::function<grpc::Status(const auth::Principal&)>& handler) {
  absl::StatusOr<auth::Principal> who = Admit(*context, method, request);
  if (!who.ok()) return Reply(*context, who.status());
  return handler(*who);
}

}  // namespace linli::gateway
