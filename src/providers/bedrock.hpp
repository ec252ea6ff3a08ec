#pragma once

#include <array>
#include <chrono>
#include <string>

#include "http/client.hpp"
#include "providers/provider.hpp"

namespace sluice::providers {

struct BedrockOptions {
  /// The upstream's name in the config, used in logs and metrics.
  std::string name;
  http::Endpoint endpoint;
  /// Longest a single call may take, streams included; the request's own deadline may be
  /// shorter.
  std::chrono::milliseconds timeout{120'000};
  std::size_t max_idle_connections = 64;
};

/// Forwards canonical requests to any endpoint that speaks the Bedrock Runtime protocol:
/// another sluice, a test double, or (once requests are signed) Amazon Bedrock itself.
///
/// InvokeModel bodies travel unchanged, and an event stream whose shape the caller asked for is
/// relayed frame by frame without re-encoding; the frames are still decoded on the way through
/// so usage is known. Upstream errors keep their Bedrock type and message. Connections are
/// pooled per worker thread; the provider itself holds no mutable state and is thread-safe.
class BedrockProvider final : public Provider {
 public:
  explicit BedrockProvider(BedrockOptions options);

  std::string_view name() const override { return name_; }

  net::awaitable<core::Result<core::ConverseResponse>> Converse(const Call& call) override;
  net::awaitable<core::Result<core::StreamSummary>> ConverseStream(const Call& call,
                                                                   StreamSink& sink) override;

 private:
  // The request for the upstream: the path, header fields and body it is sent with.
  struct UpstreamRequest {
    std::string target;
    std::string serialized;  // the Converse body, when it had to be serialised
    std::string_view body;
    std::array<std::pair<std::string_view, std::string_view>, 2> headers;
    std::size_t header_count = 1;

    http::OutgoingRequest outgoing() const;
  };

  UpstreamRequest MakeRequest(const Call& call) const;
  std::chrono::steady_clock::time_point Deadline(const Call& call) const;

  BedrockOptions options_;
  std::string name_;
  http::Client client_;
};

}  // namespace sluice::providers
