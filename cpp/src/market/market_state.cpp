#include "goldensignals/market/market_state.hpp"

#include <cmath>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs {

MarketState::MarketState(std::string symbol, std::size_t history)
    : symbol_(std::move(symbol)),
      time_(history),
      open_(history),
      high_(history),
      low_(history),
      close_(history),
      volume_(history) {
  if (history < 2) {
    throw InvalidArgument("MarketState: history " + std::to_string(history) +
                          " is not accepted; expected at least 2 bars");
  }
}

void MarketState::check(double v, const char* field, std::int64_t ts_ms) const {
  const bool volume = field[0] == 'v';
  if (!std::isfinite(v) || (volume ? v < 0.0 : v <= 0.0)) {
    throw BadMarketData(symbol_ + ": " + field + " " + fmt_num(v) + " at " + iso8601_ms(ts_ms) +
                        " is not accepted; expected a finite " +
                        (volume ? "volume >= 0" : "price > 0"));
  }
}

void MarketState::on_bar(const Bar& bar) {
  check(bar.open, "open", bar.ts_ms);
  check(bar.high, "high", bar.ts_ms);
  check(bar.low, "low", bar.ts_ms);
  check(bar.close, "close", bar.ts_ms);
  check(bar.volume, "volume", bar.ts_ms);
  if (bar.high < bar.low || bar.high < std::max(bar.open, bar.close) ||
      bar.low > std::min(bar.open, bar.close)) {
    throw BadMarketData(symbol_ + ": bar at " + iso8601_ms(bar.ts_ms) + " has high " +
                        fmt_num(bar.high) + " and low " + fmt_num(bar.low) +
                        " that do not contain open " + fmt_num(bar.open) + " and close " +
                        fmt_num(bar.close) + "; expected low <= open, close <= high");
  }
  if (bars_seen_ > 0 && bar.ts_ms <= time_.back()) {
    throw BadMarketData(symbol_ + ": bar timestamp " + iso8601_ms(bar.ts_ms) +
                        " is not after the previous bar's " + iso8601_ms(time_.back()) +
                        "; expected strictly increasing bar times");
  }
  prev_close_ = bars_seen_ > 0 ? close_.back() : bar.open;
  time_.push(bar.ts_ms);
  open_.push(bar.open);
  high_.push(bar.high);
  low_.push(bar.low);
  close_.push(bar.close);
  volume_.push(bar.volume);
  indicators_.update(bar);
  price_ = bar.close;
  last_ts_ = std::max(last_ts_, bar.ts_ms);
  ++bars_seen_;
  cached_.reset();
}

void MarketState::on_tick(double price, double volume, std::int64_t ts_ms) {
  check(price, "price", ts_ms);
  check(volume, "volume", ts_ms);
  if (ts_ms < last_ts_) {
    throw BadMarketData(symbol_ + ": tick timestamp " + iso8601_ms(ts_ms) +
                        " is before the last update at " + iso8601_ms(last_ts_) +
                        "; expected non-decreasing times");
  }
  if (bars_seen_ == 0 && price_ == 0.0)
    prev_close_ = price;  // no bar yet: change vs the first trade
  price_ = price;
  last_ts_ = ts_ms;
  cached_.reset();
}

SnapshotPtr MarketState::snapshot() const {
  if (cached_) return cached_;
  auto s = std::make_shared<MarketSnapshot>();
  s->symbol = symbol_;
  const std::size_t n = close_.size();
  s->time_ms.assign(time_.data(), time_.data() + n);
  s->open.assign(open_.data(), open_.data() + n);
  s->high.assign(high_.data(), high_.data() + n);
  s->low.assign(low_.data(), low_.data() + n);
  s->close.assign(close_.data(), close_.data() + n);
  s->volume.assign(volume_.data(), volume_.data() + n);
  s->indicators = indicators_.values();
  s->price = price_;
  s->as_of_ms = last_ts_;
  s->bars_seen = bars_seen_;
  cached_ = std::move(s);
  return cached_;
}

}  // namespace gs
