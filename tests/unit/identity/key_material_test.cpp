#include "identity/key_material.hpp"

#include <set>

#include <gtest/gtest.h>

namespace sluice::identity {
namespace {

bool AllIn(std::string_view text, std::string_view alphabet) {
  return text.find_first_not_of(alphabet) == std::string_view::npos;
}

TEST(KeyMaterialTest, AccessKeyIdHasTheAwsShape) {
  auto id = NewAccessKeyId();

  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->size(), 20u);
  EXPECT_EQ(id->substr(0, 4), "AKIA");
  EXPECT_TRUE(AllIn(id->substr(4), "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
}

TEST(KeyMaterialTest, SecretIsFortyBase64Characters) {
  auto secret = NewSecretAccessKey();

  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(secret->size(), 40u);
  EXPECT_TRUE(AllIn(*secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"));
}

TEST(KeyMaterialTest, ApiKeyHasPrefixAndAtLeast32RandomCharacters) {
  auto key = NewApiKey();

  ASSERT_TRUE(key.has_value());
  ASSERT_EQ(key->substr(0, kApiKeyPrefix.size()), kApiKeyPrefix);
  const std::string random = key->substr(kApiKeyPrefix.size());
  EXPECT_GE(random.size(), 32u);
  EXPECT_TRUE(AllIn(random, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));
}

TEST(KeyMaterialTest, HashIsSha256InLowerCaseHex) {
  // SHA-256("abc") from FIPS 180-2, appendix B.1.
  EXPECT_EQ(HashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(KeyMaterialTest, ValuesAreUniqueOverManyDraws) {
  constexpr int kDraws = 10000;
  std::set<std::string> ids;
  std::set<std::string> secrets;
  std::set<std::string> api_keys;

  for (int i = 0; i < kDraws; ++i) {
    ids.insert(NewAccessKeyId().value());
    secrets.insert(NewSecretAccessKey().value());
    api_keys.insert(NewApiKey().value());
  }

  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kDraws));
  EXPECT_EQ(secrets.size(), static_cast<std::size_t>(kDraws));
  EXPECT_EQ(api_keys.size(), static_cast<std::size_t>(kDraws));
}

}  // namespace
}  // namespace sluice::identity
