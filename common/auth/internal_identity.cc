#include "common/auth/internal_identity.h"

#include <fstream>
#include <iterator>
#include <map>
#include <string_view>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/client.h"
#include "common/log.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/support/client_interceptor.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"

ABSL_FLAG(std::string, internal_ca_file, "",
          "PEM of the platform's internal CA: the only issuer whose certificates this process "
          "trusts on service-to-service calls (backends require them from every caller).");
ABSL_FLAG(std::string, internal_cert_file, "",
          "PEM certificate (chain) of this process's platform identity; its subject common name "
          "is the identity, e.g. linli-registry.");
ABSL_FLAG(std::string, internal_key_file, "",
          "PEM private key (EC P-256 or RSA) of --internal_cert_file.");
ABSL_FLAG(bool, insecure_internal, false,
          "Serve and call backends in plaintext without caller authentication. Only for tests that "
          "run a single process; never in a deployment.");

namespace linli::auth {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bio MemBio(absl::string_view text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
}

X509Ptr FirstCertificate(absl::string_view pem) {
  Bio bio = MemBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  ERR_clear_error();
  return cert;
}

std::string CommonName(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

// The JWS algorithm a key of this type signs with.
absl::StatusOr<JwtAlgorithm> AlgorithmOf(EVP_PKEY* key, absl::string_view what) {
  if (EVP_PKEY_is_a(key, "EC")) return JwtAlgorithm::kEs256;
  if (EVP_PKEY_is_a(key, "RSA")) return JwtAlgorithm::kRs256;
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": the key must be EC P-256 or RSA (it signs principal tokens)"));
}

// The certificate's public key as SubjectPublicKeyInfo PEM, and its algorithm.
absl::StatusOr<std::pair<std::string, JwtAlgorithm>> PublicKeyOf(X509* cert,
                                                                 absl::string_view what) {
  PkeyPtr key(X509_get_pubkey(cert), &EVP_PKEY_free);
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(what, ": the certificate has no public key"));
  }
  absl::StatusOr<JwtAlgorithm> algorithm = AlgorithmOf(key.get(), what);
  if (!algorithm.ok()) return algorithm.status();
  Bio out(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PUBKEY(out.get(), key.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(out.get(), &data);
  return std::make_pair(std::string(data, static_cast<size_t>(size)), *algorithm);
}

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view flag) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " is not set"));
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read \"", path, "\""));
  }
  return text;
}

// Verifies principal tokens on a backend (see the header). Non-blocking: it runs on the call's
// own thread, and after the first call of a connection's token it is a map lookup.
class PrincipalChecker : public grpc::AuthMetadataProcessor {
 public:
  PrincipalChecker(std::string audience, const Clock& clock)
      : audience_(std::move(audience)), clock_(clock) {}

  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context,
                       OutputMetadata* /*consumed*/, OutputMetadata* /*response*/) override {
    std::vector<grpc::string_ref> pem =
        context->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    std::vector<grpc::string_ref> name = context->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
    if (pem.empty() || name.empty()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "a platform client certificate with a common name is required");
    }
    auto token = metadata.find(kPrincipalKey);
    if (token == metadata.end() || metadata.count(kPrincipalKey) != 1) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          absl::StrCat(kPrincipalKey,
                                       ": exactly one principal token signed by the calling "
                                       "service is required"));
    }
    const std::string issuer(name.front().data(), name.front().size());
    const std::string token_text(token->second.data(), token->second.size());
    absl::StatusOr<std::string> actor =
        Verify(std::string(pem.front().data(), pem.front().size()), issuer, token_text);
    if (!actor.ok()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          absl::StrCat(kPrincipalKey, ": ", actor.status().message()));
    }
    // The auth context is the connection's, shared by its calls, so the actor is not stored
    // there: the call's x-linli-actor must name it, and handlers read that (linli::Actor).
    auto named = metadata.equal_range(kActorKey);
    if (std::distance(named.first, named.second) != 1 ||
        std::string_view(named.first->second.data(), named.first->second.size()) != *actor) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          absl::StrCat(kActorKey, " must name the principal token's subject"));
    }
    return grpc::Status::OK;
  }

 private:
  static constexpr size_t kMaxCached = 4096;

  absl::StatusOr<std::string> Verify(const std::string& peer_pem, const std::string& issuer,
                                     const std::string& token) {
    const absl::Time now = clock_.Now();
    const std::string cache_key = absl::StrCat(issuer, "\n", token);
    {
      absl::MutexLock lock(&mu_);
      auto hit = verified_.find(cache_key);
      if (hit != verified_.end() && now < hit->second.second) return hit->second.first;
    }
    absl::StatusOr<std::shared_ptr<const JwtVerifier>> verifier = VerifierFor(peer_pem, issuer);
    if (!verifier.ok()) return verifier.status();
    absl::StatusOr<nlohmann::json> claims = (*verifier)->Verify(token, now);
    if (!claims.ok()) return claims.status();
    const nlohmann::json* sub = claims->contains("sub") ? &(*claims)["sub"] : nullptr;
    if (sub == nullptr || !sub->is_string() || sub->get<std::string>().empty() ||
        sub->get<std::string>().size() > 128) {
      return absl::UnauthenticatedError("the token's sub (the actor) must be 1-128 characters");
    }
    std::string actor = sub->get<std::string>();
    absl::Status delegation = CheckDelegation(issuer, actor);
    if (!delegation.ok()) return delegation;
    const absl::Time expires = absl::FromUnixSeconds((*claims)["exp"].get<int64_t>());
    absl::MutexLock lock(&mu_);
    if (verified_.size() >= kMaxCached) verified_.clear();
    verified_[cache_key] = {actor, expires};
    return actor;
  }

  // One verifier per peer certificate: its public key, iss = its common name, aud = us.
  absl::StatusOr<std::shared_ptr<const JwtVerifier>> VerifierFor(const std::string& peer_pem,
                                                                 const std::string& issuer) {
    {
      absl::MutexLock lock(&mu_);
      auto hit = verifiers_.find(peer_pem);
      if (hit != verifiers_.end()) return hit->second;
    }
    X509Ptr cert = FirstCertificate(peer_pem);
    if (cert == nullptr) return absl::UnauthenticatedError("the peer certificate cannot be read");
    absl::StatusOr<std::pair<std::string, JwtAlgorithm>> key =
        PublicKeyOf(cert.get(), "peer certificate");
    if (!key.ok()) return absl::UnauthenticatedError(key.status().message());
    absl::StatusOr<JwtKey> jwt_key = JwtKey::FromPem(issuer, key->second, key->first);
    if (!jwt_key.ok()) return absl::UnauthenticatedError(jwt_key.status().message());
    JwtKeySet keys;
    keys.Add(std::move(*jwt_key));
    auto verifier = std::make_shared<const JwtVerifier>(
        std::move(keys), JwtVerifierOptions{.issuer = issuer,
                                            .audience = audience_,
                                            .leeway = absl::Seconds(30),
                                            .max_lifetime = 5 * kPrincipalTokenLifetime});
    absl::MutexLock lock(&mu_);
    if (verifiers_.size() >= kMaxCached) verifiers_.clear();
    verifiers_[peer_pem] = verifier;
    return verifier;
  }

  const std::string audience_;
  const Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const JwtVerifier>> verifiers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::pair<std::string, absl::Time>> verified_ ABSL_GUARDED_BY(mu_);
};

// Replaces an outgoing call's x-linli-actor with a principal token for the channel's backend.
class PrincipalInterceptor : public grpc::experimental::Interceptor {
 public:
  PrincipalInterceptor(const InternalIdentity& identity, const std::string& audience,
                       const Clock& clock)
      : identity_(identity), audience_(audience), clock_(clock) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      std::multimap<std::string, std::string>* metadata = methods->GetSendInitialMetadata();
      std::string actor = absl::StrCat("service:", identity_.name());
      auto found = metadata->find(kActorKey);
      if (found != metadata->end() && !found->second.empty()) actor = found->second;
      metadata->erase(kActorKey);
      metadata->erase(kPrincipalKey);
      // Both travel: the backend checks that the header names the token's subject, and its
      // handlers read the header (linli::Actor).
      metadata->emplace(kActorKey, actor);
      absl::StatusOr<std::string> token = identity_.PrincipalToken(actor, audience_, clock_.Now());
      if (token.ok()) {
        metadata->emplace(kPrincipalKey, *token);
      } else {
        // The backend refuses the call as UNAUTHENTICATED; say why here.
        LogError("cannot sign a principal token", {{"error", token.status().ToString()}});
      }
    }
    methods->Proceed();
  }

 private:
  const InternalIdentity& identity_;
  const std::string& audience_;
  const Clock& clock_;
};

class PrincipalInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  PrincipalInterceptorFactory(std::shared_ptr<const InternalIdentity> identity,
                              std::string audience, const Clock& clock)
      : identity_(std::move(identity)), audience_(std::move(audience)), clock_(clock) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new PrincipalInterceptor(*identity_, audience_, clock_);
  }

 private:
  std::shared_ptr<const InternalIdentity> identity_;
  std::string audience_;
  const Clock& clock_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const InternalIdentity>> InternalIdentity::FromPem(
    std::string ca_pem, std::string cert_pem, std::string key_pem) {
  if (FirstCertificate(ca_pem) == nullptr) {
    return absl::InvalidArgumentError("internal_ca_file holds no PEM certificate");
  }
  X509Ptr cert = FirstCertificate(cert_pem);
  if (cert == nullptr) {
    return absl::InvalidArgumentError("internal_cert_file holds no PEM certificate");
  }
  Bio key_bio = MemBio(key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        "internal_key_file holds no PEM private key (or it is encrypted)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "internal_key_file does not match the certificate of internal_cert_file");
  }
  std::string name = CommonName(cert.get());
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "internal_cert_file: the certificate has no subject common name (the identity)");
  }
  absl::StatusOr<JwtAlgorithm> algorithm = AlgorithmOf(key.get(), "internal_key_file");
  if (!algorithm.ok()) return algorithm.status();
  absl::StatusOr<JwtKey> signing = JwtKey::FromPem(name, *algorithm, key_pem);
  if (!signing.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("internal_key_file: ", signing.status().message()));
  }
  std::shared_ptr<InternalIdentity> identity(new InternalIdentity());
  identity->name_ = std::move(name);
  identity->ca_pem_ = std::move(ca_pem);
  identity->cert_pem_ = std::move(cert_pem);
  identity->key_pem_ = std::move(key_pem);
  identity->signing_key_ = std::make_shared<const JwtKey>(std::move(*signing));
  return identity;
}

absl::StatusOr<std::shared_ptr<const InternalIdentity>> InternalIdentity::Load(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file) {
  absl::StatusOr<std::string> ca = ReadFile(ca_file, "internal_ca_file");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = ReadFile(cert_file, "internal_cert_file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(key_file, "internal_key_file");
  if (!key.ok()) return key.status();
  return FromPem(std::move(*ca), std::move(*cert), std::move(*key));
}

std::shared_ptr<grpc::ChannelCredentials> InternalIdentity::ChannelCredentials() const {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_pem_;
  ssl.pem_cert_chain = cert_pem_;
  ssl.pem_private_key = key_pem_;
  return grpc::SslCredentials(ssl);
}

std::shared_ptr<grpc::ServerCredentials> InternalIdentity::ServerCredentials(
    const Clock& clock) const {
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = ca_pem_;
  ssl.pem_key_cert_pairs.push_back({key_pem_, cert_pem_});
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::SslServerCredentials(ssl);
  credentials->SetAuthMetadataProcessor(std::make_shared<PrincipalChecker>(name_, clock));
  return credentials;
}

absl::StatusOr<std::string> InternalIdentity::PrincipalToken(const std::string& actor,
                                                             const std::string& audience,
                                                             absl::Time now) const {
  const std::pair<std::string, std::string> key(actor, audience);
  {
    absl::MutexLock lock(&mu_);
    auto hit = tokens_.find(key);
    if (hit != tokens_.end() && now < hit->second.renew_after &&
        now >= hit->second.renew_after - kPrincipalTokenLifetime / 2) {
      return hit->second.token;
    }
  }
  const int64_t issued = absl::ToUnixSeconds(now);
  nlohmann::json claims = {
      {"iss", name_},
      {"sub", actor},
      {"aud", audience},
      {"iat", issued},
      {"exp", issued + absl::ToInt64Seconds(kPrincipalTokenLifetime)},
  };
  absl::StatusOr<std::string> token = SignJwt(*signing_key_, claims);
  if (!token.ok()) return token.status();
  absl::MutexLock lock(&mu_);
  if (tokens_.size() >= 4096) tokens_.clear();
  tokens_[key] = {*token, now + kPrincipalTokenLifetime / 2};
  return token;
}

absl::Status CheckDelegation(const std::string& issuer, const std::string& subject) {
  for (const char* delegating : kDelegatingIdentities) {
    if (issuer == delegating) return absl::OkStatus();
  }
  if (subject == absl::StrCat("service:", issuer)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "service ", issuer, " may only call as service:", issuer, ", not as \"", subject, "\""));
}

std::shared_ptr<grpc::Channel> NewInternalChannel(
    const std::string& target, const std::string& peer,
    const std::vector<std::string>& retry_safe_services,
    std::shared_ptr<const InternalIdentity> identity, const Clock& clock) {
  if (identity == nullptr) return NewChannel(target, retry_safe_services);
  ChannelSecurity security;
  security.credentials = identity->ChannelCredentials();
  security.server_name = peer;
  security.interceptors.push_back(NewPrincipalInterceptor(std::move(identity), peer, clock));
  return NewChannel(target, retry_safe_services, std::move(security));
}

absl::StatusOr<std::shared_ptr<const InternalIdentity>> InternalIdentityFromFlags() {
  const std::string ca = absl::GetFlag(FLAGS_internal_ca_file);
  const std::string cert = absl::GetFlag(FLAGS_internal_cert_file);
  const std::string key = absl::GetFlag(FLAGS_internal_key_file);
  if (absl::GetFlag(FLAGS_insecure_internal)) {
    if (!ca.empty() || !cert.empty() || !key.empty()) {
      return absl::InvalidArgumentError(
          "--insecure_internal contradicts --internal_ca_file/--internal_cert_file/"
          "--internal_key_file");
    }
    return nullptr;
  }
  return InternalIdentity::Load(ca, cert, key);
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> NewPrincipalInterceptor(
    std::shared_ptr<const InternalIdentity> identity, const std::string& peer, const Clock& clock) {
  return std::make_unique<PrincipalInterceptorFactory>(std::move(identity), peer, clock);
}

std::shared_ptr<const InternalIdentity> InternalIdentityFromFlagsOrExit() {
  absl::StatusOr<std::shared_ptr<const InternalIdentity>> identity = InternalIdentityFromFlags();
  if (!identity.ok()) {
    LogError(
        "the platform identity is required: --internal_ca_file, --internal_cert_file and "
        "--internal_key_file (LINLI_INTERNAL_CA_FILE, ...), or --insecure_internal in a test",
        {{"error", identity.status().ToString()}});
    std::exit(1);
  }
  if (*identity == nullptr) {
    LogWarning(
        "--insecure_internal: service-to-service calls are plaintext and unauthenticated (tests "
        "only)");
  } else {
    LogInfo("platform identity", {{"name", (*identity)->name()}});
  }
  return *identity;
}

void ServeInternally(ServerOptions& options,
                     const std::shared_ptr<const InternalIdentity>& identity, const Clock& clock) {
  if (identity != nullptr) options.credentials = identity->ServerCredentials(clock);
}

}  // namespace linli::auth
