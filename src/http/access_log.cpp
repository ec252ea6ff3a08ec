#include <chrono>

#include <spdlog/logger.h>

#include "http/session.hpp"

namespace sluice::http::internal {

namespace {

std::string_view ProtocolName(Protocol protocol) {
  return protocol == Protocol::kHttp2 ? "h2" : "http/1.1";
}

// Fields an operator filters on come first; empty ones are written as "-" so every line has the
// same keys in the same order.
std::string_view OrDash(std::string_view value) { return value.empty() ? "-" : value; }

}  // namespace

void LogAccess(spdlog::logger* log, const Exchange& exchange, std::size_t response_bytes) {
  if (log == nullptr) {
    return;
  }
  const auto& record = exchange.record();
  const auto& request = exchange.request();
  const auto elapsed = std::chrono::steady_clock::now() - exchange.received_at();
  const double latency_ms = std::chrono::duration<double, std::milli>(elapsed).count();
  log->info(
      "request_id={} connection={} protocol={} remote={} method={} path={} status={} "
      "latency_ms={:.3f} bytes={} principal={} model={} region={} input_tokens={} "
      "output_tokens={} error={}",
      OrDash(record.request_id), exchange.connection().id,
      ProtocolName(exchange.connection().protocol), OrDash(exchange.connection().remote_address),
      std::string_view(request.method_string()), std::string_view(request.target()),
      exchange.status(), latency_ms, response_bytes, OrDash(record.principal),
      OrDash(record.model), OrDash(record.region), record.input_tokens, record.output_tokens,
      OrDash(record.error_type));
}

}  // namespace sluice::http::internal
