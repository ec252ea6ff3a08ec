#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice::test_support {

/// The bytes of a file under the shared data directory (SLUICE_SHARED_DATA_DIR, set by the
/// build), e.g. `bedrock-conformance-derived/eventstream/converse_stream_ok.bin`; nullopt when
/// the file is missing or unreadable, so a test can skip with a reason.
std::optional<std::string> ReadSharedData(std::string_view relative_path);

/// The full path ReadSharedData reads, for skip messages.
std::string SharedDataPath(std::string_view relative_path);

}  // namespace sluice::test_support
