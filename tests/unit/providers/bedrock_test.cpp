#include "providers/bedrock.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/anthropic_messages.hpp"
#include "core/converse_json.hpp"
#include "support/bedrock_double.hpp"
#include "support/recording_sink.hpp"
#include "support/run_coroutine.hpp"
#include "support/shared_data.hpp"
#include "support/test_server.hpp"

namespace sluice::providers {
namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using core::StreamEventType;
using test_support::BedrockDouble;
using test_support::RecordingSink;
using test_support::RunCoroutine;

constexpr std::string_view kHaiku3 = "anthropic.claude-3-haiku-20240307-v1:0";
constexpr std::string_view kHello =
    R"({"messages":[{"role":"user","content":[{"text":"Hello"}]}]})";
constexpr std::string_view kStreamData = "bedrock-conformance-derived/eventstream/";

constexpr std::string_view kNativeRequest =
    R"({"anthropic_version":"bedrock-2023-05-31","max_tokens":64,)"
    R"("messages":[{"role":"user","content":"Hello"}]})";

constexpr std::string_view kNativeAnswer =
    R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-3-haiku-20240307",)"
    R"("content":[{"type":"text","text":"Hi there"}],"stop_reason":"end_turn",)"
    R"("stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":3}})";

http::Response JsonResponse(bhttp::status status, std::string body) {
  http::Response response{status, 11};
  response.set(bhttp::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

http::Response ConverseAnswer() {
  core::TokenUsage usage;
  usage.input_tokens = 21;
  usage.output_tokens = 8;
  usage.cache_read_input_tokens = 4;
  return JsonResponse(bhttp::status::ok, json::serialize(core::MakeConverseResponseBody(
                                             json::array{json::object{{"text", "Hello back"}}},
                                             "end_turn", usage, 120)));
}

// Splits an event-stream body into its frames by the total length each prelude announces,
// without checking anything, so the expectation does not depend on the decoder under test.
std::vector<std::string> SplitFrames(std::string_view bytes) {
  std::vector<std::string> frames;
  while (bytes.size() >= 4) {
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i) {
      length = (length << 8) | static_cast<unsigned char>(bytes[i]);
    }
    frames.emplace_back(bytes.substr(0, length));
    bytes.remove_prefix(std::min<std::size_t>(length, bytes.size()));
  }
  return frames;
}

class BedrockProviderTest : public ::testing::Test {
 protected:
  void TearDown() override { upstream_.Release(); }

  BedrockProvider MakeProvider(std::chrono::milliseconds timeout = 5s) const {
    BedrockOptions options;
    options.name = "double";
    options.endpoint = server_.endpoint();
    options.timeout = timeout;
    return BedrockProvider(std::move(options));
  }

  static core::ConverseRequest ConverseRequest(
      core::Operation operation = core::Operation::kConverse, std::string_view model_id = kHaiku3) {
    auto parsed = core::ParseConverseRequest(kHello, operation, std::string(model_id));
    EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
    return std::move(*parsed);
  }

  static core::ConverseRequest NativeRequest(core::Operation operation) {
    auto parsed = core::anthropic::ParseInvokeBody(kNativeRequest, operation, std::string(kHaiku3));
    EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
    return std::move(*parsed);
  }

  core::Result<core::ConverseResponse> Converse(BedrockProvider& provider,
                                                const core::ConverseRequest& request) {
    const Call call{request, Target{"us-east-1", request.model_id}, "req-bedrock",
                    std::chrono::steady_clock::now() + 10s};
    return RunCoroutine(io_, provider.Converse(call));
  }

  core::Result<core::StreamSummary> Stream(BedrockProvider& provider,
                                           const core::ConverseRequest& request, StreamSink& sink) {
    const Call call{request, Target{"us-east-1", request.model_id}, "req-bedrock",
                    std::chrono::steady_clock::now() + 10s};
    return RunCoroutine(io_, provider.ConverseStream(call, sink));
  }

  // The bytes of a shared event-stream file, or nullopt (the caller skips).
  static std::optional<std::string> StreamFile(std::string_view name) {
    return test_support::ReadSharedData(std::string(kStreamData) + std::string(name));
  }

  static std::string MissingFile(std::string_view name) {
    return "shared test data not found: " +
           test_support::SharedDataPath(std::string(kStreamData) + std::string(name));
  }

  BedrockDouble upstream_;
  test_support::TestServer server_{upstream_};
  // Provider calls run here, on the test thread; the client's pools live in this io_context.
  boost::asio::io_context io_;
};

TEST_F(BedrockProviderTest, SendsConverseBodyToTheEncodedModelPath) {
  upstream_.AnswerWith(ConverseAnswer());
  auto provider = MakeProvider();
  const auto request = ConverseRequest();

  auto answer = Converse(provider, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  const auto seen = upstream_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
  EXPECT_EQ(seen[0].headers[bhttp::field::content_type], "application/json");
  const auto body = json::parse(seen[0].body).as_object();
  EXPECT_FALSE(body.contains("modelId"));
  EXPECT_EQ(body, request.converse);
}

TEST_F(BedrockProviderTest, EncodesAnArnAsOnePathSegment) {
  upstream_.AnswerWith(ConverseAnswer());
  auto provider = MakeProvider();
  const auto request = ConverseRequest(core::Operation::kConverse,
                                       "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
                                       "us.anthropic.claude-haiku-4-5-20251001-v1:0");

  auto answer = Converse(provider, request);

  EXPECT_TRUE(answer.has_value());
  const auto seen = upstream_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target,
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
            "us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse");
}

TEST_F(BedrockProviderTest, ReadsUsageAndStopReasonFromTheAnswer) {
  upstream_.AnswerWith(ConverseAnswer());
  auto provider = MakeProvider();

  auto answer = Converse(provider, ConverseRequest());

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->usage.input_tokens, 21);
  EXPECT_EQ(answer->usage.output_tokens, 8);
  EXPECT_EQ(answer->usage.cache_read_input_tokens, 4);
  EXPECT_EQ(answer->stop_reason, "end_turn");
  EXPECT_EQ(answer->converse.at("output").at("message").at("content").at(0).at("text"),
            "Hello back");
}

TEST_F(BedrockProviderTest, UpstreamErrorKeepsItsTypeAndMessage) {
  auto error = JsonResponse(bhttp::status::too_many_requests,
                            R"({"message":"Too many requests, please wait before trying again."})");
  error.set("x-amzn-ErrorType",
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/");
  upstream_.AnswerWith(std::move(error));
  auto provider = MakeProvider();

  auto answer = Converse(provider, ConverseRequest());

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, core::ErrorCode::kThrottling);
  EXPECT_EQ(answer.error().message, "Too many requests, please wait before trying again.");
}

TEST_F(BedrockProviderTest, ErrorTypeHeaderWinsOverTheStatus) {
  auto error = JsonResponse(bhttp::status::too_many_requests, R"({"Message":"Model is loading"})");
  error.set("x-amzn-ErrorType", "ModelNotReadyException");
  upstream_.AnswerWith(std::move(error));
  auto provider = MakeProvider();

  auto answer = Converse(provider, ConverseRequest());

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, core::ErrorCode::kModelNotReady);
  EXPECT_EQ(answer.error().message, "Model is loading");
}

TEST_F(BedrockProviderTest, UntypedServiceUnavailableStatusIsServiceUnavailable) {
  upstream_.AnswerWith(JsonResponse(bhttp::status::service_unavailable, "{}"));
  auto provider = MakeProvider();

  auto answer = Converse(provider, ConverseRequest());

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, core::ErrorCode::kServiceUnavailable);
}

TEST_F(BedrockProviderTest, RefusedConnectionIsServiceUnavailable) {
  BedrockOptions options;
  options.name = "nowhere";
  options.endpoint = http::Endpoint{"127.0.0.1", test_support::UnusedPort()};
  BedrockProvider provider(std::move(options));

  auto answer = Converse(provider, ConverseRequest());

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, core::ErrorCode::kServiceUnavailable);
}

TEST_F(BedrockProviderTest, HungUpstreamTimesOut) {
  upstream_.Hang();
  auto provider = MakeProvider(150ms);
  const auto started = std::chrono::steady_clock::now();

  auto answer = Converse(provider, ConverseRequest());

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, core::ErrorCode::kModelTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(BedrockProviderTest, InvokeModelRelaysTheNativeBodiesUnchanged) {
  upstream_.AnswerWith(JsonResponse(bhttp::status::ok, std::string(kNativeAnswer)));
  auto provider = MakeProvider();
  const auto request = NativeRequest(core::Operation::kInvokeModel);

  auto answer = Converse(provider, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  const auto seen = upstream_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke");
  EXPECT_EQ(seen[0].body, kNativeRequest);
  EXPECT_EQ(seen[0].headers[bhttp::field::accept], "application/json");
  EXPECT_EQ(answer->native.format, core::NativeFormat::kAnthropicMessages);
  EXPECT_EQ(answer->native.bytes, kNativeAnswer);
  EXPECT_EQ(answer->usage.input_tokens, 10);
  EXPECT_EQ(answer->usage.output_tokens, 3);
  EXPECT_EQ(answer->stop_reason, "end_turn");
}

TEST_F(BedrockProviderTest, ConverseStreamRelaysEveryFrameByteForByte) {
  const auto bytes = StreamFile("converse_stream_ok.bin");
  if (!bytes) {
    GTEST_SKIP() << MissingFile("converse_stream_ok.bin");
  }
  upstream_.StreamWith(*bytes, 97);
  auto provider = MakeProvider();
  const auto request = ConverseRequest(core::Operation::kConverseStream);
  RecordingSink sink;

  auto summary = Stream(provider, request, sink);

  ASSERT_TRUE(summary.has_value()) << summary.error().message;
  EXPECT_EQ(upstream_.requests().at(0).target,
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
  const auto frames = SplitFrames(*bytes);
  ASSERT_EQ(sink.events().size(), frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(sink.events()[i].frame, frames[i]) << "frame " << i;
  }
  const std::vector<StreamEventType> expected_types = {
      StreamEventType::kMessageStart,      StreamEventType::kContentBlockDelta,
      StreamEventType::kContentBlockDelta, StreamEventType::kContentBlockStop,
      StreamEventType::kContentBlockStart, StreamEventType::kContentBlockDelta,
      StreamEventType::kContentBlockDelta, StreamEventType::kContentBlockStop,
      StreamEventType::kMessageStop,       StreamEventType::kMetadata};
  EXPECT_EQ(sink.types(), expected_types);
  EXPECT_EQ(sink.text(), "Hello world");
}

TEST_F(BedrockProviderTest, ConverseStreamSummaryTakesUsageFromMetadata) {
  const auto bytes = StreamFile("converse_stream_ok.bin");
  if (!bytes) {
    GTEST_SKIP() << MissingFile("converse_stream_ok.bin");
  }
  upstream_.StreamWith(*bytes, 64);
  auto provider = MakeProvider();
  RecordingSink sink;

  auto summary = Stream(provider, ConverseRequest(core::Operation::kConverseStream), sink);

  ASSERT_TRUE(summary.has_value()) << summary.error().message;
  const auto& usage = sink.events().back().payload.at("usage").as_object();
  EXPECT_EQ(summary->usage.input_tokens, usage.at("inputTokens"));
  EXPECT_EQ(summary->usage.output_tokens, usage.at("outputTokens"));
  EXPECT_EQ(summary->usage.cache_read_input_tokens, usage.at("cacheReadInputTokens"));
  EXPECT_EQ(summary->usage.cache_write_input_tokens, usage.at("cacheWriteInputTokens"));
  EXPECT_EQ(summary->usage.input_tokens, 12);
  EXPECT_EQ(summary->stop_reason, "tool_use");
}

TEST_F(BedrockProviderTest, ExceptionFrameEndsTheStreamWithItsError) {
  const auto bytes = StreamFile("converse_stream_throttle.bin");
  if (!bytes) {
    GTEST_SKIP() << MissingFile("converse_stream_throttle.bin");
  }
  upstream_.StreamWith(*bytes, 50);
  auto provider = MakeProvider();
  RecordingSink sink;

  auto summary = Stream(provider, ConverseRequest(core::Operation::kConverseStream), sink);

  ASSERT_FALSE(summary.has_value());
  EXPECT_EQ(summary.error().code, core::ErrorCode::kThrottling);
  EXPECT_EQ(summary.error().message, "Too many tokens, please wait before trying again.");
  const std::vector<StreamEventType> expected_types = {StreamEventType::kMessageStart,
                                                       StreamEventType::kContentBlockDelta};
  EXPECT_EQ(sink.types(), expected_types);
}

TEST_F(BedrockProviderTest, InvokeStreamRelaysNativeChunks) {
  const auto bytes = StreamFile("invoke_stream_ok.bin");
  if (!bytes) {
    GTEST_SKIP() << MissingFile("invoke_stream_ok.bin");
  }
  http::Response head;
  head.set("X-Amzn-Bedrock-Content-Type", "application/json");
  upstream_.StreamWith(*bytes, 77, std::move(head));
  auto provider = MakeProvider();
  const auto request = NativeRequest(core::Operation::kInvokeModelWithResponseStream);
  RecordingSink sink;

  auto summary = Stream(provider, request, sink);

  ASSERT_TRUE(summary.has_value()) << summary.error().message;
  const auto seen = upstream_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target,
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream");
  EXPECT_EQ(seen[0].body, kNativeRequest);
  EXPECT_EQ(seen[0].headers["X-Amzn-Bedrock-Accept"], "application/json");
  const auto frames = SplitFrames(*bytes);
  const std::vector<std::string_view> inner_types = {"message_start", "content_block_delta",
                                                     "message_stop"};
  ASSERT_EQ(sink.events().size(), inner_types.size());
  for (std::size_t i = 0; i < inner_types.size(); ++i) {
    const auto& event = sink.events()[i];
    EXPECT_EQ(event.type, StreamEventType::kNativeChunk);
    EXPECT_EQ(std::string_view(event.payload.at("type").as_string()), inner_types[i])
        << "event " << i;
    EXPECT_EQ(event.frame, frames.at(i)) << "frame " << i;
  }
  EXPECT_EQ(sink.events()[1].payload.at("delta").at("text"), "Hi");
  EXPECT_EQ(summary->usage.input_tokens, 10);
  EXPECT_EQ(summary->usage.output_tokens, 3);
}

TEST_F(BedrockProviderTest, SequentialCallsReuseOneUpstreamConnection) {
  const auto bytes = StreamFile("converse_stream_ok.bin");
  if (!bytes) {
    GTEST_SKIP() << MissingFile("converse_stream_ok.bin");
  }
  auto provider = MakeProvider();
  RecordingSink sink;

  upstream_.AnswerWith(ConverseAnswer());
  auto first = Converse(provider, ConverseRequest());
  auto second = Converse(provider, ConverseRequest());
  upstream_.StreamWith(*bytes, 200);
  auto streamed = Stream(provider, ConverseRequest(core::Operation::kConverseStream), sink);
  upstream_.AnswerWith(ConverseAnswer());
  auto last = Converse(provider, ConverseRequest());

  EXPECT_TRUE(first.has_value());
  EXPECT_TRUE(second.has_value());
  EXPECT_TRUE(streamed.has_value());
  EXPECT_TRUE(last.has_value());
  EXPECT_EQ(upstream_.requests().size(), 4u);
  EXPECT_EQ(upstream_.connection_count(), 1u);
}

// On a fresh loop the client's pool service is older than the timer service its sweep uses;
// tearing the loop down must still not touch a destroyed service (run with -DSLUICE_SANITIZE=ON
// to see a mistake here as a heap-use-after-free).
TEST_F(BedrockProviderTest, EventLoopCanBeDestroyedAfterACall) {
  upstream_.AnswerWith(ConverseAnswer());
  auto provider = MakeProvider();
  const auto request = ConverseRequest();
  auto fresh_loop = std::make_unique<boost::asio::io_context>();
  const Call call{request, Target{"us-east-1", request.model_id}, "req-fresh",
                  std::chrono::steady_clock::now() + 10s};
  auto answer = RunCoroutine(*fresh_loop, provider.Converse(call));
  ASSERT_TRUE(answer.has_value()) << answer.error().message;

  fresh_loop.reset();

  SUCCEED();  // reaching here without a sanitizer report is the expectation
}

}  // namespace
}  // namespace sluice::providers
