// flocker-fake-engine: the tests' FakeEngine as a program, for benchmarks that need an
// engine whose own cost is near zero (streaming throughput, many simulated engines).
//   flocker-fake-engine [unix:///path]     prints its address, runs until SIGTERM/SIGINT
#include <signal.h>

#include <iostream>

#include "fake_engine.h"

int main(int argc, char** argv) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::string unix_path;
  if (argc > 1) {
    std::string arg = argv[1];
    if (arg.rfind("unix://", 0) != 0) {
      std::cerr << "usage: flocker-fake-engine [unix:///path]\n";
      return 2;
    }
    unix_path = arg.substr(7);
  }
  flocker::test::FakeEngine engine(unix_path);
  std::cout << engine.address() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
