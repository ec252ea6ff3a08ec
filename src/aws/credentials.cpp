#include "aws/credentials.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

namespace sluice::aws {

namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;

using HeaderList = std::vector<std::pair<std::string_view, std::string_view>>;

// Documented IMDS address and paths (EC2 user guide, "Retrieve instance metadata").
constexpr std::string_view kDefaultImdsUrl = "http://169.254.169.254";
constexpr std::string_view kImdsTokenPath = "/latest/api/token";
constexpr std::string_view kImdsRolePath = "/latest/meta-data/iam/security-credentials/";
constexpr std::string_view kImdsTokenHeader = "X-aws-ec2-metadata-token";
constexpr std::string_view kImdsTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
// Six hours, the largest TTL IMDS grants; the token is used for two requests and dropped.
constexpr std::string_view kImdsTokenTtlSeconds = "21600";

// The ECS task metadata address a relative container URI is resolved against.
constexpr std::string_view kContainerHost = "http://169.254.170.2";

FetchResult NotConfigured(std::string message) {
  return {boost::system::in_place_error, CredentialError::Kind::kNotConfigured, std::move(message)};
}

FetchResult Failed(std::string message) {
  return {boost::system::in_place_error, CredentialError::Kind::kFailed, std::move(message)};
}

// An unset and an empty variable mean the same thing to the SDKs.
std::optional<std::string> GetEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

std::string_view Trim(std::string_view text) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::string Lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string LineError(std::string_view path, std::size_t line, std::string_view problem) {
  return std::string(path) + ":" + std::to_string(line) + ": " + std::string(problem);
}

// Cuts a trailing ` #...` or ` ;...` comment off a value.
std::string_view StripTrailingComment(std::string_view value) {
  for (std::size_t i = 1; i < value.size(); ++i) {
    const bool marker = value[i] == '#' || value[i] == ';';
    if (marker && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
      return Trim(value.substr(0, i));
    }
  }
  return value;
}

// The profile a section header names, or nullopt when the section is not a profile.
std::optional<std::string> ProfileOfSection(std::string_view name, SharedFileKind kind) {
  if (kind == SharedFileKind::kCredentials || name == "default") {
    return std::string(name);
  }
  constexpr std::string_view kPrefix = "profile";
  if (name.size() <= kPrefix.size() || name.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  const char separator = name[kPrefix.size()];
  if (separator != ' ' && separator != '\t') {
    return std::nullopt;
  }
  return std::string(Trim(name.substr(kPrefix.size())));
}

std::string ExpandHome(std::string path) {
  if (path.size() >= 2 && path[0] == '~' && path[1] == '/') {
    if (auto home = GetEnv("HOME")) {
      return *home + path.substr(1);
    }
  }
  return path;
}

// Explicit option, else the variable, else `$HOME/.aws/<name>`.
std::string ResolvePath(const std::string& option, const char* variable, std::string_view name) {
  if (!option.empty()) {
    return ExpandHome(option);
  }
  if (auto value = GetEnv(variable)) {
    return ExpandHome(*value);
  }
  return GetEnv("HOME").value_or("") + "/.aws/" + std::string(name);
}

// nullopt when the file does not exist; an error when it exists but cannot be read.
boost::system::result<std::optional<std::string>, std::string> ReadOptionalFile(
    const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return std::optional<std::string>();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {boost::system::in_place_error, path + ": cannot be read"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return std::optional<std::string>(text.str());
}

// Loads one shared file's profiles; a missing file has none.
boost::system::result<std::optional<SharedProfiles>, std::string> LoadSharedFile(
    const std::string& path, SharedFileKind kind) {
  auto text = ReadOptionalFile(path);
  if (!text) {
    return {boost::system::in_place_error, text.error()};
  }
  if (!text->has_value()) {
    return std::optional<SharedProfiles>();
  }
  auto profiles = ParseSharedFile(**text, path, kind);
  if (!profiles) {
    return {boost::system::in_place_error, profiles.error()};
  }
  return std::optional<SharedProfiles>(std::move(*profiles));
}

// Names the first setting that needs a resolver this module lacks.
std::optional<std::string_view> UnsupportedSetting(
    const std::map<std::string, std::string>& settings) {
  constexpr std::array<std::string_view, 5> kUnsupported = {
      "role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"};
  for (std::string_view key : kUnsupported) {
    if (settings.contains(std::string(key))) {
      return key;
    }
  }
  return std::nullopt;
}

// Turns a merged profile into credentials, naming what is missing without showing any value.
FetchResult CredentialsFromProfile(const std::string& profile,
                                   const std::map<std::string, std::string>& settings) {
  const auto find = [&](const char* key) -> std::string {
    auto it = settings.find(key);
    return it == settings.end() ? std::string() : it->second;
  };
  Credentials credentials{find("aws_access_key_id"), find("aws_secret_access_key"),
                          find("aws_session_token")};
  const std::string prefix = "shared files: profile `" + profile + "` ";

  if (credentials.access_key_id.empty() && credentials.secret_access_key.empty()) {
    if (auto setting = UnsupportedSetting(settings)) {
      return Failed(prefix + "uses " + std::string(*setting) + ", which sluice does not support");
    }
    return NotConfigured(prefix + "has no aws_access_key_id");
  }
  if (credentials.access_key_id.empty()) {
    return Failed(prefix + "has aws_secret_access_key but no aws_access_key_id");
  }
  if (credentials.secret_access_key.empty()) {
    return Failed(prefix + "has aws_access_key_id but no aws_secret_access_key");
  }
  return ExpiringCredentials{std::move(credentials), std::nullopt};
}

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};

// One exchange with a credential endpoint. The error names the endpoint and the transport
// problem; callers add what they asked for, since a target may carry a secret in its query.
net::awaitable<boost::system::result<HttpAnswer, std::string>> Ask(
    http::Client& client, const http::Endpoint& endpoint, bhttp::verb method,
    std::string_view target, const HeaderList& headers, std::chrono::milliseconds timeout) {
  http::OutgoingRequest request;
  request.method = method;
  request.target = target;
  request.headers = headers;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto response = co_await client.Send(endpoint, request, deadline);

  if (!response) {
    co_return boost::system::result<HttpAnswer, std::string>(
        boost::system::in_place_error,
        std::string(http::ClientErrorText(response.error())) + " (" + endpoint.authority() + ")");
  }
  co_return HttpAnswer{response->result_int(), std::move(response->body())};
}

std::string StatusError(std::string_view method, std::string_view target, unsigned status) {
  return std::string(method) + " " + std::string(target) + " answered " + std::to_string(status);
}

std::string StringField(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return {};
  }
  return std::string(value->as_string());
}

// The JSON document both IMDS and the container endpoint serve. Errors never quote the body.
boost::system::result<ExpiringCredentials, std::string> ParseCredentialDocument(
    std::string_view body) {
  boost::system::error_code error;
  json::value document = json::parse(body, error);
  if (error || !document.is_object()) {
    return {boost::system::in_place_error, "the credentials response is not a JSON object"};
  }
  const json::object& object = document.as_object();
  const std::string code = StringField(object, "Code");
  if (!code.empty() && code != "Success") {
    return {boost::system::in_place_error, "the credentials response has Code " + code};
  }

  ExpiringCredentials out;
  out.credentials.access_key_id = StringField(object, "AccessKeyId");
  out.credentials.secret_access_key = StringField(object, "SecretAccessKey");
  out.credentials.session_token = StringField(object, "Token");
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty()) {
    return {boost::system::in_place_error,
            "the credentials response lacks AccessKeyId or SecretAccessKey"};
  }
  const std::string expiration = StringField(object, "Expiration");
  if (!expiration.empty()) {
    out.expiration = ParseIso8601Utc(expiration);
    if (!out.expiration) {
      return {boost::system::in_place_error,
              "the credentials response has an Expiration that is not ISO-8601 UTC"};
    }
  }
  return out;
}

bool IsAllowedContainerHost(std::string_view host) {
  const bool loopback_v4 = host.substr(0, 4) == "127.";
  return loopback_v4 || host == "localhost" || host == "::1" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "fd00:ec2::23";
}

// Parses a run of exactly `width` digits at `text[at]`.
std::optional<int> Digits(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return std::nullopt;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

net::awaitable<CredentialResult> CredentialProvider::Get() {
  FetchResult result = co_await Fetch();
  if (!result) {
    co_return CredentialResult(boost::system::in_place_error, std::move(result.error().message));
  }
  co_return std::move(result->credentials);
}

StaticCredentialProvider::StaticCredentialProvider(Credentials credentials)
    : credentials_(std::move(credentials)) {}

net::awaitable<FetchResult> StaticCredentialProvider::Fetch() {
  if (credentials_.access_key_id.empty()) {
    co_return NotConfigured("static: no access key id configured");
  }
  if (credentials_.secret_access_key.empty()) {
    co_return Failed("static: an access key id is configured without a secret access key");
  }
  co_return ExpiringCredentials{credentials_, std::nullopt};
}

net::awaitable<FetchResult> EnvironmentCredentialProvider::Fetch() {
  auto access_key_id = GetEnv("AWS_ACCESS_KEY_ID");
  auto secret_access_key = GetEnv("AWS_SECRET_ACCESS_KEY");
  if (!access_key_id && !secret_access_key) {
    co_return NotConfigured("environment: AWS_ACCESS_KEY_ID is not set");
  }
  if (!access_key_id) {
    co_return Failed("environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  }
  if (!secret_access_key) {
    co_return Failed("environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }

  Credentials credentials{std::move(*access_key_id), std::move(*secret_access_key),
                          GetEnv("AWS_SESSION_TOKEN").value_or("")};
  co_return ExpiringCredentials{std::move(credentials), std::nullopt};
}

boost::system::result<SharedProfiles, std::string> ParseSharedFile(std::string_view text,
                                                                   std::string_view path,
                                                                   SharedFileKind kind) {
  SharedProfiles profiles;
  std::map<std::string, std::string>* section = nullptr;
  bool in_section = false;
  bool after_setting = false;  // nested (indented) lines may follow a setting
  std::size_t line_number = 0;

  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view raw = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++line_number;

    const std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    const bool indented = raw.front() == ' ' || raw.front() == '\t';
    if (indented && after_setting) {
      continue;
    }

    if (line.front() == '[') {
      const std::size_t close = line.find(']');
      if (close == std::string_view::npos) {
        return {boost::system::in_place_error, LineError(path, line_number, "unclosed [section]")};
      }
      const std::string_view rest = Trim(line.substr(close + 1));
      if (!rest.empty() && rest.front() != '#' && rest.front() != ';') {
        return {boost::system::in_place_error,
                LineError(path, line_number, "unexpected text after [section]")};
      }
      const std::string_view name = Trim(line.substr(1, close - 1));
      if (name.empty()) {
        return {boost::system::in_place_error, LineError(path, line_number, "empty section name")};
      }
      auto profile = ProfileOfSection(name, kind);
      if (profile && profile->empty()) {
        return {boost::system::in_place_error,
                LineError(path, line_number, "[profile] without a name")};
      }
      section = profile ? &profiles[*profile] : nullptr;
      in_section = true;
      after_setting = false;
      continue;
    }

    if (!in_section) {
      return {boost::system::in_place_error,
              LineError(path, line_number, "a setting before any [section]")};
    }
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return {boost::system::in_place_error,
              LineError(path, line_number, "expected `key = value`")};
    }
    const std::string_view key = Trim(line.substr(0, equals));
    if (key.empty()) {
      return {boost::system::in_place_error,
              LineError(path, line_number, "a setting without a name")};
    }
    if (section != nullptr) {
      (*section)[Lowercase(key)] = std::string(StripTrailingComment(Trim(line.substr(equals + 1))));
    }
    after_setting = true;
  }
  return profiles;
}

ProfileCredentialProvider::ProfileCredentialProvider(Options options)
    : options_(std::move(options)) {}

net::awaitable<FetchResult> ProfileCredentialProvider::Fetch() {
  std::string profile = options_.profile;
  bool explicit_profile = !profile.empty();
  if (profile.empty()) {
    auto from_env = GetEnv("AWS_PROFILE");
    explicit_profile = from_env.has_value();
    profile = from_env.value_or("default");
  }
  const std::string credentials_path =
      ResolvePath(options_.credentials_file, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const std::string config_path = ResolvePath(options_.config_file, "AWS_CONFIG_FILE", "config");

  auto credentials_file = LoadSharedFile(credentials_path, SharedFileKind::kCredentials);
  if (!credentials_file) {
    co_return Failed("shared files: " + credentials_file.error());
  }
  auto config_file = LoadSharedFile(config_path, SharedFileKind::kConfig);
  if (!config_file) {
    co_return Failed("shared files: " + config_file.error());
  }

  // Config settings first, so the credentials file wins where both set a key.
  std::map<std::string, std::string> settings;
  bool found = false;
  for (const auto* file : {&*config_file, &*credentials_file}) {
    if (!file->has_value()) {
      continue;
    }
    auto it = (*file)->find(profile);
    if (it != (*file)->end()) {
      found = true;
      for (const auto& [key, value] : it->second) {
        settings[key] = value;
      }
    }
  }

  if (!found) {
    std::string message = "shared files: profile `" + profile + "` is in neither " +
                          credentials_path + " nor " + config_path;
    co_return explicit_profile ? Failed(std::move(message)) : NotConfigured(std::move(message));
  }
  co_return CredentialsFromProfile(profile, settings);
}

ImdsCredentialProvider::ImdsCredentialProvider(http::Client& client, std::string endpoint_url,
                                               EndpointOptions options)
    : client_(client), endpoint_url_(std::move(endpoint_url)), options_(options) {}

net::awaitable<FetchResult> ImdsCredentialProvider::Fetch() {
  if (Lowercase(GetEnv("AWS_EC2_METADATA_DISABLED").value_or("")) == "true") {
    co_return NotConfigured("instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
  }
  std::string url = endpoint_url_;
  if (url.empty()) {
    url = GetEnv("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kDefaultImdsUrl));
  }
  auto endpoint = http::Endpoint::Parse(url);
  if (!endpoint) {
    co_return Failed("instance metadata: endpoint " + url + ": " + endpoint.error());
  }

  // Step 1: a session token, without which IMDSv2 answers nothing.
  const HeaderList ttl_headers = {{kImdsTtlHeader, kImdsTokenTtlSeconds}};
  auto token = co_await Ask(client_, *endpoint, bhttp::verb::put, kImdsTokenPath, ttl_headers,
                            options_.timeout);
  if (!token) {
    co_return Failed("instance metadata: PUT " + std::string(kImdsTokenPath) + ": " +
                     token.error());
  }
  if (token->status != 200 || token->body.empty()) {
    co_return Failed("instance metadata: " + StatusError("PUT", kImdsTokenPath, token->status));
  }
  const HeaderList token_headers = {{kImdsTokenHeader, token->body}};

  // Step 2: the instance profile's role name (the first line of the listing).
  auto roles = co_await Ask(client_, *endpoint, bhttp::verb::get, kImdsRolePath, token_headers,
                            options_.timeout);
  if (!roles) {
    co_return Failed("instance metadata: GET " + std::string(kImdsRolePath) + ": " + roles.error());
  }
  if (roles->status != 200) {
    co_return Failed("instance metadata: " + StatusError("GET", kImdsRolePath, roles->status));
  }
  const std::string role(Trim(std::string_view(roles->body).substr(0, roles->body.find('\n'))));
  if (role.empty()) {
    co_return Failed("instance metadata: the instance has no IAM role");
  }

  // Step 3: the role's temporary credentials.
  const std::string role_path = std::string(kImdsRolePath) + role;
  auto document = co_await Ask(client_, *endpoint, bhttp::verb::get, role_path, token_headers,
                               options_.timeout);
  if (!document) {
    co_return Failed("instance metadata: GET " + role_path + ": " + document.error());
  }
  if (document->status != 200) {
    co_return Failed("instance metadata: " + StatusError("GET", role_path, document->status));
  }
  auto parsed = ParseCredentialDocument(document->body);
  if (!parsed) {
    co_return Failed("instance metadata: " + parsed.error());
  }
  co_return std::move(*parsed);
}

ContainerCredentialProvider::ContainerCredentialProvider(http::Client& client,
                                                         EndpointOptions options)
    : client_(client), options_(options) {}

net::awaitable<FetchResult> ContainerCredentialProvider::Fetch() {
  std::string url;
  if (auto relative = GetEnv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = std::string(kContainerHost) + *relative;
  } else if (auto full = GetEnv("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
  } else {
    co_return NotConfigured("container endpoint: AWS_CONTAINER_CREDENTIALS_*_URI is not set");
  }

  // The URI itself may carry a query with a secret, so errors name the variable, not the URI.
  auto parsed = boost::urls::parse_uri(url);
  auto endpoint = http::Endpoint::Parse(url);
  if (!parsed || !endpoint) {
    co_return Failed("container endpoint: the credentials URI is not an http:// URL");
  }
  if (!IsAllowedContainerHost(endpoint->host)) {
    co_return Failed("container endpoint: host " + endpoint->host +
                     " is neither loopback nor a container credential address");
  }
  std::string target(parsed->encoded_path());
  if (target.empty()) {
    target = "/";
  }
  if (parsed->has_query()) {
    target += "?" + std::string(parsed->encoded_query());
  }

  std::string authorization = GetEnv("AWS_CONTAINER_AUTHORIZATION_TOKEN").value_or("");
  if (auto token_file = GetEnv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    auto text = ReadOptionalFile(*token_file);
    if (!text || !text->has_value()) {
      co_return Failed("container endpoint: " + *token_file + " cannot be read");
    }
    authorization = std::string(Trim(**text));
  }
  HeaderList headers;
  if (!authorization.empty()) {
    headers.emplace_back("Authorization", authorization);
  }

  auto answer =
      co_await Ask(client_, *endpoint, bhttp::verb::get, target, headers, options_.timeout);
  if (!answer) {
    co_return Failed("container endpoint: request failed: " + answer.error());
  }
  if (answer->status != 200) {
    co_return Failed("container endpoint: answered " + std::to_string(answer->status));
  }
  auto document = ParseCredentialDocument(answer->body);
  if (!document) {
    co_return Failed("container endpoint: " + document.error());
  }
  co_return std::move(*document);
}

ChainCredentialProvider::ChainCredentialProvider(
    std::vector<std::unique_ptr<CredentialProvider>> providers)
    : providers_(std::move(providers)) {}

net::awaitable<FetchResult> ChainCredentialProvider::Fetch() {
  std::string reasons;
  for (const auto& provider : providers_) {
    FetchResult result = co_await provider->Fetch();
    if (result || result.error().kind == CredentialError::Kind::kFailed) {
      co_return result;
    }
    reasons += (reasons.empty() ? "" : "; ") + result.error().message;
  }
  co_return NotConfigured("no credentials found: " + reasons);
}

// One refresh under way. Waiters park on `done`, which never expires on its own: the refresher
// cancels it once `outcome` is set, which wakes them all.
struct CachingCredentialProvider::Refresh {
  explicit Refresh(const net::any_io_executor& executor)
      : done(executor, net::steady_timer::time_point::max()) {}

  net::steady_timer done;
  std::optional<FetchResult> outcome;
};

CachingCredentialProvider::CachingCredentialProvider(std::unique_ptr<CredentialProvider> inner,
                                                     std::chrono::seconds refresh_margin,
                                                     Clock clock)
    : inner_(std::move(inner)), refresh_margin_(refresh_margin), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] {
      return std::chrono::system_clock::now();
    };
  }
}

CachingCredentialProvider::~CachingCredentialProvider() = default;

bool CachingCredentialProvider::Fresh(std::chrono::system_clock::time_point now) const {
  if (!cached_) {
    return false;
  }
  return !cached_->expiration || now + refresh_margin_ < *cached_->expiration;
}

net::awaitable<FetchResult> CachingCredentialProvider::Fetch() {
  if (Fresh(clock_())) {
    co_return *cached_;
  }
  if (refresh_ != nullptr) {
    std::shared_ptr<Refresh> refresh = refresh_;
    co_await refresh->done.async_wait(net::as_tuple(net::use_awaitable));
    if (!refresh->outcome) {
      co_return Failed("credential refresh ended without an answer");
    }
    co_return *refresh->outcome;
  }
  co_return co_await RunRefresh();
}

net::awaitable<FetchResult> CachingCredentialProvider::RunRefresh() {
  auto refresh = std::make_shared<Refresh>(co_await net::this_coro::executor);
  refresh_ = refresh;

  // Wakes the waiters however this coroutine ends, even by an exception.
  struct Release {
    CachingCredentialProvider& owner;
    Refresh& refresh;

    ~Release() {
      owner.refresh_.reset();
      refresh.done.cancel();
    }
  } release{*this, *refresh};

  FetchResult result = co_await inner_->Fetch();
  if (result) {
    cached_ = *result;
  } else if (cached_ && cached_->expiration && clock_() < *cached_->expiration) {
    // Still valid for a while: better to sign with it than to fail the request.
    result = *cached_;
  }
  refresh->outcome = result;
  co_return result;
}

std::unique_ptr<CredentialProvider> MakeDefaultCredentialChain(http::Client& client,
                                                               DefaultChainOptions options) {
  std::vector<std::unique_ptr<CredentialProvider>> providers;
  if (options.static_credentials) {
    providers.push_back(
        std::make_unique<StaticCredentialProvider>(std::move(*options.static_credentials)));
  }
  providers.push_back(std::make_unique<EnvironmentCredentialProvider>());
  providers.push_back(std::make_unique<ProfileCredentialProvider>(std::move(options.profile)));
  providers.push_back(std::make_unique<ContainerCredentialProvider>(client, options.endpoint));
  providers.push_back(std::make_unique<ImdsCredentialProvider>(
      client, std::move(options.imds_endpoint_url), options.endpoint));
  return std::make_unique<CachingCredentialProvider>(
      std::make_unique<ChainCredentialProvider>(std::move(providers)));
}

std::optional<std::chrono::sys_seconds> ParseIso8601Utc(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS at fixed offsets.
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T') ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  auto year = Digits(text, 0, 4);
  auto month = Digits(text, 5, 2);
  auto day = Digits(text, 8, 2);
  auto hour = Digits(text, 11, 2);
  auto minute = Digits(text, 14, 2);
  auto second = Digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *hour > 23 || *minute > 59 ||
      *second > 59) {
    return std::nullopt;
  }

  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    const std::size_t digits = rest.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string_view::npos) {
      return std::nullopt;
    }
    rest.remove_prefix(digits);
  }
  if (rest != "Z" && rest != "+00:00") {
    return std::nullopt;
  }

  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) {
    return std::nullopt;
  }
  return std::chrono::sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
         std::chrono::seconds(*second);
}

std::string Redacted(const Credentials& credentials) {
  const std::string& id = credentials.access_key_id;
  constexpr std::size_t kShown = 4;
  if (id.size() <= kShown) {
    return std::string(id.size(), '*');
  }
  return std::string(id.size() - kShown, '*') + id.substr(id.size() - kShown);
}

}  // namespace sluice::aws
