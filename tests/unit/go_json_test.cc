// Go's json.Decoder, as the engine reads request bodies: the texts below are what a dockerd
// 20.10 answered for each body (POST /exec/nosuch/start), checked by hand.
#include <gtest/gtest.h>

#include "docker/go_json.h"

using flocker::docker::go_decode;

TEST(GoJson, SyntaxErrorsInGosOwnWords) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"notjson", "invalid character 'o' in literal null (expecting 'u')"},
      {"{", "unexpected EOF"},
      {"{\"a\"", "unexpected EOF"},
      {"{\"a\":1,", "unexpected EOF"},
      {"[1,2", "unexpected EOF"},
      {"\"abc", "unexpected EOF"},
      {"\"a\\x\"", "invalid character 'x' in string escape code"},
      {"\"\\u12g4\"", "invalid character 'g' in \\u hexadecimal character escape"},
      {"-", "unexpected EOF"},
      {"-a", "invalid character 'a' in numeric literal"},
      {"1.", "unexpected EOF"},
      {"1.e5", "invalid character 'e' after decimal point in numeric literal"},
      {"1e+", "unexpected EOF"},
      {"tru", "unexpected EOF"},
      {"trux", "invalid character 'x' in literal true (expecting 'e')"},
      {"fals", "unexpected EOF"},
      {"{\"a\" 1}", "invalid character '1' after object key"},
      {"{\"a\":1 \"b\"}", "invalid character '\"' after object key:value pair"},
      {"[1 2]", "invalid character '2' after array element"},
      {"{1:2}", "invalid character '1' looking for beginning of object key string"},
      {"'x'", "invalid character '\\'' looking for beginning of value"},
      {"\x01", "invalid character '\\x01' looking for beginning of value"},
      {"{\"a\":\"b\x01\"}", "invalid character '\\x01' in string literal"},
      {"}", "invalid character '}' looking for beginning of value"},
      {"\xe9", "invalid character '\xc3\xa9' looking for beginning of value"},
      {"{\"a\":01}", "invalid character '1' after object key:value pair"},
      {"\\", "invalid character '\\\\' looking for beginning of value"},
      {"  ", "EOF"},
      {"", "EOF"},
  };
  for (const auto& [body, want] : cases) {
    auto got = go_decode(body);
    EXPECT_FALSE(got.ok) << body;
    EXPECT_EQ(got.error, want) << body;
  }
}

TEST(GoJson, TheFirstValueIsReadAndWhatFollowsIgnored) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"{} garbage", "{}"},
      {" {\"a\":[1,{\"b\":\"}\"}]}{\"again\":1}", " {\"a\":[1,{\"b\":\"}\"}]}"},
      {"123abc", "123"},
      {"\"ok\"x", "\"ok\""},
      {"01", "0"},
      {"[]]", "[]"},
      {"true", "true"},
      {"-1.5e+3 ", "-1.5e+3"},
      {"{\"s\":\"caf\xe9\"}", "{\"s\":\"caf\xe9\"}"},  // invalid UTF-8: Go takes it
  };
  for (const auto& [body, first] : cases) {
    auto got = go_decode(body);
    ASSERT_TRUE(got.ok) << body << ": " << got.error;
    EXPECT_EQ(body.substr(0, got.end), first) << body;
  }
  std::string deep(10001, '[');
  EXPECT_EQ(go_decode(deep).error, "invalid character '[' exceeded max depth");
}
