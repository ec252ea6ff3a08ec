#include "catalog/catalog.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <optional>
#include <set>

#include <yaml-cpp/yaml.h>

namespace sluice::embedded {
extern const std::string_view catalog_bedrock_yaml;
}  // namespace sluice::embedded

namespace sluice::catalog {

namespace {

// Bedrock's ValidationException messages, word for word as clients have logged them.
constexpr std::string_view kInvalidIdentifier = "The provided model identifier is invalid.";
constexpr std::string_view kOnDemandPrefix = "Invocation of model ID ";
constexpr std::string_view kOnDemandSuffix =
    " with on-demand throughput isn't supported. Retry your request with the ID or ARN of an "
    "inference profile that contains this model.";

constexpr std::string_view kGlobalScope = "global";

// Bounds the walk up geography_parents, so a cycle in an operator's file cannot hang a lookup.
constexpr int kMaxGeographyDepth = 8;

core::Error InvalidIdentifier() {
  return core::Error{core::ErrorCode::kValidation, std::string(kInvalidIdentifier)};
}

core::Error OnDemandUnsupported(std::string_view model_id) {
  std::string message;
  message.reserve(kOnDemandPrefix.size() + model_id.size() + kOnDemandSuffix.size());
  message.append(kOnDemandPrefix).append(model_id).append(kOnDemandSuffix);
  return core::Error{core::ErrorCode::kValidation, std::move(message)};
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The parts of a Bedrock ARN that name a model or a system-defined profile.
struct ModelArn {
  bool is_profile = false;
  std::string_view region;
  std::string_view id;
};

bool IsAccountId(std::string_view text) {
  return text.size() == 12 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// arn:aws:bedrock:<region>:<account>:<resource>. The resource keeps its own colons (model IDs end
// in `:0`), so only the first five separate fields.
//
// Limitation: any 12-digit account is accepted in a profile ARN, where Bedrock insists on the
// caller's own account, and application inference profiles (`application-inference-profile/`)
// are refused as unknown. The catalog does not know who is calling; once identity maps a
// principal to an account, the router can compare the two, and application profiles can join
// the catalog as data.
std::optional<ModelArn> ParseModelArn(std::string_view arn) {
  std::string_view fields[5];
  for (auto& field : fields) {
    const auto colon = arn.find(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    field = arn.substr(0, colon);
    arn.remove_prefix(colon + 1);
  }
  if (fields[0] != "arn" || fields[1] != "aws" || fields[2] != "bedrock") {
    return std::nullopt;
  }

  constexpr std::string_view kModelResource = "foundation-model/";
  constexpr std::string_view kProfileResource = "inference-profile/";
  ModelArn parsed{.is_profile = false, .region = fields[3], .id = {}};
  if (arn.starts_with(kModelResource) && fields[4].empty()) {
    parsed.id = arn.substr(kModelResource.size());
  } else if (arn.starts_with(kProfileResource) && IsAccountId(fields[4])) {
    parsed.is_profile = true;
    parsed.id = arn.substr(kProfileResource.size());
  } else {
    return std::nullopt;
  }
  if (parsed.id.empty()) {
    return std::nullopt;
  }
  return parsed;
}

// ---- Reading the YAML document ----

struct Parsed {
  std::vector<Model> models;
  std::vector<Region> regions;
  std::vector<std::pair<std::string, std::string>> geography_parents;
};

// Walks one document and keeps the first error, formatted with the position yaml-cpp recorded
// for the offending node. Every Read* returns false once an error is recorded, so callers only
// propagate.
class DocumentReader final {
 public:
  explicit DocumentReader(std::string_view source) : source_(source) {}

  bool Read(const YAML::Node& root, Parsed& out);

  const std::string& error() const { return error_; }

 private:
  bool Fail(const YAML::Node& at, std::string_view path, std::string_view message);
  bool CheckKeys(const YAML::Node& map, std::string_view path,
                 std::initializer_list<std::string_view> allowed);
  bool Require(const YAML::Node& map, std::string_view path, std::string_view key);
  bool ReadString(const YAML::Node& map, std::string_view path, std::string_view key,
                  std::string& out);
  bool ReadInteger(const YAML::Node& map, std::string_view path, std::string_view key,
                   std::int64_t minimum, std::int64_t& out);
  bool ReadNumber(const YAML::Node& map, std::string_view path, std::string_view key, double& out);
  bool ReadBool(const YAML::Node& map, std::string_view path, std::string_view key, bool& out);
  bool ReadRegionList(const YAML::Node& map, std::string_view path, std::string_view key,
                      std::vector<std::string>& out);
  bool ReadRegions(const YAML::Node& node, Parsed& out);
  bool ReadParents(const YAML::Node& node, Parsed& out);
  bool ReadModel(const YAML::Node& node, const std::string& path, Model& out);
  bool ReadProfile(const YAML::Node& node, const std::string& path, const Model& model,
                   Profile& out);
  bool CheckScope(const YAML::Node& node, const std::string& path, const Profile& profile);

  std::string_view source_;
  std::string error_;
  // Filled from the document's own `regions` table; empty means references go unchecked.
  std::vector<Region> known_regions_;
  std::vector<std::pair<std::string, std::string>> known_parents_;
  std::set<std::string, std::less<>> ids_;  // model and profile IDs seen so far
};

std::string Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) {
    return "nothing";
  }
  if (node.IsMap()) {
    return "a mapping";
  }
  if (node.IsSequence()) {
    return "a list";
  }
  return "\"" + node.Scalar() + "\"";
}

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) {
    return std::string(key);
  }
  std::string joined(path);
  joined.append(".").append(key);
  return joined;
}

bool DocumentReader::Fail(const YAML::Node& at, std::string_view path, std::string_view message) {
  error_.assign(source_);
  const YAML::Mark mark = at.Mark();
  if (!mark.is_null()) {
    error_.append(":")
        .append(std::to_string(mark.line + 1))
        .append(":")
        .append(std::to_string(mark.column + 1));
  }
  error_.append(": ");
  if (!path.empty()) {
    error_.append(path).append(": ");
  }
  error_.append(message);
  return false;
}

bool DocumentReader::CheckKeys(const YAML::Node& map, std::string_view path,
                               std::initializer_list<std::string_view> allowed) {
  if (!map.IsMap()) {
    return Fail(map, path, "expected a mapping, got " + Describe(map));
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Fail(entry.first, path, "unknown key \"" + key + "\"");
    }
    if (!seen.insert(key).second) {
      return Fail(entry.first, path, "duplicate key \"" + key + "\"");
    }
  }
  return true;
}

bool DocumentReader::Require(const YAML::Node& map, std::string_view path, std::string_view key) {
  if (map[std::string(key)]) {
    return true;
  }
  return Fail(map, path, "missing key \"" + std::string(key) + "\"");
}

bool DocumentReader::ReadString(const YAML::Node& map, std::string_view path, std::string_view key,
                                std::string& out) {
  if (!Require(map, path, key)) {
    return false;
  }
  const YAML::Node node = map[std::string(key)];
  if (!node.IsScalar() || node.Scalar().empty()) {
    return Fail(node, Join(path, key), "expected a non-empty string, got " + Describe(node));
  }
  out = node.Scalar();
  return true;
}

bool DocumentReader::ReadInteger(const YAML::Node& map, std::string_view path, std::string_view key,
                                 std::int64_t minimum, std::int64_t& out) {
  if (!Require(map, path, key)) {
    return false;
  }
  const YAML::Node node = map[std::string(key)];
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || out < minimum) {
    return Fail(
        node, Join(path, key),
        "expected an integer of at least " + std::to_string(minimum) + ", got " + Describe(node));
  }
  return true;
}

bool DocumentReader::ReadNumber(const YAML::Node& map, std::string_view path, std::string_view key,
                                double& out) {
  if (!Require(map, path, key)) {
    return false;
  }
  const YAML::Node node = map[std::string(key)];
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(out > 0)) {
    return Fail(node, Join(path, key), "expected a positive number, got " + Describe(node));
  }
  return true;
}

bool DocumentReader::ReadBool(const YAML::Node& map, std::string_view path, std::string_view key,
                              bool& out) {
  const YAML::Node node = map[std::string(key)];
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  if (text != "true" && text != "false") {
    return Fail(node, Join(path, key), "expected true or false, got " + Describe(node));
  }
  out = text == "true";
  return true;
}

bool DocumentReader::ReadRegionList(const YAML::Node& map, std::string_view path,
                                    std::string_view key, std::vector<std::string>& out) {
  const YAML::Node list = map[std::string(key)];
  const std::string list_path = Join(path, key);
  if (!list.IsSequence()) {
    return Fail(list.IsDefined() ? list : map, list_path,
                "expected a list of region names, got " + Describe(list));
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string item_path = list_path + "[" + std::to_string(i) + "]";
    if (!item.IsScalar() || item.Scalar().empty()) {
      return Fail(item, item_path, "expected a region name, got " + Describe(item));
    }
    const std::string& name = item.Scalar();
    const bool known = std::any_of(known_regions_.begin(), known_regions_.end(),
                                   [&](const Region& region) { return region.name == name; });
    if (!known_regions_.empty() && !known) {
      return Fail(item, item_path, "region \"" + name + "\" is not in the regions table");
    }
    if (Contains(out, name)) {
      return Fail(item, item_path, "region \"" + name + "\" is listed twice");
    }
    out.push_back(name);
  }
  return true;
}

bool DocumentReader::Read(const YAML::Node& root, Parsed& out) {
  if (!root.IsDefined() || root.IsNull()) {
    return true;
  }
  if (!CheckKeys(root, "", {"geography_parents", "regions", "models"})) {
    return false;
  }
  if (root["geography_parents"] && !ReadParents(root["geography_parents"], out)) {
    return false;
  }
  if (root["regions"] && !ReadRegions(root["regions"], out)) {
    return false;
  }

  const YAML::Node models = root["models"];
  if (!models) {
    return true;
  }
  if (!models.IsSequence()) {
    return Fail(models, "models", "expected a list of models, got " + Describe(models));
  }
  for (std::size_t i = 0; i < models.size(); ++i) {
    Model model;
    if (!ReadModel(models[i], "models[" + std::to_string(i) + "]", model)) {
      return false;
    }
    out.models.push_back(std::move(model));
  }
  return true;
}

bool DocumentReader::ReadParents(const YAML::Node& node, Parsed& out) {
  if (!node.IsMap()) {
    return Fail(node, "geography_parents", "expected a mapping, got " + Describe(node));
  }
  for (const auto& entry : node) {
    const std::string child = entry.first.Scalar();
    const std::string path = Join("geography_parents", child);
    if (!entry.second.IsScalar() || entry.second.Scalar().empty()) {
      return Fail(entry.second, path, "expected a geography, got " + Describe(entry.second));
    }
    if (entry.second.Scalar() == child) {
      return Fail(entry.second, path, "a geography cannot contain itself");
    }
    out.geography_parents.emplace_back(child, entry.second.Scalar());
  }
  known_parents_ = out.geography_parents;
  return true;
}

bool DocumentReader::ReadRegions(const YAML::Node& node, Parsed& out) {
  if (!node.IsMap()) {
    return Fail(node, "regions",
                "expected a mapping of region to geography, got " + Describe(node));
  }
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    const std::string path = Join("regions", name);
    if (!entry.second.IsScalar() || entry.second.Scalar().empty()) {
      return Fail(entry.second, path, "expected a geography, got " + Describe(entry.second));
    }
    const bool duplicate = std::any_of(out.regions.begin(), out.regions.end(),
                                       [&](const Region& region) { return region.name == name; });
    if (duplicate) {
      return Fail(entry.first, "regions", "duplicate key \"" + name + "\"");
    }
    out.regions.push_back(Region{name, entry.second.Scalar()});
  }
  known_regions_ = out.regions;
  return true;
}

bool DocumentReader::ReadModel(const YAML::Node& node, const std::string& path, Model& out) {
  const bool keys_ok =
      CheckKeys(node, path,
                {"id", "name", "provider", "format", "context_window", "max_output_tokens",
                 "output_burndown", "cache_min_tokens", "cache_ttl_1h", "in_region", "profiles"});
  std::string format;
  if (!keys_ok || !ReadString(node, path, "id", out.id) ||
      !ReadString(node, path, "name", out.name) ||
      !ReadString(node, path, "provider", out.provider) ||
      !ReadString(node, path, "format", format) ||
      !ReadInteger(node, path, "context_window", 1, out.context_window) ||
      !ReadInteger(node, path, "max_output_tokens", 1, out.max_output_tokens) ||
      !ReadNumber(node, path, "output_burndown", out.output_burndown)) {
    return false;
  }
  if (!ids_.insert(out.id).second) {
    return Fail(node["id"], Join(path, "id"), "duplicate ID \"" + out.id + "\"");
  }
  if (format == "anthropic") {
    out.format = core::NativeFormat::kAnthropicMessages;
  } else if (format == "nova") {
    out.format = core::NativeFormat::kNova;
  } else {
    return Fail(node["format"], Join(path, "format"),
                "expected anthropic or nova, got \"" + format + "\"");
  }

  if (node["cache_min_tokens"] &&
      !ReadInteger(node, path, "cache_min_tokens", 0, out.cache_min_tokens)) {
    return false;
  }
  if (node["cache_ttl_1h"] && !ReadBool(node, path, "cache_ttl_1h", out.cache_ttl_1h)) {
    return false;
  }
  if (node["in_region"] && !ReadRegionList(node, path, "in_region", out.in_region)) {
    return false;
  }

  const YAML::Node profiles = node["profiles"];
  if (!profiles) {
    return true;
  }
  if (!profiles.IsSequence()) {
    return Fail(profiles, Join(path, "profiles"), "expected a list, got " + Describe(profiles));
  }
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    Profile profile;
    if (!ReadProfile(profiles[i], path + ".profiles[" + std::to_string(i) + "]", out, profile)) {
      return false;
    }
    out.profiles.push_back(std::move(profile));
  }
  return true;
}

bool DocumentReader::ReadProfile(const YAML::Node& node, const std::string& path,
                                 const Model& model, Profile& out) {
  if (!CheckKeys(node, path, {"id", "name", "scope", "source_regions", "destination_regions"}) ||
      !ReadString(node, path, "id", out.id) || !ReadString(node, path, "name", out.name) ||
      !ReadString(node, path, "scope", out.scope) ||
      !ReadRegionList(node, path, "source_regions", out.source_regions) ||
      !ReadRegionList(node, path, "destination_regions", out.destination_regions)) {
    return false;
  }
  // System-defined profile IDs are always the geography prefix, a dot and the model ID.
  if (out.id != out.scope + "." + model.id) {
    return Fail(node["id"], Join(path, "id"),
                "expected \"" + out.scope + "." + model.id + "\" (scope, a dot, the model ID)");
  }
  if (!ids_.insert(out.id).second) {
    return Fail(node["id"], Join(path, "id"), "duplicate ID \"" + out.id + "\"");
  }
  if (out.source_regions.empty() || out.destination_regions.empty()) {
    return Fail(node, path, "a profile needs at least one source and one destination region");
  }
  return CheckScope(node, path, out);
}

// A geography profile never leaves its geography (DESIGN.md), so the data must not say otherwise.
bool DocumentReader::CheckScope(const YAML::Node& node, const std::string& path,
                                const Profile& profile) {
  if (known_regions_.empty() || profile.scope == kGlobalScope) {
    return true;
  }
  const auto in_scope = [&](std::string_view region) {
    std::string_view geography;
    for (const auto& known : known_regions_) {
      if (known.name == region) {
        geography = known.geography;
      }
    }
    for (int depth = 0; depth < kMaxGeographyDepth && !geography.empty(); ++depth) {
      if (geography == profile.scope) {
        return true;
      }
      const auto parent = std::find_if(known_parents_.begin(), known_parents_.end(),
                                       [&](const auto& entry) { return entry.first == geography; });
      geography = parent == known_parents_.end() ? std::string_view() : parent->second;
    }
    return false;
  };

  const YAML::Node destinations = node["destination_regions"];
  for (std::size_t i = 0; i < profile.destination_regions.size(); ++i) {
    if (!in_scope(profile.destination_regions[i])) {
      return Fail(destinations[i], path + ".destination_regions[" + std::to_string(i) + "]",
                  "region \"" + profile.destination_regions[i] + "\" is outside geography \"" +
                      profile.scope + "\"");
    }
  }
  return true;
}

Catalog LoadEmbedded() {
  auto parsed = Catalog::FromYaml(embedded::catalog_bedrock_yaml, "data/catalog/bedrock.yaml");
  if (!parsed) {
    // The embedded file is part of the build and tested; failing here is a packaging bug.
    std::fprintf(stderr, "sluice: built-in catalog is invalid: %s\n", parsed.error().c_str());
    std::abort();
  }
  return std::move(*parsed);
}

}  // namespace

boost::system::result<Catalog, std::string> Catalog::FromYaml(std::string_view yaml,
                                                              std::string_view source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& error) {
    std::string message(source_name);
    if (!error.mark.is_null()) {
      message +=
          ":" + std::to_string(error.mark.line + 1) + ":" + std::to_string(error.mark.column + 1);
    }
    return message + ": " + error.msg;
  }

  Parsed parsed;
  DocumentReader reader(source_name);
  if (!reader.Read(root, parsed)) {
    return reader.error();
  }

  Catalog catalog;
  catalog.models_ = std::move(parsed.models);
  catalog.regions_ = std::move(parsed.regions);
  catalog.geography_parents_ = std::move(parsed.geography_parents);
  catalog.BuildIndexes();
  return catalog;
}

const Catalog& Catalog::BuiltIn() {
  static const Catalog catalog = LoadEmbedded();
  return catalog;
}

Catalog Catalog::MergedWith(const Catalog& overrides) const {
  Catalog merged = *this;
  for (const auto& model : overrides.models_) {
    const auto found = merged.model_index_.find(model.id);
    if (found != merged.model_index_.end()) {
      merged.models_[found->second] = model;
    } else {
      merged.models_.push_back(model);
    }
  }
  for (const auto& region : overrides.regions_) {
    const auto found = merged.region_index_.find(region.name);
    if (found != merged.region_index_.end()) {
      merged.regions_[found->second] = region;
    } else {
      merged.regions_.push_back(region);
    }
  }
  for (const auto& entry : overrides.geography_parents_) {
    const auto found =
        std::find_if(merged.geography_parents_.begin(), merged.geography_parents_.end(),
                     [&](const auto& existing) { return existing.first == entry.first; });
    if (found != merged.geography_parents_.end()) {
      found->second = entry.second;
    } else {
      merged.geography_parents_.push_back(entry);
    }
  }
  merged.BuildIndexes();
  return merged;
}

const Model* Catalog::FindModel(std::string_view model_id) const {
  const auto found = model_index_.find(model_id);
  return found == model_index_.end() ? nullptr : &models_[found->second];
}

const Profile* Catalog::FindProfile(std::string_view profile_id) const {
  const auto found = profile_index_.find(profile_id);
  if (found == profile_index_.end()) {
    return nullptr;
  }
  return &models_[found->second.model].profiles[found->second.profile];
}

const Region* Catalog::FindRegion(std::string_view name) const {
  const auto found = region_index_.find(name);
  return found == region_index_.end() ? nullptr : &regions_[found->second];
}

bool Catalog::InScope(std::string_view region, std::string_view scope) const {
  if (scope == kGlobalScope) {
    return true;
  }
  const Region* known = FindRegion(region);
  if (known == nullptr) {
    return false;
  }
  std::string_view geography = known->geography;
  for (int depth = 0; depth < kMaxGeographyDepth; ++depth) {
    if (geography == scope) {
      return true;
    }
    const std::string* parent = ParentOf(geography);
    if (parent == nullptr) {
      return false;
    }
    geography = *parent;
  }
  return false;
}

core::Result<Resolution> Catalog::Resolve(std::string_view model_identifier,
                                          std::string_view source_region) const {
  if (!model_identifier.starts_with("arn:")) {
    if (profile_index_.contains(model_identifier)) {
      return ResolveProfileId(model_identifier, source_region);
    }
    return ResolveModelId(model_identifier, source_region);
  }

  // An ARN names a resource in one region; calling it from another is not a route Bedrock offers.
  const auto arn = ParseModelArn(model_identifier);
  if (!arn || arn->region != source_region) {
    return InvalidIdentifier();
  }
  return arn->is_profile ? ResolveProfileId(arn->id, source_region)
                         : ResolveModelId(arn->id, source_region);
}

void Catalog::BuildIndexes() {
  model_index_.clear();
  profile_index_.clear();
  region_index_.clear();
  model_index_.reserve(models_.size());
  region_index_.reserve(regions_.size());
  // After a merge the same profile ID may sit under two models; the later model wins, which is
  // the override when the override added a new model.
  for (std::size_t m = 0; m < models_.size(); ++m) {
    model_index_.insert_or_assign(models_[m].id, m);
    for (std::size_t p = 0; p < models_[m].profiles.size(); ++p) {
      profile_index_.insert_or_assign(models_[m].profiles[p].id, ProfileSlot{m, p});
    }
  }
  for (std::size_t r = 0; r < regions_.size(); ++r) {
    region_index_.insert_or_assign(regions_[r].name, r);
  }
}

const std::string* Catalog::ParentOf(std::string_view geography) const {
  for (const auto& [child, parent] : geography_parents_) {
    if (child == geography) {
      return &parent;
    }
  }
  return nullptr;
}

core::Result<Resolution> Catalog::ResolveModelId(std::string_view model_id,
                                                 std::string_view source_region) const {
  const Model* model = FindModel(model_id);
  if (model == nullptr) {
    return InvalidIdentifier();
  }
  if (Contains(model->in_region, source_region)) {
    return Resolution{model, nullptr, {std::string(source_region)}, model->id};
  }

  // Bedrock points the caller at profiles only when one would actually work from here; a model
  // with no route at all from this region is simply unknown to it.
  const bool profile_would_serve = std::any_of(
      model->profiles.begin(), model->profiles.end(),
      [&](const Profile& profile) { return Contains(profile.source_regions, source_region); });
  if (profile_would_serve) {
    return OnDemandUnsupported(model->id);
  }
  return InvalidIdentifier();
}

core::Result<Resolution> Catalog::ResolveProfileId(std::string_view profile_id,
                                                   std::string_view source_region) const {
  const auto found = profile_index_.find(profile_id);
  if (found == profile_index_.end()) {
    return InvalidIdentifier();
  }
  const Model& model = models_[found->second.model];
  const Profile& profile = model.profiles[found->second.profile];
  if (!Contains(profile.source_regions, source_region)) {
    return InvalidIdentifier();
  }
  return Resolution{&model, &profile, profile.destination_regions, profile.id};
}

}  // namespace sluice::catalog
