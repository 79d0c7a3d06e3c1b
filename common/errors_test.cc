#include "common/errors.h"
#include "common/grpc_status.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/text.h"
#include "gtest/gtest.h"

namespace linli {
namespace {

TEST(ErrorsTest, FieldViolationsCarryEveryFieldAndAReason) {
  FieldViolations v;
  EXPECT_TRUE(v.ToStatus().ok());
  v.Add("region.code", "must be digits");
  v.Add("region.display_name", "must not be empty");
  absl::Status status = v.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  auto bad_request = GetBadRequest(status);
  ASSERT_TRUE(bad_request.has_value());
  ASSERT_EQ(bad_request->field_violations_size(), 2);
  EXPECT_EQ(bad_request->field_violations(1).field(), "region.display_name");
  EXPECT_EQ(GetErrorInfo(status)->reason(), "ERROR_REASON_INVALID_FIELD");
  EXPECT_EQ(GetErrorInfo(status)->domain(), "linli.dev");
}

TEST(ErrorsTest, DetailsSurviveTheWireBothWays) {
  absl::Status original =
      InvalidField("page_token", "bad", common::v1::ERROR_REASON_INVALID_PAGE_TOKEN);
  grpc::Status wire = ToGrpcStatus(original, "rid-1");
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(wire.error_details().empty());
  absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), original.message());
  EXPECT_EQ(GetBadRequest(back)->field_violations(0).field(), "page_token");
  EXPECT_EQ(GetErrorInfo(back)->reason(), "ERROR_REASON_INVALID_PAGE_TOKEN");
}

TEST(ErrorsTest, InternalMessagesAreNotShownToClients) {
  grpc::Status wire = ToGrpcStatus(absl::InternalError("SQL: syntax error near SELECT"), "rid-7");
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(wire.error_message().find("SQL"), std::string::npos);
  EXPECT_NE(wire.error_message().find("rid-7"), std::string::npos);
}

TEST(ErrorsTest, ThousandsOfViolationsStayWithinMetadataLimits) {
  FieldViolations v;
  for (int i = 0; i < 5000; ++i) v.Add("lines[" + std::to_string(i) + "]", std::string(500, 'x'));
  grpc::Status wire = ToGrpcStatus(v.ToStatus());
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The details go base64-encoded into a header: stay well below the usual 8 KiB cap.
  EXPECT_LT(wire.error_message().size() + wire.error_details().size() * 4 / 3, 6000u);
  const int listed = GetBadRequest(FromGrpcStatus(wire))->field_violations_size();
  EXPECT_GE(listed, 2);
  EXPECT_NE(wire.error_message().find(absl::StrCat("and ", 5000 - listed, " more")),
            std::string::npos);
  // Short ones: ten listed.
  FieldViolations short_ones;
  for (int i = 0; i < 5000; ++i) short_ones.Add("lines[" + std::to_string(i) + "]", "required");
  grpc::Status many = ToGrpcStatus(short_ones.ToStatus());
  EXPECT_EQ(GetBadRequest(FromGrpcStatus(many))->field_violations_size(), 10);
  EXPECT_NE(many.error_message().find("and 4990 more"), std::string::npos);
}

// A long Chinese description (a roster's column list) is cut on a character boundary: the
// details stay valid UTF-8, so they are sent, and the message says it was cut.
TEST(ErrorsTest, LongChineseDescriptionsAreCutOnACharacterBoundaryAndKeepTheirDetails) {
  std::string columns;
  for (int i = 0; i < 60; ++i) absl::StrAppend(&columns, i == 0 ? "" : ",", "纬度经度");
  const std::string description = "the columns of elders are " + columns;
  ASSERT_GT(description.size(), 400u);
  grpc::Status wire = ToGrpcStatus(InvalidField("csv", description));
  std::optional<google::rpc::BadRequest> details = GetBadRequest(FromGrpcStatus(wire));
  ASSERT_TRUE(details.has_value());
  ASSERT_EQ(details->field_violations_size(), 1);
  const std::string& sent = details->field_violations(0).description();
  EXPECT_LE(sent.size(), 400u);
  EXPECT_GT(sent.size(), 300u);
  EXPECT_TRUE(Utf8Length(sent).has_value()) << sent;
  EXPECT_TRUE(absl::EndsWith(sent, "\u2026"));
  EXPECT_TRUE(absl::StartsWith(description, sent.substr(0, sent.size() - 3)));
  EXPECT_TRUE(Utf8Length(wire.error_message()).has_value());
  // A short one is sent whole.
  EXPECT_EQ(GetBadRequest(FromGrpcStatus(ToGrpcStatus(InvalidField("姓名", "姓名必填"))))
                ->field_violations(0)
                .description(),
            "姓名必填");
}

TEST(ErrorsTest, OkStaysOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  EXPECT_TRUE(WithReason(absl::OkStatus(), common::v1::ERROR_REASON_NOT_FOUND).ok());
}

}  // namespace
}  // namespace linli
