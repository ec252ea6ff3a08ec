#include "config/config.hpp"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace sluice::config {
namespace {

using std::chrono::milliseconds;

std::string ErrorOf(std::string_view yaml) {
  const auto parsed = ParseConfig(yaml, "sluice.yaml");
  return parsed.has_value() ? std::string("(no error)") : parsed.error().ToString();
}

TEST(ConfigTest, DefaultRunsTheSimulatorWithNoUpstreams) {
  const Config config = DefaultConfig();

  EXPECT_EQ(config.source, "<embedded default>");
  EXPECT_TRUE(config.simulator.enabled);
  EXPECT_TRUE(config.upstreams.empty());
  EXPECT_TRUE(config.deployments.empty());
  EXPECT_EQ(config.server.listen_host, "127.0.0.1");
  EXPECT_EQ(config.server.listen_port, 4000);
  EXPECT_EQ(config.region, "us-east-1");
  EXPECT_FALSE(config.catalog_file.has_value());
  EXPECT_EQ(config.auth.anonymous, "loopback");  // the first call works with any credentials
}

TEST(ConfigTest, AFileServesNobodyAnonymouslyUnlessItSaysSo) {
  const auto silent = ParseConfig("region: us-east-1\n", "silent.yaml");
  const auto explicit_mode = ParseConfig("auth:\n  anonymous: always\n", "open.yaml");
  const auto wrong = ParseConfig("auth:\n  anonymous: sometimes\n", "wrong.yaml");

  ASSERT_TRUE(silent.has_value());
  EXPECT_EQ(silent->auth.anonymous, "off");
  ASSERT_TRUE(explicit_mode.has_value());
  EXPECT_EQ(explicit_mode->auth.anonymous, "always");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().ToString(),
            "wrong.yaml:2:14: auth.anonymous: expected one of off, loopback, always, got "
            "\"sometimes\"");
}

TEST(ConfigTest, EmptyDocumentGivesDefaults) {
  const auto parsed = ParseConfig("# nothing but a comment\n", "empty.yaml");

  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->source, "empty.yaml");
  EXPECT_EQ(parsed->server.max_body_bytes, 25'000'000u);
  EXPECT_EQ(parsed->server.idle_timeout, milliseconds(60'000));
  EXPECT_EQ(parsed->simulator.tokens_per_second, 90);
}

TEST(ConfigTest, ReadsEveryKey) {
  const auto parsed = ParseConfig(R"(
server:
  listen: "[::1]:8443"
  workers: 3
  max_header_bytes: 32KiB
  max_body_bytes: 10MB
  idle_timeout: 5m
  read_timeout: 250ms
  write_timeout: 1h
  drain_timeout: 0s
  shutdown_delay: 5s
  max_connections: 50
  max_concurrent_streams: 16
data_dir: /srv/sluice
region: eu-west-1
log: {level: debug, access_log: access.log}
catalog: extra.yaml
simulator:
  enabled: true
  time_scale: 0
  time_to_first_token: 1.5s
  tokens_per_second: 42.5
  requests_per_minute: 0
  tokens_per_minute: 1000
  regions:
    eu-west-3: {outage: true, time_to_first_token: 20ms, tokens_per_second: 7,
                requests_per_minute: 9, tokens_per_minute: 11}
    eu-north-1:
upstreams:
  - {name: east, endpoint: "http://10.0.0.1:9000/", region: us-east-1, timeout: 10s,
     max_idle_connections: 2}
  - {name: local, type: bedrock, endpoint: "http://localhost:9001"}
deployments:
  - {model: m1, upstream: east}
  - {model: m2, upstream: simulator, upstream_model: real-m2}
  - {model: m3, upstream: local, region: eu-central-1}
)",
                                  "full.yaml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  const Config& config = *parsed;

  EXPECT_EQ(config.server.listen_host, "::1");
  EXPECT_EQ(config.server.listen_port, 8443);
  EXPECT_EQ(config.server.workers, 3u);
  EXPECT_EQ(config.server.max_header_bytes, 32u * 1024);
  EXPECT_EQ(config.server.max_body_bytes, 10'000'000u);
  EXPECT_EQ(config.server.idle_timeout, milliseconds(300'000));
  EXPECT_EQ(config.server.read_timeout, milliseconds(250));
  EXPECT_EQ(config.server.write_timeout, milliseconds(3'600'000));
  EXPECT_EQ(config.server.drain_timeout, milliseconds(0));
  EXPECT_EQ(config.server.shutdown_delay, milliseconds(5'000));
  EXPECT_EQ(config.server.max_connections, 50u);
  EXPECT_EQ(config.server.max_concurrent_streams, 16u);
  EXPECT_EQ(config.data_dir, "/srv/sluice");
  EXPECT_EQ(config.region, "eu-west-1");
  EXPECT_EQ(config.log.level, "debug");
  EXPECT_EQ(config.log.access_log, "access.log");
  EXPECT_EQ(config.catalog_file, "extra.yaml");

  EXPECT_EQ(config.simulator.time_scale, 0);
  EXPECT_EQ(config.simulator.time_to_first_token_ms, 1500);
  EXPECT_EQ(config.simulator.tokens_per_second, 42.5);
  EXPECT_EQ(config.simulator.requests_per_minute, 0);
  EXPECT_EQ(config.simulator.tokens_per_minute, 1000);
  ASSERT_EQ(config.simulator.regions.size(), 2u);
  const SimulatorRegion& paris = config.simulator.regions[0];
  EXPECT_EQ(paris.region, "eu-west-3");
  EXPECT_EQ(paris.outage, true);
  EXPECT_EQ(paris.time_to_first_token_ms, 20);
  EXPECT_EQ(paris.tokens_per_second, 7);
  EXPECT_EQ(paris.requests_per_minute, 9);
  EXPECT_EQ(paris.tokens_per_minute, 11);
  EXPECT_EQ(config.simulator.regions[1].region, "eu-north-1");
  EXPECT_FALSE(config.simulator.regions[1].outage.has_value());

  ASSERT_EQ(config.upstreams.size(), 2u);
  EXPECT_EQ(config.upstreams[0].name, "east");
  EXPECT_EQ(config.upstreams[0].type, "bedrock");
  EXPECT_EQ(config.upstreams[0].endpoint, "http://10.0.0.1:9000/");
  EXPECT_EQ(config.upstreams[0].region, "us-east-1");
  EXPECT_EQ(config.upstreams[0].timeout, milliseconds(10'000));
  EXPECT_EQ(config.upstreams[0].max_idle_connections, 2u);
  EXPECT_EQ(config.upstreams[1].region, "eu-west-1");
  EXPECT_EQ(config.upstreams[1].timeout, milliseconds(120'000));

  ASSERT_EQ(config.deployments.size(), 3u);
  EXPECT_EQ(config.deployments[0].region, "us-east-1");
  EXPECT_EQ(config.deployments[0].upstream_model, "m1");
  EXPECT_EQ(config.deployments[1].region, "eu-west-1");
  EXPECT_EQ(config.deployments[1].upstream_model, "real-m2");
  EXPECT_EQ(config.deployments[2].region, "eu-central-1");
}

TEST(ConfigTest, DeploymentsMayPrecedeTheirUpstreamsInTheFile) {
  const auto parsed = ParseConfig(R"(
deployments:
  - {model: m, upstream: later}
upstreams:
  - {name: later, endpoint: "http://127.0.0.1:1"}
)",
                                  "order.yaml");

  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->deployments[0].upstream, "later");
}

#ifdef SLUICE_SOURCE_DIR
TEST(ConfigTest, ExampleFileParses) {
  const auto parsed = LoadConfigFile(SLUICE_SOURCE_DIR "/config/sluice.example.yaml");

  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->server.listen_port, 4000);
  EXPECT_EQ(parsed->server.max_header_bytes, 64u * 1024);
  EXPECT_FALSE(parsed->upstreams.empty());
  EXPECT_FALSE(parsed->deployments.empty());
  EXPECT_FALSE(parsed->simulator.regions.empty());
}
#endif

TEST(ConfigTest, LoadsAFileAndNamesItAsSource) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("sluice_config_" + std::to_string(getpid()) + ".yaml"))
                               .string();
  std::ofstream(path) << "region: us-west-2\n";

  const auto parsed = LoadConfigFile(path);
  std::filesystem::remove(path);

  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->source, path);
  EXPECT_EQ(parsed->region, "us-west-2");
}

TEST(ConfigTest, UnreadableFileIsAnErrorNamingThePath) {
  const auto parsed = LoadConfigFile("/nonexistent/sluice.yaml");

  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().file, "/nonexistent/sluice.yaml");
  EXPECT_EQ(parsed.error().ToString(),
            "/nonexistent/sluice.yaml: cannot read the file: No such file or directory");
}

TEST(ConfigTest, ErrorsInFileLoadsCarryThePath) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("sluice_bad_" + std::to_string(getpid()) + ".yaml"))
                               .string();
  std::ofstream(path) << "server:\n  listn: x\n";

  const auto parsed = LoadConfigFile(path);
  std::filesystem::remove(path);

  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().ToString(),
            path + ":2:3: server: unknown key \"listn\" (did you mean \"listen\"?)");
}

TEST(ConfigTest, ErrorFieldsAreFilledSeparately) {
  const auto parsed = ParseConfig("simulator:\n  tokens_per_second: fast\n", "sluice.yaml");

  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().file, "sluice.yaml");
  EXPECT_EQ(parsed.error().line, 2);
  EXPECT_EQ(parsed.error().column, 22);
  EXPECT_EQ(parsed.error().key, "simulator.tokens_per_second");
  EXPECT_EQ(parsed.error().message, "expected a positive number, got \"fast\"");
}

struct BadConfig {
  const char* what;
  const char* yaml;
  const char* error;
};

class ConfigErrorTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrorTest, NamesFileLineColumnAndKey) {
  EXPECT_EQ(ErrorOf(GetParam().yaml), GetParam().error);
}

// Each document starts with a newline, so its first key is on line 2.
INSTANTIATE_TEST_SUITE_P(
    Errors, ConfigErrorTest,
    ::testing::Values(
        BadConfig{"misspelt key", "\nserver:\n  listn: \"0.0.0.0:80\"\n",
                  "sluice.yaml:3:3: server: unknown key \"listn\" (did you mean \"listen\"?)"},
        BadConfig{"transposed letters", "\nserver:\n  wrokers: 2\n",
                  "sluice.yaml:3:3: server: unknown key \"wrokers\" (did you mean \"workers\"?)"},
        BadConfig{"unknown key far from any", "\ncolour: red\n",
                  "sluice.yaml:2:1: unknown key \"colour\" (expected one of: server, data_dir, "
                  "region, log, auth, catalog, simulator, upstreams, deployments)"},
        BadConfig{"duplicate key", "\nregion: us-east-1\nregion: us-west-2\n",
                  "sluice.yaml:3:1: key \"region\" appears twice"},
        BadConfig{"section of wrong type", "\nserver: 5\n",
                  "sluice.yaml:2:9: server: expected a mapping, got \"5\""},
        BadConfig{"number expected", R"(
simulator:
  regions:
    us-east-1:
      tokens_per_second: fast
)",
                  "sluice.yaml:5:26: simulator.regions.us-east-1.tokens_per_second: expected a "
                  "positive number, got \"fast\""},
        BadConfig{"negative size", "\nserver:\n  max_body_bytes: -5\n",
                  "sluice.yaml:3:19: server.max_body_bytes: expected a positive size such as "
                  "65536, 64KiB or 25MB, got \"-5\""},
        BadConfig{"size with unknown unit", "\nserver:\n  max_header_bytes: 64kb\n",
                  "sluice.yaml:3:21: server.max_header_bytes: expected a positive size such as "
                  "65536, 64KiB or 25MB, got \"64kb\""},
        BadConfig{"duration without unit", "\nserver:\n  idle_timeout: 30\n",
                  "sluice.yaml:3:17: server.idle_timeout: expected a duration such as 250ms, "
                  "30s, 5m or 1h, got \"30\""},
        BadConfig{"zero timeout", "\nserver:\n  read_timeout: 0s\n",
                  "sluice.yaml:3:17: server.read_timeout: expected a duration greater than "
                  "zero, got \"0s\""},
        BadConfig{"listen without port", "\nserver:\n  listen: localhost\n",
                  "sluice.yaml:3:11: server.listen: expected HOST:PORT or [IPv6]:PORT, got "
                  "\"localhost\""},
        BadConfig{"listen port out of range", "\nserver:\n  listen: \"127.0.0.1:70000\"\n",
                  "sluice.yaml:3:11: server.listen: expected a port from 0 to 65535, got "
                  "\"70000\""},
        BadConfig{"unbracketed IPv6", "\nserver:\n  listen: \"::1:4000\"\n",
                  "sluice.yaml:3:11: server.listen: an IPv6 address needs brackets, as in "
                  "[::1]:4000, got \"::1:4000\""},
        BadConfig{"workers out of range", "\nserver:\n  workers: 100000\n",
                  "sluice.yaml:3:12: server.workers: expected an integer from 0 to 1024, got "
                  "\"100000\""},
        BadConfig{"integer expected", "\nsimulator:\n  tokens_per_minute: 1.5\n",
                  "sluice.yaml:3:22: simulator.tokens_per_minute: expected an integer of 0 or "
                  "more, got \"1.5\""},
        BadConfig{"boolean expected", "\nsimulator:\n  enabled: yes\n",
                  "sluice.yaml:3:12: simulator.enabled: expected true or false, got \"yes\""},
        BadConfig{"string expected", "\ndata_dir: [a, b]\n",
                  "sluice.yaml:2:11: data_dir: expected a non-empty string, got a list"},
        BadConfig{"unknown region", "\nregion: us-east-7\n",
                  "sluice.yaml:2:9: region: unknown region \"us-east-7\" (did you mean "
                  "\"us-east-1\"?)"},
        BadConfig{"unknown simulator region", "\nsimulator:\n  regions:\n    atlantis-1: {}\n",
                  "sluice.yaml:4:5: simulator.regions: unknown region \"atlantis-1\""},
        BadConfig{"bad log level", "\nlog:\n  level: verbose\n",
                  "sluice.yaml:3:10: log.level: expected one of trace, debug, info, warn, error, "
                  "critical, off, got \"verbose\""},
        BadConfig{"https endpoint", R"(
upstreams:
  - name: aws
    endpoint: https://bedrock-runtime.us-east-1.amazonaws.com
)",
                  "sluice.yaml:4:15: upstreams[0].endpoint: https endpoints are not supported "
                  "yet (TLS to upstreams comes in a later release); use http://HOST:PORT, got "
                  "\"https://bedrock-runtime.us-east-1.amazonaws.com\""},
        BadConfig{"endpoint without port", R"(
upstreams:
  - name: a
    endpoint: http://localhost
)",
                  "sluice.yaml:4:15: upstreams[0].endpoint: expected http://HOST:PORT, got "
                  "\"http://localhost\" (expected HOST:PORT or [IPv6]:PORT, got "
                  "\"localhost\")"},
        BadConfig{"endpoint with path", R"(
upstreams:
  - name: a
    endpoint: http://localhost:80/v1
)",
                  "sluice.yaml:4:15: upstreams[0].endpoint: expected http://HOST:PORT with no "
                  "path, query or user, got \"http://localhost:80/v1\""},
        BadConfig{"missing upstream name", R"(
upstreams:
  - endpoint: http://localhost:80
)",
                  "sluice.yaml:3:5: upstreams[0]: missing key \"name\""},
        BadConfig{"duplicate upstream name", R"(
upstreams:
  - name: a
    endpoint: http://localhost:80
  - name: a
    endpoint: http://localhost:81
)",
                  "sluice.yaml:5:11: upstreams[1].name: upstream name \"a\" is already used"},
        BadConfig{"reserved upstream name", R"(
upstreams:
  - {name: simulator, endpoint: "http://localhost:80"}
)",
                  "sluice.yaml:3:12: upstreams[0].name: the name \"simulator\" is reserved for "
                  "the built-in simulator"},
        BadConfig{"unsupported upstream type", R"(
upstreams:
  - {name: a, type: openai, endpoint: "http://localhost:80"}
)",
                  "sluice.yaml:3:21: upstreams[0].type: unsupported upstream type \"openai\" "
                  "(supported: bedrock)"},
        BadConfig{"upstreams not a list", "\nupstreams:\n  name: a\n",
                  "sluice.yaml:3:3: upstreams: expected a list of upstreams, got a mapping"},
        BadConfig{"deployment names missing upstream", R"(
upstreams:
  - {name: east, endpoint: "http://localhost:80"}
deployments:
  - model: m
    upstream: west
)",
                  "sluice.yaml:6:15: deployments[0].upstream: unknown upstream \"west\" "
                  "(defined: simulator, east)"},
        BadConfig{"deployment upstream misspelt", R"(
deployments:
  - model: m
    upstream: simulatr
)",
                  "sluice.yaml:4:15: deployments[0].upstream: unknown upstream \"simulatr\" "
                  "(did you mean \"simulator\"?)"},
        BadConfig{"deployment on disabled simulator", R"(
simulator: {enabled: false}
deployments:
  - {model: m, upstream: simulator}
)",
                  "sluice.yaml:4:26: deployments[0].upstream: the simulator is disabled "
                  "(simulator.enabled is false)"},
        BadConfig{"deployment without model", "\ndeployments:\n  - upstream: simulator\n",
                  "sluice.yaml:3:5: deployments[0]: missing key \"model\""},
        BadConfig{"yaml syntax", "\nserver: {listen: \"x\"\n",
                  "sluice.yaml:3:1: end of map flow not found"}),
    [](const auto& info) {
      std::string name = info.param.what;
      for (char& c : name) {
        c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      return name;
    });

TEST(ParseDurationTest, AcceptsEveryUnit) {
  EXPECT_EQ(ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(ParseDuration("30s"), milliseconds(30'000));
  EXPECT_EQ(ParseDuration("5m"), milliseconds(300'000));
  EXPECT_EQ(ParseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(ParseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(ParseDuration("0s"), milliseconds(0));
}

TEST(ParseDurationTest, RefusesMalformedDurations) {
  for (const char* text :
       {"", "30", "s", "-1s", "5 m", "1d", "1.2.3s", "ms5", "1e3s", "1H", "99999999999h"}) {
    EXPECT_FALSE(ParseDuration(text).has_value()) << text;
  }
}

TEST(ParseSizeTest, AcceptsPlainAndSuffixedSizes) {
  EXPECT_EQ(ParseSize("65536"), 65536u);
  EXPECT_EQ(ParseSize("64KiB"), 65536u);
  EXPECT_EQ(ParseSize("64 KiB"), 65536u);
  EXPECT_EQ(ParseSize("2MiB"), 2u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(ParseSize("25MB"), 25'000'000u);
  EXPECT_EQ(ParseSize("3KB"), 3000u);
  EXPECT_EQ(ParseSize("0"), 0u);
}

TEST(ParseSizeTest, RefusesMalformedSizes) {
  for (const char* text : {"", "-5", "KiB", "1.5MB", "64kb", "64 ", "64  KiB", "0x10",
                           "99999999999999999999", "18446744073709551615KiB"}) {
    EXPECT_FALSE(ParseSize(text).has_value()) << text;
  }
}

TEST(ParseListenAddressTest, AcceptsHostsAndBracketedIpv6) {
  using Address = std::pair<std::string, std::uint16_t>;
  const auto parse = [](std::string_view text) {
    const auto address = ParseListenAddress(text);
    return address.has_value() ? *address : Address("(error) " + address.error(), 0);
  };

  EXPECT_EQ(parse("127.0.0.1:4000"), Address("127.0.0.1", 4000));
  EXPECT_EQ(parse("0.0.0.0:0"), Address("0.0.0.0", 0));
  EXPECT_EQ(parse("localhost:65535"), Address("localhost", 65535));
  EXPECT_EQ(parse("gw-1.example.com:80"), Address("gw-1.example.com", 80));
  EXPECT_EQ(parse("[::1]:8080"), Address("::1", 8080));
  EXPECT_EQ(parse("[::]:443"), Address("::", 443));
}

TEST(ParseListenAddressTest, RefusesBadAddresses) {
  for (const char* text :
       {"", "4000", ":4000", "::1:4000", "[::1]4000", "[::1", "[zz]:1", "host:65536", "host:abc",
        "host:", "300.1.1.1:80", "bad_host:80", "-lead.example:80", "[127.0.0.1]:80"}) {
    EXPECT_FALSE(ParseListenAddress(text).has_value()) << text;
  }
}

TEST(ParseListenAddressTest, ErrorSaysWhatIsWrong) {
  EXPECT_EQ(ParseListenAddress("300.1.1.1:80").error(),
            "\"300.1.1.1\" is not an IPv4 address or a host name");
  EXPECT_EQ(ParseListenAddress("[zz]:1").error(), "\"zz\" is not an IPv6 address");
}

}  // namespace
}  // namespace sluice::config
