// Custom alerts: the condition parser and evaluator, and the book that fires alerts.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "goldensignals/watch/condition.hpp"
#include "goldensignals/watch/watch_book.hpp"

namespace gs::watch {
namespace {

constexpr std::size_t kMax = 256;

Truth eval(const std::string& text, const Facts& f) {
  return Condition::parse(text, kMax).evaluate(f);
}

Facts market(double price, double rsi) {
  Facts f;
  f.price = price;
  f.volume = 1000;
  f.indicators.rsi_14 = rsi;
  return f;
}

// The position and message of the error `text` gives.
std::pair<std::size_t, std::string> error_of(const std::string& text, std::size_t max = kMax) {
  try {
    (void)Condition::parse(text, max);
  } catch (const ConditionError& e) {
    return {e.position(), e.what()};
  }
  ADD_FAILURE() << "no error for: " << text;
  return {0, ""};
}

TEST(Condition, ComparesNumbersWithEveryOperator) {
  const auto f = market(201.5, 28.0);
  EXPECT_EQ(eval("price > 200", f), Truth::True);
  EXPECT_EQ(eval("price >= 201.5", f), Truth::True);
  EXPECT_EQ(eval("price < 200", f), Truth::False);
  EXPECT_EQ(eval("price <= 201.4", f), Truth::False);
  EXPECT_EQ(eval("price == 201.5", f), Truth::True);
  EXPECT_EQ(eval("price = 201.5", f), Truth::True);
  EXPECT_EQ(eval("price != 201.5", f), Truth::False);
  EXPECT_EQ(eval("200 < price", f), Truth::True);
  EXPECT_EQ(eval("price > -1e3", f), Truth::True);
  EXPECT_EQ(eval("rsi_14 < price", f), Truth::True);
}

TEST(Condition, AndOrNotAndParenthesesFollowPrecedence) {
  const auto f = market(201.5, 28.0);
  EXPECT_EQ(eval("price > 200 and rsi_14 < 30", f), Truth::True);
  EXPECT_EQ(eval("price > 200 AND rsi_14 > 30", f), Truth::False);
  // and binds tighter than or
  EXPECT_EQ(eval("price < 0 and rsi_14 > 0 or price > 0", f), Truth::True);
  EXPECT_EQ(eval("price < 0 and (rsi_14 > 0 or price > 0)", f), Truth::False);
  EXPECT_EQ(eval("not price > 300", f), Truth::True);
  EXPECT_EQ(eval("not (price > 200 and rsi_14 < 30)", f), Truth::False);
  EXPECT_EQ(eval("not not price > 200", f), Truth::True);
}

TEST(Condition, UnknownValuesFollowThreeValuedLogic) {
  Facts f = market(100, ind::kNaN);  // rsi in its lead-in
  EXPECT_EQ(eval("rsi_14 < 30", f), Truth::Unknown);
  EXPECT_EQ(eval("not rsi_14 < 30", f), Truth::Unknown);
  EXPECT_EQ(eval("rsi_14 < 30 and price > 1000", f), Truth::False);
  EXPECT_EQ(eval("rsi_14 < 30 and price > 10", f), Truth::Unknown);
  EXPECT_EQ(eval("rsi_14 < 30 or price > 10", f), Truth::True);
  EXPECT_EQ(eval("rsi_14 < 30 or price > 1000", f), Truth::Unknown);
  EXPECT_EQ(eval("action == 'BUY'", f), Truth::Unknown);  // no signal yet
  EXPECT_EQ(eval("votes.Momentum == 'BUY'", f), Truth::Unknown);
}

TEST(Condition, SeesTheSignalItsConfidenceAndEachAgentsVote) {
  Facts f = market(100, 50);
  apply_signal(f, nlohmann::json::parse(R"({"action":"BUY","confidence":0.82,
      "agents_consensus":{"agent_details":{"Momentum":{"signal":"BUY"},
                                           "Volume-Analyst":{"signal":"SELL"}}}})"));
  EXPECT_EQ(eval("action == \"BUY\" and confidence >= 0.8", f), Truth::True);
  EXPECT_EQ(eval("action == 'buy'", f), Truth::True);  // literals are upper-cased
  EXPECT_EQ(eval("votes.Momentum == 'BUY'", f), Truth::True);
  EXPECT_EQ(eval("votes.Volume-Analyst != 'BUY'", f), Truth::True);
  EXPECT_EQ(eval("votes.Nobody == 'BUY'", f), Truth::Unknown);
  EXPECT_EQ(eval("votes.Momentum == action", f), Truth::True);
}

TEST(Condition, EveryIndicatorIsANameAndValuesReportWhatItSaw) {
  Facts f = market(100, 25);
  for (const auto& [name, member] : ind::IndicatorValues::fields()) {
    f.indicators.*member = 7;
    EXPECT_EQ(eval(std::string(name) + " == 7", f), Truth::True) << name;
  }
  const auto c =
      Condition::parse("price > 50 and rsi_14 < 30 or macd > 1e9 or action == 'SELL'", kMax);
  f.indicators.rsi_14 = 25;
  const auto v = c.values(f);
  EXPECT_EQ(v["price"], 100.0);
  EXPECT_EQ(v["rsi_14"], 25.0);
  EXPECT_EQ(v["macd"], 7.0);
  EXPECT_TRUE(v["action"].is_null());
  EXPECT_EQ(v.size(), 4u);
}

TEST(Condition, ErrorsNameThePosition) {
  auto [pos, what] = error_of("price > 200 and rsi < 30");
  EXPECT_EQ(pos, 16u);
  EXPECT_NE(what.find("unknown name 'rsi'"), std::string::npos) << what;
  EXPECT_NE(what.find("rsi_14"), std::string::npos) << what;  // the known names are listed

  std::tie(pos, what) = error_of("price 200");
  EXPECT_EQ(pos, 6u);
  EXPECT_NE(what.find("expected a comparison"), std::string::npos) << what;

  std::tie(pos, what) = error_of("(price > 200");
  EXPECT_EQ(pos, 12u);
  EXPECT_NE(what.find("')'"), std::string::npos) << what;

  std::tie(pos, what) = error_of("price > 200 rsi_14 < 3");
  EXPECT_EQ(pos, 12u);

  std::tie(pos, what) = error_of("price > 'BUY'");
  EXPECT_EQ(pos, 8u);
  EXPECT_NE(what.find("cannot compare"), std::string::npos) << what;

  std::tie(pos, what) = error_of("action > 'BUY'");
  EXPECT_EQ(pos, 7u);
  EXPECT_NE(what.find("text compares only with == and !="), std::string::npos) << what;

  std::tie(pos, what) = error_of("action == 'MAYBE'");
  EXPECT_EQ(pos, 10u);

  std::tie(pos, what) = error_of("price > 20x");
  EXPECT_EQ(pos, 8u);
  EXPECT_NE(what.find("'20x' is not a number"), std::string::npos) << what;

  std::tie(pos, what) = error_of("price > 'open");
  EXPECT_EQ(pos, 8u);

  std::tie(pos, what) = error_of("price ! 3");
  EXPECT_EQ(pos, 6u);

  std::tie(pos, what) = error_of("price > 1; drop table");
  EXPECT_EQ(pos, 9u);

  std::tie(pos, what) = error_of("1 < 2");
  EXPECT_NE(what.find("two constants"), std::string::npos) << what;

  std::tie(pos, what) = error_of("   ");
  EXPECT_NE(what.find("empty"), std::string::npos) << what;

  std::tie(pos, what) = error_of("votes. == 'BUY'");
  EXPECT_EQ(pos, 0u);
}

TEST(Condition, LengthAndDepthAreBounded) {
  const std::string long_text = "price > " + std::string(300, '1');
  auto [pos, what] = error_of(long_text, 256);
  EXPECT_NE(what.find("longer than 256"), std::string::npos) << what;

  std::string deep;
  for (int i = 0; i < 17; ++i) deep += "(";
  deep += "price > 1";
  for (int i = 0; i < 17; ++i) deep += ")";
  std::tie(pos, what) = error_of(deep, 4096);
  EXPECT_EQ(pos, 16u);
  EXPECT_NE(what.find("nested more than 16"), std::string::npos) << what;

  std::string nots;
  for (int i = 0; i < 40; ++i) nots += "not ";
  std::tie(pos, what) = error_of(nots + "price > 1", 4096);
  EXPECT_NE(what.find("nested"), std::string::npos) << what;

  // 16 levels are fine, and a long flat chain never recurses deeply.
  std::string ok;
  for (int i = 0; i < 15; ++i) ok += "(";
  ok += "price > 1";
  for (int i = 0; i < 15; ++i) ok += ")";
  EXPECT_EQ(Condition::parse(ok, 4096).evaluate(market(2, 1)), Truth::True);
  std::string chain = "price > 1";
  for (int i = 0; i < 300; ++i) chain += " and price > 1";
  EXPECT_EQ(Condition::parse(chain, 10000).evaluate(market(2, 1)), Truth::True);
}

TEST(Condition, ArbitraryBytesNeverCrashTheParser) {
  std::uint32_t x = 12345;
  const std::string alphabet = "pricesvot_.()<>=!'\" 0123456789andornt-+eE\x01\xff";
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const auto len = (x = x * 1664525u + 1013904223u) % 40;
    for (std::uint32_t i = 0; i < len; ++i) {
      s += alphabet[(x = x * 1664525u + 1013904223u) % alphabet.size()];
    }
    try {
      (void)Condition::parse(s, kMax).evaluate(market(1, 1));
    } catch (const ConditionError& e) {
      EXPECT_LE(e.position(), s.size()) << s;
    }
  }
}

// A subscriber that records what it is sent.
class Inbox final : public Subscriber, public std::enable_shared_from_this<Inbox> {
 public:
  SendStatus send(MessagePtr m) override {
    std::lock_guard lk(mu);
    got.push_back(nlohmann::json::parse(m->json()));
    return SendStatus::Queued;
  }
  void close(std::uint16_t, std::string) override {}
  std::vector<nlohmann::json> take() {
    std::lock_guard lk(mu);
    return std::exchange(got, {});
  }
  std::mutex mu;
  std::vector<nlohmann::json> got;
};

std::string price_msg(double price) {
  return nlohmann::json{{"type", "price_update"},
                        {"seq", 1},
                        {"data", {{"symbol", "AAPL"}, {"price", price}, {"volume", 10}}}}
      .dump();
}

struct BookTest : ::testing::Test {
  ind::IndicatorValues ind;
  WatchBook book{[](const std::string&) { return Facts{}; },
                 [this](const std::string&) { return std::optional(ind); }};
  std::shared_ptr<Inbox> a = std::make_shared<Inbox>();
  std::shared_ptr<Inbox> b = std::make_shared<Inbox>();

  void add(Inbox& who, std::string id, std::string cond, double cooldown = 0,
           bool restored = false) {
    AlertSpec s{std::move(id), "AAPL", cond, "warning", cooldown, 0};
    book.add(&who, who.weak_from_this(), std::move(s), Condition::parse(cond, kMax), restored);
  }
  void price(double p) { book.on_room_message("AAPL", MessageKind::PriceUpdate, price_msg(p)); }
};

TEST_F(BookTest, FiresOnTheRisingEdgeOnlyWithTheValuesThatMadeItTrue) {
  ind.rsi_14 = 25;
  add(*a, "a1", "price > 200 and rsi_14 < 30");
  price(199);
  price(201);
  price(205);  // still true: no second alert
  price(150);
  price(210);  // true again: fires again
  const auto got = a->take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["type"], "alert");
  EXPECT_EQ(got[0]["alert_type"], "custom");
  EXPECT_EQ(got[0]["severity"], "warning");
  EXPECT_EQ(got[0]["id"], "a1");
  EXPECT_EQ(got[0]["symbol"], "AAPL");
  EXPECT_EQ(got[0]["condition"], "price > 200 and rsi_14 < 30");
  EXPECT_EQ(got[0]["values"]["price"], 201.0);
  EXPECT_EQ(got[0]["values"]["rsi_14"], 25.0);
  EXPECT_EQ(got[1]["values"]["price"], 210.0);
  EXPECT_EQ(got[1]["fired"], 2);
}

TEST_F(BookTest, CooldownSilencesRepeatsAndOtherSymbolsAndClientsAreApart) {
  add(*a, "a1", "price > 200", 3600);
  add(*b, "b1", "price > 100");
  price(201);
  price(150);
  price(202);  // a1 rises again inside its cooldown: silent
  EXPECT_EQ(a->take().size(), 1u);
  EXPECT_EQ(b->take().size(), 1u);  // b1 stayed true throughout
  book.on_room_message("NVDA", MessageKind::PriceUpdate, price_msg(500));
  EXPECT_TRUE(a->take().empty());
  EXPECT_EQ(book.total(), 2u);
  EXPECT_EQ(book.fired(), 2u);
}

TEST_F(BookTest, RestoredAlertsTakeTheirFirstEvaluationSilently) {
  price(1);  // nobody watches yet: ignored
  add(*a, "a1", "price > 0", 0, /*restored=*/true);
  price(10);
  EXPECT_TRUE(a->take().empty());  // already true: no repeat after a reconnect
  price(-1 + 1e-9);
  EXPECT_TRUE(a->take().empty());
}

TEST_F(BookTest, ReplaceRemoveAndForgetAClient) {
  add(*a, "a1", "price > 200");
  add(*a, "a1", "price > 300");  // same id: replaced
  EXPECT_EQ(book.count(a.get()), 1u);
  price(250);
  EXPECT_TRUE(a->take().empty());
  price(301);
  EXPECT_EQ(a->take().size(), 1u);
  EXPECT_TRUE(book.remove(a.get(), "a1"));
  EXPECT_FALSE(book.remove(a.get(), "a1"));
  add(*a, "x", "price > 1");
  add(*a, "y", "price > 1");
  book.remove_all(a.get());
  EXPECT_EQ(book.total(), 0u);
  price(5);
  EXPECT_TRUE(a->take().empty());
}

TEST_F(BookTest, SignalsFeedTheVotesAndAGoneClientIsSkipped) {
  add(*a, "v", "votes.Momentum == 'SELL' and action == 'SELL'");
  book.on_room_message("AAPL", MessageKind::SignalUpdate, R"({"type":"signal_update","seq":3,
      "data":{"action":"SELL","confidence":0.7,
              "agents_consensus":{"agent_details":{"Momentum":{"signal":"SELL"}}}}})");
  const auto got = a->take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["values"]["votes.Momentum"], "SELL");
  add(*b, "b", "price > 0");
  b.reset();  // the connection went without a remove
  price(3);   // no crash, nothing sent
  book.on_room_message("AAPL", MessageKind::PriceUpdate, "not json");
}

TEST_F(BookTest, ConcurrentClientsAndPricesStayConsistent) {
  std::atomic<bool> stop{false};
  std::thread feed([&] {
    double p = 0;
    while (!stop.load()) price(p = p > 300 ? 0 : p + 7);
  });
  std::vector<std::shared_ptr<Inbox>> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(std::make_shared<Inbox>());
  for (int round = 0; round < 20; ++round) {
    for (auto& c : clients) add(*c, "r", "price > 150");
    for (auto& c : clients) book.remove_all(c.get());
  }
  stop.store(true);
  feed.join();
  EXPECT_EQ(book.total(), 0u);
}

std::string price_of(const std::string& symbol, double price) {
  return nlohmann::json{{"type", "price_update"},
                        {"data", {{"symbol", symbol}, {"price", price}, {"change_percent", 1.5}}}}
      .dump();
}

TEST_F(BookTest, PortfolioUpdatesCarryValueWeightsExposureSignalAndConflicts) {
  // Prices known before: the references are the prices at the start.
  WatchBook pb{[](const std::string& s) {
                Facts f;
                f.price = s == "AAPL" ? 100 : (s == "NVDA" ? 50 : 400);
                return f;
              },
              {}};
  PortfolioSpec spec{"p1", {{"AAPL", 0.4}, {"NVDA", 0.3}, {"SPY", -0.3}}, {}, 0};
  pb.add_portfolio(a.get(), a->weak_from_this(), spec);
  auto got = a->take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["type"], "portfolio_update");
  EXPECT_EQ(got[0]["trigger"], "subscribe");
  EXPECT_DOUBLE_EQ(got[0]["data"]["value"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(got[0]["data"]["exposure"]["long"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(got[0]["data"]["exposure"]["short"].get<double>(), -0.3);
  EXPECT_DOUBLE_EQ(got[0]["data"]["exposure"]["net"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(got[0]["data"]["exposure"]["gross"].get<double>(), 1.0);
  EXPECT_EQ(got[0]["data"]["priced"], 3);

  // AAPL +10%: value 1 + 0.4 * 0.1 = 1.04; AAPL's weight grows to 0.44 / 1.04.
  pb.on_room_message("AAPL", MessageKind::PriceUpdate, price_of("AAPL", 110));
  got = a->take();
  ASSERT_EQ(got.size(), 1u);
  const auto& d = got[0]["data"];
  EXPECT_EQ(got[0]["trigger"], "AAPL");
  EXPECT_NEAR(d["value"].get<double>(), 1.04, 1e-12);
  EXPECT_NEAR(d["return"].get<double>(), 0.04, 1e-12);
  EXPECT_NEAR(d["weights"]["AAPL"].get<double>(), 0.44 / 1.04, 1e-12);
  EXPECT_NEAR(d["weights"]["SPY"].get<double>(), -0.3 / 1.04, 1e-12);
  EXPECT_EQ(d["positions"]["AAPL"]["reference_price"], 100.0);
  EXPECT_EQ(d["positions"]["AAPL"]["change_percent"], 1.5);

  // Signals: SELL on a long (a conflict), BUY on the short (a conflict), HOLD on NVDA.
  auto signal = [&](const std::string& s, const char* action, double conf) {
    pb.on_room_message(s, MessageKind::SignalUpdate,
                      nlohmann::json{{"type", "signal_update"},
                                     {"data", {{"action", action}, {"confidence", conf}}}}
                          .dump());
  };
  signal("AAPL", "SELL", 0.8);
  signal("SPY", "BUY", 0.5);
  signal("NVDA", "HOLD", 0.9);
  got = a->take();
  ASSERT_EQ(got.size(), 3u);
  const auto& last = got.back()["data"];
  // 0.4 * -1 * 0.8 + -0.3 * 1 * 0.5 + 0.3 * 0 = -0.47
  EXPECT_NEAR(last["weighted_signal"].get<double>(), -0.47, 1e-12);
  ASSERT_EQ(last["conflicts"].size(), 2u);
  EXPECT_EQ(last["conflicts"][0]["symbol"], "AAPL");
  EXPECT_EQ(last["conflicts"][1]["symbol"], "SPY");

  // Another client's portfolio and an alert share the symbols; removing one keeps the rest.
  pb.add_portfolio(b.get(), b->weak_from_this(),
                  PortfolioSpec{"q", {{"AAPL", 1.0}}, {}, 0});
  EXPECT_EQ(b->take().size(), 1u);
  EXPECT_TRUE(pb.remove_portfolio(a.get(), "p1"));
  EXPECT_FALSE(pb.remove_portfolio(a.get(), "p1"));
  pb.on_room_message("AAPL", MessageKind::PriceUpdate, price_of("AAPL", 120));
  EXPECT_TRUE(a->take().empty());
  const auto q = b->take();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_NEAR(q[0]["data"]["value"].get<double>(), 120.0 / 110, 1e-12);  // its start: 110
  pb.remove_all_portfolios(b.get());
  pb.on_room_message("AAPL", MessageKind::PriceUpdate, price_of("AAPL", 130));
  EXPECT_TRUE(b->take().empty());
}

TEST_F(BookTest, APortfolioWithoutPricesYetTakesTheFirstAsItsReference) {
  PortfolioSpec spec{"p", {{"AAPL", 0.5}, {"NVDA", 0.5}}, {}, 0};
  book.add_portfolio(a.get(), a->weak_from_this(), spec);
  auto got = a->take();
  EXPECT_EQ(got[0]["data"]["priced"], 0);
  EXPECT_DOUBLE_EQ(got[0]["data"]["value"].get<double>(), 1.0);
  book.on_room_message("NVDA", MessageKind::PriceUpdate, price_of("NVDA", 10));
  book.on_room_message("NVDA", MessageKind::PriceUpdate, price_of("NVDA", 11));
  got = a->take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NEAR(got[1]["data"]["value"].get<double>(), 1.05, 1e-12);  // 1 + 0.5 * 0.1
  EXPECT_EQ(got[1]["data"]["priced"], 1);
  EXPECT_EQ(book.portfolios(a.get())[0].reference.at("NVDA"), 10.0);
}

}  // namespace
}  // namespace gs::watch
