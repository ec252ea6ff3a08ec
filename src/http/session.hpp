#pragma once

#include <chrono>
#include <cstddef>
#include <unordered_set>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "http/access_log.hpp"
#include "http/exchange.hpp"
#include "http/server.hpp"

namespace sluice::http::internal {

class Session;

/// State one worker thread shares with the connections it owns. Only that thread touches it.
struct WorkerContext {
  const ServerLimits& limits;
  RequestHandler& handler;
  AccessLog::Buffer* access_log = nullptr;  // null when the access log is off
  std::unordered_set<Session*> sessions;
  bool stopping = false;
};

/// A live connection, registered with its worker so that timeouts and shutdown can reach it.
/// Lives in its connection coroutine's frame and is only used on the worker's thread.
class Session {
 public:
  explicit Session(WorkerContext& worker) : worker_(worker) { worker_.sessions.insert(this); }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  virtual ~Session() { worker_.sessions.erase(this); }

  /// Finish what is in flight, accept nothing new, then close.
  virtual void BeginShutdown() = 0;

  /// Close the socket now; pending operations complete with operation_aborted.
  virtual void Abort() = 0;

  /// The time by which the connection must make progress, or be aborted by the worker's sweep.
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }

 protected:
  void SetDeadline(std::chrono::milliseconds from_now) {
    deadline_ = std::chrono::steady_clock::now() + from_now;
  }

  WorkerContext& worker_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

/// Serves HTTP/1.1 on `socket`; `buffer` holds bytes already read from it.
net::awaitable<void> RunHttp1(net::ip::tcp::socket socket, beast::flat_buffer buffer,
                              WorkerContext& worker, ConnectionInfo info);

/// Serves HTTP/2 (after the client's connection preface arrived) on `socket`; `buffer` holds
/// bytes already read from it, starting with the preface.
net::awaitable<void> RunHttp2(net::ip::tcp::socket socket, beast::flat_buffer buffer,
                              WorkerContext& worker, ConnectionInfo info);

/// Writes the access-log line for a finished exchange, when the access log is on.
inline void LogAccess(AccessLog::Buffer* log, const Exchange& exchange,
                      std::size_t response_bytes) {
  if (log != nullptr) {
    log->Append(exchange, response_bytes);
  }
}

}  // namespace sluice::http::internal
