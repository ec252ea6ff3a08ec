#include "core/tokens.hpp"

#include <string>
#include <string_view>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/converse.hpp"

namespace sluice::core {
namespace {

namespace json = boost::json;

// The flat charge for an image or document block, as tokens.hpp documents it.
constexpr std::int64_t kMediaBlockTokens = 1600;

// Every message costs this much on top of its content (role marker and separators).
constexpr std::int64_t kPerMessageTokens = 3;

class TokensTest : public ::testing::Test {
 protected:
  static ConverseRequest RequestWith(std::string_view converse_body) {
    ConverseRequest request;
    request.model_id = "amazon.nova-lite-v1:0";
    request.converse = json::parse(converse_body).as_object();
    return request;
  }
};

TEST_F(TokensTest, EmptyTextCostsNothing) {
  const std::string_view text;

  const auto tokens = EstimateTokens(text);

  EXPECT_EQ(tokens, 0);
}

TEST_F(TokensTest, WhitespaceCostsNothing) {
  const std::string_view text = " \t\r\n  ";

  const auto tokens = EstimateTokens(text);

  EXPECT_EQ(tokens, 0);
}

TEST_F(TokensTest, ShortWordsCostOneTokenEach) {
  const std::string_view text = "the cat sat on a mat";

  const auto tokens = EstimateTokens(text);

  EXPECT_EQ(tokens, 6);
}

TEST_F(TokensTest, LongWordsCostOneTokenPerStartedSixCharacters) {
  EXPECT_EQ(EstimateTokens("abcdef"), 1);
  EXPECT_EQ(EstimateTokens("abcdefg"), 2);
  EXPECT_EQ(EstimateTokens("abcdefghijkl"), 2);
  EXPECT_EQ(EstimateTokens("abcdefghijklm"), 3);
  EXPECT_EQ(EstimateTokens("snake_case_name"), 3);  // '_' joins a word
  EXPECT_EQ(EstimateTokens("20240307"), 2);         // digits are word characters
}

TEST_F(TokensTest, EachPunctuationMarkCostsOneToken) {
  const std::string_view text = "Hi, there! (ok)";

  const auto tokens = EstimateTokens(text);

  // Hi , there ! ( ok )
  EXPECT_EQ(tokens, 7);
}

TEST_F(TokensTest, PunctuationSplitsAWordIntoPieces) {
  const std::string_view text = "anthropic.claude-3";

  const auto tokens = EstimateTokens(text);

  // anthropic (two pieces) . claude - 3
  EXPECT_EQ(tokens, 6);
}

TEST_F(TokensTest, EachNonAsciiCodePointCostsOneToken) {
  EXPECT_EQ(EstimateTokens("\u65e5\u672c\u8a9e"), 3);   // three CJK characters, 3 bytes each
  EXPECT_EQ(EstimateTokens("\U0001F44B"), 1);           // one emoji, 4 bytes
  EXPECT_EQ(EstimateTokens("na\u00efve"), 3);           // na, i-diaeresis, ve
  EXPECT_EQ(EstimateTokens("\u00e9\u00e9 \u00e9"), 3);  // two-byte code points
}

TEST_F(TokensTest, SameTextAlwaysGivesTheSameEstimate) {
  const std::string text =
      "Bedrock reserves the whole prompt plus maxTokens up front, then settles to the real "
      "count \u2014 caf\u00e9, na\u00efve, \u65e5\u672c.";

  const auto first = EstimateTokens(text);
  const auto second = EstimateTokens(std::string(text));

  EXPECT_EQ(first, second);
  EXPECT_GT(first, 0);
}

TEST_F(TokensTest, JsonValuesCountStructureAndStrings) {
  const auto value = json::parse(R"({"city":"Paris","days":3,"tags":["a","b"]})");

  const auto tokens = EstimateJsonTokens(value);

  // { + (city 1 + 1 + Paris 1) + (days 1 + 1 + 1) + (tags 1 + 1 + [1 + a 1 + 1 + b 1 + 1])
  EXPECT_EQ(tokens, 1 + 3 + 3 + (2 + 5));
}

TEST_F(TokensTest, InputCountsSystemAndMessages) {
  const auto request = RequestWith(R"({
      "system": [{"text": "Be brief."}],
      "messages": [{"role": "user", "content": [{"text": "Hello there"}]},
                   {"role": "assistant", "content": [{"text": "Hi"}]},
                   {"role": "user", "content": [{"text": "Weather?"}]}]})");

  const auto tokens = EstimateInputTokens(request);

  const std::int64_t system = 3;                                    // Be brief .
  const std::int64_t messages = 3 * kPerMessageTokens + 2 + 1 + 3;  // Weather ? is 2 + 1
  EXPECT_EQ(tokens, system + messages);
}

TEST_F(TokensTest, InputCountsToolSpecifications) {
  const std::string tools = R"([{"toolSpec": {"name": "get_weather",
      "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}}])";
  const auto without = RequestWith(R"({"messages": [{"role": "user",
      "content": [{"text": "Hello"}]}]})");
  const auto with = RequestWith(R"({"messages": [{"role": "user",
      "content": [{"text": "Hello"}]}], "toolConfig": {"tools": )" +
                                tools + "}}");

  const auto difference = EstimateInputTokens(with) - EstimateInputTokens(without);

  EXPECT_EQ(difference, EstimateJsonTokens(json::parse(tools)));
  EXPECT_GT(difference, 0);
}

TEST_F(TokensTest, InputChargesAFlatAmountPerImageWhateverItsSize) {
  const auto small = RequestWith(R"({"messages": [{"role": "user", "content": [
      {"image": {"format": "png", "source": {"bytes": "aGk="}}}]}]})");
  const auto large = RequestWith(R"({"messages": [{"role": "user", "content": [
      {"image": {"format": "png", "source": {"bytes": ")" +
                                 std::string(40'000, 'A') + R"("}}}]}]})");

  const auto small_tokens = EstimateInputTokens(small);
  const auto large_tokens = EstimateInputTokens(large);

  EXPECT_EQ(small_tokens, kPerMessageTokens + kMediaBlockTokens);
  EXPECT_EQ(large_tokens, small_tokens);
}

TEST_F(TokensTest, InputChargesDocumentsLikeImages) {
  const auto request = RequestWith(R"({"messages": [{"role": "user", "content": [
      {"document": {"format": "txt", "name": "notes", "source": {"bytes": "aGk="}}},
      {"text": "Summarize"}]}]})");

  const auto tokens = EstimateInputTokens(request);

  EXPECT_EQ(tokens, kPerMessageTokens + kMediaBlockTokens + 2);
}

TEST_F(TokensTest, CachePointsCostNothing) {
  const auto plain = RequestWith(R"({"messages": [{"role": "user",
      "content": [{"text": "Hello"}]}]})");
  const auto cached = RequestWith(R"({"messages": [{"role": "user",
      "content": [{"text": "Hello"}, {"cachePoint": {"type": "default"}}]}]})");

  const auto plain_tokens = EstimateInputTokens(plain);
  const auto cached_tokens = EstimateInputTokens(cached);

  EXPECT_EQ(cached_tokens, plain_tokens);
}

TEST_F(TokensTest, InputCountsToolUsesAndToolResults) {
  const auto request = RequestWith(R"({"messages": [
      {"role": "user", "content": [{"text": "Weather?"}]},
      {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "w",
                                                      "input": {"city": "Paris"}}}]},
      {"role": "user", "content": [{"toolResult": {
          "toolUseId": "t1", "content": [{"text": "Sunny and warm"}]}}]}]})");

  const auto tokens = EstimateInputTokens(request);

  const auto tool_use = EstimateJsonTokens(
      json::parse(R"({"toolUseId": "t1", "name": "w", "input": {"city": "Paris"}})"));
  EXPECT_EQ(tokens, 3 * kPerMessageTokens + 3 + tool_use + 3);
}

}  // namespace
}  // namespace sluice::core
