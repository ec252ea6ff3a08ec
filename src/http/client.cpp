#include "http/client.hpp"

#include <array>
#include <charconv>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include "http/stream_io.hpp"

namespace sluice::http {

namespace {

namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

// Upstream deadlines are enforced by a sweep at this granularity instead of a timer per read.
constexpr std::chrono::milliseconds kSweepInterval{100};

// Bound on a buffered (non-streaming) upstream response body.
constexpr std::uint64_t kMaxResponseBody = 64 * 1024 * 1024;

// Room for an upstream's answer in the connection's read buffer, so that a typical response
// arrives in one read.
constexpr std::size_t kReadBufferBytes = 16 * 1024;

// Size of the piece a streamed body is read into.
constexpr std::size_t kStreamChunkBytes = 16 * 1024;

}  // namespace

// An upstream connection with the buffers that serve it. They stay together in the pool, so a
// reused connection also reuses the memory its earlier requests grew.
struct Link {
  tcp::socket socket;
  beast::flat_buffer buffer;
  std::string head;
};

// The per-event-loop pools: idle connections by endpoint, and the connections in use, whose
// deadlines the sweep enforces. Only ever touched from its io_context's thread.
class ClientService final : public net::execution_context::service {
 public:
  using key_type = ClientService;
  static inline net::execution_context::id id;

  explicit ClientService(net::execution_context& context)
      : net::execution_context::service(context) {}

  void shutdown() override;

  std::optional<Link> TakeIdle(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) {
      return std::nullopt;
    }
    Link link = std::move(it->second.back());
    it->second.pop_back();
    return link;
  }

  void ReturnIdle(const std::string& key, Link link, std::size_t limit) {
    if (shut_down_) {
      return;
    }
    auto& pool = idle_[key];
    if (pool.size() < limit && link.socket.is_open()) {
      link.buffer.clear();
      pool.push_back(std::move(link));
    }
  }

  // The sweep runs only while connections are checked out: an idle pool leaves no pending
  // operation behind, so an event loop with nothing else to do can finish (shutdown).
  void Register(PooledConnection* connection, const net::any_io_executor& executor) {
    active_.insert(connection);
    if (!sweeping_ && !shut_down_) {
      sweeping_ = true;
      if (!timer_) {
        timer_.emplace(executor);
      }
      net::co_spawn(executor, Sweep(), net::detached);
    }
  }

  void Unregister(PooledConnection* connection) { active_.erase(connection); }

  std::unordered_map<std::string, tcp::endpoint> resolved;

 private:
  net::awaitable<void> Sweep();

  std::unordered_map<std::string, std::vector<Link>> idle_;
  std::unordered_set<PooledConnection*> active_;
  std::optional<net::steady_timer> timer_;
  bool sweeping_ = false;
  bool shut_down_ = false;
};

// One upstream connection checked out of its pool for one exchange.
class PooledConnection {
 public:
  PooledConnection(ClientService& service, std::string key, Link link, bool reused,
                   std::size_t idle_limit, Clock::time_point deadline)
      : service_(service),
        key_(std::move(key)),
        link_(std::move(link)),
        reused_(reused),
        idle_limit_(idle_limit),
        deadline_(deadline) {
    service_.Register(this, link_.socket.get_executor());
  }

  PooledConnection(const PooledConnection&) = delete;
  PooledConnection& operator=(const PooledConnection&) = delete;

  ~PooledConnection() {
    service_.Unregister(this);
    if (reusable_ && !timed_out_) {
      service_.ReturnIdle(key_, std::move(link_), idle_limit_);
    }
  }

  void Close() {
    boost::system::error_code ignored;
    link_.socket.close(ignored);
  }

  void TimeOut() {
    timed_out_ = true;
    Close();
  }

  tcp::socket& socket() { return link_.socket; }

  beast::flat_buffer& buffer() { return link_.buffer; }

  std::string& head() { return link_.head; }

  bool reused() const { return reused_; }

  bool timed_out() const { return timed_out_; }

  Clock::time_point deadline() const { return deadline_; }

  void set_reusable(bool reusable) { reusable_ = reusable; }

 private:
  ClientService& service_;
  std::string key_;
  Link link_;
  bool reused_;
  std::size_t idle_limit_;
  Clock::time_point deadline_;
  bool reusable_ = false;
  bool timed_out_ = false;
};

void ClientService::shutdown() {
  shut_down_ = true;
  idle_.clear();
  for (auto* connection : active_) {
    connection->Close();
  }
  active_.clear();
  // The timer goes now, while its own service still exists: services are destroyed newest
  // first, and the timer service may be newer than this one.
  timer_.reset();
}

net::awaitable<void> ClientService::Sweep() {
  while (!active_.empty()) {
    timer_->expires_after(kSweepInterval);
    auto [ec] = co_await timer_->async_wait(kUseTuple);
    if (ec || shut_down_) {
      co_return;
    }
    const auto now = Clock::now();
    std::vector<PooledConnection*> late;
    for (auto* connection : active_) {
      if (connection->deadline() <= now) {
        late.push_back(connection);
      }
    }
    for (auto* connection : late) {
      connection->TimeOut();
    }
  }
  sweeping_ = false;
}

namespace {

ClientError ErrorFor(const PooledConnection& connection) {
  return connection.timed_out() ? ClientError::kTimedOut : ClientError::kBroken;
}

// Checks out a pooled connection to `endpoint`, or connects a new one.
net::awaitable<ClientResult<std::unique_ptr<PooledConnection>>> Acquire(const Endpoint& endpoint,
                                                                        const std::string& key,
                                                                        std::size_t idle_limit,
                                                                        Clock::time_point deadline,
                                                                        bool allow_reuse) {
  auto executor = co_await net::this_coro::executor;
  auto& service = net::use_service<ClientService>(net::query(executor, net::execution::context));

  if (allow_reuse) {
    if (auto link = service.TakeIdle(key)) {
      co_return std::make_unique<PooledConnection>(service, key, std::move(*link), true, idle_limit,
                                                   deadline);
    }
  }

  auto resolved = service.resolved.find(key);
  if (resolved == service.resolved.end()) {
    boost::system::error_code ec;
    const auto address = net::ip::make_address(endpoint.host, ec);
    tcp::endpoint target;
    if (!ec) {
      target = tcp::endpoint(address, endpoint.port);
    } else {
      tcp::resolver resolver(executor);
      auto [resolve_ec, results] =
          co_await resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), kUseTuple);
      if (resolve_ec || results.empty()) {
        co_return ClientError::kConnectFailed;
      }
      target = *results.begin();
    }
    resolved = service.resolved.emplace(key, target).first;
  }

  auto connection = std::make_unique<PooledConnection>(service, key, Link{tcp::socket(executor)},
                                                       false, idle_limit, deadline);
  auto [ec] = co_await connection->socket().async_connect(resolved->second, kUseTuple);
  if (ec) {
    service.resolved.erase(key);  // look the name up again next time
    co_return connection->timed_out() ? ClientError::kTimedOut : ClientError::kConnectFailed;
  }
  connection->socket().set_option(tcp::no_delay(true));
  connection->socket().non_blocking(true);  // lets writes be tried directly first
  connection->buffer().reserve(kReadBufferBytes);
  co_return connection;
}

// Writes the request head into `head`, reusing its capacity from earlier requests.
void SerializeHead(const OutgoingRequest& request, std::string_view authority, std::string& head) {
  head.clear();
  head.append(bhttp::to_string(request.method));
  head.push_back(' ');
  head.append(request.target);
  head.append(" HTTP/1.1\r\nHost: ");
  head.append(authority);
  for (const auto& [name, value] : request.headers) {
    head.append("\r\n");
    head.append(name);
    head.append(": ");
    head.append(value);
  }
  head.append("\r\nContent-Length: ");
  char digits[24];
  const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), request.body.size());
  head.append(digits, end);
  head.append("\r\n\r\n");
}

// Sends the head and the body in one gathered write.
net::awaitable<boost::system::error_code> WriteRequest(PooledConnection& connection,
                                                       const OutgoingRequest& request,
                                                       std::string_view authority) {
  SerializeHead(request, authority, connection.head());
  const std::array<net::const_buffer, 2> buffers{
      net::buffer(connection.head()), net::buffer(request.body.data(), request.body.size())};
  const auto ec = co_await internal::WriteAll(connection.socket(), buffers);
  co_return ec;
}

bool IsHttpParseError(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category();
}

// True when a reused connection failed before the upstream sent anything: the upstream had
// closed it while idle, so the request never reached it and may go out again.
bool StaleConnection(const PooledConnection& connection, bool got_response_bytes) {
  return connection.reused() && !got_response_bytes && !connection.timed_out();
}

}  // namespace

boost::system::result<Endpoint, std::string> Endpoint::Parse(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return {boost::system::in_place_error, "not a URL"};
  }
  if (parsed->scheme() != "http") {
    return {boost::system::in_place_error, "only http:// endpoints are supported"};
  }
  Endpoint endpoint;
  endpoint.host = parsed->host_address();
  if (endpoint.host.empty()) {
    return {boost::system::in_place_error, "the URL has no host"};
  }
  if (parsed->has_port()) {
    endpoint.port = parsed->port_number();
    if (endpoint.port == 0) {
      return {boost::system::in_place_error, "the port must be between 1 and 65535"};
    }
  }
  return endpoint;
}

std::string Endpoint::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string_view ClientErrorText(ClientError error) {
  switch (error) {
    case ClientError::kConnectFailed:
      return "could not connect to the upstream";
    case ClientError::kTimedOut:
      return "the upstream did not answer in time";
    case ClientError::kBroken:
      return "the upstream connection broke";
    case ClientError::kBadResponse:
      return "the upstream sent a malformed response";
  }
  return "upstream failure";
}

namespace {

// A request sent and its response read as far as the caller needs, on a connection still
// checked out of the pool.
template <typename Body>
struct Checkout {
  std::unique_ptr<PooledConnection> connection;
  std::unique_ptr<bhttp::response_parser<Body>> parser;
};

// Sends `request` on a pooled connection and reads the response: the whole message, or only its
// head when `head_only`. A reused connection that the upstream had closed while idle is replaced
// once by a fresh one.
template <typename Body>
net::awaitable<ClientResult<Checkout<Body>>> SendAndRead(const Endpoint& endpoint,
                                                         const OutgoingRequest& request,
                                                         Clock::time_point deadline,
                                                         std::size_t idle_limit, bool head_only) {
  const std::string key = endpoint.authority();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto acquired = co_await Acquire(endpoint, key, idle_limit, deadline, attempt == 0);
    if (!acquired) {
      co_return acquired.error();
    }
    Checkout<Body> checkout{std::move(*acquired), std::make_unique<bhttp::response_parser<Body>>()};
    auto& connection = *checkout.connection;
    auto& parser = *checkout.parser;

    const auto write_ec = co_await WriteRequest(connection, request, key);
    if (write_ec) {
      if (StaleConnection(connection, false)) {
        continue;
      }
      co_return ErrorFor(connection);
    }

    if (head_only) {
      parser.body_limit(boost::none);  // streams are bounded by time, not size
    } else {
      parser.body_limit(kMaxResponseBody);
      parser.eager(true);
    }
    const auto read_ec = co_await internal::ReadUntil(
        connection.socket(), connection.buffer(), parser,
        [head_only](const auto& p) { return head_only ? p.is_header_done() : p.is_done(); });
    if (read_ec) {
      if (StaleConnection(connection, parser.got_some())) {
        continue;
      }
      if (IsHttpParseError(read_ec) && !connection.timed_out()) {
        co_return ClientError::kBadResponse;
      }
      co_return ErrorFor(connection);
    }
    co_return checkout;
  }
  co_return ClientError::kBroken;
}

}  // namespace

net::awaitable<ClientResult<ClientResponse>> Client::Send(const Endpoint& endpoint,
                                                          const OutgoingRequest& request,
                                                          Clock::time_point deadline) {
  auto sent = co_await SendAndRead<bhttp::string_body>(
      endpoint, request, deadline, options_.max_idle_per_endpoint, /*head_only=*/false);
  if (!sent) {
    co_return sent.error();
  }
  auto& [connection, parser] = *sent;
  connection->set_reusable(parser->keep_alive() && connection->buffer().size() == 0);
  co_return parser->release();
}

net::awaitable<ClientResult<StreamingResponse>> Client::Open(const Endpoint& endpoint,
                                                             const OutgoingRequest& request,
                                                             Clock::time_point deadline) {
  auto sent = co_await SendAndRead<bhttp::buffer_body>(
      endpoint, request, deadline, options_.max_idle_per_endpoint, /*head_only=*/true);
  if (!sent) {
    co_return sent.error();
  }
  co_return StreamingResponse(std::move(sent->connection), std::move(sent->parser), deadline);
}

StreamingResponse::StreamingResponse(
    std::unique_ptr<PooledConnection> connection,
    std::unique_ptr<bhttp::response_parser<bhttp::buffer_body>> parser, Clock::time_point deadline)
    : connection_(std::move(connection)),
      parser_(std::move(parser)),
      deadline_(deadline),
      chunk_(std::make_unique<char[]>(kStreamChunkBytes)) {
  done_ = parser_->is_done();
}

StreamingResponse::StreamingResponse(StreamingResponse&&) noexcept = default;
StreamingResponse& StreamingResponse::operator=(StreamingResponse&&) noexcept = default;
StreamingResponse::~StreamingResponse() = default;

unsigned StreamingResponse::status() const {
  return parser_->get().result_int();
}

const bhttp::fields& StreamingResponse::headers() const {
  return parser_->get().base();
}

net::awaitable<ClientResult<std::string_view>> StreamingResponse::Next() {
  while (!done_) {
    auto& body = parser_->get().body();
    body.data = chunk_.get();
    body.size = kStreamChunkBytes;
    auto [ec, n] = co_await bhttp::async_read_some(connection_->socket(), connection_->buffer(),
                                                   *parser_, kUseTuple);
    if (ec == bhttp::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      co_return ErrorFor(*connection_);
    }
    const std::size_t produced = kStreamChunkBytes - body.size;
    if (parser_->is_done()) {
      done_ = true;
      connection_->set_reusable(parser_->keep_alive() && connection_->buffer().size() == 0);
    }
    if (produced > 0) {
      co_return std::string_view(chunk_.get(), produced);
    }
  }
  co_return std::string_view();
}

}  // namespace sluice::http
