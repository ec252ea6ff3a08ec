// ParseInvokeBody: an Anthropic Messages request body, as Bedrock's InvokeModel accepts it for
// Claude, read into the canonical Converse request.

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/anthropic_messages.hpp"
#include "core/converse_json.hpp"
#include "core/invoke_schema.hpp"

namespace sluice::core::anthropic {

namespace {

namespace json = boost::json;
using core::internal::CheckMaximum;
using core::internal::CheckMinimum;
using core::internal::Expect;
using core::internal::Find;
using core::internal::kMalformedMessage;
using core::internal::Matches;
using core::internal::Pointer;
using core::internal::Require;
using core::internal::Violations;

// The only version Bedrock accepts in an Anthropic body.
constexpr std::string_view kBedrockVersion = "bedrock-2023-05-31";

// A name for a document that has no usable title; Converse requires one.
constexpr std::string_view kDocumentNamePrefix = "document-";

// Longest document name Converse accepts.
constexpr std::size_t kMaxDocumentName = 200;

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

}  // namespace sluice::core::anthropic
