#include "cli/serve.hpp"

#include <pthread.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "api/admin.hpp"
#include "api/authenticator.hpp"
#include "api/bedrock_runtime.hpp"
#include "api/gateway.hpp"
#include "catalog/catalog.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "identity/key_cache.hpp"
#include "identity/key_store.hpp"
#include "providers/bedrock.hpp"
#include "providers/simulator.hpp"
#include "routing/router.hpp"

namespace sluice::cli {

namespace {

void SetUpDiagnosticLog(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("sluice");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

// The access log's destination: stdout, stderr, or a file (a relative path is in data_dir).
std::string AccessLogDestination(const config::Config& config) {
  const auto& target = config.log.access_log;
  if (target == "stdout" || target == "stderr") {
    return target;
  }
  std::filesystem::path path(target);
  if (path.is_relative()) {
    path = std::filesystem::path(config.data_dir) / path;
  }
  return path.string();
}

providers::SimulatorOptions MakeSimulatorOptions(const config::SimulatorSettings& settings) {
  providers::SimulatorOptions options;
  options.time_scale = settings.time_scale;
  options.defaults.time_to_first_token_ms = settings.time_to_first_token_ms;
  options.defaults.tokens_per_second = settings.tokens_per_second;
  options.defaults.requests_per_minute = settings.requests_per_minute;
  options.defaults.tokens_per_minute = settings.tokens_per_minute;
  for (const auto& region : settings.regions) {
    auto behaviour = options.defaults;
    behaviour.outage = region.outage.value_or(behaviour.outage);
    behaviour.time_to_first_token_ms =
        region.time_to_first_token_ms.value_or(behaviour.time_to_first_token_ms);
    behaviour.tokens_per_second = region.tokens_per_second.value_or(behaviour.tokens_per_second);
    behaviour.requests_per_minute =
        region.requests_per_minute.value_or(behaviour.requests_per_minute);
    behaviour.tokens_per_minute = region.tokens_per_minute.value_or(behaviour.tokens_per_minute);
    options.regions[region.region] = behaviour;
  }
  return options;
}

http::ServerOptions MakeServerOptions(const config::ServerSettings& settings) {
  http::ServerOptions options;
  options.host = settings.listen_host;
  options.port = settings.listen_port;
  options.workers = settings.workers;
  options.limits.max_header_bytes = settings.max_header_bytes;
  options.limits.max_body_bytes = settings.max_body_bytes;
  options.limits.idle_timeout = settings.idle_timeout;
  options.limits.read_timeout = settings.read_timeout;
  options.limits.write_timeout = settings.write_timeout;
  options.limits.max_connections = settings.max_connections;
  options.limits.max_concurrent_streams = settings.max_concurrent_streams;
  options.drain_timeout = settings.drain_timeout;
  return options;
}

// Loads the config file (or the embedded default) and applies the command-line overrides.
std::optional<config::Config> LoadConfig(const ServeFlags& flags) {
  config::Config config;
  if (flags.config_file) {
    auto loaded = config::LoadConfigFile(*flags.config_file);
    if (!loaded) {
      std::cerr << "sluice: invalid config: " << loaded.error().ToString() << "\n";
      return std::nullopt;
    }
    config = std::move(*loaded);
  } else {
    config = config::DefaultConfig();
  }
  if (flags.listen) {
    auto address = config::ParseListenAddress(*flags.listen);
    if (!address) {
      std::cerr << "sluice: --listen " << *flags.listen << ": " << address.error() << "\n";
      return std::nullopt;
    }
    config.server.listen_host = address->first;
    config.server.listen_port = address->second;
  }
  if (flags.data_dir) {
    config.data_dir = *flags.data_dir;
  }
  if (flags.log_level) {
    config.log.level = *flags.log_level;
  }
  return config;
}

}  // namespace

CLI::App* AddServeCommand(CLI::App& app, ServeFlags& flags) {
  auto* serve = app.add_subcommand("serve", "Run the gateway");
  serve->add_option("--config,-c", flags.config_file,
                    "YAML config file (default: the embedded default, built-in simulator)");
  serve->add_option("--listen", flags.listen,
                    "Address to listen on, HOST:PORT (default 127.0.0.1:4000)");
  serve->add_option("--data-dir", flags.data_dir,
                    "Directory for everything sluice writes (default ./var)");
  serve->add_option("--log-level", flags.log_level, "trace, debug, info, warn, error or off");
  return serve;
}

int RunServe(const ServeFlags& flags) {
  auto loaded = LoadConfig(flags);
  if (!loaded) {
    return 2;
  }
  const config::Config& config = *loaded;
  SetUpDiagnosticLog(config.log.level);

  std::error_code dir_error;
  std::filesystem::create_directories(config.data_dir, dir_error);
  if (dir_error) {
    spdlog::critical("cannot create data directory path={} error=\"{}\"", config.data_dir,
                     dir_error.message());
    return 1;
  }

  // Every worker thread inherits this mask, so SIGINT and SIGTERM reach only the waiter below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  catalog::Catalog catalog = catalog::Catalog::BuiltIn();
  if (config.catalog_file) {
    std::ifstream file(*config.catalog_file);
    std::stringstream text;
    text << file.rdbuf();
    if (!file) {
      spdlog::critical("cannot read catalog file path={}", *config.catalog_file);
      return 2;
    }
    auto overrides = catalog::Catalog::FromYaml(text.str(), *config.catalog_file);
    if (!overrides) {
      spdlog::critical("invalid catalog file: {}", overrides.error());
      return 2;
    }
    catalog = catalog.MergedWith(*overrides);
  }

  std::unique_ptr<providers::Simulator> simulator;
  routing::Router router(catalog, config.region);
  if (config.simulator.enabled) {
    simulator =
        std::make_unique<providers::Simulator>(catalog, MakeSimulatorOptions(config.simulator));
    router.SetFallback(simulator.get());
  }

  // Upstreams that speak the Bedrock Runtime protocol, and the deployments that use them.
  std::map<std::string, std::unique_ptr<providers::Provider>, std::less<>> upstreams;
  for (const auto& upstream : config.upstreams) {
    auto endpoint = http::Endpoint::Parse(upstream.endpoint);
    if (!endpoint) {
      spdlog::critical("invalid upstream name={} endpoint={} error=\"{}\"", upstream.name,
                       upstream.endpoint, endpoint.error());
      return 2;
    }
    upstreams[upstream.name] =
        std::make_unique<providers::BedrockProvider>(providers::BedrockOptions{
            upstream.name, *endpoint, upstream.timeout, upstream.max_idle_connections});
  }
  for (const auto& deployment : config.deployments) {
    routing::Deployment route;
    std::string region = deployment.region;
    if (deployment.upstream == "simulator") {
      if (!simulator) {
        spdlog::critical("deployment model={} uses the simulator, which is disabled",
                         deployment.model);
        return 2;
      }
      route.provider = simulator.get();
    } else {
      route.provider = upstreams.at(deployment.upstream).get();
      for (const auto& upstream : config.upstreams) {
        if (upstream.name == deployment.upstream && region.empty()) {
          region = upstream.region;
        }
      }
    }
    route.name = deployment.upstream;
    route.target.region = region.empty() ? config.region : region;
    route.target.model_id =
        deployment.upstream_model.empty() ? deployment.model : deployment.upstream_model;
    router.AddDeployment(deployment.model, std::move(route));
  }

  // Keys sluice issued (`sluice keys ...`), shared with that command through the data directory.
  auto key_store = identity::KeyStore::Open(config.data_dir);
  if (!key_store) {
    spdlog::critical("cannot open the key store: {}", key_store.error().message);
    return 1;
  }
  identity::KeyCache key_cache(**key_store);
  const auto anonymous = api::ParseAnonymousAccess(config.auth.anonymous);
  if (anonymous == api::AnonymousAccess::kLoopback) {
    spdlog::info(
        "anonymous access allowed for callers on this machine (auth.anonymous=loopback): "
        "unknown or missing credentials are served as an anonymous principal");
  } else if (anonymous == api::AnonymousAccess::kAlways) {
    spdlog::warn("anonymous access allowed for every caller (auth.anonymous=always)");
  }
  api::Authenticator authenticator(&key_cache, anonymous);

  api::BedrockRuntimeApi bedrock(router, authenticator, config.server.max_body_bytes);
  api::AdminApi admin(simulator.get(), authenticator);
  http::Server* server_ptr = nullptr;
  api::Gateway gateway(bedrock, admin, [&server_ptr] { return server_ptr && server_ptr->ready(); });

  std::unique_ptr<http::AccessLog> access_log;
  if (config.log.access_log != "off") {
    auto opened = http::AccessLog::Open(AccessLogDestination(config));
    if (!opened) {
      spdlog::critical("{}", opened.error());
      return 1;
    }
    access_log = std::move(*opened);
  }
  auto options = MakeServerOptions(config.server);
  options.access_log = access_log.get();
  http::Server server(options, gateway);
  server_ptr = &server;
  try {
    server.Listen();
  } catch (const std::exception& e) {
    spdlog::critical("cannot listen address={}:{} error=\"{}\"", options.host, options.port,
                     e.what());
    return 1;
  }

  std::thread signal_waiter([&server, signals, delay = config.server.shutdown_delay] {
    int received = 0;
    sigwait(&signals, &received);
    server.MarkNotReady();
    if (delay.count() > 0) {
      // Keep serving while load balancers notice /ready failing; a second signal cuts it short.
      spdlog::info("shutting down signal={} ready=false serving_for_ms={}", strsignal(received),
                   delay.count());
      const timespec wait{static_cast<time_t>(delay.count() / 1000),
                          static_cast<long>(delay.count() % 1000) * 1'000'000};
      sigtimedwait(&signals, nullptr, &wait);
    }
    spdlog::info("shutting down signal={} waiting_for_in_flight_requests", strsignal(received));
    server.Stop();
    // A second signal means the operator will not wait for the drain.
    sigwait(&signals, &received);
    spdlog::warn("second signal, exiting without draining");
    std::_Exit(1);
  });
  signal_waiter.detach();

  spdlog::info("sluice {} config={} data_dir={} region={} simulator={}", SLUICE_VERSION,
               config.source, config.data_dir, config.region,
               config.simulator.enabled ? "on" : "off");
  spdlog::info("listening address=http://{}:{} protocols=http/1.1,h2c", options.host,
               server.port());
  server.Run();
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace sluice::cli
