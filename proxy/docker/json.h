// JSON for the Docker layer: simdjson's DOM to read engine answers (fast, exact int64), and a
// small writer to compose the proxy's own answers. Sub-values that pass through unchanged
// are copied as minified JSON.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flocker::docker {

namespace dom = simdjson::dom;

class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view s);
  JsonWriter& number(int64_t n);
  JsonWriter& boolean(bool b);
  JsonWriter& null();
  JsonWriter& raw(std::string_view json);  // an already serialized value
  JsonWriter& value(const dom::element& e) { return raw(simdjson::minify(e)); }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  JsonWriter& open(char c);
  JsonWriter& close(char c);
  void comma();
  std::string out_;
  std::vector<bool> first_{true};
  bool after_key_ = false;
};

// Writes `s` as a JSON string literal (quotes included) onto `out`.
void append_quoted(std::string& out, std::string_view s);

// Field access that tolerates absence and wrong types (engines differ by version).
int64_t int_field(const dom::element& obj, std::string_view key, int64_t fallback = 0);
std::string_view string_field(const dom::element& obj, std::string_view key);

// Request bodies are read the way the engine's decoder (Go's encoding/json) reads them: keys
// match struct fields case-insensitively, and of repeated keys the last one wins.
// Every value of `key` in `obj` (all repeats: what a policy must check).
void for_each_field(const dom::element& obj, std::string_view key,
                    const std::function<void(const dom::element&)>& f);
// The value the engine uses: the last of the keys matching `key`.
std::optional<dom::element> go_field(const dom::element& obj, std::string_view key);
// go_field as a string; empty when absent or not a string.
std::string_view go_string(const dom::element& obj, std::string_view key);

}  // namespace flocker::docker
