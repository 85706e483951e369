// Test helper: run a program of ours as a child process, with its output in a file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace flocker::test {

class Subprocess {
 public:
  // Starts argv[0] with the arguments; stdout and stderr both go to a temporary file.
  explicit Subprocess(std::vector<std::string> argv);
  ~Subprocess();  // SIGKILLs the child if it still runs
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits up to `timeout` for the exit; returns the exit code (128+N when killed by signal N).
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  // Everything the child printed so far.
  std::string output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string output_path_;
};

// Runs to completion (up to `timeout`) and returns {exit code, output}.
std::pair<int, std::string> run(std::vector<std::string> argv,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A unique path under the test temp dir, for unix sockets and files.
std::string temp_path(const std::string& stem);

}  // namespace flocker::test
