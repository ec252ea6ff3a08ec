#pragma once

#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "http/exchange.hpp"
#include "providers/simulator.hpp"

namespace sluice::api {

namespace net = boost::asio;

/// The admin API under `/admin/`: run-time control of the simulator's regions.
///
///   GET /admin/simulator/regions            every region's simulated behaviour
///   PUT /admin/simulator/regions/{region}   change it, e.g. `{"outage": true}`
///
/// Admin routes answer loopback callers only, until keys with an admin role exist. The
/// simulator may be null (no simulator configured); it must outlive this object otherwise.
class AdminApi final {
 public:
  explicit AdminApi(providers::Simulator* simulator);

  static bool Matches(std::string_view path) { return path.starts_with("/admin/"); }

  net::awaitable<void> Handle(http::Exchange& exchange);

 private:
  providers::Simulator* simulator_;
};

}  // namespace sluice::api
