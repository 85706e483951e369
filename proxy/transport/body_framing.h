// Where an HTTP body ends on the wire. Bodies are relayed as raw bytes with their framing
// untouched (chunked stays chunked, byte for byte); this tracks the framing so that the relay
// knows where the message ends and the next one begins, and can hand out the payload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace flocker::transport {

class BodyFraming {
 public:
  static BodyFraming none();                 // no body (HEAD, 204, 304, bodyless requests)
  static BodyFraming length(uint64_t n);     // Content-Length
  static BodyFraming chunked();              // Transfer-Encoding: chunked
  static BodyFraming until_eof();            // a response body that ends when the peer closes

  // Takes wire bytes; returns how many belong to this body (the rest, if any, starts the
  // next message). Calls `payload` with the decoded body bytes (chunk data without framing).
  // Malformed chunked framing sets error() and stops.
  using PayloadSink = std::function<void(const char*, std::size_t)>;
  std::size_t consume(const char* data, std::size_t n, const PayloadSink& payload = nullptr);

  // The peer closed: the body is complete if it was an until-EOF body.
  void end_of_input();

  bool done() const { return state_ == State::kDone; }
  bool error() const { return state_ == State::kError; }
  bool is_until_eof() const { return kind_ == Kind::kUntilEof; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_length() const { return kind_ == Kind::kLength; }
  uint64_t payload_bytes() const { return payload_bytes_; }

 private:
  enum class Kind { kNone, kLength, kChunked, kUntilEof };
  enum class State {
    kData, kSize, kSizeExt, kSizeLF, kDataCR, kDataLF,
    kTrailerStart, kTrailerLine, kTrailerLF, kFinalLF, kDone, kError
  };
  BodyFraming(Kind kind, State state, uint64_t remaining)
      : kind_(kind), state_(state), remaining_(remaining) {}

  Kind kind_;
  State state_;
  uint64_t remaining_;   // bytes left in the body (length) or in the current chunk
  unsigned digits_ = 0;  // hex digits of the current chunk size
  unsigned line_ = 0;    // length of the current extension or trailer line
  uint64_t payload_bytes_ = 0;
};

}  // namespace flocker::transport
