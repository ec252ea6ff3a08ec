#include "core/nova_messages.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sluice::core::nova {
namespace {

namespace json = boost::json;

json::value Json(std::string_view text) {
  return json::parse(text);
}

Result<ConverseRequest> Parse(std::string_view body) {
  return ParseInvokeBody(body, Operation::kInvokeModel, "us.amazon.nova-pro-v1:0");
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

TEST(NovaMessagesTest, TranslatesBodyIntoConverseMembers) {
  const std::string body = R"({"schemaVersion": "messages-v1",
    "system": [{"text": "Be brief."}],
    "messages": [{"role": "user", "content": [{"text": "Hello"}]}],
    "inferenceConfig": {"max_new_tokens": 300, "temperature": 0.7, "top_p": 0.9, "top_k": 50,
                        "stopSequences": ["END"]}})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->model_id, "us.amazon.nova-pro-v1:0");
  EXPECT_EQ(request->max_tokens, 300);
  EXPECT_EQ(json::value(request->converse), Json(R"({
    "messages": [{"role": "user", "content": [{"text": "Hello"}]}],
    "system": [{"text": "Be brief."}],
    "inferenceConfig": {"maxTokens": 300, "temperature": 0.7, "topP": 0.9,
                        "stopSequences": ["END"]},
    "additionalModelRequestFields": {"inferenceConfig": {"topK": 50}}})"));
  EXPECT_EQ(request->native.format, NativeFormat::kNova);
  EXPECT_EQ(request->native.bytes, body);
}

TEST(NovaMessagesTest, AcceptsConverseStyleInferenceNames) {
  const std::string body = R"({"messages": [{"role": "user", "content": [{"text": "Hi"}]}],
    "inferenceConfig": {"maxTokens": 64, "topP": 0.5, "topK": 5}})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->max_tokens, 64);
  EXPECT_EQ(request->converse.at("inferenceConfig"), Json(R"({"maxTokens": 64, "topP": 0.5})"));
  EXPECT_EQ(request->converse.at("additionalModelRequestFields"),
            Json(R"({"inferenceConfig": {"topK": 5}})"));
}

TEST(NovaMessagesTest, PassesUnknownMembersToTheModel) {
  const std::string body = R"({"messages": [{"role": "user", "content": [{"text": "Hi"}]}],
    "inferenceConfig": {"max_new_tokens": 10, "reasoningEffort": "low"},
    "reasoningConfig": {"type": "enabled"}})";

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("additionalModelRequestFields"), Json(R"({
    "inferenceConfig": {"reasoningEffort": "low"}, "reasoningConfig": {"type": "enabled"}})"));
}

TEST(NovaMessagesTest, KeepsToolsToolResultsImagesAndCachePoints) {
  const std::string body = R"({
    "system": [{"text": "Rules"}, {"cachePoint": {"type": "default"}}],
    "messages": [
      {"role": "user", "content": [
        {"image": {"format": "png", "source": {"bytes": "iVBORw0K"}}},
        {"text": "Add 2 and 3"}]},
      {"role": "assistant", "content": [
        {"toolUse": {"toolUseId": "t1", "name": "add", "input": {"a": 2, "b": 3}}}]},
      {"role": "user", "content": [
        {"toolResult": {"toolUseId": "t1", "content": [{"json": {"sum": 5}}]}}]}],
    "toolConfig": {"tools": [{"toolSpec": {"name": "add",
                                           "inputSchema": {"json": {"type": "object"}}}}],
                   "toolChoice": {"auto": {}}}})";
  const auto expected = Json(body);

  auto request = Parse(body);

  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->converse.at("system"), expected.at("system"));
  EXPECT_EQ(request->converse.at("messages"), expected.at("messages"));
  EXPECT_EQ(request->converse.at("toolConfig"), expected.at("toolConfig"));
  EXPECT_FALSE(request->max_tokens.has_value());
}

TEST(NovaMessagesTest, RejectsStringContentInBedrockWording) {
  const std::string body = R"({"messages": [{"role": "user", "content": "Hello"}]})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "Malformed input request: #/messages/0/content: expected type: JSONArray, found: "
            "String, please reformat your input and try again.");
}

TEST(NovaMessagesTest, RejectsClaudeStyleBlocksAsExtraneousKeys) {
  const std::string body = R"({"messages": [{"role": "user", "content": [
    {"text": "Look"}, {"type": "image", "source": {}}]}]})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "Malformed input request: #/messages/0/content/1: extraneous key [type] is not "
            "permitted#/messages/0/content/1: extraneous key [source] is not permitted, please "
            "reformat your input and try again.");
}

TEST(NovaMessagesTest, RejectsMissingRoleAndMissingMessages) {
  const std::string without_role = R"({"messages": [{"content": [{"text": "Hi"}]}]})";
  const std::string without_messages = R"({"inferenceConfig": {"max_new_tokens": 10}})";

  const auto role_message = ErrorMessage(without_role);
  const auto messages_message = ErrorMessage(without_messages);

  EXPECT_EQ(role_message,
            "Malformed input request: #/messages/0: required key [role] not found, please "
            "reformat your input and try again.");
  EXPECT_EQ(messages_message,
            "Malformed input request: #: required key [messages] not found, please reformat "
            "your input and try again.");
}

TEST(NovaMessagesTest, RejectsWrongTypesInInferenceConfig) {
  const std::string body = R"({"messages": [{"role": "user", "content": [{"text": "Hi"}]}],
    "inferenceConfig": {"max_new_tokens": "many", "temperature": null}})";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message,
            "Malformed input request: #/inferenceConfig/max_new_tokens: expected type: Integer, "
            "found: String#/inferenceConfig/temperature: expected type: Number, found: Null, "
            "please reformat your input and try again.");
}

TEST(NovaMessagesTest, RejectsUnparseableJson) {
  const std::string body = "[not json";

  const auto message = ErrorMessage(body);

  EXPECT_EQ(message, "Malformed input request, please reformat your input and try again.");
}

TEST(NovaMessagesTest, ReadsRelayedResponseIntoCanonicalForm) {
  const std::string body = R"({"output": {"message": {"role": "assistant",
    "content": [{"text": "Hi there."}]}}, "stopReason": "end_turn",
    "usage": {"inputTokens": 20, "outputTokens": 4, "totalTokens": 24,
              "cacheReadInputTokenCount": 1500, "cacheWriteInputTokenCount": 0}})";

  auto response = ParseResponse(body);

  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->stop_reason, "end_turn");
  EXPECT_EQ(response->usage.input_tokens, 20);
  EXPECT_EQ(response->usage.output_tokens, 4);
  EXPECT_EQ(response->usage.cache_read_input_tokens, 1500);
  EXPECT_EQ(response->converse.at("output"),
            Json(R"({"message": {"role": "assistant", "content": [{"text": "Hi there."}]}})"));
  EXPECT_EQ(response->converse.at("usage").at("cacheReadInputTokens"), 1500);
  EXPECT_EQ(response->native.format, NativeFormat::kNova);
  EXPECT_EQ(response->native.bytes, body);
}

TEST(NovaMessagesTest, RefusesResponseWithoutOutput) {
  const std::string body = R"({"message": "Internal error"})";

  auto response = ParseResponse(body);

  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kInternalServer);
}

TEST(NovaMessagesTest, EncodesCanonicalResponseAsNovaBody) {
  ConverseResponse response;
  response.converse = Json(R"({"output": {"message": {"role": "assistant", "content": [
    {"text": "Done."}, {"toolUse": {"toolUseId": "t2", "name": "f", "input": {}}}]}},
    "stopReason": "tool_use", "usage": {}, "metrics": {"latencyMs": 5}})")
                          .as_object();
  response.stop_reason = "tool_use";
  response.usage = TokenUsage{7, 9, 3, 4};

  const auto body = EncodeResponse(response);

  EXPECT_EQ(body,
            R"({"output":{"message":{"role":"assistant","content":[{"text":"Done."},)"
            R"({"toolUse":{"toolUseId":"t2","name":"f","input":{}}}]}},"stopReason":"tool_use",)"
            R"("usage":{"inputTokens":7,"outputTokens":9,"totalTokens":16,)"
            R"("cacheReadInputTokenCount":3,"cacheWriteInputTokenCount":4}})");
}

TEST(NovaMessagesTest, StreamsConverseEventsAsNovaChunks) {
  StreamTranslator translator(30);
  translator.set_first_byte_latency_ms(45);
  std::vector<std::string> out;
  const std::vector<StreamEvent> events = {
      Event(StreamEventType::kMessageStart, R"({"role":"assistant","p":"abcdef"})"),
      Event(StreamEventType::kContentBlockDelta,
            R"({"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"ab"})"),
      Event(StreamEventType::kContentBlockStop, R"({"contentBlockIndex":0})"),
      Event(StreamEventType::kMessageStop, R"({"stopReason":"end_turn"})"),
      Event(StreamEventType::kMetadata, R"({"usage":{"inputTokens":12,"outputTokens":2,
        "totalTokens":14},"metrics":{"latencyMs":200}})")};

  for (const auto& event : events) {
    translator.Translate(event, out);
  }

  const std::vector<std::string> expected = {
      R"({"messageStart":{"role":"assistant"}})",
      R"({"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"Hi"}}})",
      R"({"contentBlockStop":{"contentBlockIndex":0}})",
      R"({"messageStop":{"stopReason":"end_turn"}})",
      R"({"metadata":{"usage":{"inputTokens":12,"outputTokens":2},"metrics":{},"trace":{}},)"
      R"("amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":2,)"
      R"("invocationLatency":200,"firstByteLatency":45}})"};
  EXPECT_EQ(out, expected);
  EXPECT_TRUE(translator.finished());
}

TEST(NovaMessagesTest, StreamsToolUseStartAndInputFragments) {
  StreamTranslator translator(30);
  std::vector<std::string> out;

  translator.Translate(Event(StreamEventType::kContentBlockStart, R"({"contentBlockIndex":0,
    "start":{"toolUse":{"toolUseId":"t9","name":"f"}}})"),
                       out);
  translator.Translate(Event(StreamEventType::kContentBlockDelta,
                             R"({"contentBlockIndex":0,"delta":{"toolUse":{"input":"{}"}}})"),
                       out);

  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], R"({"messageStart":{"role":"assistant"}})");
  EXPECT_EQ(Json(out[1]), Json(R"({"contentBlockStart":{"contentBlockIndex":0,
    "start":{"toolUse":{"toolUseId":"t9","name":"f"}}}})"));
  EXPECT_EQ(Json(out[2]), Json(R"({"contentBlockDelta":{"contentBlockIndex":0,
    "delta":{"toolUse":{"input":"{}"}}}})"));
}

TEST(NovaMessagesTest, FinishClosesStreamThatEndedEarly) {
  StreamTranslator translator(30);
  std::vector<std::string> out;
  translator.Translate(Event(StreamEventType::kMessageStart, R"({"role":"assistant"})"), out);
  translator.Translate(Event(StreamEventType::kContentBlockDelta,
                             R"({"contentBlockIndex":0,"delta":{"text":"Par"}})"),
                       out);

  translator.Finish(out);
  translator.Finish(out);

  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[2], R"({"contentBlockStop":{"contentBlockIndex":0}})");
  EXPECT_EQ(out[3], R"({"messageStop":{"stopReason":"end_turn"}})");
  EXPECT_EQ(Json(out[4]).at("amazon-bedrock-invocationMetrics").at("inputTokenCount"), 30);
}

TEST(NovaMessagesTest, ReadsUsageFromRelayedStreamWithBedrockMetricsWinning) {
  StreamSummary summary;
  ReadStreamUsage(Json(R"({"messageStop":{"stopReason":"max_tokens"}})").as_object(), summary);
  ReadStreamUsage(Json(R"({"metadata":{"usage":{"inputTokens":9,"outputTokens":3,
    "cacheWriteInputTokenCount":100},"metrics":{},"trace":{}}})")
                      .as_object(),
                  summary);
  const auto before_metrics = summary.usage;

  ReadStreamUsage(Json(R"({"metadata":{"usage":{"inputTokens":9,"outputTokens":3}},
    "amazon-bedrock-invocationMetrics":{"inputTokenCount":10,"outputTokenCount":4,
    "invocationLatency":80,"firstByteLatency":30,"cacheWriteInputTokenCount":100}})")
                      .as_object(),
                  summary);

  EXPECT_EQ(before_metrics.input_tokens, 9);
  EXPECT_EQ(before_metrics.cache_write_input_tokens, 100);
  EXPECT_EQ(summary.stop_reason, "max_tokens");
  EXPECT_EQ(summary.usage.input_tokens, 10);
  EXPECT_EQ(summary.usage.output_tokens, 4);
  EXPECT_EQ(summary.usage.cache_write_input_tokens, 100);
  EXPECT_EQ(summary.first_byte_latency_ms, 30);
}

}  // namespace
}  // namespace sluice::core::nova
