// sluice: a self-hosted gateway for Amazon Bedrock and OpenAI-compatible model services.

#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/keys.hpp"
#include "cli/serve.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "sluice: one gateway for every model call, metered, routed and admitted against quotas"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);

  sluice::cli::ServeFlags serve_flags;
  auto* serve = sluice::cli::AddServeCommand(app, serve_flags);
  sluice::cli::KeysFlags keys_flags;
  auto* keys = sluice::cli::AddKeysCommand(app, keys_flags);

  CLI11_PARSE(app, argc, argv);

  if (serve->parsed()) {
    return sluice::cli::RunServe(serve_flags);
  }
  if (keys->parsed()) {
    return sluice::cli::RunKeys(*keys, keys_flags);
  }
  return 0;
}
