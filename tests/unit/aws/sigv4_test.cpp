#include "aws/sigv4.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

// CMake points this at the shared conformance data; other builds skip the vector tests.
#ifndef SLUICE_SHARED_DATA_DIR
#define SLUICE_SHARED_DATA_DIR ""
#endif

namespace sluice::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::sys_seconds;

constexpr std::string_view kAkid = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fs::path SharedDataDir() {
  return {SLUICE_SHARED_DATA_DIR};
}

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

json::value ReadJson(const fs::path& path) {
  const std::optional<std::string> text = ReadFile(path);
  return text ? json::parse(*text) : json::value();
}

std::string Str(const json::value& value) {
  return std::string(value.as_string());
}

// A request.txt of the AWS suite: request line, header lines (a line starting with whitespace
// continues the previous value), then an optional blank line and the body.
struct RawRequest {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

RawRequest ParseRawRequest(const std::string& text) {
  RawRequest out;
  std::size_t pos = text.find('\n');
  const std::string line = text.substr(0, pos);
  // The target may contain spaces (get-space-*), so split at the first and the last space.
  const std::size_t first = line.find(' ');
  const std::size_t last = line.rfind(' ');
  out.method = line.substr(0, first);
  const std::string target = line.substr(first + 1, last - first - 1);
  const std::size_t question = target.find('?');
  out.path = target.substr(0, question);
  out.query = question == std::string::npos ? "" : target.substr(question + 1);

  while (pos != std::string::npos) {
    const std::size_t start = pos + 1;
    pos = text.find('\n', start);
    const std::string header_line =
        text.substr(start, pos == std::string::npos ? pos : pos - start);
    if (header_line.empty()) {
      out.body = pos == std::string::npos ? "" : text.substr(pos + 1);
      break;
    }
    if (header_line.front() == ' ' || header_line.front() == '\t') {
      out.headers.back().second += " " + header_line;
      continue;
    }
    const std::size_t colon = header_line.find(':');
    out.headers.emplace_back(header_line.substr(0, colon), header_line.substr(colon + 1));
  }
  return out;
}

std::vector<HeaderField> Views(const std::vector<std::pair<std::string, std::string>>& fields) {
  return {fields.begin(), fields.end()};
}

sys_seconds ParseIsoTimestamp(std::string_view text) {
  // 2015-08-30T12:36:00Z -> 20150830T123600Z
  std::string compact;
  for (const char c : text) {
    if (c != '-' && c != ':') {
      compact.push_back(c);
    }
  }
  return *ParseAmzDate(compact);
}

// ---------------------------------------------------------------------------------------------
// The aws-c-auth SigV4 suite (header signing only).

TEST(SigV4Suite, AllHeaderSigningCasesMatch) {
  const fs::path suite = SharedDataDir() / "sigv4" / "aws-c-auth-v4";
  if (!fs::is_directory(suite)) {
    GTEST_SKIP() << "shared SigV4 suite not found at " << suite;
  }
  int ran = 0;
  int passed = 0;
  int skipped = 0;
  for (const auto& entry : fs::directory_iterator(suite)) {
    if (!entry.is_directory()) {
      continue;
    }
    const fs::path& dir = entry.path();
    const std::string name = dir.filename().string();
    const auto request_text = ReadFile(dir / "request.txt");
    const auto expected_creq = ReadFile(dir / "header-canonical-request.txt");
    const auto expected_sts = ReadFile(dir / "header-string-to-sign.txt");
    const auto expected_sig = ReadFile(dir / "header-signature.txt");
    if (!request_text || !expected_creq || !expected_sts || !expected_sig) {
      ++skipped;
      std::cout << "[ SKIPPED  ] " << name << ": no header-signing files\n";
      continue;
    }
    ++ran;
    const json::object context = ReadJson(dir / "context.json").as_object();
    const json::object& creds = context.at("credentials").as_object();
    Credentials credentials{Str(creds.at("access_key_id")), Str(creds.at("secret_access_key")),
                            creds.contains("token") ? Str(creds.at("token")) : ""};
    SignOptions options;
    options.normalize_path = context.at("normalize").as_bool();
    options.add_content_sha256 = context.at("sign_body").as_bool();
    options.omit_session_token =
        context.contains("omit_session_token") && context.at("omit_session_token").as_bool();

    const RawRequest raw = ParseRawRequest(*request_text);
    const std::vector<HeaderField> headers = Views(raw.headers);
    const std::string payload_hash = HexSha256(raw.body);
    const RequestView view{raw.method, raw.path, raw.query, headers, payload_hash};
    const SignedRequest signed_request =
        SignRequest(view, credentials, Str(context.at("region")), Str(context.at("service")),
                    ParseIsoTimestamp(Str(context.at("timestamp"))), options);

    const bool ok = signed_request.canonical_request == *expected_creq &&
                    signed_request.string_to_sign == *expected_sts &&
                    signed_request.signature == *expected_sig;
    EXPECT_EQ(signed_request.canonical_request, *expected_creq) << name;
    EXPECT_EQ(signed_request.string_to_sign, *expected_sts) << name;
    EXPECT_EQ(signed_request.signature, *expected_sig) << name;

    // The verifier accepts what the signer produced.
    std::vector<std::pair<std::string, std::string>> fields = raw.headers;
    fields.insert(fields.end(), signed_request.headers_to_add.begin(),
                  signed_request.headers_to_add.end());
    const std::vector<HeaderField> received_headers = Views(fields);
    const RequestView received{raw.method, raw.path, raw.query, received_headers, payload_hash};
    const auto auth = ParseRequestAuthorization(received);
    ASSERT_TRUE(auth.has_value()) << name << ": " << auth.error().message;
    VerifyOptions verify_options;
    verify_options.normalize_path = options.normalize_path;
    const auto verified =
        VerifyRequest(received, *auth, credentials.secret_access_key,
                      ParseIsoTimestamp(Str(context.at("timestamp"))), verify_options);
    EXPECT_TRUE(verified.has_value()) << name << ": " << verified.error().message;
    passed += ok && verified.has_value() ? 1 : 0;
  }
  std::cout << "[   INFO   ] aws-c-auth-v4 header signing: ran=" << ran << " passed=" << passed
            << " skipped=" << skipped << "\n";
  EXPECT_EQ(ran, 38);
  EXPECT_EQ(passed, ran);
}

// ---------------------------------------------------------------------------------------------
// Bedrock vectors.

TEST(SigV4Bedrock, BotocoreVectorsSignAndVerify) {
  const fs::path file =
      SharedDataDir() / "bedrock-conformance-derived" / "sigv4" / "bedrock-botocore-vectors.json";
  if (!fs::exists(file)) {
    GTEST_SKIP() << "botocore vectors not found at " << file;
  }
  const json::object root = ReadJson(file).as_object();
  const Credentials credentials{Str(root.at("credentials").at("access_key_id")),
                                Str(root.at("credentials").at("secret_access_key")), ""};
  const sys_seconds now = *ParseAmzDate(Str(root.at("timestamp")));
  const std::string region = Str(root.at("region"));
  const std::string service = Str(root.at("signing_name"));
  int cases = 0;
  for (const json::value& item : root.at("cases").as_array()) {
    const json::object& c = item.as_object();
    const std::string name = Str(c.at("name"));
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& [key, value] : c.at("headers_before_signing").as_object()) {
      fields.emplace_back(std::string(key), Str(value));
    }
    const std::string method = Str(c.at("method"));
    const std::string path = Str(c.at("wire_path"));
    const std::string body_hash = HexSha256(Str(c.at("body")));
    EXPECT_EQ(body_hash, Str(c.at("body_sha256"))) << name;

    std::vector<HeaderField> headers = Views(fields);
    const SignedRequest signed_request = SignRequest(
        RequestView{method, path, "", headers, body_hash}, credentials, region, service, now);
    EXPECT_EQ(signed_request.canonical_request, Str(c.at("canonical_request"))) << name;
    EXPECT_EQ(signed_request.string_to_sign, Str(c.at("string_to_sign"))) << name;
    ASSERT_EQ(signed_request.headers_to_add.size(), 2U) << name;
    EXPECT_EQ(signed_request.headers_to_add.back().first, "authorization");
    EXPECT_EQ(signed_request.headers_to_add.back().second, Str(c.at("authorization"))) << name;

    // End to end: the signed request verifies.
    for (const auto& field : signed_request.headers_to_add) {
      fields.push_back(field);
    }
    headers = Views(fields);
    const RequestView received{method, path, "", headers, body_hash};
    const auto auth = ParseRequestAuthorization(received);
    ASSERT_TRUE(auth.has_value()) << name;
    const auto verified = VerifyRequest(received, *auth, kSecret, now,
                                        VerifyOptions{.region = region, .service = service});
    EXPECT_TRUE(verified.has_value()) << name << ": " << verified.error().message;
    ++cases;
  }
  std::cout << "[   INFO   ] botocore vectors: " << cases << " signed and verified\n";
  EXPECT_EQ(cases, 3);
}

struct Capture {
  std::string transport;
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
  std::string expected_canonical_request;
  std::string expected_string_to_sign;
  std::string expected_signature;
};

std::vector<Capture> LoadCaptures() {
  const fs::path file =
      SharedDataDir() / "bedrock-conformance-derived" / "sigv4" / "bedrock-js-sdk-captures.json";
  std::vector<Capture> out;
  if (!fs::exists(file)) {
    return out;
  }
  const json::value root = ReadJson(file);
  for (const json::value& item : root.at("cases").as_array()) {
    const json::object& c = item.as_object();
    Capture capture{Str(c.at("transport")),
                    Str(c.at("method")),
                    Str(c.at("path")),
                    {},
                    Str(c.at("body")),
                    Str(c.at("expected_canonical_request")),
                    Str(c.at("expected_string_to_sign")),
                    Str(c.at("expected_signature"))};
    for (const auto& [key, value] : c.at("headers").as_object()) {
      capture.fields.emplace_back(std::string(key), Str(value));
    }
    out.push_back(std::move(capture));
  }
  return out;
}

std::string FieldValue(const Capture& capture, std::string_view name) {
  for (const auto& [key, value] : capture.fields) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

TEST(SigV4Bedrock, JsSdkCapturesRecomputeAndVerify) {
  const std::vector<Capture> captures = LoadCaptures();
  if (captures.empty()) {
    GTEST_SKIP() << "JS SDK captures not found under " << SharedDataDir();
  }
  int http2 = 0;
  int verified_count = 0;
  for (const Capture& capture : captures) {
    const std::vector<HeaderField> headers = Views(capture.fields);
    const std::string body_hash = HexSha256(capture.body);
    const RequestView request{capture.method, capture.path, "", headers, body_hash};
    const auto auth = ParseRequestAuthorization(request);
    ASSERT_TRUE(auth.has_value()) << capture.transport << ": " << auth.error().message;
    const bool is_http2 = capture.transport.starts_with("http2");
    http2 += is_http2 ? 1 : 0;
    EXPECT_EQ(auth->signed_headers.front(), is_http2 ? ":authority" : "amz-sdk-invocation-id");

    // Recompute each step.
    const std::string amz_date = FieldValue(capture, "x-amz-date");
    const std::string canonical = CanonicalRequest(request, auth->signed_headers);
    EXPECT_EQ(canonical, capture.expected_canonical_request) << capture.transport;
    const std::string string_to_sign = StringToSign(amz_date, auth->scope, canonical);
    EXPECT_EQ(string_to_sign, capture.expected_string_to_sign) << capture.transport;
    EXPECT_EQ(Signature(SigningKey(kSecret, auth->scope), string_to_sign),
              capture.expected_signature);
    EXPECT_EQ(auth->signature, capture.expected_signature);

    // End to end, clock fixed at the capture time.
    const auto verified = VerifyRequest(request, *auth, kSecret, *ParseAmzDate(amz_date),
                                        VerifyOptions{.region = "us-east-1", .service = "bedrock"});
    EXPECT_TRUE(verified.has_value()) << capture.transport << ": " << verified.error().message;
    verified_count += verified.has_value() ? 1 : 0;
  }
  std::cout << "[   INFO   ] JS SDK captures: " << verified_count << "/" << captures.size()
            << " verified (" << http2 << " over HTTP/2)\n";
  EXPECT_EQ(captures.size(), 10U);
  EXPECT_EQ(http2, 5);
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

TEST(SigV4Uri, DoubleEncodesBedrockModelIds) {
  EXPECT_EQ(CanonicalUri("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"),
            "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse");
  EXPECT_EQ(CanonicalUri("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aprofile%2Fx/converse"),
            "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A1%253Aprofile%252Fx/converse");
}

TEST(SigV4Uri, NormalisesAndKeepsTrailingSlash) {
  EXPECT_EQ(CanonicalUri(""), "/");
  EXPECT_EQ(CanonicalUri("/"), "/");
  EXPECT_EQ(CanonicalUri("//a//b//"), "/a/b/");
  EXPECT_EQ(CanonicalUri("/a/./b/../c"), "/a/c");
  EXPECT_EQ(CanonicalUri("/../../"), "/");
  EXPECT_EQ(CanonicalUri("/a/b/.."), "/a/");
  EXPECT_EQ(CanonicalUri("//a//", false), "//a//");
  EXPECT_EQ(CanonicalUri("/a b", false), "/a%20b");
}

TEST(SigV4Query, SortsAndReencodes) {
  EXPECT_EQ(CanonicalQuery(""), "");
  EXPECT_EQ(CanonicalQuery("b=2&a=1&a=0"), "a=0&a=1&b=2");
  EXPECT_EQ(CanonicalQuery("flag&x=%7e&y=a+b"), "flag=&x=~&y=a%2Bb");
  EXPECT_EQ(CanonicalQuery("bad=%zz&&"), "bad=%25zz");
}

TEST(SigV4Date, FormatsAndParses) {
  const auto parsed = ParseAmzDate("20150830T123600Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(FormatAmzDate(*parsed), "20150830T123600Z");
  EXPECT_FALSE(ParseAmzDate("20150830T123600").has_value());
  EXPECT_FALSE(ParseAmzDate("20150230T123600Z").has_value());
  EXPECT_FALSE(ParseAmzDate("2015083OT123600Z").has_value());
}

TEST(SigV4Parse, AcceptsWellFormedHeaders) {
  const std::string sig(64, 'a');
  const auto parsed = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/bedrock/aws4_request,"
      "SignedHeaders=host;x-amz-date,  Signature=" +
      sig);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->access_key_id, "AKID");
  EXPECT_EQ(parsed->scope, (SigningScope{"20150830", "us-east-1", "bedrock"}));
  EXPECT_EQ(parsed->signed_headers, (std::vector<std::string_view>{"host", "x-amz-date"}));
  EXPECT_EQ(parsed->signature, sig);
}

TEST(SigV4Parse, RejectsMalformedHeaders) {
  const std::string sig(64, 'a');
  const std::string cred = "Credential=AKID/20150830/us-east-1/bedrock/aws4_request";
  const std::vector<std::string> bad = {
      "",
      "AWS4-HMAC-SHA1 " + cred + ", SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256" + cred + ", SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host",
      "AWS4-HMAC-SHA256 " + cred + ", Signature=" + sig,
      "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, Signature=" + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x, Signature=" + sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig.substr(1),
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + std::string(64, 'A'),
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig + ",",
      "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", SignedHeaders=host, Signature=" + sig,
      "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aws4_request, SignedHeaders=host, "
      "Signature=" +
          sig,
      "AWS4-HMAC-SHA256 Credential=AKID/2015083/us-east-1/bedrock/aws4_request, "
      "SignedHeaders=host, Signature=" +
          sig,
      "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/bedrock/aws4_request/x, "
      "SignedHeaders=host, Signature=" +
          sig,
      "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/bedrock/aws5_request, "
      "SignedHeaders=host, Signature=" +
          sig,
      "AWS4-HMAC-SHA256 Credential=AKID/20150830//bedrock/aws4_request, SignedHeaders=host, "
      "Signature=" +
          sig,
      "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + sig + ", Extra=1",
      "AWS4-HMAC-SHA256 " + cred + " SignedHeaders=host Signature=" + sig,
  };
  for (const std::string& header : bad) {
    EXPECT_FALSE(ParseAuthorization(header).has_value()) << header;
  }
}

// ---------------------------------------------------------------------------------------------
// Verifier negatives, on a request signed here with the JS SDK's header set.

// Members are public so that tests can tamper with the request directly.
class SigV4Verify : public ::testing::Test {
 public:
  static constexpr std::string_view kPath =
      "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
  static constexpr std::string_view kBody = R"({"messages":[]})";

  void SetUp() override {
    now = *ParseAmzDate("20150830T123600Z");
    fields = {{"Host", "bedrock-runtime.us-east-1.amazonaws.com"},
              {"Content-Type", "application/json"},
              {"User-Agent", "test"}};
    const std::vector<HeaderField> initial = Views(fields);
    body_hash = HexSha256(kBody);
    SignOptions options;
    options.add_content_sha256 = true;
    const SignedRequest signed_request =
        SignRequest(RequestView{"POST", kPath, "", initial, body_hash},
                    Credentials{std::string(kAkid), std::string(kSecret), "TOKEN"}, "us-east-1",
                    "bedrock", now, options);
    for (const auto& field : signed_request.headers_to_add) {
      fields.push_back(field);
    }
  }

  boost::system::result<void, VerifyError> Verify(std::string_view secret = kSecret) {
    headers = Views(fields);
    const RequestView request{"POST", kPath, "", headers, body_hash};
    const auto auth = ParseRequestAuthorization(request);
    if (!auth) {
      return auth.error();
    }
    return VerifyRequest(request, *auth, secret, now,
                         VerifyOptions{.region = "us-east-1", .service = "bedrock"});
  }

  std::string& Field(std::string_view name) {
    for (auto& [key, value] : fields) {
      if (key == name) {
        return value;
      }
    }
    ADD_FAILURE() << "no field " << name;
    return fields.front().second;
  }

  void Remove(std::string_view name) {
    std::erase_if(fields, [&](const auto& field) { return field.first == name; });
  }

  sys_seconds now;
  std::string body_hash;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<HeaderField> headers;
};

TEST_F(SigV4Verify, AcceptsTheSignedRequest) {
  const auto result = Verify();
  EXPECT_TRUE(result.has_value()) << result.error().message;
}

TEST_F(SigV4Verify, AcceptsHeaderNamesInAnyCaseAndAnUnsignedChange) {
  for (auto& [key, value] : fields) {
    if (key == "x-amz-date") {
      key = "X-Amz-Date";
    }
  }
  Field("User-Agent") = "changed";
  EXPECT_TRUE(Verify().has_value());
}

TEST_F(SigV4Verify, RejectsTamperedBody) {
  body_hash = HexSha256(R"({"messages":[1]})");
  const auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kContentHashMismatch);
}

TEST_F(SigV4Verify, RejectsTamperedBodyWithMatchingContentHeader) {
  body_hash = HexSha256(R"({"messages":[1]})");
  Field("x-amz-content-sha256") = body_hash;
  const auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMismatch);
}

TEST_F(SigV4Verify, RejectsWrongSecret) {
  const auto result = Verify("not-the-secret");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMismatch);
  EXPECT_EQ(result.error().message,
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.");
}

TEST_F(SigV4Verify, RejectsWrongRegion) {
  std::string& auth = Field("authorization");
  auth.replace(auth.find("us-east-1"), 9, "eu-west-1");
  const auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMismatch);
  EXPECT_NE(result.error().message.find("eu-west-1"), std::string::npos);
}

TEST_F(SigV4Verify, RejectsRegionSwapEvenWithoutExpectedRegion) {
  std::string& auth = Field("authorization");
  auth.replace(auth.find("us-east-1"), 9, "eu-west-1");
  headers = Views(fields);
  const RequestView request{"POST", kPath, "", headers, body_hash};
  const auto parsed = ParseRequestAuthorization(request);
  ASSERT_TRUE(parsed.has_value());
  const auto result = VerifyRequest(request, *parsed, kSecret, now);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMismatch);
}

TEST_F(SigV4Verify, RejectsExpiredAndFutureDates) {
  now += std::chrono::minutes(30);
  auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kExpired);
  EXPECT_EQ(result.error().message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T125100Z "
            "(20150830T130600Z - 15 min.)");

  now -= std::chrono::minutes(60);
  result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kExpired);

  now += std::chrono::minutes(44);
  EXPECT_TRUE(Verify().has_value());
}

TEST_F(SigV4Verify, RejectsScopeDateDifferentFromAmzDate) {
  Field("x-amz-date") = "20150831T000100Z";
  now = *ParseAmzDate("20150831T000100Z");
  const auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMismatch);
}

TEST_F(SigV4Verify, RejectsMissingOrMalformedAuthorization) {
  Remove("authorization");
  auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMissing);

  fields.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830");
  result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMalformed);
}

TEST_F(SigV4Verify, RejectsMissingOrMalformedDate) {
  Field("x-amz-date") = "2015-08-30";
  auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMalformed);

  Remove("x-amz-date");
  result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMissing);
}

TEST_F(SigV4Verify, RejectsSignedHeaderAbsentFromRequest) {
  Remove("Content-Type");
  const auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMismatch);
}

TEST_F(SigV4Verify, RejectsChangedSignedHeader) {
  Field("x-amz-security-token") = "OTHER";
  const auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMismatch);
}

TEST_F(SigV4Verify, RejectsUnsignedHost) {
  std::string& auth = Field("authorization");
  auth.replace(auth.find("host;"), 5, "");
  const auto result = Verify();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, VerifyErrorCode::kMalformed);
}

TEST(SigV4Sign, OmittedTokenIsAddedUnsigned) {
  const std::vector<HeaderField> headers = {{"host", "example.com"}};
  SignOptions options;
  options.omit_session_token = true;
  const SignedRequest signed_request =
      SignRequest(RequestView{"GET", "/", "", headers, kEmptyPayloadHash},
                  Credentials{"AKID", "secret", "TOKEN"}, "us-east-1", "service",
                  *ParseAmzDate("20150830T123600Z"), options);
  ASSERT_EQ(signed_request.headers_to_add.size(), 3U);
  EXPECT_EQ(signed_request.headers_to_add[1], (OwnedHeaderField{"x-amz-security-token", "TOKEN"}));
  EXPECT_EQ(signed_request.canonical_request.find("x-amz-security-token"), std::string::npos);
}

}  // namespace
}  // namespace sluice::aws
