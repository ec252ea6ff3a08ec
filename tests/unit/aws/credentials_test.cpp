#include "aws/credentials.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "support/run_coroutine.hpp"
#include "support/test_server.hpp"

namespace sluice::aws {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using test_support::RunCoroutine;

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

// Every variable the providers read; each test starts with all of them unset.
constexpr std::array<const char*, 14> kAwsVariables = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "HOME",
    "AWS_REGION",
};

// Unsets the AWS variables (and points HOME at an empty temp dir) for one test, then restores
// them, and gives the test a scratch directory for shared files.
class CredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kAwsVariables) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      unsetenv(name);
    }
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_credentials_" + std::to_string(getpid()) + "_" + std::to_string(++counter));
    std::filesystem::create_directories(dir_);
    setenv("HOME", dir_.c_str(), 1);
  }

  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name, value->c_str(), 1);
      } else {
        unsetenv(name);
      }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string Write(std::string_view name, std::string_view text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  FetchResult Fetch(CredentialProvider& provider) { return RunCoroutine(io_, provider.Fetch()); }

  boost::asio::io_context io_;
  std::filesystem::path dir_;

 private:
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

// An IMDSv2 double: hands out a token, refuses GETs without it, serves one role whose
// credentials carry a generation number, and counts what it was asked.
class ImdsDouble final : public http::RequestHandler {
 public:
  net::awaitable<void> Handle(http::Exchange& exchange) override {
    const http::Request& request = exchange.request();
    const std::string target(request.target());
    ++requests_;
    http::Response response{bhttp::status::ok, 11};

    if (not_found_) {
      response.result(bhttp::status::not_found);
    } else if (request.method() == bhttp::verb::put && target == "/latest/api/token") {
      const bool has_ttl = !request["X-aws-ec2-metadata-token-ttl-seconds"].empty();
      response.result(has_ttl ? bhttp::status::ok : bhttp::status::bad_request);
      response.body() = "token-123";
    } else if (request["X-aws-ec2-metadata-token"] != "token-123") {
      ++missing_token_;
      response.result(bhttp::status::unauthorized);
    } else if (target == "/latest/meta-data/iam/security-credentials/") {
      response.body() = "gateway-role\n";
    } else if (target == "/latest/meta-data/iam/security-credentials/gateway-role") {
      response.body() = Document();
    } else {
      response.result(bhttp::status::not_found);
    }
    co_await exchange.Respond(std::move(response));
  }

  void SetExpiration(std::string expiration) {
    std::lock_guard lock(mutex_);
    expiration_ = std::move(expiration);
  }

  void AnswerNotFound() { not_found_ = true; }

  int requests() const { return requests_; }

  int missing_token() const { return missing_token_; }

 private:
  std::string Document() {
    std::lock_guard lock(mutex_);
    ++generation_;
    return R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDSGEN)" +
           std::to_string(generation_) +
           R"(","SecretAccessKey":"imds-secret","Token":"imds-token",)" + R"("Expiration":")" +
           expiration_ + R"("})";
  }

  std::mutex mutex_;
  std::string expiration_ = "2030-01-01T00:00:00Z";  // guarded by mutex_
  int generation_ = 0;                               // guarded by mutex_
  std::atomic<int> requests_{0};
  std::atomic<int> missing_token_{0};
  std::atomic<bool> not_found_{false};
};

std::string Url(const test_support::TestServer& server) {
  return "http://127.0.0.1:" + std::to_string(server.port());
}

std::chrono::system_clock::time_point At(std::string_view iso) {
  return *ParseIso8601Utc(iso);
}

TEST_F(CredentialTest, StaticKeysAreReturnedAsGiven) {
  StaticCredentialProvider provider({"AKIDSTATIC", std::string(kSecret), ""});
  auto result = RunCoroutine(io_, provider.Get());
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(result->access_key_id, "AKIDSTATIC");
  EXPECT_EQ(result->secret_access_key, kSecret);

  StaticCredentialProvider empty({});
  auto missing = Fetch(empty);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, CredentialError::Kind::kNotConfigured);
}

TEST_F(CredentialTest, EnvironmentVariablesAreRead) {
  EnvironmentCredentialProvider provider;
  auto unset = Fetch(provider);
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().kind, CredentialError::Kind::kNotConfigured);

  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", kSecret.data(), 1);
  setenv("AWS_SESSION_TOKEN", "env-token", 1);
  auto result = Fetch(provider);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(result->credentials.secret_access_key, kSecret);
  EXPECT_EQ(result->credentials.session_token, "env-token");
  EXPECT_FALSE(result->expiration);
}

TEST_F(CredentialTest, EnvironmentWithOnlyTheKeyIdFailsWithoutShowingIt) {
  setenv("AWS_ACCESS_KEY_ID", "AKIDHALFSET", 1);
  EnvironmentCredentialProvider provider;
  auto result = Fetch(provider);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, CredentialError::Kind::kFailed);
  EXPECT_NE(result.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_EQ(result.error().message.find("AKIDHALFSET"), std::string::npos);
}

TEST_F(CredentialTest, SharedFileSectionsDependOnTheFileKind) {
  constexpr std::string_view kText =
      "# leading comment\n"
      "[default]\n"
      "aws_access_key_id = AKIDDEFAULT\n"
      "; another comment\n"
      "[profile dev]\n"
      "  AWS_Access_Key_Id=AKIDDEV   # trailing comment\n"
      "[sso-session corp]\n"
      "sso_region = us-east-1\n"
      "[plain]\n"
      "region = eu-west-1\n"
      "s3 =\n"
      "    max_concurrent_requests = 20\n";

  auto config = ParseSharedFile(kText, "config", SharedFileKind::kConfig);
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->at("default").at("aws_access_key_id"), "AKIDDEFAULT");
  EXPECT_EQ(config->at("dev").at("aws_access_key_id"), "AKIDDEV");
  EXPECT_FALSE(config->contains("plain"));
  EXPECT_FALSE(config->contains("sso-session corp"));

  auto credentials = ParseSharedFile(kText, "credentials", SharedFileKind::kCredentials);
  ASSERT_TRUE(credentials) << credentials.error();
  EXPECT_TRUE(credentials->contains("profile dev"));
  EXPECT_FALSE(credentials->contains("dev"));
  EXPECT_EQ(credentials->at("plain").at("region"), "eu-west-1");
  EXPECT_FALSE(credentials->at("plain").contains("max_concurrent_requests"));
}

TEST_F(CredentialTest, SharedFileErrorsNameTheLineButNotItsText) {
  auto no_equals = ParseSharedFile("[default]\n\naws_secret_access_key SECRETVALUE\n", "/x/creds",
                                   SharedFileKind::kCredentials);
  ASSERT_FALSE(no_equals);
  EXPECT_EQ(no_equals.error(), "/x/creds:3: expected `key = value`");

  auto before_section =
      ParseSharedFile("aws_access_key_id = AKID\n", "/x/creds", SharedFileKind::kCredentials);
  ASSERT_FALSE(before_section);
  EXPECT_EQ(before_section.error(), "/x/creds:1: a setting before any [section]");

  auto unclosed = ParseSharedFile("[default]\nk = v\n[dev\n", "c", SharedFileKind::kConfig);
  ASSERT_FALSE(unclosed);
  EXPECT_EQ(unclosed.error(), "c:3: unclosed [section]");
}

TEST_F(CredentialTest, ProfilesComeFromBothSharedFiles) {
  const std::string credentials = Write("credentials",
                                        "[default]\n"
                                        "aws_access_key_id = AKIDDEFAULT\n"
                                        "aws_secret_access_key = default-secret\n"
                                        "[dev]\n"
                                        "aws_access_key_id = AKIDDEV\n"
                                        "aws_secret_access_key = dev-secret\n"
                                        "aws_session_token = dev-token\n");
  const std::string config = Write("config",
                                   "[profile dev]\n"
                                   "aws_access_key_id = AKIDIGNORED\n"
                                   "[profile ops]\n"
                                   "aws_access_key_id = AKIDOPS\n"
                                   "aws_secret_access_key = ops-secret\n");

  ProfileCredentialProvider by_default({"", credentials, config});
  auto result = Fetch(by_default);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->credentials.access_key_id, "AKIDDEFAULT");

  // The credentials file wins over the config file for the same profile.
  ProfileCredentialProvider dev({"dev", credentials, config});
  result = Fetch(dev);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->credentials.access_key_id, "AKIDDEV");
  EXPECT_EQ(result->credentials.session_token, "dev-token");

  setenv("AWS_PROFILE", "ops", 1);
  ProfileCredentialProvider from_env({"", credentials, config});
  result = Fetch(from_env);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->credentials.access_key_id, "AKIDOPS");
  EXPECT_EQ(result->credentials.secret_access_key, "ops-secret");
}

TEST_F(CredentialTest, FileLocationsFollowTheEnvironmentAndHome) {
  std::filesystem::create_directories(dir_ / ".aws");
  Write(".aws/credentials", "[default]\naws_access_key_id=AKIDHOME\naws_secret_access_key=s\n");
  ProfileCredentialProvider provider;
  auto result = Fetch(provider);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->credentials.access_key_id, "AKIDHOME");

  const std::string moved =
      Write("elsewhere", "[default]\naws_access_key_id=AKIDMOVED\naws_secret_access_key=s\n");
  setenv("AWS_SHARED_CREDENTIALS_FILE", moved.c_str(), 1);
  result = Fetch(provider);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->credentials.access_key_id, "AKIDMOVED");
}

TEST_F(CredentialTest, MissingProfilesAndBrokenFilesAreReported) {
  const std::string credentials =
      Write("credentials", "[default]\naws_access_key_id = AKID\naws_secret_access_key = s\n");
  const std::string config = Write("config", "[default]\nregion = us-east-1\n");

  ProfileCredentialProvider named({"nosuch", credentials, config});
  auto missing = Fetch(named);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, CredentialError::Kind::kFailed);
  EXPECT_NE(missing.error().message.find("`nosuch`"), std::string::npos);

  const std::string broken = Write("broken", "[default]\naws_access_key_id = AKID\nSECRETLINE\n");
  ProfileCredentialProvider bad({"", broken, config});
  auto malformed = Fetch(bad);
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().kind, CredentialError::Kind::kFailed);
  EXPECT_NE(malformed.error().message.find(broken + ":3:"), std::string::npos);
  EXPECT_EQ(malformed.error().message.find("SECRETLINE"), std::string::npos);

  const std::string no_secret = Write("half", "[default]\naws_access_key_id = AKIDHALF\n");
  ProfileCredentialProvider half({"", no_secret, config});
  auto incomplete = Fetch(half);
  ASSERT_FALSE(incomplete);
  EXPECT_NE(incomplete.error().message.find("no aws_secret_access_key"), std::string::npos);
  EXPECT_EQ(incomplete.error().message.find("AKIDHALF"), std::string::npos);

  const std::string assume = Write("assume", "[default]\nrole_arn = arn:aws:iam::1:role/x\n");
  ProfileCredentialProvider role({"", assume, config});
  auto unsupported = Fetch(role);
  ASSERT_FALSE(unsupported);
  EXPECT_NE(unsupported.error().message.find("role_arn"), std::string::npos);
}

TEST_F(CredentialTest, ChainPrefersEnvironmentOverFiles) {
  const std::string credentials =
      Write("credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  http::Client client;
  DefaultChainOptions options;
  options.profile.credentials_file = credentials;
  options.profile.config_file = (dir_ / "no-config").string();
  options.imds_endpoint_url = "http://127.0.0.1:" + std::to_string(test_support::UnusedPort());
  auto chain = MakeDefaultCredentialChain(client, options);

  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
  auto from_env = RunCoroutine(io_, chain->Get());
  ASSERT_TRUE(from_env) << from_env.error();
  EXPECT_EQ(from_env->access_key_id, "AKIDENV");

  // A fresh chain (the first one caches long-term keys for good).
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  chain = MakeDefaultCredentialChain(client, options);
  auto from_file = RunCoroutine(io_, chain->Get());
  ASSERT_TRUE(from_file) << from_file.error();
  EXPECT_EQ(from_file->access_key_id, "AKIDFILE");

  options.static_credentials = Credentials{"AKIDSTATIC", "static-secret", ""};
  chain = MakeDefaultCredentialChain(client, options);
  auto from_static = RunCoroutine(io_, chain->Get());
  ASSERT_TRUE(from_static) << from_static.error();
  EXPECT_EQ(from_static->access_key_id, "AKIDSTATIC");
}

TEST_F(CredentialTest, ChainStopsAtABrokenSource) {
  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  std::vector<std::unique_ptr<CredentialProvider>> providers;
  providers.push_back(std::make_unique<EnvironmentCredentialProvider>());
  providers.push_back(std::make_unique<StaticCredentialProvider>(Credentials{"AKID", "s", ""}));
  ChainCredentialProvider chain(std::move(providers));
  auto result = Fetch(chain);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, CredentialError::Kind::kFailed);
  EXPECT_NE(result.error().message.find("environment"), std::string::npos);
}

TEST_F(CredentialTest, ImdsV2ServesRoleCredentialsWithTheToken) {
  ImdsDouble imds;
  test_support::TestServer server(imds);
  http::Client client;
  ImdsCredentialProvider provider(client, Url(server));

  auto result = Fetch(provider);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->credentials.access_key_id, "ASIAIMDSGEN1");
  EXPECT_EQ(result->credentials.secret_access_key, "imds-secret");
  EXPECT_EQ(result->credentials.session_token, "imds-token");
  EXPECT_EQ(result->expiration, ParseIso8601Utc("2030-01-01T00:00:00Z"));
  EXPECT_EQ(imds.requests(), 3);
  EXPECT_EQ(imds.missing_token(), 0);
}

TEST_F(CredentialTest, ImdsEndpointComesFromTheEnvironment) {
  ImdsDouble imds;
  test_support::TestServer server(imds);
  http::Client client;
  setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", Url(server).c_str(), 1);
  ImdsCredentialProvider provider(client);
  auto result = Fetch(provider);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(imds.requests(), 3);
}

TEST_F(CredentialTest, CacheRefreshesOnlyWithinTheMargin) {
  ImdsDouble imds;
  test_support::TestServer server(imds);
  http::Client client;
  auto now = At("2029-12-31T23:00:00Z");
  CachingCredentialProvider cache(std::make_unique<ImdsCredentialProvider>(client, Url(server)),
                                  5min, [&now] { return now; });

  auto first = Fetch(cache);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->credentials.access_key_id, "ASIAIMDSGEN1");
  EXPECT_EQ(imds.requests(), 3);

  now = At("2029-12-31T23:54:00Z");  // six minutes before expiry: still cached
  auto second = Fetch(cache);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->credentials.access_key_id, "ASIAIMDSGEN1");
  EXPECT_EQ(imds.requests(), 3);

  imds.SetExpiration("2030-01-01T06:00:00Z");
  now = At("2029-12-31T23:56:00Z");  // four minutes before expiry: refresh
  auto third = Fetch(cache);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(third->credentials.access_key_id, "ASIAIMDSGEN2");
  EXPECT_EQ(imds.requests(), 6);

  auto fourth = Fetch(cache);
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->credentials.access_key_id, "ASIAIMDSGEN2");
  EXPECT_EQ(imds.requests(), 6);
  EXPECT_EQ(imds.missing_token(), 0);
}

TEST_F(CredentialTest, ConcurrentCallersShareOneRefresh) {
  ImdsDouble imds;
  test_support::TestServer server(imds);
  http::Client client;
  CachingCredentialProvider cache(std::make_unique<ImdsCredentialProvider>(client, Url(server)),
                                  5min, [] { return At("2029-12-31T23:00:00Z"); });

  constexpr int kCallers = 4;
  std::vector<std::optional<FetchResult>> results(kCallers);
  int finished = 0;
  for (auto& slot : results) {
    net::co_spawn(
        io_, [&cache, &slot]() -> net::awaitable<void> { slot.emplace(co_await cache.Fetch()); },
        [&](std::exception_ptr) {
          if (++finished == kCallers) {
            io_.stop();
          }
        });
  }
  io_.run_for(test_support::kCoroutineTimeLimit);

  ASSERT_EQ(finished, kCallers);
  for (const auto& result : results) {
    ASSERT_TRUE(result && *result);
    EXPECT_EQ((*result)->credentials.access_key_id, "ASIAIMDSGEN1");
  }
  EXPECT_EQ(imds.requests(), 3);
}

TEST_F(CredentialTest, ImdsNotFoundIsAnError) {
  ImdsDouble imds;
  imds.AnswerNotFound();
  test_support::TestServer server(imds);
  http::Client client;
  ImdsCredentialProvider provider(client, Url(server));
  auto result = RunCoroutine(io_, provider.Get());
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("instance metadata"), std::string::npos);
  EXPECT_NE(result.error().find("404"), std::string::npos);
}

TEST_F(CredentialTest, ImdsUnreachableIsAnError) {
  http::Client client;
  ImdsCredentialProvider provider(client,
                                  "http://127.0.0.1:" + std::to_string(test_support::UnusedPort()));
  auto result = Fetch(provider);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, CredentialError::Kind::kFailed);
  EXPECT_NE(result.error().message.find("instance metadata"), std::string::npos);
}

// A container endpoint double that insists on the authorization token.
class ContainerDouble final : public http::RequestHandler {
 public:
  net::awaitable<void> Handle(http::Exchange& exchange) override {
    const http::Request& request = exchange.request();
    const bool ok = request.target() == "/creds?id=1" && request["Authorization"] == "Bearer t";
    http::Response response{ok ? bhttp::status::ok : bhttp::status::forbidden, 11};
    response.body() = R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"c-secret",)"
                      R"("Token":"c-token","Expiration":"2030-01-01T00:00:00.123Z"})";
    co_await exchange.Respond(std::move(response));
  }
};

TEST_F(CredentialTest, ContainerEndpointSendsTheAuthorizationToken) {
  ContainerDouble container;
  test_support::TestServer server(container);
  http::Client client;
  ContainerCredentialProvider provider(client);

  auto unset = Fetch(provider);
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().kind, CredentialError::Kind::kNotConfigured);

  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (Url(server) + "/creds?id=1").c_str(), 1);
  setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer t", 1);
  auto result = Fetch(provider);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->credentials.access_key_id, "ASIACONTAINER");
  EXPECT_EQ(result->expiration, ParseIso8601Utc("2030-01-01T00:00:00Z"));

  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
  auto remote = Fetch(provider);
  ASSERT_FALSE(remote);
  EXPECT_EQ(remote.error().kind, CredentialError::Kind::kFailed);
}

TEST(CredentialFormatTest, ParsesIso8601Utc) {
  using namespace std::chrono;
  const sys_seconds expected = sys_days(2030y / January / 2) + 3h + 4min + 5s;
  EXPECT_EQ(ParseIso8601Utc("2030-01-02T03:04:05Z"), expected);
  EXPECT_EQ(ParseIso8601Utc("2030-01-02T03:04:05.999Z"), expected);
  EXPECT_EQ(ParseIso8601Utc("2030-01-02T03:04:05+00:00"), expected);
  EXPECT_FALSE(ParseIso8601Utc("2030-02-30T03:04:05Z"));
  EXPECT_FALSE(ParseIso8601Utc("2030-01-02 03:04:05Z"));
  EXPECT_FALSE(ParseIso8601Utc("2030-01-02T03:04:05+02:00"));
  EXPECT_FALSE(ParseIso8601Utc(""));
}

TEST(CredentialFormatTest, RedactedShowsOnlyTheLastFourCharacters) {
  EXPECT_EQ(Redacted({"AKIAIOSFODNN7EXAMPLE", std::string(kSecret), "token"}),
            "****************MPLE");
  EXPECT_EQ(Redacted({"ABCD", "s", ""}), "****");
  EXPECT_EQ(Redacted({}), "");
}

}  // namespace
}  // namespace sluice::aws
