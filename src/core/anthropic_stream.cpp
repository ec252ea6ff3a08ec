// StreamTranslator and ReadStreamUsage: the events of InvokeModelWithResponseStream for Claude.

#include <algorithm>
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

json::object InvocationMetrics(const TokenUsage& usage, std::int64_t latency_ms,
                               std::int64_t first_byte_latency_ms) {
  json::object metrics{{"inputTokenCount", usage.input_tokens},
                       {"outputTokenCount", usage.output_tokens},
                       {"invocationLatency", latency_ms},
                       {"firstByteLatency", first_byte_latency_ms}};
  if (usage.cache_read_input_tokens > 0) {
    metrics.emplace("cacheReadInputTokenCount", usage.cache_read_input_tokens);
  }
  if (usage.cache_write_input_tokens > 0) {
    metrics.emplace("cacheWriteInputTokenCount", usage.cache_write_input_tokens);
  }
  return metrics;
}

void Emit(const json::object& event, std::vector<std::string>& out) {
  out.push_back(json::serialize(event));
}

std::int64_t BlockIndex(const json::object& payload) {
  return ReadCount(payload, "contentBlockIndex");
}

}  // namespace

StreamTranslator::StreamTranslator(std::string_view model_id, std::string message_id,
                                   std::int64_t estimated_input_tokens)
    : model_(ModelName(model_id)),
      message_id_(std::move(message_id)),
      estimated_input_tokens_(estimated_input_tokens) {}

void StreamTranslator::Translate(const StreamEvent& event, std::vector<std::string>& out) {
  if (finished_ || event.type == StreamEventType::kNativeChunk) {
    return;
  }
  if (!started_) {
    StartMessage(out);
  }

  switch (event.type) {
    case StreamEventType::kMessageStart:
      break;  // message_start went out above, on whichever event came first
    case StreamEventType::kContentBlockStart:
      OnBlockStart(event.payload, out);
      break;
    case StreamEventType::kContentBlockDelta:
      OnBlockDelta(event.payload, out);
      break;
    case StreamEventType::kContentBlockStop:
      OnBlockStop(event.payload, out);
      break;
    case StreamEventType::kMessageStop:
      OnMessageStop(event.payload, out);
      break;
    case StreamEventType::kMetadata: {
      CloseOpenBlocks(out);
      const auto* usage = ObjectMember(event.payload, "usage");
      const auto* metrics = ObjectMember(event.payload, "metrics");
      EndMessage(usage != nullptr ? ReadUsage(*usage) : TokenUsage{},
                 metrics != nullptr ? ReadCount(*metrics, "latencyMs") : 0, out);
      break;
    }
    case StreamEventType::kNativeChunk:
      break;
  }
}

void StreamTranslator::Finish(std::vector<std::string>& out) {
  if (!started_ || finished_) {
    return;
  }
  CloseOpenBlocks(out);
  TokenUsage usage;
  usage.input_tokens = estimated_input_tokens_;
  EndMessage(usage, 0, out);
}

void StreamTranslator::StartMessage(std::vector<std::string>& out) {
  started_ = true;
  // Anthropic counts the first generated token in message_start; Bedrock relays that as 1.
  const json::object message{
      {"id", message_id_},
      {"type", "message"},
      {"role", "assistant"},
      {"model", model_},
      {"content", json::array{}},
      {"stop_reason", nullptr},
      {"stop_sequence", nullptr},
      {"usage", json::object{{"input_tokens", estimated_input_tokens_}, {"output_tokens", 1}}}};
  Emit(json::object{{"type", "message_start"}, {"message", message}}, out);
}

void StreamTranslator::OpenBlock(std::int64_t index, json::object content_block,
                                 std::vector<std::string>& out) {
  open_blocks_.push_back(index);
  highest_started_ = std::max(highest_started_, index);
  Emit(json::object{{"type", "content_block_start"},
                    {"index", index},
                    {"content_block", std::move(content_block)}},
       out);
}

bool StreamTranslator::IsOpen(std::int64_t index) const {
  return std::find(open_blocks_.begin(), open_blocks_.end(), index) != open_blocks_.end();
}

void StreamTranslator::OnBlockStart(const json::object& payload, std::vector<std::string>& out) {
  const auto index = BlockIndex(payload);
  const auto* start = ObjectMember(payload, "start");
  const auto* tool_use = start != nullptr ? ObjectMember(*start, "toolUse") : nullptr;
  if (tool_use == nullptr || index <= highest_started_) {
    return;  // other starts (tool results, images) have no Anthropic counterpart
  }
  OpenBlock(index,
            json::object{{"type", "tool_use"},
                         {"id", StringMember(*tool_use, "toolUseId")},
                         {"name", StringMember(*tool_use, "name")},
                         {"input", json::object{}}},
            out);
}

void StreamTranslator::OnBlockDelta(const json::object& payload, std::vector<std::string>& out) {
  const auto index = BlockIndex(payload);
  const auto* delta = ObjectMember(payload, "delta");
  if (delta == nullptr || (!IsOpen(index) && index <= highest_started_)) {
    return;  // a delta for a block already stopped
  }

  // Each Converse delta kind, as the content block Anthropic opens for it and its own delta.
  json::object block;
  json::object anthropic_delta;
  if (const auto* text = delta->if_contains("text"); text != nullptr && text->is_string()) {
    block = {{"type", "text"}, {"text", ""}};
    anthropic_delta = {{"type", "text_delta"}, {"text", *text}};
  } else if (const auto* tool_use = ObjectMember(*delta, "toolUse")) {
    block = {{"type", "tool_use"}, {"id", ""}, {"name", ""}, {"input", json::object{}}};
    anthropic_delta = {{"type", "input_json_delta"},
                       {"partial_json", StringMember(*tool_use, "input")}};
  } else if (const auto* reasoning = ObjectMember(*delta, "reasoningContent")) {
    block = {{"type", "thinking"}, {"thinking", ""}};
    if (reasoning->contains("text")) {
      anthropic_delta = {{"type", "thinking_delta"},
                         {"thinking", StringMember(*reasoning, "text")}};
    } else if (reasoning->contains("signature")) {
      anthropic_delta = {{"type", "signature_delta"},
                         {"signature", StringMember(*reasoning, "signature")}};
    } else if (reasoning->contains("redactedContent")) {
      // Anthropic sends redacted thinking whole, in its block start, with no delta.
      block = {{"type", "redacted_thinking"},
               {"data", StringMember(*reasoning, "redactedContent")}};
    }
  } else {
    return;  // citations and other deltas have no Anthropic stream counterpart
  }

  if (!IsOpen(index)) {
    OpenBlock(index, std::move(block), out);
  }
  if (!anthropic_delta.empty()) {
    Emit(json::object{{"type", "content_block_delta"},
                      {"index", index},
                      {"delta", std::move(anthropic_delta)}},
         out);
  }
}

void StreamTranslator::OnBlockStop(const json::object& payload, std::vector<std::string>& out) {
  const auto index = BlockIndex(payload);
  if (!IsOpen(index)) {
    if (index <= highest_started_) {
      return;
    }
    // An empty text block: Anthropic still expects it opened before it is closed.
    OpenBlock(index, json::object{{"type", "text"}, {"text", ""}}, out);
  }
  open_blocks_.erase(std::find(open_blocks_.begin(), open_blocks_.end(), index));
  Emit(json::object{{"type", "content_block_stop"}, {"index", index}}, out);
}

void StreamTranslator::OnMessageStop(const json::object& payload, std::vector<std::string>& out) {
  CloseOpenBlocks(out);
  stop_reason_ = StopReasonToAnthropic(StringMember(payload, "stopReason"));
  if (const auto* fields = ObjectMember(payload, "additionalModelResponseFields")) {
    if (const auto text = StringMember(*fields, "stop_sequence"); !text.empty()) {
      stop_sequence_ = std::string(text);
    }
  }
}

void StreamTranslator::CloseOpenBlocks(std::vector<std::string>& out) {
  for (const auto index : open_blocks_) {
    Emit(json::object{{"type", "content_block_stop"}, {"index", index}}, out);
  }
  open_blocks_.clear();
}

void StreamTranslator::EndMessage(const TokenUsage& usage, std::int64_t latency_ms,
                                  std::vector<std::string>& out) {
  finished_ = true;
  json::value stop_sequence = nullptr;
  if (stop_sequence_) {
    stop_sequence = *stop_sequence_;
  }
  std::string_view stop_reason = stop_reason_;
  if (stop_reason.empty()) {
    stop_reason = "end_turn";
  }
  Emit(json::object{{"type", "message_delta"},
                    {"delta", json::object{{"stop_reason", stop_reason},
                                           {"stop_sequence", std::move(stop_sequence)}}},
                    {"usage", json::object{{"output_tokens", usage.output_tokens}}}},
       out);
  Emit(json::object{{"type", "message_stop"},
                    {"amazon-bedrock-invocationMetrics",
                     InvocationMetrics(usage, latency_ms, first_byte_latency_ms_)}},
       out);
}

void ReadStreamUsage(const json::object& native_event, StreamSummary& summary) {
  const std::string_view type = StringMember(native_event, "type");
  if (type == "message_start") {
    const auto* message = ObjectMember(native_event, "message");
    if (const auto* usage = message != nullptr ? ObjectMember(*message, "usage") : nullptr) {
      summary.usage.input_tokens = ReadCount(*usage, "input_tokens");
      summary.usage.output_tokens = ReadCount(*usage, "output_tokens");
      summary.usage.cache_read_input_tokens = ReadCount(*usage, "cache_read_input_tokens");
      summary.usage.cache_write_input_tokens = ReadCount(*usage, "cache_creation_input_tokens");
    }
  } else if (type == "message_delta") {
    // Anthropic's output count here is the running total, not an increment.
    if (const auto* usage = ObjectMember(native_event, "usage");
        usage != nullptr && usage->contains("output_tokens")) {
      summary.usage.output_tokens = ReadCount(*usage, "output_tokens");
    }
    if (const auto* delta = ObjectMember(native_event, "delta")) {
      if (const auto reason = StringMember(*delta, "stop_reason"); !reason.empty()) {
        summary.stop_reason = StopReasonFromAnthropic(reason);
      }
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

}  // namespace sluice::core::anthropic
