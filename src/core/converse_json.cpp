#include "core/converse_json.hpp"

#include <array>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace sluice::core {

namespace {

namespace json = boost::json;

Error Invalid(std::string message) {
  return Error{ErrorCode::kValidation, std::move(message)};
}

// Bedrock's own wording for an unparseable body.
constexpr std::string_view kMalformedMessage =
    "Malformed input request, please reformat your input and try again.";

// Coral's wording for one failed constraint, which Bedrock uses for shape violations.
// An empty `value` leaves it out, as coral does for members marked sensitive.
Error ConstraintError(std::string_view path, std::string_view value, std::string_view constraint) {
  return Invalid(
      fmt::format("1 validation error detected: Value {}{}at '{}' failed to satisfy "
                  "constraint: {}",
                  value, value.empty() ? "" : " ", path, constraint));
}

// The offending value as Bedrock quotes it: strings and numbers as written ('1.5', not Boost.JSON's
// '1.5E0'), anything else as compact JSON.
std::string Quoted(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string:
      return fmt::format("'{}'", std::string_view(value.get_string()));
    case json::kind::double_:
      return fmt::format("'{}'", value.get_double());
    default:
      return fmt::format("'{}'", json::serialize(value));
  }
}

constexpr std::array kContentMembers = {"text",
                                        "image",
                                        "document",
                                        "video",
                                        "audio",
                                        "toolUse",
                                        "toolResult",
                                        "guardContent",
                                        "cachePoint",
                                        "reasoningContent",
                                        "citationsContent",
                                        "searchResult",
                                        "toolAddition",
                                        "toolRemoval"};

constexpr std::array kSystemMembers = {"text", "guardContent", "cachePoint"};

constexpr std::array kToolMembers = {"toolSpec", "systemTool", "cachePoint"};

// Tool names, like Bedrock's: [a-zA-Z0-9_-]{1,64}.
bool IsToolName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (const unsigned char c : name) {
    if (!std::isalnum(c) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

template <std::size_t N>
bool IsMember(std::string_view key, const std::array<const char*, N>& members) {
  for (const char* member : members) {
    if (key == member) {
      return true;
    }
  }
  return false;
}

// A content block is a union: exactly one known member may be set.
template <std::size_t N>
Result<void> ValidateUnion(const json::value& block, std::string_view path,
                           const std::array<const char*, N>& members) {
  if (!block.is_object()) {
    return ConstraintError(path, Quoted(block), "Member must be a structure");
  }
  const auto& object = block.get_object();
  if (object.empty()) {
    return Invalid(
        fmt::format("The {} object is empty. Set exactly one member and try again.", path));
  }
  if (object.size() > 1) {
    return Invalid(fmt::format(
        "Only one member of the union at {} may be set. Remove the extra members and try again.",
        path));
  }
  const auto& [key, value] = *object.begin();
  if (!IsMember(key, members)) {
    return Invalid(
        fmt::format("The member {} at {} is not supported.", std::string_view(key), path));
  }
  if (key == "text") {
    if (!value.is_string()) {
      return ConstraintError(fmt::format("{}.text", path), Quoted(value),
                             "Member must be a string");
    }
    if (value.get_string().find_first_not_of(" \t\r\n") == json::string::npos) {
      return Invalid(fmt::format(
          "The text field in the ContentBlock object at {} is blank. Add text to the text field, "
          "and try again.",
          path));
    }
  } else if (key == "cachePoint") {
    const auto* type = value.is_object() ? value.get_object().if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string() || type->get_string() != "default") {
      return ConstraintError(fmt::format("{}.cachePoint.type", path), type ? Quoted(*type) : "null",
                             "Member must satisfy enum value set: [default]");
    }
  } else if (!value.is_object()) {
    return ConstraintError(fmt::format("{}.{}", path, std::string_view(key)), Quoted(value),
                           "Member must be a structure");
  }
  return {};
}

Result<void> ValidateMessages(const json::value* messages) {
  if (messages == nullptr || messages->is_null()) {
    // Without messages (and without a prompt ARN, which the gateway does not serve) the model
    // has nothing to answer.
    return Invalid(
        "A conversation must start with a user message. Try again with a conversation that "
        "starts with a user message.");
  }
  if (!messages->is_array()) {
    return ConstraintError("messages", Quoted(*messages), "Member must be a list");
  }
  const auto& list = messages->get_array();
  if (list.empty()) {
    return Invalid(
        "A conversation must start with a user message. Try again with a conversation that "
        "starts with a user message.");
  }

  std::string_view previous_role;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto path = fmt::format("messages.{}.member", i + 1);
    if (!list[i].is_object()) {
      return ConstraintError(path, Quoted(list[i]), "Member must be a structure");
    }
    const auto& message = list[i].get_object();
    const auto* role = message.if_contains("role");
    if (role == nullptr || role->is_null()) {
      return ConstraintError(path + ".role", "null", "Member must not be null");
    }
    if (!role->is_string() || (role->get_string() != "user" && role->get_string() != "assistant")) {
      return ConstraintError(path + ".role", Quoted(*role),
                             "Member must satisfy enum value set: [user, assistant]");
    }
    const std::string_view role_name = role->get_string();
    if (i == 0 && role_name != "user") {
      return Invalid(
          "A conversation must start with a user message. Try again with a conversation that "
          "starts with a user message.");
    }
    if (role_name == previous_role) {
      return Invalid(
          "A conversation must alternate between user and assistant roles. Make sure the "
          "conversation alternates between user and assistant roles and try again.");
    }
    previous_role = role_name;

    const auto* content = message.if_contains("content");
    if (content == nullptr || content->is_null()) {
      return ConstraintError(path + ".content", "null", "Member must not be null");
    }
    if (!content->is_array()) {
      return ConstraintError(path + ".content", Quoted(*content), "Member must be a list");
    }
    if (content->get_array().empty()) {
      return Invalid(fmt::format(
          "The content field in the Message object at messages.{} is empty. Add a ContentBlock "
          "object to the content field and try again.",
          i));
    }
    std::size_t index = 0;
    for (const auto& block : content->get_array()) {
      auto valid =
          ValidateUnion(block, fmt::format("messages.{}.content.{}", i, index++), kContentMembers);
      if (!valid) {
        return valid;
      }
    }
  }
  return {};
}

Result<void> ValidateSystem(const json::value* system) {
  if (system == nullptr) {
    return {};
  }
  if (!system->is_array()) {
    return ConstraintError("system", Quoted(*system), "Member must be a list");
  }
  std::size_t index = 0;
  for (const auto& block : system->get_array()) {
    auto valid = ValidateUnion(block, fmt::format("system.{}", index++), kSystemMembers);
    if (!valid) {
      return valid;
    }
  }
  return {};
}

Result<void> CheckNumberRange(const json::object& config, std::string_view key, double low,
                              double high) {
  const auto* value = config.if_contains(key);
  if (value == nullptr || value->is_null()) {
    return {};
  }
  const auto path = fmt::format("inferenceConfig.{}", key);
  if (!value->is_number()) {
    return ConstraintError(path, Quoted(*value), "Member must be a number");
  }
  const double number = value->to_number<double>();
  if (number < low) {
    return ConstraintError(path, Quoted(*value),
                           fmt::format("Member must have value greater than or equal to {}", low));
  }
  if (number > high) {
    return ConstraintError(path, Quoted(*value),
                           fmt::format("Member must have value less than or equal to {}", high));
  }
  return {};
}

Result<void> ValidateInferenceConfig(const json::value* config) {
  if (config == nullptr || config->is_null()) {
    return {};
  }
  if (!config->is_object()) {
    return ConstraintError("inferenceConfig", Quoted(*config), "Member must be a structure");
  }
  const auto& object = config->get_object();
  if (const auto* max_tokens = object.if_contains("maxTokens");
      max_tokens && !max_tokens->is_null()) {
    if (!max_tokens->is_int64() && !max_tokens->is_uint64()) {
      return ConstraintError("inferenceConfig.maxTokens", Quoted(*max_tokens),
                             "Member must be an integer");
    }
    if (max_tokens->is_int64() && max_tokens->get_int64() < 1) {
      return ConstraintError("inferenceConfig.maxTokens", Quoted(*max_tokens),
                             "Member must have value greater than or equal to 1");
    }
  }
  for (const auto* key : {"temperature", "topP"}) {
    auto valid = CheckNumberRange(object, key, 0, 1);
    if (!valid) {
      return valid;
    }
  }
  if (const auto* stops = object.if_contains("stopSequences"); stops && !stops->is_null()) {
    if (!stops->is_array()) {
      return ConstraintError("inferenceConfig.stopSequences", Quoted(*stops),
                             "Member must be a list");
    }
    if (stops->get_array().size() > 2500) {
      return ConstraintError("inferenceConfig.stopSequences", "[...]",
                             "Member must have length less than or equal to 2500");
    }
  }
  return {};
}

bool IsMetadataChar(unsigned char c) {
  // [a-zA-Z0-9\s:_@$#=/+,-.]
  return std::isalnum(c) || std::isspace(c) || c == ':' || c == '_' || c == '@' || c == '$' ||
         c == '#' || c == '=' || c == '/' || c == '+' || c == ',' || c == '-' || c == '.';
}

bool IsMetadataText(std::string_view text) {
  for (const unsigned char c : text) {
    if (!IsMetadataChar(c)) {
      return false;
    }
  }
  return true;
}

Result<void> ValidateRequestMetadata(const json::value* metadata) {
  if (metadata == nullptr || metadata->is_null()) {
    return {};
  }
  if (!metadata->is_object()) {
    return ConstraintError("requestMetadata", Quoted(*metadata), "Member must be a map");
  }
  const auto& map = metadata->get_object();
  if (map.empty() || map.size() > 16) {
    return ConstraintError("requestMetadata", "",
                           "Member must have length less than or equal to 16 and greater than "
                           "or equal to 1");
  }
  for (const auto& [key, value] : map) {
    if (key.empty() || key.size() > 256 || !IsMetadataText(key)) {
      // requestMetadata is sensitive: the error names neither the key nor the value.
      return ConstraintError("requestMetadata", "",
                             "Map keys must satisfy constraint: [Member must have length less "
                             "than or equal to 256, Member must have length greater than or "
                             "equal to 1, Member must satisfy regular expression pattern: "
                             "[a-zA-Z0-9\\s:_@$#=/+,-.]{1,256}]");
    }
    if (!value.is_string() || value.get_string().size() > 256 ||
        !IsMetadataText(value.get_string())) {
      return ConstraintError("requestMetadata", "",
                             "Map values must satisfy constraint: [Member must have length less "
                             "than or equal to 256, Member must satisfy regular expression "
                             "pattern: [a-zA-Z0-9\\s:_@$#=/+,-.]{0,256}]");
    }
  }
  return {};
}

Result<void> ValidateToolConfig(const json::value* tool_config) {
  if (tool_config == nullptr || tool_config->is_null()) {
    return {};
  }
  if (!tool_config->is_object()) {
    return ConstraintError("toolConfig", Quoted(*tool_config), "Member must be a structure");
  }
  const auto* tools = tool_config->get_object().if_contains("tools");
  if (tools == nullptr || !tools->is_array() || tools->get_array().empty()) {
    return ConstraintError("toolConfig.tools", tools ? Quoted(*tools) : "null",
                           "Member must have length greater than or equal to 1");
  }
  std::size_t index = 0;
  for (const auto& tool : tools->get_array()) {
    ++index;
    auto valid =
        ValidateUnion(tool, fmt::format("toolConfig.tools.{}.member", index), kToolMembers);
    if (!valid) {
      return valid;
    }
    const auto* spec = tool.get_object().if_contains("toolSpec");
    if (spec == nullptr) {
      continue;  // systemTool and cachePoint members pass through
    }
    const auto* name = spec->get_object().if_contains("name");
    if (name == nullptr || !name->is_string() || !IsToolName(name->get_string())) {
      return ConstraintError(fmt::format("toolConfig.tools.{}.member.toolSpec.name", index),
                             name ? Quoted(*name) : "null",
                             "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+");
    }
    const auto* schema = spec->get_object().if_contains("inputSchema");
    if (schema == nullptr || !schema->is_object() || !schema->get_object().contains("json")) {
      return ConstraintError(fmt::format("toolConfig.tools.{}.member.toolSpec.inputSchema", index),
                             "null", "Member must not be null");
    }
  }
  return {};
}

}  // namespace

Result<void> ValidateConverseBody(const json::object& body) {
  for (auto check :
       {ValidateMessages(body.if_contains("messages")), ValidateSystem(body.if_contains("system")),
        ValidateInferenceConfig(body.if_contains("inferenceConfig")),
        ValidateToolConfig(body.if_contains("toolConfig")),
        ValidateRequestMetadata(body.if_contains("requestMetadata"))}) {
    if (!check) {
      return check;
    }
  }
  return {};
}

Result<ConverseRequest> ParseConverseRequest(std::string_view body, Operation operation,
                                             std::string model_id, json::storage_ptr storage) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec, storage);
  if (ec || !parsed.is_object()) {
    return Invalid(std::string(kMalformedMessage));
  }

  // Move-constructed, so the object keeps the storage it was parsed into (move assignment would
  // copy it into the default storage instead).
  ConverseRequest request{.operation = operation,
                          .model_id = std::move(model_id),
                          .converse = std::move(parsed.get_object())};
  // The path carries the model; a body member of the same name is ignored, as the SDKs never
  // send one.
  request.converse.erase("modelId");

  auto valid = ValidateConverseBody(request.converse);
  if (!valid) {
    return valid.error();
  }
  if (const auto* config = request.converse.if_contains("inferenceConfig");
      config && config->is_object()) {
    if (const auto* max_tokens = config->get_object().if_contains("maxTokens");
        max_tokens && max_tokens->is_int64()) {
      request.max_tokens = max_tokens->get_int64();
    }
  }
  return request;
}

std::string SerializeConverseRequest(const ConverseRequest& request) {
  return json::serialize(request.converse);
}

TokenUsage ReadUsage(const json::object& usage) {
  auto read = [&usage](std::string_view key) -> std::int64_t {
    const auto* value = usage.if_contains(key);
    if (value == nullptr || !value->is_number()) {
      return 0;
    }
    return value->to_number<std::int64_t>();
  };
  TokenUsage result;
  result.input_tokens = read("inputTokens");
  result.output_tokens = read("outputTokens");
  result.cache_read_input_tokens = read("cacheReadInputTokens");
  result.cache_write_input_tokens = read("cacheWriteInputTokens");
  return result;
}

json::object UsageToJson(const TokenUsage& usage) {
  json::object object;
  object["inputTokens"] = usage.input_tokens;
  object["outputTokens"] = usage.output_tokens;
  object["totalTokens"] = usage.total_tokens();
  if (usage.cache_read_input_tokens > 0) {
    object["cacheReadInputTokens"] = usage.cache_read_input_tokens;
  }
  if (usage.cache_write_input_tokens > 0) {
    object["cacheWriteInputTokens"] = usage.cache_write_input_tokens;
  }
  return object;
}

Result<ConverseResponse> ParseConverseResponse(std::string_view body, json::storage_ptr storage) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec, storage);
  if (ec || !parsed.is_object()) {
    return Error{ErrorCode::kInternalServer, "The upstream answered with a malformed body."};
  }
  ConverseResponse response{.converse = std::move(parsed.get_object())};
  if (const auto* usage = response.converse.if_contains("usage"); usage && usage->is_object()) {
    response.usage = ReadUsage(usage->get_object());
  }
  if (const auto* stop = response.converse.if_contains("stopReason"); stop && stop->is_string()) {
    response.stop_reason = std::string(stop->get_string());
  }
  return response;
}

json::object MakeConverseResponseBody(json::array content, std::string_view stop_reason,
                                      const TokenUsage& usage, std::int64_t latency_ms) {
  json::object message;
  message["role"] = "assistant";
  message["content"] = std::move(content);
  json::object output;
  output["message"] = std::move(message);

  json::object body;
  body["output"] = std::move(output);
  body["stopReason"] = stop_reason;
  body["usage"] = UsageToJson(usage);
  body["metrics"] = json::object{{"latencyMs", latency_ms}};
  return body;
}

}  // namespace sluice::core
