#include "providers/bedrock.hpp"

#include <array>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "aws/event_stream.hpp"
#include "core/anthropic_messages.hpp"
#include "core/converse_json.hpp"
#include "core/nova_messages.hpp"

namespace sluice::providers {

namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;

// Every exception name a Bedrock endpoint may send, so its error keeps its type through sluice.
constexpr std::array kKnownErrors = {
    core::ErrorCode::kValidation,         core::ErrorCode::kAccessDenied,
    core::ErrorCode::kUnrecognizedClient, core::ErrorCode::kInvalidSignature,
    core::ErrorCode::kResourceNotFound,   core::ErrorCode::kModelTimeout,
    core::ErrorCode::kThrottling,         core::ErrorCode::kServiceQuotaExceeded,
    core::ErrorCode::kModelNotReady,      core::ErrorCode::kModelError,
    core::ErrorCode::kModelStreamError,   core::ErrorCode::kInternalServer,
    core::ErrorCode::kServiceUnavailable};

// The SDKs' rule for an error code: drop everything from the first ':' on, then everything up
// to and including a '#'.
std::string_view SanitizeErrorType(std::string_view type) {
  type = type.substr(0, type.find(':'));
  if (const auto hash = type.find('#'); hash != std::string_view::npos) {
    type.remove_prefix(hash + 1);
  }
  return type;
}

std::optional<core::ErrorCode> ErrorCodeFromName(std::string_view name) {
  for (const auto code : kKnownErrors) {
    if (core::ExceptionName(code) == name || core::StreamExceptionName(code) == name) {
      return code;
    }
  }
  return std::nullopt;
}

core::ErrorCode ErrorCodeFromStatus(unsigned status) {
  switch (status) {
    case 400:
      return core::ErrorCode::kValidation;
    case 403:
      return core::ErrorCode::kAccessDenied;
    case 404:
      return core::ErrorCode::kResourceNotFound;
    case 408:
      return core::ErrorCode::kModelTimeout;
    case 424:
      return core::ErrorCode::kModelError;
    case 429:
      return core::ErrorCode::kThrottling;
    case 503:
      return core::ErrorCode::kServiceUnavailable;
    default:
      return core::ErrorCode::kInternalServer;
  }
}

std::string MessageFromBody(std::string_view body) {
  boost::system::error_code ec;
  const auto parsed = json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    for (const auto* key : {"message", "Message"}) {
      if (const auto* message = parsed.get_object().if_contains(key);
          message && message->is_string()) {
        return std::string(message->get_string());
      }
    }
  }
  return "The upstream answered with an error.";
}

core::Error UpstreamError(unsigned status, const bhttp::fields& headers, std::string_view body) {
  const auto type_header = headers["x-amzn-ErrorType"];
  const auto name = SanitizeErrorType(std::string_view(type_header.data(), type_header.size()));
  const auto code = ErrorCodeFromName(name).value_or(ErrorCodeFromStatus(status));
  return core::Error{code, MessageFromBody(body)};
}

core::Error TransportError(http::ClientError error, std::string_view upstream) {
  spdlog::warn("upstream call failed upstream={} reason=\"{}\"", upstream,
               http::ClientErrorText(error));
  switch (error) {
    case http::ClientError::kConnectFailed:
      return {core::ErrorCode::kServiceUnavailable,
              fmt::format("The upstream {} could not be reached.", upstream)};
    case http::ClientError::kTimedOut:
      return {core::ErrorCode::kModelTimeout,
              fmt::format("The upstream {} did not answer in time.", upstream)};
    case http::ClientError::kBroken:
    case http::ClientError::kBadResponse:
      break;
  }
  return {core::ErrorCode::kInternalServer,
          fmt::format("The connection to the upstream {} failed.", upstream)};
}

// Percent-encodes a path segment onto `out`: only unreserved characters stay as they are, so ':'
// and '/' in model IDs and ARNs travel as %3A and %2F, as the AWS SDKs send them.
void AppendEncodedSegment(std::string_view segment, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
}

std::string_view OperationPath(core::Operation operation, bool native) {
  if (native) {
    return core::IsStreaming(operation) ? "invoke-with-response-stream" : "invoke";
  }
  return core::IsStreaming(operation) ? "converse-stream" : "converse";
}

bool SendsNative(const core::ConverseRequest& request) {
  return request.native.format != core::NativeFormat::kNone && !request.native.bytes.empty();
}

core::Result<core::ConverseResponse> ParseNative(const core::ConverseRequest& request,
                                                 std::string_view body) {
  return request.native.format == core::NativeFormat::kNova ? core::nova::ParseResponse(body)
                                                            : core::anthropic::ParseResponse(body);
}

std::optional<core::StreamEventType> EventTypeFromName(std::string_view name) {
  using core::StreamEventType;
  for (const auto type :
       {StreamEventType::kMessageStart, StreamEventType::kContentBlockStart,
        StreamEventType::kContentBlockDelta, StreamEventType::kContentBlockStop,
        StreamEventType::kMessageStop, StreamEventType::kMetadata, StreamEventType::kNativeChunk}) {
    if (core::StreamEventName(type) == name) {
      return type;
    }
  }
  return std::nullopt;
}

std::string DecodeBase64(std::string_view text) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::decoded_size(text.size()), '\0');
  const auto [written, read] = b64::decode(out.data(), text.data(), text.size());
  out.resize(written);
  return out;
}

// Turns one event-stream frame from the upstream into a canonical event, or an error for an
// exception frame. Usage and stop reason are collected into `summary` on the way.
core::Result<std::optional<core::StreamEvent>> ToStreamEvent(const aws::DecodedFrame& frame,
                                                             const core::ConverseRequest& request,
                                                             core::StreamSummary& summary) {
  const auto& message = frame.message;
  const auto message_type = message.FindStringHeader(":message-type").value_or("");
  if (message_type == "exception") {
    const auto name = message.FindStringHeader(":exception-type").value_or("");
    return core::Error{ErrorCodeFromName(name).value_or(core::ErrorCode::kInternalServer),
                       MessageFromBody(message.payload)};
  }
  if (message_type == "error") {
    return core::Error{
        core::ErrorCode::kInternalServer,
        std::string(
            message.FindStringHeader(":error-message").value_or("The upstream stream failed."))};
  }
  const auto type = EventTypeFromName(message.FindStringHeader(":event-type").value_or(""));
  if (!type) {
    return std::optional<core::StreamEvent>();  // unknown events are skipped, as the SDKs do
  }

  boost::system::error_code ec;
  auto payload = json::parse(message.payload, ec);
  if (ec || !payload.is_object()) {
    return core::Error{core::ErrorCode::kInternalServer,
                       "The upstream sent a malformed stream event."};
  }
  core::StreamEvent event{*type, std::move(payload.get_object()), std::string(frame.raw)};

  if (*type == core::StreamEventType::kNativeChunk) {
    const auto* bytes = event.payload.if_contains("bytes");
    if (bytes && bytes->is_string()) {
      auto inner = json::parse(DecodeBase64(bytes->get_string()), ec);
      if (!ec && inner.is_object()) {
        if (request.native.format == core::NativeFormat::kNova) {
          core::nova::ReadStreamUsage(inner.get_object(), summary);
        } else {
          core::anthropic::ReadStreamUsage(inner.get_object(), summary);
        }
        event.payload = std::move(inner.get_object());
      }
    }
  } else if (*type == core::StreamEventType::kMetadata) {
    if (const auto* usage = event.payload.if_contains("usage"); usage && usage->is_object()) {
      summary.usage = core::ReadUsage(usage->get_object());
    }
  } else if (*type == core::StreamEventType::kMessageStop) {
    if (const auto* stop = event.payload.if_contains("stopReason"); stop && stop->is_string()) {
      summary.stop_reason = std::string(stop->get_string());
    }
  }
  return std::optional<core::StreamEvent>(std::move(event));
}

}  // namespace

BedrockProvider::BedrockProvider(BedrockOptions options)
    : options_(std::move(options)),
      name_("bedrock:" + options_.name),
      client_(http::Client::Options{options_.max_idle_connections}) {}

std::chrono::steady_clock::time_point BedrockProvider::Deadline(const Call& call) const {
  return std::min(call.deadline, std::chrono::steady_clock::now() + options_.timeout);
}

BedrockProvider::UpstreamRequest BedrockProvider::MakeRequest(const Call& call) const {
  const bool native = SendsNative(call.request);
  UpstreamRequest upstream;
  upstream.target = "/model/";
  AppendEncodedSegment(call.target.model_id, upstream.target);
  upstream.target += '/';
  upstream.target += OperationPath(call.request.operation, native);

  upstream.headers[0] = {"Content-Type", "application/json"};
  if (native) {
    // InvokeModel bodies travel exactly as the caller sent them.
    upstream.headers[1] = {
        core::IsStreaming(call.request.operation) ? "X-Amzn-Bedrock-Accept" : "Accept",
        "application/json"};
    upstream.header_count = 2;
    upstream.body = call.request.native.bytes;
  } else {
    upstream.serialized = core::SerializeConverseRequest(call.request);
    upstream.body = upstream.serialized;
  }
  return upstream;
}

http::OutgoingRequest BedrockProvider::UpstreamRequest::outgoing() const {
  return http::OutgoingRequest{bhttp::verb::post, target, std::span(headers.data(), header_count),
                               body};
}

net::awaitable<core::Result<core::ConverseResponse>> BedrockProvider::Converse(const Call& call) {
  const auto request = MakeRequest(call);
  auto reply = co_await client_.Send(options_.endpoint, request.outgoing(), Deadline(call));
  if (!reply) {
    co_return TransportError(reply.error(), options_.name);
  }
  if (reply->result_int() != 200) {
    co_return UpstreamError(reply->result_int(), reply->base(), reply->body());
  }
  if (SendsNative(call.request)) {
    auto parsed = ParseNative(call.request, reply->body());
    if (parsed) {
      parsed->native = {call.request.native.format, std::move(reply->body())};
    }
    co_return parsed;
  }
  auto parsed = core::ParseConverseResponse(reply->body(), call.storage);
  if (parsed) {
    parsed->converse_bytes = std::move(reply->body());
  }
  co_return parsed;
}

net::awaitable<core::Result<core::StreamSummary>> BedrockProvider::ConverseStream(
    const Call& call, StreamSink& sink) {
  const auto started = std::chrono::steady_clock::now();
  const auto request = MakeRequest(call);
  auto opened = co_await client_.Open(options_.endpoint, request.outgoing(), Deadline(call));
  if (!opened) {
    co_return TransportError(opened.error(), options_.name);
  }
  auto& response = *opened;

  if (response.status() != 200) {
    std::string body;
    while (true) {
      auto piece = co_await response.Next();
      if (!piece || piece->empty()) {
        break;
      }
      body.append(*piece);
    }
    co_return UpstreamError(response.status(), response.headers(), body);
  }

  core::StreamSummary summary;
  aws::Decoder decoder;
  aws::DecodedFrame frame;
  while (true) {
    auto piece = co_await response.Next();
    if (!piece) {
      co_return TransportError(piece.error(), options_.name);
    }
    if (piece->empty()) {
      break;
    }
    decoder.Feed(*piece);
    while (true) {
      const auto status = decoder.Next(frame);
      if (status == aws::DecodeStatus::kNeedMoreData) {
        break;
      }
      if (status == aws::DecodeStatus::kFailed) {
        co_return core::Error{core::ErrorCode::kInternalServer,
                              "The upstream sent a corrupt event stream."};
      }
      auto event = ToStreamEvent(frame, call.request, summary);
      if (!event) {
        co_return event.error();
      }
      if (!*event) {
        continue;
      }
      if (summary.first_byte_latency_ms == 0) {
        summary.first_byte_latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - started)
                                            .count();
      }
      const bool ok = co_await sink.OnEvent(std::move(**event));
      if (!ok) {
        co_return summary;  // the client went away; dropping the response closes the upstream
      }
    }
  }
  if (decoder.buffered_bytes() != 0) {
    co_return core::Error{core::ErrorCode::kInternalServer,
                          "The upstream stream ended inside an event."};
  }
  co_return summary;
}

}  // namespace sluice::providers
