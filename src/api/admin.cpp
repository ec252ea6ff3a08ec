#include "api/admin.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace sluice::api {

namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;

constexpr std::string_view kRegionsPath = "/admin/simulator/regions";

http::Response JsonReply(bhttp::status status, json::value body, unsigned version) {
  http::Response response{status, version};
  response.set(bhttp::field::content_type, "application/json");
  response.body() = json::serialize(body);
  return response;
}

http::Response ErrorReply(bhttp::status status, std::string message, unsigned version) {
  return JsonReply(status, json::object{{"message", std::move(message)}}, version);
}

// Kept out of the coroutine: GCC 12 miscompiles braced initializers holding string literals
// inside coroutine bodies ("array used as initializer").
http::Response RegionsReply(json::array regions, unsigned version) {
  return JsonReply(bhttp::status::ok, json::object{{"regions", std::move(regions)}}, version);
}

json::object RegionJson(const providers::Simulator::RegionState& state) {
  const auto& s = state.settings;
  return json::object{{"region", state.region},
                      {"outage", s.outage},
                      {"time_to_first_token_ms", s.time_to_first_token_ms},
                      {"tokens_per_second", s.tokens_per_second},
                      {"requests_per_minute", s.requests_per_minute},
                      {"tokens_per_minute", s.tokens_per_minute},
                      {"stream_error_after_events", s.stream_error_after_events}};
}

http::Response ForbiddenReply(unsigned version) {
  return ErrorReply(bhttp::status::forbidden, "admin routes take admin keys only", version);
}

std::string UnknownRegion(std::string_view region) {
  return fmt::format("unknown region \"{}\"", region);
}

// Applies the members of a PUT body to a region's settings; unknown members are refused so a
// typo does not pass silently.
std::string ApplyRegionEdit(const json::object& body, providers::SimulatedRegion& region) {
  for (const auto& [key, value] : body) {
    if (key == "outage") {
      if (!value.is_bool()) {
        return "outage must be true or false";
      }
      region.outage = value.get_bool();
    } else if (key == "time_to_first_token_ms" || key == "tokens_per_second") {
      if (!value.is_number() || value.to_number<double>() <= 0) {
        return fmt::format("{} must be a positive number", std::string_view(key));
      }
      (key == "tokens_per_second" ? region.tokens_per_second : region.time_to_first_token_ms) =
          value.to_number<double>();
    } else if (key == "stream_error_after_events") {
      if (!value.is_int64() || value.get_int64() < 0) {
        return "stream_error_after_events must be a non-negative integer";
      }
      region.stream_error_after_events = value.get_int64();
    } else if (key == "requests_per_minute" || key == "tokens_per_minute") {
      if (!value.is_int64() || value.get_int64() < 0) {
        return fmt::format("{} must be a non-negative integer", std::string_view(key));
      }
      (key == "requests_per_minute" ? region.requests_per_minute : region.tokens_per_minute) =
          value.get_int64();
    } else {
      return fmt::format("unknown member \"{}\"", std::string_view(key));
    }
  }
  return {};
}

}  // namespace

AdminApi::AdminApi(providers::Simulator* simulator, const Authenticator& authenticator)
    : simulator_(simulator), authenticator_(authenticator) {}

net::awaitable<void> AdminApi::Handle(http::Exchange& exchange) {
  const auto& request = exchange.request();
  const unsigned version = request.version();
  auto principal = authenticator_.Authenticate(exchange);
  if (!principal || !authenticator_.MayAdminister(*principal, exchange.connection())) {
    exchange.record().error_type = "AccessDeniedException";
    co_await exchange.Respond(ForbiddenReply(version));
    co_return;
  }
  exchange.record().principal = principal->arn;
  std::string_view path(request.target().data(), request.target().size());
  path = path.substr(0, path.find('?'));
  if (!path.starts_with(kRegionsPath)) {
    co_await exchange.Respond(ErrorReply(bhttp::status::not_found, "no such admin route", version));
    co_return;
  }
  if (simulator_ == nullptr) {
    co_await exchange.Respond(
        ErrorReply(bhttp::status::not_found, "the simulator is not enabled", version));
    co_return;
  }

  if (path == kRegionsPath && request.method() == bhttp::verb::get) {
    json::array regions;
    for (const auto& state : simulator_->Regions()) {
      regions.push_back(RegionJson(state));
    }
    co_await exchange.Respond(RegionsReply(std::move(regions), version));
    co_return;
  }

  const std::string_view rest = path.substr(kRegionsPath.size());
  if (rest.size() < 2 || rest[0] != '/' || rest.find('/', 1) != std::string_view::npos ||
      request.method() != bhttp::verb::put) {
    co_await exchange.Respond(ErrorReply(bhttp::status::not_found, "no such admin route", version));
    co_return;
  }
  const std::string region(rest.substr(1));

  boost::system::error_code ec;
  const auto body = json::parse(request.body(), ec);
  if (ec || !body.is_object()) {
    co_await exchange.Respond(
        ErrorReply(bhttp::status::bad_request, "the body must be a JSON object", version));
    co_return;
  }
  // Validate on a copy first, so a bad body changes nothing.
  providers::SimulatedRegion probe;
  if (auto problem = ApplyRegionEdit(body.get_object(), probe); !problem.empty()) {
    co_await exchange.Respond(ErrorReply(bhttp::status::bad_request, problem, version));
    co_return;
  }
  const bool known =
      simulator_->UpdateRegion(region, [&body](providers::SimulatedRegion& settings) {
        ApplyRegionEdit(body.get_object(), settings);
      });
  if (!known) {
    co_await exchange.Respond(ErrorReply(bhttp::status::not_found, UnknownRegion(region), version));
    co_return;
  }
  for (const auto& state : simulator_->Regions()) {
    if (state.region == region) {
      co_await exchange.Respond(JsonReply(bhttp::status::ok, RegionJson(state), version));
      co_return;
    }
  }
}

}  // namespace sluice::api
