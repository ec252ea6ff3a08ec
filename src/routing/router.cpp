#include "routing/router.hpp"

#include <fmt/format.h>

namespace sluice::routing {

namespace {

core::Result<void> CheckModelLimits(const catalog::Model& model,
                                    const core::ConverseRequest& request) {
  if (request.max_tokens && *request.max_tokens > model.max_output_tokens) {
    return core::Error{core::ErrorCode::kValidation,
                       fmt::format("The maximum tokens you requested exceeds the model limit of "
                                   "{}. Try again with a maximum tokens value that is lower than "
                                   "{}.",
                                   model.max_output_tokens, model.max_output_tokens)};
  }
  return {};
}

std::string ErrorTypeOf(const core::Error& error) {
  return std::string(core::ExceptionName(error.code));
}

}  // namespace

Router::Router(const catalog::Catalog& catalog, std::string source_region)
    : catalog_(catalog), source_region_(std::move(source_region)) {}

void Router::AddDeployment(const std::string& requested_model, Deployment deployment) {
  deployments_[requested_model].push_back(std::move(deployment));
}

core::Result<std::span<const Deployment>> Router::Candidates(const core::ConverseRequest& request,
                                                             RouteContext& context) const {
  if (const auto it = deployments_.find(request.model_id); it != deployments_.end()) {
    if (const auto* model = catalog_.FindModel(it->second.front().target.model_id)) {
      auto limits = CheckModelLimits(*model, request);
      if (!limits) {
        return limits.error();
      }
    }
    return std::span<const Deployment>(it->second);
  }

  auto resolution = catalog_.Resolve(request.model_id, source_region_);
  if (!resolution) {
    return resolution.error();
  }
  auto limits = CheckModelLimits(*resolution->model, request);
  if (!limits) {
    return limits.error();
  }
  if (fallback_ == nullptr) {
    return core::Error{core::ErrorCode::kValidation, "The provided model identifier is invalid."};
  }
  context.fallback.name = std::string(fallback_->name());
  context.fallback.provider = fallback_;
  context.fallback.target = {source_region_, request.model_id};
  return std::span<const Deployment>(&context.fallback, 1);
}

core::Result<core::NativeFormat> Router::FormatOf(std::string_view requested_model) const {
  std::string_view model_id = requested_model;
  if (const auto it = deployments_.find(std::string(requested_model)); it != deployments_.end()) {
    model_id = it->second.front().target.model_id;
  }
  auto resolution = catalog_.Resolve(model_id, source_region_);
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
  core::Error last_error{core::ErrorCode::kServiceUnavailable, "No deployment could serve it."};
  for (const auto& deployment : *candidates) {
    if (std::chrono::steady_clock::now() >= context.deadline) {
      break;
    }
    providers::Call call{request, deployment.target, context.request_id, context.deadline};
    auto result = co_await deployment.provider->Converse(call);
    if (result) {
      context.attempts.push_back({deployment.name, result->inference_region, {}});
      context.served_by = &deployment;
      co_return result;
    }
    context.attempts.push_back({deployment.name, deployment.target.region,
                                ErrorTypeOf(result.error())});
    last_error = result.error();
    if (!core::IsRetryable(last_error.code)) {
      break;
    }
  }
  co_return last_error;
}

net::awaitable<core::Result<core::StreamSummary>> Router::ConverseStream(
    const core::ConverseRequest& request, providers::StreamSink& sink, RouteContext& context) {
  auto candidates = Candidates(request, context);
  if (!candidates) {
    co_return candidates.error();
  }
  core::Error last_error{core::ErrorCode::kServiceUnavailable, "No deployment could serve it."};
  for (const auto& deployment : *candidates) {
    if (std::chrono::steady_clock::now() >= context.deadline) {
      break;
    }
    providers::Call call{request, deployment.target, context.request_id, context.deadline};
    auto result = co_await deployment.provider->ConverseStream(call, sink);
    if (result) {
      context.attempts.push_back({deployment.name, result->inference_region, {}});
      context.served_by = &deployment;
      co_return result;
    }
    context.attempts.push_back({deployment.name, deployment.target.region,
                                ErrorTypeOf(result.error())});
    last_error = result.error();
    // Once the client has seen part of an answer, another deployment cannot take over.
    if (sink.committed() || !core::IsRetryable(last_error.code)) {
      break;
    }
  }
  co_return last_error;
}

}  // namespace sluice::routing
