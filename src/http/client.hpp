#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/system/result.hpp>

#include "http/exchange.hpp"

namespace sluice::http {

/// Where an upstream listens: host and port (cleartext HTTP/1.1 for now).
struct Endpoint {
  std::string host;
  std::uint16_t port = 80;

  /// Parses `http://host:port` (the port defaults to 80). Returns an explanation on failure.
  static boost::system::result<Endpoint, std::string> Parse(std::string_view url);

  /// `host:port`, the form the Host header and pool keys use.
  std::string authority() const;
};

/// Why an upstream exchange failed, in terms a provider turns into a gateway error.
enum class ClientError {
  kConnectFailed,  // nothing was sent: safe to try elsewhere
  kTimedOut,       // the deadline passed
  kBroken,         // the connection failed mid-exchange
  kBadResponse,    // the upstream sent something that is not HTTP
};

std::string_view ClientErrorText(ClientError error);

template <typename T>
using ClientResult = boost::system::result<T, ClientError>;

using ClientResponse = beast::http::response<beast::http::string_body>;

/// A request to send upstream, borrowed for the duration of the call. The client writes it
/// straight into the connection's reusable buffer; Host, Content-Length and keep-alive framing
/// are added.
struct OutgoingRequest {
  beast::http::verb method = beast::http::verb::post;
  std::string_view target;
  /// Further header fields, name and value.
  std::span<const std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;
};

class PooledConnection;

/// A response whose body is read piece by piece as it arrives (event streams). Holds its
/// connection until the body is complete or the object is destroyed; a fully read body returns
/// the connection to the pool.
class StreamingResponse {
 public:
  StreamingResponse(std::unique_ptr<PooledConnection> connection,
                    std::unique_ptr<beast::http::response_parser<beast::http::buffer_body>> parser,
                    std::chrono::steady_clock::time_point deadline);
  StreamingResponse(StreamingResponse&&) noexcept;
  StreamingResponse& operator=(StreamingResponse&&) noexcept;
  ~StreamingResponse();

  unsigned status() const;
  const beast::http::fields& headers() const;

  /// The next piece of the body; an empty view once the body is complete.
  net::awaitable<ClientResult<std::string_view>> Next();

 private:
  std::unique_ptr<PooledConnection> connection_;
  std::unique_ptr<beast::http::response_parser<beast::http::buffer_body>> parser_;
  std::chrono::steady_clock::time_point deadline_;
  std::unique_ptr<char[]> chunk_;
  bool done_ = false;
};

/// An HTTP/1.1 client with keep-alive connection pools, one pool set per event loop (io_context),
/// so connections never cross threads and need no locks. A connection the upstream closed while
/// idle is detected on reuse and the request is retried once on a fresh connection.
///
/// Use from coroutines running on a server worker's io_context.
class Client final {
 public:
  struct Options {
    /// Idle connections kept per endpoint and event loop.
    std::size_t max_idle_per_endpoint = 64;
  };

  Client() = default;

  explicit Client(Options options) : options_(options) {}

  /// Sends `request` and reads the whole response.
  net::awaitable<ClientResult<ClientResponse>> Send(const Endpoint& endpoint,
                                                    const OutgoingRequest& request,
                                                    std::chrono::steady_clock::time_point deadline);

  /// Sends `request` and reads the response head; the body is read through the result.
  net::awaitable<ClientResult<StreamingResponse>> Open(
      const Endpoint& endpoint, const OutgoingRequest& request,
      std::chrono::steady_clock::time_point deadline);

 private:
  Options options_;
};

}  // namespace sluice::http
