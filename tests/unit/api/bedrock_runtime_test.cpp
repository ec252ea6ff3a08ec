#include "api/bedrock_runtime.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/admin.hpp"
#include "api/gateway.hpp"
#include "aws/event_stream.hpp"
#include "catalog/catalog.hpp"
#include "providers/simulator.hpp"
#include "routing/router.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

namespace sluice::api {
namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;
using test_support::BlockingClient;
using test_support::MakeRequest;

// A small body limit, so the oversize case needs only a few kilobytes.
constexpr std::size_t kBodyLimit = 1024;

constexpr std::string_view kNovaLitePath = "/model/amazon.nova-lite-v1%3A0";
constexpr std::string_view kHaikuPath = "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0";
constexpr std::string_view kProfileArnPath =
    "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
    "us.anthropic.claude-haiku-4-5-20251001-v1%3A0";

constexpr std::string_view kConverseBody =
    R"({"messages":[{"role":"user","content":[{"text":"Hello"}]}],)"
    R"("inferenceConfig":{"maxTokens":200}})";
constexpr std::string_view kAnthropicBody =
    R"({"anthropic_version":"bedrock-2023-05-31","max_tokens":200,)"
    R"("messages":[{"role":"user","content":"Hello"}]})";

std::string Path(std::string_view model_path, std::string_view operation) {
  return std::string(model_path) + "/" + std::string(operation);
}

std::string_view HeaderOf(const http::Response& response, std::string_view name) {
  const auto value = response[name];
  return {value.data(), value.size()};
}

std::string MessageOf(const http::Response& response) {
  return std::string(json::parse(response.body()).at("message").as_string());
}

std::string TextOfConverse(const http::Response& response) {
  const auto body = json::parse(response.body());
  return std::string(body.at("output").at("message").at("content").at(0).at("text").as_string());
}

std::string DecodeBase64(std::string_view text) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::decoded_size(text.size()), '\0');
  out.resize(b64::decode(out.data(), text.data(), text.size()).first);
  return out;
}

// One frame of an event-stream body, with the headers Bedrock's frames carry.
struct Frame {
  std::string message_type;
  std::string event_type;
  std::string content_type;
  std::string payload;
};

// Decodes a whole body; `clean` is false unless every byte formed a frame with valid CRCs.
std::vector<Frame> DecodeFrames(std::string_view body, bool& clean) {
  aws::Decoder decoder;
  decoder.Feed(body);
  std::vector<Frame> frames;
  aws::DecodedFrame frame;
  auto status = decoder.Next(frame);
  for (; status == aws::DecodeStatus::kFrame; status = decoder.Next(frame)) {
    const auto& message = frame.message;
    frames.push_back({std::string(message.FindStringHeader(":message-type").value_or("")),
                      std::string(message.FindStringHeader(":event-type").value_or("")),
                      std::string(message.FindStringHeader(":content-type").value_or("")),
                      message.payload});
  }
  clean = status == aws::DecodeStatus::kNeedMoreData && decoder.buffered_bytes() == 0;
  return frames;
}

bool LooksLikeUuid(std::string_view id) {
  return id.size() == 36 && id[8] == '-' && id[13] == '-' && id[14] == '4' && id[18] == '-' &&
         id[23] == '-';
}

class BedrockRuntimeApiTest : public ::testing::Test {
 protected:
  static providers::SimulatorOptions InstantSimulator() {
    providers::SimulatorOptions options;
    options.time_scale = 0;
    return options;
  }

  static routing::Router RouterServedBy(providers::Simulator& simulator) {
    routing::Router router(catalog::Catalog::BuiltIn(), "us-east-1");
    router.SetFallback(&simulator);
    return router;
  }

  static http::ServerLimits SmallBodies() {
    http::ServerLimits limits;
    limits.max_body_bytes = kBodyLimit;
    return limits;
  }

  http::Response Send(http::Request request) {
    BlockingClient client(server_.port());
    return client.Send(std::move(request));
  }

  http::Response Post(std::string_view target, std::string_view body,
                      std::string_view content_type = "application/json") {
    return Send(MakeRequest(bhttp::verb::post, target, std::string(body), content_type));
  }

  providers::Simulator simulator_{catalog::Catalog::BuiltIn(), InstantSimulator()};
  routing::Router router_ = RouterServedBy(simulator_);
  // No key store: every caller on loopback is served anonymously, as in the embedded default.
  Authenticator authenticator_{nullptr, AnonymousAccess::kLoopback};
  BedrockRuntimeApi bedrock_{router_, authenticator_, kBodyLimit};
  AdminApi admin_{&simulator_, authenticator_};
  Gateway gateway_{bedrock_, admin_, [] {
                     return true;
                   }};
  test_support::TestServer server_{gateway_, SmallBodies()};
};

TEST_F(BedrockRuntimeApiTest, ConversePercentDecodesTheModelId) {
  const auto target = Path(kNovaLitePath, "converse");

  const auto response = Post(target, kConverseBody);

  ASSERT_EQ(response.result_int(), 200) << response.body();
  EXPECT_EQ(HeaderOf(response, "Content-Type"), "application/json");
  EXPECT_TRUE(LooksLikeUuid(HeaderOf(response, "x-amzn-RequestId")));
  EXPECT_TRUE(TextOfConverse(response).starts_with("[simulated answer from amazon.nova-lite-v1:0]"))
      << response.body();
}

TEST_F(BedrockRuntimeApiTest, ConverseAcceptsAnUnencodedColon) {
  const std::string target = "/model/amazon.nova-lite-v1:0/converse";

  const auto response = Post(target, kConverseBody);

  EXPECT_EQ(response.result_int(), 200) << response.body();
}

TEST_F(BedrockRuntimeApiTest, ConversePercentDecodesAProfileArn) {
  const auto target = Path(kProfileArnPath, "converse");

  const auto response = Post(target, kConverseBody);

  ASSERT_EQ(response.result_int(), 200) << response.body();
  EXPECT_TRUE(TextOfConverse(response).starts_with(
      "[simulated answer from arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
      "us.anthropic.claude-haiku-4-5-20251001-v1:0]"))
      << response.body();
}

TEST_F(BedrockRuntimeApiTest, UnknownOperationIsNotFound) {
  const auto target = Path(kNovaLitePath, "summarize");

  const auto response = Post(target, kConverseBody);

  EXPECT_EQ(response.result_int(), 404);
  EXPECT_EQ(HeaderOf(response, "x-amzn-ErrorType"), "UnknownOperationException");
  EXPECT_TRUE(LooksLikeUuid(HeaderOf(response, "x-amzn-RequestId")));
}

TEST_F(BedrockRuntimeApiTest, GetOnAModelPathIsNotFound) {
  auto request = MakeRequest(bhttp::verb::get, Path(kNovaLitePath, "converse"), "", "");

  const auto response = Send(std::move(request));

  EXPECT_EQ(response.result_int(), 404);
  EXPECT_EQ(HeaderOf(response, "x-amzn-ErrorType"), "UnknownOperationException");
}

TEST_F(BedrockRuntimeApiTest, UnknownModelIsAValidationException) {
  const std::string target = "/model/acme.unknown-model-v1%3A0/converse";

  const auto response = Post(target, kConverseBody);

  EXPECT_EQ(response.result_int(), 400);
  EXPECT_TRUE(HeaderOf(response, "x-amzn-ErrorType").starts_with("ValidationException"));
  EXPECT_EQ(MessageOf(response), "The provided model identifier is invalid.");
}

TEST_F(BedrockRuntimeApiTest, MalformedJsonIsAValidationException) {
  const auto target = Path(kNovaLitePath, "converse");

  const auto response = Post(target, R"({"messages": [)");

  EXPECT_EQ(response.result_int(), 400);
  EXPECT_TRUE(HeaderOf(response, "x-amzn-ErrorType").starts_with("ValidationException"))
      << HeaderOf(response, "x-amzn-ErrorType");
  EXPECT_TRUE(LooksLikeUuid(HeaderOf(response, "x-amzn-RequestId")));
  EXPECT_EQ(HeaderOf(response, "Content-Type"), "application/json");
  EXPECT_EQ(MessageOf(response),
            "Malformed input request, please reformat your input and try again.");
}

TEST_F(BedrockRuntimeApiTest, WrongContentTypeIsAValidationException) {
  const auto target = Path(kNovaLitePath, "converse");

  const auto response = Post(target, kConverseBody, "text/plain");

  EXPECT_EQ(response.result_int(), 400);
  EXPECT_TRUE(HeaderOf(response, "x-amzn-ErrorType").starts_with("ValidationException"));
  EXPECT_EQ(MessageOf(response),
            "The provided content type text/plain is not supported. Use application/json and try "
            "again.");
}

TEST_F(BedrockRuntimeApiTest, JsonContentTypeWithParametersIsAccepted) {
  const auto target = Path(kNovaLitePath, "converse");

  const auto response = Post(target, kConverseBody, "application/json; charset=utf-8");

  EXPECT_EQ(response.result_int(), 200) << response.body();
}

// A Content-Length over the limit stops the parser before the head is done; the request is
// still answered with Bedrock's error, then the connection closes.
TEST_F(BedrockRuntimeApiTest, OversizeBodyIsRefusedAndTheConnectionClosed) {
  BlockingClient client(server_.port());
  const std::string body(4 * kBodyLimit, 'x');

  const auto response =
      client.Send(MakeRequest(bhttp::verb::post, Path(kNovaLitePath, "converse"), body));

  EXPECT_EQ(response.result_int(), 400);
  EXPECT_TRUE(HeaderOf(response, "x-amzn-ErrorType").starts_with("ValidationException"));
  EXPECT_EQ(MessageOf(response),
            "1 validation error detected: Value at 'body' failed to satisfy constraint: Member "
            "must have length less than or equal to " +
                std::to_string(kBodyLimit));
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(BedrockRuntimeApiTest, OversizeChunkedBodyIsRefusedAndTheConnectionClosed) {
  BlockingClient client(server_.port());
  auto request = MakeRequest(bhttp::verb::post, Path(kNovaLitePath, "converse"),
                             std::string(4 * kBodyLimit, 'x'));
  request.chunked(true);

  const auto response = client.Send(std::move(request));

  EXPECT_EQ(response.result_int(), 400);
  EXPECT_TRUE(HeaderOf(response, "x-amzn-ErrorType").starts_with("ValidationException"));
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(BedrockRuntimeApiTest, SequentialRequestsShareOneConnection) {
  BlockingClient client(server_.port());

  const auto first = client.Send(
      MakeRequest(bhttp::verb::post, Path(kNovaLitePath, "converse"), std::string(kConverseBody)));
  const auto second = client.Send(
      MakeRequest(bhttp::verb::post, Path(kHaikuPath, "converse"), std::string(kConverseBody)));

  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(second.result_int(), 200);
  EXPECT_NE(HeaderOf(first, "x-amzn-RequestId"), HeaderOf(second, "x-amzn-RequestId"));
}

TEST_F(BedrockRuntimeApiTest, ConverseStreamIsAValidEventStream) {
  const auto target = Path(kNovaLitePath, "converse-stream");

  const auto response = Post(target, kConverseBody);

  ASSERT_EQ(response.result_int(), 200) << response.body();
  EXPECT_EQ(HeaderOf(response, "Content-Type"), "application/vnd.amazon.eventstream");
  bool clean = false;
  const auto frames = DecodeFrames(response.body(), clean);
  EXPECT_TRUE(clean);
  ASSERT_GE(frames.size(), 5u);
  std::string text;
  for (const auto& frame : frames) {
    EXPECT_EQ(frame.message_type, "event");
    EXPECT_EQ(frame.content_type, "application/json");
    const auto payload = json::parse(frame.payload);
    if (frame.event_type == "contentBlockDelta") {
      text += payload.at("delta").at("text").as_string();
    }
  }
  EXPECT_EQ(frames.front().event_type, "messageStart");
  for (std::size_t i = 1; i + 3 < frames.size(); ++i) {
    EXPECT_EQ(frames[i].event_type, "contentBlockDelta") << "frame " << i;
  }
  EXPECT_EQ(frames[frames.size() - 3].event_type, "contentBlockStop");
  EXPECT_EQ(frames[frames.size() - 2].event_type, "messageStop");
  EXPECT_EQ(frames.back().event_type, "metadata");
  EXPECT_TRUE(json::parse(frames.back().payload).at("usage").as_object().contains("outputTokens"));
  EXPECT_TRUE(text.starts_with("[simulated answer from amazon.nova-lite-v1:0]")) << text;
}

TEST_F(BedrockRuntimeApiTest, InvokeModelReportsTokenCountsInHeaders) {
  const auto target = Path(kHaikuPath, "invoke");

  const auto response = Post(target, kAnthropicBody);

  ASSERT_EQ(response.result_int(), 200) << response.body();
  const auto body = json::parse(response.body());
  EXPECT_EQ(body.at("type"), "message");
  EXPECT_EQ(HeaderOf(response, "X-Amzn-Bedrock-Input-Token-Count"),
            std::to_string(body.at("usage").at("input_tokens").to_number<std::int64_t>()));
  EXPECT_EQ(HeaderOf(response, "X-Amzn-Bedrock-Output-Token-Count"),
            std::to_string(body.at("usage").at("output_tokens").to_number<std::int64_t>()));
  EXPECT_NE(HeaderOf(response, "X-Amzn-Bedrock-Output-Token-Count"), "0");
}

TEST_F(BedrockRuntimeApiTest, InvokeModelWithResponseStreamCarriesAnthropicEvents) {
  const auto target = Path(kHaikuPath, "invoke-with-response-stream");

  const auto response = Post(target, kAnthropicBody);

  ASSERT_EQ(response.result_int(), 200) << response.body();
  EXPECT_EQ(HeaderOf(response, "Content-Type"), "application/vnd.amazon.eventstream");
  EXPECT_EQ(HeaderOf(response, "X-Amzn-Bedrock-Content-Type"), "application/json");
  bool clean = false;
  const auto frames = DecodeFrames(response.body(), clean);
  EXPECT_TRUE(clean);
  std::vector<json::object> events;
  for (const auto& frame : frames) {
    EXPECT_EQ(frame.event_type, "chunk");
    const auto payload = json::parse(frame.payload);
    events.push_back(json::parse(DecodeBase64(payload.at("bytes").as_string())).as_object());
  }
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.front().at("type"), "message_start");
  EXPECT_EQ(events[1].at("type"), "content_block_start");
  EXPECT_EQ(events.back().at("type"), "message_stop");
  const auto& metrics = events.back().at("amazon-bedrock-invocationMetrics").as_object();
  EXPECT_GT(metrics.at("outputTokenCount").to_number<std::int64_t>(), 0);
}

TEST_F(BedrockRuntimeApiTest, RequestMetadataHeaderWithBadJsonIsRejected) {
  auto request =
      MakeRequest(bhttp::verb::post, Path(kHaikuPath, "invoke"), std::string(kAnthropicBody));
  request.set("X-Amzn-Bedrock-Request-Metadata", "{team: search");

  const auto response = Send(std::move(request));

  EXPECT_EQ(response.result_int(), 400);
  EXPECT_TRUE(HeaderOf(response, "x-amzn-ErrorType").starts_with("ValidationException"));
  EXPECT_EQ(MessageOf(response), "The request metadata header is not a valid JSON object.");
}

TEST_F(BedrockRuntimeApiTest, RequestMetadataHeaderIsValidatedLikeTheBodyMember) {
  auto bad =
      MakeRequest(bhttp::verb::post, Path(kHaikuPath, "invoke"), std::string(kAnthropicBody));
  bad.set("X-Amzn-Bedrock-Request-Metadata", R"({"team!":"search"})");
  auto good =
      MakeRequest(bhttp::verb::post, Path(kHaikuPath, "invoke"), std::string(kAnthropicBody));
  good.set("X-Amzn-Bedrock-Request-Metadata", R"({"team":"search"})");

  const auto bad_response = Send(std::move(bad));
  const auto good_response = Send(std::move(good));

  EXPECT_EQ(bad_response.result_int(), 400);
  EXPECT_TRUE(MessageOf(bad_response).find("requestMetadata") != std::string::npos)
      << bad_response.body();
  EXPECT_EQ(good_response.result_int(), 200) << good_response.body();
}

}  // namespace
}  // namespace sluice::api
