// Test helper: an in-process HTTP server playing a Docker engine, with scripted behaviours
// for the transport's edge cases. Blocking, a thread per connection: simple over fast.
//
//   GET  /_ping                     200 "OK" with docker's negotiation headers
//   GET  /headers                   200, the request's headers as "Name: value" lines
//   POST|PUT /sink                  reads the body (any framing) as a stream; answers
//                                   "bytes=N sum=S" (S: a checksum of the bytes)
//   POST /echo                      answers the request body, with the request's framing
//   GET  /stream?bytes=N            N pattern bytes, chunked; stream_bytes() counts what was
//                                   written (a slow client must hold it back)
//   GET  /stream-length?bytes=N     the same with Content-Length
//   GET  /until-eof?bytes=N         the same with no framing: the body ends at close
//   POST /hijack                    101 UPGRADED, then echoes until the client's EOF, then
//                                   writes "[eof]" and closes
//   POST /hijack-server-first       101, writes "server done", shuts its write half, then
//                                   reads until EOF into received_after_half_close()
//   POST /legacy-hijack             200 application/vnd.docker.raw-stream without framing,
//                                   then echoes as /hijack
//   GET  /idle-stream               200 chunked, one chunk "first\n", then nothing until the
//                                   peer closes; idle_streams_closed() counts those closes
//   GET  /hang                      reads the request, never answers
//   GET  /close                     closes without answering
//   anything else                   404 {"message":"page not found"}
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace flocker::test {

// The byte at offset i of every pattern stream; checksum() of a stream is comparable.
inline char pattern_byte(uint64_t i) { return static_cast<char>('a' + (i * 7 + (i >> 12)) % 26); }
uint64_t checksum_update(uint64_t sum, const char* data, std::size_t n);

class FakeEngine {
 public:
  // Listens on 127.0.0.1:0, or on the unix socket `unix_path` when given.
  explicit FakeEngine(const std::string& unix_path = "");
  ~FakeEngine();
  FakeEngine(const FakeEngine&) = delete;
  FakeEngine& operator=(const FakeEngine&) = delete;

  // "tcp://127.0.0.1:PORT" or "unix:///path".
  std::string address() const { return address_; }
  int port() const { return port_; }

  uint64_t connections() const { return connections_; }
  uint64_t requests() const { return requests_; }
  uint64_t stream_bytes() const { return stream_bytes_; }
  uint64_t idle_streams_closed() const { return idle_streams_closed_; }
  std::string received_after_half_close() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string address_;
  int port_ = 0;
  std::atomic<uint64_t> connections_{0}, requests_{0}, stream_bytes_{0}, idle_streams_closed_{0};
  mutable std::mutex mu_;
  std::string received_after_half_close_;
  friend struct Impl;
};

}  // namespace flocker::test
