#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/error.hpp"

// Not API: the schema-error wording shared by the translators of native InvokeModel bodies
// (anthropic_request.cpp, nova_messages.cpp). Other code should not include this header.
namespace sluice::core::internal {

/// Bedrock's wording for a body that is not a JSON object.
inline constexpr std::string_view kMalformedMessage =
    "Malformed input request, please reformat your input and try again.";

/// A JSON pointer (`#/messages/0/content`) that is spelled out only when a violation needs it, so
/// walking a valid body allocates nothing for paths. Each level borrows its parent, so a child
/// must not outlive the expression or scope that made its parent.
class Pointer {
 public:
  Pointer() = default;

  Pointer Key(std::string_view key) const { return Pointer(this, key, 0); }

  Pointer Index(std::size_t index) const { return Pointer(this, {}, index); }

  std::string ToString() const;

 private:
  Pointer(const Pointer* parent, std::string_view key, std::size_t index)
      : parent_(parent), key_(key), index_(index) {}

  const Pointer* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = 0;
};

/// The JSON types a schema can ask for, named in messages as the validator names them.
enum class Expect { kString, kInteger, kNumber, kBoolean, kObject, kArray };

/// Whether `value` has the type `expect` asks for.
bool Matches(const boost::json::value& value, Expect expect);

/// Schema violations in the validator's wording. Bedrock joins all of them, without a
/// separator, into one message.
class Violations {
 public:
  void Add(const Pointer& at, std::string_view problem);

  void MissingKey(const Pointer& at, std::string_view key);

  void WrongType(const Pointer& at, Expect expect, const boost::json::value& found);

  void NotInEnum(const Pointer& at, std::string_view value);

  /// Returns whether `value` has the expected type, recording a violation when it has not.
  bool CheckType(const Pointer& at, Expect expect, const boost::json::value& value);

  bool empty() const { return text_.empty(); }

  /// The ValidationException Bedrock answers with, listing every violation.
  Error ToError() const;

 private:
  std::string text_;
};

/// The member `key` of `object` when it has the expected type. A member of another type is
/// recorded as a violation; either way only a usable value is returned.
boost::json::value* Find(boost::json::object& object, std::string_view key, Expect expect,
                         const Pointer& at, Violations& violations);

/// Like Find, but a missing member is recorded as a violation too.
boost::json::value* Require(boost::json::object& object, std::string_view key, Expect expect,
                            const Pointer& at, Violations& violations);

/// Records a violation when the number `value` is below `low`.
void CheckMinimum(const boost::json::value& value, double low, const Pointer& at,
                  Violations& violations);

/// Records a violation when the number `value` is above `high`.
void CheckMaximum(const boost::json::value& value, double high, const Pointer& at,
                  Violations& violations);

/// A count from an upstream body; anything but a number reads as zero, and a fraction is cut.
std::int64_t ReadCount(const boost::json::object& object, std::string_view key);

/// The member `key` of `object` when it is an object; null otherwise.
const boost::json::object* ObjectMember(const boost::json::object& object, std::string_view key);

/// The member `key` of `object` when it is a string; empty otherwise.
std::string_view StringMember(const boost::json::object& object, std::string_view key);

}  // namespace sluice::core::internal
