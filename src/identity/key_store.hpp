#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "identity/error.hpp"
#include "identity/principal.hpp"

struct sqlite3;

namespace sluice::identity {

/// What `KeyStore::Create` and `KeyStore::Rotate` hand out. The secret and the API key are shown
/// here once; the store keeps the secret (see KeyStore) but only a hash of the API key.
struct IssuedKey {
  std::string access_key_id;
  std::string secret_access_key;
  std::string api_key;
  Principal principal;
};

/// One row of `KeyStore::List`: everything but secrets.
struct KeyInfo {
  std::string access_key_id;
  Principal principal;
  /// UTC, ISO 8601 with milliseconds, e.g. `2026-12-03T18:25:07.123Z`.
  std::string created_at;
  /// Set once the key is revoked (directly or by rotation); same format as `created_at`.
  std::optional<std::string> revoked_at;
  /// The key this one replaced, when it was issued by `Rotate`.
  std::optional<std::string> rotated_from;
};

/// An active access key found by id: the secret SigV4 verification needs, and its principal.
struct AccessKeyMatch {
  std::string secret_access_key;
  Principal principal;
};

/// An active key as `KeyStore::LoadActive` returns it; `api_key_sha256` is `HashApiKey` of the
/// bearer key.
struct ActiveKey {
  std::string access_key_id;
  std::string api_key_sha256;
  AccessKeyMatch match;
};

/// Identifies a state of the database, to tell cheaply whether anything changed since an earlier
/// look. It combines SQLite's `PRAGMA data_version` (which moves when *another* connection
/// commits) with a count of this store's own writes (which that pragma does not see).
struct ChangeMark {
  std::int64_t data_version = 0;
  std::uint64_t own_writes = 0;

  friend bool operator==(const ChangeMark&, const ChangeMark&) = default;
};

/// The keys sluice issues to its clients, in the SQLite file `<data_dir>/keys.db` (WAL mode, so a
/// running `sluice serve` keeps reading while `sluice keys` writes from another process).
///
/// Each row is one credential set bound to one principal: an access key id with its secret
/// access key, and a bearer API key. Only the SHA-256 of the API key is stored. The secret access
/// key is stored as it is, because verifying a SigV4 signature needs it, and anyone who can read
/// keys.db can therefore sign as any of its principals; the file is created with mode 0600.
/// Limitation: the secrets are not encrypted at rest. That is acceptable while keys.db lives in a
/// private data directory on the gateway's own host; encrypting them under a key from config or
/// a KMS is the next step once deployments share storage or back it up.
///
/// Thread-safe: one mutex serialises every use of the single connection. Lookups from the
/// request path should go through `KeyCache` rather than take that mutex per request.
/// Errors are values; messages name the operation and never carry secrets.
class KeyStore final {
 public:
  /// Name of the database file inside the data directory.
  static constexpr std::string_view kFileName = "keys.db";

  /// Opens (creating if needed) `<data_dir>/keys.db` and brings its schema up to date. The data
  /// directory must exist. Fails if the file is unusable or was written by a newer sluice.
  [[nodiscard]] static Result<std::unique_ptr<KeyStore>> Open(
      const std::filesystem::path& data_dir);

  /// Opens a database file at an explicit path; `Open` is this with `<data_dir>/keys.db`.
  [[nodiscard]] static Result<std::unique_ptr<KeyStore>> OpenFile(
      const std::filesystem::path& file);

  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;
  KeyStore(KeyStore&&) = delete;
  KeyStore& operator=(KeyStore&&) = delete;

  /// Issues a new credential set for `principal`. An empty `principal.arn` becomes
  /// `DefaultRoleArn(account_id, application)`. Fails if the application name or the account id
  /// is invalid. The returned secret and API key cannot be read back later.
  [[nodiscard]] Result<IssuedKey> Create(Principal principal,
                                         std::string_view account_id = kDefaultAccountId);

  /// Every key ever issued, oldest first, revoked ones included; never any secret.
  [[nodiscard]] Result<std::vector<KeyInfo>> List();

  /// Issues a new credential set (new access key id, secret and API key) for the principal of the
  /// active key `access_key_id`, and revokes the old one, in one transaction. Fails if the key is
  /// unknown or already revoked.
  [[nodiscard]] Result<IssuedKey> Rotate(std::string_view access_key_id);

  /// Revokes the key: its access key id and its API key stop working. Fails if the key is unknown
  /// or already revoked.
  [[nodiscard]] Result<void> Revoke(std::string_view access_key_id);

  /// The secret and principal of an active access key; nullopt if it is unknown or revoked.
  [[nodiscard]] Result<std::optional<AccessKeyMatch>> FindByAccessKey(
      std::string_view access_key_id);

  /// The principal of an active bearer API key; nullopt if it is unknown or revoked.
  [[nodiscard]] Result<std::optional<Principal>> FindByBearer(std::string_view api_key);

  /// Every active key with its API key hash, for `KeyCache` to load in one query.
  [[nodiscard]] Result<std::vector<ActiveKey>> LoadActive();

  /// The current state of the database, cheap enough to ask on every cache refresh.
  [[nodiscard]] Result<ChangeMark> CurrentChangeMark();

  /// The schema version the file is at after `Open`.
  [[nodiscard]] Result<int> SchemaVersion();

 private:
  explicit KeyStore(sqlite3* db);

  Result<void> Migrate();
  Result<IssuedKey> InsertNewKey(Principal principal,
                                 const std::optional<std::string>& rotated_from);

  std::mutex mutex_;
  sqlite3* db_;                   // Owned; closed by the destructor. Guarded by mutex_.
  std::uint64_t own_writes_ = 0;  // Guarded by mutex_.
};

}  // namespace sluice::identity
