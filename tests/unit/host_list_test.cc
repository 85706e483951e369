#include "host_list.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

using namespace flocker::decider;

TEST(HostsFlag, NamesDefaultToTheAddress) {
  auto hosts = parse_hosts_flag("tcp://127.0.0.1:2376,127.0.0.1:2377,unix:///run/e3.sock");
  ASSERT_EQ(hosts.size(), 3u);
  EXPECT_EQ(hosts[0], (HostEntry{"127.0.0.1:2376", "tcp://127.0.0.1:2376", {}}));
  EXPECT_EQ(hosts[1].address, "tcp://127.0.0.1:2377");
  EXPECT_EQ(hosts[2].name, "/run/e3.sock");
}

TEST(HostsFlag, RefusesBadOrRepeatedHosts) {
  EXPECT_THROW(parse_hosts_flag(""), HostListError);
  EXPECT_THROW(parse_hosts_flag("tcp://a:1,ftp://b:2"), HostListError);
  EXPECT_THROW(parse_hosts_flag("a:1,tcp://a:1"), HostListError);
}

TEST(HostsFile, ParsesNamesLabelsAndComments) {
  auto hosts = parse_hosts_file(
      "# the flock\n"
      "\n"
      "tcp://127.0.0.1:2376 e1 zone=a gpu=yes\n"
      "  127.0.0.1:2377   zone=b   # trailing comment\n"
      "unix:///run/e3.sock e3\n",
      "hosts.txt");
  ASSERT_EQ(hosts.size(), 3u);
  EXPECT_EQ(hosts[0], (HostEntry{"e1", "tcp://127.0.0.1:2376", {{"gpu", "yes"}, {"zone", "a"}}}));
  EXPECT_EQ(hosts[1], (HostEntry{"127.0.0.1:2377", "tcp://127.0.0.1:2377", {{"zone", "b"}}}));
  EXPECT_EQ(hosts[2], (HostEntry{"e3", "unix:///run/e3.sock", {}}));
}

TEST(HostsFile, ErrorsNameTheLine) {
  try {
    parse_hosts_file("tcp://a:1 a\nnot-an-address b\n", "f.txt");
    FAIL() << "expected an error";
  } catch (const HostListError& e) {
    EXPECT_NE(std::string(e.what()).find("f.txt:2:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_hosts_file("a:1 x y\n", "f"), HostListError);      // two names
  EXPECT_THROW(parse_hosts_file("a:1 x\nb:1 x\n", "f"), HostListError);  // repeated name
  EXPECT_THROW(parse_hosts_file("a:1 =v\n", "f"), HostListError);        // label without key
  EXPECT_TRUE(parse_hosts_file("", "f").empty());
}

TEST(HostsFile, LoadsFromDiskAndReportsUnreadableFiles) {
  std::string path = testing::TempDir() + "/flocker-hosts-test.txt";
  {
    std::ofstream(path) << "tcp://127.0.0.1:1 one\n";
  }
  EXPECT_EQ(load_hosts_file(path).at(0).name, "one");
  {
    std::ofstream(path) << "tcp://127.0.0.1:1 one\ntcp://127.0.0.1:2 two\n";
  }
  EXPECT_EQ(load_hosts_file(path).size(), 2u);  // a reload sees the new content
  std::remove(path.c_str());
  try {
    load_hosts_file(path);
    FAIL();
  } catch (const HostListError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos);
  }
}
