// Running a decider: a gRPC server with the Decider service, the standard
// grpc.health.v1.Health service and server reflection.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "flocker/sdk/decider.h"

namespace flocker::sdk {

// TLS for the decider's port (PEM text). With a CA, every client (the proxy) must present
// a certificate it signed: mutual TLS.
struct ServeTls {
  std::string cert_pem, key_pem, client_ca_pem;
  bool enabled() const { return !cert_pem.empty(); }
};

struct ServeOptions {
  // Where to listen, gRPC syntax: "127.0.0.1:7070", "[::1]:0", "unix:/path".
  std::string listen = "127.0.0.1:7070";
  // On shutdown, how long to keep serving while health already answers NOT_SERVING, so
  // that proxies and load balancers watching health stop sending before the port closes.
  std::chrono::milliseconds lame_duck{0};
  // Then, how long in-flight calls get to finish before they are cancelled.
  std::chrono::milliseconds drain{std::chrono::seconds(5)};
  // Called on SIGHUP by serve() (e.g. to re-read a hosts file). Runs on serve()'s thread
  // while the server keeps answering.
  std::function<void()> on_reload;
  // Plaintext when empty.
  ServeTls tls;
  // Where Prometheus scrapes GET /metrics (tcp://HOST:PORT); empty: no metrics listener.
  // Calls by RPC and code, their latency, and Route's decisions by kind and host.
  std::string metrics_listen;
};

// A running decider server. serve() is the usual entry point; Server is for programs and
// tests that manage the lifetime themselves.
class Server {
 public:
  Server(Decider& decider, ServeOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts answering. Throws std::runtime_error when the address cannot be bound.
  void start();
  // The bound TCP port (useful with port 0), or 0 for unix sockets.
  int port() const;
  // Reports NOT_SERVING, keeps serving for lame_duck, then drains in-flight calls for up to
  // drain and stops. Idempotent; safe from any thread.
  void shutdown();
  // Blocks until the server has stopped.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs the decider until SIGINT or SIGTERM, then shuts down as Server::shutdown() does.
// SIGHUP calls options.on_reload. Returns a process exit code: 0 after a clean shutdown,
// 2 when the server could not start (the reason is logged).
int serve(Decider& decider, const ServeOptions& options);

}  // namespace flocker::sdk
