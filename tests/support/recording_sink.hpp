#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "core/converse.hpp"
#include "providers/provider.hpp"

namespace sluice::test_support {

namespace net = boost::asio;

/// A StreamSink that keeps every event it is given, standing in for a client. It accepts up to
/// `accept_limit` events and refuses the next one, as a sink does when its client has gone away;
/// a refused event is not kept. Single-threaded, like the streams that feed it.
class RecordingSink final : public providers::StreamSink {
 public:
  explicit RecordingSink(std::size_t accept_limit = std::numeric_limits<std::size_t>::max())
      : accept_limit_(accept_limit) {}

  net::awaitable<bool> OnEvent(core::StreamEvent event) override {
    if (events_.size() >= accept_limit_) {
      ++refused_;
      co_return false;
    }
    events_.push_back(std::move(event));
    co_return true;
  }

  bool committed() const override { return !events_.empty(); }

  const std::vector<core::StreamEvent>& events() const { return events_; }

  /// How many events arrived after the limit.
  std::size_t refused() const { return refused_; }

  /// The event types in arrival order.
  std::vector<core::StreamEventType> types() const {
    std::vector<core::StreamEventType> types;
    for (const auto& event : events_) {
      types.push_back(event.type);
    }
    return types;
  }

  /// The text of every `contentBlockDelta` with a `text` delta, joined in order.
  std::string text() const {
    std::string text;
    for (const auto& event : events_) {
      const auto* delta = event.payload.if_contains("delta");
      if (event.type != core::StreamEventType::kContentBlockDelta || delta == nullptr ||
          !delta->is_object()) {
        continue;
      }
      if (const auto* piece = delta->get_object().if_contains("text");
          piece && piece->is_string()) {
        text += piece->get_string();
      }
    }
    return text;
  }

 private:
  std::size_t accept_limit_;
  std::size_t refused_ = 0;
  std::vector<core::StreamEvent> events_;
};

}  // namespace sluice::test_support
