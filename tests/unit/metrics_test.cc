// The SDK's Prometheus registry and its listener: text format as Prometheus parses it.
#include <flocker/sdk/metrics.h>
#include <flocker/sdk/metrics_server.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace flocker::metrics {
namespace {

TEST(Metrics, CountersAndGaugesWithLabelsRenderSortedWithHelpAndType) {
  Registry r;
  auto& requests = r.counter("flocker_requests_total", "Requests\nanswered", {"class", "code"});
  requests.with({"containers", "200"}).inc(3);
  requests.with({"containers", "404"}).inc();
  r.gauge("flocker_open_streams", "Open streams").with({}).set(2);
  EXPECT_EQ(r.render(),
            "# HELP flocker_open_streams Open streams\n"
            "# TYPE flocker_open_streams gauge\n"
            "flocker_open_streams 2\n"
            "# HELP flocker_requests_total Requests\\nanswered\n"
            "# TYPE flocker_requests_total counter\n"
            "flocker_requests_total{class=\"containers\",code=\"200\"} 3\n"
            "flocker_requests_total{class=\"containers\",code=\"404\"} 1\n");
}

TEST(Metrics, LabelValuesAreEscaped) {
  Registry r;
  r.counter("x_total", "x", {"v"}).with({"a\"b\\c\nd"}).inc();
  EXPECT_NE(r.render().find("x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  auto& h = r.histogram("d_seconds", "d", {"rpc"}, {0.1, 1}).with({"Route"});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  h.observe(1);  // a bound is inclusive (le)
  const auto text = r.render();
  EXPECT_NE(text.find("d_seconds_bucket{rpc=\"Route\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_bucket{rpc=\"Route\",le=\"1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_bucket{rpc=\"Route\",le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_sum{rpc=\"Route\"} 6.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_count{rpc=\"Route\"} 4\n"), std::string::npos) << text;
}

TEST(Metrics, SameNameGivesSameFamilyAndAnotherTypeIsRefused) {
  Registry r;
  EXPECT_EQ(&r.counter("a_total", "a"), &r.counter("a_total", "a"));
  EXPECT_THROW(r.gauge("a_total", "a"), std::logic_error);
  EXPECT_THROW(r.counter("a_total", "a").with({"extra"}), std::logic_error);
}

TEST(Metrics, CollectorsRunAtScrapeAndGoWithTheirHandle) {
  Registry r;
  int hosts = 2;
  {
    auto handle = r.collect("flocker_host_healthy", "1 when healthy", {"host"}, [&] {
      std::vector<Sample> out;
      for (int i = 1; i <= hosts; ++i) out.push_back({{"e" + std::to_string(i)}, 1});
      return out;
    });
    EXPECT_NE(r.render().find("flocker_host_healthy{host=\"e2\"} 1\n"), std::string::npos);
    hosts = 3;
    EXPECT_NE(r.render().find("flocker_host_healthy{host=\"e3\"} 1\n"), std::string::npos);
  }
  EXPECT_EQ(r.render(), "");
}

std::string http_get(int port, const std::string& request) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  boost::asio::write(socket, boost::asio::buffer(request));
  std::string out;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::dynamic_buffer(out), ec);
  return out;
}

TEST(MetricsServer, ServesMetricsAndNothingElse) {
  Registry r;
  r.counter("hits_total", "hits").with({}).inc(7);
  MetricsServer server({"tcp://127.0.0.1:0"}, r);
  server.start();
  const int port = server.ports().at(0);
  const auto ok = http_get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("text/plain; version=0.0.4"), std::string::npos) << ok;
  EXPECT_NE(ok.find("\r\n\r\n# HELP hits_total hits\n# TYPE hits_total counter\nhits_total 7\n"),
            std::string::npos) << ok;
  const auto other = http_get(port, "GET /containers/json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(other.rfind("HTTP/1.1 404", 0), 0u) << other;
  const auto post = http_get(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405", 0), 0u) << post;
  server.stop();
}

TEST(MetricsServer, AnAddressInUseOrNotTcpIsRefusedAtStart) {
  MetricsServer first({"tcp://127.0.0.1:0"});
  first.start();
  MetricsServer second({"tcp://127.0.0.1:" + std::to_string(first.ports().at(0))});
  EXPECT_THROW(second.start(), std::runtime_error);
  MetricsServer unix_socket({"unix:///tmp/m.sock"});
  EXPECT_THROW(unix_socket.start(), std::runtime_error);
}

}  // namespace
}  // namespace flocker::metrics
