#include "docker/merge.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "docker/json.h"
#include "docker/multihost.h"

namespace flocker::docker {
namespace {

// Parsed bodies must outlive their elements: one parser per reply.
struct Parsed {
  std::vector<std::unique_ptr<dom::parser>> parsers;
  std::vector<dom::element> roots;
};

Parsed parse_all(const std::vector<HostBody>& replies) {
  Parsed p;
  for (const auto& r : replies) {
    auto parser = std::make_unique<dom::parser>();
    dom::element root;
    if (parser->parse(r.body).get(root)) {
      throw MergeError("host " + r.host + " answered with invalid JSON");
    }
    p.parsers.push_back(std::move(parser));
    p.roots.push_back(root);
  }
  return p;
}

// Calls f for each item when `e` is an array; nothing for null or anything else.
template <class F>
void for_each_item(const dom::element& e, F&& f) {
  dom::array a;
  if (e.get_array().get(a)) return;
  for (auto item : a) f(item);
}

struct Entry {
  int64_t created;
  std::size_t host;
  dom::element element;
};

void sort_newest_first(std::vector<Entry>& entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.created > b.created; });
}

void write_string_union(JsonWriter& w, const std::vector<dom::element>& arrays) {
  std::vector<std::string_view> seen;
  for (const auto& a : arrays) {
    for_each_item(a, [&](dom::element item) {
      std::string_view s;
      if (!item.get_string().get(s) && std::find(seen.begin(), seen.end(), s) == seen.end()) {
        seen.push_back(s);
      }
    });
  }
  w.begin_array();
  for (auto s : seen) w.string(s);
  w.end_array();
}

std::string images_array(const std::vector<dom::element>& lists) {
  // Entries with the same Id: the first is kept, tags and digests united.
  std::map<std::string_view, std::vector<dom::element>> by_id;
  std::vector<Entry> order;
  for (std::size_t h = 0; h < lists.size(); ++h) {
    for_each_item(lists[h], [&](dom::element img) {
      auto& group = by_id[string_field(img, "Id")];
      if (group.empty()) order.push_back({int_field(img, "Created"), h, img});
      group.push_back(img);
    });
  }
  sort_newest_first(order);
  JsonWriter w;
  w.begin_array();
  for (const auto& e : order) {
    const auto& group = by_id[string_field(e.element, "Id")];
    dom::object obj;
    if (e.element.get_object().get(obj)) continue;
    w.begin_object();
    for (auto field : obj) {
      w.key(field.key);
      if (field.key == "RepoTags" || field.key == "RepoDigests") {
        std::vector<dom::element> arrays;
        for (const auto& g : group) {
          dom::element a;
          if (!g.at_key(field.key).get(a)) arrays.push_back(a);
        }
        write_string_union(w, arrays);
      } else {
        w.value(field.value);
      }
    }
    w.end_object();
  }
  w.end_array();
  return w.take();
}

std::string containers_array(const std::vector<dom::element>& lists,
                             const std::vector<HostBody>& replies, int64_t limit) {
  std::vector<Entry> entries;
  for (std::size_t h = 0; h < lists.size(); ++h) {
    for_each_item(lists[h], [&](dom::element c) { entries.push_back({int_field(c, "Created"), h, c}); });
  }
  sort_newest_first(entries);
  if (limit >= 0 && entries.size() > static_cast<std::size_t>(limit)) entries.resize(limit);
  JsonWriter w;
  w.begin_array();
  for (const auto& e : entries) write_container_entry(w, e.element, replies[e.host].host);
  w.end_array();
  return w.take();
}

std::string unique_by(const std::vector<dom::element>& lists, std::string_view key,
                      bool (*hidden)(const dom::element&) = nullptr) {
  std::unordered_set<std::string_view> seen;
  JsonWriter w;
  w.begin_array();
  for (const auto& list : lists) {
    for_each_item(list, [&](dom::element item) {
      if (hidden && hidden(item)) return;
      if (seen.insert(string_field(item, key)).second) w.value(item);
    });
  }
  w.end_array();
  return w.take();
}

std::vector<dom::element> fields_of(const std::vector<dom::element>& roots, std::string_view key) {
  std::vector<dom::element> out;
  for (const auto& r : roots) {
    dom::element v;
    if (!r.at_key(key).get(v)) out.push_back(v);
  }
  return out;
}

}  // namespace

void write_container_entry(JsonWriter& w, const dom::element& entry, std::string_view host, EntrySpans* spans) {
  dom::object obj;
  if (entry.get_object().get(obj)) {
    w.value(entry);
    return;
  }
  w.begin_object();
  bool labels_seen = false;
  for (auto field : obj) {
    w.key(field.key);
    if (field.key != "Labels") {
      const std::size_t at = w.str().size();
      w.value(field.value);
      if (spans && field.key == "Image") spans->image = {at, w.str().size() - at};
      if (spans && field.key == "Status") spans->status = {at, w.str().size() - at};
      continue;
    }
    labels_seen = true;
    w.begin_object();
    dom::object labels;
    if (!field.value.get_object().get(labels)) {
      for (auto l : labels) {
        if (l.key == kHostLabel) continue;
        w.key(l.key).value(l.value);
      }
    }
    w.key(kHostLabel).string(host);
    w.end_object();
  }
  if (!labels_seen) w.key("Labels").begin_object().key(kHostLabel).string(host).end_object();
  w.end_object();
}

std::string merge_container_lists(const std::vector<HostBody>& replies, int64_t limit) {
  auto p = parse_all(replies);
  return containers_array(p.roots, replies, limit);
}

std::string merge_image_lists(const std::vector<HostBody>& replies) {
  auto p = parse_all(replies);
  return images_array(p.roots);
}

std::string keep_tags(std::string_view images,
                      const std::function<bool(std::string_view tag, std::string_view id)>& names) {
  dom::parser parser;
  dom::array list;
  if (parser.parse(images.data(), images.size()).get_array().get(list)) return std::string(images);
  constexpr std::string_view kNoTag = "<none>:<none>", kNoDigest = "<none>@<none>";
  JsonWriter w;
  w.begin_array();
  for (auto img : list) {
    dom::object obj;
    if (img.get_object().get(obj)) continue;
    const std::string_view id = string_field(img, "Id");
    std::vector<std::string_view> tags, digests;
    dom::element named;
    if (!img["RepoTags"].get(named)) {
      for_each_item(named, [&](dom::element t) {
        std::string_view s;
        if (!t.get_string().get(s) && s != kNoTag && names(s, id)) tags.push_back(s);
      });
    }
    if (!img["RepoDigests"].get(named)) {
      for_each_item(named, [&](dom::element d) {
        std::string_view s;
        if (!d.get_string().get(s) && s != kNoDigest) digests.push_back(s);
      });
    }
    const bool dangling = tags.empty() && digests.empty();  // (dockerd's words for one)
    w.begin_object();
    for (auto field : obj) {
      w.key(field.key);
      if (field.key == "RepoTags" || (field.key == "RepoDigests" && dangling)) {
        w.begin_array();
        if (dangling) w.string(field.key == "RepoTags" ? kNoTag : kNoDigest);
        for (auto t : tags) w.string(t);
        w.end_array();
      } else {
        w.value(field.value);
      }
    }
    w.end_object();
  }
  w.end_array();
  return w.take();
}

std::string merge_network_lists(const std::vector<HostBody>& replies) {
  auto p = parse_all(replies);
  // A swarm's own networks (its routing mesh, its nodes' gateway bridge) are the engines'
  // plumbing for multi-host networks: one engine outside a swarm has neither.
  return unique_by(p.roots, "Name", [](const dom::element& n) {
    dom::element ingress;
    return is_swarm_internal_network(string_field(n, "Name"),
                                     !n["Ingress"].get(ingress) && ingress.is_bool() && bool(ingress));
  });
}

std::string merge_volume_lists(const std::vector<HostBody>& replies) {
  auto p = parse_all(replies);
  JsonWriter w;
  w.begin_object().key("Volumes").raw(unique_by(fields_of(p.roots, "Volumes"), "Name"));
  std::vector<std::string_view> warnings;
  for (auto list : fields_of(p.roots, "Warnings")) {
    for_each_item(list, [&](dom::element item) {
      std::string_view s;
      if (!item.get_string().get(s)) warnings.push_back(s);
    });
  }
  w.key("Warnings");
  if (warnings.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (auto s : warnings) w.string(s);
    w.end_array();
  }
  return w.end_object().take();
}

std::optional<std::string> with_warnings(std::string_view object, const std::vector<std::string>& extra) {
  dom::parser parser;
  dom::object root;
  if (parser.parse(object.data(), object.size()).get_object().get(root)) return std::nullopt;
  dom::element warnings;
  if (root["Warnings"].get(warnings)) return std::nullopt;
  JsonWriter w;
  w.begin_object();
  for (auto field : root) {
    w.key(field.key);
    if (field.key != "Warnings") {
      w.value(field.value);
      continue;
    }
    w.begin_array();
    for_each_item(field.value, [&](dom::element item) { w.value(item); });
    for (const auto& s : extra) w.string(s);
    w.end_array();
  }
  return w.end_object().take();
}

std::string merge_system_df(const std::vector<HostBody>& replies) {
  auto p = parse_all(replies);
  int64_t layers = 0;
  for (const auto& r : p.roots) layers += int_field(r, "LayersSize");
  std::vector<dom::element> caches = fields_of(p.roots, "BuildCache");
  JsonWriter w;
  w.begin_object().key("LayersSize").number(layers);
  w.key("Images").raw(images_array(fields_of(p.roots, "Images")));
  w.key("Containers").raw(containers_array(fields_of(p.roots, "Containers"), replies, -1));
  w.key("Volumes").raw(unique_by(fields_of(p.roots, "Volumes"), "Name"));
  w.key("BuildCache").begin_array();
  for (const auto& list : caches) for_each_item(list, [&](dom::element item) { w.value(item); });
  w.end_array();
  return w.end_object().take();
}

std::string merge_prune_reports(const std::vector<HostBody>& replies) {
  auto p = parse_all(replies);
  // Keys in first-seen order; arrays joined (null when empty, as docker sends), numbers summed.
  std::vector<std::string_view> keys;
  for (const auto& r : p.roots) {
    dom::object obj;
    if (r.get_object().get(obj)) continue;
    for (auto f : obj) {
      if (std::find(keys.begin(), keys.end(), f.key) == keys.end()) keys.push_back(f.key);
    }
  }
  JsonWriter w;
  w.begin_object();
  for (auto key : keys) {
    auto values = fields_of(p.roots, key);
    bool numeric = !values.empty();
    for (const auto& v : values) numeric = numeric && v.is_number();
    w.key(key);
    if (numeric) {
      int64_t sum = 0;
      for (const auto& r : p.roots) sum += int_field(r, key);
      w.number(sum);
      continue;
    }
    std::vector<dom::element> items;
    for (const auto& v : values) for_each_item(v, [&](dom::element item) { items.push_back(item); });
    if (items.empty()) {
      w.null();
    } else {
      w.begin_array();
      for (const auto& item : items) w.value(item);
      w.end_array();
    }
  }
  return w.end_object().take();
}

}  // namespace flocker::docker
