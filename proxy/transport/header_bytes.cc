#include "header_bytes.h"

#include <array>
#include <boost/asio/write.hpp>

namespace flocker::transport {
namespace {

void append_version(std::string& out, unsigned version) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

template <class Fields>
void append_fields(std::string& out, const Fields& fields) {
  for (const auto& f : fields) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
}

// Beast's serializer writes a header as many small pieces; as bytes it leaves with the body.
template <class Header>
Task<void> write_whole(Socket& out, const Header& header, std::string_view body, error_code& ec) {
  std::string head;
  head.reserve(256);
  append_header(head, header);
  std::array<asio::const_buffer, 2> parts{asio::buffer(head), asio::buffer(body)};
  co_await asio::async_write(out, parts, ec_token(ec));
}

}  // namespace

void append_header(std::string& out, const http::request_header<>& h) {
  out += h.method_string();
  out += ' ';
  out += h.target();
  out += ' ';
  append_version(out, h.version());
  out += "\r\n";
  append_fields(out, h);
}

void append_header(std::string& out, const http::response_header<>& h) {
  append_version(out, h.version());
  out += ' ';
  out += std::to_string(h.result_int());
  out += ' ';
  auto reason = h.reason();
  out += reason.empty() ? http::obsolete_reason(h.result()) : reason;
  out += "\r\n";
  append_fields(out, h);
}

Task<void> write_message(Socket& out, const http::request_header<>& header, std::string_view body,
                         error_code& ec) {
  co_await write_whole(out, header, body, ec);
}

Task<void> write_message(Socket& out, const http::response_header<>& header, std::string_view body,
                         error_code& ec) {
  co_await write_whole(out, header, body, ec);
}

}  // namespace flocker::transport
