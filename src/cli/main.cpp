// sluice: a self-hosted gateway for Amazon Bedrock and OpenAI-compatible model services.

#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/serve.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "sluice: one gateway for every model call, metered, routed and admitted against quotas"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);

  sluice::cli::ServeFlags serve_flags;
  auto* serve = sluice::cli::AddServeCommand(app, serve_flags);

  CLI11_PARSE(app, argc, argv);

  if (serve->parsed()) {
    return sluice::cli::RunServe(serve_flags);
  }
  return 0;
}
