#include "tests/support/tls_cert.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "openssl/bio.h"
#include "openssl/bn.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/rand.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"

namespace linli::testing {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string Drain(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

// Adds the X.509 v3 extension `nid` written in OpenSSL's config syntax.
bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (extension == nullptr) return false;
  const bool added = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

// A new P-256 key and a certificate for `common_name`: self-signed CA when `issuer` is null,
// otherwise a leaf signed by `issuer` for server and client authentication.
absl::StatusOr<SelfSigned> Build(const std::string& common_name, const SelfSigned* issuer) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  if (key == nullptr || cert == nullptr) return absl::InternalError("OpenSSL: no key or cert");
  std::unique_ptr<X509, decltype(&X509_free)> issuer_cert(nullptr, &X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> issuer_key(nullptr, &EVP_PKEY_free);
  if (issuer != nullptr) {
    Bio cert_in(BIO_new_mem_buf(issuer->cert_pem.data(), static_cast<int>(issuer->cert_pem.size())),
                &BIO_free);
    Bio key_in(BIO_new_mem_buf(issuer->key_pem.data(), static_cast<int>(issuer->key_pem.size())),
               &BIO_free);
    issuer_cert.reset(PEM_read_bio_X509(cert_in.get(), nullptr, nullptr, nullptr));
    issuer_key.reset(PEM_read_bio_PrivateKey(key_in.get(), nullptr, nullptr, nullptr));
    if (issuer_cert == nullptr || issuer_key == nullptr) {
      ERR_clear_error();
      return absl::InvalidArgumentError("the issuer's PEM cannot be read");
    }
  }
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return absl::InternalError("OpenSSL: no random");
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial_number(
      BN_bin2bn(serial, sizeof serial, nullptr), &BN_free);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509* signer_cert = issuer != nullptr ? issuer_cert.get() : cert.get();
  EVP_PKEY* signer_key = issuer != nullptr ? issuer_key.get() : key.get();
  const std::string sans = absl::StrCat("DNS:", common_name, ",DNS:localhost,IP:127.0.0.1");
  bool built =
      X509_set_version(cert.get(), 2) == 1 && serial_number != nullptr &&
      BN_to_ASN1_INTEGER(serial_number.get(), X509_get_serialNumber(cert.get())) != nullptr &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) != nullptr &&
      X509_set_pubkey(cert.get(), key.get()) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) == 1 &&
      X509_set_issuer_name(cert.get(), X509_get_subject_name(signer_cert)) == 1;
  if (built && issuer == nullptr) {
    built = AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") &&
            AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") &&
            // OpenSSL applies a CA's extendedKeyUsage to the certificates it issued: both
            // purposes, so the CA can issue client certificates too.
            AddExtension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth") &&
            AddExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  } else if (built) {
    built = AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
            AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature") &&
            AddExtension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth") &&
            AddExtension(cert.get(), NID_subject_alt_name, sans.c_str());
  }
  built = built && X509_sign(cert.get(), signer_key, EVP_sha256()) > 0;
  if (!built) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL: cannot build the certificate");
  }
  Bio cert_out(BIO_new(BIO_s_mem()), &BIO_free);
  Bio key_out(BIO_new(BIO_s_mem()), &BIO_free);
  if (cert_out == nullptr || key_out == nullptr ||
      PEM_write_bio_X509(cert_out.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL: cannot write PEM");
  }
  return SelfSigned{Drain(cert_out.get()), Drain(key_out.get())};
}

}  // namespace

absl::StatusOr<SelfSigned> MakeSelfSigned(const std::string& common_name) {
  return Build(common_name, nullptr);
}

absl::StatusOr<SelfSigned> IssueCertificate(const SelfSigned& issuer,
                                            const std::string& common_name) {
  return Build(common_name, &issuer);
}

}  // namespace linli::testing
