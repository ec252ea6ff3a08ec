#pragma once

#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "api/authenticator.hpp"
#include "http/exchange.hpp"
#include "providers/simulator.hpp"

namespace sluice::api {

namespace net = boost::asio;

/// The admin API under `/admin/`: run-time control of the simulator's regions.
///
///   GET /admin/simulator/regions            every region's simulated behaviour
///   PUT /admin/simulator/regions/{region}   change it, e.g. `{"outage": true}`
///
/// Admin routes take admin keys only; where anonymous access is allowed for loopback callers
/// (the embedded default), those callers count as admins too. The simulator may be null (no
/// simulator configured); it and the authenticator must outlive this object.
class AdminApi final {
 public:
  AdminApi(providers::Simulator* simulator, const Authenticator& authenticator);

  static bool Matches(std::string_view path) { return path.starts_with("/admin/"); }

  net::awaitable<void> Handle(http::Exchange& exchange);

 private:
  providers::Simulator* simulator_;
  const Authenticator& authenticator_;
};

}  // namespace sluice::api
