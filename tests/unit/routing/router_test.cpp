#include "routing/router.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "catalog/catalog.hpp"
#include "core/converse_json.hpp"
#include "providers/simulator.hpp"
#include "support/recording_sink.hpp"
#include "support/run_coroutine.hpp"
#include "support/scripted_provider.hpp"

namespace sluice::routing {
namespace {

using namespace std::chrono_literals;
using core::ErrorCode;
using test_support::RecordingSink;
using test_support::RunCoroutine;
using test_support::ScriptedProvider;

constexpr std::string_view kAlias = "team-default";
constexpr std::string_view kNovaLite = "amazon.nova-lite-v1:0";
constexpr std::string_view kHaikuUs = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
constexpr std::string_view kHello =
    R"({"messages":[{"role":"user","content":[{"text":"Hello"}]}]})";

// A one-turn Converse body with the given maxTokens.
std::string WithMaxTokens(int max_tokens) {
  return R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}],)"
         R"("inferenceConfig":{"maxTokens":)" +
         std::to_string(max_tokens) + "}}";
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : router_(catalog::Catalog::BuiltIn(), "us-east-1") {}

  static core::ConverseRequest Request(std::string_view model_id, std::string_view body = kHello) {
    auto parsed =
        core::ParseConverseRequest(body, core::Operation::kConverse, std::string(model_id));
    EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
    return std::move(*parsed);
  }

  // Adds `provider` as the next deployment of kAlias, sending it Nova Lite in `region`.
  void Deploy(ScriptedProvider& provider, std::string region = "us-east-1",
              std::string model_id = std::string(kNovaLite)) {
    router_.AddDeployment(std::string(kAlias),
                          Deployment{std::string(provider.name()), &provider,
                                     providers::Target{std::move(region), std::move(model_id)}});
  }

  RouteContext Context(std::chrono::milliseconds budget = 10s) const {
    RouteContext context;
    context.request_id = "req-router";
    context.deadline = std::chrono::steady_clock::now() + budget;
    return context;
  }

  core::Result<core::ConverseResponse> Converse(const core::ConverseRequest& request,
                                                RouteContext& context) {
    return RunCoroutine(io_, router_.Converse(request, context));
  }

  core::Result<core::StreamSummary> Stream(const core::ConverseRequest& request,
                                           providers::StreamSink& sink, RouteContext& context) {
    return RunCoroutine(io_, router_.ConverseStream(request, sink, context));
  }

  static core::StreamEvent StartEvent() {
    return core::StreamEvent{
        core::StreamEventType::kMessageStart, boost::json::object{{"role", "assistant"}}, {}};
  }

  boost::asio::io_context io_;
  Router router_;
  ScriptedProvider first_{"first"};
  ScriptedProvider second_{"second"};
  ScriptedProvider third_{"third"};
};

TEST_F(RouterTest, TriesConfiguredDeploymentsInOrder) {
  Deploy(first_, "us-east-1");
  Deploy(second_, "us-west-2");
  first_.QueueAnswer();
  auto context = Context();

  auto answer = Converse(Request(kAlias), context);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  ASSERT_EQ(first_.calls().size(), 1u);
  EXPECT_TRUE(second_.calls().empty());
  EXPECT_EQ(first_.calls()[0].target.model_id, kNovaLite);
  EXPECT_EQ(first_.calls()[0].target.region, "us-east-1");
  EXPECT_EQ(first_.calls()[0].request_id, "req-router");
  EXPECT_EQ(first_.calls()[0].model_id, kAlias);
  ASSERT_NE(context.served_by, nullptr);
  EXPECT_EQ(context.served_by->name, "first");
}

TEST_F(RouterTest, FailsOverOnRetryableErrors) {
  for (const auto code :
       {ErrorCode::kThrottling, ErrorCode::kServiceUnavailable, ErrorCode::kModelTimeout,
        ErrorCode::kInternalServer, ErrorCode::kModelNotReady}) {
    SCOPED_TRACE(core::ExceptionName(code));
    Router router(catalog::Catalog::BuiltIn(), "us-east-1");
    ScriptedProvider failing("failing");
    ScriptedProvider healthy("healthy");
    router.AddDeployment(std::string(kAlias), {"failing", &failing, {"us-east-1", "m"}});
    router.AddDeployment(std::string(kAlias), {"healthy", &healthy, {"us-west-2", "m"}});
    failing.QueueError(code);
    healthy.QueueAnswer("us-west-2");
    auto context = Context();

    auto answer = RunCoroutine(io_, router.Converse(Request(kAlias), context));

    ASSERT_TRUE(answer.has_value()) << answer.error().message;
    EXPECT_EQ(healthy.calls().size(), 1u);
    ASSERT_NE(context.served_by, nullptr);
    EXPECT_EQ(context.served_by->name, "healthy");
  }
}

TEST_F(RouterTest, ValidationErrorIsNotRetriedElsewhere) {
  Deploy(first_);
  Deploy(second_);
  first_.QueueError(ErrorCode::kValidation, "The model rejected the input.");
  second_.QueueAnswer();
  auto context = Context();

  auto answer = Converse(Request(kAlias), context);

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kValidation);
  EXPECT_EQ(answer.error().message, "The model rejected the input.");
  EXPECT_TRUE(second_.calls().empty());
  EXPECT_EQ(context.served_by, nullptr);
}

TEST_F(RouterTest, ReturnsTheLastErrorWhenEveryCandidateFails) {
  Deploy(first_);
  Deploy(second_);
  first_.QueueError(ErrorCode::kThrottling, "Too many requests, please wait before trying again.");
  second_.QueueError(ErrorCode::kServiceUnavailable, "Bedrock is unable to process your request.");
  auto context = Context();

  auto answer = Converse(Request(kAlias), context);

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kServiceUnavailable);
  EXPECT_EQ(answer.error().message, "Bedrock is unable to process your request.");
}

TEST_F(RouterTest, RecordsEveryAttempt) {
  Deploy(first_, "us-east-1");
  Deploy(second_, "us-east-2");
  Deploy(third_, "us-west-2");
  first_.QueueError(ErrorCode::kThrottling);
  second_.QueueError(ErrorCode::kModelTimeout);
  third_.QueueAnswer("us-west-1");
  auto context = Context();

  auto answer = Converse(Request(kAlias), context);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  ASSERT_EQ(context.attempts.size(), 3u);
  EXPECT_EQ(context.attempts[0].deployment->name, "first");
  EXPECT_EQ(context.attempts[0].deployment->target.region, "us-east-1");
  EXPECT_EQ(context.attempts[0].error, ErrorCode::kThrottling);
  EXPECT_EQ(context.attempts[1].deployment->name, "second");
  EXPECT_EQ(context.attempts[1].error, ErrorCode::kModelTimeout);
  EXPECT_EQ(context.attempts[2].deployment->name, "third");
  EXPECT_FALSE(context.attempts[2].error.has_value());
  EXPECT_EQ(context.served_by, context.attempts[2].deployment);
  EXPECT_EQ(answer->inference_region, "us-west-1");  // where it ran, as the provider says
}

TEST_F(RouterTest, StreamFailsOverWhileNothingReachedTheClient) {
  Deploy(first_);
  Deploy(second_);
  first_.QueueStream({}, core::Error{ErrorCode::kThrottling, "busy"});
  second_.QueueStream({StartEvent()}, core::StreamSummary{});
  RecordingSink sink;
  auto context = Context();

  auto summary = Stream(Request(kAlias), sink, context);

  ASSERT_TRUE(summary.has_value()) << summary.error().message;
  EXPECT_EQ(second_.calls().size(), 1u);
  EXPECT_EQ(sink.events().size(), 1u);
  EXPECT_EQ(context.attempts.size(), 2u);
}

TEST_F(RouterTest, CommittedStreamDoesNotFailOver) {
  Deploy(first_);
  Deploy(second_);
  first_.QueueStream({StartEvent()}, core::Error{ErrorCode::kThrottling, "busy"});
  second_.QueueStream({StartEvent()}, core::StreamSummary{});
  RecordingSink sink;
  auto context = Context();

  auto summary = Stream(Request(kAlias), sink, context);

  ASSERT_FALSE(summary.has_value());
  EXPECT_EQ(summary.error().code, ErrorCode::kThrottling);
  EXPECT_TRUE(second_.calls().empty());
  EXPECT_EQ(sink.events().size(), 1u);
  ASSERT_EQ(context.attempts.size(), 1u);
  EXPECT_EQ(context.attempts[0].error, ErrorCode::kThrottling);
}

TEST_F(RouterTest, PassedDeadlineStopsFailover) {
  Deploy(first_);
  Deploy(second_);
  auto context = Context(30ms);
  const auto deadline = context.deadline;
  // The first attempt uses up the whole budget before it fails.
  first_.set_on_call([deadline] { std::this_thread::sleep_until(deadline + 1ms); });
  first_.QueueError(ErrorCode::kThrottling, "busy");
  second_.QueueAnswer();

  auto answer = Converse(Request(kAlias), context);

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kThrottling);
  EXPECT_TRUE(second_.calls().empty());
  EXPECT_EQ(context.attempts.size(), 1u);
}

TEST_F(RouterTest, RequestPastItsDeadlineReachesNoProvider) {
  Deploy(first_);
  first_.QueueAnswer();
  auto context = Context(0ms);

  auto answer = Converse(Request(kAlias), context);

  EXPECT_FALSE(answer.has_value());
  EXPECT_TRUE(first_.calls().empty());
}

TEST_F(RouterTest, ProvidersSeeTheCallDeadline) {
  Deploy(first_);
  first_.QueueAnswer();
  auto context = Context(5s);

  auto answer = Converse(Request(kAlias), context);

  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(first_.calls().size(), 1u);
  EXPECT_EQ(first_.calls()[0].deadline, context.deadline);
}

TEST_F(RouterTest, FallbackSimulatorServesCatalogModels) {
  providers::SimulatorOptions options;
  options.time_scale = 0;
  providers::Simulator simulator(catalog::Catalog::BuiltIn(), options);
  router_.SetFallback(&simulator);
  auto context = Context();

  auto answer = Converse(Request(kHaikuUs), context);

  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  ASSERT_NE(context.served_by, nullptr);
  EXPECT_EQ(context.served_by->name, "simulator");
  EXPECT_EQ(context.served_by->target.region, "us-east-1");
  EXPECT_EQ(context.served_by->target.model_id, kHaikuUs);
  EXPECT_EQ(answer->inference_region, "us-east-1");
}

TEST_F(RouterTest, UnknownModelWithoutDeploymentIsInvalid) {
  providers::SimulatorOptions options;
  options.time_scale = 0;
  providers::Simulator simulator(catalog::Catalog::BuiltIn(), options);
  router_.SetFallback(&simulator);
  auto context = Context();

  auto answer = Converse(Request("acme.unknown-model-v1:0"), context);

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kValidation);
  EXPECT_EQ(answer.error().message, "The provided model identifier is invalid.");
}

TEST_F(RouterTest, CatalogModelWithoutFallbackOrDeploymentIsInvalid) {
  auto context = Context();

  auto answer = Converse(Request(kNovaLite), context);

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().message, "The provided model identifier is invalid.");
}

TEST_F(RouterTest, MaxTokensAboveTheModelLimitIsRejected) {
  providers::SimulatorOptions options;
  options.time_scale = 0;
  providers::Simulator simulator(catalog::Catalog::BuiltIn(), options);
  router_.SetFallback(&simulator);
  const auto request = Request(kNovaLite, WithMaxTokens(10001));
  auto context = Context();

  auto answer = Converse(request, context);

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kValidation);
  EXPECT_EQ(answer.error().message,
            "The maximum tokens you requested exceeds the model limit of 10000. Try again with a "
            "maximum tokens value that is lower than 10000.");
}

TEST_F(RouterTest, MaxTokensAboveTheLimitOfADeploymentsModelIsRejected) {
  Deploy(first_);
  first_.QueueAnswer();
  const auto request = Request(kAlias, WithMaxTokens(20000));
  auto context = Context();

  auto answer = Converse(request, context);

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kValidation);
  EXPECT_TRUE(first_.calls().empty());
}

// The limit comes from the model behind the deployed profile ID.
TEST_F(RouterTest, MaxTokensAboveTheLimitOfADeployedProfileIsRejected) {
  Deploy(first_, "us-east-1", std::string(kHaikuUs));
  first_.QueueAnswer();
  const auto request = Request(kAlias, WithMaxTokens(100000));
  auto context = Context();

  auto answer = Converse(request, context);

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kValidation);
  EXPECT_TRUE(first_.calls().empty());
}

TEST_F(RouterTest, FormatOfFollowsTheCatalog) {
  const auto claude = router_.FormatOf(kHaikuUs);
  const auto claude_in_region = router_.FormatOf("anthropic.claude-haiku-4-5-20251001-v1:0");
  const auto nova = router_.FormatOf(kNovaLite);
  const auto unknown = router_.FormatOf("acme.unknown-model-v1:0");

  ASSERT_TRUE(claude.has_value());
  EXPECT_EQ(*claude, core::NativeFormat::kAnthropicMessages);
  ASSERT_TRUE(claude_in_region.has_value());
  EXPECT_EQ(*claude_in_region, core::NativeFormat::kAnthropicMessages);
  ASSERT_TRUE(nova.has_value());
  EXPECT_EQ(*nova, core::NativeFormat::kNova);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kValidation);
}

TEST_F(RouterTest, FormatOfAnAliasIsThatOfItsTargetModel) {
  Deploy(first_, "us-east-1", std::string(kNovaLite));
  router_.AddDeployment("claude",
                        Deployment{"claude", &second_, {"us-east-1", std::string(kHaikuUs)}});

  const auto alias_to_nova = router_.FormatOf(kAlias);
  const auto alias_to_claude = router_.FormatOf("claude");

  ASSERT_TRUE(alias_to_nova.has_value()) << alias_to_nova.error().message;
  EXPECT_EQ(*alias_to_nova, core::NativeFormat::kNova);
  ASSERT_TRUE(alias_to_claude.has_value()) << alias_to_claude.error().message;
  EXPECT_EQ(*alias_to_claude, core::NativeFormat::kAnthropicMessages);
}

// A deployment's target is resolved from the deployment's own region, so an alias that sends an
// EU profile to eu-west-1 works on a gateway in us-east-1.
TEST_F(RouterTest, FormatOfAnAliasToAnotherGeographysProfile) {
  router_.AddDeployment(
      "eu-claude",
      Deployment{"eu", &first_, {"eu-west-1", "eu.anthropic.claude-haiku-4-5-20251001-v1:0"}});

  const auto format = router_.FormatOf("eu-claude");

  ASSERT_TRUE(format.has_value()) << format.error().message;
  EXPECT_EQ(*format, core::NativeFormat::kAnthropicMessages);
}

}  // namespace
}  // namespace sluice::routing
