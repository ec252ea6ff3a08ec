#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "http/exchange.hpp"

namespace sluice::test_support {

namespace net = boost::asio;

/// A stand-in for a Bedrock Runtime endpoint, to put behind an http::Server in provider tests.
/// It records every request it receives and answers them all the same way: with a fixed
/// response, with a body streamed in small pieces (an event stream), or not at all until
/// released (a hung upstream). Configure it before sending requests; it is called on the
/// server's thread and read from the test's, so every member takes a lock.
class BedrockDouble final : public http::RequestHandler {
 public:
  /// One request as the double saw it.
  struct SeenRequest {
    std::string method;
    std::string target;
    std::string body;
    http::Request::header_type headers;
    std::uint64_t connection_id = 0;
  };

  /// Until configured, every request gets a 500.
  BedrockDouble();

  /// Answers every request with `response`.
  void AnswerWith(http::Response response);

  /// Answers every request with a 200 event stream whose body is `body`, written in pieces of
  /// `piece_bytes` with a short pause between them, so frames straddle reads. `extra_headers`
  /// are added to the response head.
  void StreamWith(std::string body, std::size_t piece_bytes, http::Response extra_headers = {});

  /// Leaves every request unanswered until Release() (or a few seconds have passed).
  void Hang();

  /// Lets hanging requests go; they are then answered with a 500.
  void Release() { released_.store(true); }

  std::vector<SeenRequest> requests() const;

  /// The number of distinct connections requests arrived on.
  std::size_t connection_count() const;

  net::awaitable<void> Handle(http::Exchange& exchange) override;

 private:
  enum class Mode { kRespond, kStream, kHang };

  struct Behaviour {
    Mode mode = Mode::kRespond;
    http::Response response;
    std::string stream_body;
    std::size_t piece_bytes = 0;
  };

  Behaviour Current() const;
  net::awaitable<void> Stream(http::Exchange& exchange, const Behaviour& behaviour) const;
  net::awaitable<void> WaitForRelease() const;

  mutable std::mutex mutex_;
  Behaviour behaviour_;                  // guarded by mutex_
  std::vector<SeenRequest> requests_;    // guarded by mutex_
  std::set<std::uint64_t> connections_;  // guarded by mutex_
  std::atomic<bool> released_{false};
};

}  // namespace sluice::test_support
