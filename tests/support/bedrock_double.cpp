#include "support/bedrock_double.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sluice::test_support {

namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

// Pause between the pieces of a streamed body: long enough for each to leave as its own write.
constexpr auto kPiecePause = 1ms;

// A hung request gives up after this long even if nobody releases it.
constexpr auto kLongestHang = 5s;

constexpr std::string_view kEventStreamType = "application/vnd.amazon.eventstream";

net::awaitable<void> Pause(std::chrono::milliseconds duration) {
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(net::as_tuple(net::use_awaitable));
}

http::Response Unconfigured() {
  http::Response response{bhttp::status::internal_server_error, 11};
  response.set(bhttp::field::content_type, "application/json");
  response.body() = R"({"message":"the Bedrock double has no answer configured"})";
  return response;
}

}  // namespace

BedrockDouble::BedrockDouble() {
  behaviour_.response = Unconfigured();
}

void BedrockDouble::AnswerWith(http::Response response) {
  std::lock_guard lock(mutex_);
  behaviour_ = Behaviour{Mode::kRespond, std::move(response), {}, 0};
}

void BedrockDouble::StreamWith(std::string body, std::size_t piece_bytes,
                               http::Response extra_headers) {
  std::lock_guard lock(mutex_);
  behaviour_ = Behaviour{Mode::kStream, std::move(extra_headers), std::move(body), piece_bytes};
}

void BedrockDouble::Hang() {
  std::lock_guard lock(mutex_);
  behaviour_ = Behaviour{Mode::kHang, {}, {}, 0};
}

std::vector<BedrockDouble::SeenRequest> BedrockDouble::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t BedrockDouble::connection_count() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

BedrockDouble::Behaviour BedrockDouble::Current() const {
  std::lock_guard lock(mutex_);
  return behaviour_;
}

net::awaitable<void> BedrockDouble::Handle(http::Exchange& exchange) {
  const auto& request = exchange.request();
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(SeenRequest{std::string(request.method_string()),
                                    std::string(request.target()), request.body(), request.base(),
                                    exchange.connection().id});
    connections_.insert(exchange.connection().id);
  }

  const Behaviour behaviour = Current();
  switch (behaviour.mode) {
    case Mode::kRespond:
      co_await exchange.Respond(behaviour.response);
      break;
    case Mode::kStream:
      co_await Stream(exchange, behaviour);
      break;
    case Mode::kHang:
      co_await WaitForRelease();
      co_await exchange.Respond(Unconfigured());
      break;
  }
}

net::awaitable<void> BedrockDouble::Stream(http::Exchange& exchange,
                                           const Behaviour& behaviour) const {
  http::Response head = behaviour.response;
  head.result(bhttp::status::ok);
  head.set(bhttp::field::content_type, kEventStreamType);
  const bool started = co_await exchange.StartStream(std::move(head));
  if (!started) {
    co_return;
  }

  const std::string_view body = behaviour.stream_body;
  for (std::size_t offset = 0; offset < body.size(); offset += behaviour.piece_bytes) {
    const auto piece = body.substr(offset, behaviour.piece_bytes);
    const bool written = co_await exchange.WriteStream(piece);
    if (!written) {
      co_return;
    }
    co_await Pause(kPiecePause);
  }
  co_await exchange.FinishStream();
}

net::awaitable<void> BedrockDouble::WaitForRelease() const {
  const auto give_up = std::chrono::steady_clock::now() + kLongestHang;
  while (!released_.load() && std::chrono::steady_clock::now() < give_up) {
    co_await Pause(10ms);
  }
}

}  // namespace sluice::test_support
