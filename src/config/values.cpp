#include "config/values.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"

namespace sluice::config {

namespace {

using internal::Quote;

// Beyond about a century a duration is certainly a mistake, and the product stays exact.
constexpr double kMaxDurationMs = 3.2e12;

// Misspellings within this many edits (transpositions count once) earn a "did you mean".
constexpr std::size_t kMaxSuggestionDistance = 2;

// Optimal string alignment distance: Levenshtein plus adjacent transpositions.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

bool IsIpv4(std::string_view host) {
  in_addr address{};
  return inet_pton(AF_INET, std::string(host).c_str(), &address) == 1;
}

bool IsIpv6(std::string_view host) {
  in6_addr address{};
  return inet_pton(AF_INET6, std::string(host).c_str(), &address) == 1;
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. All-numeric
// names are left to IsIpv4, so "300.1.1.1" is refused instead of taken as a name.
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253 ||
      host.find_first_not_of("0123456789.") == std::string_view::npos) {
    return false;
  }
  while (!host.empty()) {
    const std::size_t dot = host.find('.');
    const std::string_view label = host.substr(0, dot);
    const bool valid = !label.empty() && label.size() <= 63 && label.front() != '-' &&
                       label.back() != '-' && std::all_of(label.begin(), label.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-';
                       });
    if (!valid) {
      return false;
    }
    host = dot == std::string_view::npos ? std::string_view() : host.substr(dot + 1);
  }
  return true;
}

}  // namespace

namespace internal {

std::string Quote(std::string_view text) {
  std::string quoted;
  quoted.reserve(text.size() + 2);
  quoted.append("\"").append(text).append("\"");
  return quoted;
}

std::optional<std::string_view> Closest(std::string_view word,
                                        std::span<const std::string_view> candidates) {
  const std::size_t limit = word.size() <= 4 ? 1 : kMaxSuggestionDistance;
  std::optional<std::string_view> best;
  std::size_t best_distance = limit + 1;
  for (const auto candidate : candidates) {
    const std::size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string JoinNames(std::span<const std::string_view> names) {
  std::string joined;
  for (const auto name : names) {
    joined.append(joined.empty() ? "" : ", ").append(name);
  }
  return joined;
}

std::string Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) {
    return "nothing";
  }
  if (node.IsMap()) {
    return "a mapping";
  }
  if (node.IsSequence()) {
    return "a list";
  }
  return Quote(node.Scalar());
}

std::string CheckEndpoint(std::string_view endpoint) {
  constexpr std::string_view kHttp = "http://";
  if (endpoint.starts_with("https://")) {
    return "https endpoints are not supported yet (TLS to upstreams comes in a later release); "
           "use http://HOST:PORT, got " +
           Quote(endpoint);
  }
  if (!endpoint.starts_with(kHttp)) {
    return "expected http://HOST:PORT, got " + Quote(endpoint);
  }
  std::string_view authority = endpoint.substr(kHttp.size());
  if (authority.ends_with('/')) {
    authority.remove_suffix(1);
  }
  if (authority.find_first_of("/?#@") != std::string_view::npos) {
    return "expected http://HOST:PORT with no path, query or user, got " + Quote(endpoint);
  }
  const auto address = ParseListenAddress(authority);
  if (!address) {
    return "expected http://HOST:PORT, got " + Quote(endpoint) + " (" + address.error() + ")";
  }
  if (address->second == 0) {
    return "expected a port from 1 to 65535, got " + Quote(endpoint);
  }
  return {};
}

boost::system::result<bool, std::string> BoolValue(const YAML::Node& node) {
  // YAML 1.2 core-schema booleans only: `yes`/`no`/`on` are too easy to write by accident.
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  if (text == "true" || text == "True" || text == "TRUE") {
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    return false;
  }
  return "expected true or false, got " + Describe(node);
}

boost::system::result<double, std::string> NumberValue(const YAML::Node& node, bool allow_zero) {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool parsed = !text.empty() && ec == std::errc() && end == text.data() + text.size() &&
                      std::isfinite(value);
  if (!parsed || value < 0 || (value == 0 && !allow_zero)) {
    return std::string(allow_zero ? "expected a number of 0 or more"
                                  : "expected a positive number") +
           ", got " + Describe(node);
  }
  return value;
}

boost::system::result<std::int64_t, std::string> IntegerValue(const YAML::Node& node,
                                                              std::int64_t minimum,
                                                              std::int64_t maximum) {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool parsed = !text.empty() && ec == std::errc() && end == text.data() + text.size();
  if (parsed && value >= minimum && value <= maximum) {
    return value;
  }
  std::string expected;
  if (maximum == kNoMaximum && minimum <= 1) {
    expected = minimum == 0 ? "expected an integer of 0 or more" : "expected a positive integer";
  } else {
    expected =
        "expected an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum);
  }
  return expected + ", got " + Describe(node);
}

boost::system::result<std::size_t, std::string> SizeValue(const YAML::Node& node) {
  const auto size = node.IsScalar() ? ParseSize(node.Scalar()) : std::nullopt;
  if (!size || *size == 0) {
    return "expected a positive size such as 65536, 64KiB or 25MB, got " + Describe(node);
  }
  return *size;
}

boost::system::result<std::chrono::milliseconds, std::string> DurationValue(const YAML::Node& node,
                                                                            bool allow_zero) {
  const auto duration = node.IsScalar() ? ParseDuration(node.Scalar()) : std::nullopt;
  if (!duration) {
    return "expected a duration such as 250ms, 30s, 5m or 1h, got " + Describe(node);
  }
  if (duration->count() == 0 && !allow_zero) {
    return "expected a duration greater than zero, got " + Describe(node);
  }
  return *duration;
}

}  // namespace internal

boost::system::result<std::pair<std::string, std::uint16_t>, std::string> ParseListenAddress(
    std::string_view text) {
  const std::string expected = "expected HOST:PORT or [IPv6]:PORT, got " + Quote(text);
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") {
      return expected;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (!IsIpv6(host)) {
      return Quote(host) + " is not an IPv6 address";
    }
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return expected;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return "an IPv6 address needs brackets, as in [::1]:4000, got " + Quote(text);
    }
    if (!IsIpv4(host) && !IsHostName(host)) {
      return Quote(host) + " is not an IPv4 address or a host name";
    }
  }

  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return "expected a port from 0 to 65535, got " + Quote(port);
  }
  return std::pair<std::string, std::uint16_t>(std::string(host),
                                               static_cast<std::uint16_t>(value));
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::size_t unit_at = text.find_first_not_of("0123456789.");
  if (unit_at == 0 || unit_at == std::string_view::npos) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + unit_at, value);
  if (ec != std::errc() || end != text.data() + unit_at) {
    return std::nullopt;
  }

  const std::string_view unit = text.substr(unit_at);
  double scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return std::nullopt;
  }
  const double total = value * scale;
  if (!std::isfinite(total) || total > kMaxDurationMs) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(std::llround(total));
}

std::optional<std::size_t> ParseSize(std::string_view text) {
  const std::size_t unit_at = std::min(text.find_first_not_of("0123456789"), text.size());
  if (unit_at == 0) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + unit_at, value);
  if (ec != std::errc()) {
    return std::nullopt;
  }

  // One space may separate the number from a unit ("64 KiB"), but not trail a bare number.
  std::string_view unit = text.substr(unit_at);
  if (unit.size() > 1 && unit.front() == ' ') {
    unit.remove_prefix(1);
  }
  constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {{"", 1},
                                                                   {"B", 1},
                                                                   {"KiB", 1ULL << 10},
                                                                   {"MiB", 1ULL << 20},
                                                                   {"GiB", 1ULL << 30},
                                                                   {"KB", 1000},
                                                                   {"MB", 1'000'000},
                                                                   {"GB", 1'000'000'000}};
  const auto* found = std::find_if(std::begin(kUnits), std::end(kUnits),
                                   [&](const auto& entry) { return entry.first == unit; });
  if (found == std::end(kUnits) ||
      value > std::numeric_limits<std::size_t>::max() / found->second) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(value * found->second);
}

}  // namespace sluice::config
