#include "transport/body_framing.h"
#include "transport/h2c_refusal.h"

#include <gtest/gtest.h>

using flocker::transport::BodyFraming;

namespace {

// Feeds `wire` in pieces of `step` bytes; returns {bytes used, decoded payload}.
std::pair<std::size_t, std::string> feed(BodyFraming& f, const std::string& wire, std::size_t step) {
  std::string payload;
  std::size_t used = 0;
  for (std::size_t i = 0; i < wire.size() && !f.done() && !f.error(); i += step) {
    std::size_t n = std::min(step, wire.size() - i);
    std::size_t u = f.consume(wire.data() + i, n, [&](const char* d, std::size_t k) { payload.append(d, k); });
    used += u;
    if (u < n) break;
  }
  return {used, payload};
}

}  // namespace

TEST(BodyFraming, ChunkedAtEverySplitPoint) {
  const std::string body = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n";
  const std::string next = "GET /next HTTP/1.1\r\n";
  for (std::size_t step = 1; step <= body.size() + next.size(); ++step) {
    auto f = BodyFraming::chunked();
    auto [used, payload] = feed(f, body + next, step);
    ASSERT_TRUE(f.done()) << "step " << step;
    EXPECT_EQ(used, body.size()) << "step " << step;
    EXPECT_EQ(payload, "hello 0123456789") << "step " << step;
    EXPECT_EQ(f.payload_bytes(), 16u);
  }
}

TEST(BodyFraming, ChunkedWithTrailers) {
  auto f = BodyFraming::chunked();
  const std::string body = "3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n";
  auto [used, payload] = feed(f, body, 4);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(used, body.size());
  EXPECT_EQ(payload, "abc");
}

TEST(BodyFraming, MalformedChunkedIsAnError) {
  const std::string cases[] = {"x\r\n", "\r\n", "5\r\nhelloX\r\n", "5\nhello",
                               "3\r\nabc\r\n0\r\nbad\n", "1234567890123456\r\n",
                               "5;" + std::string(5000, 'e') + "\r\n"};
  for (const std::string& bad : cases) {
    auto f = BodyFraming::chunked();
    feed(f, bad, 1);
    EXPECT_TRUE(f.error()) << bad.substr(0, 40);
  }
}

TEST(BodyFraming, ContentLengthStopsAtItsEnd) {
  auto f = BodyFraming::length(5);
  std::string payload;
  std::size_t used = f.consume("helloNEXT", 9, [&](const char* d, std::size_t n) { payload.append(d, n); });
  EXPECT_EQ(used, 5u);
  EXPECT_EQ(payload, "hello");
  EXPECT_TRUE(f.done());
  EXPECT_TRUE(BodyFraming::length(0).done());
  EXPECT_TRUE(BodyFraming::none().done());
}

TEST(BodyFraming, UntilEofEndsOnlyAtEof) {
  auto f = BodyFraming::until_eof();
  EXPECT_EQ(f.consume("abc", 3), 3u);
  EXPECT_FALSE(f.done());
  f.end_of_input();
  EXPECT_TRUE(f.done());
  auto g = BodyFraming::length(10);
  g.end_of_input();  // a short Content-Length body at EOF is not complete
  EXPECT_FALSE(g.done());
}

TEST(H2cRefusal, ATrailersOnlyGrpcAnswer) {
  const std::string frame = flocker::transport::grpc_refusal_frame(3, 7, "no builds here: 100%");
  ASSERT_GE(frame.size(), 9u);
  const std::size_t length = (static_cast<unsigned char>(frame[0]) << 16) | (static_cast<unsigned char>(frame[1]) << 8) |
                             static_cast<unsigned char>(frame[2]);
  EXPECT_EQ(length, frame.size() - 9);
  EXPECT_EQ(frame[3], 1) << "HEADERS";
  EXPECT_EQ(frame[4], 5) << "END_STREAM | END_HEADERS";
  EXPECT_EQ(frame.substr(5, 4), std::string("\0\0\0\3", 4)) << "stream 3";
  EXPECT_EQ(static_cast<unsigned char>(frame[9]), 0x88) << ":status 200, indexed";
  EXPECT_NE(frame.find(std::string("\x0bgrpc-status\x01") + "7"), std::string::npos);
  EXPECT_NE(frame.find("no builds here: 100%25"), std::string::npos) << "percent-encoded";
  EXPECT_EQ(flocker::transport::grpc_status_for(403), 7);
  EXPECT_EQ(flocker::transport::grpc_status_for(503), 14);
  // A long message: its length as an HPACK integer past its 7-bit prefix.
  const std::string longer = flocker::transport::grpc_refusal_frame(1, 2, std::string(300, 'x'));
  EXPECT_NE(longer.find(std::string("grpc-message\x7f\xad\x01", 15)), std::string::npos);
}
