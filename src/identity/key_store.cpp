#include "identity/key_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>
#include <utility>

#include <sqlite3.h>

#include "identity/key_material.hpp"

namespace sluice::identity {

namespace {

// How long a writer waits for another process's write lock before giving up. `sluice keys` and
// `sluice serve` only hold it for one short transaction.
constexpr int kBusyTimeoutMs = 5000;

// Schema steps, applied in order; step i brings the file from version i to i + 1. Never edit a
// step once released: add a new one.
constexpr std::array<const char*, 1> kMigrations = {
    R"sql(
      CREATE TABLE keys (
        access_key_id     TEXT PRIMARY KEY NOT NULL,
        secret_access_key TEXT NOT NULL,
        api_key_sha256    TEXT NOT NULL UNIQUE,
        arn               TEXT NOT NULL,
        application       TEXT NOT NULL,
        team              TEXT NOT NULL DEFAULT '',
        project           TEXT NOT NULL DEFAULT '',
        cost_center       TEXT NOT NULL DEFAULT '',
        tenant            TEXT NOT NULL DEFAULT '',
        environment       TEXT NOT NULL DEFAULT '',
        is_admin          INTEGER NOT NULL DEFAULT 0,
        created_at        TEXT NOT NULL,
        revoked_at        TEXT,
        rotated_from      TEXT
      );
    )sql",
};

// UTC with milliseconds, so keys issued within one second still sort by creation.
constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

// Columns 0-7 of every query that reads a principal, in the order ReadPrincipal expects.
constexpr const char* kPrincipalColumns =
    "arn, application, team, project, cost_center, tenant, environment, is_admin";

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};

using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

IdentityError SqlError(sqlite3* db, std::string_view operation) {
  return IdentityError{"key store: " + std::string(operation) + ": " + sqlite3_errmsg(db)};
}

Result<void> Exec(sqlite3* db, const std::string& sql, std::string_view operation) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqlError(db, operation);
  }
  return {};
}

Result<Statement> Prepare(sqlite3* db, const std::string& sql, std::string_view operation) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) !=
      SQLITE_OK) {
    return SqlError(db, operation);
  }
  return Statement(raw);
}

// Runs a query and turns every row into a T with `read_row`; errors name `operation`.
template <typename T, typename ReadRow>
Result<std::vector<T>> ReadAll(sqlite3* db, const std::string& sql, std::string_view operation,
                               ReadRow read_row) {
  auto query = Prepare(db, sql, operation);
  if (!query) {
    return query.error();
  }
  std::vector<T> rows;
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(query->get())) == SQLITE_ROW) {
    rows.push_back(read_row(query->get()));
  }
  if (step != SQLITE_DONE) {
    return SqlError(db, operation);
  }
  return rows;
}

void BindText(sqlite3_stmt* statement, int index, std::string_view text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

std::string ColumnText(sqlite3_stmt* statement, int column) {
  const auto* text = sqlite3_column_text(statement, column);
  if (text == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(statement, column)));
}

std::optional<std::string> ColumnOptionalText(sqlite3_stmt* statement, int column) {
  if (sqlite3_column_type(statement, column) == SQLITE_NULL) {
    return std::nullopt;
  }
  return ColumnText(statement, column);
}

Principal ReadPrincipal(sqlite3_stmt* statement, int first) {
  Principal principal;
  principal.arn = ColumnText(statement, first);
  principal.tags.application = ColumnText(statement, first + 1);
  principal.tags.team = ColumnText(statement, first + 2);
  principal.tags.project = ColumnText(statement, first + 3);
  principal.tags.cost_center = ColumnText(statement, first + 4);
  principal.tags.tenant = ColumnText(statement, first + 5);
  principal.tags.environment = ColumnText(statement, first + 6);
  principal.is_admin = sqlite3_column_int(statement, first + 7) != 0;
  return principal;
}

// Rolls back unless Commit succeeded, so an early error return leaves the file unchanged.
class Transaction final {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}

  ~Transaction() {
    if (open_) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // IMMEDIATE takes the write lock up front, so two writers wait on busy_timeout instead of
  // failing at their first write with a deadlock error.
  Result<void> Begin(std::string_view operation) {
    auto begun = Exec(db_, "BEGIN IMMEDIATE", operation);
    open_ = begun.has_value();
    return begun;
  }

  Result<void> Commit(std::string_view operation) {
    auto committed = Exec(db_, "COMMIT", operation);
    if (committed) {
      open_ = false;
    }
    return committed;
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

// The file holds secrets, so it is created readable by its owner only; SQLite gives its -wal and
// -shm files the same mode.
Result<void> CreatePrivateFile(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    const std::error_code error(errno, std::generic_category());
    return IdentityError{"key store: open " + file.string() + ": " + error.message()};
  }
  ::close(fd);
  return {};
}

}  // namespace

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::filesystem::path& data_dir) {
  return OpenFile(data_dir / kFileName);
}

Result<std::unique_ptr<KeyStore>> KeyStore::OpenFile(const std::filesystem::path& file) {
  const std::string operation = "open " + file.string();
  std::error_code exists_error;
  if (!std::filesystem::exists(file, exists_error)) {
    auto created = CreatePrivateFile(file);
    if (!created) {
      return created.error();
    }
  }

  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    IdentityError error = db != nullptr ? SqlError(db, operation)
                                        : IdentityError{"key store: " + operation + ": no memory"};
    sqlite3_close(db);
    return error;
  }
  std::unique_ptr<KeyStore> store(new KeyStore(db));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);

  auto wal = Prepare(db, "PRAGMA journal_mode=WAL", operation);
  if (!wal) {
    return wal.error();
  }
  if (sqlite3_step(wal->get()) != SQLITE_ROW || ColumnText(wal->get(), 0) != "wal") {
    return IdentityError{"key store: " + operation + ": cannot switch to WAL mode"};
  }
  wal->reset();

  auto migrated = store->Migrate();
  if (!migrated) {
    return IdentityError{migrated.error().message + " (file " + file.string() + ")"};
  }
  return store;
}

KeyStore::KeyStore(sqlite3* db) : db_(db) {}

KeyStore::~KeyStore() {
  sqlite3_close(db_);
}

Result<void> KeyStore::Migrate() {
  constexpr std::string_view kOperation = "migrate schema";
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (auto begun = transaction.Begin(kOperation); !begun) {
    return begun;
  }
  auto created =
      Exec(db_, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", kOperation);
  if (!created) {
    return created;
  }

  auto query = Prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version", kOperation);
  if (!query) {
    return query.error();
  }
  if (sqlite3_step(query->get()) != SQLITE_ROW) {
    return SqlError(db_, kOperation);
  }
  const auto current = static_cast<std::size_t>(sqlite3_column_int64(query->get(), 0));
  query->reset();
  if (current > kMigrations.size()) {
    return IdentityError{"key store: migrate schema: the file is at version " +
                         std::to_string(current) + ", newer than this sluice knows (" +
                         std::to_string(kMigrations.size()) + ")"};
  }
  if (current == kMigrations.size()) {
    return transaction.Commit(kOperation);
  }

  for (std::size_t step = current; step < kMigrations.size(); ++step) {
    auto applied = Exec(db_, kMigrations[step], kOperation);
    if (!applied) {
      return applied;
    }
  }
  auto recorded = Exec(db_,
                       "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (" +
                           std::to_string(kMigrations.size()) + ")",
                       kOperation);
  if (!recorded) {
    return recorded;
  }
  auto committed = transaction.Commit(kOperation);
  if (committed) {
    ++own_writes_;
  }
  return committed;
}

Result<IssuedKey> KeyStore::Create(Principal principal, std::string_view account_id) {
  if (!IsValidApplicationName(principal.tags.application)) {
    return IdentityError{
        "key store: create key: application name must be 1 to 52 letters, "
        "digits or +=,.@_- characters"};
  }
  if (principal.arn.empty()) {
    if (!IsValidAccountId(account_id)) {
      return IdentityError{"key store: create key: account id must be 12 digits"};
    }
    principal.arn = DefaultRoleArn(account_id, principal.tags.application);
  }

  std::lock_guard lock(mutex_);
  auto issued = InsertNewKey(std::move(principal), std::nullopt);
  if (issued) {
    ++own_writes_;
  }
  return issued;
}

// Called with mutex_ held; inside the caller's transaction when there is one.
Result<IssuedKey> KeyStore::InsertNewKey(Principal principal,
                                         const std::optional<std::string>& rotated_from) {
  constexpr std::string_view kOperation = "issue key";
  IssuedKey issued;
  auto id = NewAccessKeyId();
  auto secret = NewSecretAccessKey();
  auto api_key = NewApiKey();
  if (!id || !secret || !api_key) {
    return !id ? id.error() : !secret ? secret.error() : api_key.error();
  }
  issued.access_key_id = std::move(*id);
  issued.secret_access_key = std::move(*secret);
  issued.api_key = std::move(*api_key);
  issued.principal = std::move(principal);

  auto insert = Prepare(db_,
                        std::string("INSERT INTO keys (access_key_id, secret_access_key, "
                                    "api_key_sha256, ") +
                            kPrincipalColumns + ", created_at, rotated_from) VALUES " +
                            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, " + kNow + ", ?12)",
                        kOperation);
  if (!insert) {
    return insert.error();
  }
  sqlite3_stmt* statement = insert->get();
  const Principal& owner = issued.principal;
  BindText(statement, 1, issued.access_key_id);
  BindText(statement, 2, issued.secret_access_key);
  BindText(statement, 3, HashApiKey(issued.api_key));
  BindText(statement, 4, owner.arn);
  BindText(statement, 5, owner.tags.application);
  BindText(statement, 6, owner.tags.team);
  BindText(statement, 7, owner.tags.project);
  BindText(statement, 8, owner.tags.cost_center);
  BindText(statement, 9, owner.tags.tenant);
  BindText(statement, 10, owner.tags.environment);
  sqlite3_bind_int(statement, 11, owner.is_admin ? 1 : 0);
  if (rotated_from) {
    BindText(statement, 12, *rotated_from);
  }
  if (sqlite3_step(statement) != SQLITE_DONE) {
    return SqlError(db_, kOperation);
  }
  return issued;
}

Result<std::vector<KeyInfo>> KeyStore::List() {
  std::lock_guard lock(mutex_);
  return ReadAll<KeyInfo>(
      db_,
      std::string("SELECT access_key_id, created_at, revoked_at, rotated_from, ") +
          kPrincipalColumns + " FROM keys ORDER BY created_at, rowid",
      "list keys", [](sqlite3_stmt* row) {
        KeyInfo info;
        info.access_key_id = ColumnText(row, 0);
        info.created_at = ColumnText(row, 1);
        info.revoked_at = ColumnOptionalText(row, 2);
        info.rotated_from = ColumnOptionalText(row, 3);
        info.principal = ReadPrincipal(row, 4);
        return info;
      });
}

Result<IssuedKey> KeyStore::Rotate(std::string_view access_key_id) {
  constexpr std::string_view kOperation = "rotate key";
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (auto begun = transaction.Begin(kOperation); !begun) {
    return begun.error();
  }

  auto query = Prepare(db_,
                       std::string("SELECT ") + kPrincipalColumns +
                           " FROM keys WHERE access_key_id = ?1 AND revoked_at IS NULL",
                       kOperation);
  if (!query) {
    return query.error();
  }
  BindText(query->get(), 1, access_key_id);
  const int step = sqlite3_step(query->get());
  if (step == SQLITE_DONE) {
    return IdentityError{"key store: rotate key " + std::string(access_key_id) +
                         ": no active key with this id"};
  }
  if (step != SQLITE_ROW) {
    return SqlError(db_, kOperation);
  }
  Principal principal = ReadPrincipal(query->get(), 0);
  query->reset();

  auto issued = InsertNewKey(std::move(principal), std::string(access_key_id));
  if (!issued) {
    return issued.error();
  }
  auto revoke = Prepare(
      db_, std::string("UPDATE keys SET revoked_at = ") + kNow + " WHERE access_key_id = ?1",
      kOperation);
  if (!revoke) {
    return revoke.error();
  }
  BindText(revoke->get(), 1, access_key_id);
  if (sqlite3_step(revoke->get()) != SQLITE_DONE) {
    return SqlError(db_, kOperation);
  }
  if (auto committed = transaction.Commit(kOperation); !committed) {
    return committed.error();
  }
  ++own_writes_;
  return issued;
}

Result<void> KeyStore::Revoke(std::string_view access_key_id) {
  constexpr std::string_view kOperation = "revoke key";
  std::lock_guard lock(mutex_);
  auto revoke = Prepare(db_,
                        std::string("UPDATE keys SET revoked_at = ") + kNow +
                            " WHERE access_key_id = ?1 AND revoked_at IS NULL",
                        kOperation);
  if (!revoke) {
    return revoke.error();
  }
  BindText(revoke->get(), 1, access_key_id);
  if (sqlite3_step(revoke->get()) != SQLITE_DONE) {
    return SqlError(db_, kOperation);
  }
  if (sqlite3_changes(db_) == 0) {
    return IdentityError{"key store: revoke key " + std::string(access_key_id) +
                         ": no active key with this id"};
  }
  ++own_writes_;
  return {};
}

Result<std::optional<AccessKeyMatch>> KeyStore::FindByAccessKey(std::string_view access_key_id) {
  constexpr std::string_view kOperation = "find access key";
  std::lock_guard lock(mutex_);
  auto query = Prepare(db_,
                       std::string("SELECT secret_access_key, ") + kPrincipalColumns +
                           " FROM keys WHERE access_key_id = ?1 AND revoked_at IS NULL",
                       kOperation);
  if (!query) {
    return query.error();
  }
  BindText(query->get(), 1, access_key_id);
  const int step = sqlite3_step(query->get());
  if (step == SQLITE_DONE) {
    return std::optional<AccessKeyMatch>();
  }
  if (step != SQLITE_ROW) {
    return SqlError(db_, kOperation);
  }
  return std::optional<AccessKeyMatch>(
      AccessKeyMatch{ColumnText(query->get(), 0), ReadPrincipal(query->get(), 1)});
}

Result<std::optional<Principal>> KeyStore::FindByBearer(std::string_view api_key) {
  constexpr std::string_view kOperation = "find API key";
  std::lock_guard lock(mutex_);
  // The hash is looked up through its unique index; the clear key never reaches the database.
  auto query = Prepare(db_,
                       std::string("SELECT ") + kPrincipalColumns +
                           " FROM keys WHERE api_key_sha256 = ?1 AND revoked_at IS NULL",
                       kOperation);
  if (!query) {
    return query.error();
  }
  BindText(query->get(), 1, HashApiKey(api_key));
  const int step = sqlite3_step(query->get());
  if (step == SQLITE_DONE) {
    return std::optional<Principal>();
  }
  if (step != SQLITE_ROW) {
    return SqlError(db_, kOperation);
  }
  return std::optional<Principal>(ReadPrincipal(query->get(), 0));
}

Result<std::vector<ActiveKey>> KeyStore::LoadActive() {
  std::lock_guard lock(mutex_);
  return ReadAll<ActiveKey>(
      db_,
      std::string("SELECT access_key_id, api_key_sha256, secret_access_key, ") + kPrincipalColumns +
          " FROM keys WHERE revoked_at IS NULL",
      "load active keys", [](sqlite3_stmt* row) {
        ActiveKey key;
        key.access_key_id = ColumnText(row, 0);
        key.api_key_sha256 = ColumnText(row, 1);
        key.match.secret_access_key = ColumnText(row, 2);
        key.match.principal = ReadPrincipal(row, 3);
        return key;
      });
}

Result<ChangeMark> KeyStore::CurrentChangeMark() {
  constexpr std::string_view kOperation = "read data version";
  std::lock_guard lock(mutex_);
  auto query = Prepare(db_, "PRAGMA data_version", kOperation);
  if (!query) {
    return query.error();
  }
  if (sqlite3_step(query->get()) != SQLITE_ROW) {
    return SqlError(db_, kOperation);
  }
  return ChangeMark{sqlite3_column_int64(query->get(), 0), own_writes_};
}

Result<int> KeyStore::SchemaVersion() {
  constexpr std::string_view kOperation = "read schema version";
  std::lock_guard lock(mutex_);
  auto query = Prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version", kOperation);
  if (!query) {
    return query.error();
  }
  if (sqlite3_step(query->get()) != SQLITE_ROW) {
    return SqlError(db_, kOperation);
  }
  return sqlite3_column_int(query->get(), 0);
}

}  // namespace sluice::identity
