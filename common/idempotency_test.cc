// request_id idempotency on both backends: replay, reuse with another payload, expiry.
#include "common/idempotency.h"

#include "common/errors.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "tests/support/test_env.h"

namespace linli {
namespace {

using google::protobuf::StringValue;

class IdempotencyTest : public ::testing::TestWithParam<std::string> {
 protected:
  IdempotencyTest() : clock_(absl::FromUnixSeconds(1'800'000'000)) {}

  void SetUp() override {
    absl::StatusOr<std::string> url = testing::FreshDatabaseUrl(GetParam(), "idempotency");
    ASSERT_TRUE(url.ok()) << url.status();
    auto db = storage::OpenDatabase(*url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, "test", {IdempotencyMigration(1)}).ok());
  }

  // Each effective call increments `effects` and answers with the payload and the effect count.
  absl::Status Call(const std::string& request_id, const std::string& payload,
                    StringValue* response) {
    StringValue request;
    request.set_value(payload);
    return RunIdempotent(
        *db_, "Test", request_id, request, response,
        [&](storage::Transaction&) -> absl::Status {
          response->set_value(payload + "#" + std::to_string(++effects_));
          return absl::OkStatus();
        },
        clock_);
  }

  FakeClock clock_;
  std::unique_ptr<storage::Database> db_;
  int effects_ = 0;
};

TEST_P(IdempotencyTest, ReplaysRejectsOtherPayloadsAndForgetsAfterRetention) {
  StringValue first, again, other;
  ASSERT_TRUE(Call("id-1", "a", &first).ok());
  ASSERT_TRUE(Call("id-1", "a", &again).ok());
  EXPECT_EQ(again.value(), first.value());
  EXPECT_EQ(effects_, 1);

  absl::Status reused = Call("id-1", "b", &other);
  EXPECT_EQ(reused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorInfo(reused)->reason(), "ERROR_REASON_REQUEST_ID_REUSED");
  EXPECT_EQ(effects_, 1);

  // Within the retention the reply is kept; after it the id is a new call.
  clock_.Advance(kIdempotencyRetention - absl::Minutes(1));
  ASSERT_TRUE(Call("id-1", "a", &again).ok());
  EXPECT_EQ(effects_, 1);
  clock_.Advance(absl::Minutes(2));
  ASSERT_TRUE(Call("id-1", "b", &other).ok());
  EXPECT_EQ(effects_, 2);
  EXPECT_EQ(other.value(), "b#2");

  // No request id: every call has its effect.
  ASSERT_TRUE(Call("", "a", &other).ok());
  ASSERT_TRUE(Call("", "a", &other).ok());
  EXPECT_EQ(effects_, 4);
  EXPECT_EQ(Call(std::string(129, 'x'), "a", &other).code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(IdempotencyTest, FindsTheStoredAnswerWithoutRunningAnything) {
  auto find = [&](const std::string& id, const std::string& payload, StringValue* out) {
    StringValue request;
    request.set_value(payload);
    return FindIdempotentResponse(*db_, "Test", id, request, out, clock_);
  };
  StringValue found, first;
  absl::StatusOr<bool> none = find("id-9", "a", &found);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(*none);
  ASSERT_TRUE(Call("id-9", "a", &first).ok());
  absl::StatusOr<bool> stored = find("id-9", "a", &found);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(*stored);
  EXPECT_EQ(found.value(), first.value());
  EXPECT_EQ(find("id-9", "b", &found).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(*find("", "a", &found));
  clock_.Advance(kIdempotencyRetention + absl::Minutes(1));
  absl::StatusOr<bool> expired = find("id-9", "a", &found);
  ASSERT_TRUE(expired.ok());
  EXPECT_FALSE(*expired);
  EXPECT_EQ(found.value(), "");
  EXPECT_EQ(effects_, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, IdempotencyTest, ::testing::ValuesIn(testing::Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace linli
