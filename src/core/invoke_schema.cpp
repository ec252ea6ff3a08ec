#include "core/invoke_schema.hpp"

#include <cstdint>
#include <limits>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace sluice::core::internal {

namespace {

namespace json = boost::json;

std::string_view ExpectName(Expect expect) {
  switch (expect) {
    case Expect::kString:
      return "String";
    case Expect::kInteger:
      return "Integer";
    case Expect::kNumber:
      return "Number";
    case Expect::kBoolean:
      return "Boolean";
    case Expect::kObject:
      return "JSONObject";
    case Expect::kArray:
      return "JSONArray";
  }
  return "String";
}

// Bedrock validates InvokeModel bodies with a Java JSON Schema validator, which names a value's
// type after the class the JSON parser produced for it.
std::string_view FoundName(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string:
      return "String";
    case json::kind::bool_:
      return "Boolean";
    case json::kind::null:
      return "Null";
    case json::kind::object:
      return "JSONObject";
    case json::kind::array:
      return "JSONArray";
    case json::kind::double_:
      return "BigDecimal";
    case json::kind::int64: {
      const auto number = value.get_int64();
      const bool fits = number >= std::numeric_limits<std::int32_t>::min() &&
                        number <= std::numeric_limits<std::int32_t>::max();
      return fits ? "Integer" : "Long";
    }
    case json::kind::uint64:
      return "BigInteger";
  }
  return "String";
}

std::string NumberText(const json::value& value) {
  if (value.is_double()) {
    return fmt::format("{}", value.get_double());
  }
  return json::serialize(value);
}

}  // namespace

std::string Pointer::ToString() const {
  if (parent_ == nullptr) {
    return "#";
  }
  std::string text = parent_->ToString();
  text += '/';
  text += key_.empty() ? std::to_string(index_) : std::string(key_);
  return text;
}

bool Matches(const json::value& value, Expect expect) {
  switch (expect) {
    case Expect::kString:
      return value.is_string();
    case Expect::kInteger:
      return value.is_int64() || value.is_uint64();
    case Expect::kNumber:
      return value.is_number();
    case Expect::kBoolean:
      return value.is_bool();
    case Expect::kObject:
      return value.is_object();
    case Expect::kArray:
      return value.is_array();
  }
  return false;
}

void Violations::Add(const Pointer& at, std::string_view problem) {
  text_ += at.ToString();
  text_ += ": ";
  text_ += problem;
}

void Violations::MissingKey(const Pointer& at, std::string_view key) {
  Add(at, fmt::format("required key [{}] not found", key));
}

void Violations::WrongType(const Pointer& at, Expect expect, const json::value& found) {
  Add(at, fmt::format("expected type: {}, found: {}", ExpectName(expect), FoundName(found)));
}

void Violations::NotInEnum(const Pointer& at, std::string_view value) {
  Add(at, fmt::format("{} is not a valid enum value", value));
}

bool Violations::CheckType(const Pointer& at, Expect expect, const json::value& value) {
  const bool matches = Matches(value, expect);
  if (!matches) {
    WrongType(at, expect, value);
  }
  return matches;
}

Error Violations::ToError() const {
  return Error{ErrorCode::kValidation,
               fmt::format("Malformed input request: {}, please reformat your input and try "
                           "again.",
                           text_)};
}

json::value* Find(json::object& object, std::string_view key, Expect expect, const Pointer& at,
                  Violations& violations) {
  auto* value = object.if_contains(key);
  if (value == nullptr) {
    return nullptr;
  }
  if (!Matches(*value, expect)) {
    violations.WrongType(at.Key(key), expect, *value);
    return nullptr;
  }
  return value;
}

json::value* Require(json::object& object, std::string_view key, Expect expect, const Pointer& at,
                     Violations& violations) {
  if (!object.contains(key)) {
    violations.MissingKey(at, key);
    return nullptr;
  }
  return Find(object, key, expect, at, violations);
}

void CheckMinimum(const json::value& value, double low, const Pointer& at, Violations& violations) {
  if (value.to_number<double>() < low) {
    violations.Add(at, fmt::format("{} is not greater or equal to {}", NumberText(value), low));
  }
}

void CheckMaximum(const json::value& value, double high, const Pointer& at,
                  Violations& violations) {
  if (value.to_number<double>() > high) {
    violations.Add(at, fmt::format("{} is not less or equal to {}", NumberText(value), high));
  }
}

std::int64_t ReadCount(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) {
    return 0;
  }
  if (const auto* number = value->if_int64()) {
    return *number;
  }
  if (const auto* number = value->if_double()) {
    return static_cast<std::int64_t>(*number);
  }
  if (value->is_uint64()) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return 0;
}

const json::object* ObjectMember(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr ? value->if_object() : nullptr;
}

std::string_view StringMember(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return {};
  }
  return value->get_string();
}

}  // namespace sluice::core::internal
