// flocker-proxy's configuration: its flags, and the same keys from an optional `--config
// FILE`, parsed into one typed, validated value (docs/configuration.md lists every key).
// A flag on the command line wins over the file: it replaces that key's value, or all of its
// values for a repeatable key (--listen, --metrics-listen), from the file.
#pragma once

#include <spdlog/common.h>

#include <string>
#include <vector>

#include "flock/control/engine_tls.h"
#include "flock/flock.h"
#include "flock/routes/guard_handler.h"
#include "transport/server.h"

namespace flocker {

struct ProxyConfig {
  // --listen, --threads, --unix-socket-*, --grace, --connect-timeout, --upstream-idle-timeout,
  // --max-header-bytes, --client-idle-timeout, and the front TLS (--tls-*, its context loaded).
  transport::ServerOptions server;
  // A flock's settings (--decider*, --name, --inventory-refresh, ...). In single-engine mode
  // only engine_timeout, answer_timeout and (with --authorize) decider are set.
  flock::FlockOptions flock;
  flock::GuardOptions guard;  // --authorize, --authorize-body-limit, --read-only, --deny, ...
  std::string engine;         // --engine: single-engine mode; "" for a flock
  // --engine-tls*: for the single engine, or flock hosts whose List entry has no TLS settings.
  flock::EngineTlsDefaults engine_tls;
  spdlog::level::level_enum log_level = spdlog::level::info;
  bool access_log = true;
  std::vector<std::string> metrics_listen;  // --metrics-listen, never a --listen address
  std::string config_file;                  // --config, "" when none
  std::vector<std::string> warnings;        // for the log, once logging is set up
};

struct ParseResult {
  enum class Outcome {
    kRun,         // `config` is valid: run with it
    kExit,        // print `text` on stdout and exit 0 (--help, --version)
    kUsageError,  // `text` is the message: report_usage_error(text), exit 2
  };
  Outcome outcome = Outcome::kRun;
  ProxyConfig config;
  std::string text;
};

// `args` are the arguments after the program's name. Reads the --config file and the TLS
// files it is given (a bad certificate is a usage error now, not a failure later).
ParseResult parse_proxy_config(const std::vector<std::string>& args);
ParseResult parse_proxy_config(int argc, char** argv);

// Writes "flocker-proxy: MESSAGE\n(try --help)\n" to stderr; returns 2, the exit code.
int report_usage_error(const std::string& message);

}  // namespace flocker
