// libFuzzer target for the request bodies the Bedrock front door parses: Converse bodies and the
// Anthropic and Nova InvokeModel bodies. Whatever the bytes, parsing must end in a request or a
// ValidationException, never a crash; an accepted request must survive token estimation and
// re-serialisation. Built by scripts/fuzz.sh, not CMake.
// fuzz-link: src/core/converse_json.cpp src/core/anthropic_request.cpp
// fuzz-link: src/core/anthropic_response.cpp src/core/anthropic_stream.cpp
// fuzz-link: src/core/invoke_schema.cpp src/core/nova_messages.cpp
// fuzz-link: src/core/tokens.cpp src/core/error.cpp src/core/converse.cpp
// fuzz-libs: boost_json fmt
// fuzz-seeds: fuzz/seeds/front_door

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/anthropic_messages.hpp"
#include "core/converse_json.hpp"
#include "core/nova_messages.hpp"
#include "core/tokens.hpp"

namespace {

using sluice::core::Operation;

void Exercise(const sluice::core::Result<sluice::core::ConverseRequest>& parsed) {
  if (!parsed) {
    // Every rejection must be a validation error with a message for the caller.
    if (parsed.error().code != sluice::core::ErrorCode::kValidation ||
        parsed.error().message.empty()) {
      std::abort();
    }
    return;
  }
  (void)sluice::core::EstimateInputTokens(*parsed);
  (void)sluice::core::SerializeConverseRequest(*parsed);
  if (!sluice::core::ValidateConverseBody(parsed->converse)) {
    std::abort();  // what was accepted once must stay valid
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  Exercise(sluice::core::ParseConverseRequest(body, Operation::kConverse, "model"));
  Exercise(sluice::core::anthropic::ParseInvokeBody(body, Operation::kInvokeModel, "model"));
  Exercise(sluice::core::nova::ParseInvokeBody(body, Operation::kInvokeModel, "model"));
  return 0;
}
