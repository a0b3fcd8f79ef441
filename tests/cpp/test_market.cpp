#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <random>
#include <sstream>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/market/csv.hpp"
#include "goldensignals/market/feed.hpp"
#include "goldensignals/market/market_state.hpp"
#include "test_support.hpp"

namespace gs {
namespace {

TEST(MirrorRing, NewestValuesAreAlwaysOneContiguousSpan) {
  MirrorRing<double> r(4);
  for (int i = 1; i <= 11; ++i) {
    r.push(i);
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(i), 4);
    ASSERT_EQ(r.size(), n);
    for (std::size_t k = 0; k < n; ++k) {
      EXPECT_EQ(r.data()[k], static_cast<double>(i) - static_cast<double>(n - 1 - k));
    }
  }
}

TEST(MarketState, KeepsBoundedHistoryAndIndicators) {
  MarketState m("AAPL", 64);
  for (const auto& b : test::rising_bars(100)) m.on_bar(b);
  auto s = m.snapshot();
  EXPECT_EQ(s->size(), 64u);
  EXPECT_EQ(s->bars_seen, 100u);
  EXPECT_DOUBLE_EQ(s->close.back(), 100.0 + 0.1 * 99);
  EXPECT_DOUBLE_EQ(s->price, s->close.back());
  EXPECT_TRUE(std::isfinite(s->indicators.sma_20));
  EXPECT_TRUE(std::isfinite(s->indicators.rsi_14));
  EXPECT_EQ(m.snapshot(), s);  // cached until the next update
  m.on_tick(111.0, 5, s->as_of_ms + 1);
  EXPECT_NE(m.snapshot(), s);
  EXPECT_DOUBLE_EQ(m.snapshot()->price, 111.0);
}

TEST(MarketState, BadDataIsRejectedByNameAndChangesNothing) {
  MarketState m("AAPL", 16);
  auto bars = test::rising_bars(3);
  m.on_bar(bars[0]);
  m.on_bar(bars[1]);
  auto before = m.snapshot();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto expect_bad = [&](Bar b, const std::string& needle) {
    try {
      m.on_bar(b);
      FAIL() << "accepted " << needle;
    } catch (const BadMarketData& e) {
      EXPECT_NE(std::string(e.what()).find("AAPL"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Bar b = bars[2];
  b.close = nan;
  expect_bad(b, "close nan");
  b = bars[2];
  b.open = -1;
  expect_bad(b, "open -1");
  b = bars[2];
  b.volume = -5;
  expect_bad(b, "volume -5");
  b = bars[2];
  b.high = b.low - 1;
  expect_bad(b, "high");
  b = bars[2];
  b.ts_ms = bars[0].ts_ms;
  expect_bad(b, "not after");
  EXPECT_THROW(m.on_tick(0.0, 1, bars[1].ts_ms + 1), BadMarketData);
  EXPECT_THROW(m.on_tick(10.0, 1, bars[0].ts_ms - 1), BadMarketData);
  EXPECT_EQ(m.snapshot(), before);
  EXPECT_EQ(m.bars_seen(), 2u);
}

class CollectSink final : public FeedSink {
 public:
  void on_bar(const std::string& s, const Bar& b, bool live) override {
    bars.emplace_back(s, b);
    lives.push_back(live);
  }
  void wait_idle(const std::string&) override { ++idles; }
  void on_feed_problem(const std::string&, const std::string& m) override { problems.push_back(m); }
  std::vector<std::pair<std::string, Bar>> bars;
  std::vector<bool> lives;
  int idles = 0;
  std::vector<std::string> problems;
};

std::vector<std::pair<std::string, Bar>> simulate(std::uint64_t seed) {
  SimulatedFeedOptions o;
  o.seed = seed;
  o.interval_s = 0;
  o.backfill = 50;
  o.max_bars = 20;
  auto feed = make_simulated_feed(o);
  feed->bind({"AAPL", "NVDA"});
  CollectSink sink;
  std::stop_source st;
  feed->run(sink, st.get_token());
  return sink.bars;
}

TEST(SimulatedFeed, IsDeterministicForASeedAndProducesValidBars) {
  auto a = simulate(7), b = simulate(7), c = simulate(8);
  ASSERT_EQ(a.size(), 140u);  // (50 back-filled + 20 live) x 2 symbols
  double moved = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_DOUBLE_EQ(a[i].second.close, b[i].second.close);
    EXPECT_DOUBLE_EQ(a[i].second.volume, b[i].second.volume);
    moved += std::abs(a[i].second.close - c[i].second.close);
    const Bar& x = a[i].second;
    EXPECT_LE(x.low, std::min(x.open, x.close));
    EXPECT_GE(x.high, std::max(x.open, x.close));
    EXPECT_GT(x.volume, 0);
  }
  EXPECT_GT(moved, 0);  // another seed, another path
  MarketState m("AAPL");
  for (const auto& [s, bar] : a) {
    if (s == "AAPL") m.on_bar(bar);  // strictly increasing times, valid values
  }
}

TEST(SimulatedFeed, RejectsBadParameters) {
  SimulatedFeedOptions o;
  o.volatility = -1;
  EXPECT_THROW(make_simulated_feed(o), InvalidArgument);
  o = {};
  o.start_prices["AAPL"] = 0;
  EXPECT_THROW(make_simulated_feed(o), InvalidArgument);
}

TEST(ReplayFeed, MergesSymbolsInTimeOrderAndWaitsWhenFlatOut) {
  ReplayFeedOptions o;
  auto bars = test::rising_bars(6);
  o.bars["B"] = {bars[1], bars[3], bars[5]};
  o.bars["A"] = {bars[4], bars[0], bars[2]};  // out of order on purpose
  auto feed = make_replay_feed(o);
  CollectSink sink;
  std::stop_source st;
  feed->run(sink, st.get_token());
  ASSERT_EQ(sink.bars.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(sink.bars[i].second.ts_ms, bars[i].ts_ms);
  EXPECT_EQ(sink.bars[0].first, "A");
  EXPECT_EQ(sink.idles, 6);
  o.speed = -1;
  EXPECT_THROW(make_replay_feed(o), InvalidArgument);
}

TEST(Clock, FormatsIsoTimeAndValidatesSymbols) {
  EXPECT_EQ(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_ms(1704067200123), "2024-01-01T00:00:00.123Z");
  EXPECT_EQ(normalize_symbol("brk.b"), "BRK.B");
  EXPECT_EQ(normalize_symbol("es=f"), "ES=F");
  EXPECT_THROW(normalize_symbol("^GSPC"), InvalidArgument);  // must start with A-Z or 0-9
  EXPECT_THROW(normalize_symbol(""), InvalidArgument);
  EXPECT_THROW(normalize_symbol("ABCDEFGHIJKLMNOPQ"), InvalidArgument);  // 17 characters
  auto id = uuid4();
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');
  for (std::size_t i : {8u, 13u, 18u, 23u}) EXPECT_EQ(id[i], '-') << id;
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // the RFC 4122 variant
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef-"), std::string::npos) << id;
  EXPECT_NE(uuid4(), id);
}

// The C library's gmtime and printf, as the reference iso8601_ms must agree with.
std::string libc_iso(std::int64_t ms) {
  std::int64_t secs = ms / 1000, rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    secs -= 1;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 96> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem));
  return buf.data();
}

TEST(Clock, IsoTimeAgreesWithTheCLibraryAcrossCenturiesAndBeforeTheEpoch) {
  const std::int64_t edges[] = {-1,
                                -86'400'000,
                                951'782'400'000,        // 2000-02-29
                                4'107'542'399'999,      // 2100-02-28T23:59:59.999
                                253'402'300'799'999,    // 9999-12-31T23:59:59.999
                                253'402'300'800'000,    // year 10000: the general path
                                -62'167'219'200'001,    // 1 ms before year 0: year -1
                                1'000'000'000'000'000,  // year 33658 (a token's far exp)
                                -1'000'000'000'000'000,
                                std::numeric_limits<std::int64_t>::max(),
                                std::numeric_limits<std::int64_t>::min(),
                                1'704'164'645'678};
  for (auto ms : edges) EXPECT_EQ(iso8601_ms(ms), libc_iso(ms)) << ms;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> any(-62'000'000'000'000, 253'000'000'000'000);
  for (int i = 0; i < 20'000; ++i) {
    const auto ms = any(rng);
    ASSERT_EQ(iso8601_ms(ms), libc_iso(ms)) << ms;
    if (ms >= 0) {
      ASSERT_EQ(parse_iso8601_ms(iso8601_ms(ms)), ms) << ms;
    }
  }
}

}  // namespace
}  // namespace gs

namespace gs {
namespace {

TEST(MarketState, TicksBuildBarsOfTheConfiguredLength) {
  MarketState m("AAPL", 16, 60'000);
  const std::int64_t minute = 1'700'000'040'000;  // a minute boundary
  const std::int64_t t0 = minute + 30'000;
  m.on_tick(100.0, 10, t0);
  m.on_tick(103.0, 5, t0 + 5'000);
  m.on_tick(99.0, 1, t0 + 10'000);
  m.on_tick(101.0, 2, t0 + 15'000);
  EXPECT_EQ(m.bars_seen(), 0u);      // the minute is not over
  m.on_tick(102.0, 7, t0 + 35'000);  // the next minute: the first bar is complete
  ASSERT_EQ(m.bars_seen(), 1u);
  auto s = m.snapshot();
  EXPECT_EQ(s->time_ms.back(), minute);
  EXPECT_DOUBLE_EQ(s->open.back(), 100.0);
  EXPECT_DOUBLE_EQ(s->high.back(), 103.0);
  EXPECT_DOUBLE_EQ(s->low.back(), 99.0);
  EXPECT_DOUBLE_EQ(s->close.back(), 101.0);
  EXPECT_DOUBLE_EQ(s->volume.back(), 18.0);
  EXPECT_DOUBLE_EQ(s->price, 102.0);
  EXPECT_DOUBLE_EQ(m.last_close(), 101.0);
}

}  // namespace
}  // namespace gs

// The replay CSV reader (the native server's --feed replay:FILE).
namespace gs {
namespace {

std::map<std::string, std::vector<Bar>> parse_csv(const std::string& text) {
  std::istringstream in(text);
  return parse_ohlcv_csv(in, "bars.csv");
}

std::string csv_error(const std::string& text) {
  try {
    parse_csv(text);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CsvReader, ReadsDateFormsSymbolsAndColumnsInAnyOrder) {
  const auto bars = parse_csv(
      "Symbol,Close,Open,High,Low,Volume,Timestamp\n"
      "aapl,10.5,10,11,9,1000,2024-01-02\n"
      "AAPL,11,10.5,12,10,1200,2024-01-03T14:30:00.250Z\n"
      "nvda,5,5,5,5,0,1704153600\n");
  ASSERT_EQ(bars.size(), 2u);
  ASSERT_EQ(bars.at("AAPL").size(), 2u);
  EXPECT_EQ(bars.at("AAPL")[0].ts_ms, 1'704'153'600'000);
  EXPECT_EQ(bars.at("AAPL")[1].ts_ms, 1'704'292'200'250);
  EXPECT_DOUBLE_EQ(bars.at("AAPL")[0].close, 10.5);
  EXPECT_EQ(bars.at("NVDA")[0].ts_ms, 1'704'153'600'000);
}

TEST(CsvReader, ErrorsNameTheFileLineColumnAndValue) {
  EXPECT_EQ(csv_error("date,open,high,low,close,volume\n2024-01-02,1,1,x,1,1\n"),
            "replay file 'bars.csv' line 2: low 'x' is not a number");
  EXPECT_EQ(csv_error("date,open,high,low,close\n"),
            "replay file 'bars.csv': no volume column in 'date,open,high,low,close'");
  EXPECT_EQ(csv_error("date,open,high,low,close,volume\n2024-13-02,1,1,1,1,1\n"),
            "replay file 'bars.csv' line 2: date '2024-13-02' is not a date");
}

// Found by fuzz_csv: a bad symbol was reported without the file and line.
TEST(CsvReader, ABadSymbolNamesTheFileAndLine) {
  const auto e = csv_error(
      "date,open,high,low,close,volume,symbol\n2024-01-02,1,1,1,1,1,AAPL\n"
      "2024-01-03,1,1,1,1,1,aap\xce"
      "lda\n");
  EXPECT_EQ(e.rfind("replay file 'bars.csv' line 3: symbol 'aap\xce"
                    "lda' is not accepted: ",
                    0),
            0u)
      << e;
}

}  // namespace
}  // namespace gs
