// ParseResponse, EncodeResponse and ModelName: whole (unstreamed) Anthropic Messages responses,
// and the helpers the stream translator shares with them.

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

#include <boost/json.hpp>

#include "core/anthropic_messages.hpp"
#include "core/converse_json.hpp"
#include "core/invoke_schema.hpp"

namespace sluice::core::anthropic {

namespace {

namespace json = boost::json;
using core::internal::ObjectMember;
using core::internal::ReadCount;
using core::internal::StringMember;
using internal::StopReasonFromAnthropic;
using internal::StopReasonToAnthropic;

// One block of a Converse answer as an Anthropic content block; null for blocks Anthropic has no
// counterpart for (cache points, citation wrappers).
json::value BlockToAnthropic(const json::object& block) {
  if (const auto* text = block.if_contains("text"); text != nullptr && text->is_string()) {
    return json::object{{"type", "text"}, {"text", *text}};
  }
  if (const auto* tool_use = ObjectMember(block, "toolUse")) {
    const auto* input = tool_use->if_contains("input");
    return json::object{{"type", "tool_use"},
                        {"id", StringMember(*tool_use, "toolUseId")},
                        {"name", StringMember(*tool_use, "name")},
                        {"input", input != nullptr ? *input : json::object{}}};
  }
  if (const auto* reasoning = ObjectMember(block, "reasoningContent")) {
    if (const auto* text = ObjectMember(*reasoning, "reasoningText")) {
      return json::object{{"type", "thinking"},
                          {"thinking", StringMember(*text, "text")},
                          {"signature", StringMember(*text, "signature")}};
    }
    return json::object{{"type", "redacted_thinking"},
                        {"data", StringMember(*reasoning, "redactedContent")}};
  }
  return nullptr;
}

json::object BlockFromAnthropic(json::object& block) {
  const std::string_view type = StringMember(block, "type");
  if (type == "tool_use") {
    json::object tool_use{{"toolUseId", StringMember(block, "id")},
                          {"name", StringMember(block, "name")}};
    if (auto* input = block.if_contains("input")) {
      tool_use.emplace("input", std::move(*input));
    }
    return json::object{{"toolUse", std::move(tool_use)}};
  }
  if (type == "thinking") {
    json::object text{{"text", StringMember(block, "thinking")}};
    if (const auto signature = StringMember(block, "signature"); !signature.empty()) {
      text.emplace("signature", signature);
    }
    return json::object{{"reasoningContent", json::object{{"reasoningText", std::move(text)}}}};
  }
  if (type == "redacted_thinking") {
    return json::object{
        {"reasoningContent", json::object{{"redactedContent", StringMember(block, "data")}}}};
  }
  if (auto* text = block.if_contains("text"); text != nullptr && text->is_string()) {
    return json::object{{"text", std::move(text->get_string())}};
  }
  return {};
}

json::object UsageToAnthropic(const TokenUsage& usage) {
  return json::object{{"input_tokens", usage.input_tokens},
                      {"output_tokens", usage.output_tokens},
                      {"cache_creation_input_tokens", usage.cache_write_input_tokens},
                      {"cache_read_input_tokens", usage.cache_read_input_tokens}};
}

}  // namespace

Result<ConverseResponse> ParseResponse(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return Error{ErrorCode::kInternalServer, "The upstream answered with a malformed body."};
  }
  auto& message = parsed.get_object();
  if (StringMember(message, "type") == "error") {
    const auto* error = ObjectMember(message, "error");
    return Error{ErrorCode::kModelError,
                 std::string(error != nullptr ? StringMember(*error, "message") : "")};
  }

  json::array content;
  if (auto* blocks = message.if_contains("content"); blocks != nullptr && blocks->is_array()) {
    for (auto& block : blocks->get_array()) {
      if (block.is_object()) {
        if (auto converted = BlockFromAnthropic(block.get_object()); !converted.empty()) {
          content.emplace_back(std::move(converted));
        }
      }
    }
  }

  ConverseResponse response;
  if (const auto* usage = ObjectMember(message, "usage")) {
    response.usage.input_tokens = ReadCount(*usage, "input_tokens");
    response.usage.output_tokens = ReadCount(*usage, "output_tokens");
    response.usage.cache_read_input_tokens = ReadCount(*usage, "cache_read_input_tokens");
    response.usage.cache_write_input_tokens = ReadCount(*usage, "cache_creation_input_tokens");
  }
  response.stop_reason = StopReasonFromAnthropic(StringMember(message, "stop_reason"));
  // The relayed body carries no latency; the front door measures its own.
  response.converse =
      MakeConverseResponseBody(std::move(content), response.stop_reason, response.usage, 0);
  if (const auto stop_sequence = StringMember(message, "stop_sequence"); !stop_sequence.empty()) {
    response.converse.emplace("additionalModelResponseFields",
                              json::object{{"stop_sequence", stop_sequence}});
  }
  response.native = NativeBody{NativeFormat::kAnthropicMessages, std::string(body)};
  return response;
}

std::string EncodeResponse(const ConverseResponse& response, std::string_view model_id,
                           std::string_view message_id) {
  json::array content;
  const auto* output = ObjectMember(response.converse, "output");
  const auto* message = output != nullptr ? ObjectMember(*output, "message") : nullptr;
  const auto* blocks = message != nullptr ? message->if_contains("content") : nullptr;
  if (blocks != nullptr && blocks->is_array()) {
    for (const auto& block : blocks->get_array()) {
      if (!block.is_object()) {
        continue;
      }
      if (auto converted = BlockToAnthropic(block.get_object()); !converted.is_null()) {
        content.push_back(std::move(converted));
      }
    }
  }

  // Converse reports the matched stop sequence only when the caller asked for it through
  // additionalModelResponseFieldPaths; otherwise Anthropic's member stays null.
  json::value stop_sequence = nullptr;
  if (const auto* fields = ObjectMember(response.converse, "additionalModelResponseFields")) {
    if (const auto text = StringMember(*fields, "stop_sequence"); !text.empty()) {
      stop_sequence = text;
    }
  }

  const json::object body{{"id", message_id},
                          {"type", "message"},
                          {"role", "assistant"},
                          {"model", ModelName(model_id)},
                          {"content", std::move(content)},
                          {"stop_reason", StopReasonToAnthropic(response.stop_reason)},
                          {"stop_sequence", std::move(stop_sequence)},
                          {"usage", UsageToAnthropic(response.usage)}};
  return json::serialize(body);
}

std::string ModelName(std::string_view model_id) {
  // An ARN names the model or profile after its last slash.
  if (const auto slash = model_id.rfind('/'); slash != std::string_view::npos) {
    model_id.remove_prefix(slash + 1);
  }
  // `anthropic.` follows an optional geography prefix such as `us.` or `global.`.
  constexpr std::string_view kProvider = "anthropic.";
  if (const auto provider = model_id.find(kProvider); provider != std::string_view::npos) {
    model_id.remove_prefix(provider + kProvider.size());
  }
  // The Bedrock version suffix: `-v<major>:<minor>`.
  const auto all_digits = [](std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
  };
  const auto colon = model_id.rfind(':');
  const auto dash = model_id.rfind("-v");
  if (colon != std::string_view::npos && dash != std::string_view::npos && dash < colon &&
      all_digits(model_id.substr(dash + 2, colon - dash - 2)) &&
      all_digits(model_id.substr(colon + 1))) {
    model_id = model_id.substr(0, dash);
  }
  return std::string(model_id);
}

namespace internal {

std::string_view StopReasonToAnthropic(std::string_view reason) {
  if (reason == "tool_use" || reason == "max_tokens" || reason == "stop_sequence" ||
      reason == "model_context_window_exceeded") {
    return reason;
  }
  if (reason == "content_filtered") {
    return "refusal";
  }
  // end_turn, and reasons Anthropic has no name for (a guardrail's intervention arrives as the
  // guardrail's text, which ends the turn).
  return "end_turn";
}

std::string StopReasonFromAnthropic(std::string_view reason) {
  if (reason == "refusal") {
    return "content_filtered";
  }
  if (reason == "pause_turn") {
    return "end_turn";
  }
  return std::string(reason);
}

}  // namespace internal

}  // namespace sluice::core::anthropic
