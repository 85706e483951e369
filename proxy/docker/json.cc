#include "docker/json.h"

#include <limits>

#include <boost/beast/core/string.hpp>
#include <cstdio>

namespace flocker::docker {

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  // Runs that need no escape are appended whole (most strings are one such run).
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        char escaped[8];
        std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
        out += escaped;
    }
  }
  out.append(s.substr(run));
  out += '"';
}

void JsonWriter::comma() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.back()) out_ += ',';
  first_.back() = false;
}

JsonWriter& JsonWriter::open(char c) {
  comma();
  out_ += c;
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close(char c) {
  first_.pop_back();
  out_ += c;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  comma();
  append_quoted(out_, k);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
  comma();
  append_quoted(out_, s);
  return *this;
}

JsonWriter& JsonWriter::number(int64_t n) {
  comma();
  out_ += std::to_string(n);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool b) {
  comma();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  comma();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  comma();
  out_ += json;
  return *this;
}

int64_t int_field(const dom::element& obj, std::string_view key, int64_t fallback) {
  dom::element v;
  if (obj.at_key(key).get(v)) return fallback;
  int64_t i;
  if (!v.get_int64().get(i)) return i;
  uint64_t u;
  if (!v.get_uint64().get(u)) return static_cast<int64_t>(u);
  double d;
  if (v.get_double().get(d) || d != d) return fallback;  // (NaN)
  // Clamped: a double out of int64_t's range cast is undefined (an engine's "Created":1e300).
  if (d >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (d <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

std::string_view string_field(const dom::element& obj, std::string_view key) {
  std::string_view s;
  if (obj.at_key(key).get_string().get(s)) return {};
  return s;
}

}  // namespace flocker::docker

namespace flocker::docker {

void for_each_field(const dom::element& obj, std::string_view key,
                    const std::function<void(const dom::element&)>& f) {
  dom::object o;
  if (obj.get(o)) return;
  for (auto field : o) {
    if (boost::beast::iequals(field.key, key)) f(field.value);
  }
}

std::optional<dom::element> go_field(const dom::element& obj, std::string_view key) {
  std::optional<dom::element> out;
  for_each_field(obj, key, [&](const dom::element& v) { out = v; });
  return out;
}

std::string_view go_string(const dom::element& obj, std::string_view key) {
  std::string_view s;
  auto v = go_field(obj, key);
  if (!v || v->get(s)) return {};
  return s;
}

}  // namespace flocker::docker
