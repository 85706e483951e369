// Swarm classic's placement language in a container-create body, as users of Swarm wrote it:
//   Env:    "constraint:zone==a", "constraint:disk!=~hdd", "affinity:container==db",
//           "affinity:image!=/^legacy/"
//   Labels: "com.docker.swarm.constraints": "[\"zone==a\"]",
//           "com.docker.swarm.affinities":  "[\"container==db\"]"
// EXPR is KEY OP VALUE: OP "==" or "!=", followed by "~" for a soft rule (a preference);
// VALUE plain, a glob ('*', '?'), or a regular expression between slashes. The Env entries
// are taken out of the body before the engine sees them; the labels stay.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flocker::docker {

struct SwarmRule {
  enum class Kind { kPlain, kGlob, kRegex };
  std::string expression;  // as written, after "constraint:" / "affinity:"
  std::string key;         // lower case
  bool equal = true;       // "==" (else "!=")
  std::string value;       // without '~' (and for a regex, without the slashes)
  Kind kind = Kind::kPlain;
  bool soft = false;
  std::string source;      // "Env" or "Labels"
};

struct HostPort {
  std::string ip;  // "" for every address
  uint32_t port = 0;
  std::string protocol = "tcp";
};

struct SwarmRules {
  std::vector<SwarmRule> constraints, affinities;
  std::vector<HostPort> ports;       // HostConfig.PortBindings with a HostPort
  std::string error;                 // a malformed rule, quoted: the create is refused (400)
  std::optional<std::string> body;   // the body without the Env rules; nullopt: no change
};

// The rules of a create body (its first JSON value; a JSON object).
SwarmRules swarm_rules(std::string_view body);

// One expression ("zone==~a"); the error says what is wrong with it.
std::optional<SwarmRule> parse_swarm_rule(std::string_view expression, std::string& error);

}  // namespace flocker::docker
