#include "common/auth/api_keys.h"

#include <cstdio>
#include <fstream>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/test_env.h"

namespace linli::auth {
namespace {

constexpr char kPepper[] = "pepper-for-tests-only";

std::string EntryFor(const std::string& key, const std::string& organisation,
                     std::vector<std::string> scopes) {
  ApiKeyParts parts = *ParseApiKey(key);
  return FormatApiKeyEntry({parts.key_id, organisation, "310101020", std::move(scopes),
                            HashApiSecret(kPepper, parts.secret), ""});
}

// Replaces the file atomically (a new inode), as an operator's editor or a secret mount does.
void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path + ".tmp") << text;
  ASSERT_EQ(std::rename((path + ".tmp").c_str(), path.c_str()), 0);
}

TEST(ApiKeys, ParseIsStrict) {
  std::string key = NewApiKey("meal01");
  absl::StatusOr<ApiKeyParts> parts = ParseApiKey(key);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->key_id, "meal01");
  EXPECT_EQ(parts->secret.size(), 32u);
  for (std::string bad :
       {std::string(""), std::string("lk"), std::string("lk.meal01"),
        std::string("xx.meal01.") + key.substr(10), std::string("lk.MEAL.") + key.substr(10),
        key + "A", key + ".x", std::string(4096, 'l')}) {
    EXPECT_EQ(ParseApiKey(bad).status().code(), absl::StatusCode::kUnauthenticated) << bad;
  }
}

TEST(ApiKeys, HashedScopedAndRevocableWithoutRestart) {
  const std::string path = testing::MakeTempDir("apikeys") + "/keys";
  const std::string meal = NewApiKey("meal01");
  const std::string hotline = NewApiKey("hotline");
  WriteFile(path, "# partner keys\n" + EntryFor(meal, "organisations/meal-co", {"visits.read"}) +
                      "\n" + EntryFor(hotline, "organisations/h12345", {"work_orders.write"}) +
                      "\n");
  // The file holds no secret.
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(meal.substr(10)), std::string::npos);

  ApiKeyStore store(path, kPepper);
  absl::StatusOr<Principal> partner = store.Authenticate(meal);
  ASSERT_TRUE(partner.ok()) << partner.status();
  EXPECT_EQ(partner->id, "partners/meal01");
  EXPECT_EQ(partner->role, Role::kPartner);
  EXPECT_EQ(partner->organisation, "organisations/meal-co");
  EXPECT_TRUE(partner->HasScope("visits.read"));
  EXPECT_FALSE(partner->HasScope("work_orders.write"));
  EXPECT_EQ(partner->region, "310101020");

  // A right id with a wrong secret, and a key hashed under another pepper, are refused.
  std::string forged = NewApiKey("meal01");
  EXPECT_EQ(store.Authenticate(forged).status().code(), absl::StatusCode::kUnauthenticated);
  ApiKeyStore other_pepper(path, "another pepper");
  EXPECT_FALSE(other_pepper.Authenticate(meal).ok());

  // Revocation: the line is removed; the running store notices.
  WriteFile(path, EntryFor(hotline, "organisations/h12345", {"work_orders.write"}) + "\n");
  EXPECT_EQ(store.Authenticate(meal).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(store.Authenticate(hotline).ok());
  // A malformed edit keeps the last good keys rather than locking everyone out or in.
  WriteFile(path, "garbage line\n");
  EXPECT_TRUE(store.Authenticate(hotline).ok());
  EXPECT_FALSE(store.Authenticate(meal).ok());
  // Deleting the file revokes everything.
  std::remove(path.c_str());
  EXPECT_FALSE(store.Authenticate(hotline).ok());
}

TEST(ApiKeys, KeysOfOnePartnerShareItsIdentityAcrossARotation) {
  const std::string path = testing::MakeTempDir("apikeys") + "/keys";
  const std::string old_key = NewApiKey("hotline-2025");
  const std::string new_key = NewApiKey("hotline-2026");
  const std::string lone_key = NewApiKey("meal01");
  auto entry = [](const std::string& key, const std::string& partner) {
    ApiKeyParts parts = *ParseApiKey(key);
    return FormatApiKeyEntry({parts.key_id,
                              "organisations/h12345",
                              "310101020",
                              {"workorders.write"},
                              HashApiSecret(kPepper, parts.secret),
                              partner});
  };
  // The partner column is written only when it differs from the key id.
  EXPECT_EQ(entry(lone_key, "meal01"), entry(lone_key, ""));
  WriteFile(path, entry(old_key, "hotline12345") + "\n" + entry(new_key, "hotline12345") + "\n" +
                      entry(lone_key, "") + "\n");
  ApiKeyStore store(path, kPepper);
  absl::StatusOr<Principal> before = store.Authenticate(old_key);
  absl::StatusOr<Principal> after = store.Authenticate(new_key);
  absl::StatusOr<Principal> lone = store.Authenticate(lone_key);
  ASSERT_TRUE(before.ok() && after.ok() && lone.ok());
  EXPECT_EQ(before->id, "partners/hotline12345");
  EXPECT_EQ(after->id, before->id);  // one inbox, one filer of complaints, one rate limit
  EXPECT_EQ(lone->id, "partners/meal01");
  // The old key revoked: the partner goes on under the new one.
  WriteFile(path, entry(new_key, "hotline12345") + "\n");
  EXPECT_FALSE(store.Authenticate(old_key).ok());
  EXPECT_EQ(store.Authenticate(new_key)->id, "partners/hotline12345");

  // A key of another organisation cannot become this partner, by name or by key id.
  {
    ApiKeyParts parts = *ParseApiKey(lone_key);
    const std::string hash = HashApiSecret(kPepper, parts.secret);
    const std::string theirs =
        FormatApiKeyEntry({"hotline-2026", "organisations/h12345", "310101020", {}, hash, ""});
    EXPECT_FALSE(
        ParseApiKeyFile(theirs + "\n" +
                        FormatApiKeyEntry(
                            {"evil", "organisations/other", "310101020", {}, hash, "hotline-2026"}))
            .ok());
    EXPECT_FALSE(ParseApiKeyFile(
                     FormatApiKeyEntry({"k1", "organisations/a", "-", {}, hash, "shared"}) + "\n" +
                     FormatApiKeyEntry({"k2", "organisations/b", "-", {}, hash, "shared"}))
                     .ok());
    EXPECT_TRUE(ParseApiKeyFile(
                    FormatApiKeyEntry({"k1", "organisations/a", "-", {}, hash, "shared"}) + "\n" +
                    FormatApiKeyEntry({"k2", "organisations/a", "310101020", {}, hash, "shared"}))
                    .ok());
  }
  // A partner that is not an id is refused with its line.
  absl::StatusOr<std::map<std::string, ApiKeyEntry>> bad =
      ParseApiKeyFile("k1 organisations/a - - " + std::string(64, 'a') + " Hotline/12345\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1: partner"), std::string::npos) << bad.status();
}

TEST(ApiKeys, KeyFileErrorsNameTheLine) {
  auto parsed =
      ParseApiKeyFile("# c\nk1 organisations/a - - " + std::string(64, 'a') + "\nk2 bad - - x\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("line 3"), std::string::npos) << parsed.status();
}

}  // namespace
}  // namespace linli::auth
