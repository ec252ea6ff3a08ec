#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

#include "core/converse.hpp"
#include "core/error.hpp"

namespace sluice::catalog {

/// A system-defined inference profile: one model reachable from `source_regions` under the ID
/// `<scope>.<model id>`, served by Bedrock in any of `destination_regions`.
struct Profile {
  std::string id;     // e.g. `us.anthropic.claude-sonnet-4-5-20250929-v1:0`
  std::string name;   // inferenceProfileName, e.g. "US Anthropic Claude Sonnet 4.5"
  std::string scope;  // geography prefix: us, eu, apac, jp, au or global
  std::vector<std::string> source_regions;
  std::vector<std::string> destination_regions;
};

/// A foundation model and the ways Bedrock lets a caller reach it.
struct Model {
  std::string id;        // foundation model ID, e.g. `amazon.nova-pro-v1:0`
  std::string name;      // modelName, e.g. "Nova Pro"
  std::string provider;  // providerName, e.g. "Anthropic"
  core::NativeFormat format = core::NativeFormat::kNone;  // InvokeModel body format
  std::int64_t context_window = 0;                        // tokens, prompt and output together
  std::int64_t max_output_tokens = 0;  // also reserved against TPM when a request sets no maximum
  double output_burndown = 1.0;        // quota tokens charged per output token at settlement
  std::int64_t cache_min_tokens = 0;   // smallest prefix a cache checkpoint takes; 0: no caching
  bool cache_ttl_1h = false;           // whether a checkpoint may ask for a one-hour TTL
  std::vector<std::string> in_region;  // regions where the plain ID works on demand
  std::vector<Profile> profiles;
};

/// A region and the geography whose profiles serve it.
struct Region {
  std::string name;       // e.g. `eu-west-1`
  std::string geography;  // us, eu, apac, jp, au, or one with no geography profiles (sa)
};

/// What a requested model identifier names, resolved for a caller in `source_region`. The
/// pointers borrow from the catalog that produced it and are valid while that catalog lives
/// unmodified.
struct Resolution {
  const Model* model = nullptr;
  const Profile* profile = nullptr;              // null when the model is invoked in-region
  std::vector<std::string> destination_regions;  // where the request may run
  std::string invoked_id;                        // the profile ID, or the model ID in-region
};

/// The models, inference profiles and regions sluice knows, with the lookups the request path
/// needs. Built once (from the embedded file, optionally merged with an operator's file) and then
/// only read, so one instance may be shared by every thread without locks. Lookups are hash-map
/// hits keyed by ID; nothing here throws after construction.
class Catalog final {
 public:
  Catalog() = default;
  Catalog(const Catalog&) = default;
  Catalog& operator=(const Catalog&) = default;
  Catalog(Catalog&&) noexcept = default;
  Catalog& operator=(Catalog&&) noexcept = default;

  /// Parses a catalog document (layout described in data/catalog/bedrock.yaml). Unknown keys,
  /// wrong types, duplicate IDs and malformed entries are errors of the form
  /// `<source_name>:<line>:<column>: <key path>: <what is wrong>`. When the document has a
  /// `regions` table, every region a model or profile names must be in it and a geography
  /// profile's destinations must stay inside its geography; a document without one (an override
  /// file merged over the built-in catalog) is not cross-checked.
  [[nodiscard]] static boost::system::result<Catalog, std::string> FromYaml(
      std::string_view yaml, std::string_view source_name);

  /// The catalog shipped inside the binary, parsed on first use. Aborts if the embedded document
  /// does not parse, which the unit tests rule out.
  static const Catalog& BuiltIn();

  /// Returns a copy with `overrides` applied: a model or region whose ID is already present is
  /// replaced whole, a new one is added at the end. Geography parents merge the same way.
  [[nodiscard]] Catalog MergedWith(const Catalog& overrides) const;

  /// The model with this foundation model ID, or null.
  const Model* FindModel(std::string_view model_id) const;

  /// The profile with this profile ID, or null.
  const Profile* FindProfile(std::string_view profile_id) const;

  /// The region with this name, or null.
  const Region* FindRegion(std::string_view name) const;

  /// Whether `region` lies inside `scope`: always for `global`, otherwise when the region's
  /// geography is `scope` or sits inside it (jp and au are inside apac). Unknown regions are
  /// inside `global` only.
  bool InScope(std::string_view region, std::string_view scope) const;

  /// Resolves what a caller in `source_region` asked for: a foundation model ID, a profile ID,
  /// a foundation-model ARN (`arn:aws:bedrock:<region>::foundation-model/<id>`) or an
  /// inference-profile ARN (`arn:aws:bedrock:<region>:<account>:inference-profile/<id>`). An
  /// ARN's region must be `source_region`. Fails with `kValidation` and Bedrock's own message:
  /// an unknown identifier, or a profile not callable from `source_region`, is "The provided
  /// model identifier is invalid."; a model ID used where the model has no in-region on-demand
  /// support but a profile callable from here would serve it gets Bedrock's on-demand message.
  [[nodiscard]] core::Result<Resolution> Resolve(std::string_view model_identifier,
                                                 std::string_view source_region) const;

  const std::vector<Model>& models() const { return models_; }

  const std::vector<Region>& regions() const { return regions_; }

  /// Geography -> the wider geography that contains it (jp -> apac).
  const std::vector<std::pair<std::string, std::string>>& geography_parents() const {
    return geography_parents_;
  }

 private:
  // Hashes std::string and std::string_view alike, so lookups by view need no allocation.
  struct StringHash {
    using is_transparent = void;

    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };

  template <typename Value>
  using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

  // Where a profile sits: models_[model].profiles[profile].
  struct ProfileSlot {
    std::size_t model = 0;
    std::size_t profile = 0;
  };

  void BuildIndexes();
  const std::string* ParentOf(std::string_view geography) const;
  core::Result<Resolution> ResolveModelId(std::string_view model_id,
                                          std::string_view source_region) const;
  core::Result<Resolution> ResolveProfileId(std::string_view profile_id,
                                            std::string_view source_region) const;

  std::vector<Model> models_;
  std::vector<Region> regions_;
  std::vector<std::pair<std::string, std::string>> geography_parents_;

  // Indexes hold positions, not pointers, so copies and moves of a catalog stay consistent.
  StringMap<std::size_t> model_index_;
  StringMap<ProfileSlot> profile_index_;
  StringMap<std::size_t> region_index_;
};

}  // namespace sluice::catalog
