// Service-to-service authentication: who may call a backend, and on whose behalf.
//
// Every platform process has an identity: a certificate and private key issued by the platform's
// internal CA, whose subject common name is the process's name ("linli-registry",
// "linli-scheduling", "linli-feedback", "linli-gateway", or "linli-cli" for an operator's CLI).
// Backends serve mutual TLS only: a caller without a certificate from that CA does not get past
// the handshake. Each call also carries a principal token (metadata x-linli-principal): a JWT
// that the calling process signs with its certificate's key, naming
//   iss  the caller (must equal the common name of the certificate that opened the connection),
//   aud  the backend it is meant for (a token for one backend is refused by another),
//   sub  the actor: the end user the gateway authenticated ("committee_staff:staff/zhang"), or
//        "service:<name>" when a process calls on its own behalf,
//   iat/exp  a lifetime of kPrincipalTokenLifetime.
// The backend verifies the signature with the public key of the peer's certificate, so no key
// material beyond the certificates has to be distributed. Only the gateway and the operator CLI
// may name another actor; any other service may only be itself. A call without both the
// certificate and a valid token is UNAUTHENTICATED, and so is one whose x-linli-actor is not the
// token's subject: what linli::Actor() returns (common/server.h) and audit records name is the
// verified actor.
//
//   // main() of a backend:
//   auto identity = auth::InternalIdentityFromFlagsOrExit();        // --internal_*_file
//   ServerOptions options = ServerOptionsFromFlags("registry", listen, {...});
//   auth::ServeInternally(options, identity, clock);                // mTLS + token check
//   // a client of a backend:
//   auto channel = auth::NewInternalChannel(address, "linli-registry", {...}, identity, clock);
//
// Outgoing calls keep setting x-linli-actor (gate.cc's BackendContext does): the channel's
// interceptor adds a signed token naming it, for that channel's backend, before the call leaves
// (both name "service:<name>" when the call set no actor).
#ifndef LINLI_COMMON_AUTH_INTERNAL_IDENTITY_H_
#define LINLI_COMMON_AUTH_INTERNAL_IDENTITY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"
#include "common/clock.h"
#include "common/server.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/client_interceptor.h"

namespace linli::auth {

// Metadata key of the principal token.
inline constexpr char kPrincipalKey[] = "x-linli-principal";
inline constexpr absl::Duration kPrincipalTokenLifetime = absl::Seconds(60);
// The identities that may call on behalf of an end user (any other may only be itself).
inline constexpr const char* kDelegatingIdentities[] = {"linli-gateway", "linli-cli"};

class InternalIdentity {
 public:
  // From PEM text: the CA certificate(s) to trust, this process's certificate (chain) and its
  // EC P-256 or RSA private key. INVALID_ARGUMENT naming the problem: no certificate, a key that
  // does not match it, a certificate without a common name, a key type JWTs cannot use.
  static absl::StatusOr<std::shared_ptr<const InternalIdentity>> FromPem(std::string ca_pem,
                                                                         std::string cert_pem,
                                                                         std::string key_pem);
  // The same from files (each read once; restart to rotate).
  static absl::StatusOr<std::shared_ptr<const InternalIdentity>> Load(const std::string& ca_file,
                                                                      const std::string& cert_file,
                                                                      const std::string& key_file);

  // The certificate's common name, e.g. "linli-scheduling".
  const std::string& name() const { return name_; }

  // TLS credentials presenting this identity and trusting only the internal CA.
  std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials() const;

  // Server credentials for a backend: TLS with this identity, client certificates required and
  // verified against the internal CA, and every call's principal token checked (audience: this
  // identity's name). `clock` must outlive the server.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const Clock& clock) const;

  // A principal token naming `actor`, for `audience`, issued at `now`. Tokens are reused while
  // more than half of their lifetime is left (signing costs more than the call it rides on).
  absl::StatusOr<std::string> PrincipalToken(const std::string& actor, const std::string& audience,
                                             absl::Time now) const;

 private:
  InternalIdentity() = default;

  std::string name_;
  std::string ca_pem_;
  std::string cert_pem_;
  std::string key_pem_;
  std::shared_ptr<const JwtKey> signing_key_;

  struct CachedToken {
    std::string token;
    absl::Time renew_after;
  };
  mutable absl::Mutex mu_;
  mutable std::map<std::pair<std::string, std::string>, CachedToken> tokens_ ABSL_GUARDED_BY(mu_);
};

// The actor a verified principal token names, after the delegation rule: OK when `issuer` (the
// peer certificate's name) may name `subject`. Exposed for tests.
absl::Status CheckDelegation(const std::string& issuer, const std::string& subject);

// A channel to the backend whose certificate names `peer` (verified whatever address `target`
// is), presenting `identity` and attaching a principal token to every call (from the call's
// x-linli-actor, or "service:<identity name>"). With a null `identity` (tests of a single
// process, --insecure_internal) a plaintext channel that passes x-linli-actor through.
std::shared_ptr<grpc::Channel> NewInternalChannel(
    const std::string& target, const std::string& peer,
    const std::vector<std::string>& retry_safe_services,
    std::shared_ptr<const InternalIdentity> identity, const Clock& clock);

// The interceptor NewInternalChannel installs, for a channel built with other arguments:
// x-linli-actor (or "service:<identity name>") becomes a principal token for `peer`.
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> NewPrincipalInterceptor(
    std::shared_ptr<const InternalIdentity> identity, const std::string& peer, const Clock& clock);

// The identity from --internal_ca_file, --internal_cert_file and --internal_key_file
// (LINLI_INTERNAL_*); null with --insecure_internal; INVALID_ARGUMENT naming what is missing or
// unusable otherwise.
absl::StatusOr<std::shared_ptr<const InternalIdentity>> InternalIdentityFromFlags();

// The same for a service's main(). Logs and exits with status 1 when they are missing or unusable,
// unless
// --insecure_internal is set: then returns null (plaintext, no caller authentication; for tests
// that run one process, never in a deployment) and logs a warning.
std::shared_ptr<const InternalIdentity> InternalIdentityFromFlagsOrExit();

// Makes `options` serve with `identity`'s mutual TLS and principal check (no change when null).
void ServeInternally(ServerOptions& options,
                     const std::shared_ptr<const InternalIdentity>& identity, const Clock& clock);

}  // namespace linli::auth

#endif  // LINLI_COMMON_AUTH_INTERNAL_IDENTITY_H_
