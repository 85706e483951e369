// Request bodies as the engine's decoder reads them: Go's json.Decoder takes the first JSON
// value of the body and ignores what follows, accepts invalid UTF-8 inside strings, and
// reports a syntax error in words of its own. The proxy must agree with it exactly on two
// questions: does the engine see a value at all (else the engine refuses the request, and
// may be asked to say so itself, whatever the request names), and which bytes is that value
// (what a policy or a placement must read, not the garbage after it).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace flocker::docker {

struct GoDecode {
  bool ok = false;
  std::size_t end = 0;  // ok: the first value is body[0, end)
  std::string error;    // !ok: Go's error text ("EOF", "unexpected EOF", "invalid character
                        // 'o' in literal null (expecting 'u')", ...)
};

// What json.NewDecoder(body).Decode(&v) makes of the body's syntax (not of its types).
GoDecode go_decode(std::string_view body);

}  // namespace flocker::docker
