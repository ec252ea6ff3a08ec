#pragma once

#include <string>

#include <CLI/App.hpp>

namespace sluice::cli {

/// Flags and arguments of `sluice keys create|list|rotate|revoke`.
struct KeysFlags {
  /// Directory holding keys.db; the same default as `sluice serve`.
  std::string data_dir = "./var";
  /// `text` (for people) or `json` (for scripts).
  std::string format = "text";
  /// Owner tags of `create`; `application` is required there.
  std::string application;
  std::string team;
  std::string project;
  std::string cost_center;
  std::string tenant;
  std::string environment;
  bool admin = false;
  /// Account id in the default role ARN of `create`.
  std::string account = "000000000000";
  /// The key `rotate` or `revoke` acts on.
  std::string access_key_id;
};

/// Registers `keys` and its four subcommands on the app; `flags` receives the parsed values and
/// must outlive parsing and `RunKeys`.
CLI::App* AddKeysCommand(CLI::App& app, KeysFlags& flags);

/// Runs whichever `keys` subcommand was parsed; returns the process exit code. Output goes to
/// stdout, errors to stderr with a non-zero code.
int RunKeys(const CLI::App& keys, const KeysFlags& flags);

}  // namespace sluice::cli
