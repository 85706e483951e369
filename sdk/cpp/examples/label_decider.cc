// An example decider in about 30 lines: a container labelled `zone=X` goes to the host
// labelled `zone=X`; anything else goes to the first healthy host. The inventory comes
// from the command line:
//   flocker-example-label-decider 127.0.0.1:7070 a=tcp://127.0.0.1:2376,zone=a ...
#include <flocker/sdk/server.h>

#include <regex>

using namespace flocker::sdk;

class LabelDecider : public Decider {
 public:
  explicit LabelDecider(v1::ListResponse hosts) : hosts_(std::move(hosts)) {}

  grpc::Status List(grpc::ServerContext&, const v1::ListRequest&, v1::ListResponse& resp) override {
    resp = hosts_;
    return grpc::Status::OK;
  }

  grpc::Status Route(grpc::ServerContext&, const v1::RouteRequest& req,
                     v1::RouteResponse& resp) override {
    std::smatch zone;  // the create body is JSON; a regex is enough for an example
    std::string body = req.body();
    bool wants = std::regex_search(body, zone, std::regex(R"re("zone"\s*:\s*"([^"]*)")re"));
    for (const auto& c : req.candidates()) {
      if (!c.healthy()) continue;
      auto it = c.labels().find("zone");
      if (!wants || (it != c.labels().end() && it->second == zone[1].str())) {
        resp.add_hosts(c.name());
        return grpc::Status::OK;
      }
    }
    return {grpc::StatusCode::FAILED_PRECONDITION, "no healthy host in zone " + zone[1].str()};
  }

 private:
  v1::ListResponse hosts_;
};

int main(int argc, char** argv) {
  v1::ListResponse hosts;  // each argument: NAME=ADDRESS[,zone=ZONE]
  std::regex spec(R"(([^=]+)=([^,]+)(?:,zone=(.+))?)");
  for (int i = 2; i < argc; ++i) {
    std::cmatch m;
    if (!std::regex_match(argv[i], m, spec)) return 2;
    auto* h = hosts.add_hosts();
    h->set_name(m[1].str()), h->set_address(m[2].str());
    if (m[3].matched) (*h->mutable_labels())["zone"] = m[3].str();
  }
  LabelDecider decider(std::move(hosts));
  ServeOptions options;
  options.listen = argc > 1 ? argv[1] : "127.0.0.1:7070";
  return serve(decider, options);
}
