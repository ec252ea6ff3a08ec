#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/converse.hpp"
#include "core/error.hpp"

namespace sluice::core {

/// Parses and validates a Converse or ConverseStream request body the way Bedrock does, with
/// Bedrock's ValidationException messages. `model_id` comes from the path. The JSON is built in
/// `storage` (a per-request arena, usually), which must outlive the request.
Result<ConverseRequest> ParseConverseRequest(std::string_view body, Operation operation,
                                             std::string model_id,
                                             boost::json::storage_ptr storage = {});

/// Validates an already-built Converse body (from a translated front door) in place.
Result<void> ValidateConverseBody(const boost::json::object& body);

/// The request as a Converse body for an upstream (without `modelId`, which is in the path).
std::string SerializeConverseRequest(const ConverseRequest& request);

/// Parses a Converse response body from an upstream, reading usage and stop reason out of it.
/// The JSON is built in `storage`, which must outlive the response.
Result<ConverseResponse> ParseConverseResponse(std::string_view body,
                                               boost::json::storage_ptr storage = {});

/// Reads a Bedrock `usage` object (TokenUsage shape); missing members count as zero.
TokenUsage ReadUsage(const boost::json::object& usage);

/// Writes a Bedrock `usage` object, with the cache members only when they are non-zero.
boost::json::object UsageToJson(const TokenUsage& usage);

/// Builds a complete Converse response body from its parts.
boost::json::object MakeConverseResponseBody(boost::json::array content,
                                             std::string_view stop_reason, const TokenUsage& usage,
                                             std::int64_t latency_ms);

}  // namespace sluice::core
