#include "core/json_arena.hpp"

#include <vector>

namespace sluice::core {

namespace {

// Blocks kept per thread: enough for the requests one event loop has in flight at once in the
// common case; beyond it blocks are freed rather than hoarded.
constexpr std::size_t kStockLimit = 256;

std::vector<std::unique_ptr<unsigned char[]>>& Stock() {
  thread_local std::vector<std::unique_ptr<unsigned char[]>> stock;
  return stock;
}

std::unique_ptr<unsigned char[]> TakeBlock() {
  auto& stock = Stock();
  if (stock.empty()) {
    return std::make_unique_for_overwrite<unsigned char[]>(JsonArena::kBlockBytes);
  }
  auto block = std::move(stock.back());
  stock.pop_back();
  return block;
}

}  // namespace

JsonArena::JsonArena() : block_(TakeBlock()), resource_(block_.get(), kBlockBytes) {}

JsonArena::~JsonArena() {
  resource_.release();
  auto& stock = Stock();
  if (stock.size() < kStockLimit) {
    stock.push_back(std::move(block_));
  }
}

}  // namespace sluice::core
