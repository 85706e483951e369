// An HTTP header as the bytes that go on the wire, so that a header and the first body bytes
// can leave in one write (Beast's serializer writes a header as many small pieces).
#pragma once

#include <string>
#include <string_view>

#include "net.h"

namespace flocker::transport {

void append_header(std::string& out, const http::request_header<>& header);
void append_header(std::string& out, const http::response_header<>& header);

// A whole message, header and body, in one write.
Task<void> write_message(Socket& out, const http::request_header<>& header, std::string_view body,
                         error_code& ec);
Task<void> write_message(Socket& out, const http::response_header<>& header, std::string_view body,
                         error_code& ec);

}  // namespace flocker::transport
