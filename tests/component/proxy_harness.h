// Test harness: flocker-proxy's transport in-process, in single-engine mode, in front of a
// FakeEngine (or any address).
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>

#include "docker/single_engine_handler.h"
#include "fake_engine.h"
#include "raw_client.h"
#include "subprocess.h"
#include "transport/server.h"

namespace flocker::test {

struct ProxyHarness {
  explicit ProxyHarness(const std::string& engine_address, transport::ServerOptions options = {}) {
    if (options.listen.empty()) options.listen = {"tcp://127.0.0.1:0"};
    if (options.threads == 0) options.threads = 1;
    handler = std::make_unique<docker::SingleEngineHandler>(transport::resolve_address(engine_address));
    server = std::make_unique<transport::Server>(options, *handler);
    server->start();
  }
  ~ProxyHarness() {
    server->shutdown();
    server->wait();
  }
  std::string address(std::size_t i = 0) const { return server->bound().at(i).text; }

  std::unique_ptr<docker::SingleEngineHandler> handler;
  std::unique_ptr<transport::Server> server;
};

}  // namespace flocker::test
