#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/converse.hpp"
#include "core/error.hpp"
#include "providers/provider.hpp"

namespace sluice::test_support {

namespace net = boost::asio;

/// A Provider that answers from a script and remembers how it was called, for tests of the
/// code above providers. Each call takes the next queued outcome; a call with nothing queued
/// fails with a non-retryable error that names the provider, so a test that calls too often
/// shows it. A streamed outcome first feeds its events to the sink (stopping if the sink
/// refuses one) and then returns its result. Single-threaded.
class ScriptedProvider final : public providers::Provider {
 public:
  /// What the provider saw of one call.
  struct RecordedCall {
    providers::Target target;
    std::string request_id;
    std::string model_id;
    std::chrono::steady_clock::time_point deadline;
  };

  explicit ScriptedProvider(std::string name) : name_(std::move(name)) {}

  std::string_view name() const override { return name_; }

  /// Queues a successful Converse answer, reporting `region` as where it ran.
  void QueueAnswer(std::string region = "us-east-1") {
    core::ConverseResponse response;
    response.stop_reason = "end_turn";
    response.usage.input_tokens = 5;
    response.usage.output_tokens = 7;
    response.inference_region = std::move(region);
    converse_script_.emplace_back(std::move(response));
  }

  /// Queues a failed Converse call.
  void QueueError(core::ErrorCode code, std::string message = "scripted failure") {
    converse_script_.emplace_back(core::Error{code, std::move(message)});
  }

  /// Queues a streamed call: `events` go to the sink, then the call returns `outcome`.
  void QueueStream(std::vector<core::StreamEvent> events,
                   core::Result<core::StreamSummary> outcome) {
    stream_script_.push_back({std::move(events), std::move(outcome)});
  }

  /// Runs at the start of every call, before the scripted outcome is taken.
  void set_on_call(std::function<void()> on_call) { on_call_ = std::move(on_call); }

  const std::vector<RecordedCall>& calls() const { return calls_; }

  net::awaitable<core::Result<core::ConverseResponse>> Converse(
      const providers::Call& call) override {
    Record(call);
    if (converse_script_.empty()) {
      co_return Exhausted();
    }
    auto outcome = std::move(converse_script_.front());
    converse_script_.pop_front();
    co_return outcome;
  }

  net::awaitable<core::Result<core::StreamSummary>> ConverseStream(
      const providers::Call& call, providers::StreamSink& sink) override {
    Record(call);
    if (stream_script_.empty()) {
      co_return Exhausted();
    }
    auto step = std::move(stream_script_.front());
    stream_script_.pop_front();
    for (auto& event : step.events) {
      const bool accepted = co_await sink.OnEvent(std::move(event));
      if (!accepted) {
        break;
      }
    }
    co_return step.outcome;
  }

 private:
  struct StreamStep {
    std::vector<core::StreamEvent> events;
    core::Result<core::StreamSummary> outcome;
  };

  void Record(const providers::Call& call) {
    calls_.push_back(
        {call.target, std::string(call.request_id), call.request.model_id, call.deadline});
    if (on_call_) {
      on_call_();
    }
  }

  core::Error Exhausted() const {
    return core::Error{core::ErrorCode::kValidation, "script of " + name_ + " is exhausted"};
  }

  std::string name_;
  std::deque<core::Result<core::ConverseResponse>> converse_script_;
  std::deque<StreamStep> stream_script_;
  std::vector<RecordedCall> calls_;
  std::function<void()> on_call_;
};

}  // namespace sluice::test_support
