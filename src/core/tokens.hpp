#pragma once

#include <cstdint>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace sluice::core {

struct ConverseRequest;

/// Token estimates, used where no tokenizer's count is available: admission before the answer,
/// and the simulator's usage figures. Every estimate in sluice comes from here.
///
/// The rule approximates BPE tokenizers on English text: a run of letters or digits costs one
/// token per started six characters, each punctuation mark one token, whitespace nothing, and
/// each non-ASCII code point one token. It is deterministic and never under-counts an empty
/// string as more than zero.
std::int64_t EstimateTokens(std::string_view text);

/// Estimated input tokens of a Converse request: system, messages (text, tool uses and tool
/// results) and tool definitions. Images and documents count a flat amount per block.
std::int64_t EstimateInputTokens(const ConverseRequest& request);

/// Estimated tokens of a JSON value's text content (strings and serialized structure).
std::int64_t EstimateJsonTokens(const boost::json::value& value);

}  // namespace sluice::core
