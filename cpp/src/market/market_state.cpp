#include "goldensignals/market/market_state.hpp"

#include <cmath>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs {

MarketState::MarketState(std::string symbol, std::size_t history, std::int64_t bar_ms)
    : symbol_(std::move(symbol)),
      time_(history),
      open_(history),
      high_(history),
      low_(history),
      close_(history),
      volume_(history),
      bar_ms_(bar_ms) {
  if (bar_ms < 0) {
    throw InvalidArgument("MarketState: bar length " + std::to_string(bar_ms) +
                          " ms is not accepted; expected >= 0 (0: ticks do not form bars)");
  }
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
  if (forming_ && forming_->ts_ms <= bar.ts_ms) forming_.reset();  // a real bar supersedes it
  append(bar);
}

void MarketState::append(const Bar& bar) {
  if (first_price_ == 0.0) first_price_ = bar.open;
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
  if (first_price_ == 0.0) first_price_ = price;
  if (bar_ms_ > 0) {
    const std::int64_t start = ts_ms - ((ts_ms % bar_ms_) + bar_ms_) % bar_ms_;
    if (forming_ && start > forming_->ts_ms) {
      append(*forming_);  // the period ended: the bar is complete
      forming_.reset();
    }
    if (!forming_ && (bars_seen_ == 0 || start > time_.back())) {
      forming_ = Bar{start, price, price, price, price, 0.0};
    }
    if (forming_) {
      forming_->high = std::max(forming_->high, price);
      forming_->low = std::min(forming_->low, price);
      forming_->close = price;
      forming_->volume += volume;
    }
  }
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
