#include "identity/key_material.hpp"

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace sluice::identity {

namespace {

constexpr std::string_view kAccessKeyPrefix = "AKIA";
constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 10 bytes are exactly 16 base32 digits, the length of the part after AKIA in AWS key ids.
constexpr std::size_t kAccessKeyIdBytes = 10;
// 30 bytes are exactly 40 base64 digits, the length of an AWS secret access key.
constexpr std::size_t kSecretBytes = 30;
// 256 bits, as much as the SHA-256 that stands for the key in the store.
constexpr std::size_t kApiKeyBytes = 32;

Result<std::vector<std::uint8_t>> RandomBytes(std::size_t count, std::string_view purpose) {
  std::vector<std::uint8_t> bytes(count);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return IdentityError{"generate " + std::string(purpose) +
                         ": the system random generator failed"};
  }
  return bytes;
}

// Packs the bytes into 5-bit (base32) or 6-bit (base64) digits, most significant bit first,
// without padding; a final partial digit is padded with zero bits.
std::string Encode(const std::vector<std::uint8_t>& bytes, std::string_view alphabet, int bits) {
  std::string text;
  std::uint32_t buffer = 0;
  int buffered = 0;
  const std::uint32_t mask = (1u << bits) - 1;
  for (std::uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    buffered += 8;
    while (buffered >= bits) {
      buffered -= bits;
      text.push_back(alphabet[(buffer >> buffered) & mask]);
    }
  }
  if (buffered > 0) {
    text.push_back(alphabet[(buffer << (bits - buffered)) & mask]);
  }
  return text;
}

// A string is convertible to both sides of Result<std::string>, so the value side is named.
Result<std::string> Text(std::string text) {
  return Result<std::string>(boost::system::in_place_value, std::move(text));
}

}  // namespace

Result<std::string> NewAccessKeyId() {
  auto bytes = RandomBytes(kAccessKeyIdBytes, "access key id");
  if (!bytes) {
    return bytes.error();
  }
  return Text(std::string(kAccessKeyPrefix) + Encode(*bytes, kBase32Alphabet, 5));
}

Result<std::string> NewSecretAccessKey() {
  auto bytes = RandomBytes(kSecretBytes, "secret access key");
  if (!bytes) {
    return bytes.error();
  }
  return Text(Encode(*bytes, kBase64Alphabet, 6));
}

Result<std::string> NewApiKey() {
  auto bytes = RandomBytes(kApiKeyBytes, "API key");
  if (!bytes) {
    return bytes.error();
  }
  return Text(std::string(kApiKeyPrefix) + Encode(*bytes, kBase64UrlAlphabet, 6));
}

std::string HashApiKey(std::string_view api_key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(api_key.data(), api_key.size(), digest.data(), &length, EVP_sha256(), nullptr);

  constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(static_cast<std::size_t>(length) * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

}  // namespace sluice::identity
