#include "core/anthropic_messages.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sluice::core::anthropic {
namespace {

namespace json = boost::json;

constexpr std::string_view kModelId = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

json::value Json(std::string_view text) {
  return json::parse(text);
}

Result<ConverseRequest> Parse(std::string_view body) {
  return ParseInvokeBody(body, Operation::kInvokeModel, std::string(kModelId));
}

std::string ErrorMessage(std::string_view body) {
  auto result = Parse(body);
  if (result.has_value()) {
    return "<accepted>";
  }
  EXPECT_EQ(result.error().code, ErrorCode::kValidation);
  return result.error().message;
}

StreamEvent Event(StreamEventType type, std::string_view payload) {
  return StreamEvent{type, Json(payload).as_object(), {}};
}

std::vector<std::string> Types(const std::vector<std::string>& events) {
  std::vector<std::string> types;
  for (const auto& event : events) {
    types.emplace_back(Json(event).at("type").as_string());
  }
  return types;
}

TEST(AnthropicMessagesTest, TranslatesBodyIntoConverseMembers) {
  const std::string body = R"({
    "anthropic_version": "bedrock-2023-05-31", "max_tokens": 512,
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Hello"}],
    "temperature": 0.5, "top_p": 0.9, "top_k": 40, "stop_sequences": ["END"],
    "thinking": {"type": "enabled", "budget_tokens": 1024}})";

  auto request =
      ParseInvokeBody(body, Operation::kInvokeModelWithResponseStream, std::string(kModelId));

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->operation, Operation::kInvokeModelWithResponseStream);
  EXPECT_EQ(request->model_id, kModelId);
  EXPECT_EQ(request->max_tokens, 512);
  EXPECT_EQ(json::value(request->converse), Json(R"({
    "messages": [{"role": "user", "content": [{"text": "Hello"}]}],
    "system": [{"text": "Be brief."}],
    "inferenceConfig": {"maxTokens": 512, "temperature": 0.5, "topP": 0.9,
                        "stopSequences": ["END"]},
    "additionalModelRequestFields": {"top_k": 40,
                                     "thinking": {"type": "enabled", "budget_tokens": 1024}}})"));
  EXPECT_EQ(request->native.format, NativeFormat::kAnthropicMessages);
  EXPECT_EQ(request->native.bytes, body);
}

TEST(AnthropicMessagesTest, TranslatesSystemBlockListWithCachePoint) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "system": [{"type": "text", "text": "Rules", "cache_control": {"type": "ephemeral"}},
               {"type": "text", "text": "More"}],
    "messages": [{"role": "user", "content": "Hi"}]})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("system"), Json(R"([
    {"text": "Rules"}, {"cachePoint": {"type": "default"}}, {"text": "More"}])"));
}

TEST(AnthropicMessagesTest, PlacesCachePointRightAfterMarkedMessageBlock) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [{"role": "user", "content": [
      {"type": "text", "text": "A long document",
       "cache_control": {"type": "ephemeral", "ttl": "1h"}},
      {"type": "text", "text": "A question"}]}]})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("messages"), Json(R"([{"role": "user", "content": [
    {"text": "A long document"}, {"cachePoint": {"type": "default", "ttl": "1h"}},
    {"text": "A question"}]}])"));
}

TEST(AnthropicMessagesTest, TranslatesToolsAndNamedToolChoice) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [{"role": "user", "content": "Weather in Paris?"}],
    "tools": [{"name": "get_weather", "description": "Current weather",
               "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
               "cache_control": {"type": "ephemeral"}}],
    "tool_choice": {"type": "tool", "name": "get_weather"}})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("toolConfig"), Json(R"({
    "tools": [{"toolSpec": {"name": "get_weather", "description": "Current weather",
                            "inputSchema": {"json": {"type": "object",
                                "properties": {"city": {"type": "string"}}}}}},
              {"cachePoint": {"type": "default"}}],
    "toolChoice": {"tool": {"name": "get_weather"}}})"));
}

TEST(AnthropicMessagesTest, TranslatesAutoAndAnyToolChoices) {
  const std::string prefix = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [{"role": "user", "content": "Hi"}],
    "tools": [{"name": "f", "input_schema": {"type": "object"}}], "tool_choice": )";

  auto automatic = Parse(prefix + R"({"type": "auto"}})");
  auto any = Parse(prefix + R"({"type": "any"}})");

  ASSERT_TRUE(automatic.has_value()) << automatic.error().message;
  ASSERT_TRUE(any.has_value()) << any.error().message;
  EXPECT_EQ(automatic->converse.at("toolConfig").at("toolChoice"), Json(R"({"auto": {}})"));
  EXPECT_EQ(any->converse.at("toolConfig").at("toolChoice"), Json(R"({"any": {}})"));
}

TEST(AnthropicMessagesTest, PassesChoicesConverseCannotExpressToTheModel) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [{"role": "user", "content": "Hi"}],
    "tools": [{"name": "f", "input_schema": {"type": "object"}},
              {"type": "bash_20250124", "name": "bash"}],
    "tool_choice": {"type": "none"}})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_FALSE(request->converse.at("toolConfig").as_object().contains("toolChoice"));
  EXPECT_EQ(request->converse.at("additionalModelRequestFields"), Json(R"({
    "tools": [{"type": "bash_20250124", "name": "bash"}], "tool_choice": {"type": "none"}})"));
}

TEST(AnthropicMessagesTest, TranslatesToolUseAndTextToolResult) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [
      {"role": "user", "content": "Add 2 and 3"},
      {"role": "assistant", "content": [
        {"type": "text", "text": "Calling the tool."},
        {"type": "tool_use", "id": "toolu_01", "name": "add", "input": {"a": 2, "b": 3}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "5",
         "cache_control": {"type": "ephemeral"}}]}],
    "tools": [{"name": "add", "input_schema": {"type": "object"}}]})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("messages"), Json(R"([
    {"role": "user", "content": [{"text": "Add 2 and 3"}]},
    {"role": "assistant", "content": [
      {"text": "Calling the tool."},
      {"toolUse": {"toolUseId": "toolu_01", "name": "add", "input": {"a": 2, "b": 3}}}]},
    {"role": "user", "content": [
      {"toolResult": {"toolUseId": "toolu_01", "content": [{"text": "5"}]}},
      {"cachePoint": {"type": "default"}}]}])"));
}

TEST(AnthropicMessagesTest, TranslatesToolResultWithImageAndErrorStatus) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [
      {"role": "user", "content": "Take a screenshot"},
      {"role": "assistant", "content": [
        {"type": "tool_use", "id": "t1", "name": "shot", "input": {}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "is_error": true, "content": [
          {"type": "text", "text": "Partial capture"},
          {"type": "image",
           "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"}}]}]}]})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("messages").at(2).at("content").at(0), Json(R"({
    "toolResult": {"toolUseId": "t1", "content": [
      {"text": "Partial capture"},
      {"image": {"format": "png", "source": {"bytes": "iVBORw0K"}}}],
    "status": "error"}})"));
}

TEST(AnthropicMessagesTest, TranslatesImageAndDocumentBlocks) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [{"role": "user", "content": [
      {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/"}},
      {"type": "document", "title": "Q3 report: final!",
       "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}},
      {"type": "text", "text": "Compare them."}]}]})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("messages").at(0).at("content"), Json(R"([
    {"image": {"format": "jpeg", "source": {"bytes": "/9j/"}}},
    {"document": {"format": "pdf", "name": "Q3 report final",
                  "source": {"bytes": "JVBERi0="}}},
    {"text": "Compare them."}])"));
}

TEST(AnthropicMessagesTest, TranslatesThinkingOfEarlierTurns) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [
      {"role": "user", "content": "Why?"},
      {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Consider it.", "signature": "sig=="},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "Because."}]},
      {"role": "user", "content": "And then?"}]})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("messages").at(1).at("content"), Json(R"([
    {"reasoningContent": {"reasoningText": {"text": "Consider it.", "signature": "sig=="}}},
    {"reasoningContent": {"redactedContent": "opaque"}},
    {"text": "Because."}])"));
}

TEST(AnthropicMessagesTest, MergesConsecutiveMessagesOfOneRole) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [{"role": "user", "content": "First"}, {"role": "user", "content": "Second"}]})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("messages"), Json(R"([
    {"role": "user", "content": [{"text": "First"}, {"text": "Second"}]}])"));
}

TEST(AnthropicMessagesTest, RejectsMissingMaxTokensInBedrockWording) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31",
    "messages": [{"role": "user", "content": "Hi"}]})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "Malformed input request: #: required key [max_tokens] not found, please reformat "
            "your input and try again.");
}

TEST(AnthropicMessagesTest, RejectsMissingAnthropicVersionInBedrockWording) {
  const std::string body = R"({"max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "Malformed input request: #: required key [anthropic_version] not found, please "
            "reformat your input and try again.");
}

TEST(AnthropicMessagesTest, RejectsContentOfWrongTypeWithItsPointer) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [{"role": "user", "content": 7}]})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "Malformed input request: #/messages/0/content: expected type: String, found: "
            "Integer, please reformat your input and try again.");
}

TEST(AnthropicMessagesTest, RejectsUnparseableJson) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": )";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message, "Malformed input request, please reformat your input and try again.");
}

TEST(AnthropicMessagesTest, RejectsAnotherAnthropicVersion) {
  const std::string body = R"({"anthropic_version": "2023-06-01", "max_tokens": 10,
    "messages": [{"role": "user", "content": "Hi"}]})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "Malformed input request: #/anthropic_version: 2023-06-01 is not a valid enum value, "
            "please reformat your input and try again.");
}

TEST(AnthropicMessagesTest, JoinsSeveralViolationsIntoOneMessage) {
  const std::string body = R"({"messages": [{"role": "user", "content": "Hi"}],
    "temperature": 1.5})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "Malformed input request: #: required key [anthropic_version] not found#: required "
            "key [max_tokens] not found#/temperature: 1.5 is not less or equal to 1, please "
            "reformat your input and try again.");
}

TEST(AnthropicMessagesTest, RejectsUnknownBlockTypeAndMissingMembers) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 0,
    "messages": [{"role": "user", "content": [{"type": "video"}, {"type": "text"}]}]})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "Malformed input request: #/max_tokens: 0 is not greater or equal to 1"
            "#/messages/0/content/0/type: video is not a valid enum value"
            "#/messages/0/content/1: required key [text] not found, please reformat your input "
            "and try again.");
}

TEST(AnthropicMessagesTest, AppliesConverseRulesAfterTranslation) {
  const std::string body = R"({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
    "messages": [{"role": "assistant", "content": "I start"}]})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "A conversation must start with a user message. Try again with a conversation that "
            "starts with a user message.");
}

TEST(AnthropicMessagesTest, ReadsRelayedResponseIntoCanonicalForm) {
  const std::string body = R"({"id": "msg_bdrk_01", "type": "message", "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {"q": "x"}}],
    "stop_reason": "tool_use", "stop_sequence": null,
    "usage": {"input_tokens": 12, "output_tokens": 30, "cache_creation_input_tokens": 100,
              "cache_read_input_tokens": 2048}})";

  auto response = ParseResponse(body);

  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->stop_reason, "tool_use");
  EXPECT_EQ(response->usage.input_tokens, 12);
  EXPECT_EQ(response->usage.output_tokens, 30);
  EXPECT_EQ(response->usage.cache_write_input_tokens, 100);
  EXPECT_EQ(response->usage.cache_read_input_tokens, 2048);
  EXPECT_EQ(response->converse.at("output"), Json(R"({"message": {"role": "assistant",
    "content": [{"text": "Checking."},
                {"toolUse": {"toolUseId": "toolu_9", "name": "lookup", "input": {"q": "x"}}}]}})"));
  EXPECT_EQ(response->converse.at("stopReason"), "tool_use");
  EXPECT_EQ(response->native.format, NativeFormat::kAnthropicMessages);
  EXPECT_EQ(response->native.bytes, body);
}

TEST(AnthropicMessagesTest, ReportsRelayedErrorBodyAsModelError) {
  const std::string body =
      R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})";

  auto response = ParseResponse(body);

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kModelError);
  EXPECT_EQ(response.error().message, "Overloaded");
}

TEST(AnthropicMessagesTest, EncodesCanonicalResponseAsClaudeBody) {
  ConverseResponse response;
  response.converse = Json(R"({"output": {"message": {"role": "assistant", "content": [
    {"text": "Sunny."},
    {"toolUse": {"toolUseId": "tooluse_1", "name": "log", "input": {"ok": true}}}]}},
    "stopReason": "tool_use", "usage": {}, "metrics": {"latencyMs": 5}})")
                          .as_object();
  response.stop_reason = "tool_use";
  response.usage = TokenUsage{7, 9, 3, 4};

  const auto body = EncodeResponse(response, kModelId, "msg_bdrk_abc");

  EXPECT_EQ(body,
            R"({"id":"msg_bdrk_abc","type":"message","role":"assistant",)"
            R"("model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Sunny."},)"
            R"({"type":"tool_use","id":"tooluse_1","name":"log","input":{"ok":true}}],)"
            R"("stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":7,)"
            R"("output_tokens":9,"cache_creation_input_tokens":4,"cache_read_input_tokens":3}})");
}

TEST(AnthropicMessagesTest, NamesModelsTheWayAnthropicDoes) {
  const std::string arn =
      "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0";

  const auto from_arn = ModelName(arn);
  const auto from_profile = ModelName("global.anthropic.claude-haiku-4-5-20251001-v1:0");
  const auto from_model = ModelName("anthropic.claude-sonnet-4-20250514-v1:0");
  const auto unrelated = ModelName("my-custom-name");

  EXPECT_EQ(from_arn, "claude-3-haiku-20240307");
  EXPECT_EQ(from_profile, "claude-haiku-4-5-20251001");
  EXPECT_EQ(from_model, "claude-sonnet-4-20250514");
  EXPECT_EQ(unrelated, "my-custom-name");
}

TEST(AnthropicMessagesTest, StreamsTextAnswerInBedrockOrder) {
  StreamTranslator translator(kModelId, "msg_bdrk_1", 25);
  translator.set_first_byte_latency_ms(40);
  std::vector<std::string> out;

  translator.Translate(Event(StreamEventType::kMessageStart, R"({"role":"assistant"})"), out);
  translator.Translate(Event(StreamEventType::kContentBlockDelta,
                             R"({"contentBlockIndex":0,"delta":{"text":"Hel"},"p":"abc"})"),
                       out);
  translator.Translate(Event(StreamEventType::kContentBlockDelta,
                             R"({"contentBlockIndex":0,"delta":{"text":"lo"}})"),
                       out);
  translator.Translate(Event(StreamEventType::kContentBlockStop, R"({"contentBlockIndex":0})"),
                       out);
  translator.Translate(Event(StreamEventType::kMessageStop, R"({"stopReason":"end_turn"})"), out);
  const auto before_metadata = out.size();
  translator.Translate(Event(StreamEventType::kMetadata, R"({"usage":{"inputTokens":21,
    "outputTokens":2,"totalTokens":23},"metrics":{"latencyMs":120}})"),
                       out);

  EXPECT_EQ(before_metadata, 5u);
  EXPECT_TRUE(translator.finished());
  const std::vector<std::string> expected = {
      R"({"type":"message_start","message":{"id":"msg_bdrk_1","type":"message",)"
      R"("role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],)"
      R"("stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,)"
      R"("output_tokens":1}}})",
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}})",
      R"({"type":"content_block_stop","index":0})",
      R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
      R"("usage":{"output_tokens":2}})",
      R"({"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":21,)"
      R"("outputTokenCount":2,"invocationLatency":120,"firstByteLatency":40}})"};
  EXPECT_EQ(out, expected);
}

TEST(AnthropicMessagesTest, StreamsToolUseAnswer) {
  StreamTranslator translator(kModelId, "msg_bdrk_2", 10);
  std::vector<std::string> out;
  const std::vector<StreamEvent> events = {
      Event(StreamEventType::kMessageStart, R"({"role":"assistant"})"),
      Event(StreamEventType::kContentBlockDelta,
            R"({"contentBlockIndex":0,"delta":{"text":"Looking up."}})"),
      Event(StreamEventType::kContentBlockStop, R"({"contentBlockIndex":0})"),
      Event(StreamEventType::kContentBlockStart, R"({"contentBlockIndex":1,
        "start":{"toolUse":{"toolUseId":"tooluse_7","name":"lookup"}}})"),
      Event(StreamEventType::kContentBlockDelta,
            R"({"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"q\":"}}})"),
      Event(StreamEventType::kContentBlockDelta,
            R"({"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"x\"}"}}})"),
      Event(StreamEventType::kContentBlockStop, R"({"contentBlockIndex":1})"),
      Event(StreamEventType::kMessageStop, R"({"stopReason":"tool_use"})"),
      Event(StreamEventType::kMetadata, R"({"usage":{"inputTokens":10,"outputTokens":15,
        "cacheReadInputTokens":4096},"metrics":{"latencyMs":300}})")};

  for (const auto& event : events) {
    translator.Translate(event, out);
  }

  const std::vector<std::string> expected_types = {
      "message_start",       "content_block_start", "content_block_delta", "content_block_stop",
      "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
      "message_delta",       "message_stop"};
  EXPECT_EQ(Types(out), expected_types);
  EXPECT_EQ(Json(out[4]), Json(R"({"type":"content_block_start","index":1,"content_block":
    {"type":"tool_use","id":"tooluse_7","name":"lookup","input":{}}})"));
  EXPECT_EQ(Json(out[5]), Json(R"({"type":"content_block_delta","index":1,
    "delta":{"type":"input_json_delta","partial_json":"{\"q\":"}})"));
  EXPECT_EQ(Json(out[8]).at("delta").at("stop_reason"), "tool_use");
  EXPECT_EQ(Json(out[9]).at("amazon-bedrock-invocationMetrics"),
            Json(R"({"inputTokenCount":10,"outputTokenCount":15,"invocationLatency":300,
                     "firstByteLatency":0,"cacheReadInputTokenCount":4096})"));
}

TEST(AnthropicMessagesTest, StreamsReasoningAsThinkingBlock) {
  StreamTranslator translator(kModelId, "msg_bdrk_5", 10);
  std::vector<std::string> out;

  translator.Translate(Event(StreamEventType::kContentBlockDelta, R"({"contentBlockIndex":0,
    "delta":{"reasoningContent":{"text":"Hmm."}}})"),
                       out);
  translator.Translate(Event(StreamEventType::kContentBlockDelta, R"({"contentBlockIndex":0,
    "delta":{"reasoningContent":{"signature":"c2ln"}}})"),
                       out);

  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(Json(out[1]), Json(R"({"type":"content_block_start","index":0,
    "content_block":{"type":"thinking","thinking":""}})"));
  EXPECT_EQ(Json(out[2]), Json(R"({"type":"content_block_delta","index":0,
    "delta":{"type":"thinking_delta","thinking":"Hmm."}})"));
  EXPECT_EQ(Json(out[3]), Json(R"({"type":"content_block_delta","index":0,
    "delta":{"type":"signature_delta","signature":"c2ln"}})"));
}

TEST(AnthropicMessagesTest, FinishClosesStreamThatEndedEarly) {
  StreamTranslator translator(kModelId, "msg_bdrk_3", 8);
  std::vector<std::string> out;
  translator.Translate(Event(StreamEventType::kContentBlockDelta,
                             R"({"contentBlockIndex":0,"delta":{"text":"Partial"}})"),
                       out);

  translator.Finish(out);
  translator.Finish(out);
  translator.Translate(Event(StreamEventType::kMessageStop, R"({"stopReason":"end_turn"})"), out);

  const std::vector<std::string> expected_types = {"message_start",       "content_block_start",
                                                   "content_block_delta", "content_block_stop",
                                                   "message_delta",       "message_stop"};
  EXPECT_EQ(Types(out), expected_types);
  EXPECT_EQ(Json(out[5]).at("amazon-bedrock-invocationMetrics").at("inputTokenCount"), 8);
}

TEST(AnthropicMessagesTest, FinishWithoutAnyEventEmitsNothing) {
  StreamTranslator translator(kModelId, "msg_bdrk_4", 8);
  std::vector<std::string> out;

  translator.Finish(out);

  EXPECT_TRUE(out.empty());
}

TEST(AnthropicMessagesTest, ReadsUsageFromRelayedStreamWithBedrockMetricsWinning) {
  StreamSummary summary;
  const std::vector<json::value> events = {
      Json(R"({"type":"message_start","message":{"id":"msg_1","type":"message",
        "role":"assistant","model":"claude","content":[],
        "usage":{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":500}}})"),
      Json(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"),
      Json(R"({"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},
        "usage":{"output_tokens":4}})")};

  for (const auto& event : events) {
    ReadStreamUsage(event.as_object(), summary);
  }
  const auto before_metrics = summary.usage;
  ReadStreamUsage(Json(R"({"type":"message_stop","amazon-bedrock-invocationMetrics":{
    "inputTokenCount":11,"outputTokenCount":3,"invocationLatency":50,"firstByteLatency":20,
    "cacheReadInputTokenCount":512}})")
                      .as_object(),
                  summary);

  EXPECT_EQ(before_metrics.input_tokens, 10);
  EXPECT_EQ(before_metrics.output_tokens, 4);
  EXPECT_EQ(before_metrics.cache_read_input_tokens, 500);
  EXPECT_EQ(summary.stop_reason, "max_tokens");
  EXPECT_EQ(summary.usage.input_tokens, 11);
  EXPECT_EQ(summary.usage.output_tokens, 3);
  EXPECT_EQ(summary.usage.cache_read_input_tokens, 512);
  EXPECT_EQ(summary.first_byte_latency_ms, 20);
}

}  // namespace
}  // namespace sluice::core::anthropic
