// The WebSocket/HTTP server over real sockets on 127.0.0.1 (port 0), with Beast's client.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <thread>

#include "goldensignals/broadcast/bus.hpp"
#include "goldensignals/broadcast/room_hub.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/net/context.hpp"
#include "goldensignals/net/event_router.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/server/server.hpp"
#include "server_client.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;

namespace gs {
namespace {

using test::json;
using test::WsClient;

std::shared_ptr<Runtime> make_runtime(int agents = 3) {
  RuntimeOptions o;
  o.symbols = {"AAPL", "NVDA"};
  o.signal_generation_interval_s = 86400;  // only explicit analyses in these tests
  o.move_threshold = 0.9;
  o.analyze_on_start = false;
  auto rt = std::make_shared<Runtime>(o, std::make_shared<test::RecordingSink>());
  for (int i = 0; i < agents; ++i) {
    rt->orchestrator().add_agent(
        std::make_shared<test::ScriptedAgent>("Agent" + std::to_string(i), Action::Buy, 0.9));
  }
  rt->start();
  for (const auto& b : test::rising_bars(40)) {
    rt->publish_bar("AAPL", b);
    rt->publish_bar("NVDA", b);
  }
  return rt;
}

ServerOptions test_options() {
  ServerOptions o;
  o.port = 0;
  o.close_timeout = 2s;
  return o;
}

struct Fixture {
  explicit Fixture(ServerOptions o = test_options(), int agents = 3)
      : runtime(make_runtime(agents)), server(std::move(o), runtime) {
    server.start();
  }
  ~Fixture() {
    server.stop();
    runtime->stop();
  }
  std::uint16_t port() const { return server.port(); }
  // Waits (bounded) until pred() holds.
  template <class P>
  static bool eventually(P pred, std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }
  std::shared_ptr<Runtime> runtime;
  Server server;
};

std::string agent_body(const std::string& symbol, int n, std::size_t pad = 0) {
  return json{{"type", "agent_update"},
              {"data", {{"symbol", symbol}, {"n", n}, {"pad", std::string(pad, 'x')}}}}
      .dump();
}

// --- connection basics ------------------------------------------------------------------

TEST(Server, WelcomeMessageHasTheProtocolShape) {
  Fixture f;
  WsClient c(f.port());
  ASSERT_TRUE(c.ok());
  auto m = c.read();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["type"], "heartbeat");
  EXPECT_EQ((*m)["message"], "Connected to GoldenSignals WebSocket");
  const std::string id = (*m)["client_id"];
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');  // uuid4
  const std::string ts = (*m)["timestamp"];
  EXPECT_EQ(ts.size(), 24u);
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(Server, SubscribeAndUnsubscribeAreConfirmed) {
  Fixture f;
  WsClient c(f.port());
  c.read();
  c.send(R"({"type":"subscribe","symbol":"aapl"})");
  auto m = c.read();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["type"], "subscribe");
  EXPECT_EQ((*m)["symbol"], "AAPL");
  EXPECT_EQ((*m)["status"], "subscribed");
  EXPECT_TRUE(Fixture::eventually([&] { return f.server.stats().rooms["AAPL"] == 1; }));
  c.send(R"({"type":"unsubscribe","symbol":"AAPL"})");
  m = c.read();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["type"], "unsubscribe");
  EXPECT_EQ((*m)["status"], "unsubscribed");
  EXPECT_TRUE(Fixture::eventually([&] { return f.server.stats().rooms.count("AAPL") == 0; }));
  c.send(R"({"type":"heartbeat"})");
  m = c.read();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["type"], "heartbeat");
  EXPECT_EQ((*m)["ack"], true);
  c.send(R"({"type":"ping"})");
  m = c.read();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["type"], "pong");
}

TEST(Server, AnalyzeStreamsAgentUpdatesThenSignalThenDecision) {
  Fixture f;
  WsClient c(f.port());
  c.read();
  c.send(R"({"type":"analyze","symbol":"AAPL"})");
  auto conf = c.read();
  ASSERT_TRUE(conf);
  EXPECT_EQ((*conf)["type"], "subscribe");  // analyze subscribes first
  std::vector<json> got;
  bool started = false;
  for (int i = 0; i < 40; ++i) {
    auto m = c.read();
    ASSERT_TRUE(m) << "no decision_update";
    if ((*m)["type"] == "alert") {
      EXPECT_EQ((*m)["alert_type"], "info");
      EXPECT_EQ((*m)["message"], "Analysis started for AAPL");
      started = true;
      continue;
    }
    got.push_back(*m);
    if ((*m)["type"] == "decision_update") break;
  }
  EXPECT_TRUE(started);
  std::set<std::string> signals;
  std::uint64_t last_seq = 0;
  int agent_updates = 0, signal_updates = 0;
  for (const auto& m : got) {
    ASSERT_TRUE(m.contains("seq")) << m.dump();
    EXPECT_GT(m["seq"].get<std::uint64_t>(), last_seq);  // in order, only growing
    last_seq = m["seq"];
    EXPECT_EQ(m["data"]["symbol"], "AAPL");
    if (m["type"] == "agent_update") {
      ++agent_updates;
      signals.insert(m["data"]["signal"].get<std::string>());
    } else if (m["type"] == "signal_update") {
      ++signal_updates;
      const auto& ac = m["data"]["agents_consensus"];
      EXPECT_EQ(ac["total_agents"], 3);
      EXPECT_EQ(ac["agent_details"].size(), 3u);
      EXPECT_EQ(m["data"]["action"], "BUY");
    }
  }
  EXPECT_TRUE(signals.contains("ANALYZING"));
  EXPECT_TRUE(signals.contains("PROCESSING"));
  EXPECT_TRUE(signals.contains("BUY"));
  EXPECT_GE(agent_updates, 4);
  EXPECT_EQ(signal_updates, 1);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back()["type"], "decision_update");
  EXPECT_EQ(got.back()["data"]["decision"]["action"], "BUY");
  EXPECT_EQ(got[got.size() - 2]["type"], "signal_update");

  // A later subscriber gets the latest signal as a snapshot right after its confirmation.
  WsClient late(f.port());
  late.read();
  late.send(R"({"type":"subscribe","symbol":"AAPL"})");
  auto c2 = late.read();
  ASSERT_TRUE(c2);
  EXPECT_EQ((*c2)["type"], "subscribe");
  auto snap = late.read();
  ASSERT_TRUE(snap);
  EXPECT_EQ((*snap)["type"], "signal_update");
  EXPECT_EQ((*snap)["snapshot"], true);
}

TEST(Server, SymbolEndpointSubscribesAndAnalyzesAtOnce) {
  Fixture f;
  WsClient c(f.port(), "/ws/symbols/nvda");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c.read())["type"], "heartbeat");
  auto conf = c.read();
  ASSERT_TRUE(conf);
  EXPECT_EQ((*conf)["type"], "subscribe");
  EXPECT_EQ((*conf)["symbol"], "NVDA");
  auto started = c.read_until("alert");
  ASSERT_TRUE(started);
  EXPECT_EQ((*started)["message"], "Analysis started for NVDA");
  EXPECT_TRUE(c.read_until("decision_update"));
}

TEST(Server, ClientsOnlyReceiveTheirRoomsMessages) {
  Fixture f;
  WsClient a(f.port()), b(f.port());
  a.read();
  b.read();
  a.send(R"({"type":"subscribe","symbol":"AAPL"})");
  b.send(R"({"type":"subscribe","symbol":"NVDA"})");
  a.read();
  b.read();
  for (int i = 0; i < 5; ++i) {
    f.server.publish("AAPL", MessageKind::AgentUpdate, agent_body("AAPL", i));
    f.server.publish("NVDA", MessageKind::AgentUpdate, agent_body("NVDA", i));
  }
  for (int i = 0; i < 5; ++i) {
    auto ma = a.read_until("agent_update");
    auto mb = b.read_until("agent_update");
    ASSERT_TRUE(ma && mb);
    EXPECT_EQ((*ma)["data"]["symbol"], "AAPL");
    EXPECT_EQ((*mb)["data"]["symbol"], "NVDA");
    EXPECT_EQ((*ma)["data"]["n"], i);
  }
}

TEST(Server, SeveralIoThreadsKeepEachRoomInSeqOrder) {
  auto o = test_options();
  o.io_threads = 2;
  Fixture f(o);
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<WsClient>(f.port()));
    clients.back()->read();
    clients.back()->send(std::string(R"({"type":"subscribe","symbol":")") +
                         (i % 2 ? "NVDA" : "AAPL") + "\"}");
    clients.back()->read();
  }
  std::thread other([&] {  // a second producer, as a Python agent thread would be
    for (int i = 0; i < 50; ++i)
      f.server.publish("NVDA", MessageKind::AgentUpdate, agent_body("NVDA", i));
  });
  for (int i = 0; i < 50; ++i)
    f.server.publish("AAPL", MessageKind::AgentUpdate, agent_body("AAPL", i));
  other.join();
  for (int c = 0; c < 4; ++c) {
    std::uint64_t last = 0;
    for (int i = 0; i < 50; ++i) {
      auto m = clients[c]->read_until("agent_update");
      ASSERT_TRUE(m);
      EXPECT_EQ((*m)["data"]["symbol"], c % 2 ? "NVDA" : "AAPL");
      EXPECT_EQ((*m)["data"]["n"], i);
      EXPECT_GT((*m)["seq"].get<std::uint64_t>(), last);
      last = (*m)["seq"];
    }
  }
}

// With history on, the store commits and hands messages to the network thread while
// clients come and go: each resume with `since` must continue the stream exactly.
TEST(Server, ResumingWithSinceWhileMessagesFlowGivesEveryMessageOnce) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("gs_resume_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto o = test_options();
  o.db = (dir / "history.db").string();
  o.message_queue_size = 4000;  // a recovery may re-send up to 2,000 (a slow sanitizer run)
  {
    Fixture f(o);
    constexpr int kTotal = 3000;
    auto client = std::make_unique<WsClient>(f.port());
    ASSERT_TRUE(client->read_until("heartbeat"));
    client->send(R"({"type":"subscribe","symbol":"AAPL"})");
    ASSERT_TRUE(client->read_until("subscribe"));
    std::jthread publisher([&] {  // joined on any exit, a failed ASSERT included
      for (int i = 0; i < kTotal; ++i) {
        f.server.publish("AAPL", MessageKind::AgentUpdate, agent_body("AAPL", i));
        if (i % 25 == 24) std::this_thread::sleep_for(1ms);  // about 20,000 a second at most
      }
    });
    std::uint64_t last_seq = 0;
    int next = 0, resumes = 0, recovered = 0;
    while (next < kTotal) {
      // Read a stretch (17 to 240 messages), then drop the connection and resume.
      const int stretch = 17 + (resumes * 37) % 224;
      for (int k = 0; k < stretch && next < kTotal; ++k) {
        auto m = client->read_until("agent_update");
        ASSERT_TRUE(m) << "message n=" << next << " after " << resumes << " resumes";
        ASSERT_EQ((*m)["data"]["n"].get<int>(), next) << "after " << resumes << " resumes";
        const auto seq = (*m)["seq"].get<std::uint64_t>();
        if (last_seq != 0) {
          ASSERT_EQ(seq, last_seq + 1) << "n=" << next;
        }
        last_seq = seq;
        ++next;
      }
      if (next == kTotal) break;
      client = std::make_unique<WsClient>(f.port());
      ASSERT_TRUE(client->read_until("heartbeat"));
      client->send(R"({"type":"subscribe","symbol":"AAPL","since":)" + std::to_string(last_seq) +
                   "}");
      auto conf = client->read_until("subscribe");
      ASSERT_TRUE(conf);
      ASSERT_TRUE((*conf)["recovered"].get<bool>()) << conf->dump();
      ++recovered;
      ++resumes;
    }
    publisher.join();
    EXPECT_EQ(next, kTotal);
    EXPECT_GE(recovered, 10);
  }
  std::filesystem::remove_all(dir);
}

// The hand-over from the store is bounded: with event_queue_size steps waiting for the
// strand, the store's thread waits; each drain makes room again, and everything runs in order.
TEST(EventRouter, HandOverWaitsWhileTheStrandIsBehindThenRunsEverythingInOrder) {
  auto o = test_options();
  o.event_queue_size = 4;
  auto ctx = std::make_shared<ServerContext>(o, make_runtime(0));
  boost::asio::io_context ioc;  // not running yet: the strand is "behind"
  auto router = std::make_shared<EventRouter>(share_part(ctx, ctx->router_parts),
                                              boost::asio::make_strand(ioc));
  std::vector<int> ran;  // touched only by the steps, on the thread running ioc
  auto batch = [&](int first) {
    std::vector<Journal::Step> steps;
    for (int i = first; i < first + 3; ++i) {
      steps.emplace_back(std::function<void()>([&ran, i] { ran.push_back(i); }));
    }
    return steps;
  };
  std::atomic<int> handed{0};
  std::thread store([&] {
    for (int b = 0; b < 3; ++b) {
      router->hand_over(batch(b * 3));
      handed.fetch_add(1);
    }
  });
  // Two batches (6 steps >= 4) are queued; the third waits for a drain.
  ASSERT_TRUE(Fixture::eventually([&] { return handed.load() == 2; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(handed.load(), 2);
  while (handed.load() < 3 || ran.size() < 9) {
    ioc.poll();
    ioc.restart();
    std::this_thread::sleep_for(1ms);
  }
  store.join();
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  router->stop();
  ctx->runtime->stop();
}

// --- bad input ----------------------------------------------------------------------------

TEST(Server, BadInputsAreAnsweredAndTheConnectionStays) {
  auto o = test_options();
  o.max_subscriptions_per_client = 2;
  o.analyze_rate = RateLimit{0.001, 1};
  Fixture f(o);
  WsClient c(f.port());
  c.read();
  auto expect_code = [&](const std::string& msg, const std::string& code,
                         const std::string& severity = "error") {
    c.send(msg);
    auto m = c.read_until("alert");
    ASSERT_TRUE(m) << msg;
    EXPECT_EQ((*m)["code"], code) << msg;
    EXPECT_EQ((*m)["severity"], severity) << msg;
    EXPECT_FALSE((*m)["message"].get<std::string>().empty());
  };
  expect_code("not json", "invalid_json");
  expect_code("[1,2]", "bad_request");
  expect_code(R"({"symbol":"AAPL"})", "bad_request");
  expect_code(R"({"type":5})", "bad_request");
  expect_code(R"({"type":"subscribe","symbol":7})", "bad_request");
  expect_code(R"({"type":"dance"})", "unknown_type", "warning");
  expect_code(R"({"type":"subscribe"})", "invalid_symbol");
  expect_code(R"({"type":"subscribe","symbol":"no spaces!"})", "invalid_symbol");
  expect_code(R"({"type":"analyze","symbol":"MSFT"})", "invalid_symbol");         // not tracked
  expect_code(R"({"type":"history","symbol":"AAPL","limit":5})", "unavailable");  // no store
  expect_code(R"({"type":"history","symbol":"AAPL","limit":0})", "bad_request");
  expect_code(R"({"type":"replay","symbol":"AAPL"})", "bad_request");  // no from/to
  expect_code(R"({"type":"replay","symbol":"AAPL","from":"2024-01-02","to":"x"})", "bad_request");
  expect_code(R"({"type":"subscribe","symbol":"AAPL","since":-3})", "bad_request");
  expect_code(R"({"type":"subscribe","symbol":"AAPL","since":"3"})", "bad_request");
  c.send(R"({"type":"subscribe","symbol":"A1"})");
  c.send(R"({"type":"subscribe","symbol":"A2"})");
  expect_code(R"({"type":"subscribe","symbol":"A3"})", "too_many_subscriptions");
  c.send(R"({"type":"unsubscribe","symbol":"A1"})");
  c.send(R"({"type":"analyze","symbol":"AAPL"})");  // the one token of the bucket
  auto started = c.read_until("alert");
  ASSERT_TRUE(started);
  EXPECT_EQ((*started)["code"], "analysis_started");
  c.send(R"({"type":"analyze","symbol":"AAPL"})");
  auto limited = c.read_until("alert");
  ASSERT_TRUE(limited);
  EXPECT_EQ((*limited)["code"], "rate_limited");
  EXPECT_EQ((*limited)["severity"], "warning");
  EXPECT_GT((*limited)["retry_after"].get<double>(), 0.0);
  c.send(R"({"type":"ping"})");
  EXPECT_TRUE(c.read_until("pong"));  // still open
  EXPECT_EQ(f.server.stats().active_connections, 1u);
}

TEST(Server, OversizeFrameClosesWith1009) {
  auto o = test_options();
  o.max_message_bytes = 1024;
  Fixture f(o);
  WsClient c(f.port());
  c.read();
  c.send(R"({"type":"ping","pad":")" + std::string(2000, 'x') + "\"}");
  EXPECT_EQ(c.read_until_closed(), 1009) << c.error().message();
}

TEST(Server, InvalidUtf8ClosesWith1007) {
  Fixture f;
  WsClient c(f.port());
  c.read();
  c.send(std::string("{\"type\":\"ping\",\"x\":\"\xc3\x28\"}"));
  EXPECT_EQ(c.read_until_closed(), 1007);
}

TEST(Server, UpgradesPastMaxConnectionsAreRefusedWith503) {
  auto o = test_options();
  o.max_connections = 2;
  Fixture f(o);
  auto a = std::make_unique<WsClient>(f.port());
  WsClient b(f.port());
  ASSERT_TRUE(a->ok() && b.ok());
  WsClient c(f.port());
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.response().result_int(), 503);
  EXPECT_EQ(f.server.stats().rejected_connections, 1u);
  a->ws().close(test::websocket::close_code::normal);
  a.reset();
  ASSERT_TRUE(Fixture::eventually([&] { return f.server.stats().active_connections == 1; }));
  WsClient d(f.port());
  EXPECT_TRUE(d.ok());  // the slot was released
}

TEST(Server, BadUpgradeTargetsAreRefused) {
  Fixture f;
  WsClient bad_path(f.port(), "/ws/nowhere");
  EXPECT_FALSE(bad_path.ok());
  EXPECT_EQ(bad_path.response().result_int(), 404);
  WsClient bad_symbol(f.port(), "/ws/symbols/no%20way");
  EXPECT_FALSE(bad_symbol.ok());
  EXPECT_EQ(bad_symbol.response().result_int(), 400);
  WsClient bad_format(f.port(), "/ws/signals?format=xml");
  EXPECT_EQ(bad_format.response().result_int(), 400);
}

// --- slow consumers -----------------------------------------------------------------------

TEST(Server, ASlowConsumerIsClosedWith1008WhileOthersKeepReceiving) {
  auto o = test_options();
  o.message_queue_size = 16;
  o.socket_send_buffer = 4096;
  o.close_timeout = 3s;
  Fixture f(o);
  WsClient fast(f.port());
  WsClient slow(f.port(), "/ws/signals", 4096);
  fast.read();
  fast.send(R"({"type":"subscribe","symbol":"AAPL"})");
  fast.read();
  slow.send(R"({"type":"subscribe","symbol":"AAPL"})");
  ASSERT_TRUE(Fixture::eventually([&] { return f.server.stats().rooms["AAPL"] == 2; }));
  int n = 0;
  int after_close = 0;
  // Paced batches: the fast reader keeps up, the slow one (never reading) falls behind.
  while (n < 4000 && after_close < 40) {
    for (int i = 0; i < 8; ++i) {
      f.server.publish("AAPL", MessageKind::AgentUpdate, agent_body("AAPL", n + i, 1000));
    }
    for (int i = 0; i < 8; ++i) {
      auto m = fast.read_until("agent_update");
      ASSERT_TRUE(m) << "the fast client stalled at " << n + i;
      ASSERT_EQ((*m)["data"]["n"], n + i);
    }
    n += 8;
    if (f.server.stats().slow_consumer_closes > 0) after_close += 8;
  }
  EXPECT_EQ(f.server.stats().slow_consumer_closes, 1u);
  EXPECT_GT(f.server.stats().messages_dropped, 0u);
  EXPECT_EQ(slow.read_until_closed(), 1008);
  EXPECT_EQ(slow.ws().reason().reason, "slow consumer");
}

// Batches of queued frames, some taken by the socket at once and some waiting for room in a
// full socket buffer: every frame arrives whole and in order.
TEST(Server, FramesArriveWholeAndInOrderThroughAFullSocket) {
  auto o = test_options();
  o.message_queue_size = 100'000;
  o.socket_send_buffer = 4096;
  Fixture f(o);
  WsClient c(f.port(), "/ws/signals", 4096);
  c.send(R"({"type":"subscribe","symbol":"AAPL"})");
  ASSERT_TRUE(Fixture::eventually([&] { return f.server.stats().rooms["AAPL"] == 1; }));
  constexpr int kMessages = 1500;
  // Reads slowly from the start, so the socket stays full.
  int got = 0;
  std::thread reader([&] {
    for (; got < kMessages; ++got) {
      if (got % 20 == 0) std::this_thread::sleep_for(1ms);
      auto m = c.read_until("agent_update");
      if (!m || (*m)["data"]["n"] != got) return;
    }
  });
  for (int i = 0; i < kMessages; ++i) {
    f.server.publish("AAPL", MessageKind::AgentUpdate, agent_body("AAPL", i, 700));
  }
  reader.join();
  EXPECT_EQ(got, kMessages) << "agent_update " << got << " did not arrive in order";
  EXPECT_EQ(f.server.stats().slow_consumer_closes, 0u);
  EXPECT_EQ(f.server.stats().idle_closes, 0u);
}

TEST(Server, NewerPricesReplaceUnsentOnesForASlowReader) {
  auto o = test_options();
  o.message_queue_size = 16;
  o.socket_send_buffer = 4096;
  Fixture f(o);
  WsClient slow(f.port(), "/ws/signals", 4096);
  slow.send(R"({"type":"subscribe","symbol":"AAPL"})");
  ASSERT_TRUE(Fixture::eventually([&] { return f.server.stats().rooms["AAPL"] == 1; }));
  for (int i = 0; i < 600; ++i) {
    f.server.publish("AAPL", MessageKind::PriceUpdate,
                     json{{"type", "price_update"},
                          {"data", {{"symbol", "AAPL"}, {"n", i}, {"pad", std::string(1000, 'p')}}}}
                         .dump());
  }
  ASSERT_TRUE(Fixture::eventually([&] { return f.server.stats().messages_dropped > 0; }));
  EXPECT_EQ(f.server.stats().slow_consumer_closes, 0u);
  int last_n = -1;
  std::uint64_t last_seq = 0;
  while (auto m = slow.read(500ms)) {
    if ((*m)["type"] != "price_update") continue;
    EXPECT_GT((*m)["seq"].get<std::uint64_t>(), last_seq);
    last_seq = (*m)["seq"];
    last_n = (*m)["data"]["n"];
  }
  EXPECT_EQ(last_n, 599);  // the newest price always arrives
}

// --- HTTP ---------------------------------------------------------------------------------

TEST(Server, HealthStatusAndMetrics) {
  Fixture f;
  auto h = test::http_get(f.port(), "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(json::parse(h.body), json({{"status", "ok"}}));
  EXPECT_NE(h.head.find("application/json"), std::string::npos);

  WsClient c(f.port());
  c.read();
  c.send(R"({"type":"analyze","symbol":"AAPL"})");
  ASSERT_TRUE(c.read_until("decision_update"));
  auto s = test::http_get(f.port(), "/ws/status");
  ASSERT_EQ(s.status, 200);
  auto st = json::parse(s.body);
  const auto& wm = st["websocket_manager"];
  EXPECT_EQ(wm["total_connections"], 1);
  EXPECT_EQ(wm["active_connections"], 1);
  EXPECT_GT(wm["messages_sent"].get<int>(), 4);
  EXPECT_EQ(wm["messages_dropped"], 0);
  EXPECT_EQ(wm["rooms"], json({{"AAPL", 1}}));
  EXPECT_EQ(st["orchestrator"]["running"], true);
  EXPECT_EQ(st["orchestrator"]["analyses_completed"], 1);
  EXPECT_EQ(st["orchestrator"]["signals_generated"], 1);
  EXPECT_EQ(st["orchestrator"]["active_agents"], 3);
  ASSERT_EQ(st["agents"].size(), 3u);
  for (const char* k :
       {"name", "kind", "weight", "calls", "timeouts", "errors", "p50_ms", "enabled"}) {
    EXPECT_TRUE(st["agents"][0].contains(k)) << k;
  }
  EXPECT_EQ(st["agents"][0]["calls"], 1);

  c.send(R"({"type":"get_status"})");
  auto su = c.read_until("status_update");
  ASSERT_TRUE(su);
  const auto& d = (*su)["data"];
  EXPECT_EQ(d["websocket_connections"], 1);
  EXPECT_EQ(d["running"], true);
  EXPECT_EQ(d["active_agents"], 3);
  EXPECT_TRUE(d.contains("websocket_manager") && d.contains("orchestrator") &&
              d.contains("agents"));

  auto mt = test::http_get(f.port(), "/metrics");
  ASSERT_EQ(mt.status, 200);
  EXPECT_NE(mt.head.find("text/plain; version=0.0.4"), std::string::npos);
  for (const char* line :
       {"gs_websocket_connections_active 1\n", "gs_websocket_connections_total 1\n",
        "gs_websocket_slow_consumer_closes_total 0\n", "gs_analyses_completed_total 1\n",
        "gs_signals_generated_total 1\n", "gs_agent_calls_total{agent=\"Agent0\"} 1\n",
        "gs_agent_faults_total{agent=\"Agent0\",kind=\"timeout\"} 0\n",
        "gs_agent_latency_seconds_bucket{agent=\"Agent0\",le=\"+Inf\"} 1\n",
        "gs_agent_latency_seconds_count{agent=\"Agent1\"} 1\n",
        "# TYPE gs_agent_latency_seconds histogram\n"}) {
    EXPECT_NE(mt.body.find(line), std::string::npos) << line;
  }
}

TEST(Server, HistoryEndpointSaysDisabledWithoutStoreAndWebSocketPathsNeedAnUpgrade) {
  Fixture f;
  auto r = test::http_get(f.port(), "/api/signals?symbol=AAPL&limit=10");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"], "history_disabled");
  EXPECT_EQ(test::http_get(f.port(), "/api/signals?symbol=AAPL&limit=0").status, 400);
  EXPECT_EQ(test::http_get(f.port(), "/ws/signals").status, 426);
  EXPECT_EQ(test::http_get(f.port(), "/health", "POST").status, 405);
  auto home = test::http_get(f.port(), "/");
  EXPECT_EQ(home.status, 200);
  EXPECT_NE(home.head.find("text/html"), std::string::npos);
  EXPECT_NE(home.body.find("/ws/signals"), std::string::npos);
}

TEST(Server, StaticFilesFromWebRootWithTypesAndNoTraversal) {
  const auto root =
      std::filesystem::temp_directory_path() / ("gs_web_" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "js");
  std::ofstream(root / "index.html") << "<html>dash</html>";
  std::ofstream(root / "js" / "app.js") << "console.log(1)";
  std::ofstream(root.parent_path() / "gs_secret.txt") << "secret";
  auto o = test_options();
  o.web_root = root.string();
  {
    Fixture f(o);
    auto i = test::http_get(f.port(), "/");
    EXPECT_EQ(i.status, 200);
    EXPECT_EQ(i.body, "<html>dash</html>");
    EXPECT_NE(i.head.find("text/html"), std::string::npos);
    auto js = test::http_get(f.port(), "/js/app.js");
    EXPECT_EQ(js.status, 200);
    EXPECT_NE(js.head.find("text/javascript"), std::string::npos);
    auto head = test::http_get(f.port(), "/js/app.js", "HEAD");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(test::http_get(f.port(), "/missing.css").status, 404);
    EXPECT_EQ(test::http_get(f.port(), "/../gs_secret.txt").status, 400);
    EXPECT_EQ(test::http_get(f.port(), "/%2e%2e/gs_secret.txt").status, 400);
    EXPECT_EQ(test::http_get(f.port(), "/js/%2E%2E/%2E%2E/gs_secret.txt").status, 400);
    EXPECT_EQ(test::http_get(f.port(), "/bad%zz").status, 400);
  }
  std::filesystem::remove_all(root);
  std::filesystem::remove(root.parent_path() / "gs_secret.txt");
}

// --- formats, lifecycle --------------------------------------------------------------------

TEST(Server, MessagePackClientsGetBinaryFramesOfTheSameObjects) {
  Fixture f;
  WsClient c(f.port(), "/ws/signals?format=msgpack");
  ASSERT_TRUE(c.ok());
  auto w = c.read();
  ASSERT_TRUE(w);
  EXPECT_TRUE(c.last_binary());
  EXPECT_EQ((*w)["type"], "heartbeat");
  EXPECT_EQ((*w)["message"], "Connected to GoldenSignals WebSocket");
  c.send(R"({"type":"subscribe","symbol":"AAPL"})");
  auto conf = c.read();
  ASSERT_TRUE(conf);
  EXPECT_EQ((*conf)["status"], "subscribed");
  const auto ping = json::to_msgpack(json{{"type", "ping"}});  // clients may speak it too
  c.send_binary(std::string(ping.begin(), ping.end()));
  auto pong = c.read();
  ASSERT_TRUE(pong);
  EXPECT_TRUE(c.last_binary());
  EXPECT_EQ((*pong)["type"], "pong");
  f.server.publish("AAPL", MessageKind::AgentUpdate, agent_body("AAPL", 7));
  auto u = c.read();
  ASSERT_TRUE(u);
  EXPECT_EQ((*u)["seq"], 1);  // only bars' prices before, and nobody subscribed saw them
  EXPECT_EQ((*u)["data"]["n"], 7);
}

TEST(Server, StopClosesEveryClientWith1001) {
  Fixture f;
  WsClient a(f.port()), b(f.port());
  a.read();
  b.read();
  ASSERT_TRUE(Fixture::eventually([&] { return f.server.stats().active_connections == 2; }));
  std::thread stopper([&] { f.server.stop(); });
  const int ca = a.read_until_closed();
  const int cb = b.read_until_closed();
  stopper.join();
  EXPECT_EQ(ca, 1001);
  EXPECT_EQ(cb, 1001);
  EXPECT_FALSE(f.server.running());
  EXPECT_EQ(f.server.stats().active_connections, 0u);
  EXPECT_ANY_THROW(test::http_get(f.port(), "/health"));  // nothing listens any more
  f.server.start();                                       // and it can serve again
  EXPECT_EQ(test::http_get(f.server.port(), "/health").status, 200);
}

TEST(Server, SilentClientsAreClosedWith1001AndResponsiveOnesStay) {
  auto o = test_options();
  o.heartbeat_interval = 300ms;
  Fixture f(o);
  WsClient silent(f.port()), live(f.port());
  // `live` keeps reading (Beast answers the server's pings); `silent` neither reads nor sends.
  // Bounded generously: sanitizer builds on a loaded machine are many times slower.
  const auto end = std::chrono::steady_clock::now() + 10s;
  int heartbeats = 0;
  while (heartbeats < 3 && std::chrono::steady_clock::now() < end) {
    // A read that times out gives up the stream, so each read waits well past an interval.
    if (auto m = live.read(2s); m && (*m)["type"] == "heartbeat") ++heartbeats;
  }
  EXPECT_GE(heartbeats, 3);  // the welcome and the periodic ones
  // Reading would answer the server's pings: wait for the server to give up on `silent` first.
  ASSERT_TRUE(Fixture::eventually([&] { return f.server.stats().idle_closes == 1; }));
  EXPECT_EQ(silent.read_until_closed(), 1001);
  EXPECT_EQ(silent.ws().reason().reason, "idle timeout");
  live.send(R"({"type":"ping"})");
  EXPECT_TRUE(live.read_until("pong"));
  EXPECT_EQ(f.server.stats().idle_closes, 1u);
}

TEST(Server, StartNamesTheAddressWhenThePortIsTaken) {
  Fixture f;
  auto o = test_options();
  o.port = f.port();
  Server second(o, f.runtime);
  try {
    second.start();
    FAIL() << "started on a taken port";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(f.port())),
              std::string::npos)
        << e.what();
  }
}

TEST(ServerOptions, ValidateNamesTheFieldTheValueAndTheRange) {
  ServerOptions ok;
  EXPECT_NO_THROW(ok.validate());
  auto bad = [](auto mutate, const std::string& field) {
    ServerOptions o;
    mutate(o);
    try {
      o.validate();
      ADD_FAILURE() << field << " accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
    }
  };
  bad([](ServerOptions& o) { o.host = "localhost:80"; }, "host");
  bad([](ServerOptions& o) { o.message_queue_size = 0; }, "message_queue_size");
  bad([](ServerOptions& o) { o.io_threads = 0; }, "io_threads");
  bad([](ServerOptions& o) { o.heartbeat_interval = 0ms; }, "heartbeat_interval");
  bad([](ServerOptions& o) { o.analyze_rate.per_second = -1; }, "analyze_rate.per_second");
  bad([](ServerOptions& o) { o.web_root = "/no/such/dir"; }, "web_root");
  EXPECT_THROW(Server(ServerOptions{}, nullptr), InvalidArgument);
}

// --- rooms without sockets ------------------------------------------------------------------

struct FakeSubscriber final : Subscriber {
  SendStatus send(MessagePtr m) override {
    got.push_back(std::move(m));
    return SendStatus::Queued;
  }
  void close(std::uint16_t, std::string) override {}
  std::vector<MessagePtr> got;
};

TEST(RoomHub, OneSharedBufferForEverySubscriberAndSnapshotsForLateJoiners) {
  RoomHub hub;
  auto a = std::make_shared<FakeSubscriber>(), b = std::make_shared<FakeSubscriber>();
  auto c = std::make_shared<FakeSubscriber>();
  hub.connect(a);
  hub.connect(b);
  EXPECT_TRUE(hub.join("AAPL", a, make_message(MessageKind::Reply, "{}")));
  EXPECT_FALSE(hub.join("AAPL", a, make_message(MessageKind::Reply, "{}")));  // once only
  hub.join("AAPL", b, make_message(MessageKind::Reply, "{}"));
  hub.join("NVDA", c, make_message(MessageKind::Reply, "{}"));
  EXPECT_EQ(hub.publish("AAPL",
                        std::make_shared<const std::string>(R"({"seq":1,"type":"signal_update"})"),
                        MessageKind::SignalUpdate),
            2u);
  ASSERT_EQ(a->got.size(), 3u);
  ASSERT_EQ(b->got.size(), 2u);
  EXPECT_EQ(a->got.back().get(), b->got.back().get());  // the very same message object
  EXPECT_EQ(&a->got.back()->json(), &b->got.back()->json());
  EXPECT_EQ(a->got.back()->msgpack().data(), b->got.back()->msgpack().data());    // encoded once
  EXPECT_EQ(a->got.back()->protobuf().data(), b->got.back()->protobuf().data());  // likewise
  EXPECT_FALSE(a->got.back()->protobuf().empty());
  EXPECT_EQ(c->got.size(), 1u);  // other room: only its confirmation
  auto late = std::make_shared<FakeSubscriber>();
  hub.join("AAPL", late, make_message(MessageKind::Reply, R"({"type":"subscribe"})"));
  ASSERT_EQ(late->got.size(), 2u);
  EXPECT_EQ(late->got[1]->json(), R"({"snapshot":true,"seq":1,"type":"signal_update"})");
  EXPECT_EQ(hub.publish_all(std::make_shared<const std::string>("{}"), MessageKind::Heartbeat), 2u);
  EXPECT_TRUE(hub.leave("AAPL", a.get()));
  EXPECT_EQ(hub.room_sizes()["AAPL"], 2u);
  b.reset();  // a dead subscriber is skipped and pruned
  EXPECT_EQ(hub.room_sizes()["AAPL"], 1u);
  EXPECT_EQ(hub.clients(), 1u);
}

// Members leave from anywhere in the list (the last one fills the gap): every publish reaches
// exactly the members of the moment, once each.
TEST(RoomHub, JoinsAndLeavesInAnyOrderKeepExactlyTheMembers) {
  RoomHub hub;
  std::vector<std::shared_ptr<FakeSubscriber>> subs(500);
  for (auto& s : subs) {
    s = std::make_shared<FakeSubscriber>();
    hub.connect(s);
    ASSERT_TRUE(hub.join("AAPL", s, make_message(MessageKind::Reply, "{}"), {}, false));
  }
  std::mt19937 rng(5);
  std::vector<bool> in(subs.size(), true);
  std::size_t members = subs.size();
  for (int round = 0; round < 40; ++round) {
    for (int k = 0; k < 50; ++k) {  // leave or come back, at random places
      const std::size_t i = rng() % subs.size();
      if (in[i]) {
        EXPECT_TRUE(hub.leave("AAPL", subs[i].get()));
        EXPECT_FALSE(hub.leave("AAPL", subs[i].get()));
        --members;
      } else {
        EXPECT_TRUE(hub.join("AAPL", subs[i], make_message(MessageKind::Reply, "{}"), {}, false));
        ++members;
      }
      in[i] = !in[i];
    }
    for (auto& s : subs) s->got.clear();
    ASSERT_EQ(
        hub.publish("AAPL", std::make_shared<const std::string>("{}"), MessageKind::PriceUpdate),
        members);
    for (std::size_t i = 0; i < subs.size(); ++i) {
      EXPECT_EQ(subs[i]->got.size(), in[i] ? 1u : 0u) << "round " << round << ", member " << i;
    }
    EXPECT_EQ(hub.room_sizes()["AAPL"], members);
  }
  for (std::size_t i = 0; i < subs.size(); i += 2) hub.disconnect(subs[i].get());
  EXPECT_EQ(hub.clients(), subs.size() / 2);
  EXPECT_EQ(hub.all_clients().size(), subs.size() / 2);
}

// A subscriber whose sends are counted atomically (published to from several threads).
struct CountingSubscriber final : Subscriber {
  SendStatus send(MessagePtr) override {
    sent.fetch_add(1);
    return SendStatus::Queued;
  }
  void close(std::uint16_t, std::string) override {}
  std::atomic<int> sent{0};
};

// Publishers walk a room while others join and leave it: a walked list is never changed under
// them (they get a copy's worth of stability), and members that stay get every message.
TEST(RoomHub, PublishersWalkingARoomNeverSeeItChangeUnderThem) {
  RoomHub hub;
  std::vector<std::shared_ptr<CountingSubscriber>> stay(50), churn(50);
  for (auto& s : stay) {
    s = std::make_shared<CountingSubscriber>();
    hub.join("AAPL", s, make_message(MessageKind::Reply, "{}"), {}, false);
  }
  for (auto& s : churn) s = std::make_shared<CountingSubscriber>();
  constexpr int kPublishes = 2000;
  std::atomic<bool> done{false};
  std::atomic<int> churned_steps{0};
  std::vector<std::thread> publishers;
  for (int t = 0; t < 2; ++t) {
    publishers.emplace_back([&] {
      while (churned_steps.load() == 0) std::this_thread::yield();  // overlap the churn
      for (int i = 0; i < kPublishes; ++i) {
        hub.publish("AAPL", std::make_shared<const std::string>("{}"), MessageKind::PriceUpdate);
      }
    });
  }
  std::vector<int> joins(churn.size(), 0);  // written by the churner only
  std::thread churner([&] {
    std::mt19937 rng(9);
    std::vector<bool> in(churn.size(), false);
    for (int step = 0; step < 500 || !done.load(); ++step) {
      churned_steps.fetch_add(1);
      const std::size_t i = rng() % churn.size();
      if (in[i]) {
        EXPECT_TRUE(hub.leave("AAPL", churn[i].get()));
      } else {
        EXPECT_TRUE(hub.join("AAPL", churn[i], make_message(MessageKind::Reply, "{}"), {}, false));
        ++joins[i];
      }
      in[i] = !in[i];
    }
  });
  for (auto& t : publishers) t.join();
  done.store(true);
  churner.join();
  for (const auto& s : stay) EXPECT_EQ(s->sent.load(), 2 * kPublishes + 1);  // + its confirmation
  // A member at most once in any walk: never more than every publish plus its confirmations.
  int churned = 0;
  for (std::size_t i = 0; i < churn.size(); ++i) {
    EXPECT_LE(churn[i]->sent.load(), 2 * kPublishes + joins[i]);
    churned += joins[i];
  }
  EXPECT_GT(churned, 0);
}

// A subscriber gone without leaving (a join that raced its close) is skipped by the next
// publish and removed by it, and a room left with no one in it goes away.
TEST(RoomHub, MembersGoneWithoutLeavingArePrunedByTheNextPublish) {
  RoomHub hub;
  auto stays = std::make_shared<FakeSubscriber>();
  hub.connect(stays);
  hub.join("AAPL", stays, make_message(MessageKind::Reply, "{}"), {}, false);
  for (int i = 0; i < 100; ++i) {
    auto gone = std::make_shared<FakeSubscriber>();
    hub.connect(gone);
    hub.join("AAPL", gone, make_message(MessageKind::Reply, "{}"), {}, false);
    hub.join("NVDA", gone, make_message(MessageKind::Reply, "{}"), {}, false);
  }  // each gone without leave() or disconnect()
  EXPECT_EQ(hub.room_sizes()["AAPL"], 1u);
  EXPECT_EQ(
      hub.publish("AAPL", std::make_shared<const std::string>("{}"), MessageKind::PriceUpdate), 1u);
  EXPECT_EQ(
      hub.publish("NVDA", std::make_shared<const std::string>("{}"), MessageKind::PriceUpdate), 0u);
  const auto sizes = hub.room_sizes();
  EXPECT_EQ(sizes.size(), 1u);  // NVDA is gone with its members
  EXPECT_EQ(sizes.at("AAPL"), 1u);
  EXPECT_EQ(hub.publish_all(std::make_shared<const std::string>("{}"), MessageKind::Heartbeat), 1u);
  EXPECT_EQ(hub.clients(), 1u);
  // A later member and a leave still work on the pruned lists.
  auto late = std::make_shared<FakeSubscriber>();
  EXPECT_TRUE(hub.join("AAPL", late, make_message(MessageKind::Reply, "{}"), {}, false));
  EXPECT_TRUE(hub.leave("AAPL", stays.get()));
  EXPECT_EQ(
      hub.publish("AAPL", std::make_shared<const std::string>("{}"), MessageKind::PriceUpdate), 1u);
  EXPECT_EQ(late->got.size(), 2u);
}

// A burst of one symbol reaches each member in one step, in order, and its last
// signal_update becomes the snapshot; a subscriber without a burst step of its own gets one
// send() per message and stops at the first it refuses.
TEST(RoomHub, ABurstReachesEachMemberInOneStepInOrder) {
  struct BurstSubscriber final : Subscriber {
    SendStatus send(MessagePtr) override { return SendStatus::Queued; }  // the confirmation
    std::size_t send_burst(std::span<const MessagePtr> burst) override {
      bursts.emplace_back(burst.begin(), burst.end());
      return burst.size();
    }
    void close(std::uint16_t, std::string) override {}
    std::vector<std::vector<MessagePtr>> bursts;
  };
  struct FullAfterOne final : Subscriber {
    SendStatus send(MessagePtr) override {
      return ++sends == 1 ? SendStatus::Queued : SendStatus::Dropped;
    }
    void close(std::uint16_t, std::string) override {}
    int sends = 0;
  };
  RoomHub hub;
  auto burst_taker = std::make_shared<BurstSubscriber>();
  auto one_by_one = std::make_shared<FakeSubscriber>();
  auto full = std::make_shared<FullAfterOne>();
  hub.join("AAPL", burst_taker, make_message(MessageKind::Reply, "{}"), {}, false);
  hub.join("AAPL", one_by_one, make_message(MessageKind::Reply, "{}"), {}, false);
  hub.join("AAPL", full, make_message(MessageKind::Reply, "{}"), {}, false);
  full->sends = 0;  // its confirmation does not count
  const std::vector<MessagePtr> burst = {
      make_message(MessageKind::SignalUpdate, R"({"seq":1,"type":"signal_update"})", "AAPL"),
      make_message(MessageKind::PriceUpdate, R"({"type":"price_update"})", "AAPL"),
      make_message(MessageKind::SignalUpdate, R"({"seq":2,"type":"signal_update"})", "AAPL"),
      make_message(MessageKind::DecisionUpdate, R"({"seq":3,"type":"decision_update"})", "AAPL"),
  };
  // 4 to the burst taker, 4 one by one, 1 to the one full after one.
  EXPECT_EQ(hub.publish("AAPL", burst), 9u);
  ASSERT_EQ(burst_taker->bursts.size(), 1u);  // one step for all four
  EXPECT_EQ(burst_taker->bursts[0], burst);
  ASSERT_EQ(one_by_one->got.size(), 5u);  // its confirmation, then the four in order
  EXPECT_EQ(std::vector<MessagePtr>(one_by_one->got.begin() + 1, one_by_one->got.end()), burst);
  EXPECT_EQ(full->sends, 2);  // refused the second: not offered the rest
  auto late = std::make_shared<FakeSubscriber>();
  hub.join("AAPL", late, make_message(MessageKind::Reply, "{}"));
  ASSERT_EQ(late->got.size(), 2u);
  EXPECT_EQ(late->got[1]->json(), R"({"snapshot":true,"seq":2,"type":"signal_update"})");
  EXPECT_EQ(hub.publish("NVDA", burst), 0u);  // no room
}

// The router's steps: consecutive messages of one symbol go to the bus as one burst (at most
// 128), in order; another symbol or a recovery answer between them ends a burst.
TEST(RunSteps, ConsecutiveMessagesOfASymbolGoAsOneBurst) {
  struct RecordingBus final : Bus {
    void publish(const std::string& symbol, std::span<const MessagePtr> burst) override {
      std::string seqs;
      for (const auto& m : burst) seqs += m->json() + ",";
      calls.push_back(symbol + ":" + seqs);
    }
    void publish_all(std::shared_ptr<const std::string>, MessageKind) override {}
    std::vector<std::string> calls;
  };
  RecordingBus bus;
  std::vector<Journal::Step> steps;
  int n = 0;
  const auto pub = [&](const std::string& symbol) {
    steps.emplace_back(
        Journal::Publication{symbol, std::make_shared<const std::string>(std::to_string(++n)),
                             MessageKind::PriceUpdate});
  };
  pub("A");
  pub("A");
  pub("B");
  steps.emplace_back(std::function<void()>([&] { bus.calls.push_back("recovery"); }));
  pub("B");
  pub("B");
  for (int i = 0; i < 130; ++i) pub("A");
  run_steps(bus, steps);
  ASSERT_EQ(bus.calls.size(), 6u);
  EXPECT_EQ(bus.calls[0], "A:1,2,");
  EXPECT_EQ(bus.calls[1], "B:3,");
  EXPECT_EQ(bus.calls[2], "recovery");
  EXPECT_EQ(bus.calls[3], "B:4,5,");
  std::string first, second;
  for (int i = 6; i < 6 + 128; ++i) first += std::to_string(i) + ",";
  for (int i = 6 + 128; i < 6 + 130; ++i) second += std::to_string(i) + ",";
  EXPECT_EQ(bus.calls[4], "A:" + first);
  EXPECT_EQ(bus.calls[5], "A:" + second);
}

}  // namespace
}  // namespace gs
