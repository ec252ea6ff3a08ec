#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/system/result.hpp>
#include <fmt/format.h>

#include "http/exchange.hpp"

namespace sluice::http {

/// The access log: one line per request, in `key=value` form, to stdout, stderr or a file.
///
/// No event loop ever writes to the destination itself. Each worker formats lines into its own
/// `Buffer` and hands a batch to a background writer thread when the buffer fills up or when
/// the worker flushes it (at least every quarter second), so the writer wakes once per batch,
/// not once per request. When the destination falls far behind, whole batches are dropped and
/// counted rather than letting memory grow or stalling request handling.
///
/// Thread-safe: buffers may be flushed from every worker at once. The log must outlive every
/// buffer made from it; destroying it writes what is queued and stops the writer.
class AccessLog final {
 public:
  /// Opens `destination`: "stdout", "stderr", or a file path, created or appended to.
  static boost::system::result<std::unique_ptr<AccessLog>, std::string> Open(
      const std::string& destination);

  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  ~AccessLog();

  /// Lines dropped because the destination could not keep up (or failed).
  std::uint64_t dropped_lines() const;

  /// One worker's lines. Not thread-safe: used only on its worker's event loop.
  class Buffer final {
   public:
    explicit Buffer(AccessLog& log) : log_(log) {}

    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    ~Buffer() { Flush(); }

    /// Appends the line for a finished exchange.
    void Append(const Exchange& exchange, std::size_t response_bytes);

    /// Hands the buffered lines to the writer.
    void Flush();

   private:
    void AppendTimestamp();

    AccessLog& log_;
    fmt::memory_buffer pending_;
    std::size_t lines_ = 0;
    // The formatted date and time up to the second, reused for every line in that second.
    std::int64_t cached_second_ = -1;
    fmt::memory_buffer cached_prefix_;
  };

 private:
  struct Batch {
    std::string text;
    std::size_t lines = 0;
  };

  AccessLog(int fd, bool owns_fd, std::string name);
  void Submit(Batch batch);
  void WriteLoop();
  bool WriteAll(const std::string& text);

  const int fd_;
  const bool owns_fd_;
  const std::string name_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Batch> queue_;      // guarded by mutex_
  std::size_t queued_bytes_ = 0;  // guarded by mutex_
  std::uint64_t dropped_ = 0;     // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  std::thread writer_;
};

}  // namespace sluice::http
