#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sluice::aws {

// Encoder and incremental decoder for the AWS event-stream binary framing
// (`application/vnd.amazon.eventstream`), the body format of Bedrock's streaming responses.
// Every frame carries a prelude (two big-endian lengths and their CRC-32), a block of typed
// headers, an opaque payload and a CRC-32 of everything before it. Nothing here throws on bad
// input: the decoder reports malformed bytes as a `DecodeError` value.

/// Header type 8: milliseconds since the Unix epoch.
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// Header type 9: sixteen raw bytes, in wire order.
using Uuid = std::array<std::uint8_t, 16>;

/// Header type 6: an arbitrary byte array.
using ByteArray = std::vector<std::uint8_t>;

/// The value of one header. The alternative chosen selects the wire type: `bool` is type 0 or 1,
/// then int8 (2), int16 (3), int32 (4), int64 (5), byte array (6), string (7), timestamp (8) and
/// UUID (9).
using HeaderValue = std::variant<bool, std::int8_t, std::int16_t, std::int32_t, std::int64_t,
                                 ByteArray, std::string, Timestamp, Uuid>;

/// One header as it appears on the wire. Names are 1 to 255 bytes; byte-array and string values
/// are at most 65535 bytes.
struct Header {
  std::string name;
  HeaderValue value;

  bool operator==(const Header&) const = default;
};

/// A decoded (or to-be-encoded) frame: headers in wire order, then the payload bytes.
/// NOTE: the decoder keeps repeated header names, which the format discourages but does not
/// forbid; lookups by name see the first.
struct Message {
  std::vector<Header> headers;
  std::string payload;

  /// The value of the first header called `name` if it holds a string (type 7), else nullopt.
  /// The view borrows from this message.
  std::optional<std::string_view> FindStringHeader(std::string_view name) const;

  bool operator==(const Message&) const = default;
};

/// Bytes every frame spends on the prelude (12) and the trailing message CRC (4). It is also the
/// size of the smallest valid frame.
inline constexpr std::size_t kFrameOverheadBytes = 16;

/// Largest frame the decoder accepts unless told otherwise, matching aws-c-event-stream's limit.
inline constexpr std::size_t kDefaultMaxFrameBytes = std::size_t{24} * 1024 * 1024;

/// Appends one complete frame to `out`, growing it once and allocating nothing else.
/// Preconditions: every name is 1 to 255 bytes, every byte-array or string value is at most 65535
/// bytes (aws-c-event-stream based clients reject more than 32767), and the whole frame fits in
/// 4 GiB. Checked with `assert` only, since callers build headers from their own constants.
void AppendMessage(std::string& out, std::span<const Header> headers, std::string_view payload);

/// Appends a Bedrock event frame: headers `:event-type`=`event_type`,
/// `:content-type`=`application/json` and `:message-type`=`event`, in the order Bedrock sends
/// them, then `json_payload` unchanged.
void AppendEvent(std::string& out, std::string_view event_type, std::string_view json_payload);

/// Appends a Bedrock modelled-exception frame: `:exception-type`=`exception_type` (the union
/// member name, e.g. `throttlingException`), `:content-type`=`application/json` and
/// `:message-type`=`exception`, then `json_payload` (normally `{"message":"..."}`).
void AppendException(std::string& out, std::string_view exception_type,
                     std::string_view json_payload);

/// `AppendEvent` into a new string.
std::string EncodeEvent(std::string_view event_type, std::string_view json_payload);

/// `AppendException` into a new string.
std::string EncodeException(std::string_view exception_type, std::string_view json_payload);

/// Why the decoder gave up on a stream.
enum class DecodeErrorCode {
  /// The CRC of the first 8 bytes does not match, so the lengths cannot be trusted.
  kPreludeChecksumMismatch,
  /// The trailing CRC does not match the frame's bytes.
  kMessageChecksumMismatch,
  /// The prelude is intact but its lengths cannot describe a frame.
  kInvalidLength,
  /// The frame is larger than the decoder's configured maximum.
  kFrameTooLarge,
  /// The header block is truncated, has an empty name or an unknown value type.
  kMalformedHeader,
};

/// A decoding failure: a code to branch on and a sentence for logs. The two checksum errors read
/// exactly `Prelude checksum mismatch` and `Message checksum mismatch`, as the AWS SDKs word them.
struct DecodeError {
  DecodeErrorCode code = DecodeErrorCode::kMalformedHeader;
  std::string message;
};

/// Outcome of one `Decoder::Next` call.
enum class DecodeStatus {
  /// A complete frame was decoded into the caller's `DecodedFrame`.
  kFrame,
  /// The buffered bytes end inside a frame (or there are none); feed more.
  kNeedMoreData,
  /// The stream is malformed; `Decoder::error()` says why. Terminal.
  kFailed,
};

/// One decoded frame and its exact wire bytes, for relaying it unchanged.
struct DecodedFrame {
  Message message;
  /// Borrowed from the decoder's buffer: valid until the next `Decoder::Feed`, or until the
  /// decoder is moved or destroyed.
  std::string_view raw;
};

/// Incremental decoder for one event stream. Feed it byte chunks as they arrive, in any sizes,
/// then call `Next` until it stops returning `kFrame`. A frame may span chunks and a chunk may
/// hold several frames. The first error is sticky: later calls keep returning `kFailed` and
/// further input is dropped. Not thread-safe; use it from one strand.
class Decoder final {
 public:
  /// `max_frame_bytes` bounds a single frame; a prelude announcing more is rejected as soon as
  /// its 12 bytes are in, before the rest of the frame is buffered.
  explicit Decoder(std::size_t max_frame_bytes = kDefaultMaxFrameBytes);

  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  /// Moving invalidates the `raw` views handed out; the moved-from decoder is empty and healthy.
  Decoder(Decoder&& other) noexcept;
  Decoder& operator=(Decoder&& other) noexcept;

  /// Buffers `chunk`. Invalidates the `raw` views of frames returned so far. Ignored once the
  /// decoder has failed.
  void Feed(std::string_view chunk);

  /// Decodes the next buffered frame into `frame`, reusing its storage. To bound memory, call it
  /// after every `Feed` until it returns something other than `kFrame`. On `kNeedMoreData` and
  /// `kFailed`, `frame` holds unspecified contents.
  [[nodiscard]] DecodeStatus Next(DecodedFrame& frame);

  /// The error that stopped the decoder, or null while it is healthy.
  const DecodeError* error() const { return error_ ? &*error_ : nullptr; }

  /// Bytes buffered but not yet returned as frames. Non-zero at the end of a stream means the
  /// stream was cut inside a frame.
  std::size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  DecodeStatus Fail(DecodeError error);

  std::size_t max_frame_bytes_;
  // Input not yet handed out starts at `consumed_`; the prefix before it is dropped lazily on the
  // next Feed so that `raw` views stay valid until then.
  std::string buffer_;
  std::size_t consumed_ = 0;
  // Size of the frame whose prelude has been checked but whose bytes have not all arrived.
  std::size_t pending_frame_bytes_ = 0;
  std::optional<DecodeError> error_;
};

}  // namespace sluice::aws
