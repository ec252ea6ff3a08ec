#include "support/test_server.hpp"

#include <chrono>
#include <stdexcept>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace sluice::test_support {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// A graceful stop waits this long for in-flight requests; tests that leave one hanging should
// not pay the production default of 30 s.
constexpr std::chrono::milliseconds kDrainTimeout{200};

// How long the constructor waits for the server thread to start serving.
constexpr std::chrono::seconds kStartTimeLimit{5};

http::ServerOptions LoopbackOptions(http::ServerLimits limits) {
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.workers = 1;
  options.limits = limits;
  options.drain_timeout = kDrainTimeout;
  return options;
}

}  // namespace

TestServer::TestServer(http::RequestHandler& handler, http::ServerLimits limits)
    : server_(LoopbackOptions(limits), handler) {
  server_.Listen();
  thread_ = std::thread([this] { server_.Run(); });
  WaitUntilServing();
}

TestServer::~TestServer() {
  server_.Stop();
  thread_.join();
}

// A listening socket accepts connections before Run() starts its loop, so readiness is proven
// by an answer: a request line the HTTP/1.1 parser rejects gets a 400 and a close without
// reaching the handler. Waiting for it also keeps Stop() from racing the start of Run(), whose
// sweep timer would otherwise miss the cancellation.
void TestServer::WaitUntilServing() const {
  const auto give_up = std::chrono::steady_clock::now() + kStartTimeLimit;
  while (!server_.ready()) {
    if (std::chrono::steady_clock::now() >= give_up) {
      throw std::runtime_error("the test server did not start");
    }
    std::this_thread::yield();
  }

  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port()));
  constexpr std::string_view kProbe = "PROBE\r\n\r\n";
  net::write(socket, net::buffer(kProbe));
  char byte = 0;
  boost::system::error_code ec;
  while (!ec) {
    net::read(socket, net::buffer(&byte, 1), ec);
  }
}

std::uint16_t UnusedPort() {
  net::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace sluice::test_support
