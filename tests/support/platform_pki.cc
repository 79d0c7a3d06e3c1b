#include "tests/support/platform_pki.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "tests/support/test_env.h"
#include "tests/support/tls_cert.h"

namespace linli::testing {
namespace {

constexpr const char* kIdentities[] = {"linli-registry", "linli-scheduling", "linli-feedback",
                                       "linli-gateway", "linli-cli"};

void WriteOrDie(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) {
    std::fprintf(stderr, "PlatformPki: cannot write %s\n", path.c_str());
    std::abort();
  }
}

template <typename T>
T OrDie(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) {
    std::fprintf(stderr, "PlatformPki: %s: %s\n", what, value.status().ToString().c_str());
    std::abort();
  }
  return std::move(*value);
}

// Every service binary and CLI a test starts gets its identity's flags (test_env.h).
[[maybe_unused]] const bool kChildFlagsInstalled = [] {
  SetChildFlagsProvider([](const std::string& binary) -> std::vector<std::string> {
    if (binary == "linli") return PlatformPki::Shared().Flags("linli-cli");
    for (const char* name : kIdentities) {
      if (binary == name) return PlatformPki::Shared().Flags(name);
    }
    return {};
  });
  return true;
}();

}  // namespace

const PlatformPki& PlatformPki::Shared() {
  static const PlatformPki* const pki = [] {
    auto* made = new PlatformPki();
    made->dir_ = MakeTempDir("pki");
    const SelfSigned ca = OrDie(MakeSelfSigned("linli-internal-ca"), "CA");
    made->ca_file_ = made->dir_ + "/ca.crt";
    WriteOrDie(made->ca_file_, ca.cert_pem);
    for (const char* name : kIdentities) {
      const SelfSigned issued = OrDie(IssueCertificate(ca, name), name);
      WriteOrDie(made->cert_file(name), issued.cert_pem);
      WriteOrDie(made->key_file(name), issued.key_pem);
      made->identities_[name] = OrDie(
          auth::InternalIdentity::FromPem(ca.cert_pem, issued.cert_pem, issued.key_pem), name);
    }
    return made;
  }();
  return *pki;
}

std::string PlatformPki::cert_file(const std::string& identity) const {
  return absl::StrCat(dir_, "/", identity, ".crt");
}

std::string PlatformPki::key_file(const std::string& identity) const {
  return absl::StrCat(dir_, "/", identity, ".key");
}

std::vector<std::string> PlatformPki::Flags(const std::string& identity) const {
  return {"--internal_ca_file=" + ca_file_, "--internal_cert_file=" + cert_file(identity),
          "--internal_key_file=" + key_file(identity)};
}

void PlatformPki::AppendFlags(const std::string& identity, std::vector<std::string>& args) const {
  for (std::string& flag : Flags(identity)) args.push_back(std::move(flag));
}

std::vector<std::string> PlatformPki::Environment(const std::string& identity) const {
  return {"LINLI_INTERNAL_CA_FILE=" + ca_file_, "LINLI_INTERNAL_CERT_FILE=" + cert_file(identity),
          "LINLI_INTERNAL_KEY_FILE=" + key_file(identity)};
}

std::shared_ptr<const auth::InternalIdentity> PlatformPki::Identity(
    const std::string& identity) const {
  auto found = identities_.find(identity);
  if (found == identities_.end()) {
    std::fprintf(stderr, "PlatformPki: no identity %s\n", identity.c_str());
    std::abort();
  }
  return found->second;
}

std::shared_ptr<grpc::Channel> PlatformPki::Channel(const std::string& address,
                                                    const std::string& peer,
                                                    const std::string& as) const {
  // Tests share the services' wall clock (under libfaketime, the same faked one).
  return auth::NewInternalChannel(address, peer, {}, Identity(as), Clock::Real());
}

std::string PeerOfApi(const std::string& api) {
  if (absl::StartsWith(api, "linli.registry.")) return "linli-registry";
  if (absl::StartsWith(api, "linli.scheduling.")) return "linli-scheduling";
  if (absl::StartsWith(api, "linli.feedback.")) return "linli-feedback";
  return "";
}

}  // namespace linli::testing
