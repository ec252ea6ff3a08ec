#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/json/storage_ptr.hpp>

#include "catalog/catalog.hpp"
#include "core/converse.hpp"
#include "core/error.hpp"
#include "providers/provider.hpp"

namespace sluice::routing {

namespace net = boost::asio;

/// A place a request can be served: a provider, the region whose endpoint it calls, and the
/// model identifier that provider is sent.
struct Deployment {
  std::string name;
  providers::Provider* provider = nullptr;
  providers::Target target;
  /// The catalog's model behind `target` (its limits and body format); filled in by
  /// Router::AddDeployment, and null for a model the catalog does not know.
  const catalog::Model* model = nullptr;
};

/// One try at one deployment, kept for the invocation log.
struct Attempt {
  const Deployment* deployment = nullptr;
  std::optional<core::ErrorCode> error;  // empty when the attempt answered
};

/// What the router needs to know about a request beyond its body, and what it tells back.
struct RouteContext {
  std::string_view request_id;
  std::chrono::steady_clock::time_point deadline;
  /// Memory for the JSON of the answer; see providers::Call::storage.
  boost::json::storage_ptr storage = {};
  /// Requests rarely need more than a few attempts, so they are kept without a heap allocation.
  boost::container::small_vector<Attempt, 4> attempts;
  const Deployment* served_by = nullptr;
  /// Storage for a deployment made up for this request (the simulator fallback).
  Deployment fallback;
};

/// Maps a requested model identifier to candidate deployments and calls them in order, moving
/// to the next on a throttle, an outage or a server fault, as long as nothing has reached the
/// client yet. Deployments from the config come first; with none for a model, the built-in
/// simulator serves every model the catalog knows, as Bedrock would in the gateway's region.
///
/// Built once at start and read-only afterwards, so it is safe to share across workers. The
/// catalog and every provider must outlive it.
class Router final {
 public:
  Router(const catalog::Catalog& catalog, std::string source_region);

  /// Adds a deployment for a requested model identifier (or alias); order of calls is priority.
  void AddDeployment(const std::string& requested_model, Deployment deployment);

  /// Serves models that have no configured deployment from `provider` (the simulator).
  void SetFallback(providers::Provider* provider) { fallback_ = provider; }

  net::awaitable<core::Result<core::ConverseResponse>> Converse(
      const core::ConverseRequest& request, RouteContext& context);

  net::awaitable<core::Result<core::StreamSummary>> ConverseStream(
      const core::ConverseRequest& request, providers::StreamSink& sink, RouteContext& context);

  /// The body format InvokeModel takes for a requested model: the catalog's format of the model
  /// it names (or of the model a configured deployment sends it to).
  core::Result<core::NativeFormat> FormatOf(std::string_view requested_model) const;

  /// The deployments that may serve a request, in order. Each is checked against its model's
  /// limits (maxTokens) only when its turn comes. Unknown models are fine when a deployment names
  /// them explicitly. The span points into the router or into `context.fallback`.
  core::Result<std::span<const Deployment>> Candidates(const core::ConverseRequest& request,
                                                       RouteContext& context) const;

 private:
  const catalog::Catalog& catalog_;
  std::string source_region_;

  // Transparent, so a std::string_view finds its key without building a string per request.
  struct StringHash {
    using is_transparent = void;

    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };

  std::unordered_map<std::string, std::vector<Deployment>, StringHash, std::equal_to<>>
      deployments_;
  providers::Provider* fallback_ = nullptr;
};

}  // namespace sluice::routing
