#include "catalog/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::catalog {
namespace {

constexpr std::string_view kSonnet45 = "anthropic.claude-sonnet-4-5-20250929-v1:0";
constexpr std::string_view kHaiku45 = "anthropic.claude-haiku-4-5-20251001-v1:0";
constexpr std::string_view kSonnet4 = "anthropic.claude-sonnet-4-20250514-v1:0";
constexpr std::string_view kNovaPro = "amazon.nova-pro-v1:0";
constexpr std::string_view kNovaLite = "amazon.nova-lite-v1:0";

constexpr std::string_view kInvalid = "The provided model identifier is invalid.";

std::string Prefixed(std::string_view scope, std::string_view model_id) {
  return std::string(scope) + "." + std::string(model_id);
}

bool Has(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

class CatalogTest : public ::testing::Test {
 protected:
  const Catalog& catalog_ = Catalog::BuiltIn();
};

TEST_F(CatalogTest, BuiltInHoldsTheRequiredRegions) {
  const std::vector<std::string> required = {
      "us-east-1",    "us-east-2",      "us-west-1",      "us-west-2",      "ca-central-1",
      "eu-central-1", "eu-west-1",      "eu-west-2",      "eu-west-3",      "eu-north-1",
      "eu-south-1",   "eu-south-2",     "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
      "ap-south-1",   "ap-southeast-1", "ap-southeast-2", "ap-southeast-4"};

  for (const auto& name : required) {
    EXPECT_NE(catalog_.FindRegion(name), nullptr) << name;
  }
  EXPECT_EQ(catalog_.FindRegion("us-east-1")->geography, "us");
  EXPECT_EQ(catalog_.FindRegion("ap-northeast-1")->geography, "jp");
  EXPECT_EQ(catalog_.FindRegion("ap-southeast-2")->geography, "au");
  EXPECT_EQ(catalog_.FindRegion("ap-northeast-2")->geography, "apac");
  EXPECT_EQ(catalog_.FindRegion("mars-north-1"), nullptr);
}

TEST_F(CatalogTest, OffersExactlyTheProfilePrefixesBedrockOffers) {
  const std::map<std::string_view, std::set<std::string>> expected = {
      {kSonnet45, {"us", "eu", "jp", "au", "global"}},
      {kHaiku45, {"us", "eu", "jp", "au", "global"}},
      {kSonnet4, {"us", "eu", "apac", "global"}},
      {kNovaPro, {"us", "eu", "apac"}},
      {kNovaLite, {"us", "eu", "apac"}},
  };

  for (const auto& [model_id, scopes] : expected) {
    const Model* model = catalog_.FindModel(model_id);
    ASSERT_NE(model, nullptr) << model_id;
    std::set<std::string> actual;
    for (const auto& profile : model->profiles) {
      actual.insert(profile.scope);
      EXPECT_EQ(profile.id, Prefixed(profile.scope, model_id));
    }
    EXPECT_EQ(actual, scopes) << model_id;
  }
}

TEST_F(CatalogTest, CarriesBurndownFormatAndCacheFacts) {
  for (const auto id : {kSonnet45, kHaiku45, kSonnet4}) {
    const Model* model = catalog_.FindModel(id);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(model->output_burndown, 5.0) << id;
    EXPECT_EQ(model->format, core::NativeFormat::kAnthropicMessages) << id;
    EXPECT_EQ(model->provider, "Anthropic");
  }
  for (const auto id : {kNovaPro, kNovaLite}) {
    const Model* model = catalog_.FindModel(id);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(model->output_burndown, 1.0) << id;
    EXPECT_EQ(model->format, core::NativeFormat::kNova) << id;
  }
  EXPECT_EQ(catalog_.FindModel(kSonnet45)->cache_min_tokens, 4096);
  EXPECT_EQ(catalog_.FindModel(kHaiku45)->cache_min_tokens, 4096);
  EXPECT_EQ(catalog_.FindModel(kSonnet4)->cache_min_tokens, 1024);
  EXPECT_EQ(catalog_.FindModel(kNovaPro)->cache_min_tokens, 1024);
  EXPECT_EQ(catalog_.FindModel(kNovaLite)->cache_min_tokens, 1536);
  EXPECT_TRUE(catalog_.FindModel(kHaiku45)->cache_ttl_1h);
  EXPECT_FALSE(catalog_.FindModel(kSonnet4)->cache_ttl_1h);
}

TEST_F(CatalogTest, InRegionSupportFollowsTheFacts) {
  const std::vector<std::string> haiku = {"us-east-1", "eu-north-1", "eu-west-1", "ap-northeast-1",
                                          "ap-southeast-4"};

  EXPECT_EQ(catalog_.FindModel(kHaiku45)->in_region, haiku);
  EXPECT_TRUE(catalog_.FindModel(kSonnet45)->in_region.empty());
  EXPECT_TRUE(catalog_.FindModel(kSonnet4)->in_region.empty());
  EXPECT_TRUE(Has(catalog_.FindModel(kNovaPro)->in_region, "us-east-1"));
  EXPECT_TRUE(Has(catalog_.FindModel(kNovaLite)->in_region, "us-east-1"));
}

TEST_F(CatalogTest, EveryModelAndProfileResolvesFromEachSourceRegion) {
  for (const auto& model : catalog_.models()) {
    for (const auto& region : model.in_region) {
      const auto resolved = catalog_.Resolve(model.id, region);

      ASSERT_TRUE(resolved.has_value()) << model.id << " in " << region;
      EXPECT_EQ(resolved->model, &model);
      EXPECT_EQ(resolved->profile, nullptr);
      EXPECT_EQ(resolved->destination_regions, std::vector<std::string>{region});
      EXPECT_EQ(resolved->invoked_id, model.id);
    }
    for (const auto& profile : model.profiles) {
      for (const auto& region : profile.source_regions) {
        const auto resolved = catalog_.Resolve(profile.id, region);

        ASSERT_TRUE(resolved.has_value()) << profile.id << " from " << region;
        EXPECT_EQ(resolved->model, &model);
        EXPECT_EQ(resolved->profile, &profile);
        EXPECT_EQ(resolved->destination_regions, profile.destination_regions);
        EXPECT_EQ(resolved->invoked_id, profile.id);
      }
    }
  }
}

TEST_F(CatalogTest, EveryNamedRegionIsInTheRegionsTable) {
  for (const auto& model : catalog_.models()) {
    for (const auto& region : model.in_region) {
      EXPECT_NE(catalog_.FindRegion(region), nullptr) << model.id << " " << region;
    }
    for (const auto& profile : model.profiles) {
      for (const auto& region : profile.source_regions) {
        EXPECT_NE(catalog_.FindRegion(region), nullptr) << profile.id << " " << region;
      }
      for (const auto& region : profile.destination_regions) {
        EXPECT_NE(catalog_.FindRegion(region), nullptr) << profile.id << " " << region;
      }
    }
  }
}

TEST_F(CatalogTest, GeographyProfilesNeverLeaveTheirGeography) {
  // jp and au lie inside apac; every other geography stands alone.
  const std::map<std::string, std::set<std::string>> allowed = {{"us", {"us"}},
                                                                {"eu", {"eu"}},
                                                                {"jp", {"jp"}},
                                                                {"au", {"au"}},
                                                                {"apac", {"apac", "jp", "au"}}};

  for (const auto& model : catalog_.models()) {
    for (const auto& profile : model.profiles) {
      if (profile.scope == "global") {
        continue;
      }
      ASSERT_TRUE(allowed.contains(profile.scope)) << profile.id;
      for (const auto& region : profile.destination_regions) {
        const Region* known = catalog_.FindRegion(region);
        ASSERT_NE(known, nullptr) << region;
        EXPECT_TRUE(allowed.at(profile.scope).contains(known->geography))
            << profile.id << " routes to " << region << " in " << known->geography;
        EXPECT_TRUE(catalog_.InScope(region, profile.scope));
      }
    }
  }
}

TEST_F(CatalogTest, GlobalProfilesReachBeyondOneGeography) {
  const Profile* global = catalog_.FindProfile(Prefixed("global", kSonnet45));
  ASSERT_NE(global, nullptr);

  std::set<std::string> geographies;
  for (const auto& region : global->destination_regions) {
    geographies.insert(catalog_.FindRegion(region)->geography);
  }
  EXPECT_GE(geographies.size(), 5u);
  EXPECT_GE(global->destination_regions.size(), 19u);
}

TEST_F(CatalogTest, SeoulReachesSonnet4ThroughApac) {
  const auto resolved = catalog_.Resolve(Prefixed("apac", kSonnet4), "ap-northeast-2");

  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->profile->scope, "apac");
  EXPECT_TRUE(Has(resolved->destination_regions, "ap-northeast-2"));
}

TEST_F(CatalogTest, SeoulReachesSonnet45OnlyThroughGlobal) {
  for (const auto scope : {"us", "eu", "jp", "au"}) {
    const auto refused = catalog_.Resolve(Prefixed(scope, kSonnet45), "ap-northeast-2");

    ASSERT_FALSE(refused.has_value()) << scope;
    EXPECT_EQ(refused.error().message, kInvalid);
  }
  const auto global = catalog_.Resolve(Prefixed("global", kSonnet45), "ap-northeast-2");

  ASSERT_TRUE(global.has_value());
  EXPECT_EQ(global->profile->scope, "global");
}

TEST_F(CatalogTest, SeoulCannotUseGlobalSonnet4) {
  // Decided by the source_regions of the `global.anthropic.claude-sonnet-4-20250514-v1:0` entry
  // in data/catalog/bedrock.yaml, which leaves ap-northeast-2 out.
  const Profile* global = catalog_.FindProfile(Prefixed("global", kSonnet4));
  ASSERT_NE(global, nullptr);
  ASSERT_FALSE(Has(global->source_regions, "ap-northeast-2"));

  const auto refused = catalog_.Resolve(global->id, "ap-northeast-2");

  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kValidation);
  EXPECT_EQ(refused.error().message, kInvalid);
}

TEST_F(CatalogTest, UnknownIdentifierIsInvalid) {
  for (const auto id : {"anthropic.claude-opus-9", "", "us.", "us.amazon.nova-micro-v1:0",
                        "eu.anthropic.claude-sonnet-4-5"}) {
    const auto resolved = catalog_.Resolve(id, "us-east-1");

    ASSERT_FALSE(resolved.has_value()) << id;
    EXPECT_EQ(resolved.error().code, core::ErrorCode::kValidation);
    EXPECT_EQ(resolved.error().message, kInvalid);
  }
}

TEST_F(CatalogTest, ProfileOnlyModelByPlainIdAsksForAProfile) {
  const auto resolved = catalog_.Resolve(kSonnet45, "us-east-1");

  ASSERT_FALSE(resolved.has_value());
  EXPECT_EQ(resolved.error().code, core::ErrorCode::kValidation);
  EXPECT_EQ(resolved.error().message,
            "Invocation of model ID anthropic.claude-sonnet-4-5-20250929-v1:0 with on-demand "
            "throughput isn't supported. Retry your request with the ID or ARN of an inference "
            "profile that contains this model.");
}

TEST_F(CatalogTest, PlainIdOutsideInRegionListAsksForAProfile) {
  // Haiku 4.5 is in-region in us-east-1 but not in us-west-2, where only profiles serve it.
  EXPECT_TRUE(catalog_.Resolve(kHaiku45, "us-east-1").has_value());

  const auto resolved = catalog_.Resolve(kHaiku45, "us-west-2");

  ASSERT_FALSE(resolved.has_value());
  EXPECT_TRUE(
      resolved.error().message.starts_with("Invocation of model ID " + std::string(kHaiku45)));
}

TEST_F(CatalogTest, PlainIdWithNoRouteFromTheRegionIsInvalid) {
  // No Sonnet 4 profile lists São Paulo as a source.
  const auto resolved = catalog_.Resolve(kSonnet4, "sa-east-1");

  ASSERT_FALSE(resolved.has_value());
  EXPECT_EQ(resolved.error().message, kInvalid);
}

TEST_F(CatalogTest, ProfileFromOutsideItsSourceRegionsIsInvalid) {
  const auto resolved = catalog_.Resolve(Prefixed("us", kSonnet45), "eu-west-1");

  ASSERT_FALSE(resolved.has_value());
  EXPECT_EQ(resolved.error().code, core::ErrorCode::kValidation);
  EXPECT_EQ(resolved.error().message, kInvalid);
}

TEST_F(CatalogTest, ResolvesFoundationModelArn) {
  const auto resolved = catalog_.Resolve(
      "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", "us-east-1");

  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->model->id, kNovaPro);
  EXPECT_EQ(resolved->profile, nullptr);
  EXPECT_EQ(resolved->invoked_id, kNovaPro);
}

TEST_F(CatalogTest, FoundationModelArnOfProfileOnlyModelAsksForAProfile) {
  const auto resolved = catalog_.Resolve(
      "arn:aws:bedrock:us-east-1::foundation-model/" + std::string(kSonnet4), "us-east-1");

  ASSERT_FALSE(resolved.has_value());
  EXPECT_TRUE(resolved.error().message.starts_with("Invocation of model ID " +
                                                   std::string(kSonnet4) + " with on-demand"));
}

TEST_F(CatalogTest, ResolvesInferenceProfileArn) {
  const auto resolved = catalog_.Resolve(
      "arn:aws:bedrock:eu-west-3:123456789012:inference-profile/eu." + std::string(kHaiku45),
      "eu-west-3");

  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->model->id, kHaiku45);
  ASSERT_NE(resolved->profile, nullptr);
  EXPECT_EQ(resolved->profile->scope, "eu");
  EXPECT_EQ(resolved->invoked_id, "eu." + std::string(kHaiku45));
}

TEST_F(CatalogTest, RejectsMalformedOrForeignArns) {
  const std::string profile = "us." + std::string(kHaiku45);
  const std::vector<std::string> arns = {
      // Region of the ARN is not the caller's.
      "arn:aws:bedrock:us-west-2:123456789012:inference-profile/" + profile,
      "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0",
      // Account missing, short, or present where it must not be.
      "arn:aws:bedrock:us-east-1::inference-profile/" + profile,
      "arn:aws:bedrock:us-east-1:12345:inference-profile/" + profile,
      "arn:aws:bedrock:us-east-1:123456789012:foundation-model/amazon.nova-pro-v1:0",
      // Wrong partition, service or resource type; truncated.
      "arn:aws-cn:bedrock:us-east-1:123456789012:inference-profile/" + profile,
      "arn:aws:sagemaker:us-east-1:123456789012:inference-profile/" + profile,
      "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcdef123456",
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/",
      "arn:aws:bedrock",
  };

  for (const auto& arn : arns) {
    const auto resolved = catalog_.Resolve(arn, "us-east-1");

    ASSERT_FALSE(resolved.has_value()) << arn;
    EXPECT_EQ(resolved.error().message, kInvalid) << arn;
  }
}

TEST_F(CatalogTest, CopiesResolveIntoTheirOwnStorage) {
  const Catalog copy = catalog_;

  const auto resolved = copy.Resolve(Prefixed("us", kNovaLite), "us-east-2");

  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->model, copy.FindModel(kNovaLite));
  EXPECT_NE(resolved->model, catalog_.FindModel(kNovaLite));
}

TEST(CatalogYamlTest, ParsesAMinimalDocument) {
  const auto parsed = Catalog::FromYaml(R"(
regions:
  r-1: x
models:
  - id: vendor.model-v1:0
    name: Model
    provider: Vendor
    format: nova
    context_window: 1000
    max_output_tokens: 100
    output_burndown: 1
    in_region: [r-1]
)",
                                        "mini.yaml");

  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->models().size(), 1u);
  EXPECT_TRUE(parsed->Resolve("vendor.model-v1:0", "r-1").has_value());
}

struct BadDocument {
  const char* what;
  const char* yaml;
  const char* error;
};

class CatalogYamlErrorTest : public ::testing::TestWithParam<BadDocument> {};

TEST_P(CatalogYamlErrorTest, NamesSourceLineColumnAndKey) {
  const auto parsed = Catalog::FromYaml(GetParam().yaml, "extra.yaml");

  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error(), GetParam().error);
}

// Line numbers count the leading newline of each raw string as line 1.
INSTANTIATE_TEST_SUITE_P(
    Errors, CatalogYamlErrorTest,
    ::testing::Values(
        BadDocument{"unknown top-level key", "\nregion:\n  us-east-1: us\n",
                    "extra.yaml:2:1: unknown key \"region\""},
        BadDocument{"unknown model key", R"(
models:
  - id: m:0
    nmae: M
)",
                    "extra.yaml:4:5: models[0]: unknown key \"nmae\""},
        BadDocument{"missing key", R"(
models:
  - id: m:0
    name: M
)",
                    "extra.yaml:3:5: models[0]: missing key \"provider\""},
        BadDocument{"wrong type", R"(
models:
  - id: m:0
    name: M
    provider: P
    format: nova
    context_window: lots
)",
                    "extra.yaml:7:21: models[0].context_window: expected an integer of at least "
                    "1, got \"lots\""},
        BadDocument{"bad format", R"(
models:
  - id: m:0
    name: M
    provider: P
    format: openai
    context_window: 10
    max_output_tokens: 5
    output_burndown: 1
)",
                    "extra.yaml:6:13: models[0].format: expected anthropic or nova, got "
                    "\"openai\""},
        BadDocument{"unknown region", R"(
regions:
  us-east-1: us
models:
  - id: m:0
    name: M
    provider: P
    format: nova
    context_window: 10
    max_output_tokens: 5
    output_burndown: 1
    in_region: [us-east-1, moon-1]
)",
                    "extra.yaml:12:28: models[0].in_region[1]: region \"moon-1\" is not in the "
                    "regions table"},
        BadDocument{"profile outside its geography", R"(
regions:
  us-east-1: us
  eu-west-1: eu
models:
  - id: m:0
    name: M
    provider: P
    format: nova
    context_window: 10
    max_output_tokens: 5
    output_burndown: 1
    profiles:
      - id: us.m:0
        name: US M
        scope: us
        source_regions: [us-east-1]
        destination_regions: [us-east-1, eu-west-1]
)",
                    "extra.yaml:18:42: models[0].profiles[0].destination_regions[1]: region "
                    "\"eu-west-1\" is outside geography \"us\""},
        BadDocument{"profile ID not derived from scope", R"(
models:
  - id: m:0
    name: M
    provider: P
    format: nova
    context_window: 10
    max_output_tokens: 5
    output_burndown: 1
    profiles:
      - id: eu.m:0
        name: US M
        scope: us
        source_regions: [us-east-1]
        destination_regions: [us-east-1]
)",
                    "extra.yaml:11:13: models[0].profiles[0].id: expected \"us.m:0\" (scope, a "
                    "dot, the model ID)"},
        BadDocument{"syntax error", "\nmodels: [\n",
                    "extra.yaml:3:1: end of sequence flow not found"}),
    [](const auto& info) {
      std::string name = info.param.what;
      std::replace_if(
          name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
      return name;
    });

TEST(CatalogMergeTest, OverridesReplaceModelsAndRegionsAndAddNewOnes) {
  const Catalog& base = Catalog::BuiltIn();
  const auto overrides = Catalog::FromYaml(R"(
regions:
  us-east-1: us
  mx-central-1: us
models:
  - id: amazon.nova-pro-v1:0
    name: Nova Pro (tuned)
    provider: Amazon
    format: nova
    context_window: 300000
    max_output_tokens: 5000
    output_burndown: 1
    in_region: [us-east-1]
    profiles:
      - id: us.amazon.nova-pro-v1:0
        name: US Nova Pro
        scope: us
        source_regions: [us-east-1, mx-central-1]
        destination_regions: [us-east-1, mx-central-1]
  - id: example.private-model-v1:0
    name: Private
    provider: Example
    format: anthropic
    context_window: 8000
    max_output_tokens: 1000
    output_burndown: 2
    in_region: [mx-central-1]
)",
                                           "override.yaml");
  ASSERT_TRUE(overrides.has_value()) << overrides.error();

  const Catalog merged = base.MergedWith(*overrides);

  EXPECT_EQ(merged.models().size(), base.models().size() + 1);
  EXPECT_EQ(merged.regions().size(), base.regions().size() + 1);
  EXPECT_EQ(merged.FindModel(kNovaPro)->max_output_tokens, 5000);
  EXPECT_EQ(merged.FindModel(kNovaPro)->name, "Nova Pro (tuned)");
  EXPECT_EQ(base.FindModel(kNovaPro)->max_output_tokens, 10000);
  EXPECT_EQ(merged.FindProfile("eu.amazon.nova-pro-v1:0"), nullptr);
  EXPECT_NE(base.FindProfile("eu.amazon.nova-pro-v1:0"), nullptr);
  EXPECT_TRUE(merged.Resolve("us.amazon.nova-pro-v1:0", "mx-central-1").has_value());
  EXPECT_TRUE(merged.Resolve("example.private-model-v1:0", "mx-central-1").has_value());
  EXPECT_TRUE(merged.Resolve(kHaiku45, "us-east-1").has_value());
  EXPECT_EQ(merged.FindRegion("mx-central-1")->geography, "us");
}

}  // namespace
}  // namespace sluice::catalog
