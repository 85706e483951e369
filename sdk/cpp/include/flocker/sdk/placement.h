// Swarm classic's placement rules, as a decider applies them to a RouteRequest's candidates:
// constraints on facts and labels, affinities to containers and images, free host ports,
// health. The proxy parses the rules (RouteRequest.constraints, .affinities, .ports) and
// resolves affinities to hosts; this is the matching, for any C++ decider.
//
// Order (as Swarm's filters ran): healthy candidates; every hard constraint, hard affinity
// and port; then each soft rule in the order written, skipped when no candidate left would
// satisfy it.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "flocker/v1/decider.pb.h"

namespace flocker::sdk {

namespace v1 = ::flocker::v1;

// Whether `what` matches a rule's value: PLAIN exactly, GLOB with '*' and '?' over the whole
// of it, REGEX searched for anywhere (ECMAScript syntax). An invalid pattern matches nothing.
bool value_matches(v1::ValueKind kind, std::string_view value, std::string_view what);

// The same, for one value matched against many (every candidate, every container): a
// regular expression is compiled once, not once per match.
class ValueMatcher {
 public:
  ValueMatcher(v1::ValueKind kind, std::string_view value);
  bool operator()(std::string_view what) const;

 private:
  v1::ValueKind kind_;
  std::string value_;
  std::optional<std::regex> regex_;  // REGEX only; nullopt when it does not compile
};

// What a constraint key names on a candidate: Candidate.facts first, then its labels; ""
// when neither has it ("zone!=a" holds on a host without a zone).
std::string fact_of(const v1::Candidate& candidate, std::string_view key);

bool satisfies(const v1::Constraint& c, const v1::Candidate& candidate);
// `value`: c's value, made once for many candidates.
bool satisfies(const v1::Constraint& c, const ValueMatcher& value, const v1::Candidate& candidate);
bool satisfies(const v1::Affinity& a, const v1::Candidate& candidate);
// Whether none of the ports the request asks for is already published on the candidate on
// the same protocol and an overlapping address.
bool ports_free(const v1::RouteRequest& request, const v1::Candidate& candidate);

struct Placement {
  std::vector<const v1::Candidate*> hosts;  // the candidates left, in the request's order
  std::vector<std::string> unmet;           // when none: what could not be satisfied
};
// The candidates left after the rules, in the order above.
Placement apply_rules(const v1::RouteRequest& request);

// Of `hosts`, those that already hold every requirement that would follow the container
// (Requirement.follows: an unused local network), so that it moves only when the rules
// leave it no place where it is; all of `hosts` when none holds them.
std::vector<const v1::Candidate*> keep_followed_in_place(const v1::RouteRequest& request,
                                                         std::vector<const v1::Candidate*> hosts);

}  // namespace flocker::sdk
