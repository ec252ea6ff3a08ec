#include "identity/key_cache.hpp"

#include <utility>

#include "identity/key_material.hpp"

namespace sluice::identity {

KeyCache::KeyCache(KeyStore& store, KeyCacheOptions options)
    : store_(store), options_(std::move(options)) {}

Result<std::optional<AccessKeyMatch>> KeyCache::FindByAccessKey(std::string_view access_key_id) {
  std::lock_guard lock(mutex_);
  if (auto fresh = RefreshLocked(Check::kIfStale); !fresh) {
    return fresh.error();
  }
  auto found = by_access_key_.find(std::string(access_key_id));
  if (found == by_access_key_.end()) {
    // A key created a moment ago must work at once: a miss checks for changes before it counts.
    if (auto fresh = RefreshLocked(Check::kNow); !fresh) {
      return fresh.error();
    }
    found = by_access_key_.find(std::string(access_key_id));
    if (found == by_access_key_.end()) {
      return std::optional<AccessKeyMatch>();
    }
  }
  return std::optional<AccessKeyMatch>(found->second);
}

Result<std::optional<Principal>> KeyCache::FindByBearer(std::string_view api_key) {
  const std::string hash = HashApiKey(api_key);
  std::lock_guard lock(mutex_);
  if (auto fresh = RefreshLocked(Check::kIfStale); !fresh) {
    return fresh.error();
  }
  auto found = access_key_by_api_hash_.find(hash);
  if (found == access_key_by_api_hash_.end()) {
    if (auto fresh = RefreshLocked(Check::kNow); !fresh) {
      return fresh.error();
    }
    found = access_key_by_api_hash_.find(hash);
    if (found == access_key_by_api_hash_.end()) {
      return std::optional<Principal>();
    }
  }
  return std::optional<Principal>(by_access_key_.at(found->second).principal);
}

Result<void> KeyCache::Refresh() {
  std::lock_guard lock(mutex_);
  return RefreshLocked(Check::kNow);
}

std::uint64_t KeyCache::reload_count() const {
  std::lock_guard lock(mutex_);
  return reloads_;
}

Result<void> KeyCache::RefreshLocked(Check check) {
  const auto now = options_.now();
  if (check == Check::kIfStale && loaded_mark_ && now - checked_at_ < options_.max_age) {
    return {};
  }

  auto mark = store_.CurrentChangeMark();
  if (!mark) {
    return mark.error();
  }
  checked_at_ = now;
  if (loaded_mark_ && *loaded_mark_ == *mark) {
    return {};
  }

  // Read the mark before the rows: a change committed in between makes the next check reload
  // again, which is harmless, whereas the other order could miss it.
  auto active = store_.LoadActive();
  if (!active) {
    return active.error();
  }
  by_access_key_.clear();
  access_key_by_api_hash_.clear();
  for (auto& key : *active) {
    access_key_by_api_hash_.emplace(std::move(key.api_key_sha256), key.access_key_id);
    by_access_key_.emplace(std::move(key.access_key_id), std::move(key.match));
  }
  loaded_mark_ = *mark;
  ++reloads_;
  return {};
}

}  // namespace sluice::identity
