#pragma once

#include <string>

namespace sluice::core {

/// A new random (version 4) UUID in its 36-character text form, as Bedrock's request IDs are.
/// Uses a per-thread generator seeded from the OS, so it takes no lock.
std::string NewRequestId();

}  // namespace sluice::core
