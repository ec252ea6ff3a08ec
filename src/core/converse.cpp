#include "core/converse.hpp"

namespace sluice::core {

std::string_view OperationName(Operation operation) {
  switch (operation) {
    case Operation::kConverse:
      return "Converse";
    case Operation::kConverseStream:
      return "ConverseStream";
    case Operation::kInvokeModel:
      return "InvokeModel";
    case Operation::kInvokeModelWithResponseStream:
      return "InvokeModelWithResponseStream";
  }
  return "Converse";
}

bool IsStreaming(Operation operation) {
  return operation == Operation::kConverseStream ||
         operation == Operation::kInvokeModelWithResponseStream;
}

std::string_view StreamEventName(StreamEventType type) {
  switch (type) {
    case StreamEventType::kMessageStart:
      return "messageStart";
    case StreamEventType::kContentBlockStart:
      return "contentBlockStart";
    case StreamEventType::kContentBlockDelta:
      return "contentBlockDelta";
    case StreamEventType::kContentBlockStop:
      return "contentBlockStop";
    case StreamEventType::kMessageStop:
      return "messageStop";
    case StreamEventType::kMetadata:
      return "metadata";
    case StreamEventType::kNativeChunk:
      return "chunk";
  }
  return "chunk";
}

}  // namespace sluice::core
