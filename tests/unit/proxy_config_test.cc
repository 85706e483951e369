// flocker-proxy's configuration: the flags' defaults and checks (their messages are the
// user's), the --config file (its format, its errors naming the line, flags winning over
// it), --help and --version.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "flocker_version.h"
#include "proxy_config.h"
#include "test_tls.h"

using namespace flocker;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Outcome = ParseResult::Outcome;
using Strings = std::vector<std::string>;

namespace {

ProxyConfig parse_ok(const Strings& args) {
  auto r = parse_proxy_config(args);
  EXPECT_EQ(r.outcome, Outcome::kRun) << r.text;
  return r.config;
}

std::string parse_error(const Strings& args) {
  auto r = parse_proxy_config(args);
  EXPECT_EQ(r.outcome, Outcome::kUsageError) << "no error for " << ::testing::PrintToString(args);
  return r.text;
}

// A config file with `text`, in a directory of its own that goes with the test.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text) {
    dir_ = std::filesystem::temp_directory_path() /
           ("proxy_config_test." + std::to_string(::getpid()) + "." + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "flocker-proxy.conf").string();
    std::ofstream(path_) << text;
  }
  ~ConfigFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }
  std::string dir() const { return dir_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string path_;
};

TEST(ProxyConfig, SingleEngineDefaults) {
  auto c = parse_ok({"--engine", "unix:///var/run/docker.sock"});
  EXPECT_EQ(c.engine, "unix:///var/run/docker.sock");
  EXPECT_EQ(c.server.listen, Strings{"tcp://127.0.0.1:2375"});
  EXPECT_EQ(c.server.threads, 0u);
  EXPECT_EQ(c.server.unix_mode, 0660u);
  EXPECT_EQ(c.server.unix_group, "");
  EXPECT_EQ(c.server.grace, 10s);
  EXPECT_EQ(c.server.pool.connect_timeout, 3s);
  EXPECT_EQ(c.server.pool.idle_timeout, 30s);
  EXPECT_EQ(c.server.session.max_header_bytes, 64u * 1024);
  EXPECT_EQ(c.server.session.idle_timeout, 300s);
  EXPECT_FALSE(c.server.tls);
  EXPECT_EQ(c.log_level, spdlog::level::info);
  EXPECT_TRUE(c.access_log);
  EXPECT_FALSE(c.engine_tls.enabled);
  EXPECT_FALSE(c.guard.authorize);
  EXPECT_EQ(c.guard.body_limit, 1u << 20);
  EXPECT_FALSE(c.guard.policy.read_only);
  EXPECT_TRUE(c.guard.policy.denied.empty());
  EXPECT_EQ(c.flock.engine_timeout, 5s);
  EXPECT_EQ(c.flock.answer_timeout, 60s);
  EXPECT_EQ(c.flock.decider.address, "");
  EXPECT_TRUE(c.metrics_listen.empty());
  EXPECT_EQ(c.config_file, "");
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ProxyConfig, FlockDefaults) {
  auto c = parse_ok({"--decider", "127.0.0.1:7070"});
  EXPECT_EQ(c.engine, "");
  EXPECT_EQ(c.flock.decider.address, "127.0.0.1:7070");
  EXPECT_EQ(c.flock.decider.timeout, 1s);
  EXPECT_FALSE(c.flock.decider.tls);
  EXPECT_EQ(c.flock.on_decider_failure, flock::DeciderFailure::kFail);
  EXPECT_EQ(c.flock.name, "flocker");
  EXPECT_EQ(c.flock.proxy_name, "flocker");
  // Drawn per process (start), never a setting: two proxies of one --name differ.
  EXPECT_EQ(c.flock.proxy_instance.size(), 16u);
  EXPECT_NE(c.flock.proxy_instance, parse_ok({"--decider", "127.0.0.1:7070"}).flock.proxy_instance);
  EXPECT_FALSE(c.flock.coordinated);
  EXPECT_EQ(c.flock.inventory_refresh, 30s);
  EXPECT_EQ(c.flock.health_interval, 2s);
  EXPECT_EQ(c.flock.pin_ttl, 120s);
  EXPECT_EQ(c.flock.engine_timeout, 5s);
  EXPECT_EQ(c.flock.answer_timeout, 60s);
}

TEST(ProxyConfig, EveryFlagLandsInItsField) {
  auto c = parse_ok({"--decider", "d:1", "--listen", "tcp://0.0.0.0:2375", "--listen", "unix:///run/f.sock",
                     "--decider-timeout", "0.5", "--decider-failure", "round-robin", "--name", "blue",
                     "--inventory-refresh", "7", "--health-interval", "0.25", "--engine-timeout", "2",
                     "--engine-answer-timeout", "0", "--pin-ttl", "9.9", "--threads", "3",
                     "--unix-socket-mode", "0600", "--unix-socket-group", "docker", "--grace", "1.5",
                     "--connect-timeout", "4", "--upstream-idle-timeout", "8", "--max-header-bytes", "1000",
                     "--log-level", "debug", "--access-log", "off", "--client-idle-timeout", "0",
                     "--metrics-listen", "tcp://127.0.0.1:9100", "--read-only", "--deny", "exec,build",
                     "--allow-host-access", "privileged", "--authorize-body-limit", "12"});
  EXPECT_EQ(c.server.listen, (Strings{"tcp://0.0.0.0:2375", "unix:///run/f.sock"}));
  EXPECT_EQ(c.flock.decider.timeout, 500ms);
  EXPECT_EQ(c.flock.on_decider_failure, flock::DeciderFailure::kRoundRobin);
  EXPECT_EQ(c.flock.name, "blue");
  EXPECT_EQ(c.flock.proxy_name, "blue");
  EXPECT_EQ(c.flock.inventory_refresh, 7s);
  EXPECT_EQ(c.flock.health_interval, 250ms);
  EXPECT_EQ(c.flock.engine_timeout, 2s);
  EXPECT_EQ(c.flock.answer_timeout, 0ms);
  EXPECT_EQ(c.flock.pin_ttl, 9s);
  EXPECT_EQ(c.server.threads, 3u);
  EXPECT_EQ(c.server.unix_mode, 0600u);
  EXPECT_EQ(c.server.unix_group, "docker");
  EXPECT_EQ(c.server.grace, 1500ms);
  EXPECT_EQ(c.server.pool.connect_timeout, 4s);
  EXPECT_EQ(c.server.pool.idle_timeout, 8s);
  EXPECT_EQ(c.server.session.max_header_bytes, 1000u);
  EXPECT_EQ(c.server.session.idle_timeout, 0ms);
  EXPECT_EQ(c.log_level, spdlog::level::debug);
  EXPECT_FALSE(c.access_log);
  EXPECT_EQ(c.metrics_listen, Strings{"tcp://127.0.0.1:9100"});
  EXPECT_TRUE(c.guard.policy.read_only);
  EXPECT_EQ(c.guard.policy.denied,
            (std::set<docker::EndpointClass>{docker::EndpointClass::kExec, docker::EndpointClass::kBuild}));
  EXPECT_TRUE(c.guard.policy.allow.privileged);
  EXPECT_FALSE(c.guard.policy.allow.devices);
  EXPECT_EQ(c.guard.body_limit, 12u);
}

TEST(ProxyConfig, ValidationMessages) {
  const std::vector<std::pair<Strings, std::string>> cases = {
      {{}, "give --decider (a flock) or --engine (one engine)"},
      {{"--engine", "e", "--decider", "d:1"},
       "give --decider (a flock) or --engine (one engine); both only with --authorize"},
      {{"--engine", "e", "--authorize"}, "--authorize needs --decider"},
      {{"--engine", "e", "--log-level", "loud"}, "unknown --log-level 'loud'"},
      {{"--engine", "e", "--access-log", "yes"}, "--access-log must be on or off"},
      {{"--engine", "e", "--grace", "-1"}, "--grace must not be negative"},
      {{"--engine", "e", "--client-idle-timeout", "-2"}, "--client-idle-timeout must not be negative"},
      {{"--engine", "e", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
      {{"--engine", "e", "--tls-ca", "ca.pem"}, "--tls-cert and --tls-key go together"},
      {{"--engine", "e", "--deny", "exec,bogus"}, "--deny: unknown endpoint class 'bogus'"},
      {{"--engine", "e", "--engine-timeout", "0.05"}, "--engine-timeout is too short"},
      {{"--decider", "d:1", "--decider-failure", "later"}, "--decider-failure must be 'fail' or 'round-robin'"},
      {{"--decider", "d:1", "--health-interval", "0.05"}, "--health-interval is too short"},
      {{"--decider", "d:1", "--decider-tls-ca", "/nonexistent/ca.pem"}, "cannot read /nonexistent/ca.pem"},
      {{"--engine", "e", "--bogus"}, "unrecognised option '--bogus'"},
      {{"--engine", "e", "--grace", "soon"}, "the argument ('soon') for option '--grace' is invalid"},
      {{"--engine", "e", "--name", "a", "--name", "b"}, "option '--name' cannot be specified more than once"},
      {{"--engine", "e", "--metrics-listen", ""}, "--metrics-listen must not be empty"},
      {{"--engine", "e", "--listen", "tcp://127.0.0.1:9100", "--metrics-listen", "tcp://127.0.0.1:9100"},
       "--metrics-listen tcp://127.0.0.1:9100 is also a --listen address (metrics never share the Docker "
       "API port)"},
      {{"--engine", "e", "--metrics-listen", "tcp://127.0.0.1:2375"},  // the default --listen
       "--metrics-listen tcp://127.0.0.1:2375 is also a --listen address (metrics never share the Docker "
       "API port)"},
  };
  for (const auto& [args, message] : cases) {
    EXPECT_EQ(parse_error(args), message) << ::testing::PrintToString(args);
  }
  // Messages that come from elsewhere (TLS, the host-access list): a usage error all the same.
  EXPECT_THAT(parse_error({"--engine", "e", "--engine-tls-ca", "/nonexistent/ca.pem"}),
              HasSubstr("/nonexistent/ca.pem"));
  EXPECT_THAT(parse_error({"--engine", "e", "--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"}),
              HasSubstr("/nonexistent/c.pem"));
  EXPECT_FALSE(parse_error({"--engine", "e", "--allow-host-access", "everything"}).empty());
}

TEST(ProxyConfig, TlsFilesAreLoadedAndChecked) {
  test::TestPki pki;
  auto server = pki.issue("flocker-proxy");
  auto c = parse_ok({"--engine", "e", "--tls-cert", server.cert, "--tls-key", server.key});
  ASSERT_TRUE(c.server.tls);
  EXPECT_EQ(c.warnings, Strings{"TLS without --tls-ca: any client may connect (no client certificates)"});

  c = parse_ok({"--engine", "e", "--tls-cert", server.cert, "--tls-key", server.key, "--tls-ca", pki.ca_file(),
                "--engine-tls-ca", pki.ca_file(), "--engine-tls-cert", server.cert, "--engine-tls-key", server.key});
  ASSERT_TRUE(c.server.tls);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_TRUE(c.engine_tls.enabled);
  EXPECT_EQ(c.engine_tls.material.ca_file, pki.ca_file());

  EXPECT_TRUE(parse_ok({"--engine", "e", "--engine-tls"}).engine_tls.enabled);

  c = parse_ok({"--decider", "d:1", "--decider-tls-ca", pki.ca_file(), "--decider-tls-cert", server.cert,
                "--decider-tls-key", server.key, "--decider-tls-server-name", "decider.example"});
  EXPECT_TRUE(c.flock.decider.tls);
  EXPECT_THAT(c.flock.decider.tls_ca_pem, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_THAT(c.flock.decider.tls_key_pem, HasSubstr("PRIVATE KEY"));
  EXPECT_EQ(c.flock.decider.tls_server_name, "decider.example");
  EXPECT_EQ(parse_error({"--decider", "d:1", "--decider-tls-ca", pki.ca_file(), "--decider-tls-cert", server.cert}),
            "--decider-tls-cert and --decider-tls-key go together");
}

TEST(ProxyConfig, Help) {
  auto r = parse_proxy_config(Strings{"--help"});
  ASSERT_EQ(r.outcome, Outcome::kExit);
  EXPECT_THAT(r.text, StartsWith("flocker-proxy: many Docker engines behind one Docker endpoint\nOptions:\n"));
  for (const char* flag : {"--listen", "--decider", "--engine", "--config", "--version", "--metrics-listen",
                           "--allow-host-access", "--decider-tls-server-name"}) {
    EXPECT_THAT(r.text, HasSubstr(flag));
  }
  // -h too; and help is help whatever else is wrong (the config file is not read).
  EXPECT_EQ(parse_proxy_config(Strings{"-h"}).text, r.text);
  EXPECT_EQ(parse_proxy_config(Strings{"--grace", "-1", "--help", "--config", "/nonexistent"}).outcome,
            Outcome::kExit);
}

TEST(ProxyConfig, Version) {
  auto r = parse_proxy_config(Strings{"--version"});
  ASSERT_EQ(r.outcome, Outcome::kExit);
  EXPECT_EQ(r.text, std::string("flocker-proxy ") + FLOCKER_VERSION + "\ndecider API: flocker.v1\n");
}

TEST(ProxyConfig, ArgcArgv) {
  std::string a0 = "flocker-proxy", a1 = "--engine", a2 = "unix:///x.sock";
  char* argv[] = {a0.data(), a1.data(), a2.data(), nullptr};
  EXPECT_EQ(parse_proxy_config(3, argv).config.engine, "unix:///x.sock");
}

TEST(ProxyConfigFile, ValuesFromTheFile) {
  ConfigFile file(R"(# a flock behind TLS
decider = 127.0.0.1:7070
listen = tcp://0.0.0.0:2375
listen   unix:///run/flocker.sock
  health-interval=0.5     # checks twice a second
name = a#b
read-only = true
engine-tls = false
unix-socket-group =
deny = exec,build
metrics-listen = tcp://127.0.0.1:9100

log-level	debug
)");
  auto c = parse_ok({"--config", file.path()});
  EXPECT_EQ(c.config_file, file.path());
  EXPECT_EQ(c.flock.decider.address, "127.0.0.1:7070");
  EXPECT_EQ(c.server.listen, (Strings{"tcp://0.0.0.0:2375", "unix:///run/flocker.sock"}));
  EXPECT_EQ(c.flock.health_interval, 500ms);
  EXPECT_EQ(c.flock.name, "a#b");
  EXPECT_TRUE(c.guard.policy.read_only);
  EXPECT_FALSE(c.engine_tls.enabled);
  EXPECT_EQ(c.server.unix_group, "");
  EXPECT_EQ(c.guard.policy.denied.size(), 2u);
  EXPECT_EQ(c.metrics_listen, Strings{"tcp://127.0.0.1:9100"});
  EXPECT_EQ(c.log_level, spdlog::level::debug);
  EXPECT_EQ(c.flock.decider.timeout, 1s);  // not in the file: the default
}

TEST(ProxyConfigFile, FlagsWin) {
  ConfigFile file(R"(decider = 127.0.0.1:7070
name = from-file
grace = 4
listen = tcp://0.0.0.0:2375
listen = unix:///run/flocker.sock
metrics-listen = tcp://127.0.0.1:9100
authorize = true
read-only = false
)");
  auto c = parse_ok({"--name", "from-flag", "--config", file.path(), "--listen", "tcp://127.0.0.1:23800",
                     "--read-only"});
  EXPECT_EQ(c.flock.name, "from-flag");
  EXPECT_EQ(c.server.grace, 4s);
  // A repeatable key given as a flag replaces all of the file's values, not adds to them.
  EXPECT_EQ(c.server.listen, Strings{"tcp://127.0.0.1:23800"});
  EXPECT_EQ(c.metrics_listen, Strings{"tcp://127.0.0.1:9100"});
  EXPECT_TRUE(c.guard.authorize);
  EXPECT_TRUE(c.guard.policy.read_only);

  c = parse_ok({"--config", file.path(), "--metrics-listen", "tcp://127.0.0.1:9200"});
  EXPECT_EQ(c.server.listen, (Strings{"tcp://0.0.0.0:2375", "unix:///run/flocker.sock"}));
  EXPECT_EQ(c.metrics_listen, Strings{"tcp://127.0.0.1:9200"});

  // The checks see the merged configuration.
  EXPECT_EQ(parse_error({"--config", file.path(), "--metrics-listen", "tcp://0.0.0.0:2375"}),
            "--metrics-listen tcp://0.0.0.0:2375 is also a --listen address (metrics never share the Docker "
            "API port)");
  c = parse_ok({"--config", file.path(), "--engine", "e"});  // one engine, authorized by the decider
  EXPECT_EQ(c.engine, "e");
  EXPECT_EQ(c.flock.decider.address, "127.0.0.1:7070");
  EXPECT_TRUE(c.guard.authorize);
  ConfigFile authorize_only("authorize = true\n");
  EXPECT_EQ(parse_error({"--config", authorize_only.path(), "--engine", "e"}), "--authorize needs --decider");
}

TEST(ProxyConfigFile, ErrorsNameTheLine) {
  auto error_for = [](const std::string& text) {
    ConfigFile file(text);
    auto message = parse_error({"--config", file.path()});
    const std::string prefix = file.path() + ":";
    EXPECT_THAT(message, StartsWith(prefix));
    return message.substr(prefix.size());
  };
  EXPECT_EQ(error_for("decider = d:1\n# fine\nbogus = 1\n"), "3: unknown key 'bogus'");
  EXPECT_EQ(error_for("--decider = d:1\n"), "1: unknown key '--decider'");
  EXPECT_EQ(error_for("[proxy]\n"), "1: unknown key '[proxy]'");
  EXPECT_EQ(error_for("decider = d:1\ngrace = soon\n"), "2: the argument ('soon') for option 'grace' is invalid");
  EXPECT_EQ(error_for("decider = d:1\nname = a\nname = b\n"), "3: 'name' again (first on line 2)");
  EXPECT_EQ(error_for("authorize = yes\n"), "1: 'authorize' is true or false");
  EXPECT_EQ(error_for("read-only\n"), "1: 'read-only' needs a value (read-only = VALUE)");
  EXPECT_EQ(error_for("config = other.conf\n"), "1: 'config' is for the command line only");
  EXPECT_EQ(error_for("help = true\n"), "1: 'help' is for the command line only");
  EXPECT_EQ(error_for("version = true\n"), "1: 'version' is for the command line only");
}

TEST(ProxyConfigFile, UnreadableFile) {
  EXPECT_EQ(parse_error({"--config", "/nonexistent/flocker-proxy.conf"}),
            "--config: cannot read /nonexistent/flocker-proxy.conf");
  ConfigFile file("");
  EXPECT_EQ(parse_error({"--config", file.dir()}), "--config: " + file.dir() + " is a directory");
  // An empty file is no error: the flags alone decide.
  EXPECT_EQ(parse_ok({"--config", file.path(), "--engine", "e"}).engine, "e");
}

}  // namespace

TEST(ProxyConfig, CoordinationThroughEtcd) {
  auto plain = parse_ok({"--decider", "127.0.0.1:7070"});
  EXPECT_FALSE(plain.flock.coordination);
  EXPECT_FALSE(plain.flock.coordinated);
  EXPECT_FALSE(plain.flock.proxy_instance.empty());

  auto c = parse_ok({"--decider", "127.0.0.1:7070", "--coordination", "etcd://127.0.0.1:2379,127.0.0.1:22379",
                     "--coordination-ttl", "5", "--coordination-prefix", "/team-a", "--coordination-timeout", "0.5"});
  ASSERT_TRUE(c.flock.coordination);
  EXPECT_TRUE(c.flock.coordinated);
  EXPECT_EQ(c.flock.coordination->etcd.endpoints, (Strings{"127.0.0.1:2379", "127.0.0.1:22379"}));
  EXPECT_EQ(c.flock.coordination->ttl, 5s);
  EXPECT_EQ(c.flock.coordination->prefix, "/team-a/");
  EXPECT_EQ(c.flock.coordination->etcd.timeout, 500ms);
  EXPECT_FALSE(c.flock.coordination->etcd.tls);
}

TEST(ProxyConfig, CoordinationMistakesAreUsageErrors) {
  EXPECT_THAT(parse_error({"--engine", "unix:///var/run/docker.sock", "--coordination", "etcd://127.0.0.1:2379"}),
              HasSubstr("--coordination needs --decider"));
  EXPECT_THAT(parse_error({"--decider", "d:1", "--coordination", "etcd://a:1,,b:2"}),
              HasSubstr("--coordination: etcd endpoints"));
  EXPECT_THAT(parse_error({"--decider", "d:1", "--coordination", "a.example:1,b.example:2"}),
              HasSubstr("each must be an IP address"));
  EXPECT_THAT(parse_error({"--decider", "d:1", "--coordination", "127.0.0.1:2379", "--coordination-ttl", "1"}),
              HasSubstr("--coordination-ttl must be at least 2 seconds"));
  EXPECT_THAT(parse_error({"--decider", "d:1", "--coordination", "127.0.0.1:2379", "--coordination-tls-cert", "/nonexistent"}),
              HasSubstr("/nonexistent"));
}
