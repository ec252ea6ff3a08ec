#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include "aws/sigv4.hpp"
#include "http/client.hpp"

namespace sluice::aws {

// Where the credentials that sign requests to Bedrock come from, looked up the way the AWS SDKs
// look them up by default: static keys from our config, the environment, the shared
// credentials/config files, the container credential endpoint, then instance metadata (IMDSv2).
// Every provider answers with a value, never an exception; error texts name the source and the
// problem (variable, file and line, missing key) and never contain a key, secret or token.
// The providers that talk HTTP borrow an http::Client and must be used from coroutines on one of
// that client's event loops.
// Limitation: assume-role profiles (role_arn/source_profile), credential_process, SSO, web
// identity and IMDSv1 fallback are not supported; a profile that relies on them is reported as
// such rather than resolved.

namespace net = boost::asio;

using CredentialResult = boost::system::result<Credentials, std::string>;

/// Credentials and, for temporary ones, when they stop working.
struct ExpiringCredentials {
  Credentials credentials;
  /// Empty for long-term keys, which never need refreshing.
  std::optional<std::chrono::sys_seconds> expiration;
};

/// Why a provider produced nothing.
struct CredentialError {
  enum class Kind {
    /// The source is simply absent (variable unset, no such profile): a chain tries the next one.
    kNotConfigured,
    /// The source is present but broken (malformed file, half-set variables, endpoint failure):
    /// a chain stops here rather than silently signing as some other identity.
    kFailed,
  };

  Kind kind = Kind::kFailed;
  std::string message;
};

using FetchResult = boost::system::result<ExpiringCredentials, CredentialError>;

/// One source of credentials. Implementations are used from one event loop at a time.
class CredentialProvider {
 public:
  CredentialProvider() = default;
  CredentialProvider(const CredentialProvider&) = delete;
  CredentialProvider& operator=(const CredentialProvider&) = delete;
  virtual ~CredentialProvider() = default;

  /// Credentials to sign with now, or why there are none. Runs on the caller's executor.
  net::awaitable<CredentialResult> Get();

  /// The same with the expiry and the kind of failure, for chains and caches.
  virtual net::awaitable<FetchResult> Fetch() = 0;
};

/// Keys given in the gateway's own configuration.
class StaticCredentialProvider final : public CredentialProvider {
 public:
  /// Empty `credentials` (no access key id) count as "not configured".
  explicit StaticCredentialProvider(Credentials credentials);

  net::awaitable<FetchResult> Fetch() override;

 private:
  Credentials credentials_;
};

/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optional AWS_SESSION_TOKEN, read at each Fetch.
/// Neither key set is "not configured"; only one of them set is a failure.
class EnvironmentCredentialProvider final : public CredentialProvider {
 public:
  net::awaitable<FetchResult> Fetch() override;
};

/// Which file of the shared pair is being parsed: their section headers differ.
enum class SharedFileKind {
  /// `~/.aws/credentials`: `[name]` is the profile `name`.
  kCredentials,
  /// `~/.aws/config`: `[profile name]` is the profile `name`, `[default]` is `default`, and other
  /// sections (`[sso-session x]`, `[services x]`) are not profiles.
  kConfig,
};

/// Profile name -> (lowercase key -> value).
using SharedProfiles = std::map<std::string, std::map<std::string, std::string>>;

/// Parses one shared file. Lines are `[section]`, `key = value`, blank, or comments starting with
/// `#` or `;`; ` #`/` ;` after a value starts a trailing comment; indented lines under a key with
/// an empty value are nested settings and are skipped. Repeated sections merge, later keys win.
/// Errors read `<path>:<line>: <problem>` and never quote the line.
[[nodiscard]] boost::system::result<SharedProfiles, std::string> ParseSharedFile(
    std::string_view text, std::string_view path, SharedFileKind kind);

/// Reads a profile from the shared credentials and config files.
class ProfileCredentialProvider final : public CredentialProvider {
 public:
  struct Options {
    /// Empty: AWS_PROFILE, else `default`.
    std::string profile;
    /// Empty: AWS_SHARED_CREDENTIALS_FILE, else `$HOME/.aws/credentials`.
    std::string credentials_file;
    /// Empty: AWS_CONFIG_FILE, else `$HOME/.aws/config`.
    std::string config_file;
  };

  /// Files and profile are resolved at each Fetch, so later changes to the environment count.
  explicit ProfileCredentialProvider(Options options = {});

  /// Keys come from the credentials file; a key it lacks may come from the same profile in the
  /// config file. A missing `default` profile is "not configured"; a missing profile named
  /// explicitly or through AWS_PROFILE is a failure.
  net::awaitable<FetchResult> Fetch() override;

 private:
  Options options_;
};

/// Settings shared by the two HTTP credential endpoints.
struct EndpointOptions {
  /// Deadline for each HTTP exchange.
  std::chrono::milliseconds timeout{1000};
};

/// EC2 instance metadata, IMDSv2: a session token from `PUT /latest/api/token`, then the role
/// name and the role's credentials, both fetched with that token.
class ImdsCredentialProvider final : public CredentialProvider {
 public:
  /// `endpoint_url` (`http://host:port`) overrides AWS_EC2_METADATA_SERVICE_ENDPOINT, which
  /// overrides `http://169.254.169.254`. `client` is borrowed and must outlive this provider.
  explicit ImdsCredentialProvider(http::Client& client, std::string endpoint_url = {},
                                  EndpointOptions options = {});

  /// AWS_EC2_METADATA_DISABLED=true makes this "not configured"; any other problem is a failure.
  net::awaitable<FetchResult> Fetch() override;

 private:
  http::Client& client_;
  std::string endpoint_url_;
  EndpointOptions options_;
};

/// The ECS/EKS container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or
/// AWS_CONTAINER_CREDENTIALS_FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN (or the contents
/// of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) as the Authorization header when set.
/// Limitation: only http:// is supported, so a FULL_URI must name a loopback host or one of the
/// container credential addresses (169.254.170.2, 169.254.170.23), as the SDKs require for http.
class ContainerCredentialProvider final : public CredentialProvider {
 public:
  /// `client` is borrowed and must outlive this provider.
  explicit ContainerCredentialProvider(http::Client& client, EndpointOptions options = {});

  /// Neither variable set is "not configured".
  net::awaitable<FetchResult> Fetch() override;

 private:
  http::Client& client_;
  EndpointOptions options_;
};

/// Tries providers in order and answers with the first that has credentials. A "not configured"
/// answer moves on; a failure ends the search with that failure.
class ChainCredentialProvider final : public CredentialProvider {
 public:
  explicit ChainCredentialProvider(std::vector<std::unique_ptr<CredentialProvider>> providers);

  /// When every provider is "not configured", the error lists each one's reason.
  net::awaitable<FetchResult> Fetch() override;

 private:
  std::vector<std::unique_ptr<CredentialProvider>> providers_;
};

/// Remembers another provider's credentials and fetches again only when temporary ones come
/// within `refresh_margin` of expiring. Callers that arrive while a refresh is under way wait for
/// it instead of starting their own. If a refresh fails while the old credentials have not yet
/// expired, those are returned. Owns `inner`.
/// Limitation: not thread-safe. Use one instance per event loop (each then refreshes on its own);
/// a failed refresh is retried by the next caller, without backoff.
class CachingCredentialProvider final : public CredentialProvider {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  /// `clock` defaults to the system clock.
  explicit CachingCredentialProvider(std::unique_ptr<CredentialProvider> inner,
                                     std::chrono::seconds refresh_margin = kDefaultRefreshMargin,
                                     Clock clock = {});
  ~CachingCredentialProvider() override;

  net::awaitable<FetchResult> Fetch() override;

  /// How long before expiry the SDKs refresh temporary credentials.
  static constexpr std::chrono::seconds kDefaultRefreshMargin{300};

 private:
  struct Refresh;

  bool Fresh(std::chrono::system_clock::time_point now) const;
  net::awaitable<FetchResult> RunRefresh();

  std::unique_ptr<CredentialProvider> inner_;
  std::chrono::seconds refresh_margin_;
  Clock clock_;
  std::optional<ExpiringCredentials> cached_;
  std::shared_ptr<Refresh> refresh_;  // the refresh under way, if any
};

/// What the default chain needs besides the environment.
struct DefaultChainOptions {
  /// Keys from the gateway's config; used first when set.
  std::optional<Credentials> static_credentials;
  ProfileCredentialProvider::Options profile;
  /// Overrides the IMDS endpoint (tests); see ImdsCredentialProvider.
  std::string imds_endpoint_url;
  EndpointOptions endpoint;
};

/// static -> environment -> shared files -> container -> instance metadata, wrapped in a cache.
/// `client` is borrowed and must outlive the result.
std::unique_ptr<CredentialProvider> MakeDefaultCredentialChain(http::Client& client,
                                                               DefaultChainOptions options = {});

/// Parses an ISO-8601 UTC time such as `2026-12-03T18:25:08Z` (fractional seconds and a `+00:00`
/// offset are accepted and the fraction dropped); nullopt for anything else.
[[nodiscard]] std::optional<std::chrono::sys_seconds> ParseIso8601Utc(std::string_view text);

/// The access key id with every character but the last four replaced by `*` (all of them when it
/// is four characters or shorter), safe for logs. Secret and token are never shown.
std::string Redacted(const Credentials& credentials);

}  // namespace sluice::aws
