#include "core/nova_messages.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/converse_json.hpp"
#include "core/invoke_schema.hpp"

namespace sluice::core::nova {

namespace {

namespace json = boost::json;
using core::internal::Expect;
using core::internal::kMalformedMessage;
using core::internal::ObjectMember;
using core::internal::Pointer;
using core::internal::ReadCount;
using core::internal::StringMember;
using core::internal::Violations;

// The only schema version Nova defines; the member may be left out.
constexpr std::string_view kSchemaVersion = "messages-v1";

// Members a Nova message content block may have (it is a union, like Converse's).
constexpr std::array kContentMembers = {"text",    "image",      "video",      "document",
                                        "toolUse", "toolResult", "cachePoint", "reasoningContent"};

constexpr std::array kSystemMembers = {"text", "cachePoint"};

template <std::size_t N>
bool IsMember(std::string_view key, const std::array<const char*, N>& members) {
  return std::find(members.begin(), members.end(), key) != members.end();
}

// Checks that every element of `blocks` is an object holding only `members`.
template <std::size_t N>
void CheckBlocks(const json::array& blocks, const Pointer& at,
                 const std::array<const char*, N>& members, Violations& violations) {
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const Pointer block_at = at.Index(i);
    if (!blocks[i].is_object()) {
      violations.WrongType(block_at, Expect::kObject, blocks[i]);
      continue;
    }
    for (const auto& member : blocks[i].get_object()) {
      if (!IsMember(member.key(), members)) {
        violations.Add(block_at, fmt::format("extraneous key [{}] is not permitted",
                                             std::string_view(member.key())));
      }
    }
  }
}

void CheckMessages(const json::value& messages, const Pointer& at, Violations& violations) {
  if (!violations.CheckType(at, Expect::kArray, messages)) {
    return;
  }
  const auto& list = messages.get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Pointer message_at = at.Index(i);
    if (!violations.CheckType(message_at, Expect::kObject, list[i])) {
      continue;
    }
    const auto& message = list[i].get_object();
    if (const auto* role = message.if_contains("role"); role == nullptr) {
      violations.MissingKey(message_at, "role");
    } else if (violations.CheckType(message_at.Key("role"), Expect::kString, *role) &&
               role->get_string() != "user" && role->get_string() != "assistant") {
      violations.NotInEnum(message_at.Key("role"), role->get_string());
    }
    if (const auto* content = message.if_contains("content"); content == nullptr) {
      violations.MissingKey(message_at, "content");
    } else if (violations.CheckType(message_at.Key("content"), Expect::kArray, *content)) {
      CheckBlocks(content->get_array(), message_at.Key("content"), kContentMembers, violations);
    }
  }
}

// Renames Nova's inference members to Converse's. Members Converse has no place for (top_k,
// and whatever Nova adds) are returned for additionalModelRequestFields.inferenceConfig, where
// Bedrock's Converse reads them for Nova.
json::object ReadInferenceConfig(json::object& config, const Pointer& at, json::object& inference,
                                 Violations& violations) {
  json::object extra;
  for (auto& member : config) {
    const std::string_view key = member.key();
    auto& value = member.value();
    const Pointer value_at = at.Key(key);
    if (key == "max_new_tokens" || key == "maxTokens") {
      if (violations.CheckType(value_at, Expect::kInteger, value)) {
        inference["maxTokens"] = value;
      }
    } else if (key == "temperature") {
      if (violations.CheckType(value_at, Expect::kNumber, value)) {
        inference["temperature"] = value;
      }
    } else if (key == "top_p" || key == "topP") {
      if (violations.CheckType(value_at, Expect::kNumber, value)) {
        inference["topP"] = value;
      }
    } else if (key == "stopSequences") {
      if (violations.CheckType(value_at, Expect::kArray, value)) {
        inference["stopSequences"] = std::move(value);
      }
    } else if (key == "top_k" || key == "topK") {
      if (violations.CheckType(value_at, Expect::kInteger, value)) {
        extra["topK"] = value;
      }
    } else {
      extra.emplace(key, std::move(value));
    }
  }
  return extra;
}

json::object ReadBody(json::object& body, Violations& violations) {
  const Pointer root;
  if (const auto* version = body.if_contains("schemaVersion");
      version != nullptr &&
      violations.CheckType(root.Key("schemaVersion"), Expect::kString, *version) &&
      version->get_string() != kSchemaVersion) {
    violations.NotInEnum(root.Key("schemaVersion"), version->get_string());
  }
  auto* messages = body.if_contains("messages");
  if (messages == nullptr) {
    violations.MissingKey(root, "messages");
  } else {
    CheckMessages(*messages, root.Key("messages"), violations);
  }
  auto* system = body.if_contains("system");
  if (system != nullptr && violations.CheckType(root.Key("system"), Expect::kArray, *system)) {
    CheckBlocks(system->get_array(), root.Key("system"), kSystemMembers, violations);
  }
  auto* tool_config = body.if_contains("toolConfig");
  if (tool_config != nullptr &&
      !violations.CheckType(root.Key("toolConfig"), Expect::kObject, *tool_config)) {
    tool_config = nullptr;
  }

  // Nova's messages, system blocks and tools already have Converse's shape, so they move over
  // whole; only the inference settings are renamed.
  json::object converse;
  if (messages != nullptr) {
    converse.emplace("messages", std::move(*messages));
  }
  if (system != nullptr) {
    converse.emplace("system", std::move(*system));
  }
  json::object inference;
  json::object additional;
  if (auto* config = body.if_contains("inferenceConfig");
      config != nullptr &&
      violations.CheckType(root.Key("inferenceConfig"), Expect::kObject, *config)) {
    if (auto extra = ReadInferenceConfig(config->get_object(), root.Key("inferenceConfig"),
                                         inference, violations);
        !extra.empty()) {
      additional.emplace("inferenceConfig", std::move(extra));
    }
  }
  if (!inference.empty()) {
    converse.emplace("inferenceConfig", std::move(inference));
  }
  if (tool_config != nullptr) {
    converse.emplace("toolConfig", std::move(*tool_config));
  }

  for (auto& member : body) {
    const std::string_view key = member.key();
    const bool translated = key == "schemaVersion" || key == "messages" || key == "system" ||
                            key == "inferenceConfig" || key == "toolConfig";
    if (!translated) {
      additional.emplace(key, std::move(member.value()));
    }
  }
  if (!additional.empty()) {
    converse.emplace("additionalModelRequestFields", std::move(additional));
  }
  return converse;
}

// Nova's usage object: Converse's counts with Nova's names for the cache members.
TokenUsage ReadNovaUsage(const json::object& usage) {
  TokenUsage result;
  result.input_tokens = ReadCount(usage, "inputTokens");
  result.output_tokens = ReadCount(usage, "outputTokens");
  result.cache_read_input_tokens = ReadCount(usage, "cacheReadInputTokenCount");
  result.cache_write_input_tokens = ReadCount(usage, "cacheWriteInputTokenCount");
  return result;
}

// `{"<event>":<payload>}` without copying the payload, minus the `p` padding member Bedrock's
// ConverseStream adds; InvokeModelWithResponseStream pads the outer chunk instead.
std::string Chunk(std::string_view event, const json::object& payload) {
  std::string text = "{\"";
  text += event;
  text += "\":";
  if (payload.contains("p")) {
    json::object trimmed = payload;
    trimmed.erase("p");
    text += json::serialize(trimmed);
  } else {
    text += json::serialize(payload);
  }
  text += '}';
  return text;
}

}  // namespace

Result<ConverseRequest> ParseInvokeBody(std::string_view body, Operation operation,
                                        std::string model_id) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return Error{ErrorCode::kValidation, std::string(kMalformedMessage)};
  }

  Violations violations;
  json::object converse = ReadBody(parsed.get_object(), violations);
  if (!violations.empty()) {
    return violations.ToError();
  }

  ConverseRequest request;
  request.operation = operation;
  request.model_id = std::move(model_id);
  request.converse = std::move(converse);
  if (const auto* config = ObjectMember(request.converse, "inferenceConfig")) {
    if (const auto* max_tokens = config->if_contains("maxTokens");
        max_tokens != nullptr && max_tokens->is_int64()) {
      request.max_tokens = max_tokens->get_int64();
    }
  }
  request.native = NativeBody{NativeFormat::kNova, std::string(body)};

  auto valid = ValidateConverseBody(request.converse);
  if (!valid) {
    return valid.error();
  }
  return request;
}

Result<ConverseResponse> ParseResponse(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  auto* root = parsed.if_object();
  auto* output = root != nullptr ? root->if_contains("output") : nullptr;
  if (ec || output == nullptr || !output->is_object()) {
    return Error{ErrorCode::kInternalServer, "The upstream answered with a malformed body."};
  }

  json::array content;
  if (auto* message = output->get_object().if_contains("message");
      message != nullptr && message->is_object()) {
    if (auto* blocks = message->get_object().if_contains("content");
        blocks != nullptr && blocks->is_array()) {
      content = std::move(blocks->get_array());
    }
  }

  ConverseResponse response;
  if (const auto* usage = ObjectMember(*root, "usage")) {
    response.usage = ReadNovaUsage(*usage);
  }
  response.stop_reason = std::string(StringMember(*root, "stopReason"));
  // The relayed body carries no latency; the front door measures its own.
  response.converse =
      MakeConverseResponseBody(std::move(content), response.stop_reason, response.usage, 0);
  response.native = NativeBody{NativeFormat::kNova, std::string(body)};
  return response;
}

std::string EncodeResponse(const ConverseResponse& response) {
  const auto* output = ObjectMember(response.converse, "output");
  const auto* message = output != nullptr ? ObjectMember(*output, "message") : nullptr;
  const auto* content = message != nullptr ? message->if_contains("content") : nullptr;

  const auto& usage = response.usage;
  const json::object nova_usage{{"inputTokens", usage.input_tokens},
                                {"outputTokens", usage.output_tokens},
                                {"totalTokens", usage.total_tokens()},
                                {"cacheReadInputTokenCount", usage.cache_read_input_tokens},
                                {"cacheWriteInputTokenCount", usage.cache_write_input_tokens}};

  // Converse content blocks are Nova content blocks, so the content is written straight from
  // the canonical body rather than copied into a new document first.
  std::string body = R"({"output":{"message":{"role":"assistant","content":)";
  body += content != nullptr && content->is_array() ? json::serialize(*content) : "[]";
  body += R"(}},"stopReason":)";
  body += json::serialize(
      json::string(response.stop_reason.empty() ? "end_turn" : response.stop_reason));
  body += R"(,"usage":)";
  body += json::serialize(nova_usage);
  body += '}';
  return body;
}

StreamTranslator::StreamTranslator(std::int64_t estimated_input_tokens)
    : estimated_input_tokens_(estimated_input_tokens) {}

void StreamTranslator::Translate(const StreamEvent& event, std::vector<std::string>& out) {
  if (finished_ || event.type == StreamEventType::kNativeChunk) {
    return;
  }
  if (!started_) {
    started_ = true;
    if (event.type != StreamEventType::kMessageStart) {
      out.push_back(R"({"messageStart":{"role":"assistant"}})");
    }
  }

  const auto index = ReadCount(event.payload, "contentBlockIndex");
  const auto open = std::find(open_blocks_.begin(), open_blocks_.end(), index);
  switch (event.type) {
    case StreamEventType::kContentBlockStart:
    case StreamEventType::kContentBlockDelta:
      if (open == open_blocks_.end()) {
        open_blocks_.push_back(index);
      }
      break;
    case StreamEventType::kContentBlockStop:
      if (open != open_blocks_.end()) {
        open_blocks_.erase(open);
      }
      break;
    case StreamEventType::kMessageStop:
      stopped_ = true;
      break;
    case StreamEventType::kMetadata: {
      if (!stopped_) {
        out.push_back(R"({"messageStop":{"stopReason":"end_turn"}})");
        stopped_ = true;
      }
      const auto* usage = ObjectMember(event.payload, "usage");
      const auto* metrics = ObjectMember(event.payload, "metrics");
      EmitMetadata(usage != nullptr ? ReadUsage(*usage) : TokenUsage{},
                   metrics != nullptr ? ReadCount(*metrics, "latencyMs") : 0, out);
      return;
    }
    case StreamEventType::kMessageStart:
    case StreamEventType::kNativeChunk:
      break;
  }
  out.push_back(Chunk(StreamEventName(event.type), event.payload));
}

void StreamTranslator::Finish(std::vector<std::string>& out) {
  if (!started_ || finished_) {
    return;
  }
  for (const auto index : open_blocks_) {
    out.push_back(json::serialize(
        json::object{{"contentBlockStop", json::object{{"contentBlockIndex", index}}}}));
  }
  open_blocks_.clear();
  if (!stopped_) {
    out.push_back(R"({"messageStop":{"stopReason":"end_turn"}})");
    stopped_ = true;
  }
  TokenUsage usage;
  usage.input_tokens = estimated_input_tokens_;
  EmitMetadata(usage, 0, out);
}

void StreamTranslator::EmitMetadata(const TokenUsage& usage, std::int64_t latency_ms,
                                    std::vector<std::string>& out) {
  finished_ = true;
  json::object nova_usage{{"inputTokens", usage.input_tokens},
                          {"outputTokens", usage.output_tokens}};
  json::object metrics{{"inputTokenCount", usage.input_tokens},
                       {"outputTokenCount", usage.output_tokens},
                       {"invocationLatency", latency_ms},
                       {"firstByteLatency", first_byte_latency_ms_}};
  if (usage.cache_read_input_tokens > 0) {
    nova_usage.emplace("cacheReadInputTokenCount", usage.cache_read_input_tokens);
    metrics.emplace("cacheReadInputTokenCount", usage.cache_read_input_tokens);
  }
  if (usage.cache_write_input_tokens > 0) {
    nova_usage.emplace("cacheWriteInputTokenCount", usage.cache_write_input_tokens);
    metrics.emplace("cacheWriteInputTokenCount", usage.cache_write_input_tokens);
  }
  const json::object chunk{{"metadata", json::object{{"usage", std::move(nova_usage)},
                                                     {"metrics", json::object{}},
                                                     {"trace", json::object{}}}},
                           {"amazon-bedrock-invocationMetrics", std::move(metrics)}};
  out.push_back(json::serialize(chunk));
}

void ReadStreamUsage(const json::object& native_event, StreamSummary& summary) {
  if (const auto* stop = ObjectMember(native_event, "messageStop")) {
    if (const auto reason = StringMember(*stop, "stopReason"); !reason.empty()) {
      summary.stop_reason = std::string(reason);
    }
  }
  if (const auto* metadata = ObjectMember(native_event, "metadata")) {
    if (const auto* usage = ObjectMember(*metadata, "usage")) {
      summary.usage = ReadNovaUsage(*usage);
    }
  }

  // Bedrock's own counts are what it bills and logs, so they replace the model's.
  if (const auto* metrics = ObjectMember(native_event, "amazon-bedrock-invocationMetrics")) {
    summary.usage.input_tokens = ReadCount(*metrics, "inputTokenCount");
    summary.usage.output_tokens = ReadCount(*metrics, "outputTokenCount");
    summary.usage.cache_read_input_tokens = ReadCount(*metrics, "cacheReadInputTokenCount");
    summary.usage.cache_write_input_tokens = ReadCount(*metrics, "cacheWriteInputTokenCount");
    summary.first_byte_latency_ms = ReadCount(*metrics, "firstByteLatency");
  }
}

}  // namespace sluice::core::nova
