#include "docker/swarm_rules.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <cctype>
#include <regex>

#include "docker/bounded_regex.h"
#include <tuple>

#include "docker/json.h"

namespace flocker::docker {
namespace {

constexpr std::string_view kConstraint = "constraint:", kAffinity = "affinity:";
constexpr std::string_view kConstraintsLabel = "com.docker.swarm.constraints";
constexpr std::string_view kAffinitiesLabel = "com.docker.swarm.affinities";

bool valid_key(std::string_view k) {
  if (k.empty() || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_')) return false;
  for (char c : k) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

std::string quoted(std::string_view kind, std::string_view expression) {
  return std::string(kind) + " \"" + std::string(expression) + "\"";
}

// Adds an expression to `out` (constraints or affinities); false with out.error on failure.
bool add_rule(std::string_view kind, std::string_view expression, std::string_view source, SwarmRules& out) {
  std::string why;
  auto rule = parse_swarm_rule(expression, why);
  const bool affinity = kind == "affinity";
  if (rule && affinity && rule->key != "container" && rule->key != "image") {
    why = "an affinity is to a container or an image (container==..., image==...)";
    rule.reset();
  }
  if (!rule) {
    out.error = "invalid " + quoted(kind, expression) + ": " + why;
    return false;
  }
  rule->source = std::string(source);
  (affinity ? out.affinities : out.constraints).push_back(std::move(*rule));
  return true;
}

// A label holding a JSON array of expressions.
bool add_label_rules(std::string_view kind, std::string_view label, const dom::element& labels, SwarmRules& out) {
  const std::string_view json = go_string(labels, label);
  if (json.empty()) return true;
  dom::parser parser;
  dom::element root;
  dom::array list;
  if (parser.parse(json.data(), json.size()).get(root) || root.get_array().get(list)) {
    out.error = "invalid label " + std::string(label) + ": a JSON array of " + std::string(kind) +
                " expressions is expected, not " + std::string(json);
    return false;
  }
  for (auto item : list) {
    std::string_view expression;
    if (item.get_string().get(expression)) {
      out.error = "invalid label " + std::string(label) + ": every item must be a string";
      return false;
    }
    if (!add_rule(kind, expression, "Labels", out)) return false;
  }
  return true;
}

void add_ports(const dom::element& host_config, SwarmRules& out) {
  auto bindings = go_field(host_config, "PortBindings");
  dom::object map;
  if (!bindings || bindings->get(map)) return;
  for (auto entry : map) {  // "80/tcp": [{"HostIp": "", "HostPort": "8080"}]
    const std::string_view key = entry.key;
    const auto slash = key.find('/');
    const std::string protocol = slash == std::string_view::npos ? "tcp" : std::string(key.substr(slash + 1));
    dom::array list;
    if (entry.value.get(list)) continue;
    for (auto b : list) {
      const std::string_view port = go_string(b, "HostPort");
      // "" is any port and "8000-8010" a range: neither asks for one port the decider can check.
      if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) continue;
      out.ports.push_back({std::string(go_string(b, "HostIp")), static_cast<uint32_t>(std::stoul(std::string(port))),
                           protocol});
    }
  }
  // In a fixed order, whatever the body's: by port, protocol, address.
  std::sort(out.ports.begin(), out.ports.end(), [](const HostPort& a, const HostPort& b) {
    return std::tie(a.port, a.protocol, a.ip) < std::tie(b.port, b.protocol, b.ip);
  });
}

bool is_rule(std::string_view env) { return env.starts_with(kConstraint) || env.starts_with(kAffinity); }

}  // namespace

std::optional<SwarmRule> parse_swarm_rule(std::string_view expression, std::string& error) {
  const auto eq = expression.find("=="), ne = expression.find("!=");
  if (eq == std::string_view::npos && ne == std::string_view::npos) {
    error = "one of the operators ==, != is expected";
    return std::nullopt;
  }
  SwarmRule r;
  r.expression = std::string(expression);
  const std::size_t at = std::min(eq, ne);
  r.equal = at == eq;
  const std::string_view key = expression.substr(0, at);
  std::string_view value = expression.substr(at + 2);
  if (!valid_key(key)) {
    error = "the key \"" + std::string(key) + "\" is not a name (letters, digits, '_', '-', '.')";
    return std::nullopt;
  }
  for (char c : key) r.key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!value.empty() && value[0] == '~') {
    r.soft = true;
    value.remove_prefix(1);
  }
  if (value.empty()) {
    error = "a value is expected after the operator";
    return std::nullopt;
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20) {
      error = "the value has a control character";
      return std::nullopt;
    }
  }
  if (value.size() >= 2 && value.front() == '/' && value.back() == '/') {
    r.kind = SwarmRule::Kind::kRegex;
    r.value = std::string(value.substr(1, value.size() - 2));
    if (auto why = regex_too_complex(r.value); !why.empty()) {
      error = "the regular expression is too complex: " + why;
      return std::nullopt;
    }
    try {
      std::regex check(r.value);
    } catch (const std::regex_error& e) {
      error = "the regular expression /" + r.value + "/ does not compile: " + e.what();
      return std::nullopt;
    }
  } else {
    r.kind = value.find_first_of("*?") == std::string_view::npos ? SwarmRule::Kind::kPlain : SwarmRule::Kind::kGlob;
    r.value = std::string(value);
  }
  return r;
}

SwarmRules swarm_rules(std::string_view body) {
  SwarmRules out;
  dom::parser parser;
  dom::element root;
  dom::object top;
  if (parser.parse(body.data(), body.size()).get(root) || root.get(top)) return out;
  // Env: the rules are read from every Env the engine would read (the last), then taken out.
  bool env_rules = false;
  if (auto env = go_field(root, "Env")) {
    dom::array list;
    if (!env->get(list)) {
      for (auto item : list) {
        std::string_view s;
        if (item.get(s) || !is_rule(s)) continue;
        env_rules = true;
        const bool constraint = s.starts_with(kConstraint);
        const std::string_view expression = s.substr(constraint ? kConstraint.size() : kAffinity.size());
        if (!add_rule(constraint ? "constraint" : "affinity", expression, "Env", out)) return out;
      }
    }
  }
  if (auto labels = go_field(root, "Labels")) {
    if (!add_label_rules("constraint", kConstraintsLabel, *labels, out)) return out;
    if (!add_label_rules("affinity", kAffinitiesLabel, *labels, out)) return out;
  }
  if (auto hc = go_field(root, "HostConfig")) add_ports(*hc, out);
  if (!env_rules) return out;
  // The body again, without the rules in Env (every other byte of meaning kept).
  JsonWriter w;
  w.begin_object();
  for (auto field : top) {
    dom::array list;
    if (!boost::beast::iequals(field.key, "Env") || field.value.get(list)) {
      w.key(field.key).value(field.value);
      continue;
    }
    w.key(field.key).begin_array();
    for (auto item : list) {
      std::string_view s;
      if (!item.get(s) && is_rule(s)) continue;
      w.value(item);
    }
    w.end_array();
  }
  out.body = w.end_object().take();
  return out;
}

}  // namespace flocker::docker
