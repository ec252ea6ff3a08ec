#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "http/access_log.hpp"
#include "http/exchange.hpp"

namespace sluice::http {

/// Limits that keep one client from holding more than its share of the server.
struct ServerLimits {
  /// Largest request head (request line and headers) accepted; larger gets 431.
  std::size_t max_header_bytes = 64 * 1024;
  /// Largest request body accepted. Bedrock's InvokeModel takes at most 25,000,000 bytes.
  std::size_t max_body_bytes = 25'000'000;
  /// A connection with no request in progress is closed after this long.
  std::chrono::milliseconds idle_timeout{60'000};
  /// A request whose head and body have not fully arrived after this long is abandoned, so a
  /// slow client cannot hold a connection open byte by byte.
  std::chrono::milliseconds read_timeout{30'000};
  /// A response the client does not read for this long is abandoned.
  std::chrono::milliseconds write_timeout{60'000};
  /// Connections beyond this are accepted and closed at once.
  std::size_t max_connections = 10'000;
  /// HTTP/2 streams a client may have open on one connection.
  std::uint32_t max_concurrent_streams = 128;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4000;
  /// Event-loop threads, each with its own io_context and listening socket (SO_REUSEPORT);
  /// 0 means one per core.
  unsigned workers = 0;
  ServerLimits limits;
  /// How long a graceful shutdown waits for in-flight requests before closing connections.
  std::chrono::milliseconds drain_timeout{30'000};
  /// Where access-log lines go (one per request); null turns the access log off. Borrowed: it
  /// must outlive the server.
  AccessLog* access_log = nullptr;
};

/// The listening server: HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on one port, spread
/// over one io_context per worker thread. Each connection stays on the thread that accepted it,
/// so connection state needs no locks. `handler` must outlive the server.
class Server final {
 public:
  Server(ServerOptions options, RequestHandler& handler);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  /// Binds the listening sockets; the server is not yet accepting. Throws on bind failure.
  void Listen();

  /// Runs the workers until Stop() completes. Call from one thread; returns when all are done.
  void Run();

  /// Reports not ready (`ready()` turns false) while still serving, the first step of a shutdown
  /// behind a load balancer. Safe to call from any thread.
  void MarkNotReady() { ready_.store(false, std::memory_order_relaxed); }

  /// Starts a graceful shutdown: stop accepting, let in-flight requests finish (up to the drain
  /// timeout), close idle connections, send HTTP/2 GOAWAY. Safe to call from any thread.
  void Stop();

  /// The bound port (useful with port 0).
  std::uint16_t port() const { return bound_port_; }

  bool ready() const { return ready_.load(std::memory_order_relaxed); }

  std::size_t connection_count() const { return connections_.load(std::memory_order_relaxed); }

 private:
  struct Worker;

  ServerOptions options_;
  RequestHandler& handler_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint16_t bound_port_ = 0;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::uint64_t> next_connection_id_{1};
};

}  // namespace sluice::http
