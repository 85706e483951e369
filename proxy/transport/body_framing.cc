#include "body_framing.h"

#include <algorithm>
#include <limits>

namespace flocker::transport {
namespace {

constexpr unsigned kMaxLine = 4096;  // chunk extensions and trailer lines
constexpr unsigned kMaxDigits = 15;  // a chunk of up to 2^60 bytes

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

BodyFraming BodyFraming::none() { return {Kind::kNone, State::kDone, 0}; }
BodyFraming BodyFraming::length(uint64_t n) {
  return {Kind::kLength, n ? State::kData : State::kDone, n};
}
BodyFraming BodyFraming::chunked() { return {Kind::kChunked, State::kSize, 0}; }
BodyFraming BodyFraming::until_eof() {
  return {Kind::kUntilEof, State::kData, std::numeric_limits<uint64_t>::max()};
}

void BodyFraming::end_of_input() {
  if (kind_ == Kind::kUntilEof && state_ == State::kData) state_ = State::kDone;
}

std::size_t BodyFraming::consume(const char* data, std::size_t n, const PayloadSink& payload) {
  std::size_t i = 0;
  while (i < n && state_ != State::kDone && state_ != State::kError) {
    if (state_ == State::kData) {
      const std::size_t take = static_cast<std::size_t>(std::min<uint64_t>(remaining_, n - i));
      if (payload) payload(data + i, take);
      payload_bytes_ += take;
      i += take;
      if (kind_ != Kind::kUntilEof) remaining_ -= take;
      if (remaining_ == 0) state_ = kind_ == Kind::kChunked ? State::kDataCR : State::kDone;
      continue;
    }
    const char c = data[i++];
    switch (state_) {
      case State::kSize: {
        int v = hex_value(c);
        if (v >= 0 && digits_ < kMaxDigits) {
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
          ++digits_;
        } else if (digits_ > 0 && (c == ';' || c == ' ' || c == '\t')) {
          state_ = State::kSizeExt, line_ = 0;
        } else if (digits_ > 0 && c == '\r') {
          state_ = State::kSizeLF;
        } else {
          state_ = State::kError;
        }
        break;
      }
      case State::kSizeExt:
        if (c == '\r') {
          state_ = State::kSizeLF;
        } else if (++line_ > kMaxLine || c == '\n') {
          state_ = State::kError;
        }
        break;
      case State::kSizeLF:
        if (c != '\n') {
          state_ = State::kError;
        } else if (remaining_ == 0) {
          state_ = State::kTrailerStart;
        } else {
          state_ = State::kData;
        }
        break;
      case State::kDataCR:
        state_ = c == '\r' ? State::kDataLF : State::kError;
        break;
      case State::kDataLF:
        if (c == '\n') {
          state_ = State::kSize, digits_ = 0, remaining_ = 0;
        } else {
          state_ = State::kError;
        }
        break;
      case State::kTrailerStart:
        if (c == '\r') {
          state_ = State::kFinalLF;
        } else {
          state_ = c == '\n' ? State::kError : State::kTrailerLine, line_ = 1;
        }
        break;
      case State::kTrailerLine:
        if (c == '\r') {
          state_ = State::kTrailerLF;
        } else if (++line_ > kMaxLine || c == '\n') {
          state_ = State::kError;
        }
        break;
      case State::kTrailerLF:
        state_ = c == '\n' ? State::kTrailerStart : State::kError;
        break;
      case State::kFinalLF:
        state_ = c == '\n' ? State::kDone : State::kError;
        break;
      default:
        state_ = State::kError;
    }
  }
  return i;
}

}  // namespace flocker::transport
