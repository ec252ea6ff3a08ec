#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "providers/provider.hpp"

namespace sluice::providers {

/// How one region of the simulated Bedrock behaves.
struct SimulatedRegion {
  bool outage = false;
  /// Time to first token, in milliseconds.
  double time_to_first_token_ms = 350;
  /// Output speed once the first token is out.
  double tokens_per_second = 90;
  /// Per-minute capacity for each model in this region; past it, ThrottlingException.
  std::int64_t requests_per_minute = 2000;
  std::int64_t tokens_per_minute = 4'000'000;
  /// When above zero, streams from this region break with ModelStreamErrorException after this
  /// many events: a way to show how clients see an upstream failing mid-answer.
  std::int64_t stream_error_after_events = 0;
};

struct SimulatorOptions {
  /// Multiplies every simulated delay: 1 is real time, 0 answers at once (tests, benchmarks).
  double time_scale = 1.0;
  /// Behaviour of regions not listed in `regions`.
  SimulatedRegion defaults;
  std::map<std::string, SimulatedRegion, std::less<>> regions;
};

/// A model of Amazon Bedrock's regions, run in process behind the provider interface: for
/// demos, tests and capacity planning. Each region and model has a latency model, per-minute
/// request and token capacity counted with Bedrock's quota arithmetic (reserve input plus
/// maxTokens, settle to input plus cache writes plus burndown times output), and an outage
/// switch. Inference profile IDs are spread over the profile's destination regions as Bedrock
/// does, preferring the caller's own region. Answers are deterministic for a given request, say
/// plainly that they are simulated, and carry token counts estimated from their text.
///
/// Thread-safe; the catalog must outlive the simulator.
class Simulator final : public Provider {
 public:
  Simulator(const catalog::Catalog& catalog, SimulatorOptions options);

  std::string_view name() const override { return "simulator"; }

  net::awaitable<core::Result<core::ConverseResponse>> Converse(const Call& call) override;
  net::awaitable<core::Result<core::StreamSummary>> ConverseStream(const Call& call,
                                                                   StreamSink& sink) override;

  /// Changes a region at run time (the admin API). Returns false for a region the catalog does
  /// not know.
  bool UpdateRegion(const std::string& region, const std::function<void(SimulatedRegion&)>& edit);

  struct RegionState {
    std::string region;
    SimulatedRegion settings;
  };

  /// Every region the simulator has settings for, sorted by name.
  std::vector<RegionState> Regions() const;

  /// The answer the simulator gives, before any delay: exposed for tests.
  struct Answer {
    boost::json::array content;
    std::string stop_reason;
    core::TokenUsage usage;
    std::string region;  // where it ran
    SimulatedRegion behaviour;
  };

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled_at;
  };

  struct Capacity {
    Bucket requests;
    Bucket tokens;
  };

  struct Admission {
    std::string region;
    SimulatedRegion behaviour;
    std::int64_t reserved_tokens = 0;
  };

  core::Result<Admission> Admit(const Call& call, const catalog::Resolution& resolution,
                                std::int64_t input_tokens);
  void Settle(const Admission& admission, const std::string& model_id,
              const core::TokenUsage& usage, double burndown);
  core::Result<Answer> Prepare(const Call& call);
  const SimulatedRegion& Settings(std::string_view region) const;
  net::awaitable<void> Sleep(double milliseconds) const;

  const catalog::Catalog& catalog_;
  const double time_scale_;
  mutable std::mutex mutex_;
  SimulatorOptions options_;                                          // guarded by mutex_
  std::map<std::pair<std::string, std::string>, Capacity> capacity_;  // guarded by mutex_
};

}  // namespace sluice::providers
