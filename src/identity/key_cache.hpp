#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "identity/error.hpp"
#include "identity/key_store.hpp"
#include "identity/principal.hpp"

namespace sluice::identity {

/// Settings of a `KeyCache`.
struct KeyCacheOptions {
  /// How old the cached keys may get before a lookup checks the database for changes. It bounds
  /// how long a revoked key keeps working. Default 500 ms.
  std::chrono::milliseconds max_age{500};
  /// Time source; tests inject a fake one. Default steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

/// Answers key lookups from memory, for the request path, while staying fresh enough that a key
/// created with `sluice keys create` works at once and one revoked with `sluice keys revoke` stops
/// working within `max_age` plus one lookup, even though another process made the change.
///
/// Policy: every active key is held in memory. A lookup first checks freshness: when the snapshot
/// is older than `max_age`, or when the key is not in it (a new key may just have been created),
/// the cache reads the store's `ChangeMark` (`PRAGMA data_version`, no table access) and reloads
/// every active key only if the mark moved. So a flood of unknown keys costs one pragma each, not a
/// table scan, and a quiet database costs one pragma per `max_age`.
///
/// Intended use (not wired into `sluice serve` yet): serve opens its own `KeyStore` on the data
/// directory, builds one `KeyCache` over it at start, and the identity stage of the request path
/// calls `FindByAccessKey` (SigV4: verify with the returned secret) or `FindByBearer`; a nullopt
/// is an unknown or revoked key, an error means freshness could not be checked and the request is
/// refused rather than answered with possibly revoked credentials.
///
/// Thread-safe: one mutex guards the snapshot, and a reload happens under it, so concurrent
/// lookups wait for one reload instead of each doing their own. Borrows `store`, which must
/// outlive the cache.
/// Limitation: every active key (secrets included) is held in memory and a change reloads them
/// all; fine for thousands of keys, while a deployment with millions would want per-key loading.
class KeyCache final {
 public:
  explicit KeyCache(KeyStore& store, KeyCacheOptions options = {});
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  /// The secret and principal of an active access key; nullopt if unknown or revoked.
  [[nodiscard]] Result<std::optional<AccessKeyMatch>> FindByAccessKey(
      std::string_view access_key_id);

  /// The principal of an active bearer API key; nullopt if unknown or revoked.
  [[nodiscard]] Result<std::optional<Principal>> FindByBearer(std::string_view api_key);

  /// Reloads now if the database changed since the last load, whatever the snapshot's age.
  [[nodiscard]] Result<void> Refresh();

  /// How many times the snapshot has been (re)loaded; for tests and metrics.
  std::uint64_t reload_count() const;

 private:
  enum class Check { kIfStale, kNow };

  // Called with mutex_ held.
  Result<void> RefreshLocked(Check check);

  KeyStore& store_;
  const KeyCacheOptions options_;

  mutable std::mutex mutex_;
  // Guarded by mutex_: the snapshot, keyed by access key id and by API key hash.
  std::unordered_map<std::string, AccessKeyMatch> by_access_key_;
  std::unordered_map<std::string, std::string> access_key_by_api_hash_;
  std::optional<ChangeMark> loaded_mark_;
  std::chrono::steady_clock::time_point checked_at_{};
  std::uint64_t reloads_ = 0;
};

}  // namespace sluice::identity
