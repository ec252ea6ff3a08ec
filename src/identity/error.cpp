#include "identity/error.hpp"

#include <stdexcept>

#include <boost/throw_exception.hpp>

namespace sluice::identity {

void throw_exception_from_error(const IdentityError& error,
                                const boost::source_location& location) {
  boost::throw_exception(std::runtime_error(error.message), location);
}

}  // namespace sluice::identity
