#pragma once

#include <cstdint>
#include <thread>

#include "http/client.hpp"
#include "http/exchange.hpp"
#include "http/server.hpp"

namespace sluice::test_support {

/// An http::Server on 127.0.0.1 with a kernel-chosen port and one worker, running on its own
/// thread from construction until destruction. The constructor returns once the server answers
/// on its port; the destructor stops it (draining for at most a fifth of a second) and joins.
/// `handler` must outlive the server.
class TestServer final {
 public:
  explicit TestServer(http::RequestHandler& handler, http::ServerLimits limits = {});
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer();

  std::uint16_t port() const { return server_.port(); }

  /// The server as an upstream endpoint for http::Client.
  http::Endpoint endpoint() const { return http::Endpoint{"127.0.0.1", port()}; }

 private:
  void WaitUntilServing() const;

  http::Server server_;
  std::thread thread_;
};

/// A loopback TCP port on which nothing listens (bound once, then released).
std::uint16_t UnusedPort();

}  // namespace sluice::test_support
