#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace sluice::http {

namespace net = boost::asio;
namespace beast = boost::beast;

using Request = beast::http::request<beast::http::string_body>;
using Response = beast::http::response<beast::http::string_body>;

enum class Protocol {
  kHttp1,
  kHttp2,
};

/// What the server knows about the connection a request arrived on.
struct ConnectionInfo {
  std::uint64_t id = 0;
  Protocol protocol = Protocol::kHttp1;
  std::string remote_address;
  bool remote_is_loopback = false;
};

/// Facts about one request for its access-log line. The server fills in status, bytes and
/// latency; handlers add what they learn (principal, model, tokens) as they go.
struct AccessRecord {
  std::string request_id;
  std::string principal;
  std::string model;
  std::string region;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::string error_type;
};

/// One request and the means to answer it, the same over HTTP/1.1 and HTTP/2.
///
/// A handler answers exactly once: either `Respond` with a complete response, or `StartStream`
/// followed by any number of `WriteStream` calls and one `FinishStream`. Each call returns false
/// when the client has gone away; the handler should then stop producing output. An exchange
/// lives on one executor (strand) and is not thread-safe.
class Exchange {
 public:
  Exchange() = default;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  virtual ~Exchange() = default;

  /// Sends a complete response; Content-Length is set from the body.
  virtual net::awaitable<bool> Respond(Response response) = 0;

  /// Sends the status line and headers of a streamed response; the body of `head` is ignored.
  virtual net::awaitable<bool> StartStream(Response head) = 0;

  /// Sends the next piece of a streamed body. Completes once the bytes are handed to the
  /// connection's send queue, which bounds how far a producer runs ahead of a slow client.
  virtual net::awaitable<bool> WriteStream(std::string_view data) = 0;

  /// Ends a streamed body.
  virtual net::awaitable<bool> FinishStream() = 0;

  Request& request() { return request_; }

  const Request& request() const { return request_; }

  const ConnectionInfo& connection() const { return *connection_; }

  AccessRecord& record() { return record_; }

  const AccessRecord& record() const { return record_; }

  std::chrono::steady_clock::time_point received_at() const { return received_at_; }

  int status() const { return status_; }

  bool started() const { return status_ != 0; }

  /// True when the body was larger than the server accepts and was not read: `request().body()`
  /// is incomplete, and the handler should answer with its front door's size error.
  bool body_rejected() const { return body_rejected_; }

  void MarkBodyRejected() { body_rejected_ = true; }

 protected:
  Request request_;
  const ConnectionInfo* connection_ = nullptr;
  AccessRecord record_;
  std::chrono::steady_clock::time_point received_at_ = std::chrono::steady_clock::now();
  int status_ = 0;  // set when the response head goes out
  bool body_rejected_ = false;
};

/// Answers requests. Implementations must be safe to call from every worker thread at once.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  /// Handles one request. It must answer through `exchange` before returning; the server sends a
  /// 500 on its behalf if it does not, and logs any exception that escapes.
  virtual net::awaitable<void> Handle(Exchange& exchange) = 0;
};

}  // namespace sluice::http
