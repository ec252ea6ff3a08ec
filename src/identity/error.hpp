#pragma once

#include <string>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace sluice::identity {

/// A failure of the key store or of key generation. The message names the operation and the
/// cause; it never holds a secret, an API key or a secret's hash.
struct IdentityError {
  std::string message;
};

/// Lets `result<T, IdentityError>::value()` throw (a std::runtime_error carrying the message) when
/// called on an error; found by argument-dependent lookup, so Boost's spelling of the name.
// NOLINTNEXTLINE(readability-identifier-naming)
[[noreturn]] void throw_exception_from_error(const IdentityError& error,
                                             const boost::source_location& location);

/// Value or error, returned by everything in `sluice::identity` that can fail.
template <typename T>
using Result = boost::system::result<T, IdentityError>;

}  // namespace sluice::identity
