#include "support/http_client.hpp"

#include <stdexcept>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace sluice::test_support {

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

}  // namespace

http::Request MakeRequest(bhttp::verb method, std::string_view target, std::string body,
                          std::string_view content_type) {
  http::Request request{method, target, 11};
  if (!content_type.empty()) {
    request.set(bhttp::field::content_type, content_type);
  }
  request.body() = std::move(body);
  return request;
}

BlockingClient::BlockingClient(std::uint16_t port, std::chrono::milliseconds time_limit)
    : socket_(io_), time_limit_(time_limit) {
  socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  socket_.set_option(tcp::no_delay(true));
}

http::Response BlockingClient::Send(http::Request request) {
  if (request.find(bhttp::field::host) == request.end()) {
    request.set(bhttp::field::host, "127.0.0.1");
  }
  if (!request.chunked()) {
    request.prepare_payload();
  }

  bool done = false;
  boost::system::error_code failure;
  bhttp::async_write(socket_, request, [&](boost::system::error_code ec, std::size_t) {
    failure = ec;
    done = true;
  });
  RunOperation(done, time_limit_);
  if (failure) {
    throw std::runtime_error("sending the request failed: " + failure.message());
  }

  // The server may answer before it has read the whole body (a rejected upload); read the
  // response even so.
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  done = false;
  bhttp::async_read(socket_, buffer_, parser, [&](boost::system::error_code ec, std::size_t) {
    failure = ec;
    done = true;
  });
  RunOperation(done, time_limit_);
  if (failure) {
    throw std::runtime_error("reading the response failed: " + failure.message());
  }
  return parser.release();
}

bool BlockingClient::ServerClosed(std::chrono::milliseconds wait) {
  if (buffer_.size() != 0) {
    return false;
  }
  char byte = 0;
  bool done = false;
  boost::system::error_code failure;
  std::size_t received = 0;
  socket_.async_read_some(net::buffer(&byte, 1), [&](boost::system::error_code ec, std::size_t n) {
    failure = ec;
    received = n;
    done = true;
  });
  try {
    RunOperation(done, wait);
  } catch (const std::runtime_error&) {
    return false;  // still open after the wait
  }
  return received == 0 && (failure == net::error::eof || failure == net::error::connection_reset);
}

void BlockingClient::RunOperation(const bool& done, std::chrono::milliseconds limit) {
  io_.restart();
  io_.run_for(limit);
  if (done) {
    return;
  }
  // Cancel, and let the handler run so nothing refers to the caller's locals afterwards.
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  io_.restart();
  io_.run();
  throw std::runtime_error("the server did not answer in time");
}

}  // namespace sluice::test_support
