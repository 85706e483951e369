// Test helper: the flocker-proxy binary as a child process, listening on a unix socket of its
// own in front of one engine; the constructor returns once it answers.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "raw_client.h"
#include "subprocess.h"

namespace flocker::test {

struct ProxyProcess {
  ProxyProcess(const std::string& binary, const std::string& engine, std::vector<std::string> extra = {})
      : socket_path(temp_path("proxy") + ".sock"), process(args(binary, engine, std::move(extra))) {
    for (int i = 0; i < 500; ++i) {
      try {
        RawClient probe(address());
        return;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    ADD_FAILURE() << "flocker-proxy did not start: " << process.output();
  }
  std::string address() const { return "unix://" + socket_path; }

  std::string socket_path;
  Subprocess process;

 private:
  std::vector<std::string> args(const std::string& binary, const std::string& engine,
                                std::vector<std::string> extra) const {
    std::vector<std::string> a{binary, "--listen", "unix://" + socket_path, "--engine", engine,
                               "--access-log", "off", "--threads", "2"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

}  // namespace flocker::test
