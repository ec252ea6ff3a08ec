#include "aws/event_stream.hpp"

#include <cassert>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include <zlib.h>

namespace sluice::aws {

namespace {

// Frame layout (bedrock-facts §2.1): total_length, headers_length and the prelude CRC, each a
// big-endian uint32, then headers, payload and the message CRC.
constexpr std::size_t kPreludeBytes = 12;
constexpr std::size_t kLengthFieldsBytes = 8;
constexpr std::size_t kCrcBytes = 4;

// Header wire types (bedrock-facts §2.2).
constexpr std::uint8_t kTypeBoolTrue = 0;
constexpr std::uint8_t kTypeBoolFalse = 1;
constexpr std::uint8_t kTypeInt8 = 2;
constexpr std::uint8_t kTypeInt16 = 3;
constexpr std::uint8_t kTypeInt32 = 4;
constexpr std::uint8_t kTypeInt64 = 5;
constexpr std::uint8_t kTypeByteArray = 6;
constexpr std::uint8_t kTypeString = 7;
constexpr std::uint8_t kTypeTimestamp = 8;
constexpr std::uint8_t kTypeUuid = 9;

// Names carry a uint8 length; byte arrays and strings a uint16 one.
constexpr std::size_t kMaxNameBytes = std::numeric_limits<std::uint8_t>::max();
constexpr std::size_t kMaxValueBytes = std::numeric_limits<std::uint16_t>::max();

constexpr std::string_view kContentTypeJson = "application/json";

// zlib's crc32 resumes from a previous result, so the message CRC is the prelude CRC continued
// over the rest of the frame. Frames are below 4 GiB, so the length always fits in uInt.
// Limitation: zlib 1.2's table-driven CRC is most of the cost of encoding or decoding a typical
// Bedrock frame; parsing and copying are a small part. A carry-less-multiply CRC (as zlib-ng
// or Chromium's zlib ship) is several times faster and would be the first thing to try if
// stream relaying shows up in profiles.
std::uint32_t Crc32(std::uint32_t seed, const char* bytes, std::size_t count) {
  return static_cast<std::uint32_t>(
      crc32(seed, reinterpret_cast<const Bytef*>(bytes), static_cast<uInt>(count)));
}

std::uint64_t LoadBigEndian(const char* bytes, std::size_t count) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

std::uint32_t LoadU32(const char* bytes) {
  return static_cast<std::uint32_t>(LoadBigEndian(bytes, 4));
}

char* StoreBigEndian(char* out, std::uint64_t value, std::size_t count) {
  for (std::size_t i = count; i > 0; --i) {
    out[i - 1] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out + count;
}

char* StoreBytes(char* out, std::string_view bytes) {
  // memcpy with a null source is undefined even for zero bytes, and empty views may be null.
  if (!bytes.empty()) {
    std::memcpy(out, bytes.data(), bytes.size());
  }
  return out + bytes.size();
}

std::string_view AsChars(const std::vector<std::uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string_view AsChars(const Uuid& uuid) {
  return {reinterpret_cast<const char*>(uuid.data()), uuid.size()};
}

// Wire bytes of the value after the type byte.
std::size_t ValueBytes(const HeaderValue& value) {
  return std::visit(
      [](const auto& v) -> std::size_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return 0;
        } else if constexpr (std::is_integral_v<T>) {
          return sizeof(T);
        } else if constexpr (std::is_same_v<T, ByteArray> || std::is_same_v<T, std::string>) {
          assert(v.size() <= kMaxValueBytes);
          return 2 + v.size();
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return 8;
        } else {
          return std::tuple_size_v<Uuid>;
        }
      },
      value);
}

char* StoreHeader(char* out, std::string_view name, std::uint8_t type) {
  assert(!name.empty() && name.size() <= kMaxNameBytes);
  *out++ = static_cast<char>(name.size());
  out = StoreBytes(out, name);
  *out++ = static_cast<char>(type);
  return out;
}

char* StoreSizedValue(char* out, std::string_view bytes) {
  out = StoreBigEndian(out, bytes.size(), 2);
  return StoreBytes(out, bytes);
}

char* StoreHeader(char* out, const Header& header) {
  return std::visit(
      [&](const auto& v) -> char* {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return StoreHeader(out, header.name, v ? kTypeBoolTrue : kTypeBoolFalse);
        } else if constexpr (std::is_integral_v<T>) {
          constexpr std::uint8_t kType = sizeof(T) == 1   ? kTypeInt8
                                         : sizeof(T) == 2 ? kTypeInt16
                                         : sizeof(T) == 4 ? kTypeInt32
                                                          : kTypeInt64;
          out = StoreHeader(out, header.name, kType);
          // Conversion to unsigned is modular, which yields the two's-complement bytes.
          return StoreBigEndian(out, static_cast<std::make_unsigned_t<T>>(v), sizeof(T));
        } else if constexpr (std::is_same_v<T, ByteArray>) {
          return StoreSizedValue(StoreHeader(out, header.name, kTypeByteArray), AsChars(v));
        } else if constexpr (std::is_same_v<T, std::string>) {
          return StoreSizedValue(StoreHeader(out, header.name, kTypeString), v);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          out = StoreHeader(out, header.name, kTypeTimestamp);
          return StoreBigEndian(out, static_cast<std::uint64_t>(v.time_since_epoch().count()), 8);
        } else {
          return StoreBytes(StoreHeader(out, header.name, kTypeUuid), AsChars(v));
        }
      },
      header.value);
}

// Grows `out` once by the whole frame, writes the prelude, lets `store_headers` fill exactly
// `headers_bytes`, then writes the payload and the message CRC in place.
template <typename StoreHeaders>
void AppendFrame(std::string& out, std::size_t headers_bytes, std::string_view payload,
                 StoreHeaders store_headers) {
  const std::size_t total = kFrameOverheadBytes + headers_bytes + payload.size();
  assert(total <= std::numeric_limits<std::uint32_t>::max());
  const std::size_t start = out.size();
  out.resize(start + total);
  char* const frame = out.data() + start;

  char* cursor = StoreBigEndian(frame, total, 4);
  cursor = StoreBigEndian(cursor, headers_bytes, 4);
  const std::uint32_t prelude_crc = Crc32(0, frame, kLengthFieldsBytes);
  cursor = StoreBigEndian(cursor, prelude_crc, 4);

  char* const headers_end = store_headers(cursor);
  assert(headers_end == cursor + headers_bytes);
  cursor = StoreBytes(headers_end, payload);

  const std::uint32_t message_crc =
      Crc32(prelude_crc, frame + kLengthFieldsBytes, total - kLengthFieldsBytes - kCrcBytes);
  StoreBigEndian(cursor, message_crc, 4);
}

// The three string headers every Bedrock event and exception frame carries, written straight
// from views so the hot path builds no Header objects.
void AppendBedrockFrame(std::string& out, std::string_view type_header, std::string_view type,
                        std::string_view message_type, std::string_view json_payload) {
  const std::pair<std::string_view, std::string_view> headers[] = {
      {type_header, type},
      {":content-type", kContentTypeJson},
      {":message-type", message_type},
  };
  std::size_t headers_bytes = 0;
  for (const auto& [name, value] : headers) {
    headers_bytes += 1 + name.size() + 1 + 2 + value.size();
  }

  AppendFrame(out, headers_bytes, json_payload, [&](char* cursor) {
    for (const auto& [name, value] : headers) {
      cursor = StoreSizedValue(StoreHeader(cursor, name, kTypeString), value);
    }
    return cursor;
  });
}

// Bounds-checked reader over one frame's header block.
class HeaderReader {
 public:
  explicit HeaderReader(std::string_view block) : block_(block) {}

  [[nodiscard]] bool Take(std::size_t count, std::string_view& bytes) {
    if (count > block_.size() - position_) {
      return false;
    }
    bytes = block_.substr(position_, count);
    position_ += count;
    return true;
  }

  [[nodiscard]] bool TakeUnsigned(std::size_t count, std::uint64_t& value) {
    std::string_view bytes;
    if (!Take(count, bytes)) {
      return false;
    }
    value = LoadBigEndian(bytes.data(), count);
    return true;
  }

 private:
  std::string_view block_;
  std::size_t position_ = 0;
};

// Stores `text` as a string value, reusing the string already there when there is one, so a
// decoder fed a steady stream of similar frames stops allocating.
void AssignString(HeaderValue& value, std::string_view text) {
  if (auto* existing = std::get_if<std::string>(&value)) {
    existing->assign(text);
  } else {
    value.emplace<std::string>(text);
  }
}

template <typename T>
[[nodiscard]] bool ReadInteger(HeaderReader& reader, HeaderValue& value) {
  std::uint64_t bits = 0;
  if (!reader.TakeUnsigned(sizeof(T), bits)) {
    return false;
  }
  // Unsigned to signed conversion is modular since C++20, which undoes the two's complement.
  value.emplace<T>(static_cast<T>(static_cast<std::make_unsigned_t<T>>(bits)));
  return true;
}

// Reads one value of wire type `type`; an empty string means success, otherwise the reason.
std::string_view ReadValue(HeaderReader& reader, std::uint8_t type, HeaderValue& value) {
  constexpr std::string_view kTruncated = "Header value runs past the header block";
  std::string_view bytes;
  std::uint64_t length = 0;
  switch (type) {
    case kTypeBoolTrue:
    case kTypeBoolFalse:
      value.emplace<bool>(type == kTypeBoolTrue);
      return {};
    case kTypeInt8:
      return ReadInteger<std::int8_t>(reader, value) ? std::string_view() : kTruncated;
    case kTypeInt16:
      return ReadInteger<std::int16_t>(reader, value) ? std::string_view() : kTruncated;
    case kTypeInt32:
      return ReadInteger<std::int32_t>(reader, value) ? std::string_view() : kTruncated;
    case kTypeInt64:
      return ReadInteger<std::int64_t>(reader, value) ? std::string_view() : kTruncated;
    case kTypeTimestamp:
      if (!reader.TakeUnsigned(8, length)) {
        return kTruncated;
      }
      value.emplace<Timestamp>(std::chrono::milliseconds(static_cast<std::int64_t>(length)));
      return {};
    case kTypeByteArray:
    case kTypeString:
      if (!reader.TakeUnsigned(2, length) || !reader.Take(length, bytes)) {
        return kTruncated;
      }
      if (type == kTypeString) {
        AssignString(value, bytes);
      } else {
        value.emplace<ByteArray>(bytes.begin(), bytes.end());
      }
      return {};
    case kTypeUuid:
      if (!reader.Take(std::tuple_size_v<Uuid>, bytes)) {
        return kTruncated;
      }
      value.emplace<Uuid>();
      std::memcpy(std::get<Uuid>(value).data(), bytes.data(), bytes.size());
      return {};
    default:
      return "Unknown header value type";
  }
}

// Parses a whole header block into `headers`, reusing existing elements. Returns an empty view
// on success, otherwise the reason.
std::string_view ParseHeaders(std::string_view block, std::vector<Header>& headers) {
  HeaderReader reader(block);
  std::size_t count = 0;
  std::uint64_t name_length = 0;
  // Each header starts with its name length, so running out of bytes there is the clean end.
  while (reader.TakeUnsigned(1, name_length)) {
    std::string_view name;
    std::uint64_t type = 0;
    if (name_length == 0) {
      return "Header name is empty";
    }
    if (!reader.Take(name_length, name) || !reader.TakeUnsigned(1, type)) {
      return "Header runs past the header block";
    }

    Header& header = count < headers.size() ? headers[count] : headers.emplace_back();
    ++count;
    header.name.assign(name);
    const std::string_view failure =
        ReadValue(reader, static_cast<std::uint8_t>(type), header.value);
    if (!failure.empty()) {
      return failure;
    }
  }

  headers.resize(count);
  return {};
}

// The first 12 bytes of a frame, as sent; nothing in it is trusted before CheckPrelude.
struct Prelude {
  std::uint32_t total_bytes = 0;
  std::uint32_t headers_bytes = 0;
  std::uint32_t crc = 0;
};

Prelude LoadPrelude(const char* frame) {
  return {LoadU32(frame), LoadU32(frame + 4), LoadU32(frame + kLengthFieldsBytes)};
}

// The lengths mean nothing until the prelude CRC vouches for them: a flipped bit in total_length
// would otherwise make us wait for, or allocate, a frame that never comes.
std::optional<DecodeError> CheckPrelude(const char* frame, const Prelude& prelude,
                                        std::size_t max_frame_bytes) {
  if (Crc32(0, frame, kLengthFieldsBytes) != prelude.crc) {
    return DecodeError{DecodeErrorCode::kPreludeChecksumMismatch, "Prelude checksum mismatch"};
  }
  const std::uint32_t total = prelude.total_bytes;
  if (total < kFrameOverheadBytes) {
    return DecodeError{DecodeErrorCode::kInvalidLength,
                       "Frame length " + std::to_string(total) + " is below the 16-byte minimum"};
  }
  if (total > max_frame_bytes) {
    return DecodeError{DecodeErrorCode::kFrameTooLarge, "Frame length " + std::to_string(total) +
                                                            " exceeds the limit of " +
                                                            std::to_string(max_frame_bytes)};
  }
  if (prelude.headers_bytes > total - kFrameOverheadBytes) {
    return DecodeError{DecodeErrorCode::kInvalidLength,
                       "Headers length " + std::to_string(prelude.headers_bytes) +
                           " does not fit in a frame of " + std::to_string(total) + " bytes"};
  }
  return std::nullopt;
}

// Checks the message CRC of a complete frame whose prelude passed CheckPrelude, then decodes its
// headers and payload into `message`.
std::optional<DecodeError> DecodeBody(std::string_view raw, const Prelude& prelude,
                                      Message& message) {
  const std::size_t crc_offset = raw.size() - kCrcBytes;
  const std::uint32_t expected_crc = LoadU32(raw.data() + crc_offset);
  const std::string_view covered = raw.substr(kLengthFieldsBytes, crc_offset - kLengthFieldsBytes);
  if (Crc32(prelude.crc, covered.data(), covered.size()) != expected_crc) {
    return DecodeError{DecodeErrorCode::kMessageChecksumMismatch, "Message checksum mismatch"};
  }

  const std::string_view failure =
      ParseHeaders(raw.substr(kPreludeBytes, prelude.headers_bytes), message.headers);
  if (!failure.empty()) {
    return DecodeError{DecodeErrorCode::kMalformedHeader, std::string(failure)};
  }
  const std::size_t payload_offset = kPreludeBytes + prelude.headers_bytes;
  message.payload.assign(raw.substr(payload_offset, crc_offset - payload_offset));
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> Message::FindStringHeader(std::string_view name) const {
  for (const Header& header : headers) {
    if (header.name == name) {
      if (const auto* text = std::get_if<std::string>(&header.value)) {
        return *text;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// Limitation: the size preconditions (names up to 255 bytes, values up to 65535, frame under
// 4 GiB) are only asserted, so a release build given an oversized header writes a frame that
// clients reject instead of reporting it. Every caller today passes fixed Bedrock names or
// headers taken from a decoded frame, which satisfy them; a checked variant returning an error
// becomes worth adding once headers come from configuration or user input.
void AppendMessage(std::string& out, std::span<const Header> headers, std::string_view payload) {
  std::size_t headers_bytes = 0;
  for (const Header& header : headers) {
    headers_bytes += 1 + header.name.size() + 1 + ValueBytes(header.value);
  }

  AppendFrame(out, headers_bytes, payload, [&](char* cursor) {
    for (const Header& header : headers) {
      cursor = StoreHeader(cursor, header);
    }
    return cursor;
  });
}

void AppendEvent(std::string& out, std::string_view event_type, std::string_view json_payload) {
  AppendBedrockFrame(out, ":event-type", event_type, "event", json_payload);
}

void AppendException(std::string& out, std::string_view exception_type,
                     std::string_view json_payload) {
  AppendBedrockFrame(out, ":exception-type", exception_type, "exception", json_payload);
}

std::string EncodeEvent(std::string_view event_type, std::string_view json_payload) {
  std::string out;
  AppendEvent(out, event_type, json_payload);
  return out;
}

std::string EncodeException(std::string_view exception_type, std::string_view json_payload) {
  std::string out;
  AppendException(out, exception_type, json_payload);
  return out;
}

Decoder::Decoder(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

// Spelled out because a defaulted move would leave `consumed_` pointing past the end of the
// moved-from (emptied) buffer.
Decoder::Decoder(Decoder&& other) noexcept
    : max_frame_bytes_(other.max_frame_bytes_),
      buffer_(std::exchange(other.buffer_, std::string())),
      consumed_(std::exchange(other.consumed_, 0)),
      pending_frame_bytes_(std::exchange(other.pending_frame_bytes_, 0)),
      error_(std::exchange(other.error_, std::nullopt)) {}

Decoder& Decoder::operator=(Decoder&& other) noexcept {
  max_frame_bytes_ = other.max_frame_bytes_;
  buffer_ = std::exchange(other.buffer_, std::string());
  consumed_ = std::exchange(other.consumed_, 0);
  pending_frame_bytes_ = std::exchange(other.pending_frame_bytes_, 0);
  error_ = std::exchange(other.error_, std::nullopt);
  return *this;
}

void Decoder::Feed(std::string_view chunk) {
  if (error_) {
    // Nothing buffered will ever be decoded, and no view may outlive this call; release it all.
    std::string().swap(buffer_);
    consumed_ = 0;
    pending_frame_bytes_ = 0;
    return;
  }

  // Dropping the consumed prefix here, not in Next, is what keeps earlier `raw` views valid
  // between feeds. A caller that drains after every Feed leaves at most one partial frame here,
  // so the move is small.
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  // The pending frame now starts at offset 0. Sizing the buffer for it at once saves the
  // repeated doubling a large frame would cause as its chunks trickle in.
  if (pending_frame_bytes_ > buffer_.capacity()) {
    buffer_.reserve(pending_frame_bytes_);
  }
  buffer_.append(chunk);
}

DecodeStatus Decoder::Next(DecodedFrame& frame) {
  if (error_) {
    return DecodeStatus::kFailed;
  }
  const std::size_t available = buffer_.size() - consumed_;
  if (available < kPreludeBytes) {
    return DecodeStatus::kNeedMoreData;
  }

  const char* const start = buffer_.data() + consumed_;
  const Prelude prelude = LoadPrelude(start);
  if (auto error = CheckPrelude(start, prelude, max_frame_bytes_)) {
    return Fail(std::move(*error));
  }
  if (available < prelude.total_bytes) {
    // Feed reserves this much, since reallocating here would break the views handed out.
    pending_frame_bytes_ = prelude.total_bytes;
    return DecodeStatus::kNeedMoreData;
  }

  // Limitation: every frame is fully decoded, its header values and payload copied into
  // `frame.message`, even when the caller only relays `raw`. For Bedrock's sub-kilobyte frames
  // the copy costs less than the CRC pass over the same bytes; a lazy or headers-only mode would
  // be worth adding if profiles of the relay path show it.
  const std::string_view raw(start, prelude.total_bytes);
  if (auto error = DecodeBody(raw, prelude, frame.message)) {
    return Fail(std::move(*error));
  }
  frame.raw = raw;
  consumed_ += raw.size();
  pending_frame_bytes_ = 0;
  return DecodeStatus::kFrame;
}

DecodeStatus Decoder::Fail(DecodeError error) {
  // The buffer stays until the next Feed: frames returned before the error may still be viewing
  // it.
  error_ = std::move(error);
  return DecodeStatus::kFailed;
}

}  // namespace sluice::aws
