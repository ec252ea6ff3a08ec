#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace sluice::core {

/// The four Bedrock Runtime inference operations. Quotas, logs and metrics are shared by all four.
enum class Operation {
  kConverse,
  kConverseStream,
  kInvokeModel,
  kInvokeModelWithResponseStream,
};

/// Name as Bedrock writes it in invocation logs (`ConverseStream`, ...).
std::string_view OperationName(Operation operation);

bool IsStreaming(Operation operation);

/// Token counts as Bedrock reports them: `input_tokens` excludes the tokens read from or written
/// to the prompt cache, so the whole prompt is input + cache_read + cache_write.
struct TokenUsage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t cache_read_input_tokens = 0;
  std::int64_t cache_write_input_tokens = 0;

  std::int64_t total_tokens() const { return input_tokens + output_tokens; }
};

/// A body in a model provider's own format, as InvokeModel carries it. Kept next to the canonical
/// form so that a provider that speaks the same format relays it byte for byte.
enum class NativeFormat {
  kNone,
  kAnthropicMessages,  // anthropic_version bedrock-2023-05-31
  kNova,               // Amazon Nova's messages-v1 schema
};

struct NativeBody {
  NativeFormat format = NativeFormat::kNone;
  std::string bytes;
};

/// The one request shape the middle of sluice works on: a validated Converse body. Front doors
/// build it (translating other formats), providers read it. `converse` holds the Converse members
/// (`messages`, `system`, `inferenceConfig`, `toolConfig`, ...) without `modelId`.
struct ConverseRequest {
  Operation operation = Operation::kConverse;
  std::string model_id;  // exactly as the caller named it: model ID, profile ID or ARN
  boost::json::object converse;
  std::optional<std::int64_t> max_tokens;  // inferenceConfig.maxTokens, when the caller set it
  NativeBody native;                       // set for InvokeModel calls
};

/// The canonical answer: a Converse response body (`output`, `stopReason`, `usage`, `metrics`)
/// with the fields the middle needs already read out of it.
struct ConverseResponse {
  boost::json::object converse;
  /// The Converse body exactly as an upstream sent it, when one did. A front door answering
  /// Converse sends these bytes rather than serialising `converse` again, so whoever changes
  /// `converse` after the provider must clear them.
  std::string converse_bytes;
  TokenUsage usage;
  std::string stop_reason;
  std::string inference_region;  // the region that ran the model, when the upstream says
  NativeBody native;             // a provider's own body, when it relayed one unchanged
};

/// ConverseStream events, named as their `:event-type` on the wire. `kNativeChunk` is one event
/// of a provider's own stream (InvokeModelWithResponseStream), relayed without translation.
enum class StreamEventType {
  kMessageStart,
  kContentBlockStart,
  kContentBlockDelta,
  kContentBlockStop,
  kMessageStop,
  kMetadata,
  kNativeChunk,
};

std::string_view StreamEventName(StreamEventType type);

/// One event of a streamed answer. `payload` is the event's JSON body in the Converse stream shape
/// (or the provider's own event for kNativeChunk). `frame`, when not empty, holds the event-stream
/// frame it arrived in, so a front door speaking the same protocol can forward it untouched.
struct StreamEvent {
  StreamEventType type = StreamEventType::kMessageStart;
  boost::json::object payload;
  std::string frame;
};

/// What a finished stream amounted to, for metering and the access log.
struct StreamSummary {
  TokenUsage usage;
  std::string stop_reason;
  std::string inference_region;
  std::int64_t first_byte_latency_ms = 0;
};

}  // namespace sluice::core
