#pragma once

#include <optional>
#include <string>

#include <CLI/App.hpp>

namespace sluice::cli {

/// Flags of `sluice serve`; each overrides the same setting from the config file.
struct ServeFlags {
  std::optional<std::string> config_file;
  std::optional<std::string> listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> log_level;
};

/// Registers `serve` on the app; `flags` receives the parsed values and must outlive parsing.
CLI::App* AddServeCommand(CLI::App& app, ServeFlags& flags);

/// Runs the gateway until SIGTERM or SIGINT; returns the process exit code.
int RunServe(const ServeFlags& flags);

}  // namespace sluice::cli
