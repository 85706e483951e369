// Fuzzes transport::BodyFraming, the scanner that finds where a relayed body ends on the
// wire (chunked framing above all: a client or an engine controls every byte of it, and a
// disagreement about where a message ends is request smuggling / response splitting).
// The input is a chunked body (or, by its first byte, a Content-Length or until-EOF body),
// fed once whole and once in random pieces (the split drawn from the input's first bytes).
// Checks: consume() never takes more than it is given; the pieces take the same bytes, yield
// the same payload (the concatenation of the sink's pieces) and end in the same state as the
// whole; payload_bytes() counts the payload; a finished body takes nothing more; and where
// Beast's own chunked parser also finds a complete body, both agree on its end and payload.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "transport/body_framing.h"
#include "transport/net.h"

using flocker::transport::BodyFraming;
namespace http = flocker::transport::http;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

struct Run {
  std::size_t taken = 0;
  std::string payload;
  bool done = false, error = false;
  uint64_t payload_bytes = 0;
};

BodyFraming make(uint8_t kind, std::string_view& rest) {
  switch (kind % 8) {
    case 0: {  // Content-Length: the next 2 bytes are the length
      uint64_t n = 0;
      for (int i = 0; i < 2 && !rest.empty(); ++i, rest.remove_prefix(1)) {
        n = n * 256 + static_cast<uint8_t>(rest[0]);
      }
      return BodyFraming::length(n);
    }
    case 1:
      return BodyFraming::until_eof();
    case 2:
      return BodyFraming::none();
    default:
      return BodyFraming::chunked();
  }
}

Run feed(uint8_t kind, std::string_view body, uint32_t seed, bool split) {
  Run r;
  BodyFraming f = make(kind, body);
  auto sink = [&](const char* p, std::size_t n) { r.payload.append(p, n); };
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t piece = body.size() - at;
    if (split) {
      seed = seed * 1103515245u + 12345u;
      piece = std::min<std::size_t>(piece, 1 + (seed >> 16) % 7);  // 1..7 bytes at a time
    }
    // A copy of just this piece: ASan sees any read past what was given.
    std::string copy(body.substr(at, piece));
    const std::size_t took = f.consume(copy.data(), copy.size(), sink);
    if (took > piece) fail("consumed more than given");
    r.taken += took;
    at += took;
    if (f.done() || f.error()) break;
    if (took != piece) fail("stopped early without ending the body");
  }
  if (f.done()) {
    char extra[4] = {'0', '\r', '\n', 'x'};
    if (f.consume(extra, sizeof extra, sink) != 0) fail("a finished body took more bytes");
  }
  f.end_of_input();
  r.done = f.done();
  r.error = f.error();
  r.payload_bytes = f.payload_bytes();
  if (r.payload_bytes != r.payload.size()) fail("payload_bytes() differs from the payload");
  return r;
}

// Beast's chunked body parser on the same bytes, as a response body.
bool beast_chunked(std::string_view body, std::size_t& end, std::string& payload) {
  std::string msg = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::size_t head = msg.size();
  msg.append(body);
  http::response_parser<http::string_body> p;
  p.body_limit(flocker::transport::kUnlimitedBody);
  p.eager(true);
  boost::system::error_code ec;
  const std::size_t used = p.put(boost::asio::buffer(msg), ec);
  if (ec || !p.is_done()) return false;
  end = used - head;
  payload = p.get().body();
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t kind = data[0];
  const uint32_t seed = data[1] | (static_cast<uint32_t>(data[2]) << 8);
  const std::string_view body(reinterpret_cast<const char*>(data) + 3, size - 3);

  const Run whole = feed(kind, body, seed, false);
  const Run pieces = feed(kind, body, seed, true);
  if (whole.taken != pieces.taken) fail("split input: different end");
  if (whole.payload != pieces.payload) fail("split input: different payload");
  if (whole.done != pieces.done || whole.error != pieces.error) fail("split input: different state");

  if (kind % 8 >= 3 && whole.done) {
    std::size_t end = 0;
    std::string payload;
    if (beast_chunked(body, end, payload)) {
      if (end != whole.taken) fail("Beast ends the chunked body elsewhere");
      if (payload != whole.payload) fail("Beast decodes another payload");
    }
  }
  return 0;
}
