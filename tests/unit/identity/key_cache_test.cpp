#include "identity/key_cache.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "unit/identity/temp_dir.hpp"

namespace sluice::identity {
namespace {

using namespace std::chrono_literals;

Principal Owner(std::string application) {
  Principal principal;
  principal.tags.application = std::move(application);
  return principal;
}

// The cache reads from `server_store_` (as `sluice serve` would); `cli_store_` is another
// connection to the same file (as `sluice keys` in another process would be).
class KeyCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = KeyStore::Open(dir_.path());
    auto cli = KeyStore::Open(dir_.path());
    ASSERT_TRUE(server.has_value() && cli.has_value());
    server_store_ = std::move(*server);
    cli_store_ = std::move(*cli);
    KeyCacheOptions options;
    options.max_age = 500ms;
    options.now = [this] {
      return now_;
    };
    cache_ = std::make_unique<KeyCache>(*server_store_, options);
  }

  test_support::TempDir dir_;
  std::unique_ptr<KeyStore> server_store_;
  std::unique_ptr<KeyStore> cli_store_;
  std::chrono::steady_clock::time_point now_{};
  std::unique_ptr<KeyCache> cache_;
};

TEST_F(KeyCacheTest, FindsKeysCreatedElsewhereAtOnce) {
  ASSERT_TRUE(cache_->Refresh().has_value());
  auto issued = cli_store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());

  auto by_id = cache_->FindByAccessKey(issued->access_key_id);
  auto by_bearer = cache_->FindByBearer(issued->api_key);

  ASSERT_TRUE(by_id.has_value() && by_id->has_value());
  EXPECT_EQ((*by_id)->secret_access_key, issued->secret_access_key);
  ASSERT_TRUE(by_bearer.has_value() && by_bearer->has_value());
  EXPECT_EQ(**by_bearer, issued->principal);
}

TEST_F(KeyCacheTest, SeesARevocationOnceItsIntervalHasPassed) {
  auto issued = cli_store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());
  ASSERT_TRUE(cache_->FindByBearer(issued->api_key)->has_value());

  ASSERT_TRUE(cli_store_->Revoke(issued->access_key_id).has_value());
  now_ += 100ms;
  const bool served_within_interval = cache_->FindByBearer(issued->api_key)->has_value();
  now_ += 500ms;
  const bool served_after_interval = cache_->FindByBearer(issued->api_key)->has_value();

  // Within the interval the snapshot answers without touching the database.
  EXPECT_TRUE(served_within_interval);
  EXPECT_FALSE(served_after_interval);
  EXPECT_FALSE(cache_->FindByAccessKey(issued->access_key_id)->has_value());
}

TEST_F(KeyCacheTest, SeesARevocationThroughItsOwnStore) {
  auto issued = server_store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());
  ASSERT_TRUE(cache_->FindByAccessKey(issued->access_key_id)->has_value());

  ASSERT_TRUE(server_store_->Revoke(issued->access_key_id).has_value());
  now_ += 600ms;

  EXPECT_FALSE(cache_->FindByAccessKey(issued->access_key_id)->has_value());
}

TEST_F(KeyCacheTest, DoesNotReloadWhenNothingChanged) {
  auto issued = cli_store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());
  ASSERT_TRUE(cache_->FindByAccessKey(issued->access_key_id)->has_value());
  const auto loads = cache_->reload_count();

  for (int i = 0; i < 10; ++i) {
    now_ += 600ms;
    ASSERT_TRUE(cache_->FindByAccessKey(issued->access_key_id)->has_value());
    ASSERT_FALSE(cache_->FindByBearer("sk-sluice-unknown")->has_value());
  }

  EXPECT_EQ(cache_->reload_count(), loads);
}

TEST_F(KeyCacheTest, RotationSwapsTheKeysTheCacheAccepts) {
  auto old_key = cli_store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(old_key.has_value());
  ASSERT_TRUE(cache_->FindByBearer(old_key->api_key)->has_value());

  auto new_key = cli_store_->Rotate(old_key->access_key_id);
  ASSERT_TRUE(new_key.has_value());
  now_ += 500ms;

  EXPECT_TRUE(cache_->FindByBearer(new_key->api_key)->has_value());
  EXPECT_FALSE(cache_->FindByBearer(old_key->api_key)->has_value());
}

TEST_F(KeyCacheTest, RealClockSeesARevocationWithinASecond) {
  KeyCache cache(*server_store_, KeyCacheOptions{});
  auto issued = cli_store_->Create(Owner("CustomerServiceApp"));
  ASSERT_TRUE(issued.has_value());
  ASSERT_TRUE(cache.FindByAccessKey(issued->access_key_id)->has_value());

  ASSERT_TRUE(cli_store_->Revoke(issued->access_key_id).has_value());
  const auto revoked_at = std::chrono::steady_clock::now();
  while (cache.FindByAccessKey(issued->access_key_id)->has_value() &&
         std::chrono::steady_clock::now() - revoked_at < 2s) {
    std::this_thread::sleep_for(10ms);
  }

  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, 1s);
}

TEST_F(KeyCacheTest, ServesLookupsFromManyThreadsWhileKeysChange) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  auto stable = cli_store_->Create(Owner("Stable"));
  ASSERT_TRUE(stable.has_value());
  std::atomic<int> failures{0};

  std::vector<std::thread> readers;
  for (int t = 0; t < kThreads; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto found = cache_->FindByBearer(stable->api_key);
        if (!found.has_value() || !found->has_value()) {
          ++failures;
        }
      }
    });
  }
  for (int i = 0; i < kRounds; ++i) {
    auto churn = server_store_->Create(Owner("Churn"));
    ASSERT_TRUE(churn.has_value());
    ASSERT_TRUE(server_store_->Revoke(churn->access_key_id).has_value());
  }
  for (auto& reader : readers) {
    reader.join();
  }

  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace sluice::identity
