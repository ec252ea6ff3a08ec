#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>
#include <yaml-cpp/node/node.h>

// Not API: the parsers and wording for single config values, shared by config.cpp and
// values.cpp. Other code uses ParseListenAddress, ParseDuration and ParseSize from config.hpp.
namespace sluice::config::internal {

/// Upper bound for counts that have no natural limit (quotas, connections).
inline constexpr std::int64_t kNoMaximum = std::numeric_limits<std::int64_t>::max();

/// `text` in double quotes, for messages.
std::string Quote(std::string_view text);

/// The candidate nearest to `word`, when it is near enough to be what the writer meant. Short
/// words get only one edit, or every three-letter key would look like every other.
std::optional<std::string_view> Closest(std::string_view word,
                                        std::span<const std::string_view> candidates);

/// `names` separated by commas, for "expected one of" messages.
std::string JoinNames(std::span<const std::string_view> names);

/// What a node holds, for "expected X, got Y" messages.
std::string Describe(const YAML::Node& node);

/// Checks an upstream endpoint; returns an empty string when it is usable, else why not.
std::string CheckEndpoint(std::string_view endpoint);

// Each of the following reads the value a scalar node holds; the error is the message to
// report at the node's position.

/// A YAML 1.2 core-schema boolean.
boost::system::result<bool, std::string> BoolValue(const YAML::Node& node);

/// A finite number of 0 or more; 0 only when `allow_zero`.
boost::system::result<double, std::string> NumberValue(const YAML::Node& node, bool allow_zero);

/// An integer from `minimum` to `maximum`.
boost::system::result<std::int64_t, std::string> IntegerValue(const YAML::Node& node,
                                                              std::int64_t minimum,
                                                              std::int64_t maximum);

/// A positive size, as ParseSize reads it.
boost::system::result<std::size_t, std::string> SizeValue(const YAML::Node& node);

/// A duration, as ParseDuration reads it; zero only when `allow_zero`.
boost::system::result<std::chrono::milliseconds, std::string> DurationValue(const YAML::Node& node,
                                                                            bool allow_zero);

}  // namespace sluice::config::internal
