#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/converse.hpp"
#include "core/error.hpp"

namespace sluice::core::nova {

/// Translates an InvokeModel body in Amazon Nova's own format (`schemaVersion: "messages-v1"`)
/// into the canonical Converse request. Nova's messages, system blocks and tool configuration
/// already have Converse's shape and are taken over unchanged; `inferenceConfig` is renamed
/// (`max_new_tokens` to `maxTokens`, `top_p` to `topP`), and `top_k`/`topK` and any other
/// inference member Converse lacks go to `additionalModelRequestFields.inferenceConfig`, where
/// Bedrock's Converse looks for them on Nova. Unknown top-level members go to
/// `additionalModelRequestFields` too.
///
/// Schema failures come back as ValidationException messages in Bedrock's JSON-pointer wording
/// (`Malformed input request: #/messages/0/content: expected type: JSONArray, found: String, ...`);
/// the translated body is then checked with `ValidateConverseBody`. The original bytes are kept
/// in `native`.
[[nodiscard]] Result<ConverseRequest> ParseInvokeBody(std::string_view body, Operation operation,
                                                      std::string model_id);

/// Reads a Nova response relayed by an upstream into the canonical response; the bytes are kept
/// in `native`. A body without Nova's `output` fails with kInternalServer.
[[nodiscard]] Result<ConverseResponse> ParseResponse(std::string_view body);

/// Writes a canonical response as the body Bedrock's InvokeModel returns for Nova: `output`,
/// `stopReason` and `usage` with Nova's names for the cache counts. When `response.native`
/// already holds a Nova body, callers should send those bytes instead.
std::string EncodeResponse(const ConverseResponse& response);

/// Turns one streamed answer, as canonical ConverseStream events, into the chunks
/// InvokeModelWithResponseStream delivers for Nova: each chunk is an object with one member
/// named after the Converse event, as compact JSON text. The `metadata` chunk also carries
/// `amazon-bedrock-invocationMetrics`. Events after `metadata`, and `kNativeChunk` events,
/// produce nothing.
///
/// One translator serves one stream; not thread-safe.
class StreamTranslator final {
 public:
  /// `estimated_input_tokens` is reported only by `Finish`, when the upstream never sent usage.
  explicit StreamTranslator(std::int64_t estimated_input_tokens);

  StreamTranslator(const StreamTranslator&) = delete;
  StreamTranslator& operator=(const StreamTranslator&) = delete;
  StreamTranslator(StreamTranslator&&) = default;
  StreamTranslator& operator=(StreamTranslator&&) = default;

  /// Appends the Nova chunks `event` amounts to (zero or one) to `out`.
  void Translate(const StreamEvent& event, std::vector<std::string>& out);

  /// Closes a stream that ended without `metadata`: appends the block stops, `messageStop` and
  /// `metadata` still owed, with the estimated input and zero output tokens. Does nothing if the
  /// stream never started or already ended.
  void Finish(std::vector<std::string>& out);

  /// The time to the first byte, reported as `firstByteLatency`; 0 unless set.
  void set_first_byte_latency_ms(std::int64_t latency_ms) { first_byte_latency_ms_ = latency_ms; }

  /// True once the `metadata` chunk has been emitted.
  bool finished() const { return finished_; }

 private:
  void EmitMetadata(const TokenUsage& usage, std::int64_t latency_ms,
                    std::vector<std::string>& out);

  std::int64_t estimated_input_tokens_ = 0;
  std::int64_t first_byte_latency_ms_ = 0;
  bool started_ = false;
  bool stopped_ = false;  // messageStop went out
  bool finished_ = false;
  std::vector<std::int64_t> open_blocks_;  // seen in a start or delta, not yet stopped
};

/// Adds what one chunk of a relayed Nova stream says about usage and the stop reason to
/// `summary`: `messageStop`, `metadata.usage`, and the `amazon-bedrock-invocationMetrics`
/// Bedrock appends to the last chunk, whose counts replace the others.
void ReadStreamUsage(const boost::json::object& native_event, StreamSummary& summary);

}  // namespace sluice::core::nova
