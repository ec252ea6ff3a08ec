#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <span>
#include <stdexcept>

#include <boost/throw_exception.hpp>
#include <yaml-cpp/yaml.h>

#include "catalog/catalog.hpp"
#include "config/values.hpp"

namespace sluice::config {

namespace {

using internal::CheckEndpoint;
using internal::Closest;
using internal::Describe;
using internal::JoinNames;
using internal::kNoMaximum;
using internal::Quote;

constexpr std::string_view kEmbeddedSource = "<embedded default>";
constexpr std::string_view kSimulatorUpstream = "simulator";
constexpr std::string_view kBedrockType = "bedrock";

// The keys each mapping accepts; also the candidates offered when a key is misspelt.
constexpr std::string_view kTopKeys[] = {"server",  "data_dir",  "region",    "log",        "auth",
                                         "catalog", "simulator", "upstreams", "deployments"};
constexpr std::string_view kAuthKeys[] = {"anonymous"};
constexpr std::string_view kAnonymousModes[] = {"off", "loopback", "always"};
constexpr std::string_view kServerKeys[] = {
    "listen",         "workers",         "max_header_bytes",      "max_body_bytes",
    "idle_timeout",   "read_timeout",    "write_timeout",         "drain_timeout",
    "shutdown_delay", "max_connections", "max_concurrent_streams"};
constexpr std::string_view kLogKeys[] = {"level", "access_log"};
constexpr std::string_view kSimulatorKeys[] = {"enabled",
                                               "time_scale",
                                               "time_to_first_token",
                                               "tokens_per_second",
                                               "requests_per_minute",
                                               "tokens_per_minute",
                                               "regions"};
constexpr std::string_view kSimulatorRegionKeys[] = {"outage", "time_to_first_token",
                                                     "tokens_per_second", "requests_per_minute",
                                                     "tokens_per_minute"};
constexpr std::string_view kUpstreamKeys[] = {"name",   "type",    "endpoint",
                                              "region", "timeout", "max_idle_connections"};
constexpr std::string_view kDeploymentKeys[] = {"model", "upstream", "region", "upstream_model"};
constexpr std::string_view kLogLevels[] = {"trace", "debug",    "info", "warn",
                                           "error", "critical", "off"};

// A worker per core is the useful maximum; far more than any machine has is surely a typo.
constexpr std::int64_t kMaxWorkers = 1024;

// Stream identifiers have 31 bits (RFC 9113 §5.1.1), so no connection can hold more streams.
constexpr std::int64_t kMaxStreams = std::numeric_limits<std::int32_t>::max();

std::string Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

std::string Indexed(std::string_view path, std::size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

// Walks the document section by section and stops at the first problem, which it records with
// the position yaml-cpp kept for the offending node. Every Read* returns false once an error is
// recorded, so callers only propagate. Sections are read in a fixed order (not file order) so
// that deployments can be checked against the upstreams whatever order the file uses.
class Reader final {
 public:
  explicit Reader(std::string_view file) : file_(file) {}

  bool Read(const YAML::Node& root, Config& config);

  ConfigError& error() { return error_; }

 private:
  bool Fail(const YAML::Node& at, std::string_view key, std::string message);
  // Stores what a value parser read in `out`, or records its error against `node`.
  template <typename T>
  bool Take(const YAML::Node& node, std::string_view path,
            boost::system::result<T, std::string> value, T& out);
  bool CheckKeys(const YAML::Node& map, std::string_view path,
                 std::span<const std::string_view> allowed);
  bool Require(const YAML::Node& map, std::string_view path, std::string_view key);

  // Each reads the value `node` found at `path`.
  bool ReadString(const YAML::Node& node, std::string_view path, std::string& out);
  bool ReadBool(const YAML::Node& node, std::string_view path, bool& out);
  bool ReadNumber(const YAML::Node& node, std::string_view path, bool allow_zero, double& out);
  bool ReadInteger(const YAML::Node& node, std::string_view path, std::int64_t minimum,
                   std::int64_t maximum, std::int64_t& out);
  bool ReadSize(const YAML::Node& node, std::string_view path, std::size_t& out);
  bool ReadDuration(const YAML::Node& node, std::string_view path, bool allow_zero,
                    std::chrono::milliseconds& out);
  bool ReadRegion(const YAML::Node& node, std::string_view path, std::string& out);

  bool ReadServer(const YAML::Node& node, ServerSettings& out);
  bool ReadLog(const YAML::Node& node, LogSettings& out);
  bool ReadAuth(const YAML::Node& node, AuthSettings& out);
  bool ReadSimulator(const YAML::Node& node, SimulatorSettings& out);
  bool ReadSimulatorRegions(const YAML::Node& node, std::vector<SimulatorRegion>& out);
  bool ReadUpstreams(const YAML::Node& node, Config& config);
  bool ReadDeployments(const YAML::Node& node, Config& config);
  bool ReadDeployment(const YAML::Node& node, const std::string& path, const Config& config,
                      Deployment& out);

  std::string_view file_;
  ConfigError error_;
};

bool Reader::Fail(const YAML::Node& at, std::string_view key, std::string message) {
  const YAML::Mark mark = at.Mark();
  error_.file = std::string(file_);
  error_.line = mark.is_null() ? 0 : mark.line + 1;
  error_.column = mark.is_null() ? 0 : mark.column + 1;
  error_.key = std::string(key);
  error_.message = std::move(message);
  return false;
}

template <typename T>
bool Reader::Take(const YAML::Node& node, std::string_view path,
                  boost::system::result<T, std::string> value, T& out) {
  if (!value) {
    return Fail(node, path, std::move(value.error()));
  }
  out = *value;
  return true;
}

bool Reader::CheckKeys(const YAML::Node& map, std::string_view path,
                       std::span<const std::string_view> allowed) {
  if (!map.IsMap()) {
    return Fail(map, path, "expected a mapping, got " + Describe(map));
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : map) {
    const std::string& key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      const auto suggestion = Closest(key, allowed);
      return Fail(entry.first, path,
                  "unknown key " + Quote(key) +
                      (suggestion ? " (did you mean " + Quote(*suggestion) + "?)"
                                  : " (expected one of: " + JoinNames(allowed) + ")"));
    }
    if (!seen.insert(key).second) {
      return Fail(entry.first, path, "key " + Quote(key) + " appears twice");
    }
  }
  return true;
}

bool Reader::Require(const YAML::Node& map, std::string_view path, std::string_view key) {
  if (map[std::string(key)]) {
    return true;
  }
  return Fail(map, path, "missing key " + Quote(key));
}

bool Reader::ReadString(const YAML::Node& node, std::string_view path, std::string& out) {
  if (!node.IsScalar() || node.Scalar().empty()) {
    return Fail(node, path, "expected a non-empty string, got " + Describe(node));
  }
  out = node.Scalar();
  return true;
}

bool Reader::ReadBool(const YAML::Node& node, std::string_view path, bool& out) {
  return Take(node, path, internal::BoolValue(node), out);
}

bool Reader::ReadNumber(const YAML::Node& node, std::string_view path, bool allow_zero,
                        double& out) {
  return Take(node, path, internal::NumberValue(node, allow_zero), out);
}

bool Reader::ReadInteger(const YAML::Node& node, std::string_view path, std::int64_t minimum,
                         std::int64_t maximum, std::int64_t& out) {
  return Take(node, path, internal::IntegerValue(node, minimum, maximum), out);
}

bool Reader::ReadSize(const YAML::Node& node, std::string_view path, std::size_t& out) {
  return Take(node, path, internal::SizeValue(node), out);
}

bool Reader::ReadDuration(const YAML::Node& node, std::string_view path, bool allow_zero,
                          std::chrono::milliseconds& out) {
  return Take(node, path, internal::DurationValue(node, allow_zero), out);
}

// Limitation: region names are checked against the built-in catalog only, so a region that a
// `catalog:` file adds is refused here. Loading that file during config validation would fix it;
// until someone needs a region Bedrock does not have, the stricter check catches more typos.
bool Reader::ReadRegion(const YAML::Node& node, std::string_view path, std::string& out) {
  if (!ReadString(node, path, out)) {
    return false;
  }
  const auto& catalog = catalog::Catalog::BuiltIn();
  if (catalog.FindRegion(out) != nullptr) {
    return true;
  }
  std::vector<std::string_view> names;
  for (const auto& region : catalog.regions()) {
    names.push_back(region.name);
  }
  const auto suggestion = Closest(out, names);
  return Fail(node, path,
              "unknown region " + Quote(out) +
                  (suggestion ? " (did you mean " + Quote(*suggestion) + "?)" : ""));
}

bool Reader::Read(const YAML::Node& root, Config& config) {
  if (!root.IsDefined() || root.IsNull()) {
    return true;
  }
  if (!CheckKeys(root, "", kTopKeys)) {
    return false;
  }

  if (root["server"] && !ReadServer(root["server"], config.server)) {
    return false;
  }
  if (root["data_dir"] && !ReadString(root["data_dir"], "data_dir", config.data_dir)) {
    return false;
  }
  if (root["region"] && !ReadRegion(root["region"], "region", config.region)) {
    return false;
  }
  if (root["auth"] && !ReadAuth(root["auth"], config.auth)) {
    return false;
  }
  if (root["log"] && !ReadLog(root["log"], config.log)) {
    return false;
  }
  if (root["catalog"]) {
    std::string path;
    if (!ReadString(root["catalog"], "catalog", path)) {
      return false;
    }
    config.catalog_file = std::move(path);
  }
  if (root["simulator"] && !ReadSimulator(root["simulator"], config.simulator)) {
    return false;
  }
  if (root["upstreams"] && !ReadUpstreams(root["upstreams"], config)) {
    return false;
  }
  return !root["deployments"] || ReadDeployments(root["deployments"], config);
}

bool Reader::ReadServer(const YAML::Node& node, ServerSettings& out) {
  if (node.IsNull()) {
    return true;
  }
  if (!CheckKeys(node, "server", kServerKeys)) {
    return false;
  }

  if (const YAML::Node listen = node["listen"]) {
    std::string text;
    if (!ReadString(listen, "server.listen", text)) {
      return false;
    }
    auto address = ParseListenAddress(text);
    if (!address) {
      return Fail(listen, "server.listen", std::move(address.error()));
    }
    out.listen_host = std::move(address->first);
    out.listen_port = address->second;
  }

  std::int64_t number = 0;
  if (node["workers"]) {
    if (!ReadInteger(node["workers"], "server.workers", 0, kMaxWorkers, number)) {
      return false;
    }
    out.workers = static_cast<unsigned>(number);
  }
  if (node["max_connections"]) {
    if (!ReadInteger(node["max_connections"], "server.max_connections", 1, kNoMaximum, number)) {
      return false;
    }
    out.max_connections = static_cast<std::size_t>(number);
  }
  if (node["max_concurrent_streams"]) {
    if (!ReadInteger(node["max_concurrent_streams"], "server.max_concurrent_streams", 1,
                     kMaxStreams, number)) {
      return false;
    }
    out.max_concurrent_streams = static_cast<std::uint32_t>(number);
  }

  const auto size = [&](const char* key, std::size_t& field) {
    return !node[key] || ReadSize(node[key], Join("server", key), field);
  };
  const auto duration = [&](const char* key, bool allow_zero, std::chrono::milliseconds& field) {
    return !node[key] || ReadDuration(node[key], Join("server", key), allow_zero, field);
  };
  return size("max_header_bytes", out.max_header_bytes) &&
         size("max_body_bytes", out.max_body_bytes) &&
         duration("idle_timeout", false, out.idle_timeout) &&
         duration("read_timeout", false, out.read_timeout) &&
         duration("write_timeout", false, out.write_timeout) &&
         duration("drain_timeout", true, out.drain_timeout) &&
         duration("shutdown_delay", true, out.shutdown_delay);
}

bool Reader::ReadLog(const YAML::Node& node, LogSettings& out) {
  if (node.IsNull()) {
    return true;
  }
  if (!CheckKeys(node, "log", kLogKeys)) {
    return false;
  }
  if (const YAML::Node level = node["level"]) {
    if (!ReadString(level, "log.level", out.level)) {
      return false;
    }
    if (std::find(std::begin(kLogLevels), std::end(kLogLevels), out.level) ==
        std::end(kLogLevels)) {
      return Fail(level, "log.level",
                  "expected one of " + JoinNames(kLogLevels) + ", got " + Quote(out.level));
    }
  }
  return !node["access_log"] || ReadString(node["access_log"], "log.access_log", out.access_log);
}

bool Reader::ReadAuth(const YAML::Node& node, AuthSettings& out) {
  if (node.IsNull()) {
    return true;
  }
  if (!CheckKeys(node, "auth", kAuthKeys)) {
    return false;
  }
  if (const YAML::Node anonymous = node["anonymous"]) {
    if (!ReadString(anonymous, "auth.anonymous", out.anonymous)) {
      return false;
    }
    if (std::find(std::begin(kAnonymousModes), std::end(kAnonymousModes), out.anonymous) ==
        std::end(kAnonymousModes)) {
      return Fail(
          anonymous, "auth.anonymous",
          "expected one of " + JoinNames(kAnonymousModes) + ", got " + Quote(out.anonymous));
    }
  }
  return true;
}

bool Reader::ReadSimulator(const YAML::Node& node, SimulatorSettings& out) {
  if (node.IsNull()) {
    return true;
  }
  if (!CheckKeys(node, "simulator", kSimulatorKeys)) {
    return false;
  }
  if (node["enabled"] && !ReadBool(node["enabled"], "simulator.enabled", out.enabled)) {
    return false;
  }
  if (node["time_scale"] &&
      !ReadNumber(node["time_scale"], "simulator.time_scale", true, out.time_scale)) {
    return false;
  }
  if (const YAML::Node first = node["time_to_first_token"]) {
    std::chrono::milliseconds delay{};
    if (!ReadDuration(first, "simulator.time_to_first_token", true, delay)) {
      return false;
    }
    out.time_to_first_token_ms = static_cast<double>(delay.count());
  }
  if (node["tokens_per_second"] &&
      !ReadNumber(node["tokens_per_second"], "simulator.tokens_per_second", false,
                  out.tokens_per_second)) {
    return false;
  }
  if (node["requests_per_minute"] &&
      !ReadInteger(node["requests_per_minute"], "simulator.requests_per_minute", 0, kNoMaximum,
                   out.requests_per_minute)) {
    return false;
  }
  if (node["tokens_per_minute"] &&
      !ReadInteger(node["tokens_per_minute"], "simulator.tokens_per_minute", 0, kNoMaximum,
                   out.tokens_per_minute)) {
    return false;
  }
  return !node["regions"] || ReadSimulatorRegions(node["regions"], out.regions);
}

bool Reader::ReadSimulatorRegions(const YAML::Node& node, std::vector<SimulatorRegion>& out) {
  if (node.IsNull()) {
    return true;
  }
  if (!node.IsMap()) {
    return Fail(node, "simulator.regions",
                "expected a mapping of region name to settings, got " + Describe(node));
  }
  for (const auto& entry : node) {
    SimulatorRegion region;
    if (!ReadRegion(entry.first, "simulator.regions", region.region)) {
      return false;
    }
    const bool duplicate = std::any_of(out.begin(), out.end(), [&](const SimulatorRegion& seen) {
      return seen.region == region.region;
    });
    if (duplicate) {
      return Fail(entry.first, "simulator.regions",
                  "key " + Quote(region.region) + " appears twice");
    }

    const YAML::Node& settings = entry.second;
    const std::string path = Join("simulator.regions", region.region);
    if (settings.IsNull()) {
      out.push_back(std::move(region));
      continue;
    }
    if (!CheckKeys(settings, path, kSimulatorRegionKeys)) {
      return false;
    }
    if (settings["outage"]) {
      bool outage = false;
      if (!ReadBool(settings["outage"], Join(path, "outage"), outage)) {
        return false;
      }
      region.outage = outage;
    }
    if (settings["time_to_first_token"]) {
      std::chrono::milliseconds delay{};
      if (!ReadDuration(settings["time_to_first_token"], Join(path, "time_to_first_token"), true,
                        delay)) {
        return false;
      }
      region.time_to_first_token_ms = static_cast<double>(delay.count());
    }
    if (settings["tokens_per_second"]) {
      double speed = 0;
      if (!ReadNumber(settings["tokens_per_second"], Join(path, "tokens_per_second"), false,
                      speed)) {
        return false;
      }
      region.tokens_per_second = speed;
    }
    const auto quota = [&](const char* key, std::optional<std::int64_t>& field) {
      std::int64_t limit = 0;
      if (!settings[key]) {
        return true;
      }
      if (!ReadInteger(settings[key], Join(path, key), 0, kNoMaximum, limit)) {
        return false;
      }
      field = limit;
      return true;
    };
    if (!quota("requests_per_minute", region.requests_per_minute) ||
        !quota("tokens_per_minute", region.tokens_per_minute)) {
      return false;
    }
    out.push_back(std::move(region));
  }
  return true;
}

bool Reader::ReadUpstreams(const YAML::Node& node, Config& config) {
  if (node.IsNull()) {
    return true;
  }
  if (!node.IsSequence()) {
    return Fail(node, "upstreams", "expected a list of upstreams, got " + Describe(node));
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string path = Indexed("upstreams", i);
    Upstream upstream;
    upstream.type = std::string(kBedrockType);
    upstream.region = config.region;
    if (!CheckKeys(item, path, kUpstreamKeys) || !Require(item, path, "name") ||
        !Require(item, path, "endpoint") ||
        !ReadString(item["name"], Join(path, "name"), upstream.name) ||
        !ReadString(item["endpoint"], Join(path, "endpoint"), upstream.endpoint)) {
      return false;
    }

    if (upstream.name == kSimulatorUpstream) {
      return Fail(item["name"], Join(path, "name"),
                  "the name \"simulator\" is reserved for the built-in simulator");
    }
    const auto same_name = [&](const Upstream& other) {
      return other.name == upstream.name;
    };
    if (std::any_of(config.upstreams.begin(), config.upstreams.end(), same_name)) {
      return Fail(item["name"], Join(path, "name"),
                  "upstream name " + Quote(upstream.name) + " is already used");
    }
    if (std::string problem = CheckEndpoint(upstream.endpoint); !problem.empty()) {
      return Fail(item["endpoint"], Join(path, "endpoint"), std::move(problem));
    }

    if (item["type"]) {
      if (!ReadString(item["type"], Join(path, "type"), upstream.type)) {
        return false;
      }
      if (upstream.type != kBedrockType) {
        return Fail(item["type"], Join(path, "type"),
                    "unsupported upstream type " + Quote(upstream.type) + " (supported: bedrock)");
      }
    }
    std::int64_t idle = 0;
    if ((item["region"] && !ReadRegion(item["region"], Join(path, "region"), upstream.region)) ||
        (item["timeout"] &&
         !ReadDuration(item["timeout"], Join(path, "timeout"), false, upstream.timeout)) ||
        (item["max_idle_connections"] &&
         !ReadInteger(item["max_idle_connections"], Join(path, "max_idle_connections"), 0,
                      kNoMaximum, idle))) {
      return false;
    }
    if (item["max_idle_connections"]) {
      upstream.max_idle_connections = static_cast<std::size_t>(idle);
    }
    config.upstreams.push_back(std::move(upstream));
  }
  return true;
}

bool Reader::ReadDeployments(const YAML::Node& node, Config& config) {
  if (node.IsNull()) {
    return true;
  }
  if (!node.IsSequence()) {
    return Fail(node, "deployments", "expected a list of deployments, got " + Describe(node));
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    Deployment deployment;
    if (!ReadDeployment(node[i], Indexed("deployments", i), config, deployment)) {
      return false;
    }
    config.deployments.push_back(std::move(deployment));
  }
  return true;
}

bool Reader::ReadDeployment(const YAML::Node& node, const std::string& path, const Config& config,
                            Deployment& out) {
  if (!CheckKeys(node, path, kDeploymentKeys) || !Require(node, path, "model") ||
      !Require(node, path, "upstream") ||
      !ReadString(node["model"], Join(path, "model"), out.model) ||
      !ReadString(node["upstream"], Join(path, "upstream"), out.upstream)) {
    return false;
  }

  // The upstream must exist; its region is the deployment's default region.
  const YAML::Node upstream_node = node["upstream"];
  if (out.upstream == kSimulatorUpstream) {
    if (!config.simulator.enabled) {
      return Fail(upstream_node, Join(path, "upstream"),
                  "the simulator is disabled (simulator.enabled is false)");
    }
    out.region = config.region;
  } else {
    const auto found =
        std::find_if(config.upstreams.begin(), config.upstreams.end(),
                     [&](const Upstream& upstream) { return upstream.name == out.upstream; });
    if (found == config.upstreams.end()) {
      std::vector<std::string_view> names = {kSimulatorUpstream};
      for (const auto& upstream : config.upstreams) {
        names.push_back(upstream.name);
      }
      const auto suggestion = Closest(out.upstream, names);
      return Fail(upstream_node, Join(path, "upstream"),
                  "unknown upstream " + Quote(out.upstream) +
                      (suggestion ? " (did you mean " + Quote(*suggestion) + "?)"
                                  : " (defined: " + JoinNames(names) + ")"));
    }
    out.region = found->region;
  }

  if (node["region"] && !ReadRegion(node["region"], Join(path, "region"), out.region)) {
    return false;
  }
  out.upstream_model = out.model;
  return !node["upstream_model"] ||
         ReadString(node["upstream_model"], Join(path, "upstream_model"), out.upstream_model);
}

}  // namespace

std::string ConfigError::ToString() const {
  std::string text = file;
  if (line > 0) {
    text.append(":").append(std::to_string(line)).append(":").append(std::to_string(column));
  }
  text.append(": ");
  if (!key.empty()) {
    text.append(key).append(": ");
  }
  return text.append(message);
}

void throw_exception_from_error(const ConfigError& error, const boost::source_location& location) {
  boost::throw_exception(std::runtime_error(error.ToString()), location);
}

boost::system::result<Config, ConfigError> ParseConfig(std::string_view yaml,
                                                       std::string_view file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& error) {
    const bool has_mark = !error.mark.is_null();
    return ConfigError{std::string(file_name), has_mark ? error.mark.line + 1 : 0,
                       has_mark ? error.mark.column + 1 : 0, "", error.msg};
  }

  Config config;
  config.source = std::string(file_name);
  Reader reader(file_name);
  if (!reader.Read(root, config)) {
    return std::move(reader.error());
  }
  return config;
}

boost::system::result<Config, ConfigError> LoadConfigFile(const std::string& path) {
  const auto unreadable = [&path](int error_number) {
    return ConfigError{path, 0, 0, "",
                       "cannot read the file: " + std::string(std::strerror(error_number))};
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    return unreadable(errno);
  }

  std::string text;
  char buffer[16 * 1024];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) {
    text.append(buffer, count);
  }
  if (std::ferror(file.get()) != 0) {
    // fread leaves errno set on Linux, e.g. EISDIR when the path is a directory.
    return unreadable(errno);
  }
  return ParseConfig(text, path);
}

Config DefaultConfig() {
  Config config;
  config.source = std::string(kEmbeddedSource);
  // The first call of a new user, with any credentials, works; only from this machine.
  config.auth.anonymous = "loopback";
  return config;
}
}  // namespace sluice::config
