#include "aws/event_stream.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <zlib.h>

// CMake points this at the shared conformance data; other builds skip the vector tests.
#ifndef SLUICE_SHARED_DATA_DIR
#define SLUICE_SHARED_DATA_DIR ""
#endif

namespace sluice::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// A frame copied out of the decoder, so it outlives the decoder's buffer.
struct OwnedFrame {
  Message message;
  std::string raw;
};

fs::path SharedDataDir() {
  return {SLUICE_SHARED_DATA_DIR};
}

bool HasSharedData() {
  return !SharedDataDir().empty() && fs::is_directory(SharedDataDir());
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> SortedFiles(const fs::path& directory) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory)) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string DecodeBase64(std::string_view text) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  std::uint32_t bits = 0;
  int pending_bits = 0;
  for (const char c : text) {
    const std::size_t digit = kAlphabet.find(c);
    if (digit == std::string_view::npos) {
      continue;  // '=' padding
    }
    bits = ((bits << 6) | static_cast<std::uint32_t>(digit)) & 0xffffff;
    pending_bits += 6;
    if (pending_bits >= 8) {
      pending_bits -= 8;
      bytes.push_back(static_cast<char>((bits >> pending_bits) & 0xff));
    }
  }
  return bytes;
}

std::string Bytes(std::initializer_list<unsigned char> bytes) {
  return {bytes.begin(), bytes.end()};
}

std::string BigEndian32(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

std::uint32_t LoadBigEndian32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

std::uint32_t Crc(std::uint32_t seed, std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32(seed, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// A 12-byte prelude with a correct CRC, whatever the lengths say.
std::string Prelude(std::uint32_t total_length, std::uint32_t headers_length) {
  std::string prelude = BigEndian32(total_length) + BigEndian32(headers_length);
  return prelude + BigEndian32(Crc(0, prelude));
}

// A frame with correct checksums around an arbitrary (possibly malformed) header block, built
// without the code under test.
std::string FrameAround(std::string_view header_block, std::string_view payload) {
  const auto total = static_cast<std::uint32_t>(16 + header_block.size() + payload.size());
  std::string frame = Prelude(total, static_cast<std::uint32_t>(header_block.size()));
  frame.append(header_block);
  frame.append(payload);
  return frame + BigEndian32(Crc(0, frame));
}

// Calls Next until it stops producing frames and returns the status that stopped it.
DecodeStatus Drain(Decoder& decoder, std::vector<OwnedFrame>& frames) {
  DecodedFrame frame;
  DecodeStatus status = DecodeStatus::kFrame;
  while ((status = decoder.Next(frame)) == DecodeStatus::kFrame) {
    frames.push_back({frame.message, std::string(frame.raw)});
  }
  return status;
}

Header ExpectedSdkHeader(const json::object& spec) {
  const std::string name(spec.at("name").as_string());
  const json::value& value = spec.at("value");
  switch (spec.at("type").to_number<int>()) {
    case 0:
      return {name, true};
    case 1:
      return {name, false};
    case 2:
      return {name, value.to_number<std::int8_t>()};
    case 3:
      return {name, value.to_number<std::int16_t>()};
    case 4:
      return {name, value.to_number<std::int32_t>()};
    case 5:
      return {name, value.to_number<std::int64_t>()};
    case 6: {
      const std::string bytes = DecodeBase64(value.as_string());
      return {name, ByteArray(bytes.begin(), bytes.end())};
    }
    case 7:
      return {name, DecodeBase64(value.as_string())};
    case 8:
      return {name, Timestamp(std::chrono::milliseconds(value.to_number<std::int64_t>()))};
    default: {
      const std::string bytes = DecodeBase64(value.as_string());
      Uuid uuid{};
      std::copy_n(bytes.begin(), std::min(bytes.size(), uuid.size()), uuid.begin());
      return {name, uuid};
    }
  }
}

std::vector<Header> AllHeaderTypes() {
  return {
      {"yes", true},
      {"no", false},
      {"i8", std::int8_t{-128}},
      {"i16", std::int16_t{-2}},
      {"i32", std::int32_t{2147483647}},
      {"i64", std::int64_t{-9000000000}},
      {"blob", ByteArray{0x00, 0xff, 0x7f}},
      {"text", std::string("h\xc3\xa9llo")},
      {"when", Timestamp(std::chrono::milliseconds(1700000000123))},
      {"id", Uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
  };
}

TEST(EventStreamDecoderTest, DecodesAndReencodesEveryPositiveSdkVector) {
  if (!HasSharedData()) {
    GTEST_SKIP() << "shared data folder is missing: " << SharedDataDir();
  }
  const fs::path root = SharedDataDir() / "eventstream" / "aws-sdk-go-testdata";
  const std::vector<fs::path> vectors = SortedFiles(root / "encoded" / "positive");
  ASSERT_EQ(vectors.size(), 5U);

  for (const fs::path& vector : vectors) {
    SCOPED_TRACE(vector.filename().string());
    const std::string encoded = ReadFile(vector);
    const json::object expected =
        json::parse(ReadFile(root / "decoded" / "positive" / vector.filename())).as_object();
    std::vector<Header> expected_headers;
    for (const json::value& spec : expected.at("headers").as_array()) {
      expected_headers.push_back(ExpectedSdkHeader(spec.as_object()));
    }
    Decoder decoder;
    std::vector<OwnedFrame> frames;

    decoder.Feed(encoded);
    const DecodeStatus status = Drain(decoder, frames);
    ASSERT_EQ(frames.size(), 1U);
    std::string reencoded;
    AppendMessage(reencoded, frames[0].message.headers, frames[0].message.payload);

    EXPECT_EQ(status, DecodeStatus::kNeedMoreData);
    EXPECT_EQ(decoder.buffered_bytes(), 0U);
    EXPECT_EQ(frames[0].raw.size(), expected.at("total_length").to_number<std::size_t>());
    EXPECT_EQ(frames[0].message.headers, expected_headers);
    EXPECT_EQ(frames[0].message.payload, DecodeBase64(expected.at("payload").as_string()));
    EXPECT_EQ(frames[0].raw, encoded);
    EXPECT_EQ(reencoded, encoded);
  }
}

TEST(EventStreamDecoderTest, RejectsEveryNegativeSdkVectorWithTheStatedChecksumError) {
  if (!HasSharedData()) {
    GTEST_SKIP() << "shared data folder is missing: " << SharedDataDir();
  }
  const fs::path root = SharedDataDir() / "eventstream" / "aws-sdk-go-testdata";
  const std::vector<fs::path> vectors = SortedFiles(root / "encoded" / "negative");
  ASSERT_EQ(vectors.size(), 4U);

  for (const fs::path& vector : vectors) {
    SCOPED_TRACE(vector.filename().string());
    std::string expected_message = ReadFile(root / "decoded" / "negative" / vector.filename());
    while (!expected_message.empty() &&
           std::isspace(static_cast<unsigned char>(expected_message.back())) != 0) {
      expected_message.pop_back();
    }
    Decoder decoder;
    std::vector<OwnedFrame> frames;

    decoder.Feed(ReadFile(vector));
    const DecodeStatus status = Drain(decoder, frames);

    EXPECT_EQ(status, DecodeStatus::kFailed);
    EXPECT_TRUE(frames.empty());
    ASSERT_NE(decoder.error(), nullptr);
    EXPECT_EQ(decoder.error()->message, expected_message);
    EXPECT_EQ(decoder.error()->code, expected_message == "Prelude checksum mismatch"
                                         ? DecodeErrorCode::kPreludeChecksumMismatch
                                         : DecodeErrorCode::kMessageChecksumMismatch);
  }
}

TEST(EventStreamDecoderTest, DecodesBedrockStreamsFedInRandomChunks) {
  if (!HasSharedData()) {
    GTEST_SKIP() << "shared data folder is missing: " << SharedDataDir();
  }
  const fs::path root = SharedDataDir() / "bedrock-conformance-derived" / "eventstream";
  const json::object expected = json::parse(ReadFile(root / "expected.json")).as_object();
  std::mt19937 random(20240611);
  std::uniform_int_distribution<std::size_t> chunk_size(1, 40);

  for (const auto& [file_name, file_spec] : expected.at("files").as_object()) {
    SCOPED_TRACE(std::string(file_name));
    const std::string body = ReadFile(root / std::string(file_name));
    const json::array& expected_frames = file_spec.at("frames").as_array();
    Decoder decoder;
    std::vector<OwnedFrame> frames;
    DecodeStatus status = DecodeStatus::kNeedMoreData;

    for (std::size_t offset = 0; offset < body.size();) {
      const std::size_t size = std::min(chunk_size(random), body.size() - offset);
      decoder.Feed(std::string_view{body}.substr(offset, size));
      offset += size;
      status = Drain(decoder, frames);
      ASSERT_EQ(status, DecodeStatus::kNeedMoreData);
    }

    ASSERT_EQ(frames.size(), expected_frames.size());
    EXPECT_EQ(decoder.buffered_bytes(), 0U);
    std::string concatenated;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      SCOPED_TRACE("frame " + std::to_string(i));
      const json::object& spec = expected_frames[i].as_object();
      std::vector<Header> expected_headers;
      for (const json::value& pair : spec.at("headers_in_wire_order").as_array()) {
        expected_headers.push_back({std::string(pair.as_array()[0].as_string()),
                                    std::string(pair.as_array()[1].as_string())});
      }
      EXPECT_EQ(spec.at("offset").to_number<std::size_t>(), concatenated.size());
      EXPECT_EQ(frames[i].raw.size(), spec.at("total_length").to_number<std::size_t>());
      EXPECT_EQ(LoadBigEndian32(frames[i].raw.substr(8)),
                spec.at("prelude_crc").to_number<std::uint32_t>());
      EXPECT_EQ(LoadBigEndian32(frames[i].raw.substr(frames[i].raw.size() - 4)),
                spec.at("message_crc").to_number<std::uint32_t>());
      EXPECT_EQ(frames[i].message.headers, expected_headers);
      EXPECT_EQ(json::parse(frames[i].message.payload), spec.at("payload_json"));
      concatenated += frames[i].raw;
    }
    EXPECT_EQ(concatenated, body);
  }
}

TEST(EventStreamDecoderTest, WaitsWithoutErrorUntilTheLastByteOfAFrameArrives) {
  const std::string frame = EncodeEvent("contentBlockDelta", R"({"delta":{"text":"hi"}})");
  Decoder decoder;
  DecodedFrame decoded;

  for (std::size_t i = 0; i + 1 < frame.size(); ++i) {
    decoder.Feed(frame.substr(i, 1));
    ASSERT_EQ(decoder.Next(decoded), DecodeStatus::kNeedMoreData) << "after byte " << i;
    ASSERT_EQ(decoder.error(), nullptr);
  }
  EXPECT_EQ(decoder.buffered_bytes(), frame.size() - 1);
  decoder.Feed(frame.substr(frame.size() - 1));
  const DecodeStatus status = decoder.Next(decoded);

  EXPECT_EQ(status, DecodeStatus::kFrame);
  EXPECT_EQ(decoded.raw, frame);
  EXPECT_EQ(decoder.buffered_bytes(), 0U);
}

TEST(EventStreamDecoderTest, DecodesSeveralFramesFromOneChunkWithStableRawViews) {
  std::string stream;
  AppendEvent(stream, "messageStart", R"({"role":"assistant"})");
  const std::size_t first_size = stream.size();
  AppendEvent(stream, "messageStop", R"({"stopReason":"end_turn"})");
  const std::string partial_third = EncodeEvent("metadata", "{}").substr(0, 20);
  Decoder decoder;
  DecodedFrame first;
  DecodedFrame second;
  DecodedFrame third;

  decoder.Feed(stream + partial_third);
  const DecodeStatus first_status = decoder.Next(first);
  const DecodeStatus second_status = decoder.Next(second);
  const DecodeStatus third_status = decoder.Next(third);

  EXPECT_EQ(first_status, DecodeStatus::kFrame);
  EXPECT_EQ(second_status, DecodeStatus::kFrame);
  EXPECT_EQ(third_status, DecodeStatus::kNeedMoreData);
  EXPECT_EQ(first.message.FindStringHeader(":event-type"), "messageStart");
  EXPECT_EQ(second.message.FindStringHeader(":event-type"), "messageStop");
  EXPECT_EQ(std::string(first.raw) + std::string(second.raw), stream);
  EXPECT_EQ(first.raw.size(), first_size);
  EXPECT_EQ(decoder.buffered_bytes(), partial_third.size());
}

TEST(EventStreamDecoderTest, ReusesOneFrameAcrossMessagesOfDifferentShapes) {
  std::string stream;
  AppendMessage(stream, AllHeaderTypes(), "first");
  AppendMessage(stream, {}, "");
  AppendEvent(stream, "chunk", R"({"bytes":""})");
  Decoder decoder;
  DecodedFrame frame;
  std::vector<Message> messages;

  decoder.Feed(stream);
  while (decoder.Next(frame) == DecodeStatus::kFrame) {
    messages.push_back(frame.message);
  }

  ASSERT_EQ(messages.size(), 3U);
  EXPECT_EQ(messages[0].headers, AllHeaderTypes());
  EXPECT_EQ(messages[0].payload, "first");
  EXPECT_TRUE(messages[1].headers.empty());
  EXPECT_TRUE(messages[1].payload.empty());
  EXPECT_EQ(messages[2].headers.size(), 3U);
  EXPECT_EQ(messages[2].FindStringHeader(":event-type"), "chunk");
}

TEST(EventStreamDecoderTest, MovedDecoderKeepsItsPartialFrameAndLeavesAnEmptyOne) {
  const std::string frame = EncodeEvent("messageStop", R"({"stopReason":"end_turn"})");
  Decoder original;
  original.Feed(frame.substr(0, 30));
  DecodedFrame from_original;
  ASSERT_EQ(original.Next(from_original), DecodeStatus::kNeedMoreData);
  DecodedFrame from_moved;

  Decoder moved(std::move(original));
  moved.Feed(frame.substr(30));
  const DecodeStatus moved_status = moved.Next(from_moved);
  // The moved-from state is part of the contract, so using it here is deliberate.
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  const DecodeStatus original_status = original.Next(from_original);

  EXPECT_EQ(moved_status, DecodeStatus::kFrame);
  EXPECT_EQ(from_moved.raw, frame);
  EXPECT_EQ(original_status, DecodeStatus::kNeedMoreData);
  EXPECT_EQ(original.buffered_bytes(), 0U);  // NOLINT(bugprone-use-after-move)
}

TEST(EventStreamDecoderTest, RejectsAnOversizedFrameFromItsPreludeAlone) {
  const std::string frame = EncodeEvent("chunk", std::string(2000, 'x'));
  Decoder decoder(1024);
  DecodedFrame decoded;

  decoder.Feed(frame.substr(0, 12));
  const DecodeStatus status = decoder.Next(decoded);

  EXPECT_EQ(status, DecodeStatus::kFailed);
  ASSERT_NE(decoder.error(), nullptr);
  EXPECT_EQ(decoder.error()->code, DecodeErrorCode::kFrameTooLarge);
}

TEST(EventStreamDecoderTest, RejectsFramesAboveTheDefaultLimitButNotAtIt) {
  Decoder at_limit;
  Decoder above_limit;
  DecodedFrame decoded;

  at_limit.Feed(Prelude(kDefaultMaxFrameBytes, 0));
  above_limit.Feed(Prelude(kDefaultMaxFrameBytes + 1, 0));
  const DecodeStatus at_limit_status = at_limit.Next(decoded);
  const DecodeStatus above_limit_status = above_limit.Next(decoded);

  EXPECT_EQ(at_limit_status, DecodeStatus::kNeedMoreData);
  EXPECT_EQ(above_limit_status, DecodeStatus::kFailed);
  ASSERT_NE(above_limit.error(), nullptr);
  EXPECT_EQ(above_limit.error()->code, DecodeErrorCode::kFrameTooLarge);
}

TEST(EventStreamDecoderTest, RejectsImpossibleLengthsBehindAValidPreludeChecksum) {
  const std::vector<std::string> preludes = {
      Prelude(0, 0), Prelude(15, 0), Prelude(16, 1), Prelude(100, 85), Prelude(100, 0xffffffff),
  };

  for (const std::string& prelude : preludes) {
    SCOPED_TRACE(testing::PrintToString(prelude));
    Decoder decoder;
    DecodedFrame decoded;

    decoder.Feed(prelude + std::string(100, '\0'));
    const DecodeStatus status = decoder.Next(decoded);

    EXPECT_EQ(status, DecodeStatus::kFailed);
    ASSERT_NE(decoder.error(), nullptr);
    EXPECT_EQ(decoder.error()->code, DecodeErrorCode::kInvalidLength);
  }
}

TEST(EventStreamDecoderTest, RejectsMalformedHeaderBlocksBehindValidChecksums) {
  const std::vector<std::string> blocks = {
      Bytes({0x00, 0x07}),                           // empty name
      Bytes({0x01, 'a', 0x0a}),                      // unknown type 10
      Bytes({0x01, 'a', 0xff}),                      // unknown type 255
      Bytes({0x05, 'a', 'b'}),                       // name runs past the block
      Bytes({0x01, 'a'}),                            // type byte missing
      Bytes({0x01, 'a', 0x04, 0x00, 0x00}),          // int32 cut short
      Bytes({0x01, 'a', 0x07, 0x00}),                // string length cut short
      Bytes({0x01, 'a', 0x07, 0x00, 0x09}) + "abc",  // string runs past the block
      Bytes({0x01, 'a', 0x06, 0xff, 0xff}),          // byte array runs past the block
      Bytes({0x01, 'a', 0x09}) + "0123456789",       // uuid cut short
  };

  for (const std::string& block : blocks) {
    SCOPED_TRACE(testing::PrintToString(block));
    Decoder decoder;
    DecodedFrame decoded;

    decoder.Feed(FrameAround(block, "payload"));
    const DecodeStatus status = decoder.Next(decoded);

    EXPECT_EQ(status, DecodeStatus::kFailed);
    ASSERT_NE(decoder.error(), nullptr);
    EXPECT_EQ(decoder.error()->code, DecodeErrorCode::kMalformedHeader);
  }
}

TEST(EventStreamDecoderTest, StaysFailedAfterAnError) {
  std::string corrupted = EncodeEvent("chunk", "{}");
  corrupted[corrupted.size() - 1] ^= 0x01;
  Decoder decoder;
  DecodedFrame decoded;
  decoder.Feed(corrupted);
  ASSERT_EQ(decoder.Next(decoded), DecodeStatus::kFailed);

  decoder.Feed(EncodeEvent("chunk", "{}"));
  const DecodeStatus status = decoder.Next(decoded);

  EXPECT_EQ(status, DecodeStatus::kFailed);
  ASSERT_NE(decoder.error(), nullptr);
  EXPECT_EQ(decoder.error()->code, DecodeErrorCode::kMessageChecksumMismatch);
  EXPECT_EQ(decoder.error()->message, "Message checksum mismatch");
}

TEST(EventStreamDecoderTest, DetectsEveryCorruptedByte) {
  const std::string frame = EncodeException("throttlingException", R"({"message":"slow down"})");

  for (std::size_t i = 0; i < frame.size(); ++i) {
    SCOPED_TRACE("byte " + std::to_string(i));
    std::string corrupted = frame;
    corrupted[i] = static_cast<char>(corrupted[i] ^ 0x5a);
    Decoder decoder;
    DecodedFrame decoded;

    decoder.Feed(corrupted);
    const DecodeStatus status = decoder.Next(decoded);

    EXPECT_EQ(status, DecodeStatus::kFailed);
    ASSERT_NE(decoder.error(), nullptr);
    EXPECT_EQ(decoder.error()->code, i < 12 ? DecodeErrorCode::kPreludeChecksumMismatch
                                            : DecodeErrorCode::kMessageChecksumMismatch);
  }
}

TEST(EventStreamDecoderTest, SurvivesRandomGarbageWithoutReturningFrames) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 300);

  for (int round = 0; round < 2000; ++round) {
    std::string garbage(length(random), '\0');
    for (char& c : garbage) {
      c = static_cast<char>(byte(random));
    }
    Decoder decoder;
    std::vector<OwnedFrame> frames;

    decoder.Feed(garbage);
    const DecodeStatus status = Drain(decoder, frames);

    EXPECT_TRUE(frames.empty());
    EXPECT_EQ(status == DecodeStatus::kFailed, decoder.error() != nullptr);
    if (garbage.size() >= 12) {
      EXPECT_EQ(status, DecodeStatus::kFailed) << "round " << round;
    }
  }
}

TEST(EventStreamEncodingTest, EncodesTheEmptyMessageAsTheSdkVectorDoes) {
  const std::string expected("\x00\x00\x00\x10\x00\x00\x00\x00\x05\xc2\x48\xeb\x7d\x98\xc8\xff",
                             16);
  std::string out;

  AppendMessage(out, {}, "");

  EXPECT_EQ(out, expected);
}

TEST(EventStreamEncodingTest, EncodeEventRoundTripsWithBedrockHeaderOrder) {
  const std::string payload = R"({"contentBlockIndex":0,"delta":{"text":"Hello"}})";

  const std::string frame = EncodeEvent("contentBlockDelta", payload);
  Decoder decoder;
  DecodedFrame decoded;
  decoder.Feed(frame);
  const DecodeStatus status = decoder.Next(decoded);

  ASSERT_EQ(status, DecodeStatus::kFrame);
  const std::vector<Header> expected_headers = {
      {":event-type", std::string("contentBlockDelta")},
      {":content-type", std::string("application/json")},
      {":message-type", std::string("event")},
  };
  EXPECT_EQ(decoded.message.headers, expected_headers);
  EXPECT_EQ(decoded.message.payload, payload);
  EXPECT_EQ(decoded.raw, frame);
}

TEST(EventStreamEncodingTest, EncodeExceptionRoundTrips) {
  const std::string payload = R"({"message":"Too many tokens, please wait before trying again."})";

  const std::string frame = EncodeException("throttlingException", payload);
  Decoder decoder;
  DecodedFrame decoded;
  decoder.Feed(frame);
  const DecodeStatus status = decoder.Next(decoded);

  ASSERT_EQ(status, DecodeStatus::kFrame);
  const std::vector<Header> expected_headers = {
      {":exception-type", std::string("throttlingException")},
      {":content-type", std::string("application/json")},
      {":message-type", std::string("exception")},
  };
  EXPECT_EQ(decoded.message.headers, expected_headers);
  EXPECT_EQ(decoded.message.payload, payload);
}

TEST(EventStreamEncodingTest, AppendVariantsKeepWhatTheBufferAlreadyHolds) {
  std::string out = "prefix";

  AppendEvent(out, "messageStart", "{}");
  AppendException(out, "modelStreamErrorException", R"({"message":"x"})");

  EXPECT_EQ(out, "prefix" + EncodeEvent("messageStart", "{}") +
                     EncodeException("modelStreamErrorException", R"({"message":"x"})"));
}

TEST(EventStreamEncodingTest, AppendMessageRoundTripsEveryHeaderType) {
  const std::vector<Header> headers = AllHeaderTypes();
  const std::string payload("\x00\x01\xfe\xff", 4);

  std::string frame;
  AppendMessage(frame, headers, payload);
  Decoder decoder;
  DecodedFrame decoded;
  decoder.Feed(frame);
  const DecodeStatus status = decoder.Next(decoded);

  ASSERT_EQ(status, DecodeStatus::kFrame);
  EXPECT_EQ(decoded.message.headers, headers);
  EXPECT_EQ(decoded.message.payload, payload);
}

TEST(EventStreamEncodingTest, EncodeHelpersReproduceCapturedBedrockFramesByteForByte) {
  if (!HasSharedData()) {
    GTEST_SKIP() << "shared data folder is missing: " << SharedDataDir();
  }
  const fs::path root = SharedDataDir() / "bedrock-conformance-derived" / "eventstream";
  const json::object expected = json::parse(ReadFile(root / "expected.json")).as_object();

  for (const auto& [file_name, file_spec] : expected.at("files").as_object()) {
    SCOPED_TRACE(std::string(file_name));
    const std::string body = ReadFile(root / std::string(file_name));
    Decoder decoder;
    std::vector<OwnedFrame> frames;
    decoder.Feed(body);
    ASSERT_EQ(Drain(decoder, frames), DecodeStatus::kNeedMoreData);
    std::string reencoded;

    for (const OwnedFrame& frame : frames) {
      const Message& message = frame.message;
      if (message.FindStringHeader(":message-type") == "exception") {
        AppendException(reencoded, *message.FindStringHeader(":exception-type"), message.payload);
      } else {
        AppendEvent(reencoded, *message.FindStringHeader(":event-type"), message.payload);
      }
    }

    EXPECT_EQ(reencoded, body);
  }
}

TEST(EventStreamMessageTest, FindStringHeaderSkipsAbsentAndNonStringHeaders) {
  Message message;
  message.headers = {{"count", std::int32_t{3}}, {"kind", std::string("delta")}};

  const auto kind = message.FindStringHeader("kind");
  const auto count = message.FindStringHeader("count");
  const auto missing = message.FindStringHeader("missing");

  EXPECT_EQ(kind, "delta");
  EXPECT_FALSE(count.has_value());
  EXPECT_FALSE(missing.has_value());
}

}  // namespace
}  // namespace sluice::aws
