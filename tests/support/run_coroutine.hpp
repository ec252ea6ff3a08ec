#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace sluice::test_support {

namespace net = boost::asio;

/// Longest a test coroutine may run before RunCoroutine gives up on it.
inline constexpr std::chrono::seconds kCoroutineTimeLimit{10};

namespace internal {

template <typename T>
net::awaitable<void> StoreResult(net::awaitable<T> task, std::optional<T>& out) {
  // The value lands in a local first: GCC 12 mishandles awaits nested in call arguments.
  T value = co_await std::move(task);
  out.emplace(std::move(value));
}

inline void RunUntilDone(net::io_context& io, const bool& done, std::exception_ptr& failure) {
  io.restart();
  io.run_for(kCoroutineTimeLimit);
  if (!done) {
    throw std::runtime_error("the coroutine under test did not finish in time");
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
}

}  // namespace internal

/// Runs `task` on `io` from the calling thread until it finishes, and returns its result.
/// `io` may hold other work that never ends (the HTTP client's sweep timer, for instance): the
/// loop stops as soon as the task completes, and a later call resumes that work. An exception
/// escaping the task is rethrown here. After the time limit it throws; `io` must then not run
/// again, since the abandoned task still refers to this call's locals.
template <typename T>
T RunCoroutine(net::io_context& io, net::awaitable<T> task) {
  std::optional<T> result;
  std::exception_ptr failure;
  bool done = false;
  net::co_spawn(io, internal::StoreResult(std::move(task), result), [&](std::exception_ptr error) {
    failure = error;
    done = true;
    io.stop();
  });

  internal::RunUntilDone(io, done, failure);
  return std::move(*result);
}

/// The same for a coroutine without a result.
inline void RunCoroutine(net::io_context& io, net::awaitable<void> task) {
  std::exception_ptr failure;
  bool done = false;
  net::co_spawn(io, std::move(task), [&](std::exception_ptr error) {
    failure = error;
    done = true;
    io.stop();
  });

  internal::RunUntilDone(io, done, failure);
}

}  // namespace sluice::test_support
