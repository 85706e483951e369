// Fuzzes the rewriting of container-create bodies: docker::swarm_rules (docker/swarm_rules.cc)
// reads Swarm classic's constraints and affinities from Env and Labels and rewrites the body
// without the Env rules; docker::create_refs (docker/create_refs.cc) reads what the body
// refers to (containers, volumes, networks) to place it. The rewritten body is what the
// engine then gets (and what the policy is asked about again after a remap).
// The input is a create body. Checks: no crash/UB; a rewritten body is JSON, has no Env rules
// left (rewriting it again changes nothing), keeps the other rules, refers to the same
// objects, and gets the same policy decision as the original.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "docker/create_refs.h"
#include "docker/json.h"
#include "docker/policy.h"
#include "docker/swarm_rules.h"

namespace docker = flocker::docker;
using flocker::transport::http::verb;

namespace {

[[noreturn]] void fail(const char* what, std::string_view body) {
  std::fprintf(stderr, "invariant broken: %s\nrewritten: %.*s\n", what, static_cast<int>(body.size()),
               body.data());
  std::abort();
}

std::string refs_text(const docker::CreateRefs& r) {
  std::string out = r.image + "\n";
  for (const auto& ref : r.refs) {
    out += std::to_string(static_cast<int>(ref.kind)) + " " + ref.object + " " + ref.field + " " +
           ref.volume_driver + " " + ref.volume_fs_type + "\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const docker::SwarmRules rules = docker::swarm_rules(body);
  const docker::CreateRefs refs = docker::create_refs(body);
  for (const auto& r : rules.constraints) {
    std::string why;
    if (!docker::parse_swarm_rule(r.expression, why)) fail("a rule does not parse again", r.expression);
  }
  if (!rules.body || !rules.error.empty()) return 0;
  const std::string& rewritten = *rules.body;
  docker::dom::parser parser;
  docker::dom::element root;
  if (parser.parse(rewritten).get(root) || !root.is_object()) fail("not a JSON object", rewritten);

  const docker::SwarmRules again = docker::swarm_rules(rewritten);
  if (again.body) fail("Env rules left after the rewrite", rewritten);
  if (!again.error.empty()) fail("the rewrite is refused", rewritten);
  std::size_t label_rules = 0;
  for (const auto& r : rules.constraints) label_rules += r.source == "Labels";
  for (const auto& r : rules.affinities) label_rules += r.source == "Labels";
  if (again.constraints.size() + again.affinities.size() != label_rules)
    fail("the label rules changed", rewritten);
  if (again.ports.size() != rules.ports.size()) fail("the ports changed", rewritten);

  if (refs_text(docker::create_refs(rewritten)) != refs_text(refs))
    fail("the references changed", rewritten);

  static const docker::Route create = docker::classify(verb::post, "/v1.41/containers/create");
  const docker::PolicyOptions strict;
  const bool before = docker::check_body(strict, create, verb::post, body).has_value();
  const bool after = docker::check_body(strict, create, verb::post, rewritten).has_value();
  if (before != after) fail("the policy decides otherwise", rewritten);
  return 0;
}
