#include "providers/simulator.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "catalog/catalog.hpp"
#include "core/converse_json.hpp"
#include "core/tokens.hpp"
#include "support/recording_sink.hpp"
#include "support/run_coroutine.hpp"

namespace sluice::providers {
namespace {

namespace json = boost::json;
using core::StreamEventType;
using test_support::RecordingSink;
using test_support::RunCoroutine;

// Nova Lite is served in-region in us-east-1 and has a 1:1 output burndown, which keeps the
// quota arithmetic below plain.
constexpr std::string_view kNovaLite = "amazon.nova-lite-v1:0";
constexpr std::string_view kNovaLiteUs = "us.amazon.nova-lite-v1:0";
constexpr std::string_view kHaikuUs = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

const std::vector<std::string> kNovaLiteUsDestinations = {"us-east-1", "us-east-2", "us-west-2"};
const std::vector<std::string> kHaikuUsDestinations = {"us-east-1", "us-east-2", "us-west-1",
                                                       "us-west-2"};

constexpr std::string_view kHello =
    R"({"messages":[{"role":"user","content":[{"text":"Hello"}]}]})";

std::string UserTurn(std::string_view text, std::string_view extra_members = "") {
  json::object body;
  body["messages"] = json::array{
      json::object{{"role", "user"}, {"content", json::array{json::object{{"text", text}}}}}};
  std::string serialized = json::serialize(body);
  if (!extra_members.empty()) {
    serialized.pop_back();
    serialized += ',';
    serialized += extra_members;
    serialized += '}';
  }
  return serialized;
}

std::string_view AnswerText(const core::ConverseResponse& response) {
  const auto& block = response.converse.at("output").at("message").at("content").at(0);
  return block.at("text").as_string();
}

const json::object& ToolUseOf(const core::ConverseResponse& response) {
  return response.converse.at("output").at("message").at("content").at(0).at("toolUse").as_object();
}

// A tool list with two tools whose schemas have required and optional properties.
constexpr std::string_view kTools = R"("toolConfig":{"tools":[
    {"toolSpec":{"name":"get_weather","inputSchema":{"json":{"type":"object",
      "properties":{"city":{"type":"string"},"days":{"type":"integer"},
                    "metric":{"type":"boolean"},"unit":{"type":"string"}},
      "required":["city","days","metric"]}}}},
    {"toolSpec":{"name":"lookup_stock","inputSchema":{"json":{"type":"object",
      "properties":{"symbol":{"type":"string"},"history":{"type":"array"}},
      "required":["symbol","history"]}}}}])";

class SimulatorTest : public ::testing::Test {
 protected:
  SimulatorTest() { options_.time_scale = 0; }

  const catalog::Catalog& catalog() const { return catalog::Catalog::BuiltIn(); }

  Simulator MakeSimulator() const { return Simulator(catalog(), options_); }

  static core::ConverseRequest Request(std::string_view model_id, std::string_view body,
                                       core::Operation operation = core::Operation::kConverse) {
    auto parsed = core::ParseConverseRequest(body, operation, std::string(model_id));
    EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
    return std::move(*parsed);
  }

  core::Result<core::ConverseResponse> Converse(Simulator& simulator,
                                                const core::ConverseRequest& request,
                                                std::string region = "us-east-1",
                                                std::string request_id = "req-1") {
    const Call call{request, Target{std::move(region), request.model_id}, std::move(request_id),
                    std::chrono::steady_clock::now() + std::chrono::seconds(10)};
    return RunCoroutine(io_, simulator.Converse(call));
  }

  core::Result<core::StreamSummary> Stream(Simulator& simulator,
                                           const core::ConverseRequest& request, StreamSink& sink,
                                           std::string region = "us-east-1") {
    const Call call{request, Target{std::move(region), request.model_id}, "req-stream",
                    std::chrono::steady_clock::now() + std::chrono::seconds(10)};
    return RunCoroutine(io_, simulator.ConverseStream(call, sink));
  }

  boost::asio::io_context io_;
  SimulatorOptions options_;
};

TEST_F(SimulatorTest, AnswersTheSameRequestTheSameWay) {
  auto simulator = MakeSimulator();
  const auto request = Request(kNovaLite, UserTurn("Tell me about quotas."));

  auto first = Converse(simulator, request, "us-east-1", "req-a");
  auto second = Converse(simulator, request, "us-east-1", "req-b");

  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(first->converse.at("output"), second->converse.at("output"));
  EXPECT_EQ(first->converse.at("usage"), second->converse.at("usage"));
  EXPECT_EQ(first->stop_reason, second->stop_reason);
}

TEST_F(SimulatorTest, DifferentPromptsGetDifferentAnswers) {
  auto simulator = MakeSimulator();

  auto first = Converse(simulator, Request(kNovaLite, UserTurn("Tell me about quotas.")));
  auto second = Converse(simulator, Request(kNovaLite, UserTurn("Tell me about regions.")));

  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(AnswerText(*first), AnswerText(*second));
}

TEST_F(SimulatorTest, AnswerSaysWhichModelItSimulates) {
  auto simulator = MakeSimulator();
  const auto request = Request(kNovaLite, kHello);

  auto answer = Converse(simulator, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_TRUE(AnswerText(*answer).starts_with("[simulated answer from amazon.nova-lite-v1:0]"))
      << AnswerText(*answer);
  EXPECT_EQ(answer->stop_reason, "end_turn");
  EXPECT_EQ(answer->converse.at("stopReason"), "end_turn");
}

TEST_F(SimulatorTest, UsageIsEstimatedFromPromptAndAnswerText) {
  auto simulator = MakeSimulator();
  const auto request = Request(kNovaLite, UserTurn("How many tokens is this?"));

  auto answer = Converse(simulator, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->usage.output_tokens, core::EstimateTokens(AnswerText(*answer)));
  EXPECT_EQ(answer->usage.input_tokens, core::EstimateInputTokens(request));
  const auto& usage = answer->converse.at("usage");
  EXPECT_EQ(usage.at("outputTokens"), answer->usage.output_tokens);
  EXPECT_EQ(usage.at("totalTokens"), answer->usage.input_tokens + answer->usage.output_tokens);
}

TEST_F(SimulatorTest, StopsAtMaxTokensWithMaxTokensStopReason) {
  auto simulator = MakeSimulator();
  // The prefix alone is 15 tokens and every answer aims for at least 24, so three more than
  // the prefix always cuts it short.
  const auto prefix_tokens = core::EstimateTokens("[simulated answer from amazon.nova-lite-v1:0]");
  const auto max_tokens = prefix_tokens + 3;
  const auto request = Request(kNovaLite, UserTurn("Hello", R"("inferenceConfig":{"maxTokens":)" +
                                                                std::to_string(max_tokens) + "}"));

  auto answer = Converse(simulator, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->stop_reason, "max_tokens");
  EXPECT_LE(answer->usage.output_tokens, max_tokens);
  EXPECT_GT(answer->usage.output_tokens, prefix_tokens);
}

// A maxTokens smaller than the "[simulated answer from <model>]" marker cuts the marker too.
TEST_F(SimulatorTest, NeverAnswersWithMoreTokensThanMaxTokensAllows) {
  auto simulator = MakeSimulator();
  const auto request =
      Request(kNovaLite, UserTurn("Hello", R"("inferenceConfig":{"maxTokens":5})"));

  auto answer = Converse(simulator, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->stop_reason, "max_tokens");
  EXPECT_LE(answer->usage.output_tokens, 5);
}

// An answer whose words fill maxTokens exactly has no room left for its closing period.
TEST_F(SimulatorTest, ClosingPeriodStaysWithinMaxTokens) {
  auto simulator = MakeSimulator();
  auto unlimited = Converse(simulator, Request(kNovaLite, kHello));
  ASSERT_TRUE(unlimited.has_value());
  // The same prompt gets the same words; allow exactly the words without the period.
  const auto max_tokens = unlimited->usage.output_tokens - 1;
  const auto request = Request(kNovaLite, UserTurn("Hello", R"("inferenceConfig":{"maxTokens":)" +
                                                                std::to_string(max_tokens) + "}"));

  auto answer = Converse(simulator, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_LE(answer->usage.output_tokens, max_tokens);
}

TEST_F(SimulatorTest, ToolChoiceAnyCallsTheFirstToolWithPlaceholderInputs) {
  auto simulator = MakeSimulator();
  const auto request =
      Request(kNovaLite, UserTurn("Hello", std::string(kTools) + R"(,"toolChoice":{"any":{}}})"));

  auto answer = Converse(simulator, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->stop_reason, "tool_use");
  const auto& tool_use = ToolUseOf(*answer);
  EXPECT_EQ(tool_use.at("name"), "get_weather");
  EXPECT_EQ(tool_use.at("input"), json::parse(R"({"city":"simulated","days":1,"metric":true})"));
  EXPECT_TRUE(tool_use.at("toolUseId").as_string().starts_with("tooluse_"));
  EXPECT_EQ(answer->usage.output_tokens, core::EstimateJsonTokens(tool_use));
}

TEST_F(SimulatorTest, NamedToolChoiceCallsThatTool) {
  auto simulator = MakeSimulator();
  const auto request = Request(
      kNovaLite, UserTurn("Hello", std::string(kTools) +
                                       R"(,"toolChoice":{"tool":{"name":"lookup_stock"}}})"));

  auto answer = Converse(simulator, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  const auto& tool_use = ToolUseOf(*answer);
  EXPECT_EQ(tool_use.at("name"), "lookup_stock");
  EXPECT_EQ(tool_use.at("input"), json::parse(R"({"symbol":"simulated","history":[]})"));
}

TEST_F(SimulatorTest, CallsAToolThePromptMentions) {
  auto simulator = MakeSimulator();
  const auto request =
      Request(kNovaLite, UserTurn("Please use lookup_stock for ACME.", std::string(kTools) + "}"));

  auto answer = Converse(simulator, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->stop_reason, "tool_use");
  EXPECT_EQ(ToolUseOf(*answer).at("name"), "lookup_stock");
}

TEST_F(SimulatorTest, AnswersInTextWhenNoToolIsCalledFor) {
  auto simulator = MakeSimulator();
  const auto request = Request(kNovaLite, UserTurn("Just say hello.", std::string(kTools) + "}"));

  auto answer = Converse(simulator, request);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->stop_reason, "end_turn");
  EXPECT_FALSE(AnswerText(*answer).empty());
}

TEST_F(SimulatorTest, ProfilePrefersTheCallersOwnRegion) {
  auto simulator = MakeSimulator();
  const auto request = Request(kHaikuUs, kHello);

  auto from_east = Converse(simulator, request, "us-east-2");
  auto from_west = Converse(simulator, request, "us-west-1");

  ASSERT_TRUE(from_east.has_value()) << from_east.error().message;
  ASSERT_TRUE(from_west.has_value()) << from_west.error().message;
  EXPECT_EQ(from_east->inference_region, "us-east-2");
  EXPECT_EQ(from_west->inference_region, "us-west-1");
}

TEST_F(SimulatorTest, ProfileFromASourceOnlyRegionRunsInADestination) {
  auto simulator = MakeSimulator();
  const auto request = Request(kHaikuUs, kHello);

  for (int i = 0; i < 8; ++i) {
    auto answer = Converse(simulator, request, "ca-central-1", "req-" + std::to_string(i));

    ASSERT_TRUE(answer.has_value()) << answer.error().message;
    EXPECT_NE(std::find(kHaikuUsDestinations.begin(), kHaikuUsDestinations.end(),
                        answer->inference_region),
              kHaikuUsDestinations.end())
        << answer->inference_region;
  }
}

TEST_F(SimulatorTest, OutageTakesDownInRegionModelButNotItsProfile) {
  auto simulator = MakeSimulator();
  const bool updated =
      simulator.UpdateRegion("us-east-1", [](SimulatedRegion& region) { region.outage = true; });
  ASSERT_TRUE(updated);

  auto in_region = Converse(simulator, Request(kNovaLite, kHello), "us-east-1");
  auto profile = Converse(simulator, Request(kNovaLiteUs, kHello), "us-east-1");

  ASSERT_FALSE(in_region.has_value());
  EXPECT_EQ(in_region.error().code, core::ErrorCode::kServiceUnavailable);
  ASSERT_TRUE(profile.has_value()) << profile.error().message;
  EXPECT_NE(profile->inference_region, "us-east-1");
  EXPECT_NE(std::find(kNovaLiteUsDestinations.begin(), kNovaLiteUsDestinations.end(),
                      profile->inference_region),
            kNovaLiteUsDestinations.end());
}

TEST_F(SimulatorTest, ProfileWithEveryDestinationOutIsUnavailable) {
  auto simulator = MakeSimulator();
  for (const auto& region : kNovaLiteUsDestinations) {
    ASSERT_TRUE(simulator.UpdateRegion(region, [](SimulatedRegion& r) { r.outage = true; }));
  }

  auto answer = Converse(simulator, Request(kNovaLiteUs, kHello), "us-east-1");

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, core::ErrorCode::kServiceUnavailable);
}

TEST_F(SimulatorTest, ThrottlesRequestsBeyondRequestsPerMinute) {
  options_.defaults.requests_per_minute = 2;
  auto simulator = MakeSimulator();
  const auto request = Request(kNovaLite, kHello);

  auto first = Converse(simulator, request);
  auto second = Converse(simulator, request);
  auto third = Converse(simulator, request);

  EXPECT_TRUE(first.has_value());
  EXPECT_TRUE(second.has_value());
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().code, core::ErrorCode::kThrottling);
  EXPECT_EQ(third.error().message, "Too many requests, please wait before trying again.");
}

TEST_F(SimulatorTest, ThrottlesWhenTheReservationExceedsTokensPerMinute) {
  options_.defaults.tokens_per_minute = 100;
  auto simulator = MakeSimulator();
  // Input (a few tokens) plus maxTokens 100 is more than the whole minute's capacity.
  const auto request =
      Request(kNovaLite, UserTurn("Hello", R"("inferenceConfig":{"maxTokens":100})"));

  auto answer = Converse(simulator, request);

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, core::ErrorCode::kThrottling);
  EXPECT_EQ(answer.error().message, "Too many tokens, please wait before trying again.");
}

TEST_F(SimulatorTest, ReservesTheModelMaximumWhenMaxTokensIsUnset) {
  // Nova Lite's maximum output is 10,000 tokens: with 9,000 per minute even a tiny prompt
  // without maxTokens cannot be admitted, as on Bedrock.
  options_.defaults.tokens_per_minute = 9'000;
  auto simulator = MakeSimulator();

  auto answer = Converse(simulator, Request(kNovaLite, kHello));

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().message, "Too many tokens, please wait before trying again.");
}

// Bedrock reserves input + maxTokens and settles to input + output: after a short answer to a
// request with a large maxTokens, the unused part is back in the bucket. The first request
// reserves the whole minute, so without the refund nothing would be left for the second.
TEST_F(SimulatorTest, SettlingReturnsTheUnusedReservation) {
  constexpr std::int64_t kFirstMaxTokens = 1'000;
  const auto probe = Request(kNovaLite, kHello);
  const auto input = core::EstimateInputTokens(probe);
  const std::int64_t capacity = input + kFirstMaxTokens;
  options_.defaults.tokens_per_minute = capacity;
  auto simulator = MakeSimulator();
  auto with_max = [&](std::int64_t max_tokens) {
    return Request(kNovaLite, UserTurn("Hello", R"("inferenceConfig":{"maxTokens":)" +
                                                    std::to_string(max_tokens) + "}"));
  };
  auto first = Converse(simulator, with_max(kFirstMaxTokens));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  const std::int64_t left = capacity - input - first->usage.output_tokens;

  // Refill adds capacity / 60,000 tokens per millisecond, far less than the 5-token margin.
  auto too_big = Converse(simulator, with_max(left - input + 5));
  auto exact = Converse(simulator, with_max(left - input));

  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().message, "Too many tokens, please wait before trying again.");
  EXPECT_TRUE(exact.has_value()) << exact.error().message;
}

TEST_F(SimulatorTest, StreamsEventsInBedrockOrder) {
  auto simulator = MakeSimulator();
  const auto request = Request(kNovaLite, kHello, core::Operation::kConverseStream);
  RecordingSink sink;

  auto summary = Stream(simulator, request, sink);

  ASSERT_TRUE(summary.has_value()) << summary.error().message;
  const auto types = sink.types();
  ASSERT_GE(types.size(), 5u);
  EXPECT_EQ(types.front(), StreamEventType::kMessageStart);
  for (std::size_t i = 1; i + 3 < types.size(); ++i) {
    EXPECT_EQ(types[i], StreamEventType::kContentBlockDelta) << "event " << i;
  }
  EXPECT_EQ(types[types.size() - 3], StreamEventType::kContentBlockStop);
  EXPECT_EQ(types[types.size() - 2], StreamEventType::kMessageStop);
  EXPECT_EQ(types.back(), StreamEventType::kMetadata);
}

TEST_F(SimulatorTest, StreamCarriesTheSameAnswerAsConverse) {
  auto simulator = MakeSimulator();
  const auto request = Request(kNovaLite, kHello, core::Operation::kConverseStream);
  RecordingSink sink;

  auto summary = Stream(simulator, request, sink);
  auto answer = Converse(simulator, request);

  ASSERT_TRUE(summary.has_value()) << summary.error().message;
  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(sink.text(), AnswerText(*answer));
  const auto& metadata = sink.events().back().payload;
  EXPECT_EQ(metadata.at("usage"), answer->converse.at("usage"));
  EXPECT_EQ(sink.events()[sink.events().size() - 2].payload.at("stopReason"), "end_turn");
  EXPECT_EQ(summary->usage.output_tokens, answer->usage.output_tokens);
  EXPECT_EQ(summary->usage.input_tokens, answer->usage.input_tokens);
  EXPECT_EQ(summary->stop_reason, "end_turn");
  EXPECT_EQ(summary->inference_region, "us-east-1");
}

TEST_F(SimulatorTest, StreamsAToolUseAsStartAndInputFragments) {
  auto simulator = MakeSimulator();
  const auto request =
      Request(kNovaLite, UserTurn("Hello", std::string(kTools) + R"(,"toolChoice":{"any":{}}})"),
              core::Operation::kConverseStream);
  RecordingSink sink;

  auto summary = Stream(simulator, request, sink);

  ASSERT_TRUE(summary.has_value()) << summary.error().message;
  const auto& events = sink.events();
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[1].type, StreamEventType::kContentBlockStart);
  EXPECT_EQ(events[1].payload.at("start").at("toolUse").at("name"), "get_weather");
  std::string input;
  for (std::size_t i = 2; i <= 3; ++i) {
    EXPECT_EQ(events[i].type, StreamEventType::kContentBlockDelta);
    input += events[i].payload.at("delta").at("toolUse").at("input").as_string();
  }
  EXPECT_EQ(json::parse(input), json::parse(R"({"city":"simulated","days":1,"metric":true})"));
  EXPECT_EQ(events[5].payload.at("stopReason"), "tool_use");
}

TEST_F(SimulatorTest, StreamBreaksWithModelStreamErrorAfterConfiguredEvents) {
  options_.defaults.stream_error_after_events = 2;
  auto simulator = MakeSimulator();
  const auto request = Request(kNovaLite, kHello, core::Operation::kConverseStream);
  RecordingSink sink;

  auto summary = Stream(simulator, request, sink);

  ASSERT_FALSE(summary.has_value());
  EXPECT_EQ(summary.error().code, core::ErrorCode::kModelStreamError);
  ASSERT_EQ(sink.events().size(), 2u);
  EXPECT_EQ(sink.events()[0].type, StreamEventType::kMessageStart);
  EXPECT_EQ(sink.events()[1].type, StreamEventType::kContentBlockDelta);
}

TEST_F(SimulatorTest, SinkThatRefusesStopsTheStreamWithoutError) {
  auto simulator = MakeSimulator();
  const auto request = Request(kNovaLite, kHello, core::Operation::kConverseStream);
  RecordingSink sink(2);

  auto summary = Stream(simulator, request, sink);

  EXPECT_TRUE(summary.has_value()) << summary.error().message;
  EXPECT_EQ(sink.events().size(), 2u);
  EXPECT_EQ(sink.refused(), 1u);
}

TEST_F(SimulatorTest, UpdateRegionRefusesRegionsTheCatalogDoesNotKnow) {
  auto simulator = MakeSimulator();

  const bool updated =
      simulator.UpdateRegion("mars-north-1", [](SimulatedRegion& r) { r.outage = true; });

  EXPECT_FALSE(updated);
  const auto regions = simulator.Regions();
  EXPECT_TRUE(std::none_of(regions.begin(), regions.end(),
                           [](const auto& state) { return state.region == "mars-north-1"; }));
}

TEST_F(SimulatorTest, UpdateRegionChangesWhatRegionsReports) {
  auto simulator = MakeSimulator();

  const bool updated =
      simulator.UpdateRegion("eu-west-1", [](SimulatedRegion& r) { r.tokens_per_minute = 77; });

  ASSERT_TRUE(updated);
  const auto regions = simulator.Regions();
  ASSERT_TRUE(std::is_sorted(regions.begin(), regions.end(),
                             [](const auto& a, const auto& b) { return a.region < b.region; }));
  const auto eu = std::find_if(regions.begin(), regions.end(),
                               [](const auto& state) { return state.region == "eu-west-1"; });
  ASSERT_NE(eu, regions.end());
  EXPECT_EQ(eu->settings.tokens_per_minute, 77);
}

TEST_F(SimulatorTest, UnknownModelIsAnInvalidIdentifier) {
  auto simulator = MakeSimulator();

  auto answer = Converse(simulator, Request("acme.unknown-model-v1:0", kHello));

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, core::ErrorCode::kValidation);
  EXPECT_EQ(answer.error().message, "The provided model identifier is invalid.");
}

}  // namespace
}  // namespace sluice::providers
