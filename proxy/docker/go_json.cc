// A port of the state machine of Go's encoding/json scanner (scanner.go) and of the way
// json.Decoder.readValue drives it, down to its error texts.
#include "docker/go_json.h"

#include <cstdio>
#include <vector>

namespace flocker::docker {
namespace {

enum class State {
  kBeginValue, kBeginValueOrEmpty, kBeginStringOrEmpty, kBeginString, kEndValue, kEndTop,
  kInString, kInStringEsc, kEscU, kEscU1, kEscU12, kEscU123,
  kNeg, k1, k0, kDot, kDot0, kE, kESign, kE0,
  kT, kTr, kTru, kF, kFa, kFal, kFals, kN, kNu, kNul, kError
};
enum class Step { kContinue, kEnd, kEndContainer, kError };
enum class Parse { kObjectKey, kObjectValue, kArrayValue };

constexpr std::size_t kMaxDepth = 10000;

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Go's quoteChar: the byte as strconv.Quote writes it (as the rune of that value), in single
// quotes.
std::string quote_char(unsigned char c) {
  if (c == '\'') return "'\\''";
  if (c == '"') return "'\"'";
  char buf[16];
  switch (c) {
    case '\a': return "'\\a'";
    case '\b': return "'\\b'";
    case '\f': return "'\\f'";
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    case '\t': return "'\\t'";
    case '\v': return "'\\v'";
    case '\\': return "'\\\\'";
    default: break;
  }
  if (c < 0x20 || c == 0x7f) {
    std::snprintf(buf, sizeof buf, "'\\x%02x'", c);
    return buf;
  }
  if (c < 0x80) return std::string("'") + static_cast<char>(c) + "'";
  if (c < 0xa0 || c == 0xad) {  // C1 controls and the soft hyphen are not printable
    std::snprintf(buf, sizeof buf, "'\\u%04x'", c);
    return buf;
  }
  // U+00A0..U+00FF, printable: the character, in UTF-8.
  return std::string("'") + static_cast<char>(0xc0 | (c >> 6)) + static_cast<char>(0x80 | (c & 0x3f)) + "'";
}

class Scanner {
 public:
  Step step(unsigned char c) {
    switch (state_) {
      case State::kBeginValueOrEmpty:
        if (is_space(c)) return Step::kContinue;
        if (c == ']') return end_value(c);
        return begin_value(c);
      case State::kBeginValue: return begin_value(c);
      case State::kBeginStringOrEmpty:
        if (is_space(c)) return Step::kContinue;
        if (c == '}') {
          stack_.back() = Parse::kObjectValue;
          return end_value(c);
        }
        return begin_string(c);
      case State::kBeginString: return begin_string(c);
      case State::kEndValue: return end_value(c);
      case State::kEndTop: return end_top(c);
      case State::kInString:
        if (c == '"') return go(State::kEndValue);
        if (c == '\\') return go(State::kInStringEsc);
        if (c < 0x20) return fail(c, "in string literal");
        return Step::kContinue;
      case State::kInStringEsc:
        if (c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't' || c == '\\' || c == '/' || c == '"') {
          return go(State::kInString);
        }
        if (c == 'u') return go(State::kEscU);
        return fail(c, "in string escape code");
      case State::kEscU: return hex(c, State::kEscU1);
      case State::kEscU1: return hex(c, State::kEscU12);
      case State::kEscU12: return hex(c, State::kEscU123);
      case State::kEscU123: return hex(c, State::kInString);
      case State::kNeg:
        if (c == '0') return go(State::k0);
        if (c >= '1' && c <= '9') return go(State::k1);
        return fail(c, "in numeric literal");
      case State::k1:
        if (is_digit(c)) return Step::kContinue;
        return zero(c);
      case State::k0: return zero(c);
      case State::kDot:
        if (is_digit(c)) return go(State::kDot0);
        return fail(c, "after decimal point in numeric literal");
      case State::kDot0:
        if (is_digit(c)) return Step::kContinue;
        if (c == 'e' || c == 'E') return go(State::kE);
        return end_value(c);
      case State::kE:
        if (c == '+' || c == '-') return go(State::kESign);
        return e_sign(c);
      case State::kESign: return e_sign(c);
      case State::kE0:
        if (is_digit(c)) return Step::kContinue;
        return end_value(c);
      case State::kT: return literal(c, 'r', State::kTr, "in literal true (expecting 'r')");
      case State::kTr: return literal(c, 'u', State::kTru, "in literal true (expecting 'u')");
      case State::kTru: return literal(c, 'e', State::kEndValue, "in literal true (expecting 'e')");
      case State::kF: return literal(c, 'a', State::kFa, "in literal false (expecting 'a')");
      case State::kFa: return literal(c, 'l', State::kFal, "in literal false (expecting 'l')");
      case State::kFal: return literal(c, 's', State::kFals, "in literal false (expecting 's')");
      case State::kFals: return literal(c, 'e', State::kEndValue, "in literal false (expecting 'e')");
      case State::kN: return literal(c, 'u', State::kNu, "in literal null (expecting 'u')");
      case State::kNu: return literal(c, 'l', State::kNul, "in literal null (expecting 'l')");
      case State::kNul: return literal(c, 'l', State::kEndValue, "in literal null (expecting 'l')");
      case State::kError: return Step::kError;
    }
    return Step::kError;
  }

  bool at_top() const { return stack_.empty(); }
  const std::string& error() const { return error_; }

 private:
  Step go(State s) {
    state_ = s;
    return Step::kContinue;
  }
  Step fail(unsigned char c, const char* context) {
    state_ = State::kError;
    error_ = "invalid character " + quote_char(c) + " " + context;
    return Step::kError;
  }
  Step push(unsigned char c, Parse p, State next) {
    state_ = next;
    stack_.push_back(p);
    if (stack_.size() > kMaxDepth) return fail(c, "exceeded max depth");
    return Step::kContinue;
  }
  Step pop() {
    stack_.pop_back();
    state_ = stack_.empty() ? State::kEndTop : State::kEndValue;
    return Step::kEndContainer;
  }
  Step begin_value(unsigned char c) {
    if (is_space(c)) return Step::kContinue;
    switch (c) {
      case '{': return push(c, Parse::kObjectKey, State::kBeginStringOrEmpty);
      case '[': return push(c, Parse::kArrayValue, State::kBeginValueOrEmpty);
      case '"': return go(State::kInString);
      case '-': return go(State::kNeg);
      case '0': return go(State::k0);
      case 't': return go(State::kT);
      case 'f': return go(State::kF);
      case 'n': return go(State::kN);
      default: break;
    }
    if (c >= '1' && c <= '9') return go(State::k1);
    return fail(c, "looking for beginning of value");
  }
  Step begin_string(unsigned char c) {
    if (is_space(c)) return Step::kContinue;
    if (c == '"') return go(State::kInString);
    return fail(c, "looking for beginning of object key string");
  }
  Step end_value(unsigned char c) {
    if (stack_.empty()) {
      state_ = State::kEndTop;
      return end_top(c);
    }
    if (is_space(c)) return go(State::kEndValue);
    switch (stack_.back()) {
      case Parse::kObjectKey:
        if (c == ':') {
          stack_.back() = Parse::kObjectValue;
          return go(State::kBeginValue);
        }
        return fail(c, "after object key");
      case Parse::kObjectValue:
        if (c == ',') {
          stack_.back() = Parse::kObjectKey;
          return go(State::kBeginString);
        }
        if (c == '}') return pop();
        return fail(c, "after object key:value pair");
      case Parse::kArrayValue:
        if (c == ',') return go(State::kBeginValue);
        if (c == ']') return pop();
        return fail(c, "after array element");
    }
    return fail(c, "");
  }
  // Go complains about a non-space byte after a top-level value only on the next Decode;
  // this one ends with the value.
  static Step end_top(unsigned char) { return Step::kEnd; }
  Step zero(unsigned char c) {
    if (c == '.') return go(State::kDot);
    if (c == 'e' || c == 'E') return go(State::kE);
    return end_value(c);
  }
  Step e_sign(unsigned char c) {
    if (is_digit(c)) return go(State::kE0);
    return fail(c, "in exponent of numeric literal");
  }
  Step hex(unsigned char c, State next) {
    if (is_hex(c)) return go(next);
    return fail(c, "in \\u hexadecimal character escape");
  }
  Step literal(unsigned char c, char want, State next, const char* context) {
    if (c == static_cast<unsigned char>(want)) return go(next);
    return fail(c, context);
  }

  State state_ = State::kBeginValue;
  std::vector<Parse> stack_;
  std::string error_;
};

}  // namespace

GoDecode go_decode(std::string_view body) {
  GoDecode out;
  Scanner scan;
  for (std::size_t i = 0; i < body.size(); ++i) {
    switch (scan.step(static_cast<unsigned char>(body[i]))) {
      case Step::kEnd:  // delayed by one byte: the value ended before this one
        out.ok = true;
        out.end = i;
        return out;
      case Step::kEndContainer:
        if (scan.at_top()) {  // Go invents a space rather than wait for the next byte
          out.ok = true;
          out.end = i + 1;
          return out;
        }
        break;
      case Step::kError:
        out.error = scan.error();
        return out;
      case Step::kContinue: break;
    }
  }
  // The end of the body: a space completes a number or a literal at the top.
  if (scan.step(' ') == Step::kEnd) {
    out.ok = true;
    out.end = body.size();
    return out;
  }
  bool non_space = false;
  for (unsigned char c : body) non_space = non_space || !is_space(c);
  out.error = non_space ? "unexpected EOF" : "EOF";
  return out;
}

}  // namespace flocker::docker
