#include "routing/router.hpp"

#include <fmt/format.h>

namespace sluice::routing {

namespace {

core::Result<void> CheckModelLimits(const catalog::Model* model,
                                    const core::ConverseRequest& request) {
  if (model == nullptr) {
    return {};  // a model the catalog does not know: the upstream judges
  }
  if (request.max_tokens && *request.max_tokens > model->max_output_tokens) {
    return core::Error{core::ErrorCode::kValidation,
                       fmt::format("The maximum tokens you requested exceeds the model limit of "
                                   "{}. Try again with a maximum tokens value that is lower than "
                                   "{}.",
                                   model->max_output_tokens, model->max_output_tokens)};
  }
  return {};
}

// Walks the candidates of one request in order and keeps its record of attempts: the next
// deployment is tried only after a failure worth retrying elsewhere (a throttle, an outage, a
// timeout, a server fault), before the deadline, and while the client has seen nothing. A
// deployment whose model cannot take the request (maxTokens above its limit) is passed over.
class Failover {
 public:
  Failover(std::span<const Deployment> candidates, const core::ConverseRequest& request,
           RouteContext& context)
      : candidates_(candidates), request_(request), context_(context) {}

  /// The next deployment to try, or null when the request should stop here.
  const Deployment* Next() {
    while (!stopped_ && next_ < candidates_.size() &&
           std::chrono::steady_clock::now() < context_.deadline) {
      const Deployment& deployment = candidates_[next_++];
      auto limits = CheckModelLimits(deployment.model, request_);
      if (limits) {
        return &deployment;
      }
      last_error_ = std::move(limits.error());
    }
    return nullptr;
  }

  providers::Call CallFor(const Deployment& deployment) const {
    return providers::Call{request_, deployment.target, context_.request_id, context_.deadline,
                           context_.storage};
  }

  void Succeeded(const Deployment& deployment) {
    context_.attempts.push_back({&deployment, std::nullopt});
    context_.served_by = &deployment;
  }

  void Failed(const Deployment& deployment, core::Error error, bool client_saw_output) {
    context_.attempts.push_back({&deployment, error.code});
    stopped_ = client_saw_output || !core::IsRetryable(error.code);
    last_error_ = std::move(error);
  }

  core::Error last_error() const { return last_error_; }

 private:
  std::span<const Deployment> candidates_;
  const core::ConverseRequest& request_;
  RouteContext& context_;
  std::size_t next_ = 0;
  bool stopped_ = false;
  core::Error last_error_{core::ErrorCode::kServiceUnavailable,
                          "No deployment could serve the request before its deadline."};
};

}  // namespace

Router::Router(const catalog::Catalog& catalog, std::string source_region)
    : catalog_(catalog), source_region_(std::move(source_region)) {}

void Router::AddDeployment(const std::string& requested_model, Deployment deployment) {
  if (deployment.model == nullptr) {
    // Resolved where the deployment calls from, so a profile of another geography is found.
    auto resolution = catalog_.Resolve(deployment.target.model_id, deployment.target.region);
    deployment.model =
        resolution ? resolution->model : catalog_.FindModel(deployment.target.model_id);
  }
  deployments_[requested_model].push_back(std::move(deployment));
}

core::Result<std::span<const Deployment>> Router::Candidates(const core::ConverseRequest& request,
                                                             RouteContext& context) const {
  if (const auto it = deployments_.find(request.model_id); it != deployments_.end()) {
    return std::span<const Deployment>(it->second);
  }

  auto resolution = catalog_.Resolve(request.model_id, source_region_);
  if (!resolution) {
    return resolution.error();
  }
  if (fallback_ == nullptr) {
    return core::Error{core::ErrorCode::kValidation, "The provided model identifier is invalid."};
  }
  context.fallback.name = std::string(fallback_->name());
  context.fallback.provider = fallback_;
  context.fallback.target = {source_region_, request.model_id};
  context.fallback.model = resolution->model;
  return std::span<const Deployment>(&context.fallback, 1);
}

core::Result<core::NativeFormat> Router::FormatOf(std::string_view requested_model) const {
  if (const auto it = deployments_.find(requested_model); it != deployments_.end()) {
    for (const auto& deployment : it->second) {
      if (deployment.model != nullptr) {
        return deployment.model->format;
      }
    }
  }
  auto resolution = catalog_.Resolve(requested_model, source_region_);
  if (!resolution) {
    return resolution.error();
  }
  return resolution->model->format;
}

net::awaitable<core::Result<core::ConverseResponse>> Router::Converse(
    const core::ConverseRequest& request, RouteContext& context) {
  auto candidates = Candidates(request, context);
  if (!candidates) {
    co_return candidates.error();
  }
  Failover failover(*candidates, request, context);
  while (const auto* deployment = failover.Next()) {
    auto result = co_await deployment->provider->Converse(failover.CallFor(*deployment));
    if (result) {
      failover.Succeeded(*deployment);
      co_return result;
    }
    failover.Failed(*deployment, std::move(result.error()), /*client_saw_output=*/false);
  }
  co_return failover.last_error();
}

net::awaitable<core::Result<core::StreamSummary>> Router::ConverseStream(
    const core::ConverseRequest& request, providers::StreamSink& sink, RouteContext& context) {
  auto candidates = Candidates(request, context);
  if (!candidates) {
    co_return candidates.error();
  }
  Failover failover(*candidates, request, context);
  while (const auto* deployment = failover.Next()) {
    auto result =
        co_await deployment->provider->ConverseStream(failover.CallFor(*deployment), sink);
    if (result) {
      failover.Succeeded(*deployment);
      co_return result;
    }
    failover.Failed(*deployment, std::move(result.error()), sink.committed());
  }
  co_return failover.last_error();
}

}  // namespace sluice::routing
