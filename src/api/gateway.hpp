#pragma once

#include <functional>

#include "api/admin.hpp"
#include "api/bedrock_runtime.hpp"
#include "http/exchange.hpp"

namespace sluice::api {

/// The server's request handler: health and readiness probes, then each front door by path.
/// The front doors must outlive the gateway.
class Gateway final : public http::RequestHandler {
 public:
  /// `ready` answers whether the server is accepting work (false while shutting down).
  Gateway(BedrockRuntimeApi& bedrock, AdminApi& admin, std::function<bool()> ready);

  net::awaitable<void> Handle(http::Exchange& exchange) override;

 private:
  BedrockRuntimeApi& bedrock_;
  AdminApi& admin_;
  std::function<bool()> ready_;
};

}  // namespace sluice::api
