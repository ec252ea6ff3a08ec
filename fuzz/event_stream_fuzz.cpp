// libFuzzer target for the event-stream decoder and encoder. Built by scripts/fuzz.sh, not CMake.
// fuzz-link: src/aws/event_stream.cpp
// fuzz-seeds: eventstream/aws-sdk-go-testdata/encoded
// fuzz-seeds: bedrock-conformance-derived/eventstream/converse_stream_ok.bin
// fuzz-seeds: bedrock-conformance-derived/eventstream/converse_stream_throttle.bin
// fuzz-seeds: bedrock-conformance-derived/eventstream/invoke_stream_ok.bin

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <zlib.h>

#include "aws/event_stream.hpp"

namespace {

using sluice::aws::DecodedFrame;
using sluice::aws::Decoder;
using sluice::aws::DecodeStatus;

// Far below the production default, so that inputs of a few KiB also reach the size check.
constexpr std::size_t kMaxFrameBytes = std::size_t{4} * 1024;

// Unlike assert, stays on whatever flags the fuzzer is built with.
void Require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

std::uint32_t LoadU32(const std::string& bytes, std::size_t offset) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  }
  return value;
}

void StoreU32(std::string& bytes, std::size_t offset, std::uint32_t value) {
  for (std::size_t i = 4; i > 0; --i) {
    bytes[offset + i - 1] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

std::uint32_t Crc(std::uint32_t seed, const char* bytes, std::size_t count) {
  return static_cast<std::uint32_t>(
      crc32(seed, reinterpret_cast<const Bytef*>(bytes), static_cast<uInt>(count)));
}

// Random bytes almost never carry valid CRCs, so on its own the fuzzer would only ever reach the
// prelude check. This rewrites both CRCs of every frame the lengths delimit, which sends the
// mutated lengths and header blocks through the header parser.
std::string WithRepairedChecksums(std::string bytes) {
  std::size_t offset = 0;
  while (bytes.size() - offset >= 12) {
    const std::uint32_t prelude_crc = Crc(0, bytes.data() + offset, 8);
    StoreU32(bytes, offset + 8, prelude_crc);
    const std::uint32_t total = LoadU32(bytes, offset);
    if (total < 16 || total > bytes.size() - offset) {
      break;
    }
    StoreU32(bytes, offset + total - 4, Crc(prelude_crc, bytes.data() + offset + 8, total - 12));
    offset += total;
  }
  return bytes;
}

// Every decoded frame must be canonical: re-encoding its message gives back the same bytes.
void DrainAndRoundTrip(Decoder& decoder) {
  DecodedFrame frame;
  DecodeStatus status = DecodeStatus::kFrame;
  while ((status = decoder.Next(frame)) == DecodeStatus::kFrame) {
    std::string reencoded;
    sluice::aws::AppendMessage(reencoded, frame.message.headers, frame.message.payload);
    Require(reencoded == frame.raw);
    static_cast<void>(frame.message.FindStringHeader(":event-type"));
  }
  Require((status == DecodeStatus::kFailed) == (decoder.error() != nullptr));
}

// Feeds `bytes` in two pieces split at `split`, draining after each, as a socket reader would.
void DecodeInTwoPieces(std::string_view bytes, std::size_t split) {
  Decoder decoder(kMaxFrameBytes);

  decoder.Feed(bytes.substr(0, split));
  DrainAndRoundTrip(decoder);
  decoder.Feed(bytes.substr(split));
  DrainAndRoundTrip(decoder);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  if (size == 0) {
    DecodeInTwoPieces(input, 0);
    return 0;
  }

  const std::size_t split =
      ((static_cast<std::size_t>(data[0]) << 8) | data[size - 1]) % (size + 1);
  DecodeInTwoPieces(input, split);
  DecodeInTwoPieces(WithRepairedChecksums(input), size - split);
  return 0;
}
