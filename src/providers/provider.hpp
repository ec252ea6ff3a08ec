#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/json/storage_ptr.hpp>

#include "core/converse.hpp"
#include "core/error.hpp"

namespace sluice::providers {

namespace net = boost::asio;

/// Where one attempt of a request goes: the region whose endpoint is called and the model
/// identifier the upstream sees (a model ID, profile ID or ARN).
struct Target {
  std::string region;
  std::string model_id;
};

/// One attempt at answering a request. Everything is borrowed and outlives the call.
struct Call {
  const core::ConverseRequest& request;
  const Target& target;
  std::string_view request_id;
  std::chrono::steady_clock::time_point deadline;
  /// Memory for the JSON of the answer (a per-request arena, usually); it outlives the answer.
  /// The default is the global heap.
  boost::json::storage_ptr storage = {};
};

/// Receives a streamed answer, event by event.
class StreamSink {
 public:
  virtual ~StreamSink() = default;

  /// Takes the next event. Returns false when the client has gone and the provider should stop.
  virtual net::awaitable<bool> OnEvent(core::StreamEvent event) = 0;

  /// True once any event has been passed on to the client; after that the request can no longer
  /// fail over to another deployment.
  virtual bool committed() const = 0;
};

/// An upstream that answers canonical requests: the built-in simulator, a Bedrock endpoint, or
/// an OpenAI-compatible server. Implementations are shared by all worker threads and must be
/// safe to call concurrently; each call runs on the calling coroutine's executor.
class Provider {
 public:
  virtual ~Provider() = default;

  /// A short name for logs and metrics (`simulator`, `bedrock:<name>`).
  virtual std::string_view name() const = 0;

  /// Answers a non-streaming request (Converse or InvokeModel).
  virtual net::awaitable<core::Result<core::ConverseResponse>> Converse(const Call& call) = 0;

  /// Streams an answer into `sink` (ConverseStream or InvokeModelWithResponseStream). An error
  /// returned while `sink.committed()` is false means the client has seen nothing yet.
  virtual net::awaitable<core::Result<core::StreamSummary>> ConverseStream(const Call& call,
                                                                           StreamSink& sink) = 0;
};

}  // namespace sluice::providers
