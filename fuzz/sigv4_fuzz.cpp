// libFuzzer target for the SigV4 parsers and canonicalisers. Built by scripts/fuzz.sh, not CMake.
// fuzz-link: src/aws/sigv4.cpp
// fuzz-seeds: sigv4/aws-c-auth-v4
// fuzz-libs: crypto

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "aws/sigv4.hpp"

namespace {

using sluice::aws::HeaderField;

// Unlike assert, stays on whatever flags the fuzzer is built with.
void Require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

bool IsUnreservedOrSlash(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~' || c == '/' || c == '%';
}

void CheckUri(std::string_view input) {
  for (const bool normalize : {true, false}) {
    const std::string uri = sluice::aws::CanonicalUri(input, normalize);
    Require(!uri.empty());
    for (const char c : uri) {
      Require(IsUnreservedOrSlash(c));
    }
  }
  // Normalisation leaves no empty segment behind.
  const std::string normalized = sluice::aws::CanonicalUri(input, true);
  Require(normalized.front() == '/');
  Require(normalized.find("//") == std::string::npos);
}

void CheckQuery(std::string_view input) {
  const std::string query = sluice::aws::CanonicalQuery(input);
  // Every parameter is re-encoded, so canonicalising again changes nothing.
  Require(sluice::aws::CanonicalQuery(query) == query);
}

void CheckAuthorization(std::string_view input) {
  const auto parsed = sluice::aws::ParseAuthorization(input);
  if (!parsed) {
    Require(!parsed.error().empty());
    return;
  }
  Require(parsed->signature.size() == 64);
  Require(!parsed->signed_headers.empty());
  Require(parsed->scope.date.size() == 8);

  // Drive the verifier with the parsed header; any outcome is fine as long as nothing breaks.
  const std::array<HeaderField, 3> headers = {
      HeaderField{"authorization", input},
      HeaderField{"host", "example.com"},
      HeaderField{"x-amz-date", "20150830T123600Z"},
  };
  const sluice::aws::RequestView request{"GET", input, input, headers,
                                         sluice::aws::kEmptyPayloadHash};
  const auto now = *sluice::aws::ParseAmzDate("20150830T123600Z");
  const auto verified = sluice::aws::VerifyRequest(request, *parsed, "secret", now);
  Require(verified.has_value() || !verified.error().message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckUri(input);
  CheckQuery(input);
  CheckAuthorization(input);

  // Also exercise the parser on a well-formed prefix with fuzzed tails.
  std::string header = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/bedrock/aws4_request, ";
  header.append(input);
  CheckAuthorization(header);
  return 0;
}
