// flocker-fake-flock: many simulated engines in one process, for the fan-out benchmark.
//   flocker-fake-flock ENGINES CONTAINERS PORT_BASE
// Starts ENGINES FakeDocker engines on 127.0.0.1:PORT_BASE+1.., each holding CONTAINERS
// containers, prints a flocker-decider hosts file on stdout, and runs until SIGTERM/SIGINT.
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "fake_docker.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: flocker-fake-flock ENGINES CONTAINERS PORT_BASE\n";
    return 2;
  }
  const int engines = std::stoi(argv[1]), containers = std::stoi(argv[2]), base = std::stoi(argv[3]);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::vector<std::unique_ptr<flocker::test::FakeDocker>> flock;
  for (int e = 1; e <= engines; ++e) {
    auto engine = std::make_unique<flocker::test::FakeDocker>("sim" + std::to_string(e), base + e);
    engine->add_image("app:latest");
    for (int c = 0; c < containers; ++c) {
      engine->add_container("s" + std::to_string(e) + "-c" + std::to_string(c), "app", 1000 + c * engines + e);
    }
    std::cout << engine->address() << " sim" << e << "\n";
    flock.push_back(std::move(engine));
  }
  std::cout.flush();
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
