// HTTP/2 connections (cleartext, prior knowledge). libnghttp2 does the framing, HPACK, flow
// control and stream state; this file moves bytes between it and the socket and turns streams into
// exchanges. One coroutine reads, one writes, and every request runs its handler in a coroutine of
// its own, all on the worker's thread, so nothing here takes a lock.
//
// Who owns what: the session lives in RunHttp2's frame and owns the nghttp2 session and one
// Http2Exchange per stream. An exchange is released once its stream is closed and its handler has
// returned, whichever comes last; RunHttp2 returns only after every coroutine it started is done.

#include <sys/types.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <nghttp2/nghttp2.h>
#include <spdlog/spdlog.h>

#include "http/session.hpp"

namespace sluice::http::internal {

namespace {

namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

// Per-stream receive window we advertise. The protocol default (64 KiB) caps an upload at one
// window per round trip, which makes a 25 MB InvokeModel body crawl even on a fast network.
constexpr std::uint32_t kStreamWindowBytes = 1 << 20;

// Connection receive window: room for several large uploads at once without one starving others.
constexpr std::int32_t kConnectionWindowBytes = 16 << 20;

// A streaming handler waits in WriteStream while more than this is queued for its stream, so a
// slow reader holds back its producer instead of growing our memory.
constexpr std::size_t kStreamHighWaterBytes = 1 << 20;

// Upper bound on one socket write; frames are coalesced up to this to save system calls.
constexpr std::size_t kMaxWriteBytes = 128 * 1024;

// Largest socket read: several full DATA frames (16 KiB each by default) per system call.
constexpr std::size_t kReadBytes = 64 * 1024;

// RFC 7541 §4.1 counts each header entry as name + value + 32 bytes; we measure the request head
// the same way, so the limit means what SETTINGS_MAX_HEADER_LIST_SIZE means.
constexpr std::size_t kHeaderEntryOverheadBytes = 32;

// Streams that the peer reset stay with us until their handler returns. Refusing new streams past
// this multiple of the concurrency limit bounds that work when a client opens and resets streams
// in a loop (the "rapid reset" attack, which the nghttp2 version we build against does not stop).
constexpr std::size_t kRetainedStreamsFactor = 2;

std::string Lowercase(std::string_view text) {
  std::string lowered(text);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return lowered;
}

// RFC 9113 §8.2.2: connection-specific fields are malformed in HTTP/2 and must not be sent.
bool IsConnectionSpecific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "te";
}

// RFC 9110 §8.6: no Content-Length on 1xx and 204; on 304 it would describe another response.
bool AllowsContentLength(int status) {
  return status >= 200 && status != 204 && status != 304;
}

nghttp2_nv MakeNv(const std::string& name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

std::string_view AsView(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

Response MakeErrorResponse(bhttp::status status) {
  Response response{status, 11};
  response.set(bhttp::field::content_type, "text/plain");
  response.body() = std::string(bhttp::obsolete_reason(status)) + "\n";
  return response;
}

class Http2Session;

enum class HandlerState {
  kWaiting,  // the request is still arriving
  kRunning,
  kDone,
};

// One stream: the request being assembled and the response body waiting for nghttp2 to take it.
class Http2Exchange final : public Exchange {
 public:
  Http2Exchange(Http2Session& session, std::int32_t stream_id, const ConnectionInfo& info,
                const net::any_io_executor& executor)
      : session_(session), stream_id_(stream_id), drained_(executor) {
    connection_ = &info;
    request_.version(20);
  }

  net::awaitable<bool> Respond(Response response) override;
  net::awaitable<bool> StartStream(Response head) override;
  net::awaitable<bool> WriteStream(std::string_view data) override;
  net::awaitable<bool> FinishStream() override;

  void AddHeader(std::string_view name, std::string_view value, const ServerLimits& limits);

  // Copies queued response bytes into a DATA frame; nghttp2 calls it when flow control allows.
  ssize_t ReadBody(std::uint8_t* out, std::size_t length, std::uint32_t* flags);

  // The stream or the whole connection is gone: later calls fail and a waiting writer wakes.
  void Disconnect();

  std::size_t unsent() const { return pending_.size() - pending_offset_; }

 private:
  friend class Http2Session;

  Http2Session& session_;
  std::int32_t stream_id_;
  HandlerState handler_ = HandlerState::kWaiting;
  std::size_t header_bytes_ = 0;
  bool headers_too_large_ = false;
  bool has_authority_ = false;
  bool request_complete_ = false;
  bool closed_ = false;
  bool streaming_ = false;
  bool eof_ = false;
  std::string pending_;
  std::size_t pending_offset_ = 0;
  std::size_t bytes_sent_ = 0;
  bool waiting_for_drain_ = false;
  net::steady_timer drained_;
};

// The connection: the nghttp2 session, the socket, and the exchanges for its streams.
class Http2Session final : public Session {
 public:
  Http2Session(tcp::socket socket, beast::flat_buffer buffer, WorkerContext& worker,
               ConnectionInfo info)
      : Session(worker),
        socket_(std::move(socket)),
        buffer_(std::move(buffer)),
        info_(std::move(info)),
        wake_(socket_.get_executor()),
        tasks_done_(socket_.get_executor()) {}

  net::awaitable<void> Run();
  void BeginShutdown() override;

  void Abort() override;

  // Used by Http2Exchange.
  [[nodiscard]] bool SubmitHead(Http2Exchange& exchange, const Response& head);
  void ResumeBody(Http2Exchange& exchange);
  void ResetStream(std::int32_t stream_id, std::uint32_t error_code);

  // nghttp2 callbacks, called from inside nghttp2_session_mem_recv and nghttp2_session_mem_send.
  // They never resume coroutines or touch the socket; they record what to do next.
  int OnBeginHeaders(const nghttp2_frame& frame);
  int OnHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value);
  int OnFrameReceived(const nghttp2_frame& frame);
  int OnDataChunk(std::int32_t stream_id, std::string_view data);
  int OnStreamClosed(std::int32_t stream_id, std::uint32_t error_code);
  int OnError(std::string_view message);

 private:
  struct SessionDeleter {
    void operator()(nghttp2_session* session) const { nghttp2_session_del(session); }
  };

  bool Start();
  bool Receive(const std::uint8_t* data, std::size_t size);
  net::awaitable<void> ReadLoop();
  net::awaitable<void> WriteLoop();
  bool Produce();
  void StartReadyStreams();
  net::awaitable<void> ServeStream(Http2Exchange& exchange);
  void FinishHandler(std::int32_t stream_id, std::exception_ptr error);
  void ReleaseIfDone(Http2Exchange& exchange);
  net::awaitable<void> WaitForTasks();
  void Close(std::string_view reason);
  void Wake();
  void UpdateDeadline();
  Http2Exchange* Find(std::int32_t stream_id);

  tcp::socket socket_;
  beast::flat_buffer buffer_;
  ConnectionInfo info_;
  std::unordered_map<std::int32_t, std::unique_ptr<Http2Exchange>> streams_;
  std::vector<std::int32_t> ready_;  // requests whose handler should start
  std::unique_ptr<nghttp2_session, SessionDeleter> h2_;
  net::steady_timer wake_;        // the writer sleeps on it; cancelled when output is queued
  net::steady_timer tasks_done_;  // Run sleeps on it until the writer and handlers are done
  std::string out_;
  std::size_t tasks_ = 0;
  Clock::time_point idle_since_ = Clock::now();
  Clock::time_point output_since_ = Clock::now();
  std::string_view close_reason_;
  bool writing_ = false;
  bool closed_ = false;
  bool shutting_down_ = false;
  bool awaiting_ping_ack_ = false;
  bool final_goaway_sent_ = false;
};

Http2Session& Self(void* user_data) {
  return *static_cast<Http2Session*>(user_data);
}

ssize_t ReadBodyCallback(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                         std::uint32_t* flags, nghttp2_data_source* source, void*) {
  return static_cast<Http2Exchange*>(source->ptr)->ReadBody(buf, length, flags);
}

// Builds the callback table once per connection; nghttp2_session_server_new copies it.
std::unique_ptr<nghttp2_session_callbacks, void (*)(nghttp2_session_callbacks*)> MakeCallbacks() {
  nghttp2_session_callbacks* raw = nullptr;
  if (nghttp2_session_callbacks_new(&raw) != 0) {
    return {nullptr, nghttp2_session_callbacks_del};
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(
      raw, [](nghttp2_session*, const nghttp2_frame* frame, void* user) {
        return Self(user).OnBeginHeaders(*frame);
      });
  nghttp2_session_callbacks_set_on_header_callback(
      raw, [](nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
              std::size_t name_size, const std::uint8_t* value, std::size_t value_size,
              std::uint8_t, void* user) {
        return Self(user).OnHeader(*frame, AsView(name, name_size), AsView(value, value_size));
      });
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      raw, [](nghttp2_session*, const nghttp2_frame* frame, void* user) {
        return Self(user).OnFrameReceived(*frame);
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      raw, [](nghttp2_session*, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data,
              std::size_t size,
              void* user) { return Self(user).OnDataChunk(stream_id, AsView(data, size)); });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      raw, [](nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* user) {
        return Self(user).OnStreamClosed(stream_id, error_code);
      });
  nghttp2_session_callbacks_set_error_callback2(
      raw, [](nghttp2_session*, int, const char* message, std::size_t size, void* user) {
        return Self(user).OnError(std::string_view(message, size));
      });
  return {raw, nghttp2_session_callbacks_del};
}

net::awaitable<bool> Http2Exchange::Respond(Response response) {
  if (closed_ || started()) {
    co_return false;
  }
  status_ = response.result_int();
  pending_ = std::move(response.body());
  eof_ = true;
  co_return session_.SubmitHead(*this, response);
}

net::awaitable<bool> Http2Exchange::StartStream(Response head) {
  if (closed_ || started()) {
    co_return false;
  }
  status_ = head.result_int();
  streaming_ = true;
  co_return session_.SubmitHead(*this, head);
}

net::awaitable<bool> Http2Exchange::WriteStream(std::string_view data) {
  if (closed_ || !streaming_ || eof_) {
    co_return false;
  }
  pending_.append(data);
  session_.ResumeBody(*this);

  while (!closed_ && unsent() > kStreamHighWaterBytes) {
    waiting_for_drain_ = true;
    drained_.expires_at(Clock::time_point::max());
    co_await drained_.async_wait(kUseTuple);
    waiting_for_drain_ = false;
  }
  co_return !closed_;
}

net::awaitable<bool> Http2Exchange::FinishStream() {
  if (closed_ || !streaming_ || eof_) {
    co_return false;
  }
  eof_ = true;
  session_.ResumeBody(*this);
  co_return true;
}

void Http2Exchange::AddHeader(std::string_view name, std::string_view value,
                              const ServerLimits& limits) {
  if (headers_too_large_) {
    return;
  }
  header_bytes_ += name.size() + value.size() + kHeaderEntryOverheadBytes;
  if (header_bytes_ > limits.max_header_bytes) {
    headers_too_large_ = true;
    return;
  }

  // Pseudo-header fields come first (RFC 9113 §8.3). The target stays raw: request signatures
  // are computed over the path exactly as the client sent it.
  if (name == ":method") {
    request_.method_string(value);
  } else if (name == ":path") {
    request_.target(value);
  } else if (name == ":authority") {
    request_.set(bhttp::field::host, value);
    has_authority_ = true;
  } else if (name.starts_with(':')) {
    return;
  } else if (name == "host") {
    // RFC 9113 §8.3.1: :authority, when present, is what identifies the target host.
    if (!has_authority_) {
      request_.set(bhttp::field::host, value);
    }
  } else if (name == "cookie" && request_.count(bhttp::field::cookie) != 0) {
    // RFC 9113 §8.2.3: split cookie fields are joined back into one for HTTP/1-style consumers.
    std::string joined(request_[bhttp::field::cookie]);
    joined.append("; ").append(value);
    request_.set(bhttp::field::cookie, joined);
  } else {
    if (name == "content-length") {
      std::uint64_t declared = 0;
      std::from_chars(value.data(), value.data() + value.size(), declared);
      if (declared > limits.max_body_bytes) {
        MarkBodyRejected();
      }
    }
    request_.insert(name, value);
  }
}

ssize_t Http2Exchange::ReadBody(std::uint8_t* out, std::size_t length, std::uint32_t* flags) {
  const std::size_t n = std::min(length, unsent());
  std::memcpy(out, pending_.data() + pending_offset_, n);
  pending_offset_ += n;
  bytes_sent_ += n;

  // Keep the queue from growing without bound while a stream is produced and consumed at once.
  if (pending_offset_ == pending_.size()) {
    pending_.clear();
    pending_offset_ = 0;
  } else if (!eof_ && pending_offset_ > kStreamHighWaterBytes) {
    pending_.erase(0, pending_offset_);
    pending_offset_ = 0;
  }
  if (waiting_for_drain_ && unsent() <= kStreamHighWaterBytes) {
    drained_.cancel();
  }

  if (unsent() == 0 && eof_) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  if (n == 0) {
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

void Http2Exchange::Disconnect() {
  closed_ = true;
  if (waiting_for_drain_) {
    drained_.cancel();
  }
}

net::awaitable<void> Http2Session::Run() {
  if (!Start()) {
    spdlog::debug("http2 session setup failed connection={}", info_.id);
    Close("setup_failed");
    co_return;
  }
  spdlog::debug("http2 connection opened connection={} remote={}", info_.id, info_.remote_address);

  const auto* initial = static_cast<const std::uint8_t*>(buffer_.data().data());
  const bool accepted = Receive(initial, buffer_.size());
  buffer_.consume(buffer_.size());
  if (worker_.stopping) {
    BeginShutdown();
  }

  ++tasks_;
  net::co_spawn(socket_.get_executor(), WriteLoop(), [this](std::exception_ptr error) {
    if (error) {
      spdlog::error("http2 writer failed connection={}", info_.id);
      Close("writer_failed");
    }
    --tasks_;
    tasks_done_.cancel();
  });
  if (accepted) {
    co_await ReadLoop();
  } else {
    Close("protocol_error");
  }

  co_await WaitForTasks();
  spdlog::debug("http2 connection closed connection={} reason={}", info_.id, close_reason_);
}

void Http2Session::BeginShutdown() {
  if (closed_ || shutting_down_) {
    return;
  }
  shutting_down_ = true;

  // An idle connection gets its final GOAWAY at once. A busy one first gets a notice (RFC 9113
  // §6.8) and a PING; the PING's ACK proves the client has seen the notice, so streams it opened
  // before then are ours to finish and the final GOAWAY can name the last of them.
  if (streams_.empty()) {
    nghttp2_session_terminate_session(h2_.get(), NGHTTP2_NO_ERROR);
    final_goaway_sent_ = true;
  } else {
    nghttp2_submit_shutdown_notice(h2_.get());
    nghttp2_submit_ping(h2_.get(), NGHTTP2_FLAG_NONE, nullptr);
    awaiting_ping_ack_ = true;
  }
  Wake();
}

void Http2Session::Abort() {
  // An idle connection that timed out says goodbye first, so a client that was about to reuse it
  // sees GOAWAY (and knows its next request was not processed) instead of a bare reset. The write
  // is a best-effort non-blocking one: Abort must not wait on the peer.
  if (!closed_ && !writing_ && streams_.empty() && !final_goaway_sent_) {
    final_goaway_sent_ = true;
    nghttp2_session_terminate_session(h2_.get(), NGHTTP2_NO_ERROR);
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    if (!ec && Produce() && !out_.empty()) {
      socket_.write_some(net::buffer(out_), ec);
    }
  }
  Close("aborted");
}

bool Http2Session::SubmitHead(Http2Exchange& exchange, const Response& head) {
  // Names are lower-cased (RFC 9113 §8.2.1); nghttp2 copies the fields during the call.
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back(":status", std::to_string(head.result_int()));
  for (const auto& field : head) {
    std::string name = Lowercase(field.name_string());
    if (IsConnectionSpecific(name) || name == "content-length") {
      continue;
    }
    fields.emplace_back(std::move(name), std::string(field.value()));
  }
  if (exchange.eof_ && AllowsContentLength(head.result_int())) {
    fields.emplace_back("content-length", std::to_string(exchange.unsent()));
  }
  std::vector<nghttp2_nv> nv;
  nv.reserve(fields.size());
  for (const auto& [name, value] : fields) {
    nv.push_back(MakeNv(name, value));
  }

  // A complete response without a body ends the stream with its HEADERS frame.
  nghttp2_data_provider provider{};
  provider.source.ptr = &exchange;
  provider.read_callback = ReadBodyCallback;
  const bool has_body = exchange.streaming_ || exchange.unsent() > 0;
  const int rv = nghttp2_submit_response(h2_.get(), exchange.stream_id_, nv.data(), nv.size(),
                                         has_body ? &provider : nullptr);
  if (rv != 0) {
    spdlog::debug("http2 response rejected connection={} stream={} error=\"{}\"", info_.id,
                  exchange.stream_id_, nghttp2_strerror(rv));
    return false;
  }
  output_since_ = Clock::now();
  Wake();
  return true;
}

void Http2Session::ResumeBody(Http2Exchange& exchange) {
  // Fails harmlessly when the stream is not deferred (nghttp2 has not asked for data yet).
  nghttp2_session_resume_data(h2_.get(), exchange.stream_id_);
  if (!writing_) {
    output_since_ = Clock::now();
  }
  Wake();
}

void Http2Session::ResetStream(std::int32_t stream_id, std::uint32_t error_code) {
  if (!closed_ && nghttp2_session_find_stream(h2_.get(), stream_id) != nullptr) {
    nghttp2_submit_rst_stream(h2_.get(), NGHTTP2_FLAG_NONE, stream_id, error_code);
    Wake();
  }
}

int Http2Session::OnBeginHeaders(const nghttp2_frame& frame) {
  if (frame.hd.type != NGHTTP2_HEADERS || frame.headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  const std::int32_t id = frame.hd.stream_id;
  if (streams_.size() >= kRetainedStreamsFactor * worker_.limits.max_concurrent_streams) {
    spdlog::debug("http2 stream refused connection={} stream={} reason=too_many_streams", info_.id,
                  id);
    nghttp2_submit_rst_stream(h2_.get(), NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
    return 0;
  }
  streams_.emplace(id, std::make_unique<Http2Exchange>(*this, id, info_, socket_.get_executor()));
  return 0;
}

int Http2Session::OnHeader(const nghttp2_frame& frame, std::string_view name,
                           std::string_view value) {
  // Limitation: trailers (a second HEADERS block) are dropped. Bedrock clients do not send them;
  // a handler that needed them would require a new field on Exchange.
  if (frame.hd.type != NGHTTP2_HEADERS || frame.headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  if (auto* exchange = Find(frame.hd.stream_id)) {
    exchange->AddHeader(name, value, worker_.limits);
  }
  return 0;
}

int Http2Session::OnFrameReceived(const nghttp2_frame& frame) {
  const std::int32_t id = frame.hd.stream_id;
  if (frame.hd.type == NGHTTP2_PING && (frame.hd.flags & NGHTTP2_FLAG_ACK) != 0 &&
      awaiting_ping_ack_) {
    awaiting_ping_ack_ = false;
    if (!final_goaway_sent_) {
      final_goaway_sent_ = true;
      nghttp2_submit_goaway(h2_.get(), NGHTTP2_FLAG_NONE,
                            nghttp2_session_get_last_proc_stream_id(h2_.get()), NGHTTP2_NO_ERROR,
                            nullptr, 0);
    }
    return 0;
  }
  if (frame.hd.type == NGHTTP2_GOAWAY) {
    spdlog::debug("http2 peer sent goaway connection={} error_code={} last_stream={}", info_.id,
                  frame.goaway.error_code, frame.goaway.last_stream_id);
    return 0;
  }
  if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) {
    return 0;
  }
  auto* exchange = Find(id);
  if (exchange == nullptr) {
    return 0;
  }

  // Even a request we refuse (head or body too large) is answered only once the client has
  // finished sending it: Node's http2 client, which the AWS SDK uses, drops a response that
  // arrives while it is still uploading, and the SDK call then never settles. What arrives in
  // between is read and thrown away; the stream's read deadline bounds how long that may take.
  if ((frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
    exchange->request_complete_ = true;
    ready_.push_back(id);
  }
  return 0;
}

int Http2Session::OnDataChunk(std::int32_t stream_id, std::string_view data) {
  auto* exchange = Find(stream_id);
  if (exchange == nullptr || exchange->handler_ != HandlerState::kWaiting ||
      exchange->body_rejected() || exchange->headers_too_large_) {
    return 0;  // refused already: the rest of the body is discarded as it arrives
  }
  auto& body = exchange->request_.body();
  if (body.size() + data.size() > worker_.limits.max_body_bytes) {
    // Too large: keep nothing; the handler answers with its size error at END_STREAM.
    exchange->MarkBodyRejected();
    std::string().swap(body);
    return 0;
  }
  body.append(data);
  return 0;
}

int Http2Session::OnStreamClosed(std::int32_t stream_id, std::uint32_t error_code) {
  auto* exchange = Find(stream_id);
  if (exchange == nullptr) {
    return 0;
  }
  if (error_code != NGHTTP2_NO_ERROR) {
    spdlog::debug("http2 stream reset connection={} stream={} error_code={}", info_.id, stream_id,
                  error_code);
  }
  exchange->Disconnect();
  ReleaseIfDone(*exchange);
  return 0;
}

int Http2Session::OnError(std::string_view message) {
  spdlog::debug("http2 protocol error connection={} message=\"{}\"", info_.id, message);
  return 0;
}

bool Http2Session::Start() {
  auto callbacks = MakeCallbacks();
  nghttp2_session* raw = nullptr;
  if (!callbacks || nghttp2_session_server_new(&raw, callbacks.get(), this) != 0) {
    return false;
  }
  h2_.reset(raw);

  // The server preface must begin with SETTINGS (RFC 9113 §3.4), so the connection window
  // update comes after it.
  const std::array<nghttp2_settings_entry, 3> settings{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, worker_.limits.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindowBytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(worker_.limits.max_header_bytes)},
  }};
  if (nghttp2_submit_settings(h2_.get(), NGHTTP2_FLAG_NONE, settings.data(), settings.size()) !=
      0) {
    return false;
  }
  return nghttp2_session_set_local_window_size(h2_.get(), NGHTTP2_FLAG_NONE, 0,
                                               kConnectionWindowBytes) == 0;
}

bool Http2Session::Receive(const std::uint8_t* data, std::size_t size) {
  const ssize_t rv = nghttp2_session_mem_recv(h2_.get(), data, size);
  if (rv < 0) {
    spdlog::debug("http2 input rejected connection={} error=\"{}\"", info_.id,
                  nghttp2_strerror(static_cast<int>(rv)));
    return false;
  }
  StartReadyStreams();
  UpdateDeadline();
  Wake();
  return true;
}

net::awaitable<void> Http2Session::ReadLoop() {
  std::array<std::uint8_t, kReadBytes> chunk;
  while (!closed_ && nghttp2_session_want_read(h2_.get()) != 0) {
    auto [ec, n] = co_await socket_.async_read_some(net::buffer(chunk), kUseTuple);
    if (ec) {
      // The client closing its side (EOF or reset) is how most connections end.
      Close(ec == net::error::eof ? "peer_closed" : "read_failed");
      co_return;
    }
    spdlog::trace("http2 read connection={} bytes={}", info_.id, n);
    if (!Receive(chunk.data(), n)) {
      Close("protocol_error");
      co_return;
    }
  }
}

net::awaitable<void> Http2Session::WriteLoop() {
  while (!closed_) {
    if (!Produce()) {
      Close("send_failed");
      break;
    }
    if (out_.empty()) {
      // Once every open stream is gone, shutdown can say goodbye without waiting for the PING.
      if (shutting_down_ && !final_goaway_sent_ && streams_.empty()) {
        final_goaway_sent_ = true;
        nghttp2_session_terminate_session(h2_.get(), NGHTTP2_NO_ERROR);
        continue;
      }
      // Both sides said all they will (GOAWAY exchanged, streams finished, or a fatal error
      // reported to the peer): the connection is done.
      if (nghttp2_session_want_read(h2_.get()) == 0 && nghttp2_session_want_write(h2_.get()) == 0) {
        Close("finished");
        break;
      }
      UpdateDeadline();
      wake_.expires_at(Clock::time_point::max());
      co_await wake_.async_wait(kUseTuple);
      continue;
    }

    writing_ = true;
    output_since_ = Clock::now();
    UpdateDeadline();
    auto [ec, n] = co_await net::async_write(socket_, net::buffer(out_), kUseTuple);
    writing_ = false;
    if (ec) {
      Close(ec == net::error::operation_aborted ? "aborted" : "write_failed");
      break;
    }
    spdlog::trace("http2 wrote connection={} bytes={}", info_.id, n);
  }
}

bool Http2Session::Produce() {
  out_.clear();
  while (out_.size() < kMaxWriteBytes) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(h2_.get(), &data);
    if (n < 0) {
      spdlog::debug("http2 output failed connection={} error=\"{}\"", info_.id,
                    nghttp2_strerror(static_cast<int>(n)));
      return false;
    }
    if (n > 0) {
      out_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      continue;
    }
    break;
  }
  return true;
}

void Http2Session::StartReadyStreams() {
  // Runs after nghttp2_session_mem_recv has returned, never from a callback: co_spawn starts the
  // handler inline up to its first suspension, and a handler calls back into nghttp2.
  const auto ready = std::exchange(ready_, {});
  for (const auto id : ready) {
    auto* exchange = Find(id);
    if (exchange == nullptr || exchange->closed_ || exchange->handler_ != HandlerState::kWaiting) {
      continue;
    }
    exchange->handler_ = HandlerState::kRunning;
    ++tasks_;
    net::co_spawn(socket_.get_executor(), ServeStream(*exchange),
                  [this, id](std::exception_ptr error) { FinishHandler(id, error); });
  }
}

net::awaitable<void> Http2Session::ServeStream(Http2Exchange& exchange) {
  // Exceptions are caught here rather than in the completion handler so the stream still gets
  // its fallback answer; a throwing handler must not take its sibling streams down with it.
  bool failed = false;
  try {
    if (exchange.headers_too_large_) {
      co_await exchange.Respond(MakeErrorResponse(bhttp::status::request_header_fields_too_large));
    } else {
      co_await worker_.handler.Handle(exchange);
    }
  } catch (const std::exception& e) {
    failed = true;
    spdlog::error("request handler failed connection={} stream={} error=\"{}\"", info_.id,
                  exchange.stream_id_, e.what());
  } catch (...) {
    failed = true;
    spdlog::error("request handler failed connection={} stream={} error=unknown", info_.id,
                  exchange.stream_id_);
  }

  if (!exchange.started()) {
    co_await exchange.Respond(MakeErrorResponse(bhttp::status::internal_server_error));
  } else if (exchange.streaming_ && !exchange.eof_) {
    // A stream the handler abandoned by throwing is reset so the client cannot mistake the
    // truncated body for a whole one; one it merely forgot to finish is finished.
    if (failed) {
      ResetStream(exchange.stream_id_, NGHTTP2_INTERNAL_ERROR);
    } else {
      co_await exchange.FinishStream();
    }
  }
}

void Http2Session::FinishHandler(std::int32_t stream_id, std::exception_ptr error) {
  if (error) {
    spdlog::error("http2 stream task failed connection={} stream={}", info_.id, stream_id);
  }
  --tasks_;
  if (auto* exchange = Find(stream_id)) {
    exchange->handler_ = HandlerState::kDone;
    ReleaseIfDone(*exchange);
  }
  tasks_done_.cancel();
  UpdateDeadline();
  Wake();
}

void Http2Session::ReleaseIfDone(Http2Exchange& exchange) {
  if (!exchange.closed_ || exchange.handler_ == HandlerState::kRunning) {
    return;
  }
  if (exchange.handler_ == HandlerState::kDone) {
    // Limitation: bytes counts DATA payload only, not HPACK-compressed headers, whose size on the
    // wire depends on the connection's compression state.
    LogAccess(worker_.access_log, exchange, exchange.bytes_sent_);
  }
  streams_.erase(exchange.stream_id_);
  if (streams_.empty()) {
    idle_since_ = Clock::now();
  }
}

net::awaitable<void> Http2Session::WaitForTasks() {
  // Limitation: a handler is not cancelled when its stream or connection goes away; it learns
  // from a false return on its next write. Until it returns, this frame (and so the session and
  // its exchanges) stays alive, which is what keeps its Exchange reference valid.
  while (tasks_ > 0) {
    tasks_done_.expires_at(Clock::time_point::max());
    co_await tasks_done_.async_wait(kUseTuple);
  }
}

void Http2Session::Close(std::string_view reason) {
  if (closed_) {
    return;
  }
  closed_ = true;
  close_reason_ = reason;
  deadline_ = Clock::time_point::max();

  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  wake_.cancel();

  std::vector<std::int32_t> ids;
  ids.reserve(streams_.size());
  for (const auto& [id, exchange] : streams_) {
    ids.push_back(id);
  }
  for (const auto id : ids) {
    auto* exchange = Find(id);
    exchange->Disconnect();
    ReleaseIfDone(*exchange);
  }
}

void Http2Session::Wake() {
  wake_.cancel();
}

void Http2Session::UpdateDeadline() {
  if (closed_) {
    return;
  }
  // The earliest of: the idle limit when no stream is open; each arriving request's read limit,
  // counted from its first frame; the write limit while output waits on the client.
  const auto& limits = worker_.limits;
  auto deadline = Clock::time_point::max();
  bool output_waiting = writing_;
  for (const auto& [id, exchange] : streams_) {
    if (exchange->handler_ == HandlerState::kWaiting && !exchange->closed_) {
      deadline = std::min(deadline, exchange->received_at() + limits.read_timeout);
    }
    output_waiting = output_waiting || exchange->unsent() > 0;
  }
  if (output_waiting) {
    deadline = std::min(deadline, output_since_ + limits.write_timeout);
  }
  if (streams_.empty()) {
    deadline = std::min(deadline, idle_since_ + limits.idle_timeout);
  }
  deadline_ = deadline;
}

Http2Exchange* Http2Session::Find(std::int32_t stream_id) {
  const auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

}  // namespace

net::awaitable<void> RunHttp2(tcp::socket socket, beast::flat_buffer buffer, WorkerContext& worker,
                              ConnectionInfo info) {
  Http2Session session(std::move(socket), std::move(buffer), worker, std::move(info));
  co_await session.Run();
}

}  // namespace sluice::http::internal
