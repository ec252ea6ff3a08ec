#pragma once

#include <string>
#include <string_view>

#include "identity/error.hpp"

namespace sluice::identity {

/// Prefix of every bearer API key sluice issues, so a leaked key is recognisable by scanners.
inline constexpr std::string_view kApiKeyPrefix = "sk-sluice-";

/// A fresh AWS-style access key id: `AKIA` and 16 characters of RFC 4648 base32 (A-Z, 2-7),
/// 80 random bits. Fails only when the system CSPRNG does.
[[nodiscard]] Result<std::string> NewAccessKeyId();

/// A fresh secret access key: 40 base64 characters (30 random bytes), the shape AWS uses.
[[nodiscard]] Result<std::string> NewSecretAccessKey();

/// A fresh bearer API key: `sk-sluice-` and 43 base64url characters (32 random bytes).
[[nodiscard]] Result<std::string> NewApiKey();

/// Lower-case hex SHA-256 of a bearer key; the only form of it the store keeps.
std::string HashApiKey(std::string_view api_key);

}  // namespace sluice::identity
