// An immutable view of one symbol's market at one moment: what an agent sees.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "goldensignals/indicators/indicator_set.hpp"

namespace gs {

struct MarketSnapshot {
  std::string symbol;
  // The most recent bars, oldest first; every column has the same length.
  std::vector<std::int64_t> time_ms;
  std::vector<double> open, high, low, close, volume;
  ind::IndicatorValues indicators;
  double price = 0.0;         // last traded price (the last tick, else the last close)
  std::int64_t as_of_ms = 0;  // time of the last tick or bar
  std::uint64_t bars_seen = 0;

  [[nodiscard]] std::size_t size() const noexcept { return close.size(); }
};

using SnapshotPtr = std::shared_ptr<const MarketSnapshot>;

}  // namespace gs
