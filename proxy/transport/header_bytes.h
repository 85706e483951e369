// An HTTP header as the bytes that go on the wire, so that a header and the first body bytes
// can leave in one write (Beast's serializer writes a header as many small pieces).
#pragma once

#include <string>

#include "net.h"

namespace flocker::transport {

void append_header(std::string& out, const http::request_header<>& header);
void append_header(std::string& out, const http::response_header<>& header);

}  // namespace flocker::transport
