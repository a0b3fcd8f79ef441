// One symbol's market: bounded history of bars, the last trade, incremental indicators.
// Not thread-safe by itself: the Runtime serializes access per symbol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "goldensignals/core/types.hpp"
#include "goldensignals/indicators/indicator_set.hpp"
#include "goldensignals/market/snapshot.hpp"

namespace gs {

// A fixed-capacity window of doubles that is always contiguous: every value is written twice,
// at i and i + capacity, so the newest `size()` values are one span. O(1) per push.
template <typename T>
class MirrorRing {
 public:
  explicit MirrorRing(std::size_t capacity) : cap_(capacity), buf_(2 * capacity) {}
  void push(T v) {
    buf_[head_] = v;
    buf_[head_ + cap_] = v;
    head_ = (head_ + 1) % cap_;
    if (size_ < cap_) ++size_;
  }
  // Oldest first.
  [[nodiscard]] const T* data() const noexcept { return buf_.data() + (size_ < cap_ ? 0 : head_); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
  [[nodiscard]] T back() const noexcept { return data()[size_ - 1]; }

 private:
  std::size_t cap_;
  std::vector<T> buf_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

class MarketState {
 public:
  // history: how many bars are kept (and shown to agents). bar_ms > 0: ticks build bars of
  // that length (a tick in a later period closes the forming bar); 0: ticks never form bars.
  explicit MarketState(std::string symbol, std::size_t history = 512, std::int64_t bar_ms = 0);

  // Appends a completed bar. Throws BadMarketData (symbol, field, value) for NaN or infinite
  // fields, a non-positive price, high < low, a negative volume, or a bar older than the last;
  // state is unchanged when it throws.
  void on_bar(const Bar& bar);

  // Records a trade: moves the last price and, with bar_ms > 0, builds bars. Throws
  // BadMarketData as on_bar (and for a time before the last update).
  void on_tick(double price, double volume, std::int64_t ts_ms);

  // An immutable copy for one analysis; cached until the next bar or tick.
  [[nodiscard]] SnapshotPtr snapshot() const;

  [[nodiscard]] const std::string& symbol() const noexcept { return symbol_; }
  [[nodiscard]] double price() const noexcept { return price_; }
  // Close of the last completed bar; the first trade's price before any bar; 0 before any data.
  [[nodiscard]] double last_close() const noexcept {
    return close_.size() > 0 ? close_.back() : first_price_;
  }
  [[nodiscard]] std::int64_t last_ts_ms() const noexcept { return last_ts_; }
  [[nodiscard]] std::uint64_t bars_seen() const noexcept { return bars_seen_; }
  // The last completed bar; requires bars_seen() > 0.
  [[nodiscard]] Bar last_bar() const noexcept {
    return Bar{time_.back(), open_.back(), high_.back(), low_.back(), close_.back(),
               volume_.back()};
  }
  [[nodiscard]] const ind::IndicatorValues& indicators() const noexcept {
    return indicators_.values();
  }

 private:
  void check(double v, const char* field, std::int64_t ts_ms) const;
  void append(const Bar& bar);  // validated bar: history, indicators, cache

  std::string symbol_;
  MirrorRing<std::int64_t> time_;
  MirrorRing<double> open_, high_, low_, close_, volume_;
  ind::IndicatorSet indicators_;
  std::int64_t bar_ms_;
  std::optional<Bar> forming_;  // the bar ticks are building
  double price_ = 0.0;
  double first_price_ = 0.0;
  std::int64_t last_ts_ = 0;
  std::uint64_t bars_seen_ = 0;
  mutable SnapshotPtr cached_;
};

}  // namespace gs
