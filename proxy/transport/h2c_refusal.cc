#include "h2c_refusal.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>

namespace flocker::transport {
namespace {

constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr std::size_t kFrameHeader = 9;
constexpr std::size_t kMaxFrame = 16384;  // SETTINGS_MAX_FRAME_SIZE's default: we ask no more

enum FrameType : uint8_t { kData = 0, kHeaders = 1, kSettings = 4, kPing = 6, kGoAway = 7, kWindowUpdate = 8 };
enum Flags : uint8_t { kAck = 0x1, kEndStream = 0x1, kEndHeaders = 0x4 };

std::string frame(FrameType type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeader + payload.size());
  const auto n = static_cast<uint32_t>(payload.size());
  out += static_cast<char>((n >> 16) & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>(type);
  out += static_cast<char>(flags);
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((stream >> shift) & (shift == 24 ? 0x7f : 0xff));
  out += payload;
  return out;
}

// HPACK's integer with an N-bit prefix (RFC 7541, 5.1), after `first`'s upper bits.
void hpack_integer(std::string& out, uint8_t first, unsigned prefix_bits, std::size_t value) {
  const std::size_t max = (1u << prefix_bits) - 1;
  if (value < max) {
    out += static_cast<char>(first | value);
    return;
  }
  out += static_cast<char>(first | max);
  value -= max;
  while (value >= 128) {
    out += static_cast<char>((value % 128) | 0x80);
    value /= 128;
  }
  out += static_cast<char>(value);
}

// A literal header field without indexing, new name, no Huffman coding (RFC 7541, 6.2.2).
void hpack_literal(std::string& out, std::string_view name, std::string_view value) {
  out += '\0';
  hpack_integer(out, 0, 7, name.size());
  out += name;
  hpack_integer(out, 0, 7, value.size());
  out += value;
}

// grpc-message is percent-encoded (gRPC over HTTP/2: what is not printable ASCII, and '%').
std::string percent_encoded(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

uint32_t be(const unsigned char* p, std::size_t n) {
  uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

bool wants_h2c(const http::request<http::buffer_body>& request) {
  auto it = request.find(http::field::upgrade);
  return it != request.end() && beast::iequals(it->value(), "h2c");
}

std::string grpc_refusal_frame(uint32_t stream, int status, std::string_view message) {
  std::string block;
  block += static_cast<char>(0x88);  // ":status: 200", the static table's entry 8
  hpack_literal(block, "content-type", "application/grpc");
  hpack_literal(block, "grpc-status", std::to_string(status));
  hpack_literal(block, "grpc-message", percent_encoded(message.substr(0, 4096)));
  return frame(kHeaders, kEndStream | kEndHeaders, stream, block);
}

int grpc_status_for(unsigned http_status) {
  switch (http_status) {
    case 400: return 3;   // INVALID_ARGUMENT
    case 401: return 16;  // UNAUTHENTICATED
    case 403: return 7;   // PERMISSION_DENIED
    case 404: return 5;   // NOT_FOUND
    case 409: return 6;   // ALREADY_EXISTS
    case 429: return 8;   // RESOURCE_EXHAUSTED
    case 501: return 12;  // UNIMPLEMENTED
    case 502:
    case 503:
    case 504: return 14;  // UNAVAILABLE
    default: return 2;    // UNKNOWN
  }
}

Task<RefusalBytes> refuse_grpc_calls(Socket& client, beast::flat_buffer& in, int status, std::string_view message,
                                     std::chrono::milliseconds idle) {
  RefusalBytes bytes;
  error_code ec;
  // The upgrade, and (as the server speaks first in HTTP/2) our SETTINGS: none changed.
  const std::string hello = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" +
                            frame(kSettings, 0, 0, "");
  co_await asio::async_write(client, asio::buffer(hello), ec_token(ec));
  if (ec) co_return bytes;
  bytes.out += hello.size();
  bool preface = false;
  uint32_t last_stream = 0;
  asio::steady_timer quiet(client.get_executor());
  for (;;) {
    std::string out;
    // Every whole frame in the buffer.
    for (;;) {
      const auto* data = static_cast<const unsigned char*>(in.data().data());
      const std::size_t size = in.size();
      if (!preface) {
        if (size < kClientPreface.size()) break;
        if (std::string_view(reinterpret_cast<const char*>(data), kClientPreface.size()) != kClientPreface) {
          co_return bytes;
        }
        in.consume(kClientPreface.size());
        preface = true;
        continue;
      }
      if (size < kFrameHeader) break;
      const uint32_t length = be(data, 3);
      if (length > kMaxFrame) co_return bytes;  // more than we allowed: a broken peer
      if (size < kFrameHeader + length) break;
      const uint8_t type = data[3], flags = data[4];
      const uint32_t stream = be(data + 5, 4) & 0x7fffffff;
      const std::string_view payload(reinterpret_cast<const char*>(data + kFrameHeader), length);
      if (type == kSettings && !(flags & kAck)) {
        out += frame(kSettings, kAck, 0, "");
      } else if (type == kPing && !(flags & kAck)) {
        out += frame(kPing, kAck, 0, payload);
      } else if (type == kHeaders && stream > last_stream) {  // a new call: refused
        last_stream = stream;
        out += grpc_refusal_frame(stream, status, message);
      } else if (type == kData && length > 0) {  // sent before it saw the answer: window back
        std::string increment;
        for (int shift = 24; shift >= 0; shift -= 8) increment += static_cast<char>((length >> shift) & 0xff);
        out += frame(kWindowUpdate, 0, 0, increment);
      } else if (type == kGoAway) {
        co_return bytes;
      }
      in.consume(kFrameHeader + length);
    }
    if (!out.empty()) {
      co_await asio::async_write(client, asio::buffer(out), ec_token(ec));
      if (ec) co_return bytes;
      bytes.out += out.size();
    }
    // A client that stays silent (a dialer kept open, unused) is let go after `idle`.
    quiet.expires_after(idle);
    quiet.async_wait([&client](const error_code& e) {
      if (!e) {
        error_code ignored;
        client.cancel(ignored);
      }
    });
    const std::size_t n = co_await client.async_read_some(in.prepare(kMaxFrame + kFrameHeader), ec_token(ec));
    quiet.cancel();
    if (ec) co_return bytes;
    in.commit(n);
    bytes.in += n;
  }
}

}  // namespace flocker::transport
