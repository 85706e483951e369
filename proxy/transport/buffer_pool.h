// Relay buffers, lent per read. A stream waits for its socket to become readable holding no
// buffer, borrows one for a read and its write, and gives it back: an idle `logs -f` or
// `events` stream costs no buffer memory at all. One pool per I/O thread, so no lock.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace flocker::transport {

class BufferPool {
 public:
  static constexpr std::size_t kBufferSize = 64 * 1024;
  using Buffer = std::unique_ptr<char[]>;

  Buffer acquire() {
    if (free_.empty()) return std::make_unique_for_overwrite<char[]>(kBufferSize);
    Buffer b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void release(Buffer b) {
    if (b && free_.size() < kMaxFree) free_.push_back(std::move(b));
  }

 private:
  static constexpr std::size_t kMaxFree = 32;
  std::vector<Buffer> free_;
};

}  // namespace flocker::transport
