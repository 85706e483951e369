#include "docker/build_context.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace flocker::docker {
namespace {

constexpr std::size_t kBlock = 512;

std::string_view trim_dot_slash(std::string_view s) {
  while (s.starts_with("./")) s.remove_prefix(2);
  return s;
}

// A NUL-terminated field of a header.
std::string_view field(std::string_view header, std::size_t at, std::size_t len) {
  std::string_view f = header.substr(at, len);
  return f.substr(0, f.find('\0'));
}

std::optional<uint64_t> octal(std::string_view f) {
  uint64_t v = 0;
  bool any = false;
  for (char c : f) {
    if (c == ' ' || c == '\0') {
      if (any) break;
      continue;
    }
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + static_cast<uint64_t>(c - '0');
    any = true;
  }
  return v;
}

// PAX records "LEN key=value\n": the value of "path", if any.
std::optional<std::string> pax_path(std::string_view records) {
  while (!records.empty()) {
    const auto space = records.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    std::size_t len = 0;
    for (char c : records.substr(0, space)) {
      if (c < '0' || c > '9') return std::nullopt;
      len = len * 10 + static_cast<std::size_t>(c - '0');
    }
    if (len <= space || len > records.size()) return std::nullopt;
    std::string_view record = records.substr(space + 1, len - space - 1);
    if (record.ends_with('\n')) record.remove_suffix(1);
    if (record.starts_with("path=")) return std::string(record.substr(5));
    records.remove_prefix(len);
  }
  return std::nullopt;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// $NAME, ${NAME} and ${NAME:-default} replaced from `vars`; nullopt when one is unknown.
std::optional<std::string> substitute(std::string_view s, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (s[i] != '$') {
      out += s[i];
      continue;
    }
    std::string name, fallback;
    bool has_fallback = false;
    if (i + 1 < s.size() && s[i + 1] == '{') {
      const auto close = s.find('}', i + 2);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view inner = s.substr(i + 2, close - i - 2);
      if (auto dash = inner.find(":-"); dash != std::string_view::npos) {
        fallback = std::string(inner.substr(dash + 2));
        has_fallback = true;
        inner = inner.substr(0, dash);
      }
      name = std::string(inner);
      i = close;
    } else {
      std::size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      name = std::string(s.substr(i + 1, j - i - 1));
      i = j - 1;
    }
    auto it = vars.find(name);
    if (it != vars.end() && !(has_fallback && it->second.empty())) {
      out += it->second;
    } else if (has_fallback) {
      out += fallback;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// The Dockerfile's instructions: continuation lines joined, comments and blank lines gone.
std::vector<std::string> instructions(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  std::size_t at = 0;
  while (at <= text.size()) {
    auto nl = text.find('\n', at);
    std::string_view line = text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    at = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    if (line[first] == '#') continue;  // a comment (or a parser directive)
    line.remove_prefix(first);
    const auto last = line.find_last_not_of(" \t");
    line = line.substr(0, last + 1);
    if (line.ends_with('\\')) {
      current += std::string(line.substr(0, line.size() - 1)) + " ";
      continue;
    }
    current += line;
    out.push_back(std::move(current));
    current.clear();
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    const auto start = s.find_first_not_of(" \t", at);
    if (start == std::string_view::npos) break;
    const auto end = s.find_first_of(" \t", start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    at = end == std::string_view::npos ? s.size() : end;
  }
  return out;
}

}  // namespace

std::optional<std::string> file_in_tar(std::string_view tar, std::string_view name) {
  name = trim_dot_slash(name);
  std::optional<std::string> long_name;  // from a GNU 'L' entry or a PAX 'x' header
  std::size_t at = 0;
  while (at + kBlock <= tar.size()) {
    const std::string_view header = tar.substr(at, kBlock);
    if (header.find_first_not_of('\0') == std::string_view::npos) return std::nullopt;  // the end
    if (field(header, 257, 5) != "ustar" && !header.substr(257, 8).starts_with("ustar  ")) return std::nullopt;
    const auto size = octal(field(header, 124, 12));
    if (!size) return std::nullopt;
    const char type = header[156];
    const std::size_t data = at + kBlock;
    const std::size_t next = data + (*size + kBlock - 1) / kBlock * kBlock;
    if (type == 'L' || type == 'x') {
      if (data + *size > tar.size()) return std::nullopt;
      const std::string_view content = tar.substr(data, *size);
      if (type == 'L') {
        long_name = std::string(content.substr(0, content.find('\0')));
      } else if (auto path = pax_path(content)) {
        long_name = std::move(path);
      }
      at = next;
      continue;
    }
    std::string path;
    if (long_name) {
      path = std::move(*long_name);
      long_name.reset();
    } else {
      const std::string_view prefix = field(header, 345, 155);
      path = prefix.empty() ? std::string(field(header, 0, 100))
                            : std::string(prefix) + "/" + std::string(field(header, 0, 100));
    }
    if ((type == '0' || type == '\0') && trim_dot_slash(path) == name) {
      if (data + *size > tar.size()) return std::nullopt;  // cut off by the prefix
      return std::string(tar.substr(data, *size));
    }
    at = next;
  }
  return std::nullopt;
}

std::vector<std::string> dockerfile_images(std::string_view dockerfile,
                                           const std::map<std::string, std::string>& build_args) {
  std::vector<std::string> out;
  std::map<std::string, std::string> vars;  // the ARGs declared before the first FROM
  std::set<std::string> stages;             // names (lower case) and numbers of earlier stages
  bool seen_from = false;
  int stage = 0;
  auto add = [&](const std::string& ref) {
    if (ref.empty() || lower(ref) == "scratch" || stages.count(lower(ref))) return;
    if (std::find(out.begin(), out.end(), ref) == out.end()) out.push_back(ref);
  };
  for (const auto& line : instructions(dockerfile)) {
    auto w = words(line);
    if (w.empty()) continue;
    const std::string op = lower(w[0]);
    if (op == "arg" && !seen_from && w.size() >= 2) {
      const auto eq = w[1].find('=');
      const std::string name = w[1].substr(0, eq);
      auto given = build_args.find(name);
      if (given != build_args.end()) {
        vars[name] = given->second;
      } else if (eq != std::string::npos) {
        std::string value = w[1].substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
          value = value.substr(1, value.size() - 2);
        }
        vars[name] = value;
      }
    } else if (op == "from") {
      seen_from = true;
      std::size_t i = 1;
      while (i < w.size() && w[i].starts_with("--")) ++i;  // --platform=...
      if (i < w.size()) {
        if (auto ref = substitute(w[i], vars)) add(*ref);
      }
      if (i + 2 < w.size() && lower(w[i + 1]) == "as") stages.insert(lower(w[i + 2]));
      stages.insert(std::to_string(stage++));
    } else if (op == "copy") {
      for (std::size_t i = 1; i < w.size() && w[i].starts_with("--"); ++i) {
        if (w[i].starts_with("--from=")) {
          if (auto ref = substitute(w[i].substr(7), vars)) add(*ref);
        }
      }
    }
  }
  return out;
}

}  // namespace flocker::docker
