#include "http/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <spdlog/spdlog.h>

namespace sluice::http {

namespace {

// A worker hands its buffer over once it holds this much, so a busy worker submits a batch
// every few hundred requests.
constexpr std::size_t kBatchBytes = 32 * 1024;

// Queued and not yet written, beyond which new batches are dropped: a destination this far
// behind (a full disk, a stalled pipe) must not turn into unbounded memory.
constexpr std::size_t kMaxQueuedBytes = 64 * 1024 * 1024;

std::string_view ProtocolName(Protocol protocol) {
  return protocol == Protocol::kHttp2 ? "h2" : "http/1.1";
}

// Empty fields are written as "-" so every line has the same keys in the same order.
std::string_view OrDash(std::string_view value) {
  return value.empty() ? "-" : value;
}

}  // namespace

boost::system::result<std::unique_ptr<AccessLog>, std::string> AccessLog::Open(
    const std::string& destination) {
  if (destination == "stdout") {
    return std::unique_ptr<AccessLog>(new AccessLog(STDOUT_FILENO, false, destination));
  }
  if (destination == "stderr") {
    return std::unique_ptr<AccessLog>(new AccessLog(STDERR_FILENO, false, destination));
  }
  const int fd = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return {boost::system::in_place_error,
            fmt::format("cannot open access log {}: {}", destination, std::strerror(errno))};
  }
  return std::unique_ptr<AccessLog>(new AccessLog(fd, true, destination));
}

AccessLog::AccessLog(int fd, bool owns_fd, std::string name)
    : fd_(fd), owns_fd_(owns_fd), name_(std::move(name)) {
  writer_ = std::thread([this] { WriteLoop(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
  if (dropped_ > 0) {
    spdlog::warn("access log fell behind destination={} dropped_lines={}", name_, dropped_);
  }
  if (owns_fd_) {
    ::close(fd_);
  }
}

std::uint64_t AccessLog::dropped_lines() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void AccessLog::Submit(Batch batch) {
  {
    std::lock_guard lock(mutex_);
    if (queued_bytes_ + batch.text.size() > kMaxQueuedBytes) {
      dropped_ += batch.lines;
      return;
    }
    queued_bytes_ += batch.text.size();
    queue_.push_back(std::move(batch));
  }
  wake_.notify_one();
}

void AccessLog::WriteLoop() {
  std::vector<Batch> taken;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) {
        return;
      }
      taken.swap(queue_);
      queued_bytes_ = 0;
    }
    for (const auto& batch : taken) {
      if (!WriteAll(batch.text)) {
        std::lock_guard lock(mutex_);
        dropped_ += batch.lines;
      }
    }
    taken.clear();
  }
}

bool AccessLog::WriteAll(const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
}

void AccessLog::Buffer::AppendTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto since_epoch = now.time_since_epoch();
  const auto second = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  if (second != cached_second_) {
    const std::time_t time = static_cast<std::time_t>(second);
    std::tm utc{};
    gmtime_r(&time, &utc);
    cached_prefix_.clear();
    fmt::format_to(std::back_inserter(cached_prefix_), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                   utc.tm_sec);
    cached_second_ = second;
  }
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  pending_.append(cached_prefix_);
  fmt::format_to(std::back_inserter(pending_), ".{:03}Z ", millis);
}

void AccessLog::Buffer::Append(const Exchange& exchange, std::size_t response_bytes) {
  const auto& record = exchange.record();
  const auto& request = exchange.request();
  const auto elapsed = std::chrono::steady_clock::now() - exchange.received_at();
  const double latency_ms = std::chrono::duration<double, std::milli>(elapsed).count();

  AppendTimestamp();
  fmt::format_to(
      std::back_inserter(pending_),
      "request_id={} connection={} protocol={} remote={} method={} path={} status={} "
      "latency_ms={:.3f} bytes={} principal={} model={} region={} input_tokens={} "
      "output_tokens={} error={}\n",
      OrDash(record.request_id), exchange.connection().id,
      ProtocolName(exchange.connection().protocol), OrDash(exchange.connection().remote_address),
      std::string_view(request.method_string()), std::string_view(request.target()),
      exchange.status(), latency_ms, response_bytes, OrDash(record.principal), OrDash(record.model),
      OrDash(record.region), record.input_tokens, record.output_tokens, OrDash(record.error_type));
  ++lines_;
  if (pending_.size() >= kBatchBytes) {
    Flush();
  }
}

void AccessLog::Buffer::Flush() {
  if (lines_ == 0) {
    return;
  }
  log_.Submit(Batch{std::string(pending_.data(), pending_.size()), lines_});
  pending_.clear();
  lines_ = 0;
}

}  // namespace sluice::http
