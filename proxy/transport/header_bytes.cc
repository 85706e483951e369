#include "header_bytes.h"

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

}  // namespace flocker::transport
