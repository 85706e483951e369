#include "flocker/sdk/placement.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <regex>

namespace flocker::sdk {
namespace {

bool glob(std::string_view pattern, std::string_view what) {
  // Iterative wildcard matching with backtracking to the last '*'.
  std::size_t p = 0, w = 0, star = std::string_view::npos, mark = 0;
  while (w < what.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == what[w])) {
      ++p, ++w;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++, mark = w;
    } else if (star != std::string_view::npos) {
      p = star + 1, w = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool all_addresses(std::string_view ip) { return ip.empty() || ip == "0.0.0.0" || ip == "::"; }

std::string rule_text(std::string_view kind, const std::string& expression) {
  return std::string(kind) + ":" + expression;
}

}  // namespace

ValueMatcher::ValueMatcher(v1::ValueKind kind, std::string_view value) : kind_(kind), value_(value) {
  if (kind_ != v1::VALUE_KIND_REGEX) return;
  try {
    regex_.emplace(value_);
  } catch (const std::regex_error&) {
  }  // an invalid pattern matches nothing
}

bool ValueMatcher::operator()(std::string_view what) const {
  switch (kind_) {
    case v1::VALUE_KIND_GLOB: return glob(value_, what);
    case v1::VALUE_KIND_REGEX: return regex_ && std::regex_search(what.begin(), what.end(), *regex_);
    default: return value_ == what;
  }
}

bool value_matches(v1::ValueKind kind, std::string_view value, std::string_view what) {
  return ValueMatcher(kind, value)(what);
}

std::string fact_of(const v1::Candidate& candidate, std::string_view key) {
  const std::string k(key);
  if (auto it = candidate.facts().find(k); it != candidate.facts().end()) return it->second;
  if (k == "node") return candidate.name();
  if (auto it = candidate.labels().find(k); it != candidate.labels().end()) return it->second;
  return "";
}

bool satisfies(const v1::Constraint& c, const ValueMatcher& value, const v1::Candidate& candidate) {
  const bool match = value(fact_of(candidate, c.key()));
  return c.op() == v1::MATCH_OPERATOR_NOT_EQUAL ? !match : match;
}

bool satisfies(const v1::Constraint& c, const v1::Candidate& candidate) {
  return satisfies(c, ValueMatcher(c.kind(), c.value()), candidate);
}

bool satisfies(const v1::Affinity& a, const v1::Candidate& candidate) {
  const bool near = std::find(a.hosts().begin(), a.hosts().end(), candidate.name()) != a.hosts().end();
  return a.op() == v1::MATCH_OPERATOR_NOT_EQUAL ? !near : near;
}

bool ports_free(const v1::RouteRequest& request, const v1::Candidate& candidate) {
  for (const auto& want : request.ports()) {
    for (const auto& used : candidate.published_ports()) {
      if (used.host_port() != want.host_port() || used.protocol() != want.protocol()) continue;
      if (used.host_ip() == want.host_ip() || all_addresses(used.host_ip()) || all_addresses(want.host_ip())) {
        return false;
      }
    }
  }
  return true;
}

Placement apply_rules(const v1::RouteRequest& request) {
  Placement out;
  for (const auto& c : request.candidates()) {
    if (c.healthy()) out.hosts.push_back(&c);
  }
  if (out.hosts.empty()) {
    out.unmet.push_back("a healthy host");
    return out;
  }
  using Test = std::function<bool(const v1::Candidate&)>;
  auto keep = [&](const Test& test) {
    std::vector<const v1::Candidate*> left;
    for (const auto* h : out.hosts) {
      if (test(*h)) left.push_back(h);
    }
    return left;
  };
  // Each rule as a test of a candidate: constraints (their values made once), then affinities.
  struct Rule {
    bool soft;
    std::string text;
    Test test;
  };
  std::vector<Rule> rules;
  for (const auto& c : request.constraints()) {
    rules.push_back({c.soft(), rule_text("constraint", c.expression()),
                     [&c, value = std::make_shared<ValueMatcher>(c.kind(), c.value())](const v1::Candidate& h) {
                       return satisfies(c, *value, h);
                     }});
  }
  for (const auto& a : request.affinities()) {
    rules.push_back({a.soft(), rule_text("affinity", a.expression()),
                     [&a](const v1::Candidate& h) { return satisfies(a, h); }});
  }
  // Hard rules: each must hold.
  for (const auto& r : rules) {
    if (r.soft) continue;
    auto left = keep(r.test);
    if (left.empty()) out.unmet.push_back(r.text);
    else out.hosts = std::move(left);
  }
  if (request.ports_size() > 0) {
    auto left = keep([&](const v1::Candidate& h) { return ports_free(request, h); });
    if (left.empty()) {
      std::string ports;
      for (const auto& p : request.ports()) {
        ports += (ports.empty() ? "" : ", ") + std::to_string(p.host_port()) + "/" + p.protocol();
      }
      out.unmet.push_back("port " + ports + " free");
    } else {
      out.hosts = std::move(left);
    }
  }
  if (!out.unmet.empty()) {
    out.hosts.clear();
    return out;
  }
  // Soft rules, in the order written: kept while some candidate satisfies them.
  for (const auto& r : rules) {
    if (!r.soft) continue;
    auto left = keep(r.test);
    if (!left.empty()) out.hosts = std::move(left);
  }
  return out;
}

std::vector<const v1::Candidate*> keep_followed_in_place(const v1::RouteRequest& request,
                                                         std::vector<const v1::Candidate*> hosts) {
  std::vector<const v1::Candidate*> holding;
  for (const auto* c : hosts) {
    bool all = true;
    for (const auto& r : request.requirements()) {
      if (r.follows() && std::find(r.hosts().begin(), r.hosts().end(), c->name()) == r.hosts().end()) all = false;
    }
    if (all) holding.push_back(c);
  }
  return holding.empty() ? hosts : holding;
}

}  // namespace flocker::sdk
