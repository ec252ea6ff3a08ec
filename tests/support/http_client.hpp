#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/verb.hpp>

#include "http/exchange.hpp"

namespace sluice::test_support {

/// A request with the given method, target and body, HTTP/1.1, with Content-Type set when
/// `content_type` is not empty.
http::Request MakeRequest(boost::beast::http::verb method, std::string_view target,
                          std::string body = {},
                          std::string_view content_type = "application/json");

/// A tiny HTTP/1.1 client over one loopback connection, for driving a server from a test.
/// Every call blocks for at most `time_limit` and throws std::runtime_error when the server does
/// not answer in time. One connection, used for sequential requests; not thread-safe.
class BlockingClient final {
 public:
  explicit BlockingClient(std::uint16_t port,
                          std::chrono::milliseconds time_limit = std::chrono::seconds(5));
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  /// Sends `request` (Host and framing filled in unless set) and reads the whole response.
  http::Response Send(http::Request request);

  /// True when the server closes the connection within `wait` without sending anything more.
  bool ServerClosed(std::chrono::milliseconds wait = std::chrono::seconds(2));

 private:
  // Runs the queued operation until it completes or the time limit passes.
  void RunOperation(const bool& done, std::chrono::milliseconds limit);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds time_limit_;
};

}  // namespace sluice::test_support
