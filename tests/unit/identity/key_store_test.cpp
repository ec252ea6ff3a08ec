#include "identity/key_store.hpp"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <set>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "identity/key_material.hpp"
#include "unit/identity/temp_dir.hpp"

namespace sluice::identity {
namespace {

Principal Owner(std::string application, std::string team = "") {
  Principal principal;
  principal.tags.application = std::move(application);
  principal.tags.team = std::move(team);
  return principal;
}

// Every value of every row of `keys`, read with plain SQLite, as the file holds them.
std::vector<std::string> RawKeyTableValues(const std::filesystem::path& file) {
  std::vector<std::string> values;
  sqlite3* db = nullptr;
  sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "SELECT * FROM keys", -1, &statement, nullptr);
  while (sqlite3_step(statement) == SQLITE_ROW) {
    for (int column = 0; column < sqlite3_column_count(statement); ++column) {
      const auto* text = sqlite3_column_text(statement, column);
      values.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return values;
}

std::string FileBytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto opened = KeyStore::Open(dir_.path());
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(*opened);
  }

  test_support::TempDir dir_;
  std::unique_ptr<KeyStore> store_;
};

TEST_F(KeyStoreTest, CreateIssuesCredentialsForTheDefaultArn) {
  auto issued = store_->Create(Owner("CustomerServiceApp", "support"));

  ASSERT_TRUE(issued.has_value()) << issued.error().message;
  EXPECT_EQ(issued->access_key_id.substr(0, 4), "AKIA");
  EXPECT_EQ(issued->secret_access_key.size(), 40u);
  EXPECT_EQ(issued->api_key.substr(0, kApiKeyPrefix.size()), kApiKeyPrefix);
  EXPECT_EQ(issued->principal.arn, "arn:aws:iam::000000000000:role/CustomerServiceApp-BedrockRole");
  EXPECT_EQ(issued->principal.tags.team, "support");
}

TEST_F(KeyStoreTest, CreateUsesTheGivenAccountAndKeepsAnExplicitArn) {
  Principal custom = Owner("Billing");
  custom.arn = "arn:aws:iam::111122223333:role/Custom";

  auto with_account = store_->Create(Owner("Billing"), "123456789012");
  auto with_arn = store_->Create(custom);

  ASSERT_TRUE(with_account.has_value());
  ASSERT_TRUE(with_arn.has_value());
  EXPECT_EQ(with_account->principal.arn, "arn:aws:iam::123456789012:role/Billing-BedrockRole");
  EXPECT_EQ(with_arn->principal.arn, "arn:aws:iam::111122223333:role/Custom");
}

TEST_F(KeyStoreTest, CreateRefusesBadApplicationOrAccount) {
  auto no_application = store_->Create(Owner(""));
  auto bad_account = store_->Create(Owner("App"), "12ab");

  ASSERT_FALSE(no_application.has_value());
  ASSERT_FALSE(bad_account.has_value());
  EXPECT_NE(no_application.error().message.find("create key"), std::string::npos);
  EXPECT_NE(bad_account.error().message.find("account id"), std::string::npos);
}

TEST_F(KeyStoreTest, ListShowsEveryKeyWithoutSecrets) {
  Principal admin = Owner("Ops", "platform");
  admin.is_admin = true;
  auto first = store_->Create(Owner("CustomerServiceApp", "support"));
  auto second = store_->Create(admin);
  ASSERT_TRUE(first && second);

  auto keys = store_->List();

  ASSERT_TRUE(keys.has_value());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].access_key_id, first->access_key_id);
  EXPECT_EQ((*keys)[0].principal, first->principal);
  EXPECT_FALSE((*keys)[0].revoked_at.has_value());
  EXPECT_FALSE((*keys)[0].created_at.empty());
  EXPECT_EQ((*keys)[1].access_key_id, second->access_key_id);
  EXPECT_TRUE((*keys)[1].principal.is_admin);
}

TEST_F(KeyStoreTest, FindsActiveKeysByAccessKeyIdAndBearer) {
  auto issued = store_->Create(Owner("CustomerServiceApp", "support"));
  ASSERT_TRUE(issued.has_value());

  auto by_id = store_->FindByAccessKey(issued->access_key_id);
  auto by_bearer = store_->FindByBearer(issued->api_key);
  auto unknown_id = store_->FindByAccessKey("AKIAAAAAAAAAAAAAAAAA");
  auto unknown_bearer = store_->FindByBearer("sk-sluice-nope");

  ASSERT_TRUE(by_id.has_value() && by_id->has_value());
  EXPECT_EQ((*by_id)->secret_access_key, issued->secret_access_key);
  EXPECT_EQ((*by_id)->principal, issued->principal);
  ASSERT_TRUE(by_bearer.has_value() && by_bearer->has_value());
  EXPECT_EQ(**by_bearer, issued->principal);
  EXPECT_FALSE(unknown_id->has_value());
  EXPECT_FALSE(unknown_bearer->has_value());
}

TEST_F(KeyStoreTest, StoresOnlyTheHashOfTheBearerKey) {
  auto issued = store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());
  const auto file = dir_.path() / KeyStore::kFileName;

  const auto values = RawKeyTableValues(file);
  const std::string bytes = FileBytes(file) + FileBytes(file.string() + "-wal");

  ASSERT_FALSE(values.empty());
  for (const auto& value : values) {
    EXPECT_EQ(value.find(issued->api_key), std::string::npos);
  }
  EXPECT_NE(std::find(values.begin(), values.end(), HashApiKey(issued->api_key)), values.end());
  EXPECT_EQ(bytes.find(issued->api_key), std::string::npos);
}

TEST_F(KeyStoreTest, DatabaseFileIsPrivateToItsOwner) {
  struct stat info {};

  ASSERT_EQ(stat((dir_.path() / KeyStore::kFileName).c_str(), &info), 0);

  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(KeyStoreTest, RevokedKeysNoLongerMatch) {
  auto issued = store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());

  auto revoked = store_->Revoke(issued->access_key_id);

  ASSERT_TRUE(revoked.has_value()) << revoked.error().message;
  EXPECT_FALSE(store_->FindByAccessKey(issued->access_key_id)->has_value());
  EXPECT_FALSE(store_->FindByBearer(issued->api_key)->has_value());
  auto keys = store_->List();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_TRUE((*keys)[0].revoked_at.has_value());
}

TEST_F(KeyStoreTest, RevokeRefusesUnknownAndAlreadyRevokedKeys) {
  auto issued = store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());
  ASSERT_TRUE(store_->Revoke(issued->access_key_id).has_value());

  auto again = store_->Revoke(issued->access_key_id);
  auto unknown = store_->Revoke("AKIAAAAAAAAAAAAAAAAA");

  ASSERT_FALSE(again.has_value());
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("revoke key AKIAAAAAAAAAAAAAAAAA"), std::string::npos);
}

TEST_F(KeyStoreTest, RotateReplacesCredentialsForTheSamePrincipal) {
  auto old_key = store_->Create(Owner("CustomerServiceApp", "support"));
  ASSERT_TRUE(old_key.has_value());

  auto new_key = store_->Rotate(old_key->access_key_id);

  ASSERT_TRUE(new_key.has_value()) << new_key.error().message;
  EXPECT_EQ(new_key->principal, old_key->principal);
  EXPECT_NE(new_key->access_key_id, old_key->access_key_id);
  EXPECT_NE(new_key->secret_access_key, old_key->secret_access_key);
  EXPECT_NE(new_key->api_key, old_key->api_key);
  EXPECT_FALSE(store_->FindByAccessKey(old_key->access_key_id)->has_value());
  EXPECT_FALSE(store_->FindByBearer(old_key->api_key)->has_value());
  EXPECT_TRUE(store_->FindByAccessKey(new_key->access_key_id)->has_value());
  EXPECT_TRUE(store_->FindByBearer(new_key->api_key)->has_value());
  auto keys = store_->List();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[1].rotated_from, old_key->access_key_id);
}

TEST_F(KeyStoreTest, RotateRefusesRevokedKeys) {
  auto issued = store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());
  ASSERT_TRUE(store_->Revoke(issued->access_key_id).has_value());

  auto rotated = store_->Rotate(issued->access_key_id);

  ASSERT_FALSE(rotated.has_value());
  EXPECT_NE(rotated.error().message.find("rotate key"), std::string::npos);
  EXPECT_EQ(store_->List()->size(), 1u);
}

TEST_F(KeyStoreTest, TwoStoresOnOneFileSeeEachOthersChanges) {
  auto other = KeyStore::Open(dir_.path());
  ASSERT_TRUE(other.has_value());
  auto before = store_->CurrentChangeMark();

  auto issued = (*other)->Create(Owner("CustomerServiceApp"));

  ASSERT_TRUE(issued.has_value());
  EXPECT_NE(*store_->CurrentChangeMark(), *before);
  EXPECT_TRUE(store_->FindByBearer(issued->api_key)->has_value());
  ASSERT_TRUE(store_->Revoke(issued->access_key_id).has_value());
  EXPECT_FALSE((*other)->FindByAccessKey(issued->access_key_id)->has_value());
}

TEST_F(KeyStoreTest, OwnWritesMoveTheChangeMark) {
  auto before = store_->CurrentChangeMark();

  ASSERT_TRUE(store_->Create(Owner("CustomerServiceApp")).has_value());

  EXPECT_NE(*store_->CurrentChangeMark(), *before);
}

TEST_F(KeyStoreTest, ReopeningKeepsSchemaAndKeys) {
  auto issued = store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());
  const int version = store_->SchemaVersion().value();
  store_.reset();

  auto reopened = KeyStore::Open(dir_.path());
  auto again = KeyStore::Open(dir_.path());

  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ((*reopened)->SchemaVersion().value(), version);
  EXPECT_GE(version, 1);
  EXPECT_EQ((*reopened)->List()->size(), 1u);
  EXPECT_TRUE((*again)->FindByBearer(issued->api_key)->has_value());
}

TEST_F(KeyStoreTest, RefusesAFileFromANewerSchema) {
  const auto file = dir_.path() / KeyStore::kFileName;
  store_.reset();
  sqlite3* db = nullptr;
  sqlite3_open(file.c_str(), &db);
  sqlite3_exec(db, "UPDATE schema_version SET version = 999", nullptr, nullptr, nullptr);
  sqlite3_close(db);

  auto reopened = KeyStore::Open(dir_.path());

  ASSERT_FALSE(reopened.has_value());
  EXPECT_NE(reopened.error().message.find("newer"), std::string::npos);
}

TEST_F(KeyStoreTest, OpenFailsWithAMessageForAMissingDirectory) {
  auto opened = KeyStore::Open(dir_.path() / "missing" / "deeper");

  ASSERT_FALSE(opened.has_value());
  EXPECT_NE(opened.error().message.find("open"), std::string::npos);
}

TEST_F(KeyStoreTest, IdsAreUniqueOverManyCreations) {
  constexpr int kKeys = 300;
  std::set<std::string> ids;
  std::set<std::string> api_keys;

  for (int i = 0; i < kKeys; ++i) {
    auto issued = store_->Create(Owner("App"));
    ASSERT_TRUE(issued.has_value());
    ids.insert(issued->access_key_id);
    api_keys.insert(issued->api_key);
  }

  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(api_keys.size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(store_->List()->size(), static_cast<std::size_t>(kKeys));
}

}  // namespace
}  // namespace sluice::identity
