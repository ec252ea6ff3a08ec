#include "core/converse_json.hpp"

#include <string>
#include <string_view>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::core {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr std::string_view kModelId = "amazon.nova-lite-v1:0";

constexpr std::string_view kMustStartWithUser =
    "A conversation must start with a user message. Try again with a conversation that starts "
    "with a user message.";

constexpr std::string_view kMustAlternate =
    "A conversation must alternate between user and assistant roles. Make sure the conversation "
    "alternates between user and assistant roles and try again.";

constexpr std::string_view kMalformed =
    "Malformed input request, please reformat your input and try again.";

// A body with one user turn, into which a test splices the members it is about.
std::string WithUserTurn(std::string_view extra_members) {
  std::string body = R"({"messages":[{"role":"user","content":[{"text":"Hello"}]}])";
  if (!extra_members.empty()) {
    body += ',';
    body += extra_members;
  }
  body += '}';
  return body;
}

std::string RequestMetadataOf(std::string_view map) {
  return WithUserTurn(std::string(R"("requestMetadata":)") + std::string(map));
}

class ConverseJsonTest : public ::testing::Test {
 protected:
  static Result<ConverseRequest> Parse(std::string_view body) {
    return ParseConverseRequest(body, Operation::kConverse, std::string(kModelId));
  }

  // The ValidationException message a body is rejected with, or "<accepted>".
  static std::string Rejection(std::string_view body) {
    auto result = Parse(body);
    if (result.has_value()) {
      return "<accepted>";
    }
    EXPECT_EQ(result.error().code, ErrorCode::kValidation);
    return result.error().message;
  }
};

TEST_F(ConverseJsonTest, RejectsEmptyMessageList) {
  const std::string body = R"({"messages":[]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message, kMustStartWithUser);
}

TEST_F(ConverseJsonTest, RejectsBodyWithoutMessages) {
  const std::string body = R"({"inferenceConfig":{"maxTokens":10}})";

  const auto message = Rejection(body);

  EXPECT_EQ(message, kMustStartWithUser);
}

TEST_F(ConverseJsonTest, RejectsConversationOpenedByAssistant) {
  const std::string body = R"({"messages":[
      {"role":"assistant","content":[{"text":"Hi"}]},
      {"role":"user","content":[{"text":"Hello"}]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message, kMustStartWithUser);
}

TEST_F(ConverseJsonTest, RejectsTwoTurnsOfTheSameRole) {
  const std::string body = R"({"messages":[
      {"role":"user","content":[{"text":"Hello"}]},
      {"role":"user","content":[{"text":"Anyone there?"}]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message, kMustAlternate);
}

TEST_F(ConverseJsonTest, RejectsMessageWithEmptyContent) {
  const std::string body = R"({"messages":[
      {"role":"user","content":[{"text":"Hello"}]},
      {"role":"assistant","content":[]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "The content field in the Message object at messages.1 is empty. Add a ContentBlock "
            "object to the content field and try again.");
}

TEST_F(ConverseJsonTest, RejectsBlankText) {
  const std::string body = R"({"messages":[{"role":"user","content":[
      {"text":"Hello"},{"text":" \t\r\n "}]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "The text field in the ContentBlock object at messages.0.content.1 is blank. Add text "
            "to the text field, and try again.");
}

TEST_F(ConverseJsonTest, RejectsContentBlockWithTwoMembers) {
  const std::string body = R"({"messages":[{"role":"user","content":[
      {"text":"Hello","cachePoint":{"type":"default"}}]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "Only one member of the union at messages.0.content.0 may be set. Remove the extra "
            "members and try again.");
}

TEST_F(ConverseJsonTest, RejectsContentBlockWithNoMember) {
  const std::string body = R"({"messages":[{"role":"user","content":[{}]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "The messages.0.content.0 object is empty. Set exactly one member and try again.");
}

TEST_F(ConverseJsonTest, RejectsUnknownContentMember) {
  const std::string body = R"({"messages":[{"role":"user","content":[{"hologram":{}}]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message, "The member hologram at messages.0.content.0 is not supported.");
}

TEST_F(ConverseJsonTest, RejectsUnknownSystemMember) {
  const std::string body = WithUserTurn(R"("system":[{"image":{}}])");

  const auto message = Rejection(body);

  EXPECT_EQ(message, "The member image at system.0 is not supported.");
}

TEST_F(ConverseJsonTest, RejectsRoleOutsideTheEnum) {
  const std::string body = R"({"messages":[
      {"role":"user","content":[{"text":"Hello"}]},
      {"role":"system","content":[{"text":"Be brief."}]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "1 validation error detected: Value 'system' at 'messages.2.member.role' failed to "
            "satisfy constraint: Member must satisfy enum value set: [user, assistant]");
}

TEST_F(ConverseJsonTest, RejectsMissingRole) {
  const std::string body = R"({"messages":[{"content":[{"text":"Hello"}]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "1 validation error detected: Value null at 'messages.1.member.role' failed to "
            "satisfy constraint: Member must not be null");
}

TEST_F(ConverseJsonTest, RejectsCachePointWithUnknownType) {
  const std::string body = R"({"messages":[{"role":"user","content":[
      {"text":"Hello"},{"cachePoint":{"type":"forever"}}]}]})";

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "1 validation error detected: Value 'forever' at "
            "'messages.0.content.1.cachePoint.type' failed to satisfy constraint: Member must "
            "satisfy enum value set: [default]");
}

TEST_F(ConverseJsonTest, RejectsMaxTokensBelowOne) {
  const std::string body = WithUserTurn(R"("inferenceConfig":{"maxTokens":0})");

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "1 validation error detected: Value '0' at 'inferenceConfig.maxTokens' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1");
}

TEST_F(ConverseJsonTest, RejectsNonIntegerMaxTokens) {
  const std::string body = WithUserTurn(R"("inferenceConfig":{"maxTokens":12.5})");

  const auto message = Rejection(body);

  EXPECT_THAT(message, StartsWith("1 validation error detected: Value '"));
  EXPECT_THAT(message, HasSubstr("' at 'inferenceConfig.maxTokens' failed to satisfy constraint: "
                                 "Member must be an integer"));
}

TEST_F(ConverseJsonTest, RejectsTemperatureAboveOne) {
  const std::string body = WithUserTurn(R"("inferenceConfig":{"temperature":1.5})");

  const auto message = Rejection(body);

  EXPECT_THAT(message, StartsWith("1 validation error detected: Value '"));
  EXPECT_THAT(message, HasSubstr("' at 'inferenceConfig.temperature' failed to satisfy "
                                 "constraint: Member must have value less than or equal to 1"));
}

TEST_F(ConverseJsonTest, RejectsNegativeTopP) {
  const std::string body = WithUserTurn(R"("inferenceConfig":{"topP":-0.25})");

  const auto message = Rejection(body);

  EXPECT_THAT(message, HasSubstr("' at 'inferenceConfig.topP' failed to satisfy constraint: "
                                 "Member must have value greater than or equal to 0"));
}

// Bedrock prints the offending number as written ('1.5'), not in exponent form ('1.5E0').
TEST_F(ConverseJsonTest, QuotesOutOfRangeNumbersAsWritten) {
  const std::string body = WithUserTurn(R"("inferenceConfig":{"temperature":1.5})");

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "1 validation error detected: Value '1.5' at 'inferenceConfig.temperature' failed to "
            "satisfy constraint: Member must have value less than or equal to 1");
}

TEST_F(ConverseJsonTest, AcceptsInferenceLimitsAtTheirBounds) {
  const std::string body =
      WithUserTurn(R"("inferenceConfig":{"maxTokens":1,"temperature":0,"topP":1})");

  const auto message = Rejection(body);

  EXPECT_EQ(message, "<accepted>");
}

TEST_F(ConverseJsonTest, RejectsMoreThanSixteenMetadataEntries) {
  json::object map;
  for (int i = 0; i < 17; ++i) {
    map["key" + std::to_string(i)] = "value";
  }
  const std::string body = RequestMetadataOf(json::serialize(map));

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "1 validation error detected: Value at 'requestMetadata' failed to satisfy "
            "constraint: Member must have length less than or equal to 16 and greater than or "
            "equal to 1");
}

TEST_F(ConverseJsonTest, AcceptsSixteenMetadataEntries) {
  json::object map;
  for (int i = 0; i < 16; ++i) {
    map["key" + std::to_string(i)] = "value";
  }
  const std::string body = RequestMetadataOf(json::serialize(map));

  const auto message = Rejection(body);

  EXPECT_EQ(message, "<accepted>");
}

TEST_F(ConverseJsonTest, RejectsMetadataKeyLongerThan256Characters) {
  const std::string key(257, 'k');
  const std::string body = RequestMetadataOf(R"({")" + key + R"(":"v"})");

  const auto message = Rejection(body);

  // requestMetadata is sensitive: the message must not repeat the key.
  EXPECT_THAT(message, Not(HasSubstr(key)));
  EXPECT_THAT(message, StartsWith("1 validation error detected: Value at 'requestMetadata' "
                                  "failed to satisfy constraint: Map keys "
                                  "must satisfy constraint: [Member must have length less than "
                                  "or equal to 256"));
}

TEST_F(ConverseJsonTest, AcceptsMetadataKeyOf256Characters) {
  const std::string key(256, 'k');
  const std::string body = RequestMetadataOf(R"({")" + key + R"(":"v"})");

  const auto message = Rejection(body);

  EXPECT_EQ(message, "<accepted>");
}

TEST_F(ConverseJsonTest, RejectsMetadataKeyWithCharacterOutsideTheSet) {
  const std::string body = RequestMetadataOf(R"({"team!":"search"})");

  const auto message = Rejection(body);

  EXPECT_THAT(message, HasSubstr("at 'requestMetadata' failed to satisfy constraint: Map keys "
                                 "must satisfy constraint"));
  EXPECT_THAT(message, HasSubstr("[a-zA-Z0-9\\s:_@$#=/+,-.]{1,256}"));
}

TEST_F(ConverseJsonTest, RejectsMetadataValueWithCharacterOutsideTheSet) {
  const std::string body = RequestMetadataOf(R"({"team":"a<b"})");

  const auto message = Rejection(body);

  EXPECT_THAT(message, HasSubstr("at 'requestMetadata' failed to satisfy constraint: Map "
                                 "values must satisfy constraint"));
  EXPECT_THAT(message, Not(HasSubstr("a<b")));
  EXPECT_THAT(message, HasSubstr("[a-zA-Z0-9\\s:_@$#=/+,-.]{0,256}"));
}

TEST_F(ConverseJsonTest, AcceptsMetadataUsingEveryAllowedPunctuationMark) {
  const std::string body = RequestMetadataOf(R"({"a:b_c@d$e#f=g/h+i,j-k.l m":"x:_@$#=/+,-. y"})");

  const auto message = Rejection(body);

  EXPECT_EQ(message, "<accepted>");
}

TEST_F(ConverseJsonTest, RejectsToolSpecWithoutInputSchema) {
  const std::string body = WithUserTurn(R"("toolConfig":{"tools":[
      {"toolSpec":{"name":"lookup","inputSchema":{"json":{"type":"object"}}}},
      {"toolSpec":{"name":"get_weather","description":"Weather by city"}}]})");

  const auto message = Rejection(body);

  EXPECT_EQ(message,
            "1 validation error detected: Value null at "
            "'toolConfig.tools.2.member.toolSpec.inputSchema' failed to satisfy constraint: "
            "Member must not be null");
}

TEST_F(ConverseJsonTest, RejectsEmptyToolList) {
  const std::string body = WithUserTurn(R"("toolConfig":{"tools":[]})");

  const auto message = Rejection(body);

  EXPECT_THAT(message, HasSubstr("at 'toolConfig.tools' failed to satisfy constraint: Member "
                                 "must have length greater than or equal to 1"));
}

// A tool entry is a union (toolSpec, systemTool, cachePoint); anything else is refused before a
// provider can trip over it.
TEST_F(ConverseJsonTest, RejectsToolThatIsNotAStructure) {
  const std::string body = WithUserTurn(R"("toolConfig":{"tools":[5]})");

  const auto message = Rejection(body);

  EXPECT_NE(message, "<accepted>");
}

// Tool names follow Bedrock's pattern [a-zA-Z0-9_-]+.
TEST_F(ConverseJsonTest, RejectsToolNameOutsideThePattern) {
  const std::string body = WithUserTurn(
      R"("toolConfig":{"tools":[{"toolSpec":{"name":"get weather!","inputSchema":{"json":{}}}}]})");

  const auto message = Rejection(body);

  EXPECT_THAT(message, HasSubstr("toolConfig.tools.1.member.toolSpec.name"));
}

TEST_F(ConverseJsonTest, AcceptsFullRequestAndReadsMaxTokens) {
  const std::string body = R"({
      "modelId": "ignored.because-the-path-names-it",
      "system": [{"text": "Answer in one sentence."}, {"cachePoint": {"type": "default"}}],
      "messages": [
        {"role": "user", "content": [{"text": "What is the weather in Paris?"},
                                     {"cachePoint": {"type": "default"}}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather",
                                                        "input": {"city": "Paris"}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1",
                                                      "content": [{"text": "Sunny"}]}}]}],
      "inferenceConfig": {"maxTokens": 512, "temperature": 0.5, "topP": 0.9,
                          "stopSequences": ["END"]},
      "toolConfig": {
        "tools": [{"toolSpec": {"name": "get_weather", "description": "Weather by city",
                                "inputSchema": {"json": {"type": "object",
                                  "properties": {"city": {"type": "string"}},
                                  "required": ["city"]}}}},
                  {"cachePoint": {"type": "default"}}],
        "toolChoice": {"tool": {"name": "get_weather"}}},
      "requestMetadata": {"team": "search", "cost-center": "cc 1234"}})";

  auto request = ParseConverseRequest(body, Operation::kConverseStream, std::string(kModelId));

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->operation, Operation::kConverseStream);
  EXPECT_EQ(request->model_id, kModelId);
  EXPECT_EQ(request->max_tokens, 512);
  EXPECT_FALSE(request->converse.contains("modelId"));
  EXPECT_TRUE(request->converse.contains("toolConfig"));
  EXPECT_TRUE(request->converse.contains("requestMetadata"));
}

TEST_F(ConverseJsonTest, LeavesMaxTokensUnsetWhenAbsent) {
  const std::string body = WithUserTurn("");

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_FALSE(request->max_tokens.has_value());
}

TEST_F(ConverseJsonTest, RejectsMalformedJsonWithBedrocksMessage) {
  const std::string body = R"({"messages": [)";

  const auto message = Rejection(body);

  EXPECT_EQ(message, kMalformed);
}

TEST_F(ConverseJsonTest, RejectsJsonThatIsNotAnObject) {
  const std::string body = R"([{"role":"user"}])";

  const auto message = Rejection(body);

  EXPECT_EQ(message, kMalformed);
}

TEST_F(ConverseJsonTest, ValidatesAnAlreadyBuiltBody) {
  const auto good = json::parse(WithUserTurn("")).as_object();
  const auto bad = json::parse(R"({"messages":[]})").as_object();

  const auto good_result = ValidateConverseBody(good);
  const auto bad_result = ValidateConverseBody(bad);

  EXPECT_TRUE(good_result.has_value());
  ASSERT_FALSE(bad_result.has_value());
  EXPECT_EQ(bad_result.error().message, kMustStartWithUser);
}

TEST_F(ConverseJsonTest, SerializesRequestWithoutModelId) {
  auto request = Parse(R"({"modelId":"x","messages":[{"role":"user","content":[{"text":"Hi"}]}]})");
  ASSERT_TRUE(request.has_value());

  const auto serialized = SerializeConverseRequest(*request);

  const auto reparsed = json::parse(serialized).as_object();
  EXPECT_FALSE(reparsed.contains("modelId"));
  EXPECT_EQ(reparsed.at("messages"), request->converse.at("messages"));
}

TEST_F(ConverseJsonTest, UsageSurvivesARoundTripThroughJson) {
  TokenUsage usage;
  usage.input_tokens = 12;
  usage.output_tokens = 34;
  usage.cache_read_input_tokens = 1000;
  usage.cache_write_input_tokens = 100;

  const auto object = UsageToJson(usage);
  const auto read_back = ReadUsage(object);

  EXPECT_EQ(object.at("inputTokens"), 12);
  EXPECT_EQ(object.at("outputTokens"), 34);
  EXPECT_EQ(object.at("totalTokens"), 46);
  EXPECT_EQ(object.at("cacheReadInputTokens"), 1000);
  EXPECT_EQ(object.at("cacheWriteInputTokens"), 100);
  EXPECT_EQ(read_back.input_tokens, usage.input_tokens);
  EXPECT_EQ(read_back.output_tokens, usage.output_tokens);
  EXPECT_EQ(read_back.cache_read_input_tokens, usage.cache_read_input_tokens);
  EXPECT_EQ(read_back.cache_write_input_tokens, usage.cache_write_input_tokens);
}

TEST_F(ConverseJsonTest, UsageJsonOmitsZeroCacheCounts) {
  TokenUsage usage;
  usage.input_tokens = 3;
  usage.output_tokens = 4;

  const auto object = UsageToJson(usage);

  EXPECT_EQ(object.size(), 3u);
  EXPECT_FALSE(object.contains("cacheReadInputTokens"));
  EXPECT_FALSE(object.contains("cacheWriteInputTokens"));
}

TEST_F(ConverseJsonTest, ReadUsageCountsMissingMembersAsZero) {
  const auto object = json::parse(R"({"inputTokens":9,"outputTokens":"many"})").as_object();

  const auto usage = ReadUsage(object);

  EXPECT_EQ(usage.input_tokens, 9);
  EXPECT_EQ(usage.output_tokens, 0);
  EXPECT_EQ(usage.cache_read_input_tokens, 0);
  EXPECT_EQ(usage.cache_write_input_tokens, 0);
}

TEST_F(ConverseJsonTest, ParsesUpstreamResponseWithUsageAndStopReason) {
  TokenUsage usage;
  usage.input_tokens = 20;
  usage.output_tokens = 5;
  const auto body = json::serialize(MakeConverseResponseBody(
      json::array{json::object{{"text", "Hi there"}}}, "end_turn", usage, 42));

  auto response = ParseConverseResponse(body);

  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->stop_reason, "end_turn");
  EXPECT_EQ(response->usage.input_tokens, 20);
  EXPECT_EQ(response->usage.output_tokens, 5);
  EXPECT_EQ(response->converse.at("metrics").at("latencyMs"), 42);
  EXPECT_EQ(response->converse.at("output").at("message").at("role"), "assistant");
}

TEST_F(ConverseJsonTest, TreatsUnparseableUpstreamResponseAsServerFault) {
  const std::string body = "<html>Bad gateway</html>";

  auto response = ParseConverseResponse(body);

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kInternalServer);
}

}  // namespace
}  // namespace sluice::core
