#include "providers/simulator.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/converse_json.hpp"
#include "core/tokens.hpp"

namespace sluice::providers {

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kRequestsThrottled =
    "Too many requests, please wait before trying again.";
constexpr std::string_view kTokensThrottled = "Too many tokens, please wait before trying again.";
constexpr std::string_view kUnavailable = "Bedrock is unable to process your request.";

// Words the simulated answers are made of. The answer reads as filler on purpose: nobody should
// mistake it for a model's output.
constexpr std::array<std::string_view, 48> kVocabulary = {
    "the",    "gateway",   "routes",    "each",      "request",  "to",      "a",        "healthy",
    "region", "and",       "counts",    "every",     "token",    "against", "its",      "quota",
    "while",  "cache",     "hits",      "save",      "money",    "for",     "teams",    "who",
    "share",  "one",       "account",   "simulated", "latency",  "grows",   "with",     "output",
    "length", "throttles", "arrive",    "when",      "capacity", "runs",    "out",      "failover",
    "moves",  "traffic",   "elsewhere", "logs",      "record",   "what",    "happened", "today"};

// Fewer tokens than this per streamed delta would make the simulator emit an event per word;
// Bedrock's own deltas carry a few tokens each.
constexpr std::int64_t kTokensPerDelta = 4;

std::uint64_t Fnv1a(std::string_view text, std::uint64_t hash = 1469598103934665603ULL) {
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

// A seed that depends on the model and on the conversation, so the same request always gets
// the same answer and different prompts get different ones.
std::uint64_t RequestSeed(const core::ConverseRequest& request) {
  std::uint64_t hash = Fnv1a(request.model_id);
  if (const auto* messages = request.converse.if_contains("messages");
      messages && messages->is_array()) {
    hash = Fnv1a(json::serialize(*messages), hash);
  }
  return hash;
}

// Builds text from space-separated pieces within a token budget. Pieces cost what
// core::EstimateTokens says; the separating space costs nothing, so the running count stays exact
// without re-estimating the whole text.
class BudgetedText {
 public:
  explicit BudgetedText(std::int64_t max_tokens) : max_tokens_(max_tokens) {}

  /// Appends `piece` (after a space) if it fits; false once the budget is spent.
  bool Append(std::string_view piece) {
    const std::int64_t cost = core::EstimateTokens(piece);
    if (tokens_ + cost > max_tokens_) {
      if (text_.empty()) {
        AppendPrefix(piece);  // even a tiny budget gets the start of the marker
      }
      return false;
    }
    if (!text_.empty()) {
      text_ += ' ';
    }
    text_ += piece;
    tokens_ += cost;
    return true;
  }

  std::int64_t tokens() const { return tokens_; }

  std::string& text() { return text_; }

 private:
  void AppendPrefix(std::string_view piece) {
    for (std::size_t n = piece.size(); n > 0; --n) {
      const std::int64_t cost = core::EstimateTokens(piece.substr(0, n));
      if (cost <= max_tokens_) {
        text_.assign(piece.substr(0, n));
        tokens_ = cost;
        return;
      }
    }
  }

  std::int64_t max_tokens_;
  std::int64_t tokens_ = 0;
  std::string text_;
};

// The simulated answer: a marker naming the model, then filler words up to `target_tokens`,
// never more than `max_tokens` (then `truncated` is set, as a model stopping at maxTokens).
std::string MakeText(std::uint64_t seed, std::string_view model_id, std::int64_t target_tokens,
                     std::int64_t max_tokens, bool& truncated) {
  BudgetedText text(max_tokens);
  truncated = false;
  const std::string marker = fmt::format("[simulated answer from {}]", model_id);
  std::string_view rest = marker;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    if (!text.Append(rest.substr(0, space))) {
      truncated = true;
      return std::move(text.text());
    }
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }

  std::uint64_t state = seed | 1;
  while (text.tokens() < target_tokens) {
    // xorshift keeps the word sequence deterministic and cheap.
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    if (!text.Append(kVocabulary[state % kVocabulary.size()])) {
      truncated = true;
      return std::move(text.text());
    }
  }
  if (text.tokens() < max_tokens) {
    text.text() += '.';
  }
  return std::move(text.text());
}

// A placeholder value that satisfies a JSON Schema type, for simulated tool inputs.
json::value PlaceholderFor(const json::value& schema) {
  const auto* type = schema.is_object() ? schema.get_object().if_contains("type") : nullptr;
  const std::string_view name =
      type && type->is_string() ? std::string_view(type->get_string()) : std::string_view("object");
  if (name == "string") {
    return "simulated";
  }
  if (name == "integer" || name == "number") {
    return 1;
  }
  if (name == "boolean") {
    return true;
  }
  if (name == "array") {
    return json::array{};
  }
  json::object object;
  const auto* properties =
      schema.is_object() ? schema.get_object().if_contains("properties") : nullptr;
  const auto* required = schema.is_object() ? schema.get_object().if_contains("required") : nullptr;
  if (properties && properties->is_object() && required && required->is_array()) {
    for (const auto& key : required->get_array()) {
      if (key.is_string()) {
        if (const auto* property = properties->get_object().if_contains(key.get_string())) {
          object[key.get_string()] = PlaceholderFor(*property);
        }
      }
    }
  }
  return object;
}

std::string LastUserText(const json::object& body) {
  const auto* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return {};
  }
  const auto& last = messages->get_array().back();
  std::string text;
  if (const auto* content = last.get_object().if_contains("content");
      content && content->is_array()) {
    for (const auto& block : content->get_array()) {
      if (const auto* piece = block.get_object().if_contains("text"); piece && piece->is_string()) {
        text += piece->get_string();
      }
    }
  }
  return text;
}

// The tool the simulated model calls, if any: the one toolChoice names, the first tool when
// toolChoice is `any`, or with `auto` a tool whose name the last user message mentions.
const json::object* ChooseTool(const json::object& body) {
  const auto* config = body.if_contains("toolConfig");
  if (config == nullptr || !config->is_object()) {
    return nullptr;
  }
  const auto* tools = config->get_object().if_contains("tools");
  if (tools == nullptr || !tools->is_array()) {
    return nullptr;
  }
  std::vector<const json::object*> specs;
  for (const auto& tool : tools->get_array()) {
    const auto* spec = tool.is_object() ? tool.get_object().if_contains("toolSpec") : nullptr;
    if (spec != nullptr && spec->is_object()) {
      specs.push_back(&spec->get_object());
    }
  }
  if (specs.empty()) {
    return nullptr;
  }
  auto spec_name = [](const json::object* spec) {
    const auto* name = spec->if_contains("name");
    return name && name->is_string() ? std::string_view(name->get_string()) : std::string_view();
  };

  const auto* choice = config->get_object().if_contains("toolChoice");
  if (choice && choice->is_object()) {
    if (choice->get_object().contains("any")) {
      return specs.front();
    }
    if (const auto* named = choice->get_object().if_contains("tool"); named && named->is_object()) {
      const auto* wanted = named->get_object().if_contains("name");
      for (const auto* spec : specs) {
        if (wanted && wanted->is_string() && spec_name(spec) == wanted->get_string()) {
          return spec;
        }
      }
      return nullptr;
    }
  }
  // A tool result in the last turn means the tool already ran: answer in text now.
  const std::string prompt = LastUserText(body);
  for (const auto* spec : specs) {
    if (!spec_name(spec).empty() && prompt.find(spec_name(spec)) != std::string::npos) {
      return spec;
    }
  }
  return nullptr;
}

void Refill(double& level, Clock::time_point& refilled_at, double per_minute,
            Clock::time_point now) {
  const double elapsed_ms = std::chrono::duration<double, std::milli>(now - refilled_at).count();
  level = std::min(per_minute, level + elapsed_ms * per_minute / 60'000.0);
  refilled_at = now;
}

// The stream events the simulator sends, one text block or one tool use at index 0. Built in
// plain functions rather than inside the coroutine: GCC 12 miscompiles braced initializers
// holding string literals in coroutine bodies ("array used as initializer").
core::StreamEvent MakeEvent(core::StreamEventType type, json::object payload) {
  return core::StreamEvent{type, std::move(payload), {}};
}

core::StreamEvent MessageStartEvent() {
  return MakeEvent(core::StreamEventType::kMessageStart, {{"role", "assistant"}});
}

core::StreamEvent TextDeltaEvent(std::string_view text) {
  return MakeEvent(core::StreamEventType::kContentBlockDelta,
                   {{"contentBlockIndex", 0}, {"delta", {{"text", text}}}});
}

core::StreamEvent ToolStartEvent(const json::object& tool_use) {
  json::object start{{"toolUseId", tool_use.at("toolUseId")}, {"name", tool_use.at("name")}};
  return MakeEvent(core::StreamEventType::kContentBlockStart,
                   {{"contentBlockIndex", 0}, {"start", {{"toolUse", std::move(start)}}}});
}

core::StreamEvent ToolInputDeltaEvent(std::string_view fragment) {
  return MakeEvent(core::StreamEventType::kContentBlockDelta,
                   {{"contentBlockIndex", 0}, {"delta", {{"toolUse", {{"input", fragment}}}}}});
}

core::StreamEvent BlockStopEvent() {
  return MakeEvent(core::StreamEventType::kContentBlockStop, {{"contentBlockIndex", 0}});
}

core::StreamEvent MessageStopEvent(std::string_view stop_reason) {
  return MakeEvent(core::StreamEventType::kMessageStop, {{"stopReason", stop_reason}});
}

core::StreamEvent MetadataEvent(const core::TokenUsage& usage, std::int64_t latency_ms) {
  return MakeEvent(core::StreamEventType::kMetadata,
                   {{"usage", core::UsageToJson(usage)}, {"metrics", {{"latencyMs", latency_ms}}}});
}

// Passes events on until the configured count, then refuses the rest, so the stream ends with
// ModelStreamErrorException the way a model failing mid-answer does.
class FailingSink {
 public:
  FailingSink(StreamSink& sink, std::int64_t fail_after) : sink_(sink), fail_after_(fail_after) {}

  net::awaitable<bool> OnEvent(core::StreamEvent event) {
    if (fail_after_ > 0 && sent_ >= fail_after_) {
      failed_ = true;
      co_return false;
    }
    ++sent_;
    const bool done = co_await sink_.OnEvent(std::move(event));
    co_return done;
  }

  // What the stream amounts to when it stopped early: an error if the simulator broke it, or
  // the partial summary if the client went away.
  core::Result<core::StreamSummary> Outcome(const core::StreamSummary& summary) const {
    if (failed_) {
      return core::Error{core::ErrorCode::kModelStreamError,
                         "The model stream was interrupted (simulated failure)."};
    }
    return summary;
  }

 private:
  StreamSink& sink_;
  std::int64_t fail_after_;
  std::int64_t sent_ = 0;
  bool failed_ = false;
};

}  // namespace

Simulator::Simulator(const catalog::Catalog& catalog, SimulatorOptions options)
    : catalog_(catalog), time_scale_(options.time_scale), options_(std::move(options)) {}

const SimulatedRegion& Simulator::Settings(std::string_view region) const {
  const auto it = options_.regions.find(region);
  return it == options_.regions.end() ? options_.defaults : it->second;
}

bool Simulator::UpdateRegion(const std::string& region,
                             const std::function<void(SimulatedRegion&)>& edit) {
  if (catalog_.FindRegion(region) == nullptr) {
    return false;
  }
  std::lock_guard lock(mutex_);
  auto [it, inserted] = options_.regions.try_emplace(region, options_.defaults);
  edit(it->second);
  return true;
}

std::vector<Simulator::RegionState> Simulator::Regions() const {
  std::lock_guard lock(mutex_);
  std::vector<RegionState> states;
  for (const auto& region : catalog_.regions()) {
    states.push_back({region.name, Settings(region.name)});
  }
  for (const auto& [name, settings] : options_.regions) {
    if (catalog_.FindRegion(name) == nullptr) {
      states.push_back({name, settings});
    }
  }
  std::sort(states.begin(), states.end(),
            [](const auto& a, const auto& b) { return a.region < b.region; });
  return states;
}

core::Result<Simulator::Admission> Simulator::Admit(const Call& call,
                                                    const catalog::Resolution& resolution,
                                                    std::int64_t input_tokens) {
  const auto& model = *resolution.model;
  // Bedrock reserves the whole prompt plus maxTokens (or the model's maximum output) up front.
  const std::int64_t reserve =
      input_tokens + call.request.max_tokens.value_or(model.max_output_tokens);

  // A profile call may run in any destination region; prefer the caller's own, then spread the
  // rest by request so that load does not pile onto the first region in the list.
  std::vector<std::string> candidates = resolution.destination_regions;
  const auto own = std::find(candidates.begin(), candidates.end(), call.target.region);
  if (own != candidates.end()) {
    std::rotate(candidates.begin(), own, own + 1);
  }
  if (candidates.size() > 2) {
    const auto offset = Fnv1a(call.request_id) % (candidates.size() - 1);
    std::rotate(candidates.begin() + 1, candidates.begin() + 1 + static_cast<long>(offset),
                candidates.end());
  }

  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  bool any_up = false;
  std::string_view throttle_message = kRequestsThrottled;
  for (const auto& region : candidates) {
    const auto& behaviour = Settings(region);
    if (behaviour.outage) {
      continue;
    }
    any_up = true;
    auto [it, inserted] = capacity_.try_emplace({region, model.id});
    Capacity& capacity = it->second;
    if (inserted) {
      capacity.requests = {static_cast<double>(behaviour.requests_per_minute), now};
      capacity.tokens = {static_cast<double>(behaviour.tokens_per_minute), now};
    }
    Refill(capacity.requests.tokens, capacity.requests.refilled_at,
           static_cast<double>(behaviour.requests_per_minute), now);
    Refill(capacity.tokens.tokens, capacity.tokens.refilled_at,
           static_cast<double>(behaviour.tokens_per_minute), now);
    if (capacity.requests.tokens < 1) {
      throttle_message = kRequestsThrottled;
      continue;
    }
    if (capacity.tokens.tokens < static_cast<double>(reserve)) {
      throttle_message = kTokensThrottled;
      continue;
    }
    capacity.requests.tokens -= 1;
    capacity.tokens.tokens -= static_cast<double>(reserve);
    return Admission{region, behaviour, reserve};
  }
  if (!any_up) {
    return core::Error{core::ErrorCode::kServiceUnavailable, std::string(kUnavailable)};
  }
  return core::Error{core::ErrorCode::kThrottling, std::string(throttle_message)};
}

void Simulator::Settle(const Admission& admission, const std::string& model_id,
                       const core::TokenUsage& usage, double burndown) {
  // At the end Bedrock charges input plus cache writes plus output times the burndown rate;
  // cache reads are released.
  const double charged = static_cast<double>(usage.input_tokens + usage.cache_write_input_tokens) +
                         static_cast<double>(usage.output_tokens) * burndown;
  std::lock_guard lock(mutex_);
  const auto it = capacity_.find({admission.region, model_id});
  if (it == capacity_.end()) {
    return;
  }
  auto& bucket = it->second.tokens;
  bucket.tokens =
      std::min(static_cast<double>(admission.behaviour.tokens_per_minute),
               bucket.tokens + static_cast<double>(admission.reserved_tokens) - charged);
}

core::Result<Simulator::Answer> Simulator::Prepare(const Call& call) {
  const auto resolution = catalog_.Resolve(call.target.model_id, call.target.region);
  if (!resolution) {
    return resolution.error();
  }
  const auto& model = *resolution->model;
  const std::int64_t input_tokens = core::EstimateInputTokens(call.request);
  auto admission = Admit(call, *resolution, input_tokens);
  if (!admission) {
    return admission.error();
  }

  const std::uint64_t seed = RequestSeed(call.request);
  const std::int64_t max_tokens = call.request.max_tokens.value_or(model.max_output_tokens);
  Answer answer;
  answer.region = admission->region;
  answer.behaviour = admission->behaviour;
  answer.usage.input_tokens = input_tokens;

  if (const auto* tool = ChooseTool(call.request.converse)) {
    const auto* schema = tool->if_contains("inputSchema");
    json::value input = schema && schema->is_object() && schema->get_object().contains("json")
                            ? PlaceholderFor(schema->get_object().at("json"))
                            : json::value(json::object{});
    json::object tool_use;
    tool_use["toolUseId"] = fmt::format("tooluse_sim{:016x}", seed);
    tool_use["name"] = tool->at("name");
    tool_use["input"] = std::move(input);
    answer.usage.output_tokens = core::EstimateJsonTokens(tool_use);
    answer.content.push_back(json::object{{"toolUse", std::move(tool_use)}});
    answer.stop_reason = "tool_use";
  } else {
    // Answer length varies with the prompt but is fixed for a given one.
    const std::int64_t target = 24 + static_cast<std::int64_t>(seed % 97);
    bool truncated = false;
    std::string text = MakeText(seed, call.request.model_id, target, max_tokens, truncated);
    answer.usage.output_tokens = core::EstimateTokens(text);
    answer.content.push_back(json::object{{"text", std::move(text)}});
    answer.stop_reason = truncated ? "max_tokens" : "end_turn";
  }
  Settle(*admission, model.id, answer.usage, model.output_burndown);
  return answer;
}

net::awaitable<void> Simulator::Sleep(double milliseconds) const {
  const double scaled = milliseconds * time_scale_;
  if (scaled < 0.5) {
    co_return;
  }
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(scaled * 1000)));
  co_await timer.async_wait(net::as_tuple(net::use_awaitable));
}

net::awaitable<core::Result<core::ConverseResponse>> Simulator::Converse(const Call& call) {
  const auto started = Clock::now();
  auto answer = Prepare(call);
  if (!answer) {
    co_return answer.error();
  }
  const auto& behaviour = answer->behaviour;
  co_await Sleep(behaviour.time_to_first_token_ms +
                 1000.0 * static_cast<double>(answer->usage.output_tokens) /
                     behaviour.tokens_per_second);

  const auto latency_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  core::ConverseResponse response;
  response.converse = core::MakeConverseResponseBody(
      std::move(answer->content), answer->stop_reason, answer->usage, latency_ms);
  response.usage = answer->usage;
  response.stop_reason = answer->stop_reason;
  response.inference_region = answer->region;
  co_return response;
}

net::awaitable<core::Result<core::StreamSummary>> Simulator::ConverseStream(const Call& call,
                                                                            StreamSink& sink) {
  const auto started = Clock::now();
  auto answer = Prepare(call);
  if (!answer) {
    co_return answer.error();
  }
  const auto& behaviour = answer->behaviour;
  const double ms_per_token = 1000.0 / behaviour.tokens_per_second;
  FailingSink failing(sink, behaviour.stream_error_after_events);

  co_await Sleep(behaviour.time_to_first_token_ms);
  core::StreamSummary summary;
  summary.first_byte_latency_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  // NOTE: each await lands in a named local before it is tested. GCC 12 miscompiles awaits
  // used directly inside conditions and co_return expressions of these coroutines.
  bool delivered = co_await failing.OnEvent(MessageStartEvent());
  if (!delivered) {
    co_return failing.Outcome(summary);
  }

  const auto& block = answer->content.front().get_object();
  if (const auto* text = block.if_contains("text")) {
    // Deltas of a few words each, paced at the region's output speed.
    const std::string_view full = text->get_string();
    std::size_t start = 0;
    while (start < full.size()) {
      std::size_t end = start;
      std::int64_t words = 0;
      while (end < full.size() && words < kTokensPerDelta) {
        const auto next_space = full.find(' ', end + 1);
        end = next_space == std::string_view::npos ? full.size() : next_space;
        ++words;
      }
      const auto piece = full.substr(start, end - start);
      delivered = co_await failing.OnEvent(TextDeltaEvent(piece));
      if (!delivered) {
        co_return failing.Outcome(summary);
      }
      co_await Sleep(ms_per_token * static_cast<double>(core::EstimateTokens(piece)));
      start = end;
    }
  } else {
    const auto& tool_use = block.at("toolUse").get_object();
    delivered = co_await failing.OnEvent(ToolStartEvent(tool_use));
    if (!delivered) {
      co_return failing.Outcome(summary);
    }
    // Tool input arrives as fragments of one JSON string, as Bedrock sends it.
    const std::string input = json::serialize(tool_use.at("input"));
    const std::size_t half = input.size() / 2;
    for (const auto& fragment : {input.substr(0, half), input.substr(half)}) {
      delivered = co_await failing.OnEvent(ToolInputDeltaEvent(fragment));
      if (!delivered) {
        co_return failing.Outcome(summary);
      }
      co_await Sleep(ms_per_token * static_cast<double>(answer->usage.output_tokens) / 2);
    }
  }

  const auto latency_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  for (auto& closing : {BlockStopEvent(), MessageStopEvent(answer->stop_reason),
                        MetadataEvent(answer->usage, latency_ms)}) {
    delivered = co_await failing.OnEvent(closing);
    if (!delivered) {
      co_return failing.Outcome(summary);
    }
  }
  summary.usage = answer->usage;
  summary.stop_reason = answer->stop_reason;
  summary.inference_region = answer->region;
  co_return summary;
}

}  // namespace sluice::providers
