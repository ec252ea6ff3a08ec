#include "cli/keys.hpp"

#include <filesystem>
#include <iostream>

#include <boost/json.hpp>

#include "identity/key_store.hpp"

namespace sluice::cli {

namespace {

namespace json = boost::json;

// Exit codes: 1 when the store refuses or fails, 2 when the data directory is unusable.
constexpr int kStoreFailure = 1;
constexpr int kDirectoryFailure = 2;

json::object TagsJson(const identity::OwnerTags& tags) {
  json::object object;
  object["application"] = tags.application;
  object["team"] = tags.team;
  object["project"] = tags.project;
  object["costCenter"] = tags.cost_center;
  object["tenant"] = tags.tenant;
  object["environment"] = tags.environment;
  return object;
}

json::object PrincipalJson(const identity::Principal& principal) {
  json::object object;
  object["arn"] = principal.arn;
  object["tags"] = TagsJson(principal.tags);
  object["admin"] = principal.is_admin;
  return object;
}

void PrintIssued(const identity::IssuedKey& issued, const KeysFlags& flags) {
  if (flags.format == "json") {
    json::object object;
    object["accessKeyId"] = issued.access_key_id;
    object["secretAccessKey"] = issued.secret_access_key;
    object["apiKey"] = issued.api_key;
    object["principal"] = PrincipalJson(issued.principal);
    std::cout << json::serialize(object) << "\n";
    return;
  }
  std::cout << "access key id:     " << issued.access_key_id << "\n"
            << "secret access key: " << issued.secret_access_key << "\n"
            << "api key:           " << issued.api_key << "\n"
            << "principal:         " << issued.principal.arn
            << (issued.principal.is_admin ? " (admin)" : "") << "\n"
            << "The secret access key and the API key are shown only now; store them safely.\n";
}

std::string TagsText(const identity::OwnerTags& tags) {
  std::string text;
  const std::pair<const char*, const std::string*> fields[] = {
      {"application", &tags.application}, {"team", &tags.team},
      {"project", &tags.project},         {"cost_center", &tags.cost_center},
      {"tenant", &tags.tenant},           {"environment", &tags.environment}};
  for (const auto& [name, value] : fields) {
    if (!value->empty()) {
      text += (text.empty() ? "" : " ") + std::string(name) + "=" + *value;
    }
  }
  return text;
}

void PrintList(const std::vector<identity::KeyInfo>& keys, const KeysFlags& flags) {
  if (flags.format == "json") {
    json::array array;
    for (const auto& key : keys) {
      json::object object;
      object["accessKeyId"] = key.access_key_id;
      object["principal"] = PrincipalJson(key.principal);
      object["createdAt"] = key.created_at;
      object["revokedAt"] = key.revoked_at ? json::value(*key.revoked_at) : json::value(nullptr);
      object["rotatedFrom"] =
          key.rotated_from ? json::value(*key.rotated_from) : json::value(nullptr);
      array.push_back(std::move(object));
    }
    std::cout << json::serialize(array) << "\n";
    return;
  }
  for (const auto& key : keys) {
    std::cout << key.access_key_id << "  "
              << (key.revoked_at ? "revoked " + *key.revoked_at : std::string("active")) << "  "
              << "created " << key.created_at << "  " << key.principal.arn
              << (key.principal.is_admin ? " (admin)" : "") << "  " << TagsText(key.principal.tags)
              << "\n";
  }
}

int Fail(const std::string& message, int code) {
  std::cerr << "sluice keys: " << message << "\n";
  return code;
}

int RunCreate(identity::KeyStore& store, const KeysFlags& flags) {
  identity::Principal principal;
  principal.tags = {flags.application, flags.team,   flags.project,
                    flags.cost_center, flags.tenant, flags.environment};
  principal.is_admin = flags.admin;
  auto issued = store.Create(std::move(principal), flags.account);
  if (!issued) {
    return Fail(issued.error().message, kStoreFailure);
  }
  PrintIssued(*issued, flags);
  return 0;
}

int RunList(identity::KeyStore& store, const KeysFlags& flags) {
  auto keys = store.List();
  if (!keys) {
    return Fail(keys.error().message, kStoreFailure);
  }
  PrintList(*keys, flags);
  return 0;
}

int RunRotate(identity::KeyStore& store, const KeysFlags& flags) {
  auto issued = store.Rotate(flags.access_key_id);
  if (!issued) {
    return Fail(issued.error().message, kStoreFailure);
  }
  if (flags.format != "json") {
    std::cout << "revoked " << flags.access_key_id << "; its replacement:\n";
  }
  PrintIssued(*issued, flags);
  return 0;
}

int RunRevoke(identity::KeyStore& store, const KeysFlags& flags) {
  auto revoked = store.Revoke(flags.access_key_id);
  if (!revoked) {
    return Fail(revoked.error().message, kStoreFailure);
  }
  if (flags.format == "json") {
    json::object object;
    object["accessKeyId"] = flags.access_key_id;
    object["revoked"] = true;
    std::cout << json::serialize(object) << "\n";
  } else {
    std::cout << "revoked " << flags.access_key_id << "\n";
  }
  return 0;
}

}  // namespace

CLI::App* AddKeysCommand(CLI::App& app, KeysFlags& flags) {
  auto* keys = app.add_subcommand("keys", "Create, list, rotate and revoke client keys");
  keys->require_subcommand(1);
  keys->add_option("--data-dir", flags.data_dir, "Directory holding keys.db (default ./var)");
  keys->add_option("--format", flags.format, "Output format: text or json (default text)")
      ->check(CLI::IsMember({"text", "json"}));

  auto* create = keys->add_subcommand("create", "Issue an access key and an API key");
  create->add_option("--application", flags.application, "Application name (required)")->required();
  create->add_option("--team", flags.team, "Owner tag: team");
  create->add_option("--project", flags.project, "Owner tag: project");
  create->add_option("--cost-center", flags.cost_center, "Owner tag: cost center");
  create->add_option("--tenant", flags.tenant, "Owner tag: tenant");
  create->add_option("--environment", flags.environment, "Owner tag: environment");
  create->add_flag("--admin", flags.admin, "Allow the admin API (/admin/...)");
  create->add_option("--account", flags.account,
                     "12-digit account id in the principal's ARN (default 000000000000)");

  auto* list = keys->add_subcommand("list", "List keys and their owners, never secrets");
  auto* rotate = keys->add_subcommand("rotate", "Replace a key, revoking the old one");
  rotate->add_option("ACCESS_KEY_ID", flags.access_key_id, "Key to rotate")->required();
  auto* revoke = keys->add_subcommand("revoke", "Revoke a key and its API key");
  revoke->add_option("ACCESS_KEY_ID", flags.access_key_id, "Key to revoke")->required();

  // The shared options are accepted after the subcommand too (`keys list --format json`).
  for (auto* sub : {create, list, rotate, revoke}) {
    sub->fallthrough();
  }
  return keys;
}

int RunKeys(const CLI::App& keys, const KeysFlags& flags) {
  std::error_code dir_error;
  std::filesystem::create_directories(flags.data_dir, dir_error);
  if (dir_error) {
    return Fail("cannot create data directory " + flags.data_dir + ": " + dir_error.message(),
                kDirectoryFailure);
  }
  auto store = identity::KeyStore::Open(flags.data_dir);
  if (!store) {
    return Fail(store.error().message, kStoreFailure);
  }

  if (keys.got_subcommand("create")) {
    return RunCreate(**store, flags);
  }
  if (keys.got_subcommand("list")) {
    return RunList(**store, flags);
  }
  if (keys.got_subcommand("rotate")) {
    return RunRotate(**store, flags);
  }
  return RunRevoke(**store, flags);
}

}  // namespace sluice::cli
