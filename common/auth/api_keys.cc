#include "common/auth/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/jwt.h"
#include "common/log.h"

namespace linli::auth {

bool IsKeyId(absl::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-';
  });
}

namespace {

constexpr size_t kSecretBytes = 32;

absl::Status Bad(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid API key: ", why));
}

}  // namespace

absl::StatusOr<ApiKeyParts> ParseApiKey(absl::string_view key) {
  if (key.size() > 128) return Bad("too long");
  std::vector<absl::string_view> parts = absl::StrSplit(key, '.');
  if (parts.size() != 3 || parts[0] != "lk") return Bad("expected lk.<key id>.<secret>");
  if (!IsKeyId(parts[1])) return Bad("key id must be 1-32 of a-z, 0-9, _ and -");
  ApiKeyParts out;
  out.key_id = std::string(parts[1]);
  if (!Base64UrlDecode(parts[2], &out.secret) || out.secret.size() != kSecretBytes) {
    return Bad("secret must be 32 bytes in base64url");
  }
  return out;
}

std::string NewApiKey(absl::string_view key_id) {
  unsigned char secret[kSecretBytes];
  RAND_bytes(secret, sizeof(secret));
  return absl::StrCat(
      "lk.", key_id, ".",
      Base64UrlEncode(absl::string_view(reinterpret_cast<char*>(secret), sizeof(secret))));
}

std::string HashApiSecret(absl::string_view pepper, absl::string_view secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), pepper.data(), static_cast<int>(pepper.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), mac, &length);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(mac), length));
}

std::string FormatApiKeyEntry(const ApiKeyEntry& entry) {
  std::string line = absl::StrCat(
      entry.key_id, " ", entry.organisation, " ", entry.region.empty() ? "-" : entry.region, " ",
      entry.scopes.empty() ? "-" : absl::StrJoin(entry.scopes, ","), " ", entry.hash);
  if (!entry.partner.empty() && entry.partner != entry.key_id) {
    absl::StrAppend(&line, " ", entry.partner);
  }
  return line;
}

absl::StatusOr<std::map<std::string, ApiKeyEntry>> ParseApiKeyFile(absl::string_view text) {
  std::map<std::string, ApiKeyEntry> entries;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [number](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("API key file line ", number, ": ", why));
    };
    if (fields.size() != 5 && fields.size() != 6) {
      return bad("expected key_id organisation region scopes hash [partner]");
    }
    ApiKeyEntry entry;
    entry.key_id = std::string(fields[0]);
    if (!IsKeyId(entry.key_id)) return bad("bad key id");
    entry.organisation = std::string(fields[1]);
    if (!absl::StartsWith(entry.organisation, "organisations/")) {
      return bad("organisation must be organisations/{id}");
    }
    if (fields[2] != "-") {
      if (!std::all_of(fields[2].begin(), fields[2].end(), absl::ascii_isdigit)) {
        return bad("region must be a code of digits or -");
      }
      entry.region = std::string(fields[2]);
    }
    if (fields[3] != "-") entry.scopes = absl::StrSplit(fields[3], ',', absl::SkipEmpty());
    entry.hash = absl::AsciiStrToLower(fields[4]);
    if (entry.hash.size() != 64 ||
        !std::all_of(entry.hash.begin(), entry.hash.end(), absl::ascii_isxdigit)) {
      return bad("hash must be 64 hex digits");
    }
    if (fields.size() == 6) {
      entry.partner = std::string(fields[5]);
      if (!IsKeyId(entry.partner)) return bad("partner must be 1-32 of a-z 0-9 _ -");
    }
    if (!entries.emplace(entry.key_id, entry).second) return bad("key id appears twice");
  }
  // A partner is one organisation's: a key may not take on the identity (the inbox, the
  // complaints filed) of another organisation's partner, by naming it or by having its id.
  std::map<std::string, const ApiKeyEntry*> partners;
  for (const auto& [key_id, entry] : entries) {
    const std::string& partner = entry.partner.empty() ? entry.key_id : entry.partner;
    auto [it, added] = partners.emplace(partner, &entry);
    if (!added && it->second->organisation != entry.organisation) {
      return absl::InvalidArgumentError(absl::StrCat("API key file: keys ", it->second->key_id,
                                                     " and ", key_id, " are both partner ", partner,
                                                     " but of different organisations"));
    }
  }
  return entries;
}

void ApiKeyStore::ReloadIfChanged() {
  struct stat st;
  absl::MutexLock lock(&mu_);
  if (stat(path_.c_str(), &st) != 0) {
    if (size_ != -2) {
      LogWarning("API key file unreadable; no partner key is accepted", {{"path", path_}});
      entries_.clear();  // a deleted file revokes every key
      size_ = -2;
    }
    return;
  }
  if (st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec &&
      st.st_size == size_ && st.st_ino == inode_) {
    return;
  }
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::map<std::string, ApiKeyEntry>> parsed = ParseApiKeyFile(text.str());
  mtime_ = st.st_mtim;
  size_ = st.st_size;
  inode_ = st.st_ino;
  if (!parsed.ok()) {
    LogWarning("API key file malformed; keeping the previous keys",
               {{"path", path_}, {"error", std::string(parsed.status().message())}});
    return;
  }
  entries_ = std::move(*parsed);
  LogInfo("API keys loaded", {{"path", path_}, {"keys", absl::StrCat(entries_.size())}});
}

absl::StatusOr<Principal> ApiKeyStore::Authenticate(absl::string_view key) {
  absl::StatusOr<ApiKeyParts> parts = ParseApiKey(key);
  if (!parts.ok()) return parts.status();
  ReloadIfChanged();
  const std::string hash = HashApiSecret(pepper_, parts->secret);
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(parts->key_id);
  // Same answer for an unknown id and a wrong secret: no oracle for which ids exist.
  if (it == entries_.end() || it->second.hash.size() != hash.size() ||
      CRYPTO_memcmp(it->second.hash.data(), hash.data(), hash.size()) != 0) {
    return Bad("unknown or revoked");
  }
  Principal principal;
  principal.id = absl::StrCat("partners/",
                              it->second.partner.empty() ? it->second.key_id : it->second.partner);
  principal.role = Role::kPartner;
  principal.region = it->second.region;
  principal.organisation = it->second.organisation;
  principal.scopes = it->second.scopes;
  return principal;
}

}  // namespace linli::auth
