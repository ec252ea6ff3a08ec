#include "identity/principal.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace sluice::identity {

namespace {

// AWS account ids are always twelve digits, leading zeros included.
constexpr std::size_t kAccountIdLength = 12;

// IAM caps role names at 64 characters; `-BedrockRole` takes 12 of them.
constexpr std::size_t kMaxApplicationLength = 64 - 12;

bool IsRoleNameChar(char c) {
  const bool alphanumeric =
      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alphanumeric || std::string_view("+=,.@_-").find(c) != std::string_view::npos;
}

}  // namespace

bool IsValidAccountId(std::string_view account_id) {
  return account_id.size() == kAccountIdLength &&
         std::all_of(account_id.begin(), account_id.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

bool IsValidApplicationName(std::string_view application) {
  return !application.empty() && application.size() <= kMaxApplicationLength &&
         std::all_of(application.begin(), application.end(), IsRoleNameChar);
}

std::string DefaultRoleArn(std::string_view account_id, std::string_view application) {
  return fmt::format("arn:aws:iam::{}:role/{}-BedrockRole", account_id, application);
}

}  // namespace sluice::identity
