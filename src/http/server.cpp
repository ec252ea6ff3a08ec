#include "http/server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "http/session.hpp"

namespace sluice::http {

namespace {

using tcp = net::ip::tcp;
constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

// RFC 9113 §3.4: every HTTP/2 connection starts with this exact preface.
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// How often a worker checks its connections for missed deadlines. Timeouts are therefore
// enforced to within this granularity, which keeps per-read timer churn off the hot path.
constexpr std::chrono::milliseconds kSweepInterval{250};

bool IsLoopback(const net::ip::address& address) {
  if (address.is_v4()) {
    return address.to_v4().is_loopback();
  }
  const auto v6 = address.to_v6();
  return v6.is_loopback() ||
         (v6.is_v4_mapped() && net::ip::make_address_v4(net::ip::v4_mapped, v6).is_loopback());
}

// True when `bytes` could still become, or already is, the HTTP/2 preface.
bool MatchesPrefacePrefix(std::string_view bytes) {
  const auto n = std::min(bytes.size(), kHttp2Preface.size());
  return bytes.substr(0, n) == kHttp2Preface.substr(0, n);
}

}  // namespace

struct Server::Worker {
  explicit Worker(const ServerOptions& options, RequestHandler& handler)
      : io(1),
        acceptor(io),
        sweep_timer(io),
        access_buffer(options.access_log ? std::make_unique<AccessLog::Buffer>(*options.access_log)
                                         : nullptr),
        context{.limits = options.limits,
                .handler = handler,
                .access_log = access_buffer.get(),
                .sessions = {}} {}

  net::io_context io;
  tcp::acceptor acceptor;
  net::steady_timer sweep_timer;
  std::unique_ptr<AccessLog::Buffer> access_buffer;
  internal::WorkerContext context;
  std::thread thread;
};

Server::Server(ServerOptions options, RequestHandler& handler)
    : options_(std::move(options)), handler_(handler) {
  unsigned count = options_.workers;
  if (count == 0) {
    count = std::max(1u, std::thread::hardware_concurrency());
  }
  for (unsigned i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<Worker>(options_, handler_));
  }
}

Server::~Server() {
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) {
      worker->io.stop();
      worker->thread.join();
    }
  }
}

void Server::Listen() {
  const auto address = net::ip::make_address(options_.host);
  std::uint16_t port = options_.port;

  // Every worker listens on the same port with SO_REUSEPORT, so the kernel spreads new
  // connections across workers without a shared accept queue or cross-thread handoff.
  for (auto& worker : workers_) {
    tcp::endpoint endpoint(address, port);
    worker->acceptor.open(endpoint.protocol());
    worker->acceptor.set_option(net::socket_base::reuse_address(true));
    const int one = 1;
    if (::setsockopt(worker->acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one,
                     sizeof(one)) != 0) {
      throw std::runtime_error(std::string("cannot set SO_REUSEPORT: ") + std::strerror(errno));
    }
    worker->acceptor.bind(endpoint);
    worker->acceptor.listen(net::socket_base::max_listen_connections);
    port = worker->acceptor.local_endpoint().port();
  }
  bound_port_ = port;
}

namespace {

// A connection whose protocol is not known yet. It is registered with the worker like any
// session, so that a client that connects and sends nothing is closed at the idle timeout.
class UndecidedConnection final : public internal::Session {
 public:
  UndecidedConnection(tcp::socket& socket, internal::WorkerContext& worker)
      : Session(worker), socket_(socket) {
    SetDeadline(worker.limits.idle_timeout);
  }

  void BeginShutdown() override { Abort(); }

  void Abort() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  tcp::socket& socket_;
};

enum class Detected {
  kHttp1,
  kHttp2,
  kClosed,
};

// Reads until the first bytes tell HTTP/1.1 from the HTTP/2 preface. A plain HTTP/1.1 request
// differs from the preface at its first byte ("PRI" is not a method anyone else sends).
net::awaitable<Detected> DetectProtocol(tcp::socket& socket, beast::flat_buffer& buffer,
                                        internal::WorkerContext& worker) {
  UndecidedConnection undecided(socket, worker);
  while (true) {
    const auto* data = static_cast<const char*>(buffer.data().data());
    const std::string_view seen(data, buffer.size());
    if (!MatchesPrefacePrefix(seen)) {
      co_return Detected::kHttp1;
    }
    if (seen.size() >= kHttp2Preface.size()) {
      co_return Detected::kHttp2;
    }
    auto [ec, n] = co_await socket.async_read_some(buffer.prepare(4096), kUseTuple);
    if (ec) {
      co_return Detected::kClosed;
    }
    buffer.commit(n);
  }
}

net::awaitable<void> ServeConnection(tcp::socket socket, internal::WorkerContext& worker,
                                     ConnectionInfo info) {
  beast::flat_buffer buffer;
  const Detected protocol = co_await DetectProtocol(socket, buffer, worker);
  if (protocol == Detected::kHttp1) {
    co_await internal::RunHttp1(std::move(socket), std::move(buffer), worker, std::move(info));
  } else if (protocol == Detected::kHttp2) {
    info.protocol = Protocol::kHttp2;
    co_await internal::RunHttp2(std::move(socket), std::move(buffer), worker, std::move(info));
  }
}

}  // namespace

void Server::Run() {
  ready_.store(!stopping_.load(), std::memory_order_relaxed);

  for (auto& worker_ptr : workers_) {
    Worker& worker = *worker_ptr;
    net::co_spawn(
        worker.io,
        [this, &worker]() -> net::awaitable<void> {
          while (worker.acceptor.is_open()) {
            auto [ec, socket] = co_await worker.acceptor.async_accept(kUseTuple);
            if (ec) {
              if (ec == net::error::operation_aborted || !worker.acceptor.is_open()) {
                break;
              }
              spdlog::warn("accept failed error=\"{}\"", ec.message());
              continue;
            }
            if (connections_.load(std::memory_order_relaxed) >= options_.limits.max_connections) {
              spdlog::warn("connection refused reason=max_connections limit={}",
                           options_.limits.max_connections);
              continue;  // the socket closes as it goes out of scope
            }
            socket.set_option(tcp::no_delay(true));
            socket.non_blocking(true);  // lets responses be written directly first
            ConnectionInfo info;
            info.id = next_connection_id_.fetch_add(1, std::memory_order_relaxed);
            boost::system::error_code endpoint_ec;
            const auto remote = socket.remote_endpoint(endpoint_ec);
            if (!endpoint_ec) {
              info.remote_address = remote.address().to_string();
              info.remote_is_loopback = IsLoopback(remote.address());
            }
            connections_.fetch_add(1, std::memory_order_relaxed);
            net::co_spawn(worker.io,
                          ServeConnection(std::move(socket), worker.context, std::move(info)),
                          [this](std::exception_ptr error) {
                            connections_.fetch_sub(1, std::memory_order_relaxed);
                            if (error) {
                              try {
                                std::rethrow_exception(error);
                              } catch (const std::exception& e) {
                                spdlog::error("connection failed error=\"{}\"", e.what());
                              }
                            }
                          });
          }
        },
        net::detached);

    // The sweep aborts connections that missed their deadline (idle, slow read, stuck write).
    net::co_spawn(
        worker.io,
        [&worker]() -> net::awaitable<void> {
          // Ends once a shutdown has started and no connection is left (which also covers a
          // Stop() that ran before this loop began).
          while (!worker.context.stopping || !worker.context.sessions.empty()) {
            worker.sweep_timer.expires_after(kSweepInterval);
            auto [ec] = co_await worker.sweep_timer.async_wait(kUseTuple);
            if (ec) {
              co_return;
            }
            const auto now = std::chrono::steady_clock::now();
            std::vector<internal::Session*> late;
            for (auto* session : worker.context.sessions) {
              if (session->deadline() <= now) {
                late.push_back(session);
              }
            }
            for (auto* session : late) {
              session->Abort();
            }
            if (worker.access_buffer) {
              worker.access_buffer->Flush();
            }
          }
          if (worker.access_buffer) {
            worker.access_buffer->Flush();
          }
        },
        net::detached);
  }

  for (std::size_t i = 1; i < workers_.size(); ++i) {
    workers_[i]->thread = std::thread([&io = workers_[i]->io] { io.run(); });
  }
  workers_[0]->io.run();
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    workers_[i]->thread.join();
  }
}

void Server::Stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  ready_.store(false, std::memory_order_relaxed);
  for (auto& worker_ptr : workers_) {
    Worker& worker = *worker_ptr;
    net::co_spawn(
        worker.io,
        [&worker, drain = options_.drain_timeout]() -> net::awaitable<void> {
          boost::system::error_code ignored;
          worker.acceptor.close(ignored);
          worker.context.stopping = true;
          const std::vector<internal::Session*> sessions(worker.context.sessions.begin(),
                                                         worker.context.sessions.end());
          for (auto* session : sessions) {
            session->BeginShutdown();
          }

          // Give in-flight requests the drain period, checking often so an idle server exits fast.
          net::steady_timer timer(worker.io);
          const auto give_up = std::chrono::steady_clock::now() + drain;
          while (!worker.context.sessions.empty() && std::chrono::steady_clock::now() < give_up) {
            timer.expires_after(std::chrono::milliseconds(50));
            co_await timer.async_wait(kUseTuple);
          }
          if (!worker.context.sessions.empty()) {
            spdlog::warn("drain timed out, closing connections count={}",
                         worker.context.sessions.size());
            const std::vector<internal::Session*> left(worker.context.sessions.begin(),
                                                       worker.context.sessions.end());
            for (auto* session : left) {
              session->Abort();
            }
          }
          worker.sweep_timer.cancel();
        },
        net::detached);
  }
}

}  // namespace sluice::http
