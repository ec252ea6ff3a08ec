#include "core/anthropic_messages.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/converse_json.hpp"

namespace sluice::core::anthropic {

namespace {

namespace json = boost::json;

// The only version Bedrock accepts in an Anthropic body.
constexpr std::string_view kBedrockVersion = "bedrock-2023-05-31";

// Bedrock's wording for a body that is not a JSON object.
constexpr std::string_view kMalformedMessage =
    "Malformed input request, please reformat your input and try again.";

// A name for a document that has no usable title; Converse requires one.
constexpr std::string_view kDocumentNamePrefix = "document-";

// Longest document name Converse accepts.
constexpr std::size_t kMaxDocumentName = 200;

// A JSON pointer (`#/messages/0/content`) that is spelled out only when a violation needs it, so
// walking a valid body allocates nothing for paths. Each level borrows its parent, so a child
// must not outlive the expression or scope that made its parent.
class Pointer {
 public:
  Pointer() = default;

  Pointer Key(std::string_view key) const { return Pointer(this, key, 0); }

  Pointer Index(std::size_t index) const { return Pointer(this, {}, index); }

  std::string ToString() const {
    if (parent_ == nullptr) {
      return "#";
    }
    std::string text = parent_->ToString();
    text += '/';
    text += key_.empty() ? std::to_string(index_) : std::string(key_);
    return text;
  }

 private:
  Pointer(const Pointer* parent, std::string_view key, std::size_t index)
      : parent_(parent), key_(key), index_(index) {}

  const Pointer* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = 0;
};

enum class Expect { kString, kInteger, kNumber, kBoolean, kObject, kArray };

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

// Schema violations in the validator's wording. Bedrock joins all of them, without a
// separator, into one message.
class Violations {
 public:
  void Add(const Pointer& at, std::string_view problem) {
    text_ += at.ToString();
    text_ += ": ";
    text_ += problem;
  }

  void MissingKey(const Pointer& at, std::string_view key) {
    Add(at, fmt::format("required key [{}] not found", key));
  }

  void WrongType(const Pointer& at, Expect expect, const json::value& found) {
    Add(at, fmt::format("expected type: {}, found: {}", ExpectName(expect), FoundName(found)));
  }

  void NotInEnum(const Pointer& at, std::string_view value) {
    Add(at, fmt::format("{} is not a valid enum value", value));
  }

  bool empty() const { return text_.empty(); }

  Error ToError() const {
    return Error{ErrorCode::kValidation,
                 fmt::format("Malformed input request: {}, please reformat your input and try "
                             "again.",
                             text_)};
  }

 private:
  std::string text_;
};

// The member `key` of `object` when it has the expected type. A member of another type is
// recorded as a violation; either way only a usable value is returned.
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

// Converse names a document with 1-200 characters: letters, digits, single spaces, hyphens,
// parentheses and square brackets. Anthropic's optional title is free text.
std::string DocumentName(const json::value* title, int ordinal) {
  std::string name;
  if (title != nullptr && title->is_string()) {
    for (const char c : std::string_view(title->get_string())) {
      const bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '(' ||
                           c == ')' || c == '[' || c == ']';
      if (allowed) {
        name += c;
      } else if (!name.empty() && name.back() != ' ') {
        name += ' ';
      }
    }
  }
  while (!name.empty() && name.back() == ' ') {
    name.pop_back();
  }
  if (name.empty()) {
    return fmt::format("{}{}", kDocumentNamePrefix, ordinal);
  }
  return name.substr(0, kMaxDocumentName);
}

// Where a content block sits: directly in a message, or inside a tool result or document, where
// only text, images and documents may appear.
enum class Scope { kMessage, kInner };

// Reads an Anthropic request body and builds the Converse body from it, moving strings and
// sub-documents out of the parsed body instead of copying them (images can be megabytes).
class RequestReader {
 public:
  explicit RequestReader(Violations& violations) : violations_(violations) {}

  json::object Read(json::object& body);

 private:
  void ReadInference(json::object& body, json::object& inference, json::object& additional);
  json::array ReadSystem(json::value& system, const Pointer& at);
  json::array ReadMessages(json::array& messages, const Pointer& at);
  void ReadContent(json::value& content, const Pointer& at, Scope scope, json::array& out);
  void ReadBlock(json::object& block, const Pointer& at, Scope scope, json::array& out);
  void ReadCacheControl(json::object& holder, const Pointer& at, json::array& out);
  json::value ReadImage(json::object& block, const Pointer& at);
  json::value ReadDocument(json::object& block, const Pointer& at);
  json::value ReadToolUse(json::object& block, const Pointer& at);
  json::value ReadToolResult(json::object& block, const Pointer& at);
  json::value ReadReasoning(json::object& block, std::string_view type, const Pointer& at);
  void ReadTools(json::array& tools, const Pointer& at, json::array& specs,
                 json::object& additional);
  void ReadToolChoice(json::value& choice, const Pointer& at, json::object& tool_config,
                      json::object& additional);

  Violations& violations_;
  int documents_ = 0;
};

bool IsTranslatedMember(std::string_view key) {
  constexpr std::array kMembers = {
      "anthropic_version", "max_tokens", "messages",   "system", "temperature", "top_p", "top_k",
      "stop_sequences",    "tools",      "tool_choice"};
  return std::find(kMembers.begin(), kMembers.end(), key) != kMembers.end();
}

json::object RequestReader::Read(json::object& body) {
  const Pointer root;
  if (auto* version = Require(body, "anthropic_version", Expect::kString, root, violations_);
      version != nullptr && version->get_string() != kBedrockVersion) {
    violations_.NotInEnum(root.Key("anthropic_version"), version->get_string());
  }
  if (auto* max_tokens = Require(body, "max_tokens", Expect::kInteger, root, violations_)) {
    CheckMinimum(*max_tokens, 1, root.Key("max_tokens"), violations_);
  }
  auto* messages = Require(body, "messages", Expect::kArray, root, violations_);

  json::object converse;
  if (messages != nullptr) {
    converse.emplace("messages", ReadMessages(messages->get_array(), root.Key("messages")));
  }
  if (auto* system = body.if_contains("system")) {
    auto blocks = ReadSystem(*system, root.Key("system"));
    if (!blocks.empty()) {
      converse.emplace("system", std::move(blocks));
    }
  }

  json::object inference;
  json::object additional;
  ReadInference(body, inference, additional);
  if (!inference.empty()) {
    converse.emplace("inferenceConfig", std::move(inference));
  }

  json::array specs;
  json::object tool_config;
  if (auto* tools = Find(body, "tools", Expect::kArray, root, violations_)) {
    ReadTools(tools->get_array(), root.Key("tools"), specs, additional);
  }
  if (!specs.empty()) {
    tool_config.emplace("tools", std::move(specs));
  }
  if (auto* choice = body.if_contains("tool_choice")) {
    ReadToolChoice(*choice, root.Key("tool_choice"), tool_config, additional);
  }
  if (!tool_config.empty()) {
    converse.emplace("toolConfig", std::move(tool_config));
  }

  // `thinking`, `anthropic_beta`, `metadata` and anything newer reach the model through the
  // pass-through document; whether the model accepts them is the model's call, as on Bedrock.
  for (auto& member : body) {
    if (!IsTranslatedMember(member.key())) {
      additional.emplace(member.key(), std::move(member.value()));
    }
  }
  if (!additional.empty()) {
    converse.emplace("additionalModelRequestFields", std::move(additional));
  }
  return converse;
}

void RequestReader::ReadInference(json::object& body, json::object& inference,
                                  json::object& additional) {
  const Pointer root;
  if (auto* max_tokens = body.if_contains("max_tokens");
      max_tokens != nullptr && Matches(*max_tokens, Expect::kInteger)) {
    inference.emplace("maxTokens", *max_tokens);
  }
  if (auto* temperature = Find(body, "temperature", Expect::kNumber, root, violations_)) {
    CheckMinimum(*temperature, 0, root.Key("temperature"), violations_);
    CheckMaximum(*temperature, 1, root.Key("temperature"), violations_);
    inference.emplace("temperature", *temperature);
  }
  if (auto* top_p = Find(body, "top_p", Expect::kNumber, root, violations_)) {
    CheckMinimum(*top_p, 0, root.Key("top_p"), violations_);
    CheckMaximum(*top_p, 1, root.Key("top_p"), violations_);
    inference.emplace("topP", *top_p);
  }
  if (auto* stops = Find(body, "stop_sequences", Expect::kArray, root, violations_)) {
    const Pointer at = root.Key("stop_sequences");
    for (std::size_t i = 0; i < stops->get_array().size(); ++i) {
      if (!stops->get_array()[i].is_string()) {
        violations_.WrongType(at.Index(i), Expect::kString, stops->get_array()[i]);
      }
    }
    inference.emplace("stopSequences", std::move(*stops));
  }
  // Converse has no top_k; Bedrock documents passing it through for Claude.
  if (auto* top_k = Find(body, "top_k", Expect::kInteger, root, violations_)) {
    CheckMinimum(*top_k, 0, root.Key("top_k"), violations_);
    additional.emplace("top_k", *top_k);
  }
}

json::array RequestReader::ReadSystem(json::value& system, const Pointer& at) {
  json::array blocks;
  if (system.is_string()) {
    // Converse refuses blank text, while Anthropic treats an empty system prompt as none.
    if (system.get_string().find_first_not_of(" \t\r\n") != json::string::npos) {
      blocks.emplace_back(json::object{{"text", std::move(system.get_string())}});
    }
    return blocks;
  }
  if (!system.is_array()) {
    violations_.WrongType(at, Expect::kString, system);
    return blocks;
  }

  auto& items = system.get_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Pointer item_at = at.Index(i);
    if (!items[i].is_object()) {
      violations_.WrongType(item_at, Expect::kObject, items[i]);
      continue;
    }
    auto& block = items[i].get_object();
    auto* type = Require(block, "type", Expect::kString, item_at, violations_);
    if (type != nullptr && type->get_string() != "text") {
      violations_.NotInEnum(item_at.Key("type"), type->get_string());
    }
    if (auto* text = Require(block, "text", Expect::kString, item_at, violations_)) {
      blocks.emplace_back(json::object{{"text", std::move(text->get_string())}});
    }
    ReadCacheControl(block, item_at, blocks);
  }
  return blocks;
}

json::array RequestReader::ReadMessages(json::array& messages, const Pointer& at) {
  json::array out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Pointer message_at = at.Index(i);
    if (!messages[i].is_object()) {
      violations_.WrongType(message_at, Expect::kObject, messages[i]);
      continue;
    }
    auto& message = messages[i].get_object();
    auto* role = Require(message, "role", Expect::kString, message_at, violations_);
    if (role != nullptr && role->get_string() != "user" && role->get_string() != "assistant") {
      violations_.NotInEnum(message_at.Key("role"), role->get_string());
      role = nullptr;
    }
    if (!message.contains("content")) {
      violations_.MissingKey(message_at, "content");
      continue;
    }

    // NOTE: Anthropic merges consecutive turns of one role into a single turn; Converse refuses
    // them, so the merge happens here.
    json::array content;
    ReadContent(message.at("content"), message_at.Key("content"), Scope::kMessage, content);
    if (role == nullptr) {
      continue;
    }
    auto* previous = out.empty() ? nullptr : &out.back().get_object();
    if (previous != nullptr && previous->at("role").get_string() == role->get_string()) {
      auto& merged = previous->at("content").get_array();
      for (auto& block : content) {
        merged.push_back(std::move(block));
      }
      continue;
    }
    out.emplace_back(json::object{{"role", role->get_string()}, {"content", std::move(content)}});
  }
  return out;
}

void RequestReader::ReadContent(json::value& content, const Pointer& at, Scope scope,
                                json::array& out) {
  if (content.is_string()) {
    out.emplace_back(json::object{{"text", std::move(content.get_string())}});
    return;
  }
  if (!content.is_array()) {
    violations_.WrongType(at, Expect::kString, content);
    return;
  }
  auto& blocks = content.get_array();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const Pointer block_at = at.Index(i);
    if (!blocks[i].is_object()) {
      violations_.WrongType(block_at, Expect::kObject, blocks[i]);
      continue;
    }
    ReadBlock(blocks[i].get_object(), block_at, scope, out);
  }
}

void RequestReader::ReadBlock(json::object& block, const Pointer& at, Scope scope,
                              json::array& out) {
  auto* type_value = Require(block, "type", Expect::kString, at, violations_);
  if (type_value == nullptr) {
    return;
  }
  const std::string_view type = type_value->get_string();

  if (type == "text") {
    if (auto* text = Require(block, "text", Expect::kString, at, violations_)) {
      out.emplace_back(json::object{{"text", std::move(text->get_string())}});
    }
  } else if (type == "image") {
    out.emplace_back(json::object{{"image", ReadImage(block, at)}});
  } else if (type == "document") {
    out.emplace_back(json::object{{"document", ReadDocument(block, at)}});
  } else if (type == "tool_use" && scope == Scope::kMessage) {
    out.emplace_back(json::object{{"toolUse", ReadToolUse(block, at)}});
  } else if (type == "tool_result" && scope == Scope::kMessage) {
    out.emplace_back(json::object{{"toolResult", ReadToolResult(block, at)}});
  } else if ((type == "thinking" || type == "redacted_thinking") && scope == Scope::kMessage) {
    out.emplace_back(json::object{{"reasoningContent", ReadReasoning(block, type, at)}});
  } else {
    violations_.NotInEnum(at.Key("type"), type);
    return;
  }

  // Limitation: a cache_control inside a tool result's content is dropped, because Converse
  // allows cache points only between message blocks. Clients put it on the tool_result block
  // itself in practice; a nested one would need Converse to grow the member first.
  if (scope == Scope::kMessage) {
    ReadCacheControl(block, at, out);
  }
}

void RequestReader::ReadCacheControl(json::object& holder, const Pointer& at, json::array& out) {
  auto* control = Find(holder, "cache_control", Expect::kObject, at, violations_);
  if (control == nullptr) {
    return;
  }
  const Pointer control_at = at.Key("cache_control");
  auto& object = control->get_object();
  auto* type = Require(object, "type", Expect::kString, control_at, violations_);
  if (type != nullptr && type->get_string() != "ephemeral") {
    violations_.NotInEnum(control_at.Key("type"), type->get_string());
  }

  json::object cache_point{{"type", "default"}};
  if (auto* ttl = Find(object, "ttl", Expect::kString, control_at, violations_)) {
    cache_point.emplace("ttl", std::move(ttl->get_string()));
  }
  out.emplace_back(json::object{{"cachePoint", std::move(cache_point)}});
}

json::value RequestReader::ReadImage(json::object& block, const Pointer& at) {
  json::object image;
  auto* source_value = Require(block, "source", Expect::kObject, at, violations_);
  if (source_value == nullptr) {
    return image;
  }
  const Pointer source_at = at.Key("source");
  auto& source = source_value->get_object();
  auto* type = Require(source, "type", Expect::kString, source_at, violations_);
  if (type != nullptr && type->get_string() != "base64") {
    // Bedrock takes images inline only; URL and file sources are Anthropic API features.
    violations_.NotInEnum(source_at.Key("type"), type->get_string());
  }
  if (auto* media_type = Require(source, "media_type", Expect::kString, source_at, violations_)) {
    const std::string_view media = media_type->get_string();
    const std::string_view format = media.substr(std::min(media.size(), std::size_t{6}));
    const bool known = media.substr(0, 6) == "image/" &&
                       (format == "png" || format == "jpeg" || format == "gif" || format == "webp");
    if (known) {
      image.emplace("format", format);
    } else {
      violations_.NotInEnum(source_at.Key("media_type"), media);
    }
  }
  if (auto* data = Require(source, "data", Expect::kString, source_at, violations_)) {
    image.emplace("source", json::object{{"bytes", std::move(data->get_string())}});
  }
  return image;
}

json::value RequestReader::ReadDocument(json::object& block, const Pointer& at) {
  json::object document;
  auto* source_value = Require(block, "source", Expect::kObject, at, violations_);
  if (source_value == nullptr) {
    return document;
  }
  const Pointer source_at = at.Key("source");
  auto& source = source_value->get_object();
  auto* type = Require(source, "type", Expect::kString, source_at, violations_);
  if (type == nullptr) {
    return document;
  }

  json::object converse_source;
  if (type->get_string() == "base64") {
    auto* media_type = Require(source, "media_type", Expect::kString, source_at, violations_);
    if (media_type != nullptr && media_type->get_string() != "application/pdf") {
      violations_.NotInEnum(source_at.Key("media_type"), media_type->get_string());
    }
    document.emplace("format", "pdf");
    if (auto* data = Require(source, "data", Expect::kString, source_at, violations_)) {
      converse_source.emplace("bytes", std::move(data->get_string()));
    }
  } else if (type->get_string() == "text") {
    document.emplace("format", "txt");
    if (auto* data = Require(source, "data", Expect::kString, source_at, violations_)) {
      converse_source.emplace("text", std::move(data->get_string()));
    }
  } else if (type->get_string() == "content") {
    document.emplace("format", "txt");
    json::array parts;
    if (auto* content = Require(source, "content", Expect::kArray, source_at, violations_)) {
      ReadContent(*content, source_at.Key("content"), Scope::kInner, parts);
    }
    converse_source.emplace("content", std::move(parts));
  } else {
    violations_.NotInEnum(source_at.Key("type"), type->get_string());
  }

  document.emplace("name", DocumentName(block.if_contains("title"), ++documents_));
  document.emplace("source", std::move(converse_source));
  if (auto* context = Find(block, "context", Expect::kString, at, violations_)) {
    document.emplace("context", std::move(context->get_string()));
  }
  if (auto* citations = Find(block, "citations", Expect::kObject, at, violations_)) {
    document.emplace("citations", std::move(*citations));
  }
  return document;
}

json::value RequestReader::ReadToolUse(json::object& block, const Pointer& at) {
  json::object tool_use;
  if (auto* id = Require(block, "id", Expect::kString, at, violations_)) {
    tool_use.emplace("toolUseId", std::move(id->get_string()));
  }
  if (auto* name = Require(block, "name", Expect::kString, at, violations_)) {
    tool_use.emplace("name", std::move(name->get_string()));
  }
  if (auto* input = Require(block, "input", Expect::kObject, at, violations_)) {
    tool_use.emplace("input", std::move(*input));
  }
  return tool_use;
}

json::value RequestReader::ReadToolResult(json::object& block, const Pointer& at) {
  json::object result;
  if (auto* id = Require(block, "tool_use_id", Expect::kString, at, violations_)) {
    result.emplace("toolUseId", std::move(id->get_string()));
  }

  // Limitation: a tool result without content becomes an empty content list, which Bedrock's
  // Converse may refuse; Anthropic allows it. Synthesizing placeholder text would change what
  // the model reads, so the gap stays visible until Bedrock's behaviour is measured.
  json::array content;
  if (auto* value = block.if_contains("content")) {
    ReadContent(*value, at.Key("content"), Scope::kInner, content);
  }
  result.emplace("content", std::move(content));

  if (auto* is_error = Find(block, "is_error", Expect::kBoolean, at, violations_)) {
    result.emplace("status", is_error->get_bool() ? "error" : "success");
  }
  return result;
}

// Thinking from an earlier assistant turn, which Claude needs back unchanged (with its
// signature) when tools are used with extended thinking.
json::value RequestReader::ReadReasoning(json::object& block, std::string_view type,
                                         const Pointer& at) {
  if (type == "redacted_thinking") {
    auto* data = Require(block, "data", Expect::kString, at, violations_);
    return json::object{
        {"redactedContent", data != nullptr ? std::move(data->get_string()) : json::string()}};
  }
  json::object reasoning_text;
  if (auto* text = Require(block, "thinking", Expect::kString, at, violations_)) {
    reasoning_text.emplace("text", std::move(text->get_string()));
  }
  if (auto* signature = Find(block, "signature", Expect::kString, at, violations_)) {
    reasoning_text.emplace("signature", std::move(signature->get_string()));
  }
  return json::object{{"reasoningText", std::move(reasoning_text)}};
}

void RequestReader::ReadTools(json::array& tools, const Pointer& at, json::array& specs,
                              json::object& additional) {
  json::array server_tools;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const Pointer tool_at = at.Index(i);
    if (!tools[i].is_object()) {
      violations_.WrongType(tool_at, Expect::kObject, tools[i]);
      continue;
    }
    auto& tool = tools[i].get_object();

    // Anthropic-defined tools (computer use, bash, text editor) carry a versioned type and no
    // schema; Bedrock's Converse takes them through additionalModelRequestFields.
    if (const auto* type = tool.if_contains("type");
        type != nullptr && !(type->is_string() && type->get_string() == "custom")) {
      server_tools.push_back(std::move(tools[i]));
      continue;
    }

    json::object spec;
    if (auto* name = Require(tool, "name", Expect::kString, tool_at, violations_)) {
      spec.emplace("name", std::move(name->get_string()));
    }
    if (auto* description = Find(tool, "description", Expect::kString, tool_at, violations_)) {
      spec.emplace("description", std::move(description->get_string()));
    }
    if (auto* schema = Require(tool, "input_schema", Expect::kObject, tool_at, violations_)) {
      spec.emplace("inputSchema", json::object{{"json", std::move(*schema)}});
    }
    specs.emplace_back(json::object{{"toolSpec", std::move(spec)}});
    ReadCacheControl(tool, tool_at, specs);
  }
  if (!server_tools.empty()) {
    additional.emplace("tools", std::move(server_tools));
  }
}

void RequestReader::ReadToolChoice(json::value& choice, const Pointer& at,
                                   json::object& tool_config, json::object& additional) {
  if (!choice.is_object()) {
    violations_.WrongType(at, Expect::kObject, choice);
    return;
  }
  auto& object = choice.get_object();
  auto* type_value = Require(object, "type", Expect::kString, at, violations_);
  if (type_value == nullptr) {
    return;
  }
  const std::string_view type = type_value->get_string();
  if (type != "auto" && type != "any" && type != "tool" && type != "none") {
    violations_.NotInEnum(at.Key("type"), type);
    return;
  }

  json::object converse_choice;
  if (type == "tool") {
    if (auto* name = Require(object, "name", Expect::kString, at, violations_)) {
      converse_choice.emplace("tool", json::object{{"name", name->get_string()}});
    }
  } else if (type != "none") {
    converse_choice.emplace(type, json::object{});
  }

  // Converse has no `none` choice and no switch for parallel tool use, and needs a tool list for
  // any choice, so such choices travel to the model untranslated.
  const bool expressible =
      type != "none" && object.size() == (type == "tool" ? 2 : 1) && tool_config.contains("tools");
  if (expressible) {
    tool_config.emplace("toolChoice", std::move(converse_choice));
  } else {
    additional.emplace("tool_choice", std::move(choice));
  }
}

// Converse's stop reasons in Anthropic's vocabulary.
std::string_view StopReasonToAnthropic(std::string_view reason) {
  if (reason == "tool_use" || reason == "max_tokens" || reason == "stop_sequence" ||
      reason == "model_context_window_exceeded") {
    return reason;
  }
  if (reason == "content_filtered") {
    return "refusal";
  }
  // end_turn, and reasons Anthropic has no name for (a guardrail's intervention arrives as the
  // guardrail's text, which ends the turn).
  return "end_turn";
}

std::string StopReasonFromAnthropic(std::string_view reason) {
  if (reason == "refusal") {
    return "content_filtered";
  }
  if (reason == "pause_turn") {
    return "end_turn";
  }
  return std::string(reason);
}

// A count from an upstream body; anything but a number reads as zero, and a fraction is cut.
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

// One block of a Converse answer as an Anthropic content block; null for blocks Anthropic has no
// counterpart for (cache points, citation wrappers).
json::value BlockToAnthropic(const json::object& block) {
  if (const auto* text = block.if_contains("text"); text != nullptr && text->is_string()) {
    return json::object{{"type", "text"}, {"text", *text}};
  }
  if (const auto* tool_use = ObjectMember(block, "toolUse")) {
    const auto* input = tool_use->if_contains("input");
    return json::object{{"type", "tool_use"},
                        {"id", StringMember(*tool_use, "toolUseId")},
                        {"name", StringMember(*tool_use, "name")},
                        {"input", input != nullptr ? *input : json::object{}}};
  }
  if (const auto* reasoning = ObjectMember(block, "reasoningContent")) {
    if (const auto* text = ObjectMember(*reasoning, "reasoningText")) {
      return json::object{{"type", "thinking"},
                          {"thinking", StringMember(*text, "text")},
                          {"signature", StringMember(*text, "signature")}};
    }
    return json::object{{"type", "redacted_thinking"},
                        {"data", StringMember(*reasoning, "redactedContent")}};
  }
  return nullptr;
}

json::object BlockFromAnthropic(json::object& block) {
  const std::string_view type = StringMember(block, "type");
  if (type == "tool_use") {
    json::object tool_use{{"toolUseId", StringMember(block, "id")},
                          {"name", StringMember(block, "name")}};
    if (auto* input = block.if_contains("input")) {
      tool_use.emplace("input", std::move(*input));
    }
    return json::object{{"toolUse", std::move(tool_use)}};
  }
  if (type == "thinking") {
    json::object text{{"text", StringMember(block, "thinking")}};
    if (const auto signature = StringMember(block, "signature"); !signature.empty()) {
      text.emplace("signature", signature);
    }
    return json::object{{"reasoningContent", json::object{{"reasoningText", std::move(text)}}}};
  }
  if (type == "redacted_thinking") {
    return json::object{
        {"reasoningContent", json::object{{"redactedContent", StringMember(block, "data")}}}};
  }
  if (auto* text = block.if_contains("text"); text != nullptr && text->is_string()) {
    return json::object{{"text", std::move(text->get_string())}};
  }
  return {};
}

json::object UsageToAnthropic(const TokenUsage& usage) {
  return json::object{{"input_tokens", usage.input_tokens},
                      {"output_tokens", usage.output_tokens},
                      {"cache_creation_input_tokens", usage.cache_write_input_tokens},
                      {"cache_read_input_tokens", usage.cache_read_input_tokens}};
}

json::object InvocationMetrics(const TokenUsage& usage, std::int64_t latency_ms,
                               std::int64_t first_byte_latency_ms) {
  json::object metrics{{"inputTokenCount", usage.input_tokens},
                       {"outputTokenCount", usage.output_tokens},
                       {"invocationLatency", latency_ms},
                       {"firstByteLatency", first_byte_latency_ms}};
  if (usage.cache_read_input_tokens > 0) {
    metrics.emplace("cacheReadInputTokenCount", usage.cache_read_input_tokens);
  }
  if (usage.cache_write_input_tokens > 0) {
    metrics.emplace("cacheWriteInputTokenCount", usage.cache_write_input_tokens);
  }
  return metrics;
}

void Emit(const json::object& event, std::vector<std::string>& out) {
  out.push_back(json::serialize(event));
}

std::int64_t BlockIndex(const json::object& payload) {
  return ReadCount(payload, "contentBlockIndex");
}

}  // namespace

Result<ConverseRequest> ParseInvokeBody(std::string_view body, Operation operation,
                                        std::string model_id) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return Error{ErrorCode::kValidation, std::string(kMalformedMessage)};
  }

  Violations violations;
  RequestReader reader(violations);
  json::object converse = reader.Read(parsed.get_object());
  if (!violations.empty()) {
    return violations.ToError();
  }

  ConverseRequest request;
  request.operation = operation;
  request.model_id = std::move(model_id);
  request.converse = std::move(converse);
  if (const auto* max_tokens = parsed.get_object().if_contains("max_tokens");
      max_tokens != nullptr && max_tokens->is_int64()) {
    request.max_tokens = max_tokens->get_int64();
  }
  request.native = NativeBody{NativeFormat::kAnthropicMessages, std::string(body)};

  auto valid = ValidateConverseBody(request.converse);
  if (!valid) {
    return valid.error();
  }
  return request;
}

Result<ConverseResponse> ParseResponse(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return Error{ErrorCode::kInternalServer, "The upstream answered with a malformed body."};
  }
  auto& message = parsed.get_object();
  if (StringMember(message, "type") == "error") {
    const auto* error = ObjectMember(message, "error");
    return Error{ErrorCode::kModelError,
                 std::string(error != nullptr ? StringMember(*error, "message") : "")};
  }

  json::array content;
  if (auto* blocks = message.if_contains("content"); blocks != nullptr && blocks->is_array()) {
    for (auto& block : blocks->get_array()) {
      if (block.is_object()) {
        if (auto converted = BlockFromAnthropic(block.get_object()); !converted.empty()) {
          content.emplace_back(std::move(converted));
        }
      }
    }
  }

  ConverseResponse response;
  if (const auto* usage = ObjectMember(message, "usage")) {
    response.usage.input_tokens = ReadCount(*usage, "input_tokens");
    response.usage.output_tokens = ReadCount(*usage, "output_tokens");
    response.usage.cache_read_input_tokens = ReadCount(*usage, "cache_read_input_tokens");
    response.usage.cache_write_input_tokens = ReadCount(*usage, "cache_creation_input_tokens");
  }
  response.stop_reason = StopReasonFromAnthropic(StringMember(message, "stop_reason"));
  // The relayed body carries no latency; the front door measures its own.
  response.converse =
      MakeConverseResponseBody(std::move(content), response.stop_reason, response.usage, 0);
  if (const auto stop_sequence = StringMember(message, "stop_sequence"); !stop_sequence.empty()) {
    response.converse.emplace("additionalModelResponseFields",
                              json::object{{"stop_sequence", stop_sequence}});
  }
  response.native = NativeBody{NativeFormat::kAnthropicMessages, std::string(body)};
  return response;
}

std::string EncodeResponse(const ConverseResponse& response, std::string_view model_id,
                           std::string_view message_id) {
  json::array content;
  const auto* output = ObjectMember(response.converse, "output");
  const auto* message = output != nullptr ? ObjectMember(*output, "message") : nullptr;
  const auto* blocks = message != nullptr ? message->if_contains("content") : nullptr;
  if (blocks != nullptr && blocks->is_array()) {
    for (const auto& block : blocks->get_array()) {
      if (!block.is_object()) {
        continue;
      }
      if (auto converted = BlockToAnthropic(block.get_object()); !converted.is_null()) {
        content.push_back(std::move(converted));
      }
    }
  }

  // Converse reports the matched stop sequence only when the caller asked for it through
  // additionalModelResponseFieldPaths; otherwise Anthropic's member stays null.
  json::value stop_sequence = nullptr;
  if (const auto* fields = ObjectMember(response.converse, "additionalModelResponseFields")) {
    if (const auto text = StringMember(*fields, "stop_sequence"); !text.empty()) {
      stop_sequence = text;
    }
  }

  const json::object body{{"id", message_id},
                          {"type", "message"},
                          {"role", "assistant"},
                          {"model", ModelName(model_id)},
                          {"content", std::move(content)},
                          {"stop_reason", StopReasonToAnthropic(response.stop_reason)},
                          {"stop_sequence", std::move(stop_sequence)},
                          {"usage", UsageToAnthropic(response.usage)}};
  return json::serialize(body);
}

std::string ModelName(std::string_view model_id) {
  // An ARN names the model or profile after its last slash.
  if (const auto slash = model_id.rfind('/'); slash != std::string_view::npos) {
    model_id.remove_prefix(slash + 1);
  }
  // `anthropic.` follows an optional geography prefix such as `us.` or `global.`.
  constexpr std::string_view kProvider = "anthropic.";
  if (const auto provider = model_id.find(kProvider); provider != std::string_view::npos) {
    model_id.remove_prefix(provider + kProvider.size());
  }
  // The Bedrock version suffix: `-v<major>:<minor>`.
  const auto all_digits = [](std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
  };
  const auto colon = model_id.rfind(':');
  const auto dash = model_id.rfind("-v");
  if (colon != std::string_view::npos && dash != std::string_view::npos && dash < colon &&
      all_digits(model_id.substr(dash + 2, colon - dash - 2)) &&
      all_digits(model_id.substr(colon + 1))) {
    model_id = model_id.substr(0, dash);
  }
  return std::string(model_id);
}

StreamTranslator::StreamTranslator(std::string_view model_id, std::string message_id,
                                   std::int64_t estimated_input_tokens)
    : model_(ModelName(model_id)),
      message_id_(std::move(message_id)),
      estimated_input_tokens_(estimated_input_tokens) {}

void StreamTranslator::Translate(const StreamEvent& event, std::vector<std::string>& out) {
  if (finished_ || event.type == StreamEventType::kNativeChunk) {
    return;
  }
  if (!started_) {
    StartMessage(out);
  }

  switch (event.type) {
    case StreamEventType::kMessageStart:
      break;  // message_start went out above, on whichever event came first
    case StreamEventType::kContentBlockStart:
      OnBlockStart(event.payload, out);
      break;
    case StreamEventType::kContentBlockDelta:
      OnBlockDelta(event.payload, out);
      break;
    case StreamEventType::kContentBlockStop:
      OnBlockStop(event.payload, out);
      break;
    case StreamEventType::kMessageStop:
      OnMessageStop(event.payload, out);
      break;
    case StreamEventType::kMetadata: {
      CloseOpenBlocks(out);
      const auto* usage = ObjectMember(event.payload, "usage");
      const auto* metrics = ObjectMember(event.payload, "metrics");
      EndMessage(usage != nullptr ? ReadUsage(*usage) : TokenUsage{},
                 metrics != nullptr ? ReadCount(*metrics, "latencyMs") : 0, out);
      break;
    }
    case StreamEventType::kNativeChunk:
      break;
  }
}

void StreamTranslator::Finish(std::vector<std::string>& out) {
  if (!started_ || finished_) {
    return;
  }
  CloseOpenBlocks(out);
  TokenUsage usage;
  usage.input_tokens = estimated_input_tokens_;
  EndMessage(usage, 0, out);
}

void StreamTranslator::StartMessage(std::vector<std::string>& out) {
  started_ = true;
  // Anthropic counts the first generated token in message_start; Bedrock relays that as 1.
  const json::object message{
      {"id", message_id_},
      {"type", "message"},
      {"role", "assistant"},
      {"model", model_},
      {"content", json::array{}},
      {"stop_reason", nullptr},
      {"stop_sequence", nullptr},
      {"usage", json::object{{"input_tokens", estimated_input_tokens_}, {"output_tokens", 1}}}};
  Emit(json::object{{"type", "message_start"}, {"message", message}}, out);
}

void StreamTranslator::OpenBlock(std::int64_t index, json::object content_block,
                                 std::vector<std::string>& out) {
  open_blocks_.push_back(index);
  highest_started_ = std::max(highest_started_, index);
  Emit(json::object{{"type", "content_block_start"},
                    {"index", index},
                    {"content_block", std::move(content_block)}},
       out);
}

bool StreamTranslator::IsOpen(std::int64_t index) const {
  return std::find(open_blocks_.begin(), open_blocks_.end(), index) != open_blocks_.end();
}

void StreamTranslator::OnBlockStart(const json::object& payload, std::vector<std::string>& out) {
  const auto index = BlockIndex(payload);
  const auto* start = ObjectMember(payload, "start");
  const auto* tool_use = start != nullptr ? ObjectMember(*start, "toolUse") : nullptr;
  if (tool_use == nullptr || index <= highest_started_) {
    return;  // other starts (tool results, images) have no Anthropic counterpart
  }
  OpenBlock(index,
            json::object{{"type", "tool_use"},
                         {"id", StringMember(*tool_use, "toolUseId")},
                         {"name", StringMember(*tool_use, "name")},
                         {"input", json::object{}}},
            out);
}

void StreamTranslator::OnBlockDelta(const json::object& payload, std::vector<std::string>& out) {
  const auto index = BlockIndex(payload);
  const auto* delta = ObjectMember(payload, "delta");
  if (delta == nullptr || (!IsOpen(index) && index <= highest_started_)) {
    return;  // a delta for a block already stopped
  }

  // Each Converse delta kind, as the content block Anthropic opens for it and its own delta.
  json::object block;
  json::object anthropic_delta;
  if (const auto* text = delta->if_contains("text"); text != nullptr && text->is_string()) {
    block = {{"type", "text"}, {"text", ""}};
    anthropic_delta = {{"type", "text_delta"}, {"text", *text}};
  } else if (const auto* tool_use = ObjectMember(*delta, "toolUse")) {
    block = {{"type", "tool_use"}, {"id", ""}, {"name", ""}, {"input", json::object{}}};
    anthropic_delta = {{"type", "input_json_delta"},
                       {"partial_json", StringMember(*tool_use, "input")}};
  } else if (const auto* reasoning = ObjectMember(*delta, "reasoningContent")) {
    block = {{"type", "thinking"}, {"thinking", ""}};
    if (reasoning->contains("text")) {
      anthropic_delta = {{"type", "thinking_delta"},
                         {"thinking", StringMember(*reasoning, "text")}};
    } else if (reasoning->contains("signature")) {
      anthropic_delta = {{"type", "signature_delta"},
                         {"signature", StringMember(*reasoning, "signature")}};
    } else if (reasoning->contains("redactedContent")) {
      // Anthropic sends redacted thinking whole, in its block start, with no delta.
      block = {{"type", "redacted_thinking"},
               {"data", StringMember(*reasoning, "redactedContent")}};
    }
  } else {
    return;  // citations and other deltas have no Anthropic stream counterpart
  }

  if (!IsOpen(index)) {
    OpenBlock(index, std::move(block), out);
  }
  if (!anthropic_delta.empty()) {
    Emit(json::object{{"type", "content_block_delta"},
                      {"index", index},
                      {"delta", std::move(anthropic_delta)}},
         out);
  }
}

void StreamTranslator::OnBlockStop(const json::object& payload, std::vector<std::string>& out) {
  const auto index = BlockIndex(payload);
  if (!IsOpen(index)) {
    if (index <= highest_started_) {
      return;
    }
    // An empty text block: Anthropic still expects it opened before it is closed.
    OpenBlock(index, json::object{{"type", "text"}, {"text", ""}}, out);
  }
  open_blocks_.erase(std::find(open_blocks_.begin(), open_blocks_.end(), index));
  Emit(json::object{{"type", "content_block_stop"}, {"index", index}}, out);
}

void StreamTranslator::OnMessageStop(const json::object& payload, std::vector<std::string>& out) {
  CloseOpenBlocks(out);
  stop_reason_ = StopReasonToAnthropic(StringMember(payload, "stopReason"));
  if (const auto* fields = ObjectMember(payload, "additionalModelResponseFields")) {
    if (const auto text = StringMember(*fields, "stop_sequence"); !text.empty()) {
      stop_sequence_ = std::string(text);
    }
  }
}

void StreamTranslator::CloseOpenBlocks(std::vector<std::string>& out) {
  for (const auto index : open_blocks_) {
    Emit(json::object{{"type", "content_block_stop"}, {"index", index}}, out);
  }
  open_blocks_.clear();
}

void StreamTranslator::EndMessage(const TokenUsage& usage, std::int64_t latency_ms,
                                  std::vector<std::string>& out) {
  finished_ = true;
  json::value stop_sequence = nullptr;
  if (stop_sequence_) {
    stop_sequence = *stop_sequence_;
  }
  std::string_view stop_reason = stop_reason_;
  if (stop_reason.empty()) {
    stop_reason = "end_turn";
  }
  Emit(json::object{{"type", "message_delta"},
                    {"delta", json::object{{"stop_reason", stop_reason},
                                           {"stop_sequence", std::move(stop_sequence)}}},
                    {"usage", json::object{{"output_tokens", usage.output_tokens}}}},
       out);
  Emit(json::object{{"type", "message_stop"},
                    {"amazon-bedrock-invocationMetrics",
                     InvocationMetrics(usage, latency_ms, first_byte_latency_ms_)}},
       out);
}

void ReadStreamUsage(const json::object& native_event, StreamSummary& summary) {
  const std::string_view type = StringMember(native_event, "type");
  if (type == "message_start") {
    const auto* message = ObjectMember(native_event, "message");
    if (const auto* usage = message != nullptr ? ObjectMember(*message, "usage") : nullptr) {
      summary.usage.input_tokens = ReadCount(*usage, "input_tokens");
      summary.usage.output_tokens = ReadCount(*usage, "output_tokens");
      summary.usage.cache_read_input_tokens = ReadCount(*usage, "cache_read_input_tokens");
      summary.usage.cache_write_input_tokens = ReadCount(*usage, "cache_creation_input_tokens");
    }
  } else if (type == "message_delta") {
    // Anthropic's output count here is the running total, not an increment.
    if (const auto* usage = ObjectMember(native_event, "usage");
        usage != nullptr && usage->contains("output_tokens")) {
      summary.usage.output_tokens = ReadCount(*usage, "output_tokens");
    }
    if (const auto* delta = ObjectMember(native_event, "delta")) {
      if (const auto reason = StringMember(*delta, "stop_reason"); !reason.empty()) {
        summary.stop_reason = StopReasonFromAnthropic(reason);
      }
    }
  }

  // Bedrock's own counts are what it bills and logs, so they replace the model's.
  if (const auto* metrics = ObjectMember(native_event, "amazon-bedrock-invocationMetrics")) {
    summary.usage.input_tokens = ReadCount(*metrics, "inputTokenCount");
    summary.usage.output_tokens = ReadCount(*metrics, "outputTokenCount");
    summary.usage.cache_read_input_tokens = ReadCount(*metrics, "cacheReadInputTokenCount");
    summary.usage.cache_write_input_tokens = ReadCount(*metrics, "cacheWriteInputTokenCount");
    summary.first_byte_latency_ms = ReadCount(*metrics, "firstByteLatency");
  }
}

}  // namespace sluice::core::anthropic
