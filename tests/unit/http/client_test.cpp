#include "http/client.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "support/run_coroutine.hpp"

namespace sluice::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// An upstream that answers one request per connection, keep-alive headers and all, and then
// closes the connection as a server does when its keep-alive timeout passes.
class ClosingUpstream {
 public:
  ClosingUpstream() : acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { Serve(); });
  }

  ~ClosingUpstream() {
    stopping_ = true;
    boost::system::error_code ignored;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ignored);  // wakes the blocking accept
    thread_.join();
  }

  Endpoint endpoint() const { return Endpoint{"127.0.0.1", acceptor_.local_endpoint().port()}; }

  int connections() const { return connections_; }

 private:
  void Serve() {
    while (!stopping_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) {
        return;
      }
      ++connections_;
      net::streambuf request;
      net::read_until(socket, request, "\r\n\r\n", ec);
      constexpr std::string_view kAnswer =
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
      net::write(socket, net::buffer(kAnswer), ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  net::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
};

TEST(ClientTest, ReplacesAPooledConnectionTheUpstreamClosedWhileIdle) {
  ClosingUpstream upstream;
  Client client;
  net::io_context io;
  const OutgoingRequest request{
      .method = beast::http::verb::get, .target = "/", .headers = {}, .body = {}};
  auto deadline = [] {
    return std::chrono::steady_clock::now() + 5s;
  };

  auto first =
      test_support::RunCoroutine(io, client.Send(upstream.endpoint(), request, deadline()));
  std::this_thread::sleep_for(50ms);  // the upstream closes the pooled connection meanwhile
  auto second =
      test_support::RunCoroutine(io, client.Send(upstream.endpoint(), request, deadline()));

  ASSERT_TRUE(first.has_value()) << ClientErrorText(first.error());
  ASSERT_TRUE(second.has_value()) << ClientErrorText(second.error());
  EXPECT_EQ(second->body(), "ok");
  EXPECT_EQ(upstream.connections(), 2);
}

}  // namespace
}  // namespace sluice::http
