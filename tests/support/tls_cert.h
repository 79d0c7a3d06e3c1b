// Self-signed TLS certificates made inside a test (OpenSSL), so TLS tests need no fixture files
// and no `openssl` command.
//
//   absl::StatusOr<testing::SelfSigned> cert = testing::MakeSelfSigned("linli-test");
//   // cert->cert_pem names DNS:localhost and IP:127.0.0.1; trust it as the root on the client.
#ifndef LINLI_TESTS_SUPPORT_TLS_CERT_H_
#define LINLI_TESTS_SUPPORT_TLS_CERT_H_

#include <string>

#include "absl/status/statusor.h"

namespace linli::testing {

struct SelfSigned {
  // The certificate (PEM), its own issuer, valid from an hour ago for a day.
  std::string cert_pem;
  // Its EC P-256 private key (PEM, unencrypted).
  std::string key_pem;
};

// A new key and a self-signed CA-capable certificate for `common_name` whose subjectAltName
// covers DNS:localhost and IP:127.0.0.1 (a client may connect to either).
absl::StatusOr<SelfSigned> MakeSelfSigned(const std::string& common_name);

// A new key and a certificate for `common_name` signed by `issuer` (a CA from MakeSelfSigned):
// not a CA, for server and client authentication, subjectAltName DNS:<common_name>,
// DNS:localhost and IP:127.0.0.1.
absl::StatusOr<SelfSigned> IssueCertificate(const SelfSigned& issuer,
                                            const std::string& common_name);

}  // namespace linli::testing

#endif  // LINLI_TESTS_SUPPORT_TLS_CERT_H_
