// libFuzzer: an HTTP request's method, Authorization header and target through the server's
// routing (gs::route_http: /health, /ws/status, /metrics, /api/signals and its query, static
// files) and the WebSocket upgrade's target parser (gs::parse_ws_target). Input: method, a
// newline, the Authorization value, a newline, the target. Any input gets an answer with a
// status; none throws or crashes.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "goldensignals/net/context.hpp"
#include "goldensignals/net/http_routes.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/server/options.hpp"

namespace {

class NullSink final : public gs::RuntimeSink {
 public:
  void on_agent_update(const gs::AgentUpdate&) override {}
  void on_decision(const gs::DecisionPtr&) override {}
  void on_alert(const gs::Alert&) override {}
  void on_price_update(const gs::PriceUpdate&) override {}
  void on_log(int, const std::string&, const std::string&) override {}
};

const gs::ServerContext& context() {
  static const auto* ctx = [] {
    gs::RuntimeOptions ro;
    ro.symbols = {"AAPL", "NVDA"};
    ro.synchronous = true;  // no threads of its own: nothing runs when the process exits
    auto rt = std::make_shared<gs::Runtime>(ro, std::make_shared<NullSink>());
    gs::ServerOptions so;
    so.db = "";  // no history: /api/signals answers that it is off
    so.jwt_secret = "fuzzing-secret-of-32-bytes-or-more";
    so.admin_token = "fuzz-admin";
    const auto web = std::filesystem::temp_directory_path() / "gs-fuzz-web";
    std::filesystem::create_directories(web);
    so.web_root = web.string();
    return new gs::ServerContext(so, rt);
  }();
  return *ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto first = in.find('\n');
  const auto method = in.substr(0, first);
  in = first == std::string_view::npos ? std::string_view{} : in.substr(first + 1);
  const auto second = in.find('\n');
  const auto authorization = in.substr(0, second);
  const auto target = second == std::string_view::npos ? std::string_view{} : in.substr(second + 1);
  const auto reply = gs::route_http(context().route_parts, method, target, authorization);
  if (reply.status < 200 || reply.status > 599) __builtin_trap();
  const auto ws = gs::parse_ws_target(target);
  if (!ws.ok && (ws.status < 400 || ws.error.empty())) __builtin_trap();
  if (ws.symbol && ws.symbol->empty()) __builtin_trap();
  return 0;
}
