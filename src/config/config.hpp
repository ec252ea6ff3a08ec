#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace sluice::config {

/// Why a config file was refused, with the place it was found. `line` and `column` are 1-based;
/// 0 means the error has no position (an unreadable file). `key` is the dotted path of the
/// offending entry, e.g. `upstreams[1].endpoint`, empty at the top level.
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;
  std::string message;

  /// `file:line:column: key: message`, leaving out the parts that are absent.
  std::string ToString() const;
};

/// Lets `result<T, ConfigError>::value()` throw (a std::runtime_error carrying ToString()) when
/// called on an error; found by argument-dependent lookup.
[[noreturn]] void throw_exception_from_error(const ConfigError& error,
                                             const boost::source_location& location);

/// The listener and the limits it enforces. YAML section `server`.
struct ServerSettings {
  /// Address to bind (`listen: "HOST:PORT"` or `"[IPv6]:PORT"`). Default 127.0.0.1.
  std::string listen_host = "127.0.0.1";
  /// Port to bind; 0 picks a free one. Default 4000.
  std::uint16_t listen_port = 4000;
  /// Event-loop threads; 0 means one per core. Default 0.
  unsigned workers = 0;
  /// Largest request head (request line and headers), bytes. Default 64 KiB.
  std::size_t max_header_bytes = 64 * 1024;
  /// Largest request body, bytes. Default 25,000,000, Bedrock's InvokeModel limit.
  std::size_t max_body_bytes = 25'000'000;
  /// A connection with no request in progress closes after this. Default 60 s.
  std::chrono::milliseconds idle_timeout{60'000};
  /// A request must have fully arrived within this. Default 30 s.
  std::chrono::milliseconds read_timeout{30'000};
  /// A response the client does not read for this long is abandoned. Default 60 s.
  std::chrono::milliseconds write_timeout{60'000};
  /// On shutdown, in-flight requests get this long to finish; 0 closes at once. Default 30 s.
  std::chrono::milliseconds drain_timeout{30'000};
  /// After SIGTERM, `/ready` answers 503 for this long while requests are still served, so that
  /// load balancers stop sending new ones before the listener closes. Default 0 (close at once).
  std::chrono::milliseconds shutdown_delay{0};
  /// Connections beyond this are accepted and closed at once. Default 10,000.
  std::size_t max_connections = 10'000;
  /// HTTP/2 streams one connection may have open. Default 128.
  std::uint32_t max_concurrent_streams = 128;
};

/// Diagnostic and access logging. YAML section `log`.
struct LogSettings {
  /// Diagnostic log level: trace, debug, info, warn, error, critical or off. Default info.
  std::string level = "info";
  /// Where access-log lines go: stdout, stderr, off, or a file path (a relative path is under
  /// `data_dir`). Default stdout.
  std::string access_log = "stdout";
};

/// Who may call without a key sluice issued. YAML section `auth`.
struct AuthSettings {
  /// Anonymous callers (no credentials, or an access key sluice does not know) are served as an
  /// anonymous principal: "off" never, "loopback" only from 127.0.0.0/8 and ::1, "always" from
  /// anywhere. A known key with a wrong signature is refused in every mode. Default "off" in a
  /// config file; the embedded default uses "loopback" and says so at start.
  std::string anonymous = "off";
};

/// Per-region overrides of the simulator's behaviour; an unset field keeps the simulator-wide
/// value. YAML `simulator.regions.<region>`.
struct SimulatorRegion {
  /// Region name, checked against the built-in catalog.
  std::string region;
  /// When true every request to this region fails as if the region were down.
  std::optional<bool> outage;
  /// Delay before the first output token, milliseconds (YAML: a duration, `time_to_first_token`).
  std::optional<double> time_to_first_token_ms;
  /// Output speed once tokens flow, tokens per second.
  std::optional<double> tokens_per_second;
  /// Simulated RPM quota of each model in this region; 0 throttles every request.
  std::optional<std::int64_t> requests_per_minute;
  /// Simulated TPM quota of each model in this region, counted as Bedrock counts.
  std::optional<std::int64_t> tokens_per_minute;
};

/// The built-in simulator of Bedrock regions, the upstream used when no real one is configured.
/// YAML section `simulator`.
struct SimulatorSettings {
  /// Whether the simulator serves requests. Default true.
  bool enabled = true;
  /// Multiplies every simulated delay; 0 answers at once. Default 1.
  double time_scale = 1.0;
  /// Delay before the first output token, milliseconds (YAML: a duration). Default 350.
  double time_to_first_token_ms = 350;
  /// Output speed, tokens per second. Default 90.
  double tokens_per_second = 90;
  /// Simulated RPM quota per model and region. Default 2,000.
  std::int64_t requests_per_minute = 2000;
  /// Simulated TPM quota per model and region. Default 4,000,000.
  std::int64_t tokens_per_minute = 4'000'000;
  /// Per-region overrides, in file order (YAML: a mapping keyed by region name).
  std::vector<SimulatorRegion> regions;
};

/// A real endpoint requests can be sent to. YAML `upstreams[]`.
struct Upstream {
  /// Unique name that deployments refer to; "simulator" is reserved.
  std::string name;
  /// Protocol it speaks. "bedrock": any endpoint speaking the Bedrock Runtime protocol. Default
  /// "bedrock", the only type so far.
  std::string type;
  /// Base URL, `http://HOST:PORT`. https is not supported yet.
  std::string endpoint;
  /// Region the endpoint serves (and signs for). Default: the top-level `region`.
  std::string region;
  /// Longest wait for a whole answer. Default 120 s.
  std::chrono::milliseconds timeout{120'000};
  /// Keep-alive connections kept open to the endpoint. Default 64.
  std::size_t max_idle_connections = 64;
};

/// One way of serving a requested model. YAML `deployments[]`.
struct Deployment {
  /// Model ID, profile ID or alias a caller asks for. Required.
  std::string model;
  /// An `upstreams[].name`, or "simulator". Required.
  std::string upstream;
  /// Region the request is sent to. Default: the upstream's region (the top-level `region` for
  /// the simulator).
  std::string region;
  /// Model ID sent upstream. Default: `model`.
  std::string upstream_model;
};

/// Everything `sluice serve` reads from its one YAML file, validated.
struct Config {
  /// Where this came from: the file path, or "<embedded default>".
  std::string source;
  ServerSettings server;
  /// Directory for everything sluice writes. Default ./var.
  std::string data_dir = "./var";
  /// The region this gateway stands in, as a Bedrock caller would be in it: decides which
  /// inference profiles and in-region models are callable. Default us-east-1.
  std::string region = "us-east-1";
  LogSettings log;
  AuthSettings auth;
  /// A catalog file merged over the built-in catalog. Default none.
  std::optional<std::string> catalog_file;
  SimulatorSettings simulator;
  std::vector<Upstream> upstreams;
  std::vector<Deployment> deployments;
};

/// Parses and validates one config document; `file_name` is used in errors and as `source`.
/// Unknown keys (with a suggestion when a known key is close), wrong types, bad sizes, durations
/// and addresses, unknown regions, duplicate upstream names and deployments naming a missing
/// upstream are errors. An empty document gives the defaults. Stops at the first error.
[[nodiscard]] boost::system::result<Config, ConfigError> ParseConfig(std::string_view yaml,
                                                                     std::string_view file_name);

/// Reads and parses the file at `path`; an unreadable file is an error naming the path.
[[nodiscard]] boost::system::result<Config, ConfigError> LoadConfigFile(const std::string& path);

/// The configuration used without a file: simulator on, no upstreams, no deployments.
Config DefaultConfig();

/// Parses `HOST:PORT` or `[IPv6]:PORT` (the `--listen` flag and `server.listen`). HOST is an IPv4
/// address or a host name; PORT is 0 to 65535. The error says what is wrong, without the flag.
[[nodiscard]] boost::system::result<std::pair<std::string, std::uint16_t>, std::string>
ParseListenAddress(std::string_view text);

/// Parses a duration written as a number and a unit: `250ms`, `30s`, `1.5m`, `1h`. Null when
/// malformed or negative.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

/// Parses a byte count: a plain integer, or one followed by KiB, MiB, GiB (powers of 1024) or KB,
/// MB, GB (powers of 1000), e.g. `64KiB`, `25MB`. Null when malformed, negative or too large.
std::optional<std::size_t> ParseSize(std::string_view text);

}  // namespace sluice::config
