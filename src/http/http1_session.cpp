// HTTP/1.1 connections: one request at a time, in order, which keeps pipelined requests safe.

#include <array>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include "http/session.hpp"
#include "http/stream_io.hpp"

namespace sluice::http::internal {

namespace {

namespace bhttp = beast::http;
using tcp = net::ip::tcp;
constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

// Most bytes of a refused body read and thrown away before the connection closes: twice
// Bedrock's 25 MB body limit covers a client that sends a little over it.
constexpr std::size_t kMaxLingeringBytes = 64 * 1024 * 1024;

class Http1Session;

class Http1Exchange final : public Exchange {
 public:
  Http1Exchange(Http1Session& session, const ConnectionInfo& info, bool keep_alive)
      : session_(session), keep_alive_(keep_alive) {
    connection_ = &info;
  }

  net::awaitable<bool> Respond(Response response) override;
  net::awaitable<bool> StartStream(Response head) override;
  net::awaitable<bool> WriteStream(std::string_view data) override;
  net::awaitable<bool> FinishStream() override;

  bool keep_alive() const { return keep_alive_; }

  void set_keep_alive(bool keep_alive) { keep_alive_ = keep_alive; }

  std::size_t bytes_sent() const { return bytes_sent_; }

  bool finished() const { return finished_; }

  bool failed() const { return failed_; }

 private:
  Http1Session& session_;
  bool keep_alive_;
  bool finished_ = false;
  bool failed_ = false;
  std::size_t bytes_sent_ = 0;
};

class Http1Session final : public Session {
 public:
  Http1Session(tcp::socket socket, beast::flat_buffer buffer, WorkerContext& worker,
               ConnectionInfo info)
      : Session(worker),
        socket_(std::move(socket)),
        buffer_(std::move(buffer)),
        info_(std::move(info)) {}

  net::awaitable<void> Run();

  void BeginShutdown() override {
    // An idle connection closes now; a busy one finishes its request and then closes.
    if (!busy_) {
      Abort();
    }
  }

  void Abort() override {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket& socket() { return socket_; }

  void MarkWriting() { SetDeadline(worker_.limits.write_timeout); }

  /// Where response heads are serialised; reused for every response on the connection.
  std::string& head_buffer() { return head_buffer_; }

 private:
  net::awaitable<bool> ReadRequest(bhttp::request_parser<bhttp::string_body>& parser);
  net::awaitable<void> RejectMalformed(bhttp::status status);
  net::awaitable<void> DrainRejectedBody();

  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::string head_buffer_;
  ConnectionInfo info_;
  bool busy_ = false;
  bool body_rejected_ = false;
};

net::awaitable<bool> Http1Exchange::Respond(Response response) {
  status_ = response.result_int();
  response.keep_alive(keep_alive_);
  response.content_length(response.body().size());
  auto& head = session_.head_buffer();
  head.clear();
  AppendResponseHead(status_, response.version(), response.base(), head);
  const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(response.body())};
  session_.MarkWriting();
  const auto ec = co_await WriteAll(session_.socket(), buffers);
  bytes_sent_ += head.size() + response.body().size();
  finished_ = true;
  failed_ = static_cast<bool>(ec);
  co_return !ec;
}

net::awaitable<bool> Http1Exchange::StartStream(Response head) {
  status_ = head.result_int();
  head.keep_alive(keep_alive_);
  head.chunked(true);
  auto& bytes = session_.head_buffer();
  bytes.clear();
  AppendResponseHead(status_, head.version(), head.base(), bytes);
  session_.MarkWriting();
  const auto ec = co_await WriteAll(session_.socket(), net::buffer(bytes));
  bytes_sent_ += bytes.size();
  failed_ = static_cast<bool>(ec);
  co_return !ec;
}

net::awaitable<bool> Http1Exchange::WriteStream(std::string_view data) {
  if (failed_ || data.empty()) {
    co_return !failed_;
  }
  session_.MarkWriting();
  const auto chunk = bhttp::make_chunk(net::const_buffer(data.data(), data.size()));
  const auto ec = co_await WriteAll(session_.socket(), chunk);
  bytes_sent_ += net::buffer_size(chunk);
  failed_ = static_cast<bool>(ec);
  co_return !ec;
}

net::awaitable<bool> Http1Exchange::FinishStream() {
  if (failed_) {
    co_return false;
  }
  session_.MarkWriting();
  const auto last = bhttp::make_chunk_last();
  const auto ec = co_await WriteAll(session_.socket(), last);
  bytes_sent_ += net::buffer_size(last);
  finished_ = true;
  failed_ = static_cast<bool>(ec);
  co_return !ec;
}

net::awaitable<bool> Http1Session::ReadRequest(bhttp::request_parser<bhttp::string_body>& parser) {
  // Waiting for a request to begin counts against the idle timeout; once its first bytes are
  // here, the whole request must arrive within the read timeout.
  if (buffer_.size() == 0) {
    SetDeadline(worker_.limits.idle_timeout);
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(8192), kUseTuple);
    if (ec) {
      co_return false;
    }
    buffer_.commit(n);
  }
  busy_ = true;
  SetDeadline(worker_.limits.read_timeout);

  parser.header_limit(static_cast<std::uint32_t>(worker_.limits.max_header_bytes));
  parser.body_limit(worker_.limits.max_body_bytes);
  auto ec = co_await ReadUntil(socket_, buffer_, parser,
                               [](const auto& p) { return p.is_header_done(); });
  if (ec == bhttp::error::body_limit) {
    // Content-Length already announces too much. The head is complete enough for the handler
    // to answer with its own size error; the connection then closes.
    body_rejected_ = true;
    co_return true;
  }
  if (ec == bhttp::error::header_limit) {
    co_await RejectMalformed(bhttp::status::request_header_fields_too_large);
    co_return false;
  }
  if (ec) {
    if (ec != bhttp::error::end_of_stream && ec != net::error::operation_aborted &&
        ec != bhttp::error::partial_message && ec != net::error::connection_reset &&
        ec != net::error::bad_descriptor) {
      spdlog::debug("request rejected connection={} reason=\"{}\"", info_.id, ec.message());
      co_await RejectMalformed(bhttp::status::bad_request);
    }
    co_return false;
  }

  // Clients that send `Expect: 100-continue` wait for permission before sending the body.
  const auto expect = parser.get()[bhttp::field::expect];
  if (beast::iequals(expect, "100-continue")) {
    constexpr std::string_view kGoOn = "HTTP/1.1 100 Continue\r\n\r\n";
    const auto write_ec = co_await WriteAll(socket_, net::buffer(kGoOn));
    if (write_ec) {
      co_return false;
    }
  }

  parser.eager(true);
  ec = co_await ReadUntil(socket_, buffer_, parser, [](const auto& p) { return p.is_done(); });
  if (ec == bhttp::error::body_limit) {
    // The handler still answers (with its front door's error shape); the connection then closes
    // because the rest of the body was never read.
    body_rejected_ = true;
    co_return true;
  }
  if (ec) {
    if (ec != net::error::operation_aborted && ec != bhttp::error::partial_message &&
        ec != bhttp::error::end_of_stream && ec != net::error::bad_descriptor) {
      co_await RejectMalformed(bhttp::status::bad_request);
    }
    co_return false;
  }
  co_return true;
}

net::awaitable<void> Http1Session::RejectMalformed(bhttp::status status) {
  bhttp::response<bhttp::string_body> response{status, 11};
  response.set(bhttp::field::content_type, "text/plain");
  response.body() = std::string(bhttp::obsolete_reason(status)) + "\n";
  response.keep_alive(false);
  response.prepare_payload();
  SetDeadline(worker_.limits.write_timeout);
  co_await bhttp::async_write(socket_, response, kUseTuple);
}

net::awaitable<void> Http1Session::DrainRejectedBody() {
  // The client is most likely still sending the body we refused. Closing now would make the
  // kernel answer its data with a reset, which can destroy our error response before the client
  // reads it; so stop sending, read and discard what is still coming (bounded in time and bytes),
  // then close. Web servers call this a lingering close.
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  SetDeadline(worker_.limits.read_timeout);
  std::array<char, 16384> scratch;
  std::size_t drained = 0;
  while (drained < kMaxLingeringBytes) {
    auto [ec, n] = co_await socket_.async_read_some(net::buffer(scratch), kUseTuple);
    if (ec) {
      break;
    }
    drained += n;
  }
  socket_.close(ignored);
}

net::awaitable<void> Http1Session::Run() {
  while (!worker_.stopping) {
    busy_ = false;
    body_rejected_ = false;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser;
    parser.emplace();
    const bool ok = co_await ReadRequest(*parser);
    if (!ok) {
      break;
    }

    // A refused body leaves the parser mid-head (Content-Length over the limit stops it there), so
    // its keep-alive state must not be asked; such a connection closes anyway.
    const bool keep_alive = !body_rejected_ && !worker_.stopping && parser->keep_alive();
    Http1Exchange exchange(*this, info_, keep_alive);
    if (body_rejected_) {
      exchange.MarkBodyRejected();
    }
    exchange.request() = parser->release();
    co_await worker_.handler.Handle(exchange);

    if (!exchange.started()) {
      Response fallback{bhttp::status::internal_server_error, 11};
      co_await exchange.Respond(std::move(fallback));
    } else if (!exchange.finished() && !exchange.failed()) {
      // A stream the handler left open cannot be reused: the body framing is unfinished.
      exchange.set_keep_alive(false);
      co_await exchange.FinishStream();
    }
    LogAccess(worker_.access_log, exchange, exchange.bytes_sent());

    if (body_rejected_ && !exchange.failed()) {
      co_await DrainRejectedBody();
      co_return;
    }
    if (exchange.failed() || !exchange.keep_alive() || worker_.stopping) {
      break;
    }
  }

  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  socket_.close(ignored);
}

}  // namespace

net::awaitable<void> RunHttp1(tcp::socket socket, beast::flat_buffer buffer, WorkerContext& worker,
                              ConnectionInfo info) {
  Http1Session session(std::move(socket), std::move(buffer), worker, std::move(info));
  co_await session.Run();
}

}  // namespace sluice::http::internal
