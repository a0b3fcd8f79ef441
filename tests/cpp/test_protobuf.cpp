// ?format=protobuf's conversion (broadcast/protobuf.cpp): the server's own messages, made by the
// functions that make them, encode with nothing left out and decode back to the same object;
// what does not fit the schema is named and counted, never guessed; a type the schema does not
// know travels whole; client frames are read as their JSON requests are; a Message encodes once.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "goldensignals/broadcast/message.hpp"
#include "goldensignals/broadcast/protobuf.hpp"
#include "goldensignals/evaluation/scorer.hpp"
#include "goldensignals/net/protocol.hpp"
#include "goldensignals/orchestrator/events.hpp"
#include "inflate.hpp"

namespace gs {
namespace {

using nlohmann::json;

bool is_default(const json& v) {
  return (v.is_number() && v.get<double>() == 0.0) ||
         (v.is_string() && v.get<std::string>().empty()) || (v.is_boolean() && !v.get<bool>()) ||
         (v.is_array() && v.empty()) || (v.is_object() && v.empty());
}

// `got` is `want` as the schema carries it (docs/protocol.md, "Message formats"): every key of
// `want` with a value is there and equal (numbers by value); any other key is a proto3 default.
void expect_same(const json& got, const json& want, const std::string& path = "$") {
  if (want.is_object()) {
    ASSERT_TRUE(got.is_object()) << path << ": " << got.dump();
    for (const auto& [k, v] : want.items()) {
      if (v.is_null()) continue;
      ASSERT_TRUE(got.contains(k)) << path << "." << k << " is missing; want " << v.dump();
      expect_same(got.at(k), v, path + "." + k);
    }
    for (const auto& [k, v] : got.items()) {
      if (!want.contains(k) || want.at(k).is_null()) {
        EXPECT_TRUE(is_default(v))
            << path << "." << k << " = " << v.dump() << " is not in the JSON";
      }
    }
  } else if (want.is_array()) {
    ASSERT_TRUE(got.is_array() && got.size() == want.size()) << path << ": " << got.dump();
    for (std::size_t i = 0; i < want.size(); ++i) {
      expect_same(got[i], want[i], path + "[" + std::to_string(i) + "]");
    }
  } else if (want.is_number()) {
    ASSERT_TRUE(got.is_number()) << path << ": " << got.dump();
    EXPECT_DOUBLE_EQ(got.get<double>(), want.get<double>()) << path;
  } else {
    EXPECT_EQ(got, want) << path;
  }
}

json round_trip(const json& m) {
  const auto e = pb::encode_server(m);
  for (const auto& u : e.unmapped) ADD_FAILURE() << m.value("type", "?") << ": " << u;
  auto d = pb::decode_server(e.bytes);
  if (const auto* err = std::get_if<pb::DecodeError>(&d)) {
    ADD_FAILURE() << err->why;
    return {};
  }
  return std::get<json>(std::move(d));
}

Ballot ballot(const std::string& agent, AgentStatus status, std::optional<Action> a = {},
              double conf = 0.0) {
  Ballot b;
  b.agent = agent;
  b.status = status;
  b.latency_ms = 1.25;
  if (a) b.vote = Vote{*a, conf, {"because"}, 190.0, 180.0};
  if (status == AgentStatus::Timeout) b.error = "no answer within 1 s";
  return b;
}

Decision decision(bool signal) {
  Decision d;
  d.symbol = "AAPL";
  d.analysis_id = "a-1";
  d.price = 187.5;
  d.ts_ms = 1'700'000'000'123;
  d.market_ts_ms = 1'700'000'000'000;
  d.ballots = {ballot("Momentum", AgentStatus::Ok, Action::Buy, 0.8),
               ballot("Slow", AgentStatus::Timeout), ballot("Quiet", AgentStatus::Abstain)};
  d.consensus.total_agents = 3;
  d.consensus.completed_agents = 2;
  d.consensus.quorum = 1;
  d.consensus.valid_votes = 1;
  d.consensus.agreeing_agents = 1;
  d.consensus.agreement = 1.0;
  d.consensus.faulty_agents = {"Slow"};
  d.consensus.counted_agents = {"Momentum"};
  d.consensus.reasoning = {"Momentum: BUY 0.80"};
  if (signal) {
    d.consensus.action = Action::Buy;
    d.consensus.confidence = 0.8;
    d.consensus.target_price = 190.0;
    d.consensus.stop_loss = 180.0;
    d.signal_id = "s-1";
    d.position_size = 0.04;
  } else {
    d.consensus.reason = "quorum not reached";
  }
  return d;
}

json room(const char* type, std::uint64_t seq, json data) {
  return {{"type", type}, {"seq", seq}, {"data", std::move(data)}};
}

TEST(Protobuf, TheServersOwnMessagesRoundTripWithNothingLeftOut) {
  AgentUpdate u;
  u.symbol = "AAPL";
  u.analysis_id = "a-1";
  u.agent = "Momentum";
  u.signal = AgentSignal::Buy;
  u.confidence = 0.8;
  u.latency_ms = 0.4;
  u.reasoning = {"RSI 28 < 30", "MACD up"};
  u.ts_ms = 1'700'000'000'123;
  ScoredForecast f;
  f.symbol = "AAPL";
  f.signal_id = "s-1";
  f.analysis_id = "a-1";
  f.action = Action::Sell;
  f.confidence = 0.7;
  f.entry_price = 101.5;
  f.exit_price = 99.0;
  f.net_return = 0.0226;
  f.trade_return = 0.0246;
  f.forward_return = 0.0246;
  f.hit = true;
  json snapshot = room("signal_update", 9, signal_json(decision(true)));
  snapshot["snapshot"] = true;
  json replayed = room("agent_update", 3, agent_update_json(u));
  replayed["replay"] = true;
  const std::vector<json> messages = {
      json::parse(proto::welcome("c-1")),
      json::parse(proto::confirmation("subscribe", "AAPL", true, "5eeea217f3f7d643")),
      json::parse(proto::confirmation("unsubscribe", "AAPL", std::nullopt, "")),
      json::parse(proto::heartbeat()),
      json::parse(proto::heartbeat_ack()),
      json::parse(proto::pong()),
      json::parse(proto::alert({"rate_limited", "warning", "slow down"},
                               {{"symbol", "AAPL"}, {"retry_after", 0.2}})),
      json::parse(proto::alert({"bad_request", "error", "condition: at position 6: ..."},
                               {{"position", 6}, {"limit", 20}})),
      alert_json(Alert{AlertType::System, Severity::Critical, "history_degraded", "disk full", 1}),
      room("price_update", 1,
           {{"symbol", "AAPL"},
            {"price", 187.5},
            {"volume", 5.1e7},
            {"change", -0.5},
            {"change_percent", -0.27},
            {"timestamp", "2024-01-01T00:00:00.000Z"}}),
      replayed,
      snapshot,
      room("decision_update", 10, decision_json(decision(true))),
      room("decision_update", 11, decision_json(decision(false))),
      room("signal_outcome", 12, outcome_json(f, 5)),
  };
  for (const auto& m : messages) {
    SCOPED_TRACE(m.dump());
    expect_same(round_trip(m), m);
  }
}

// The messages every connection gets are written by hand, not through nlohmann::json: their
// text must be exactly what nlohmann::json would write (its names in order, its escapes).
TEST(ProtocolText, TheHandWrittenMessagesAreTheTextNlohmannWrites) {
  const std::string odd = std::string("a\"b\\c\b\f\n\r\t") + '\x01' + '\x1f' + "\x7f \u00e9\u4e2d/";
  const std::vector<std::string> texts = {
      proto::welcome("c-1"),
      proto::welcome(odd),
      proto::welcome(""),
      proto::confirmation("subscribe", "AAPL", true, "5eeea217f3f7d643"),
      proto::confirmation("subscribe", "BRK.B", false, ""),
      proto::confirmation("subscribe", "ES=F", std::nullopt, "e"),
      proto::confirmation("unsubscribe", "AAPL", std::nullopt, ""),
      proto::heartbeat(),
      proto::heartbeat_ack(),
      proto::pong()};
  for (const auto& t : texts) EXPECT_EQ(json::parse(t).dump(), t);
  EXPECT_EQ(json::parse(proto::welcome(odd))["client_id"], odd);
  const auto c = json::parse(proto::confirmation("subscribe", "AAPL", false, "5e"));
  EXPECT_EQ(c, (json{{"type", "subscribe"},
                     {"symbol", "AAPL"},
                     {"status", "subscribed"},
                     {"timestamp", c["timestamp"]},
                     {"recovered", false},
                     {"epoch", "5e"}}));
  EXPECT_EQ(json::parse(proto::confirmation("unsubscribe", "X", std::nullopt, ""))["status"],
            "unsubscribed");
  EXPECT_EQ(json::parse(proto::heartbeat_ack())["ack"], true);
  EXPECT_EQ(json::parse(proto::pong())["type"], "pong");
}

// The same value with the same types all the way down (nlohmann's == takes 1 and 1u as equal).
bool same(const json& a, const json& b) {
  if (a.type() != b.type() || a != b) return false;
  if (!a.is_object()) return true;
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!same(*it, b.at(it.key()))) return false;
  }
  return true;
}

// parse_text reads flat objects its own way: what it reads must be what nlohmann::json::parse
// makes of the same text, and what it does not read must be left to nlohmann.
TEST(ProtocolText, TheQuickReaderMakesWhatNlohmannMakesOrLeavesTheTextToIt) {
  const std::vector<std::string> read = {
      R"({"type":"subscribe","symbol":"AAPL"})",
      R"( { "type" : "subscribe" , "symbol" : "aapl", "since": 41, "epoch": "5e" } )",
      "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
      R"({"u":"\u00e9\u4E2D\ud83d\ude00\u0000x"})",
      R"({"n":0,"m":-0,"big":18446744073709551615,"neg":-9223372036854775808})",
      R"({"t":true,"f":false,"z":null,"e":""})",
      R"({"a":1,"a":"last"})",
      "{}",
      "\t{\r\n}\n"};
  for (const auto& t : read) {
    const auto flat = proto::read_flat_object(t);
    ASSERT_TRUE(flat.has_value()) << t;
    EXPECT_TRUE(same(*flat, json::parse(t))) << t << " -> " << flat->dump();
  }
  const std::vector<std::string> left = {R"({"a":{"b":1}})",
                                         R"({"a":[1]})",
                                         R"({"a":1.5})",
                                         R"({"a":1e3})",
                                         R"({"a":18446744073709551616})",
                                         R"({"a":-9223372036854775809})",
                                         R"({"a":"é"})",
                                         R"({"a":01})",
                                         R"({"a":-})",
                                         R"({"a":+1})",
                                         R"({"a":"\ud800"})",
                                         R"({"a":"\udc00"})",
                                         R"({"a":"\ud800\u0041"})",
                                         R"({"a":"\x"})",
                                         R"({"a":"\u12"})",
                                         "{\"a\":\"\x01\"}",
                                         R"({"a":tru})",
                                         R"({"a":nul})",
                                         R"({"a":1,})",
                                         R"({,})",
                                         R"({"a" 1})",
                                         R"({"a":1} x)",
                                         R"({"a":1)",
                                         R"([1])",
                                         R"("x")",
                                         "",
                                         R"({'a':1})",
                                         R"({"a":1}{})",
                                         "\xef\xbb\xbf{}"};
  for (const auto& t : left) EXPECT_FALSE(proto::read_flat_object(t).has_value()) << t;
  // Mutations of the requests clients send: either read as nlohmann reads them, or left.
  const std::string seeds[] = {R"({"type":"subscribe","symbol":"AAPL","since":12,"epoch":"e"})",
                               R"({"type":"history","symbol":"MSFT","limit":50,"before":-1})",
                               R"({"type":"ping","x":"\u00e9\n","y":null,"z":true})"};
  const std::string alphabet = "{}[]\":,.-+0123456789eEtrufalsn \\/u\x01\x7f\xc3\xa9";
  std::mt19937 rng(11);
  std::size_t bad = 0, taken = 0;
  for (int i = 0; i < 30'000; ++i) {
    std::string t = seeds[static_cast<std::size_t>(i) % 3];
    for (int k = static_cast<int>(rng() % 4); k >= 0; --k) {
      const auto at = rng() % (t.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          t.insert(at, 1, c);
          break;
        case 1:
          if (at < t.size()) t.erase(at, 1);
          break;
        default:
          if (at < t.size()) t[at] = c;
      }
    }
    const auto ref = json::parse(t, nullptr, false);
    if (const auto flat = proto::read_flat_object(t)) {
      ++taken;
      ASSERT_FALSE(ref.is_discarded()) << t;
      ASSERT_TRUE(same(*flat, ref)) << t << " -> " << flat->dump() << " vs " << ref.dump();
    }
    bad += ref.is_discarded() ? 1 : 0;
  }
  EXPECT_GT(taken, 1000u);  // the mutations reached the reader's own paths...
  EXPECT_GT(bad, 1000u);    // ...and bad JSON, which it left
}

TEST(Protobuf, StructFieldsCarryAnyJson) {
  const json custom = {
      {"type", "alert"},
      {"alert_type", "custom"},
      {"severity", "warning"},
      {"code", "custom_alert"},
      {"id", "a1"},
      {"symbol", "AAPL"},
      {"condition", "price > 200 and votes.Momentum == \"BUY\""},
      {"values", {{"price", 201.25}, {"votes.Momentum", "BUY"}, {"rsi_14", nullptr}}},
      {"fired", 2},
      {"message", "AAPL: ..."},
      {"timestamp", "2024-01-01T00:00:00.000Z"}};
  const auto back = round_trip(custom);
  EXPECT_EQ(back["values"], custom["values"]);  // the null kept, inside a Struct
  const json status = {{"type", "status_update"},
                       {"data",
                        {{"running", true},
                         {"websocket_manager", {{"rooms", {{"AAPL", 2}}}, {"clients_unlisted", 0}}},
                         {"agents", {{{"name", "A"}, {"p50_ms", 0.03}}, {{"name", "B"}}}},
                         {"history", {{"reason", nullptr}}}}}};
  EXPECT_EQ(round_trip(status)["data"], status["data"]);
}

TEST(Protobuf, WhatDoesNotFitIsNamedAndCountedAndTheRestStillGoes) {
  const auto before = pb::unmapped_total();
  const json m = {
      {"type", "price_update"},
      {"seq", 1.5},
      {"bogus", 1},
      {"data", {{"symbol", "AAPL"}, {"price", "high"}, {"volume", 10.0}, {"extra", {1, 2}}}}};
  const auto e = pb::encode_server(m);
  std::vector<std::string> want = {"bogus: no such field in goldensignals.v1.PriceUpdate",
                                   "data.extra: no such field in goldensignals.v1.Price",
                                   "data.price: expected double, got string",
                                   "seq: expected int64, got number"};
  std::vector<std::string> got = e.unmapped;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(pb::unmapped_total() - before, 4u);
  const auto back = std::get<json>(pb::decode_server(e.bytes));
  EXPECT_EQ(back["data"]["symbol"], "AAPL");
  EXPECT_EQ(back["data"]["volume"], 10.0);
  // A whole float is a whole number; a seq past int64 is not.
  EXPECT_TRUE(pb::encode_server({{"type", "price_update"}, {"seq", 7.0}}).unmapped.empty());
  EXPECT_EQ(pb::encode_server({{"type", "price_update"}, {"seq", 1e19}}).unmapped.size(), 1u);
}

TEST(Protobuf, AnUnknownTypeTravelsWholeAndIsCounted) {
  const json m = {{"type", "future_thing"}, {"x", {1, "two", nullptr}}, {"seq", 3}};
  const auto e = pb::encode_server(m);
  ASSERT_EQ(e.unmapped.size(), 1u);
  EXPECT_EQ(std::get<json>(pb::decode_server(e.bytes)), m);
  // "unmapped" itself is not a type a message can claim.
  EXPECT_EQ(std::get<json>(pb::decode_server(pb::encode_server({{"type", "unmapped"}}).bytes)),
            json({{"type", "unmapped"}}));
}

TEST(Protobuf, ClientFramesAreReadAsTheirJsonRequests) {
  const std::vector<json> requests = {
      {{"type", "subscribe"}, {"symbol", "aapl"}, {"since", 0}, {"epoch", "e1"}},
      {{"type", "unsubscribe"}, {"symbol", "NVDA"}},
      {{"type", "analyze"}, {"symbol", "SPY"}},
      {{"type", "get_status"}},
      {{"type", "ping"}},
      {{"type", "history"}, {"symbol", "AAPL"}, {"limit", 7}, {"before", 100}},
      {{"type", "replay"},
       {"symbol", "AAPL"},
       {"from", "2024-01-02T00:00:00Z"},
       {"to", "2024-01-03T00:00:00Z"},
       {"speed", 2.5}},
      {{"type", "add_alert"},
       {"id", "a1"},
       {"symbol", "AAPL"},
       {"condition", "price > 1"},
       {"cooldown", 60.0},
       {"severity", "error"}},
      {{"type", "remove_alert"}, {"id", "a1"}},
      {{"type", "subscribe_portfolio"},
       {"id", "p1"},
       {"positions", {{"AAPL", 0.5}, {"nvda", -0.5}}}},
      {{"type", "unsubscribe_portfolio"}, {"id", "p1"}},
      {{"type", "list_portfolios"}},
      {{"type", "list_alerts"}},
      {{"type", "heartbeat"}},
      // Bad values are answered as in JSON.
      {{"type", "history"}, {"symbol", "AAPL"}, {"limit", 5000}},
      {{"type", "subscribe"}, {"symbol", "AAPL"}, {"since", -1}},
      {{"type", "analyze"}, {"symbol", "no way"}},
  };
  for (const auto& r : requests) {
    SCOPED_TRACE(r.dump());
    const auto e = pb::encode_client(r);
    ASSERT_TRUE(e.unmapped.empty()) << e.unmapped.front();
    const auto a = proto::parse_protobuf(e.bytes);
    const auto b = proto::parse_text(r.dump());
    ASSERT_EQ(a.index(), b.index());
    if (const auto* p = std::get_if<proto::Problem>(&a)) {
      EXPECT_EQ(p->code, std::get<proto::Problem>(b).code);
      EXPECT_EQ(p->message, std::get<proto::Problem>(b).message);
      continue;
    }
    const auto& x = std::get<proto::Request>(a);
    const auto& y = std::get<proto::Request>(b);
    EXPECT_EQ(x.command, y.command);
    EXPECT_EQ(x.symbol, y.symbol);
    EXPECT_EQ(x.since, y.since);
    EXPECT_EQ(x.epoch, y.epoch);
    EXPECT_EQ(x.limit, y.limit);
    EXPECT_EQ(x.before, y.before);
    EXPECT_EQ(x.from_ms, y.from_ms);
    EXPECT_EQ(x.to_ms, y.to_ms);
    EXPECT_EQ(x.speed, y.speed);
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.condition, y.condition);
    EXPECT_EQ(x.severity, y.severity);
    EXPECT_EQ(x.cooldown_s, y.cooldown_s);
    EXPECT_EQ(x.positions, y.positions);
  }
  EXPECT_FALSE(pb::encode_client({{"type", "nope"}}).unmapped.empty());
}

TEST(Protobuf, BadClientFramesAreProblemsNotCrashes) {
  const auto garbage = proto::parse_protobuf(std::string("\xff\xff\xff", 3));
  ASSERT_TRUE(std::holds_alternative<proto::Problem>(garbage));
  EXPECT_EQ(std::get<proto::Problem>(garbage).code, "invalid_json");
  const auto empty = proto::parse_protobuf("");
  ASSERT_TRUE(std::holds_alternative<proto::Problem>(empty));
  EXPECT_EQ(std::get<proto::Problem>(empty).code, "bad_request");
  EXPECT_NE(std::get<proto::Problem>(empty).message.find("must set one of subscribe"),
            std::string::npos);
  // A ServerMessage is not a ClientMessage's member it happens to share a number with: field 1
  // of ClientMessage is Subscribe, whose field 1 is a string; a heartbeat's bytes parse, with
  // the timestamp read as the symbol, and the symbol check answers.
  const auto hb = pb::encode_server(json::parse(proto::heartbeat())).bytes;
  const auto p = proto::parse_protobuf(hb);
  ASSERT_TRUE(std::holds_alternative<proto::Problem>(p));
  EXPECT_EQ(std::get<proto::Problem>(p).code, "invalid_symbol");
}

TEST(Protobuf, AMessageEncodesOnceIntoABinaryFrame) {
  const auto m = make_message(MessageKind::SignalUpdate,
                              room("signal_update", 9, signal_json(decision(true))).dump(), "AAPL");
  const std::string_view bytes = m->protobuf();
  EXPECT_EQ(bytes.data(), m->protobuf().data());  // made once, shared
  EXPECT_EQ(bytes.data(), m->payload(WireFormat::Protobuf).data());
  EXPECT_LT(bytes.size(), m->json().size());
  const auto f = m->frame(WireFormat::Protobuf);
  EXPECT_EQ(f.payload.data(), bytes.data());
  EXPECT_EQ(f.whole().data() + f.whole().size(), bytes.data() + bytes.size());  // one buffer
  const auto header = f.header;
  EXPECT_EQ(static_cast<unsigned char>(header[0]), 0x82);  // FIN, binary
  ASSERT_GE(bytes.size(), 126u);
  EXPECT_EQ(header.size(), 4u);
  EXPECT_EQ((static_cast<unsigned char>(header[2]) << 8) | static_cast<unsigned char>(header[3]),
            static_cast<int>(bytes.size()));
  expect_same(std::get<json>(pb::decode_server(bytes)), json::parse(m->json()));
  const auto d = m->deflated(WireFormat::Protobuf, 15);
  EXPECT_EQ(static_cast<unsigned char>(d.header[0]), 0xc2);  // FIN, RSV1, binary
  EXPECT_EQ(test::inflate(d.payload, 15), bytes);
}

}  // namespace
}  // namespace gs
