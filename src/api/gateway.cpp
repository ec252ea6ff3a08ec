#include "api/gateway.hpp"

#include "core/request_id.hpp"

namespace sluice::api {

namespace {

namespace bhttp = boost::beast::http;

http::Response Probe(bool ok, unsigned version) {
  http::Response response{ok ? bhttp::status::ok : bhttp::status::service_unavailable, version};
  response.set(bhttp::field::content_type, "application/json");
  response.body() = ok ? R"({"status":"ok"})" : R"({"status":"unavailable"})";
  return response;
}

}  // namespace

Gateway::Gateway(BedrockRuntimeApi& bedrock, AdminApi& admin, std::function<bool()> ready)
    : bedrock_(bedrock), admin_(admin), ready_(std::move(ready)) {}

net::awaitable<void> Gateway::Handle(http::Exchange& exchange) {
  const auto& request = exchange.request();
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));

  if (BedrockRuntimeApi::Matches(path)) {
    co_await bedrock_.Handle(exchange);
  } else if (AdminApi::Matches(path)) {
    co_await admin_.Handle(exchange);
  } else if (path == "/health") {
    // Alive as long as the process answers.
    co_await exchange.Respond(Probe(true, request.version()));
  } else if (path == "/ready") {
    co_await exchange.Respond(Probe(ready_(), request.version()));
  } else {
    const auto request_id = core::NewRequestId();
    exchange.record().request_id = request_id;
    exchange.record().error_type = "UnknownOperationException";
    co_await exchange.Respond(MakeUnknownOperation(request_id, request.version()));
  }
}

}  // namespace sluice::api
