#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/converse.hpp"
#include "core/error.hpp"

namespace sluice::core::anthropic {

/// Translates an InvokeModel body in Anthropic's Messages format, as Bedrock accepts it for
/// Claude (`anthropic_version: "bedrock-2023-05-31"`), into the canonical Converse request.
///
/// Schema failures come back as ValidationException messages in Bedrock's JSON-pointer wording
/// (`Malformed input request: #/messages/0/content: expected type: String, found: Integer, ...`),
/// and the translated body is then checked with `ValidateConverseBody`. `cache_control` on a
/// block becomes a `cachePoint` block right after it; `top_k`, `thinking`, server tools and any
/// other top-level member without a Converse equivalent go into `additionalModelRequestFields`.
/// Consecutive messages of the same role are merged, as Anthropic's API does. The original bytes
/// are kept in `native` so an upstream that speaks this format gets them unchanged.
[[nodiscard]] Result<ConverseRequest> ParseInvokeBody(std::string_view body, Operation operation,
                                                      std::string model_id);

/// Reads an Anthropic Messages response relayed by an upstream into the canonical response:
/// content, stop reason (in Converse's vocabulary) and usage with its cache counts. The bytes
/// are kept in `native`. A body that is not a message fails with kInternalServer; an Anthropic
/// error body fails with kModelError and the upstream's message.
[[nodiscard]] Result<ConverseResponse> ParseResponse(std::string_view body);

/// Writes a canonical response as the body Bedrock's InvokeModel returns for Claude. `model_id`
/// is the identifier the caller invoked (model ID, profile ID or ARN); the body names the model
/// the way Anthropic does (`claude-sonnet-4-5-20250929`). `message_id` is used as given.
///
/// When `response.native` already holds an Anthropic body, callers should send those bytes
/// instead: this function always re-encodes from the canonical form.
std::string EncodeResponse(const ConverseResponse& response, std::string_view model_id,
                           std::string_view message_id);

/// The name Anthropic gives a model in its bodies, from a Bedrock identifier: the ARN path,
/// a geography prefix (`us.`), the `anthropic.` prefix and the `-v1:0` suffix are removed.
std::string ModelName(std::string_view model_id);

/// Turns one streamed answer, as canonical ConverseStream events, into the Anthropic stream
/// events InvokeModelWithResponseStream delivers for Claude, each as compact JSON text with
/// `type` first.
///
/// Converse opens text blocks with their first delta, so the translator emits the
/// `content_block_start` Anthropic requires on the first event of a new index. Converse also
/// sends `messageStop` before `metadata`; the stop reason is held until the usage arrives and
/// both are emitted then, as `message_delta` and a `message_stop` carrying
/// `amazon-bedrock-invocationMetrics`. Events after that, and `kNativeChunk` events (which
/// already are in the provider's own format), produce nothing.
///
/// One translator serves one stream; not thread-safe.
class StreamTranslator final {
 public:
  /// `estimated_input_tokens` is reported in `message_start`, before the upstream's count is
  /// known.
  StreamTranslator(std::string_view model_id, std::string message_id,
                   std::int64_t estimated_input_tokens);

  StreamTranslator(const StreamTranslator&) = delete;
  StreamTranslator& operator=(const StreamTranslator&) = delete;
  StreamTranslator(StreamTranslator&&) = default;
  StreamTranslator& operator=(StreamTranslator&&) = default;

  /// Appends the Anthropic events `event` amounts to (zero, one or several) to `out`.
  void Translate(const StreamEvent& event, std::vector<std::string>& out);

  /// Closes a stream that ended without `metadata`: appends the block stops, `message_delta` and
  /// `message_stop` still owed, with the estimated input and zero output tokens. Does nothing if
  /// the stream never started or already ended.
  void Finish(std::vector<std::string>& out);

  /// The time to the first byte, reported as `firstByteLatency`; 0 unless set.
  void set_first_byte_latency_ms(std::int64_t latency_ms) { first_byte_latency_ms_ = latency_ms; }

  /// True once `message_stop` has been emitted.
  bool finished() const { return finished_; }

 private:
  void StartMessage(std::vector<std::string>& out);
  void OpenBlock(std::int64_t index, boost::json::object content_block,
                 std::vector<std::string>& out);
  void OnBlockStart(const boost::json::object& payload, std::vector<std::string>& out);
  void OnBlockDelta(const boost::json::object& payload, std::vector<std::string>& out);
  void OnBlockStop(const boost::json::object& payload, std::vector<std::string>& out);
  void OnMessageStop(const boost::json::object& payload, std::vector<std::string>& out);
  void CloseOpenBlocks(std::vector<std::string>& out);
  void EndMessage(const TokenUsage& usage, std::int64_t latency_ms, std::vector<std::string>& out);
  bool IsOpen(std::int64_t index) const;

  std::string model_;
  std::string message_id_;
  std::int64_t estimated_input_tokens_ = 0;
  std::int64_t first_byte_latency_ms_ = 0;
  bool started_ = false;
  bool finished_ = false;
  std::vector<std::int64_t> open_blocks_;  // started and not yet stopped, in start order
  std::int64_t highest_started_ = -1;      // a block at or below this index never reopens
  std::string stop_reason_;                // Anthropic's name, held from messageStop to metadata
  std::optional<std::string> stop_sequence_;
};

/// Adds what one event of a relayed Anthropic stream says about usage and the stop reason to
/// `summary`: `message_start` usage, `message_delta` usage and stop reason, and the
/// `amazon-bedrock-invocationMetrics` Bedrock appends to the last event, whose counts replace
/// the others. The stop reason is stored in Converse's vocabulary.
void ReadStreamUsage(const boost::json::object& native_event, StreamSummary& summary);

// Not API: helpers that anthropic_response.cpp defines and anthropic_stream.cpp shares; other
// code should not call them.
namespace internal {

/// Converse's stop reasons in Anthropic's vocabulary.
std::string_view StopReasonToAnthropic(std::string_view reason);

/// Anthropic's stop reasons in Converse's vocabulary.
std::string StopReasonFromAnthropic(std::string_view reason);

}  // namespace internal

}  // namespace sluice::core::anthropic
