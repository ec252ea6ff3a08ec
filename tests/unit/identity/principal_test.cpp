#include "identity/principal.hpp"

#include <gtest/gtest.h>

namespace sluice::identity {
namespace {

TEST(PrincipalTest, DefaultArnCarriesAccountAndApplication) {
  const std::string arn = DefaultRoleArn("123456789012", "CustomerServiceApp");

  EXPECT_EQ(arn, "arn:aws:iam::123456789012:role/CustomerServiceApp-BedrockRole");
}

TEST(PrincipalTest, AccountIdMustBeTwelveDigits) {
  EXPECT_TRUE(IsValidAccountId("000000000000"));
  EXPECT_TRUE(IsValidAccountId(kDefaultAccountId));
  EXPECT_FALSE(IsValidAccountId("12345678901"));
  EXPECT_FALSE(IsValidAccountId("1234567890123"));
  EXPECT_FALSE(IsValidAccountId("12345678901a"));
}

TEST(PrincipalTest, ApplicationNameFollowsIamRoleNameRules) {
  EXPECT_TRUE(IsValidApplicationName("CustomerServiceApp"));
  EXPECT_TRUE(IsValidApplicationName("team.app_v2+x=y,z@w-1"));
  EXPECT_FALSE(IsValidApplicationName(""));
  EXPECT_FALSE(IsValidApplicationName("has space"));
  EXPECT_FALSE(IsValidApplicationName("slash/inside"));
  EXPECT_FALSE(IsValidApplicationName(std::string(53, 'a')));
  EXPECT_TRUE(IsValidApplicationName(std::string(52, 'a')));
}

}  // namespace
}  // namespace sluice::identity
