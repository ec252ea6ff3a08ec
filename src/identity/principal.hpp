#pragma once

#include <string>
#include <string_view>

namespace sluice::identity {

/// The owner tags carried by every key; empty means "not set". They are what usage and cost are
/// attributed to, and what sluice forwards to Bedrock as request metadata.
struct OwnerTags {
  std::string application;
  std::string team;
  std::string project;
  std::string cost_center;
  std::string tenant;
  std::string environment;

  friend bool operator==(const OwnerTags&, const OwnerTags&) = default;
};

/// Who is calling: an ARN-style identity, its owner tags, and whether it may use `/admin/...`.
struct Principal {
  /// `arn:aws:iam::<account>:role/<Application>-BedrockRole` unless set otherwise.
  std::string arn;
  OwnerTags tags;
  bool is_admin = false;

  friend bool operator==(const Principal&, const Principal&) = default;
};

/// Account id used in ARNs when none is given.
inline constexpr std::string_view kDefaultAccountId = "000000000000";

/// True for an AWS account id: exactly 12 decimal digits.
bool IsValidAccountId(std::string_view account_id);

/// True when `application` can stand in an IAM role name followed by `-BedrockRole`: 1 to 52
/// characters from IAM's role-name set (letters, digits and `+=,.@_-`).
bool IsValidApplicationName(std::string_view application);

/// The default ARN of an application's principal. The role name carries the application, as the
/// roles Bedrock users already create do. Precondition: `account_id` is valid.
std::string DefaultRoleArn(std::string_view account_id, std::string_view application);

}  // namespace sluice::identity
