#include "docker/progress.h"

#include "docker/json.h"

namespace flocker::docker {

std::string tag_progress(std::string_view line, std::string_view host) {
  dom::parser parser;
  dom::element e;
  dom::object obj;
  if (parser.parse(line).get(e) || e.get_object().get(obj)) return std::string(line);
  JsonWriter w;
  w.begin_object();
  bool had_id = false;
  for (auto field : obj) {
    w.key(field.key);
    std::string_view s;
    if (field.key == "id" && !field.value.get_string().get(s)) {
      had_id = true;
      w.string(std::string(host) + "/" + std::string(s));
    } else if (field.key == "error" && !field.value.get_string().get(s)) {
      w.string(std::string(host) + ": " + std::string(s));
    } else if (field.key == "errorDetail") {
      dom::object detail;
      if (field.value.get_object().get(detail)) {
        w.value(field.value);
        continue;
      }
      w.begin_object();
      for (auto d : detail) {
        w.key(d.key);
        if (d.key == "message" && !d.value.get_string().get(s)) {
          w.string(std::string(host) + ": " + std::string(s));
        } else {
          w.value(d.value);
        }
      }
      w.end_object();
    } else {
      w.value(field.value);
    }
  }
  if (!had_id) w.key("id").string(host);
  w.end_object();
  return w.take();
}

std::string progress_error(std::string_view message) {
  JsonWriter w;
  w.begin_object().key("errorDetail").begin_object().key("message").string(message).end_object();
  w.key("error").string(message).end_object();
  return w.take();
}

}  // namespace flocker::docker
