#include "docker/api_target.h"

#include <cctype>

namespace flocker::docker {

std::string ApiTarget::rebuild(std::string_view new_query) const {
  std::string out = version.empty() ? path : "/v" + version + path;
  if (!new_query.empty()) {
    out += '?';
    out += new_query;
  }
  return out;
}

ApiTarget parse_target(std::string_view target) {
  ApiTarget t;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) t.query = std::string(target.substr(q + 1));
  // "/v1.41/..." : a 'v', digits and dots, then '/'.
  if (path.size() > 2 && path[0] == '/' && path[1] == 'v' && std::isdigit(static_cast<unsigned char>(path[2]))) {
    auto slash = path.find('/', 1);
    std::string_view v = path.substr(2, slash == std::string_view::npos ? path.npos : slash - 2);
    bool numeric = !v.empty();
    for (char c : v) numeric = numeric && (std::isdigit(static_cast<unsigned char>(c)) || c == '.');
    if (numeric) {
      t.version = std::string(v);
      path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
    }
  }
  t.path = std::string(path);
  return t;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

template <class F>
void each_param(std::string_view query, F&& f) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    f(item.substr(0, eq), eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1),
      item);
  }
}

}  // namespace

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  std::optional<std::string> out;
  each_param(query, [&](std::string_view k, std::string_view v, std::string_view) {
    if (!out && url_decode(k) == key) out = url_decode(v);
  });
  return out;
}

std::vector<std::string> query_params(std::string_view query, std::string_view key) {
  std::vector<std::string> out;
  each_param(query, [&](std::string_view k, std::string_view v, std::string_view) {
    if (url_decode(k) == key) out.push_back(url_decode(v));
  });
  return out;
}

std::vector<std::pair<std::string, std::string>> query_pairs(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  each_param(query, [&](std::string_view k, std::string_view v, std::string_view) {
    out.emplace_back(url_decode(k), url_decode(v));
  });
  return out;
}

std::string with_query_param(std::string_view query, std::string_view key,
                             const std::optional<std::string>& value) {
  std::string out;
  auto add = [&](std::string_view item) {
    if (!out.empty()) out += '&';
    out += item;
  };
  each_param(query, [&](std::string_view k, std::string_view, std::string_view item) {
    if (url_decode(k) != key) add(item);
  });
  if (value) add(std::string(key) + "=" + url_encode(*value));
  return out;
}

bool query_true(std::string_view query, std::string_view key) {
  auto v = query_param(query, key);
  return v && (*v == "1" || *v == "true" || *v == "True");
}

}  // namespace flocker::docker
