#include "aws/sigv4.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace sluice::aws {
namespace {

constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kUpperHexDigits = "0123456789ABCDEF";

// `YYYYMMDD'T'HHMMSS'Z'`.
constexpr std::size_t kAmzDateLength = 16;

// Hex SHA-256 and hex HMAC-SHA256 are both 32 bytes, 64 characters.
constexpr std::size_t kDigestBytes = 32;
constexpr std::size_t kHexDigestLength = 2 * kDigestBytes;

constexpr std::string_view kMismatchMessage =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

// Headers the signer leaves out: hop-by-hop fields a proxy may rewrite, and fields clients and
// middleboxes change between attempts. Mirrors the set the JS SDK skips (research §3.1).
constexpr std::array<std::string_view, 15> kUnsignableHeaders = {
    "authorization", "cache-control",     "connection", "expect",     "from",
    "keep-alive",    "max-forwards",      "pragma",     "referer",    "te",
    "trailer",       "transfer-encoding", "upgrade",    "user-agent", "x-amzn-trace-id",
};

// The signer supplies these itself, so copies in the request are ignored.
constexpr std::array<std::string_view, 3> kSignerOwnedHeaders = {
    "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"};

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

char ToLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ToLower(x) == ToLower(y);
         });
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void AppendPercentEncoded(std::string& out, std::string_view bytes) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
      continue;
    }
    out.push_back('%');
    out.push_back(kUpperHexDigits[c >> 4]);
    out.push_back(kUpperHexDigits[c & 0xF]);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// A `%` not followed by two hex digits is kept literally, so it encodes to `%25` later.
std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
      continue;
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string ToHex(const unsigned char* bytes, std::size_t size) {
  std::string out(2 * size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xF];
  }
  return out;
}

SigningKeyBytes Hmac(std::span<const unsigned char> key, std::string_view data) {
  SigningKeyBytes out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
  return out;
}

// Splits the path into segments and applies RFC 3986 §5.2.4 dot-segment removal, also dropping
// empty segments (`//`), as the AWS suite's *-normalized cases expect.
std::vector<std::string_view> NormalizedSegments(std::string_view path, bool& trailing_slash) {
  std::vector<std::string_view> segments;
  trailing_slash = false;
  std::size_t start = path.starts_with('/') ? 1 : 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    const bool last = end == path.size();
    if (segment == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    trailing_slash = last && (segment.empty() || segment == "." || segment == "..");
    start = end + 1;
  }
  return segments;
}

// Appends the canonical form of one header value: trimmed, whitespace runs collapsed to a space.
void AppendCanonicalValue(std::string& out, std::string_view value) {
  bool pending_space = false;
  bool wrote_any = false;
  for (const char c : value) {
    if (IsSpace(c)) {
      pending_space = wrote_any;
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c);
    wrote_any = true;
  }
}

bool IsUnsignable(std::string_view lower_name) {
  if (lower_name.starts_with("proxy-") || lower_name.starts_with("sec-")) {
    return true;
  }
  return std::find(kUnsignableHeaders.begin(), kUnsignableHeaders.end(), lower_name) !=
         kUnsignableHeaders.end();
}

bool IsSignerOwned(std::string_view lower_name) {
  return std::find(kSignerOwnedHeaders.begin(), kSignerOwnedHeaders.end(), lower_name) !=
         kSignerOwnedHeaders.end();
}

std::string LowerCopy(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ToLower);
  return out;
}

// Returns the value of the first field called `name` (case-insensitive), if any.
std::optional<std::string_view> FindHeader(std::span<const HeaderField> headers,
                                           std::string_view name) {
  for (const auto& [field_name, value] : headers) {
    if (EqualsIgnoreCase(field_name, name)) {
      return value;
    }
  }
  return std::nullopt;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && IsSpace(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

bool AllDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Header-name characters (RFC 9110 tchar) plus `:` for HTTP/2 pseudo-headers.
bool IsNameChar(char c) {
  return IsUnreserved(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+^`|:").find(c) != std::string_view::npos;
}

boost::system::result<void, std::string> ParseCredential(std::string_view text,
                                                         AuthorizationHeader& out) {
  // Exactly four slashes; a fifth would land in the terminator and fail the check below.
  std::array<std::string_view, 5> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::size_t end = i + 1 < parts.size() ? text.find('/', start) : text.size();
    if (end == std::string_view::npos) {
      return "Credential should have exactly 5 slash-separated components: "
             "<access key>/<date>/<region>/<service>/aws4_request.";
    }
    parts[i] = text.substr(start, end - start);
    start = end + 1;
  }
  for (const std::string_view part : parts) {
    if (part.empty()) {
      return "Credential has an empty component.";
    }
  }
  if (parts[1].size() != 8 || !AllDigits(parts[1])) {
    return "Credential date must be YYYYMMDD.";
  }
  if (parts[4] != kTerminator) {
    return "Credential should be scoped with a valid terminator: 'aws4_request'.";
  }
  out.access_key_id = parts[0];
  out.scope = SigningScope{std::string(parts[1]), std::string(parts[2]), std::string(parts[3])};
  return {};
}

boost::system::result<void, std::string> ParseSignedHeaders(std::string_view text,
                                                            AuthorizationHeader& out) {
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(text.find(';', start), text.size());
    const std::string_view name = text.substr(start, end - start);
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return "SignedHeaders must be a non-empty ';'-separated list of header names.";
    }
    out.signed_headers.push_back(name);
    if (end == text.size()) {
      return {};
    }
    start = end + 1;
  }
}

std::string FormatMinutes(std::chrono::seconds skew) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(skew).count();
  return std::to_string(minutes) + " min.";
}

VerifyError Fail(VerifyErrorCode code, std::string message) {
  return VerifyError{code, std::move(message)};
}

boost::system::result<void, VerifyError> CheckDate(std::string_view amz_date,
                                                   const SigningScope& scope,
                                                   std::chrono::sys_seconds now,
                                                   std::chrono::seconds max_skew) {
  const std::optional<std::chrono::sys_seconds> signed_at = ParseAmzDate(amz_date);
  if (!signed_at) {
    return Fail(VerifyErrorCode::kMalformed,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  if (*signed_at < now - max_skew) {
    return Fail(VerifyErrorCode::kExpired,
                "Signature expired: " + std::string(amz_date) + " is now earlier than " +
                    FormatAmzDate(now - max_skew) + " (" + FormatAmzDate(now) + " - " +
                    FormatMinutes(max_skew) + ")");
  }
  if (*signed_at > now + max_skew) {
    return Fail(VerifyErrorCode::kExpired,
                "Signature not yet current: " + std::string(amz_date) + " is still later than " +
                    FormatAmzDate(now + max_skew) + " (" + FormatAmzDate(now) + " + " +
                    FormatMinutes(max_skew) + ")");
  }
  if (amz_date.substr(0, 8) != scope.date) {
    return Fail(VerifyErrorCode::kMismatch,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                "from HTTP: '" +
                    scope.date + "' != '" + std::string(amz_date.substr(0, 8)) + "', from '" +
                    std::string(amz_date) + "'.");
  }
  return {};
}

boost::system::result<void, VerifyError> CheckScope(const SigningScope& scope,
                                                    const VerifyOptions& options) {
  if (!options.region.empty() && scope.region != options.region) {
    return Fail(VerifyErrorCode::kMismatch,
                "Credential should be scoped to a valid region, not '" + scope.region + "'.");
  }
  if (!options.service.empty() && scope.service != options.service) {
    return Fail(VerifyErrorCode::kMismatch, "Credential should be scoped to correct service: '" +
                                                std::string(options.service) + "'.");
  }
  return {};
}

boost::system::result<void, std::string> ParameterFailure(std::string message) {
  return {boost::system::in_place_error, std::move(message)};
}

std::string_view SkipSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  return text;
}

// Which of the three Authorization parameters have been seen so far.
struct SeenParameters {
  bool credential = false;
  bool signed_headers = false;
  bool signature = false;
};

boost::system::result<void, std::string> ParseSignatureValue(std::string_view value,
                                                             AuthorizationHeader& out) {
  const bool hex = std::all_of(value.begin(), value.end(),
                               [](char c) { return kHexDigits.find(c) != std::string_view::npos; });
  if (value.size() != kHexDigestLength || !hex) {
    return ParameterFailure("Signature must be 64 lowercase hexadecimal characters.");
  }
  out.signature = value;
  return {};
}

// Marks `name` as seen; an error if it already was.
boost::system::result<void, std::string> MarkSeen(bool& seen, std::string_view name) {
  if (seen) {
    return ParameterFailure("Authorization header has a repeated '" + std::string(name) +
                            "' parameter.");
  }
  seen = true;
  return {};
}

// Applies one `key=value` part of the Authorization header to `out`.
boost::system::result<void, std::string> ApplyParameter(std::string_view part, SeenParameters& seen,
                                                        AuthorizationHeader& out) {
  const std::size_t equals = part.find('=');
  if (equals == std::string_view::npos) {
    return ParameterFailure("Authorization header requires key=value pairs: '" + std::string(part) +
                            "'.");
  }
  const std::string_view key = part.substr(0, equals);
  const std::string_view value = part.substr(equals + 1);
  if (key == "Credential") {
    auto first = MarkSeen(seen.credential, key);
    return first ? ParseCredential(value, out) : first;
  }
  if (key == "SignedHeaders") {
    auto first = MarkSeen(seen.signed_headers, key);
    return first ? ParseSignedHeaders(value, out) : first;
  }
  if (key == "Signature") {
    auto first = MarkSeen(seen.signature, key);
    return first ? ParseSignatureValue(value, out) : first;
  }
  return ParameterFailure("Authorization header has an unknown parameter '" + std::string(key) +
                          "'.");
}

// One sentence per absent parameter; empty when all three are there.
std::string MissingParameters(const SeenParameters& seen) {
  const std::array<std::pair<bool, std::string_view>, 3> parameters = {{
      {seen.credential, "Credential"},
      {seen.signed_headers, "SignedHeaders"},
      {seen.signature, "Signature"},
  }};
  std::string out;
  for (const auto& [present, name] : parameters) {
    if (present) {
      continue;
    }
    if (!out.empty()) {
      out.push_back(' ');
    }
    out.append("Authorization header requires '").append(name).append("' parameter.");
  }
  return out;
}

boost::system::result<AuthorizationHeader, std::string> ParseFailure(std::string message) {
  return {boost::system::in_place_error, std::move(message)};
}

}  // namespace

std::string HexSha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return ToHex(digest.data(), length);
}

std::string FormatAmzDate(std::chrono::sys_seconds time) {
  const auto day = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{time - day};
  // Room for any int year, so the compiler can prove no truncation.
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%04d%02u%02uT%02d%02d%02dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return {text.data(), kAmzDateLength};
}

std::optional<std::chrono::sys_seconds> ParseAmzDate(std::string_view amz_date) {
  if (amz_date.size() != kAmzDateLength || amz_date[8] != 'T' || amz_date[15] != 'Z' ||
      !AllDigits(amz_date.substr(0, 8)) || !AllDigits(amz_date.substr(9, 6))) {
    return std::nullopt;
  }
  const auto number = [&](std::size_t offset, std::size_t length) {
    int value = 0;
    for (std::size_t i = offset; i < offset + length; ++i) {
      value = value * 10 + (amz_date[i] - '0');
    }
    return value;
  };
  const std::chrono::year_month_day ymd{std::chrono::year{number(0, 4)},
                                        std::chrono::month{static_cast<unsigned>(number(4, 2))},
                                        std::chrono::day{static_cast<unsigned>(number(6, 2))}};
  const int hours = number(9, 2);
  const int minutes = number(11, 2);
  const int seconds = number(13, 2);
  if (!ymd.ok() || hours > 23 || minutes > 59 || seconds > 59) {
    return std::nullopt;
  }
  return std::chrono::sys_days{ymd} + std::chrono::hours{hours} + std::chrono::minutes{minutes} +
         std::chrono::seconds{seconds};
}

std::string CanonicalUri(std::string_view raw_path, bool normalize) {
  std::string out;
  out.reserve(raw_path.size() + raw_path.size() / 2 + 1);
  if (!normalize) {
    // Every byte but `/` is encoded; `/` separates segments and survives as is.
    std::size_t start = 0;
    while (start <= raw_path.size()) {
      const std::size_t end = std::min(raw_path.find('/', start), raw_path.size());
      AppendPercentEncoded(out, raw_path.substr(start, end - start));
      if (end == raw_path.size()) {
        break;
      }
      out.push_back('/');
      start = end + 1;
    }
    return out.empty() ? std::string("/") : out;
  }

  bool trailing_slash = false;
  const std::vector<std::string_view> segments = NormalizedSegments(raw_path, trailing_slash);
  for (const std::string_view segment : segments) {
    out.push_back('/');
    AppendPercentEncoded(out, segment);
  }
  if (segments.empty() || trailing_slash) {
    out.push_back('/');
  }
  return out;
}

std::string CanonicalQuery(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start < raw_query.size()) {
    const std::size_t end = std::min(raw_query.find('&', start), raw_query.size());
    const std::string_view param = raw_query.substr(start, end - start);
    start = end + 1;
    if (param.empty()) {
      continue;
    }
    const std::size_t equals = param.find('=');
    const std::string_view name = param.substr(0, equals);
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view() : param.substr(equals + 1);
    std::pair<std::string, std::string> encoded;
    AppendPercentEncoded(encoded.first, PercentDecode(name));
    AppendPercentEncoded(encoded.second, PercentDecode(value));
    params.push_back(std::move(encoded));
  }

  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string CanonicalRequest(const RequestView& request,
                             std::span<const std::string_view> signed_headers,
                             bool normalize_path) {
  std::string out;
  out.reserve(512);
  out.append(request.method).push_back('\n');
  out.append(CanonicalUri(request.path, normalize_path)).push_back('\n');
  out.append(CanonicalQuery(request.query)).push_back('\n');

  // One line per signed name; repeated fields joined with ',' in the order received.
  for (const std::string_view name : signed_headers) {
    const std::size_t line_start = out.size();
    out.append(name);
    std::transform(out.begin() + static_cast<std::ptrdiff_t>(line_start), out.end(),
                   out.begin() + static_cast<std::ptrdiff_t>(line_start), ToLower);
    out.push_back(':');
    bool first = true;
    for (const auto& [field_name, value] : request.headers) {
      if (!EqualsIgnoreCase(field_name, name)) {
        continue;
      }
      if (!first) {
        out.push_back(',');
      }
      AppendCanonicalValue(out, value);
      first = false;
    }
    out.push_back('\n');
  }
  out.push_back('\n');

  const std::size_t list_start = out.size();
  for (const std::string_view name : signed_headers) {
    if (out.size() != list_start) {
      out.push_back(';');
    }
    out.append(name);
  }
  std::transform(out.begin() + static_cast<std::ptrdiff_t>(list_start), out.end(),
                 out.begin() + static_cast<std::ptrdiff_t>(list_start), ToLower);
  out.push_back('\n');
  out.append(request.payload_hash);
  return out;
}

std::string CredentialScope(const SigningScope& scope) {
  std::string out;
  out.reserve(scope.date.size() + scope.region.size() + scope.service.size() + 16);
  out.append(scope.date).append("/").append(scope.region).append("/").append(scope.service);
  out.append("/").append(kTerminator);
  return out;
}

std::string StringToSign(std::string_view amz_date, const SigningScope& scope,
                         std::string_view canonical_request) {
  std::string out(kSigV4Algorithm);
  out.push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(CredentialScope(scope)).push_back('\n');
  out.append(HexSha256(canonical_request));
  return out;
}

SigningKeyBytes SigningKey(std::string_view secret_access_key, const SigningScope& scope) {
  std::string seed = "AWS4";
  seed.append(secret_access_key);
  const auto* seed_bytes = reinterpret_cast<const unsigned char*>(seed.data());
  SigningKeyBytes key = Hmac({seed_bytes, seed.size()}, scope.date);
  OPENSSL_cleanse(seed.data(), seed.size());
  key = Hmac(key, scope.region);
  key = Hmac(key, scope.service);
  return Hmac(key, kTerminator);
}

std::string Signature(const SigningKeyBytes& key, std::string_view string_to_sign) {
  const SigningKeyBytes mac = Hmac(key, string_to_sign);
  return ToHex(mac.data(), mac.size());
}

boost::system::result<AuthorizationHeader, std::string> ParseAuthorization(
    std::string_view header) {
  if (!header.starts_with(kSigV4Algorithm) || header.size() == kSigV4Algorithm.size() ||
      header[kSigV4Algorithm.size()] != ' ') {
    return ParseFailure("Unsupported Authorization Type; expected AWS4-HMAC-SHA256.");
  }
  std::string_view rest = SkipSpaces(header.substr(kSigV4Algorithm.size()));

  AuthorizationHeader out;
  SeenParameters seen;
  while (!rest.empty()) {
    const std::size_t comma = std::min(rest.find(','), rest.size());
    const std::string_view part = rest.substr(0, comma);
    rest.remove_prefix(comma);
    if (!rest.empty()) {
      // Skip the comma and the optional spaces after it; a trailing comma is an error.
      rest = SkipSpaces(rest.substr(1));
      if (rest.empty()) {
        return ParseFailure("Authorization header ends with a comma.");
      }
    }
    if (auto applied = ApplyParameter(part, seen, out); !applied) {
      return ParseFailure(std::move(applied.error()));
    }
  }

  if (std::string missing = MissingParameters(seen); !missing.empty()) {
    return ParseFailure(std::move(missing));
  }
  return out;
}

SignedRequest SignRequest(const RequestView& request, const Credentials& credentials,
                          std::string_view region, std::string_view service,
                          std::chrono::sys_seconds now, const SignOptions& options) {
  SignedRequest out;
  const std::string amz_date = FormatAmzDate(now);
  const SigningScope scope{amz_date.substr(0, 8), std::string(region), std::string(service)};
  out.headers_to_add.emplace_back("x-amz-date", amz_date);
  if (options.add_content_sha256) {
    out.headers_to_add.emplace_back("x-amz-content-sha256", std::string(request.payload_hash));
  }
  const bool sign_token = !credentials.session_token.empty() && !options.omit_session_token;
  if (sign_token) {
    out.headers_to_add.emplace_back("x-amz-security-token", credentials.session_token);
  }

  // The fields that take part: the request's signable ones plus those added above.
  std::vector<HeaderField> fields;
  std::vector<std::string> names;
  fields.reserve(request.headers.size() + out.headers_to_add.size());
  for (const auto& [name, value] : request.headers) {
    std::string lower = LowerCopy(name);
    if (IsUnsignable(lower) || IsSignerOwned(lower) ||
        (lower.starts_with(':') && lower != ":authority")) {
      continue;
    }
    fields.emplace_back(name, value);
    names.push_back(std::move(lower));
  }
  for (const auto& [name, value] : out.headers_to_add) {
    fields.emplace_back(name, value);
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const std::vector<std::string_view> signed_names(names.begin(), names.end());

  RequestView signable = request;
  signable.headers = fields;
  out.canonical_request = CanonicalRequest(signable, signed_names, options.normalize_path);
  out.string_to_sign = StringToSign(amz_date, scope, out.canonical_request);
  out.signature = Signature(SigningKey(credentials.secret_access_key, scope), out.string_to_sign);

  std::string authorization(kSigV4Algorithm);
  authorization.append(" Credential=").append(credentials.access_key_id).append("/");
  authorization.append(CredentialScope(scope)).append(", SignedHeaders=");
  for (std::size_t i = 0; i < names.size(); ++i) {
    authorization.append(i == 0 ? "" : ";").append(names[i]);
  }
  authorization.append(", Signature=").append(out.signature);
  if (!sign_token && !credentials.session_token.empty()) {
    out.headers_to_add.emplace_back("x-amz-security-token", credentials.session_token);
  }
  out.headers_to_add.emplace_back("authorization", std::move(authorization));
  return out;
}

boost::system::result<AuthorizationHeader, VerifyError> ParseRequestAuthorization(
    const RequestView& request) {
  const std::optional<std::string_view> header = FindHeader(request.headers, "authorization");
  if (!header) {
    return Fail(VerifyErrorCode::kMissing, "Missing Authentication Token");
  }
  auto parsed = ParseAuthorization(Trim(*header));
  if (!parsed) {
    return Fail(VerifyErrorCode::kMalformed, std::move(parsed.error()));
  }
  return std::move(*parsed);
}

boost::system::result<void, VerifyError> VerifyRequest(const RequestView& request,
                                                       const AuthorizationHeader& authorization,
                                                       std::string_view secret_access_key,
                                                       std::chrono::sys_seconds now,
                                                       const VerifyOptions& options) {
  const std::optional<std::string_view> amz_date = FindHeader(request.headers, "x-amz-date");
  if (!amz_date) {
    return Fail(VerifyErrorCode::kMissing,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                "header.");
  }
  const std::string_view date = Trim(*amz_date);
  if (auto checked = CheckDate(date, authorization.scope, now, options.max_skew); !checked) {
    return checked;
  }
  if (auto checked = CheckScope(authorization.scope, options); !checked) {
    return checked;
  }
  // An unsigned host would let a signature made for one endpoint be replayed against another.
  const auto& names = authorization.signed_headers;
  const bool host_signed = std::any_of(names.begin(), names.end(), [](std::string_view name) {
    return EqualsIgnoreCase(name, "host") || name == ":authority";
  });
  if (!host_signed) {
    return Fail(VerifyErrorCode::kMalformed,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  // Without this check a client could sign one body and send another: the canonical request
  // ends with the header's value, not with what arrived (research §3.3).
  const std::optional<std::string_view> content_hash =
      FindHeader(request.headers, "x-amz-content-sha256");
  if (content_hash && Trim(*content_hash) != request.payload_hash) {
    return Fail(VerifyErrorCode::kContentHashMismatch,
                "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  const std::string canonical =
      CanonicalRequest(request, authorization.signed_headers, options.normalize_path);
  const std::string string_to_sign = StringToSign(date, authorization.scope, canonical);
  const std::string expected =
      Signature(SigningKey(secret_access_key, authorization.scope), string_to_sign);
  if (expected.size() != authorization.signature.size() ||
      CRYPTO_memcmp(expected.data(), authorization.signature.data(), expected.size()) != 0) {
    return Fail(VerifyErrorCode::kMismatch, std::string(kMismatchMessage));
  }
  return {};
}

}  // namespace sluice::aws
