#include "api/bedrock_runtime.hpp"

#include <chrono>
#include <optional>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>
#include <boost/url/decode_view.hpp>
#include <boost/url/grammar/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/rfc/pct_encoded_rule.hpp>
#include <fmt/format.h>

#include "aws/event_stream.hpp"
#include "core/anthropic_messages.hpp"
#include "core/converse_json.hpp"
#include "core/json_arena.hpp"
#include "core/nova_messages.hpp"
#include "core/request_id.hpp"
#include "core/tokens.hpp"

namespace sluice::api {

namespace {

namespace json = boost::json;
namespace bhttp = boost::beast::http;

// Suffix Bedrock appends to x-amzn-ErrorType; the SDKs strip everything after the colon.
constexpr std::string_view kErrorTypeSuffix =
    ":http://internal.amazon.com/coral/com.amazon.bedrock/";
constexpr std::string_view kAuthErrorTypeSuffix =
    ":http://internal.amazon.com/coral/com.amazon.coral.service/";
constexpr std::string_view kEventStreamType = "application/vnd.amazon.eventstream";

// How long one request may take end to end, failover included. Bedrock's own SDK read timeout
// for streams is minutes long; a generous bound still stops a stuck upstream from pinning a
// request forever.
constexpr std::chrono::minutes kRequestDeadline{10};

// Bedrock's bound on the JSON in X-Amzn-Bedrock-Request-Metadata.
constexpr std::size_t kMaxMetadataHeaderChars = 8500;

struct ParsedPath {
  std::string model_id;
  core::Operation operation = core::Operation::kConverse;
};

// `/model/{modelId}/{operation}`; the model ID is one percent-encoded segment.
std::optional<ParsedPath> ParsePath(std::string_view target) {
  const auto query = target.find('?');
  std::string_view path = target.substr(0, query);
  constexpr std::string_view kPrefix = "/model/";
  if (!path.starts_with(kPrefix)) {
    return std::nullopt;
  }
  path.remove_prefix(kPrefix.size());
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) {
    return std::nullopt;
  }
  const std::string_view encoded_model = path.substr(0, slash);
  const std::string_view operation = path.substr(slash + 1);

  ParsedPath parsed;
  if (operation == "converse") {
    parsed.operation = core::Operation::kConverse;
  } else if (operation == "converse-stream") {
    parsed.operation = core::Operation::kConverseStream;
  } else if (operation == "invoke") {
    parsed.operation = core::Operation::kInvokeModel;
  } else if (operation == "invoke-with-response-stream") {
    parsed.operation = core::Operation::kInvokeModelWithResponseStream;
  } else {
    return std::nullopt;
  }

  // A literal '/' inside the segment (an unencoded ARN) is not a valid label either.
  if (encoded_model.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  auto decoded = boost::urls::grammar::parse(encoded_model,
                                             boost::urls::pct_encoded_rule(boost::urls::pchars));
  if (!decoded) {
    return std::nullopt;
  }
  parsed.model_id = decoded->decode();
  return parsed;
}

std::string_view MediaType(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  auto media = content_type.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') {
    media.remove_suffix(1);
  }
  return media;
}

bool IsJsonMediaType(std::string_view content_type) {
  return boost::beast::iequals(MediaType(content_type), "application/json");
}

std::string Base64(std::string_view bytes) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

http::Response MakeJsonResponse(std::string body, std::string_view request_id, unsigned version) {
  http::Response response{bhttp::status::ok, version};
  response.set(bhttp::field::content_type, "application/json");
  response.set("x-amzn-RequestId", request_id);
  response.body() = std::move(body);
  return response;
}

http::Response MakeStreamHead(std::string_view request_id, unsigned version) {
  http::Response head{bhttp::status::ok, version};
  head.set(bhttp::field::content_type, kEventStreamType);
  head.set("x-amzn-RequestId", request_id);
  return head;
}

core::Error ValidationError(std::string message) {
  return core::Error{core::ErrorCode::kValidation, std::move(message)};
}

// InvokeModel callers send requestMetadata as JSON in a header rather than in the body.
core::Result<void> ApplyMetadataHeader(const http::Request& request, json::object& converse) {
  const auto header = request["X-Amzn-Bedrock-Request-Metadata"];
  if (header.empty()) {
    return {};
  }
  if (header.size() > kMaxMetadataHeaderChars) {
    return ValidationError(
        "1 validation error detected: Value at 'requestMetadata' failed to satisfy constraint: "
        "Member must have length less than or equal to 8500");
  }
  boost::system::error_code ec;
  auto parsed = json::parse(std::string_view(header.data(), header.size()), ec);
  if (ec || !parsed.is_object()) {
    return ValidationError("The request metadata header is not a valid JSON object.");
  }
  converse["requestMetadata"] = std::move(parsed);
  return core::ValidateConverseBody(converse);
}

// The client side of a streamed answer: frames go out as the provider produces them, and the
// response head only with the first one, so that a failure before it can still be an ordinary
// HTTP error (and the router may still fail over). After the head, a failure travels as an
// exception frame, which the SDKs raise as the modelled exception.
//
// NOTE: each await lands in a named local before it is tested. GCC 12 miscompiles awaits used
// directly inside conditions and co_return expressions of these coroutines (SIGILL at resume).
class EventStreamSink : public providers::StreamSink {
 public:
  EventStreamSink(http::Exchange& exchange, std::string_view request_id,
                  std::string_view model_content_type)
      : exchange_(exchange), request_id_(request_id), model_content_type_(model_content_type) {}

  bool committed() const override { return started_; }

  /// Ends a stream that ran to completion; sends the head first if no event went out.
  net::awaitable<void> Complete() {
    const bool started = co_await EnsureStarted();
    if (started) {
      const bool flushed = co_await Flush();
      if (flushed) {
        co_await exchange_.FinishStream();
      }
    }
  }

  /// Ends a failed stream: an HTTP error if nothing was sent yet, else an exception frame.
  net::awaitable<void> Fail(const core::Error& error) {
    if (!started_) {
      co_await exchange_.Respond(
          MakeBedrockError(error, request_id_, exchange_.request().version()));
      co_return;
    }
    frame_.clear();
    aws::AppendException(frame_, core::StreamExceptionName(error.code),
                         json::serialize(json::object{{"message", error.message}}));
    const bool written = co_await exchange_.WriteStream(frame_);
    if (written) {
      co_await exchange_.FinishStream();
    }
  }

 protected:
  net::awaitable<bool> EnsureStarted() {
    if (!started_) {
      started_ = true;
      auto head = MakeStreamHead(request_id_, exchange_.request().version());
      if (!model_content_type_.empty()) {
        head.set("X-Amzn-Bedrock-Content-Type", model_content_type_);
      }
      head_sent_ = co_await exchange_.StartStream(std::move(head));
    }
    co_return head_sent_;
  }

  /// Writes one event frame (a relayed one as it is, byte for byte).
  net::awaitable<bool> WriteEvent(std::string_view event_type, const json::object& payload,
                                  std::string_view relayed_frame) {
    const bool started = co_await EnsureStarted();
    if (!started) {
      co_return false;
    }
    if (relayed_frame.empty()) {
      frame_.clear();
      aws::AppendEvent(frame_, event_type, json::serialize(payload));
      relayed_frame = frame_;
    }
    const bool written = co_await exchange_.WriteStream(relayed_frame);
    co_return written;
  }

  /// Writes whatever a translator still holds back when the stream ends.
  virtual net::awaitable<bool> Flush() { co_return true; }

 private:
  http::Exchange& exchange_;
  std::string_view request_id_;
  std::string_view model_content_type_;
  std::string frame_;
  bool started_ = false;
  bool head_sent_ = false;
};

// ConverseStream: canonical events are the wire events.
class ConverseStreamSink final : public EventStreamSink {
 public:
  ConverseStreamSink(http::Exchange& exchange, std::string_view request_id)
      : EventStreamSink(exchange, request_id, {}) {}

  net::awaitable<bool> OnEvent(core::StreamEvent event) override {
    const bool written =
        co_await WriteEvent(core::StreamEventName(event.type), event.payload, event.frame);
    co_return written;
  }
};

// InvokeModelWithResponseStream: each event in the model's own format, base64 inside a `chunk`
// frame. Canonical events are translated first; a provider's own chunks pass as they came.
template <typename Translator>
class InvokeStreamSink final : public EventStreamSink {
 public:
  InvokeStreamSink(http::Exchange& exchange, std::string_view request_id, Translator translator)
      : EventStreamSink(exchange, request_id, "application/json"),
        translator_(std::move(translator)) {}

  net::awaitable<bool> OnEvent(core::StreamEvent event) override {
    if (event.type == core::StreamEventType::kNativeChunk) {
      if (!event.frame.empty()) {
        const bool written = co_await WriteEvent("chunk", {}, event.frame);
        co_return written;
      }
      const bool written = co_await WriteChunk(json::serialize(event.payload));
      co_return written;
    }
    pending_.clear();
    translator_.Translate(event, pending_);
    const bool written = co_await WritePending();
    co_return written;
  }

 protected:
  net::awaitable<bool> Flush() override {
    pending_.clear();
    translator_.Finish(pending_);
    const bool written = co_await WritePending();
    co_return written;
  }

 private:
  net::awaitable<bool> WritePending() {
    for (const auto& native_event : pending_) {
      const bool written = co_await WriteChunk(native_event);
      if (!written) {
        co_return false;
      }
    }
    co_return true;
  }

  net::awaitable<bool> WriteChunk(std::string_view native_event) {
    chunk_.clear();
    chunk_["bytes"] = Base64(native_event);
    const bool written = co_await WriteEvent("chunk", chunk_, {});
    co_return written;
  }

  Translator translator_;
  std::vector<std::string> pending_;
  json::object chunk_;
};

void RecordUsage(http::AccessRecord& record, const core::TokenUsage& usage,
                 std::string_view region) {
  record.input_tokens =
      usage.input_tokens + usage.cache_read_input_tokens + usage.cache_write_input_tokens;
  record.output_tokens = usage.output_tokens;
  record.region = std::string(region);
}

// Runs a streamed request through the router into `sink` and ends the stream.
net::awaitable<void> StreamAnswer(routing::Router& router, EventStreamSink& sink,
                                  const core::ConverseRequest& request,
                                  routing::RouteContext& route, http::AccessRecord& record) {
  auto summary = co_await router.ConverseStream(request, sink, route);
  if (!summary) {
    record.error_type = std::string(core::ExceptionName(summary.error().code));
    co_await sink.Fail(summary.error());
    co_return;
  }
  RecordUsage(record, summary->usage, summary->inference_region);
  co_await sink.Complete();
}

}  // namespace

http::Response MakeBedrockError(const core::Error& error, std::string_view request_id,
                                unsigned version) {
  http::Response response{static_cast<bhttp::status>(core::HttpStatus(error.code)), version};
  response.set(bhttp::field::content_type, "application/json");
  response.set("x-amzn-RequestId", request_id);
  std::string error_type(core::ExceptionName(error.code));
  // Authentication errors come from AWS's shared front end, and name its namespace.
  const bool from_auth = error.code == core::ErrorCode::kUnrecognizedClient ||
                         error.code == core::ErrorCode::kInvalidSignature;
  error_type += from_auth ? kAuthErrorTypeSuffix : kErrorTypeSuffix;
  response.set("x-amzn-ErrorType", error_type);
  response.body() = json::serialize(json::object{{"message", error.message}});
  return response;
}

http::Response MakeUnknownOperation(std::string_view request_id, unsigned version) {
  http::Response response{bhttp::status::not_found, version};
  response.set(bhttp::field::content_type, "application/json");
  response.set("x-amzn-RequestId", request_id);
  response.set("x-amzn-ErrorType", "UnknownOperationException");
  response.body() = R"({"message":"Unknown operation"})";
  return response;
}

BedrockRuntimeApi::BedrockRuntimeApi(routing::Router& router, const Authenticator& authenticator,
                                     std::size_t max_body_bytes)
    : router_(router), authenticator_(authenticator), max_body_bytes_(max_body_bytes) {}

bool BedrockRuntimeApi::Matches(std::string_view path) {
  return path.starts_with("/model/");
}

net::awaitable<void> BedrockRuntimeApi::Handle(http::Exchange& exchange) {
  auto& request = exchange.request();
  auto& record = exchange.record();
  const std::string request_id = core::NewRequestId();
  record.request_id = request_id;
  // The JSON of the request and of its answer lives in one arena that goes with the request,
  // instead of an allocation per member. Declared first, so it outlives every value in it.
  core::JsonArena arena;
  const json::storage_ptr json_memory = arena.storage();
  const unsigned version = request.version();

  auto fail = [&](const core::Error& error) -> net::awaitable<void> {
    record.error_type = std::string(core::ExceptionName(error.code));
    co_await exchange.Respond(MakeBedrockError(error, request_id, version));
  };

  const auto path = ParsePath(request.target());
  if (!path || request.method() != bhttp::verb::post) {
    record.error_type = "UnknownOperationException";
    co_await exchange.Respond(MakeUnknownOperation(request_id, version));
    co_return;
  }
  record.model = path->model_id;
  if (path->model_id.empty() || path->model_id.size() > 2048) {
    co_await fail(ValidationError(
        "1 validation error detected: Value at 'modelId' failed to satisfy constraint: Member "
        "must have length less than or equal to 2048"));
    co_return;
  }
  if (exchange.body_rejected()) {
    co_await fail(ValidationError(
        fmt::format("1 validation error detected: Value at 'body' failed to satisfy constraint: "
                    "Member must have length less than or equal to {}",
                    max_body_bytes_)));
    co_return;
  }
  // Who is calling, before anything is done for them. The size check comes first: a refused
  // body was not read, so its signature could not be checked anyway.
  auto principal = authenticator_.Authenticate(exchange);
  if (!principal) {
    co_await fail(principal.error());
    co_return;
  }
  record.principal = principal->arn;

  const auto content_type = request[bhttp::field::content_type];
  if (!content_type.empty() && !IsJsonMediaType(content_type)) {
    co_await fail(ValidationError(fmt::format(
        "The provided content type {} is not supported. Use application/json and try again.",
        std::string_view(content_type.data(), content_type.size()))));
    co_return;
  }

  const bool invoke = path->operation == core::Operation::kInvokeModel ||
                      path->operation == core::Operation::kInvokeModelWithResponseStream;
  core::NativeFormat format = core::NativeFormat::kNone;
  core::Result<core::ConverseRequest> parsed = core::Error{};
  if (invoke) {
    auto known = router_.FormatOf(path->model_id);
    if (!known) {
      co_await fail(known.error());
      co_return;
    }
    format = *known;
    parsed =
        format == core::NativeFormat::kNova
            ? core::nova::ParseInvokeBody(request.body(), path->operation, path->model_id)
            : core::anthropic::ParseInvokeBody(request.body(), path->operation, path->model_id);
    if (parsed) {
      auto metadata = ApplyMetadataHeader(request, parsed->converse);
      if (!metadata) {
        parsed = metadata.error();
      }
    }
  } else {
    parsed =
        core::ParseConverseRequest(request.body(), path->operation, path->model_id, json_memory);
  }
  if (!parsed) {
    co_await fail(parsed.error());
    co_return;
  }

  routing::RouteContext route;
  route.request_id = request_id;
  route.storage = json_memory;
  route.deadline = std::chrono::steady_clock::now() + kRequestDeadline;
  const core::ConverseRequest& canonical = *parsed;

  switch (path->operation) {
    case core::Operation::kConverse: {
      auto answer = co_await router_.Converse(canonical, route);
      if (!answer) {
        co_await fail(answer.error());
        co_return;
      }
      RecordUsage(record, answer->usage, answer->inference_region);
      std::string body = answer->converse_bytes.empty() ? json::serialize(answer->converse)
                                                        : std::move(answer->converse_bytes);
      co_await exchange.Respond(MakeJsonResponse(std::move(body), request_id, version));
      co_return;
    }

    case core::Operation::kInvokeModel: {
      auto answer = co_await router_.Converse(canonical, route);
      if (!answer) {
        co_await fail(answer.error());
        co_return;
      }
      RecordUsage(record, answer->usage, answer->inference_region);
      std::string body;
      if (answer->native.format == format && !answer->native.bytes.empty()) {
        body = std::move(answer->native.bytes);  // the upstream spoke the caller's format
      } else if (format == core::NativeFormat::kNova) {
        body = core::nova::EncodeResponse(*answer);
      } else {
        body = core::anthropic::EncodeResponse(*answer, path->model_id,
                                               "msg_bdrk_" + request_id.substr(0, 8));
      }
      auto response = MakeJsonResponse(std::move(body), request_id, version);
      const auto& usage = answer->usage;
      response.set("X-Amzn-Bedrock-Input-Token-Count", std::to_string(usage.input_tokens));
      response.set("X-Amzn-Bedrock-Output-Token-Count", std::to_string(usage.output_tokens));
      response.set("X-Amzn-Bedrock-Cache-Read-Input-Token-Count",
                   std::to_string(usage.cache_read_input_tokens));
      response.set("X-Amzn-Bedrock-Cache-Write-Input-Token-Count",
                   std::to_string(usage.cache_write_input_tokens));
      response.set("X-Amzn-Bedrock-Invocation-Latency",
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - exchange.received_at())
                                      .count()));
      co_await exchange.Respond(std::move(response));
      co_return;
    }

    case core::Operation::kConverseStream: {
      ConverseStreamSink sink(exchange, request_id);
      co_await StreamAnswer(router_, sink, canonical, route, record);
      co_return;
    }

    case core::Operation::kInvokeModelWithResponseStream: {
      const auto estimated_input = core::EstimateInputTokens(canonical);
      if (format == core::NativeFormat::kNova) {
        InvokeStreamSink sink(exchange, request_id, core::nova::StreamTranslator(estimated_input));
        co_await StreamAnswer(router_, sink, canonical, route, record);
      } else {
        InvokeStreamSink sink(
            exchange, request_id,
            core::anthropic::StreamTranslator(path->model_id, "msg_bdrk_" + request_id.substr(0, 8),
                                              estimated_input));
        co_await StreamAnswer(router_, sink, canonical, route, record);
      }
      co_return;
    }
  }
}

}  // namespace sluice::api
