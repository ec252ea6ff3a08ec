// Drives the HTTP/2 side of http::Server with a real client: libnghttp2's client API over a
// blocking loopback socket, so the test needs no external binary.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include "http/exchange.hpp"
#include "http/server.hpp"

namespace sluice::http {
namespace {

using namespace std::chrono_literals;
namespace bhttp = beast::http;
constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

// Streams the barrier route waits for; reaching it proves they ran at the same time.
constexpr int kBarrierStreams = 4;

// Chunks and pause of the streamed route.
constexpr int kStreamChunks = 3;
constexpr auto kChunkPause = 20ms;

// Size and count of the chunks of the bulk route: 4 MiB, more than the per-stream high-water
// mark, so WriteStream has to wait for the client to drain it.
constexpr std::size_t kBulkChunkBytes = 64 * 1024;
constexpr int kBulkChunks = 64;

Response Text(bhttp::status status, std::string body) {
  Response response{status, 11};
  response.set(bhttp::field::content_type, "text/plain");
  response.body() = std::move(body);
  return response;
}

net::awaitable<void> Sleep(std::chrono::milliseconds duration) {
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(kUseTuple);
}

// Routes by path; the server runs one worker, so the counters are only read across threads.
class TestHandler final : public RequestHandler {
 public:
  net::awaitable<void> Handle(Exchange& exchange) override {
    const std::string target(exchange.request().target());
    if (exchange.body_rejected()) {
      co_await exchange.Respond(Text(bhttp::status::payload_too_large, "too large"));
    } else if (target == "/echo") {
      auto response = Text(bhttp::status::ok, exchange.request().body());
      response.set(bhttp::field::connection, "keep-alive");
      response.set("X-Request-Method", std::string(exchange.request().method_string()));
      co_await exchange.Respond(std::move(response));
    } else if (target == "/size") {
      co_await exchange.Respond(
          Text(bhttp::status::ok, std::to_string(exchange.request().body().size())));
    } else if (target.starts_with("/where")) {
      const std::string host(exchange.request()[bhttp::field::host]);
      co_await exchange.Respond(Text(bhttp::status::ok, host + " " + target));
    } else if (target == "/stream") {
      co_await StreamChunks(exchange);
    } else if (target == "/bulk") {
      co_await StreamBulk(exchange);
    } else if (target == "/slow") {
      slow_started.store(true);
      co_await Sleep(200ms);
      co_await exchange.Respond(Text(bhttp::status::ok, "done"));
    } else if (target == "/barrier") {
      co_await WaitAtBarrier(exchange);
    } else if (target == "/endless") {
      co_await StreamUntilRefused(exchange);
    } else if (target == "/throw") {
      throw std::runtime_error("handler exploded");
    } else {
      co_await exchange.Respond(Text(bhttp::status::not_found, "no route"));
    }
  }

  std::atomic<bool> slow_started{false};
  std::atomic<bool> endless_stopped{false};

 private:
  static net::awaitable<void> StreamChunks(Exchange& exchange) {
    co_await exchange.StartStream(Text(bhttp::status::ok, ""));
    for (int i = 0; i < kStreamChunks; ++i) {
      co_await exchange.WriteStream("chunk-" + std::to_string(i) + "\n");
      co_await Sleep(kChunkPause);
    }
    co_await exchange.FinishStream();
  }

  static net::awaitable<void> StreamBulk(Exchange& exchange) {
    co_await exchange.StartStream(Text(bhttp::status::ok, ""));
    const std::string chunk(kBulkChunkBytes, 'b');
    for (int i = 0; i < kBulkChunks; ++i) {
      if (!co_await exchange.WriteStream(chunk)) {
        co_return;
      }
    }
    co_await exchange.FinishStream();
  }

  net::awaitable<void> StreamUntilRefused(Exchange& exchange) {
    co_await exchange.StartStream(Text(bhttp::status::ok, ""));
    bool accepted = true;
    while (accepted) {
      accepted = co_await exchange.WriteStream("tick\n");
      co_await Sleep(5ms);
    }
    endless_stopped.store(true);
  }

  net::awaitable<void> WaitAtBarrier(Exchange& exchange) {
    ++barrier_arrivals_;
    const auto give_up = std::chrono::steady_clock::now() + 2s;
    while (barrier_arrivals_ < kBarrierStreams && std::chrono::steady_clock::now() < give_up) {
      co_await Sleep(5ms);
    }
    const bool together = barrier_arrivals_ >= kBarrierStreams;
    co_await exchange.Respond(Text(together ? bhttp::status::ok : bhttp::status::gateway_timeout,
                                   together ? "together" : "alone"));
  }

  int barrier_arrivals_ = 0;
};

struct StreamResult {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  int data_chunks = 0;
  bool closed = false;
  std::uint32_t error_code = 0;
};

int ConnectLoopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads until the peer closes or `limit` passes; returns what arrived and whether it closed.
std::pair<std::string, bool> ReadToClose(int fd, std::chrono::milliseconds limit) {
  std::string received;
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    pollfd poll_fd{fd, POLLIN, 0};
    if (::poll(&poll_fd, 1, 10) <= 0) {
      continue;
    }
    char buffer[4096];
    const auto n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      return {received, true};
    }
    received.append(buffer, static_cast<std::size_t>(n));
  }
  return {received, false};
}

// A minimal HTTP/2 client: submit requests, then pump the socket until a condition holds.
class Http2Client {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  explicit Http2Client(std::uint16_t port) : fd_(ConnectLoopback(port)) {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, OnData);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, OnClose);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, OnFrame);
    nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }

  Http2Client(const Http2Client&) = delete;
  Http2Client& operator=(const Http2Client&) = delete;

  ~Http2Client() {
    nghttp2_session_del(session_);
    ::close(fd_);
  }

  std::int32_t Submit(std::string_view method, std::string_view path, std::string body = {},
                      Fields extra = {}, std::string_view authority = "localhost") {
    auto fields = RequestHead(method, path, authority);
    fields.insert(fields.end(), extra.begin(), extra.end());
    const auto nv = ToNv(fields);
    if (body.empty()) {
      return nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), nullptr, nullptr);
    }
    uploads_.push_back(std::make_unique<Upload>(Upload{std::move(body), 0}));
    nghttp2_data_provider provider{};
    provider.source.ptr = uploads_.back().get();
    provider.read_callback = ReadUpload;
    return nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), &provider, nullptr);
  }

  // Opens a stream whose request never ends: HEADERS without END_STREAM and no body after it.
  std::int32_t SubmitUnfinished(std::string_view path) {
    auto fields = RequestHead("POST", path, "localhost");
    const auto nv = ToNv(fields);
    return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, -1, nullptr, nv.data(), nv.size(),
                                  nullptr);
  }

  void Reset(std::int32_t stream_id) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
  }

  void SubmitGoaway() {
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
  }

  // Sends what the session has queued and processes input until `done` holds; false on timeout.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 3s) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (true) {
      Flush();
      if (done()) {
        return true;
      }
      if (peer_closed_ || std::chrono::steady_clock::now() >= give_up) {
        return false;
      }
      pollfd poll_fd{fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 10) <= 0) {
        continue;
      }
      std::uint8_t buffer[16384];
      const auto n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0 || nghttp2_session_mem_recv(session_, buffer, static_cast<std::size_t>(n)) < 0) {
        peer_closed_ = true;
      }
    }
  }

  bool RunUntilClosed(std::int32_t stream_id) {
    return RunUntil([&] { return streams_[stream_id].closed; });
  }

  StreamResult& stream(std::int32_t stream_id) { return streams_[stream_id]; }

  bool peer_closed() const { return peer_closed_; }

  int goaway_count() const { return goaway_count_; }

  std::int32_t goaway_last_stream() const { return goaway_last_stream_; }

 private:
  struct Upload {
    std::string data;
    std::size_t offset;
  };

  static Fields RequestHead(std::string_view method, std::string_view path,
                            std::string_view authority) {
    return {{":method", std::string(method)},
            {":scheme", "http"},
            {":authority", std::string(authority)},
            {":path", std::string(path)}};
  }

  // The result points into `fields`, which must outlive it.
  static std::vector<nghttp2_nv> ToNv(Fields& fields) {
    std::vector<nghttp2_nv> nv;
    for (auto& [name, value] : fields) {
      nv.push_back({reinterpret_cast<std::uint8_t*>(name.data()),
                    reinterpret_cast<std::uint8_t*>(value.data()), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE});
    }
    return nv;
  }

  static Http2Client& Self(void* user) { return *static_cast<Http2Client*>(user); }

  static ssize_t ReadUpload(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                            std::uint32_t* flags, nghttp2_data_source* source, void*) {
    auto& upload = *static_cast<Upload*>(source->ptr);
    const auto n = std::min(length, upload.data.size() - upload.offset);
    std::memcpy(buf, upload.data.data() + upload.offset, n);
    upload.offset += n;
    if (upload.offset == upload.data.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<ssize_t>(n);
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                      std::size_t name_size, const std::uint8_t* value, std::size_t value_size,
                      std::uint8_t, void* user) {
    auto& stream = Self(user).streams_[frame->hd.stream_id];
    const std::string key(reinterpret_cast<const char*>(name), name_size);
    const std::string text(reinterpret_cast<const char*>(value), value_size);
    if (key == ":status") {
      stream.status = std::stoi(text);
    }
    stream.headers[key] = text;
    return 0;
  }

  static int OnData(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                    const std::uint8_t* data, std::size_t size, void* user) {
    auto& stream = Self(user).streams_[stream_id];
    stream.body.append(reinterpret_cast<const char*>(data), size);
    ++stream.data_chunks;
    return 0;
  }

  static int OnClose(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                     void* user) {
    auto& stream = Self(user).streams_[stream_id];
    stream.closed = true;
    stream.error_code = error_code;
    return 0;
  }

  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      ++Self(user).goaway_count_;
      Self(user).goaway_last_stream_ = frame->goaway.last_stream_id;
    }
    return 0;
  }

  void Flush() {
    const std::uint8_t* data = nullptr;
    ssize_t n = 0;
    while ((n = nghttp2_session_mem_send(session_, &data)) > 0) {
      if (!SendAll(fd_, {reinterpret_cast<const char*>(data), static_cast<std::size_t>(n)})) {
        peer_closed_ = true;
        return;
      }
    }
  }

  int fd_;
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, StreamResult> streams_;
  std::vector<std::unique_ptr<Upload>> uploads_;
  bool peer_closed_ = false;
  int goaway_count_ = 0;
  std::int32_t goaway_last_stream_ = -1;
};

class Http2SessionTest : public ::testing::Test {
 protected:
  void StartServer(ServerLimits limits = {}) {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 1;
    options.limits = limits;
    options.drain_timeout = 2s;
    server_ = std::make_unique<Server>(options, handler_);
    server_->Listen();
    thread_ = std::thread([this] { server_->Run(); });
  }

  void StopServer() {
    if (server_ != nullptr) {
      server_->Stop();
      thread_.join();
      server_.reset();
    }
  }

  void TearDown() override { StopServer(); }

  std::uint16_t port() const { return server_->port(); }

  TestHandler handler_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(Http2SessionTest, EchoesBodyAndDropsConnectionHeaders) {
  StartServer();
  Http2Client client(port());

  const auto id = client.Submit("POST", "/echo", "hello over h2");
  ASSERT_TRUE(client.RunUntilClosed(id));

  const auto& stream = client.stream(id);
  EXPECT_EQ(stream.status, 200);
  EXPECT_EQ(stream.body, "hello over h2");
  EXPECT_EQ(stream.headers.at("content-length"), "13");
  EXPECT_EQ(stream.headers.at("x-request-method"), "POST");
  EXPECT_EQ(stream.headers.count("connection"), 0u);
  EXPECT_EQ(stream.error_code, 0u);
}

TEST_F(Http2SessionTest, KeepsAuthorityAsHostAndPathRaw) {
  StartServer();
  Http2Client client(port());
  const std::string path = "/where/model/anthropic.claude-v2%3A1/invoke?x=a%2Fb";

  const auto id = client.Submit("GET", path, {}, {}, "bedrock.example:8443");
  ASSERT_TRUE(client.RunUntilClosed(id));

  EXPECT_EQ(client.stream(id).body, "bedrock.example:8443 " + path);
}

TEST_F(Http2SessionTest, RunsStreamsOfOneConnectionConcurrently) {
  StartServer();
  Http2Client client(port());
  std::vector<std::int32_t> ids;

  for (int i = 0; i < kBarrierStreams; ++i) {
    ids.push_back(client.Submit("GET", "/barrier"));
  }
  ASSERT_TRUE(client.RunUntil([&] {
    return std::all_of(ids.begin(), ids.end(), [&](auto id) { return client.stream(id).closed; });
  }));

  for (const auto id : ids) {
    EXPECT_EQ(client.stream(id).status, 200);
    EXPECT_EQ(client.stream(id).body, "together");
  }
}

TEST_F(Http2SessionTest, DeliversStreamedResponseInChunks) {
  StartServer();
  Http2Client client(port());

  const auto id = client.Submit("GET", "/stream");
  ASSERT_TRUE(client.RunUntilClosed(id));

  const auto& stream = client.stream(id);
  EXPECT_EQ(stream.status, 200);
  EXPECT_EQ(stream.body, "chunk-0\nchunk-1\nchunk-2\n");
  EXPECT_GE(stream.data_chunks, 2);  // pauses between writes keep the pieces apart
  EXPECT_EQ(stream.headers.count("content-length"), 0u);
}

TEST_F(Http2SessionTest, MovesLargeBodiesBothWays) {
  ServerLimits limits;
  limits.max_body_bytes = 8 << 20;
  StartServer(limits);
  Http2Client client(port());

  const auto upload = client.Submit("POST", "/size", std::string(3 << 20, 'u'));
  const auto download = client.Submit("GET", "/bulk");
  ASSERT_TRUE(client.RunUntil(
      [&] { return client.stream(upload).closed && client.stream(download).closed; }, 4s));

  EXPECT_EQ(client.stream(upload).body, std::to_string(3 << 20));
  EXPECT_EQ(client.stream(download).body.size(), kBulkChunkBytes * kBulkChunks);
}

TEST_F(Http2SessionTest, LetsHandlerRejectOversizedBodyAndKeepsConnection) {
  ServerLimits limits;
  limits.max_body_bytes = 1024;
  StartServer(limits);
  Http2Client client(port());

  const auto big = client.Submit("POST", "/echo", std::string(200'000, 'x'));
  ASSERT_TRUE(client.RunUntilClosed(big));
  const auto small = client.Submit("POST", "/echo", "fits");
  ASSERT_TRUE(client.RunUntilClosed(small));

  EXPECT_EQ(client.stream(big).status, 413);
  EXPECT_EQ(client.stream(big).body, "too large");
  EXPECT_EQ(client.stream(small).status, 200);
  EXPECT_EQ(client.stream(small).body, "fits");
}

TEST_F(Http2SessionTest, AnswersOversizedHeadersWith431) {
  ServerLimits limits;
  limits.max_header_bytes = 4096;
  StartServer(limits);
  Http2Client client(port());

  const auto id = client.Submit("GET", "/echo", {}, {{"x-padding", std::string(8000, 'p')}});
  ASSERT_TRUE(client.RunUntilClosed(id));

  EXPECT_EQ(client.stream(id).status, 431);
}

TEST_F(Http2SessionTest, AnswersThrowingHandlerWith500) {
  StartServer();
  Http2Client client(port());

  const auto id = client.Submit("GET", "/throw");
  ASSERT_TRUE(client.RunUntilClosed(id));

  EXPECT_EQ(client.stream(id).status, 500);
}

TEST_F(Http2SessionTest, TellsHandlerWhenClientResetsItsStream) {
  StartServer();
  Http2Client client(port());
  const auto id = client.Submit("GET", "/endless");
  ASSERT_TRUE(client.RunUntil([&] { return client.stream(id).data_chunks >= 2; }));

  client.Reset(id);
  ASSERT_TRUE(client.RunUntil([&] { return handler_.endless_stopped.load(); }));

  EXPECT_EQ(client.stream(id).status, 200);
  EXPECT_FALSE(client.peer_closed());
}

TEST_F(Http2SessionTest, SaysGoawayAndClosesWhenIdle) {
  ServerLimits limits;
  limits.idle_timeout = 200ms;
  StartServer(limits);
  Http2Client client(port());
  const auto id = client.Submit("GET", "/where");
  ASSERT_TRUE(client.RunUntilClosed(id));

  client.RunUntil([] { return false; }, 2s);

  EXPECT_TRUE(client.peer_closed());
  EXPECT_EQ(client.goaway_count(), 1);
  EXPECT_EQ(client.goaway_last_stream(), id);
}

TEST_F(Http2SessionTest, ClosesConnectionWhenRequestStopsArriving) {
  ServerLimits limits;
  limits.read_timeout = 200ms;
  StartServer(limits);
  Http2Client client(port());

  const auto id = client.SubmitUnfinished("/echo");
  client.RunUntil([] { return false; }, 2s);

  EXPECT_TRUE(client.peer_closed());
  EXPECT_EQ(client.stream(id).status, 0);
}

TEST_F(Http2SessionTest, AbandonsResponseTheClientStopsReading) {
  ServerLimits limits;
  limits.write_timeout = 200ms;
  StartServer(limits);
  Http2Client client(port());
  const auto id = client.Submit("GET", "/bulk");
  client.RunUntil([] { return true; });

  // Not reading lets the client's flow-control window run dry, so the server's output stalls.
  std::this_thread::sleep_for(600ms);
  client.RunUntil([] { return false; }, 2s);

  EXPECT_TRUE(client.peer_closed());
  EXPECT_LT(client.stream(id).body.size(), kBulkChunkBytes * kBulkChunks);
}

TEST_F(Http2SessionTest, ClosesConnectionOnGarbageAfterPreface) {
  StartServer();
  const int fd = ConnectLoopback(port());
  ASSERT_GE(fd, 0);

  ASSERT_TRUE(SendAll(fd, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nthis is not an http/2 frame at all"));
  const auto [received, closed] = ReadToClose(fd, 2s);
  ::close(fd);

  EXPECT_TRUE(closed);
  Http2Client client(port());
  const auto id = client.Submit("POST", "/echo", "still alive");
  ASSERT_TRUE(client.RunUntilClosed(id));
  EXPECT_EQ(client.stream(id).body, "still alive");
}

TEST_F(Http2SessionTest, FinishesResponseThenClosesAfterClientGoaway) {
  StartServer();
  Http2Client client(port());

  // What the AWS SDK for JavaScript does with disableConcurrentStreams: one request, then
  // GOAWAY while the response may still be on its way.
  const auto id = client.Submit("POST", "/echo", "one and done");
  client.RunUntil([] { return true; });
  client.SubmitGoaway();
  ASSERT_TRUE(client.RunUntil([&] { return client.stream(id).closed; }));
  client.RunUntil([] { return false; }, 1s);

  EXPECT_EQ(client.stream(id).status, 200);
  EXPECT_EQ(client.stream(id).body, "one and done");
  EXPECT_TRUE(client.peer_closed());
}

TEST_F(Http2SessionTest, StopLetsInFlightStreamFinish) {
  StartServer();
  Http2Client client(port());
  const auto id = client.Submit("GET", "/slow");
  ASSERT_TRUE(client.RunUntil([&] { return handler_.slow_started.load(); }));

  server_->Stop();
  ASSERT_TRUE(client.RunUntilClosed(id));
  client.RunUntil([] { return false; }, 1s);

  EXPECT_EQ(client.stream(id).status, 200);
  EXPECT_EQ(client.stream(id).body, "done");
  EXPECT_GE(client.goaway_count(), 1);
  EXPECT_EQ(client.goaway_last_stream(), id);
  EXPECT_TRUE(client.peer_closed());
}

TEST_F(Http2SessionTest, ServesHttp1OnTheSamePort) {
  StartServer();
  const int fd = ConnectLoopback(port());
  ASSERT_GE(fd, 0);

  ASSERT_TRUE(
      SendAll(fd, "GET /where HTTP/1.1\r\nHost: plain.example\r\nConnection: close\r\n\r\n"));
  const auto [received, closed] = ReadToClose(fd, 2s);
  ::close(fd);

  EXPECT_TRUE(closed);
  EXPECT_TRUE(received.starts_with("HTTP/1.1 200"));
  EXPECT_NE(received.find("plain.example /where"), std::string::npos);
}

}  // namespace
}  // namespace sluice::http
