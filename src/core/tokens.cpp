#include "core/tokens.hpp"

#include <boost/json.hpp>

#include "core/converse.hpp"

namespace sluice::core {

namespace {

// A flat charge for an image or document block; Bedrock bills images by pixel count, which
// the gateway does not decode, so admission uses a typical medium image (~1,600 tokens).
constexpr std::int64_t kMediaBlockTokens = 1600;

// Tokens per started run of this many letters or digits.
constexpr std::size_t kCharsPerWordPiece = 6;

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

std::int64_t ContentBlockTokens(const boost::json::object& block) {
  if (const auto* text = block.if_contains("text"); text && text->is_string()) {
    return EstimateTokens(text->get_string());
  }
  if (block.contains("image") || block.contains("document") || block.contains("video") ||
      block.contains("audio")) {
    return kMediaBlockTokens;
  }
  if (const auto* tool_use = block.if_contains("toolUse")) {
    return EstimateJsonTokens(*tool_use);
  }
  if (const auto* tool_result = block.if_contains("toolResult");
      tool_result && tool_result->is_object()) {
    std::int64_t tokens = 0;
    if (const auto* content = tool_result->get_object().if_contains("content");
        content && content->is_array()) {
      for (const auto& item : content->get_array()) {
        if (item.is_object()) {
          const auto& inner = item.get_object();
          tokens += inner.contains("text") || inner.contains("image") || inner.contains("document")
                        ? ContentBlockTokens(inner)
                        : EstimateJsonTokens(item);
        }
      }
    }
    return tokens;
  }
  if (const auto* reasoning = block.if_contains("reasoningContent")) {
    return EstimateJsonTokens(*reasoning);
  }
  if (const auto* guard = block.if_contains("guardContent")) {
    return EstimateJsonTokens(*guard);
  }
  return 0;  // cachePoint and other markers cost nothing
}

std::int64_t BlockListTokens(const boost::json::value* blocks) {
  if (blocks == nullptr || !blocks->is_array()) {
    return 0;
  }
  std::int64_t tokens = 0;
  for (const auto& block : blocks->get_array()) {
    if (block.is_object()) {
      tokens += ContentBlockTokens(block.get_object());
    }
  }
  return tokens;
}

}  // namespace

std::int64_t EstimateTokens(std::string_view text) {
  std::int64_t tokens = 0;
  std::size_t word_length = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (IsWordByte(c)) {
      if (word_length % kCharsPerWordPiece == 0) {
        ++tokens;
      }
      ++word_length;
      continue;
    }
    word_length = 0;
    if (c >= 0x80) {
      // Count UTF-8 lead bytes only, so each code point is one token.
      if ((c & 0xC0) != 0x80) {
        ++tokens;
      }
    } else if (c > ' ') {
      ++tokens;
    }
  }
  return tokens;
}

std::int64_t EstimateJsonTokens(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::string:
      return EstimateTokens(value.get_string());
    case boost::json::kind::object: {
      std::int64_t tokens = 1;
      for (const auto& member : value.get_object()) {
        tokens += EstimateTokens(member.key()) + 1 + EstimateJsonTokens(member.value());
      }
      return tokens;
    }
    case boost::json::kind::array: {
      std::int64_t tokens = 1;
      for (const auto& item : value.get_array()) {
        tokens += EstimateJsonTokens(item) + 1;
      }
      return tokens;
    }
    case boost::json::kind::null:
      return 1;
    default:
      return 1;  // a number or boolean is about one token
  }
}

std::int64_t EstimateInputTokens(const ConverseRequest& request) {
  const auto& body = request.converse;
  std::int64_t tokens = BlockListTokens(body.if_contains("system"));

  if (const auto* messages = body.if_contains("messages"); messages && messages->is_array()) {
    for (const auto& message : messages->get_array()) {
      if (message.is_object()) {
        // Role markers and turn separators cost a few tokens per message in every chat template.
        tokens += 3 + BlockListTokens(message.get_object().if_contains("content"));
      }
    }
  }

  if (const auto* tool_config = body.if_contains("toolConfig");
      tool_config && tool_config->is_object()) {
    if (const auto* tools = tool_config->get_object().if_contains("tools")) {
      tokens += EstimateJsonTokens(*tools);
    }
  }
  return tokens;
}

}  // namespace sluice::core
