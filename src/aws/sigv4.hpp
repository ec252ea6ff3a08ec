#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

namespace sluice::aws {

// AWS Signature Version 4 (header form, AWS4-HMAC-SHA256): one implementation used both to sign
// requests the gateway sends to Bedrock and to verify requests clients send to the gateway.
// Everything here is pure computation (no I/O, no clocks read: callers pass `now`), reentrant and
// safe to call from any thread. Bad input is reported as a value, never thrown.
// Limitation: only the Authorization-header form is supported; presigned query strings
// (X-Amz-Signature in the URL), the `Date` header in place of `x-amz-date`, chunked
// (STREAMING-*) payloads and SigV4a are not.

/// One header field: name as received (any case), raw value. Both are borrowed.
using HeaderField = std::pair<std::string_view, std::string_view>;

/// A header field the signer wants added to the request (lowercase name, value).
using OwnedHeaderField = std::pair<std::string, std::string>;

/// Long-term or temporary AWS credentials. `session_token` is empty for long-term keys.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

/// The credential scope: `<date>/<region>/<service>/aws4_request`.
struct SigningScope {
  /// UTC day of the request, `YYYYMMDD`.
  std::string date;
  std::string region;
  std::string service;

  bool operator==(const SigningScope&) const = default;
};

/// A request as seen on the wire. Every member is borrowed and must outlive the call it is passed
/// to. `path` is the raw request-target path, still percent-encoded (never decoded); `query` is
/// the raw query string without the `?`. Over HTTP/2 the caller includes `:authority` among the
/// headers. `payload_hash` is the lowercase hex SHA-256 of the body.
struct RequestView {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  std::span<const HeaderField> headers;
  std::string_view payload_hash;
};

/// The only algorithm this module speaks.
inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";

/// Hex SHA-256 of the empty string, the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Lowercase hex SHA-256 of `data` (64 characters).
std::string HexSha256(std::string_view data);

/// Formats `time` as an `x-amz-date` value, `YYYYMMDD'T'HHMMSS'Z'`.
std::string FormatAmzDate(std::chrono::sys_seconds time);

/// Parses an `x-amz-date` value; nullopt unless it is exactly `YYYYMMDD'T'HHMMSS'Z'` and a valid
/// UTC time.
std::optional<std::chrono::sys_seconds> ParseAmzDate(std::string_view amz_date);

/// The canonical URI for every service except S3. With `normalize`, empty, `.` and `..` segments
/// are removed (a trailing slash is kept); then each segment is percent-encoded again, so that
/// everything outside `A-Za-z0-9-_.~` becomes `%XX` (`%3A` on the wire becomes `%253A`). An empty
/// path is `/`.
std::string CanonicalUri(std::string_view raw_path, bool normalize = true);

/// The canonical query string: parameters percent-decoded, re-encoded with the unreserved set,
/// sorted by name then value, a missing value written as `name=`. Empty for an empty query.
std::string CanonicalQuery(std::string_view raw_query);

/// The canonical request (six lines joined by `\n`) over exactly `signed_headers`, in the order
/// given. Names are matched case-insensitively against `request.headers`; values are trimmed,
/// inner whitespace runs collapsed to one space, and repeated fields joined with `,`. A signed
/// name absent from the request contributes an empty value (so its signature will not match).
std::string CanonicalRequest(const RequestView& request,
                             std::span<const std::string_view> signed_headers,
                             bool normalize_path = true);

/// `<date>/<region>/<service>/aws4_request`.
std::string CredentialScope(const SigningScope& scope);

/// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex SHA-256 of canonical_request>`.
std::string StringToSign(std::string_view amz_date, const SigningScope& scope,
                         std::string_view canonical_request);

/// The derived key: HMAC chain over the date, region, service and `aws4_request`.
using SigningKeyBytes = std::array<unsigned char, 32>;
SigningKeyBytes SigningKey(std::string_view secret_access_key, const SigningScope& scope);

/// Lowercase hex HMAC-SHA256 of `string_to_sign` under `key` (64 characters).
std::string Signature(const SigningKeyBytes& key, std::string_view string_to_sign);

/// A parsed `Authorization` header. The views borrow from the header text passed to
/// ParseAuthorization, which must outlive this value.
struct AuthorizationHeader {
  std::string_view access_key_id;
  SigningScope scope;
  std::vector<std::string_view> signed_headers;
  std::string_view signature;
};

/// Parses `AWS4-HMAC-SHA256 Credential=<akid>/<date>/<region>/<service>/aws4_request,
/// SignedHeaders=<a;b;c>, Signature=<64 lowercase hex>`. Spaces after the commas are optional;
/// anything else out of shape (other algorithm, a part missing or repeated, an empty
/// SignedHeaders entry, a short signature) is an error whose text says what is wrong.
boost::system::result<AuthorizationHeader, std::string> ParseAuthorization(std::string_view header);

/// How SignRequest builds the signature.
struct SignOptions {
  /// Normalise `.`/`..`/empty path segments in the canonical URI (true for every service but S3).
  bool normalize_path = true;
  /// Add and sign `x-amz-content-sha256` (the payload hash). Harmless for Bedrock.
  bool add_content_sha256 = false;
  /// Add `x-amz-security-token` after signing instead of signing it (a few services want this).
  bool omit_session_token = false;
};

/// The outcome of signing: what to add to the request, and the intermediate strings for logs
/// and tests.
struct SignedRequest {
  /// In this order: x-amz-date, x-amz-content-sha256 (if asked), x-amz-security-token (if the
  /// credentials carry one), authorization. Names are lowercase.
  std::vector<OwnedHeaderField> headers_to_add;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

/// Signs an outgoing request at time `now` for `region` and `service` (`bedrock` for Bedrock
/// Runtime). Signs every header of `request` except hop-by-hop and volatile ones (authorization,
/// user-agent, connection, expect, transfer-encoding, x-amzn-trace-id, proxy-*, sec-*, ...) and
/// except x-amz-date, x-amz-security-token and x-amz-content-sha256, which the signer supplies;
/// callers must drop those three from the request and add `headers_to_add` instead.
SignedRequest SignRequest(const RequestView& request, const Credentials& credentials,
                          std::string_view region, std::string_view service,
                          std::chrono::sys_seconds now, const SignOptions& options = {});

/// Why an incoming request was refused.
enum class VerifyErrorCode {
  /// No Authorization header, or no x-amz-date (AWS: MissingAuthenticationToken).
  kMissing,
  /// The Authorization header or x-amz-date is out of shape (AWS: IncompleteSignature).
  kMalformed,
  /// x-amz-date is too far from `now` (AWS: "Signature expired" / "not yet current").
  kExpired,
  /// The scope or the signature is wrong (AWS: SignatureDoesNotMatch / InvalidSignatureException).
  kMismatch,
  /// x-amz-content-sha256 differs from the hash of the body received.
  kContentHashMismatch,
};

/// A refusal: the code to map to a status, and a message worded the way AWS words it.
struct VerifyError {
  VerifyErrorCode code = VerifyErrorCode::kMismatch;
  std::string message;
};

/// What the verifier checks besides the signature itself.
struct VerifyOptions {
  /// Largest accepted distance between x-amz-date and `now`, either way. AWS uses 15 minutes.
  std::chrono::seconds max_skew = std::chrono::minutes(15);
  /// The region the credential must be scoped to; empty accepts any region.
  std::string_view region;
  /// The service the credential must be scoped to; empty accepts any service.
  std::string_view service;
  /// See SignOptions::normalize_path.
  bool normalize_path = true;
};

/// Finds the Authorization header among `request.headers` and parses it. kMissing when there is
/// none, kMalformed when it does not parse. The result borrows from `request.headers`.
boost::system::result<AuthorizationHeader, VerifyError> ParseRequestAuthorization(
    const RequestView& request);

/// Verifies an incoming request whose Authorization header was parsed into `authorization`, given
/// the secret key of `authorization.access_key_id` (the caller looks it up, and refuses unknown
/// keys itself). `request.payload_hash` must be the hash of the body actually received. Checks,
/// in order: x-amz-date present and well-formed, within `options.max_skew` of `now`, its day equal
/// to the scope's; scope region and service; `host` or `:authority` among the signed headers;
/// x-amz-content-sha256 (when present) equal to the body's hash; and the signature, compared in
/// constant time, over exactly the SignedHeaders list.
boost::system::result<void, VerifyError> VerifyRequest(const RequestView& request,
                                                       const AuthorizationHeader& authorization,
                                                       std::string_view secret_access_key,
                                                       std::chrono::sys_seconds now,
                                                       const VerifyOptions& options = {});

}  // namespace sluice::aws
