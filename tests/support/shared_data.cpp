#include "support/shared_data.hpp"

#include <fstream>
#include <iterator>

namespace sluice::test_support {

std::string SharedDataPath(std::string_view relative_path) {
  std::string path = SLUICE_SHARED_DATA_DIR;
  path += '/';
  path += relative_path;
  return path;
}

std::optional<std::string> ReadSharedData(std::string_view relative_path) {
  std::ifstream file(SharedDataPath(relative_path), std::ios::binary);
  if (!file) {
    return std::nullopt;
  }
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) {
    return std::nullopt;
  }
  return bytes;
}

}  // namespace sluice::test_support
