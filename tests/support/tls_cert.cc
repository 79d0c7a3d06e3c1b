#include "tests/support/tls_cert.h"

#include <memory>

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

}  // namespace

absl::StatusOr<SelfSigned> MakeSelfSigned(const std::string& common_name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  if (key == nullptr || cert == nullptr) return absl::InternalError("OpenSSL: no key or cert");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return absl::InternalError("OpenSSL: no random");
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial_number(
      BN_bin2bn(serial, sizeof serial, nullptr), &BN_free);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const bool built =
      X509_set_version(cert.get(), 2) == 1 && serial_number != nullptr &&
      BN_to_ASN1_INTEGER(serial_number.get(), X509_get_serialNumber(cert.get())) != nullptr &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) != nullptr &&
      X509_set_pubkey(cert.get(), key.get()) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) == 1 &&
      X509_set_issuer_name(cert.get(), name) == 1 &&
      AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") &&
      AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") &&
      AddExtension(cert.get(), NID_ext_key_usage, "serverAuth") &&
      AddExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") &&
      X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
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

}  // namespace linli::testing
