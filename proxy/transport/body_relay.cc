#include "body_relay.h"

#include <memory>

namespace flocker::transport {

template <bool isRequest>
Task<RelayEnd> relay_body(Socket& in, beast::flat_buffer& in_buffer,
                          http::parser<isRequest, http::buffer_body>& parser, Socket& out,
                          http::serializer<isRequest, http::buffer_body>& serializer,
                          uint64_t& bytes) {
  std::size_t size = kMinRelayBuffer;
  auto buffer = std::make_unique<char[]>(size);
  auto& body = parser.get().body();
  error_code ec;
  while (!serializer.is_done()) {
    std::size_t n = 0;
    if (!parser.is_done()) {
      body.data = buffer.get();
      body.size = size;
      co_await http::async_read_some(in, in_buffer, parser, ec_token(ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return RelayEnd::kInputFailed;
      n = size - body.size;
    }
    body.data = n ? buffer.get() : nullptr;
    body.size = n;
    body.more = !parser.is_done();
    co_await http::async_write(out, serializer, ec_token(ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return RelayEnd::kOutputFailed;
    bytes += n;
    if (n == size && size < kMaxRelayBuffer) {  // the stream keeps up: read more at a time
      size *= 2;
      buffer = std::make_unique<char[]>(size);
      in_buffer.reserve(size);
    }
  }
  co_return RelayEnd::kDone;
}

template Task<RelayEnd> relay_body<true>(Socket&, beast::flat_buffer&,
                                         http::parser<true, http::buffer_body>&, Socket&,
                                         http::serializer<true, http::buffer_body>&, uint64_t&);
template Task<RelayEnd> relay_body<false>(Socket&, beast::flat_buffer&,
                                          http::parser<false, http::buffer_body>&, Socket&,
                                          http::serializer<false, http::buffer_body>&, uint64_t&);

}  // namespace flocker::transport
