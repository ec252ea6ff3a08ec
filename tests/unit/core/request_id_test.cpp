#include "core/request_id.hpp"

#include <cstddef>
#include <string>
#include <unordered_set>

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

// Positions of the dashes in the 8-4-4-4-12 text form of a UUID.
bool IsDashPosition(std::size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

class RequestIdTest : public ::testing::Test {};

TEST_F(RequestIdTest, HasTheTextFormOfAUuid) {
  const std::string id = NewRequestId();

  ASSERT_EQ(id.size(), 36u) << id;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (IsDashPosition(i)) {
      EXPECT_EQ(id[i], '-') << id << " at " << i;
    } else {
      EXPECT_TRUE(IsLowerHex(id[i])) << id << " at " << i;
    }
  }
}

TEST_F(RequestIdTest, IsARandomVersionFourUuid) {
  constexpr int kSamples = 1000;

  for (int i = 0; i < kSamples; ++i) {
    const std::string id = NewRequestId();

    ASSERT_EQ(id[14], '4') << id;  // version nibble
    ASSERT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
  }
}

TEST_F(RequestIdTest, TenThousandIdsAreAllDistinct) {
  constexpr std::size_t kCount = 10'000;
  std::unordered_set<std::string> seen;

  for (std::size_t i = 0; i < kCount; ++i) {
    seen.insert(NewRequestId());
  }

  EXPECT_EQ(seen.size(), kCount);
}

TEST_F(RequestIdTest, EveryHexDigitOccursAtARandomPosition) {
  // The first character is fully random, so over many IDs it takes every value.
  std::unordered_set<char> first_characters;

  for (int i = 0; i < 2000; ++i) {
    first_characters.insert(NewRequestId().front());
  }

  EXPECT_EQ(first_characters.size(), 16u);
}

}  // namespace
}  // namespace sluice::core
