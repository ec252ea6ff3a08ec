#pragma once

#include <cstddef>
#include <memory>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/storage_ptr.hpp>

namespace sluice::core {

/// Memory for the JSON of one request and its answer: a monotonic arena whose first block is
/// taken from a per-thread stock and given back when the arena goes, so a typical request's JSON
/// costs no heap allocation at all (larger ones spill into further blocks from the heap).
///
/// Values built in the arena must not outlive it. Not thread-safe; an arena may end on another
/// thread than it began on (its block then joins that thread's stock).
class JsonArena final {
 public:
  /// Size of the recycled first block: a typical Converse request and answer fit in it.
  static constexpr std::size_t kBlockBytes = 8192;

  JsonArena();
  JsonArena(const JsonArena&) = delete;
  JsonArena& operator=(const JsonArena&) = delete;
  ~JsonArena();

  /// A non-owning handle to hand to Boost.JSON.
  boost::json::storage_ptr storage() { return boost::json::storage_ptr(&resource_); }

 private:
  std::unique_ptr<unsigned char[]> block_;
  boost::json::monotonic_resource resource_;
};

}  // namespace sluice::core
