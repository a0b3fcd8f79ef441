#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/market/feed.hpp"

namespace gs {
namespace {

// FNV-1a: a stable hash, so a symbol's seed and start price never depend on the platform.
std::uint64_t fnv1a(const std::string& s, std::uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

struct Walker {
  std::string symbol;
  std::mt19937_64 rng;
  double price;
};

class SimulatedFeed final : public Feed {
 public:
  explicit SimulatedFeed(SimulatedFeedOptions o) : o_(std::move(o)) { o_.validate(); }

  void bind(const std::vector<std::string>& symbols) override {
    walkers_.clear();
    for (const auto& s : symbols) {
      auto it = o_.start_prices.find(s);
      // 20..520, fixed per name, when the user gives none.
      const double p = it != o_.start_prices.end()
                           ? it->second
                           : 20.0 + static_cast<double>(fnv1a(s) % 50000) / 100.0;
      walkers_.push_back(Walker{s, std::mt19937_64(fnv1a(s, o_.seed ^ 0x9E3779B97F4A7C15ULL)), p});
    }
  }

  void run(FeedSink& sink, std::stop_token stop) override {
    const auto step_ms = static_cast<std::int64_t>(std::max(1.0, o_.interval_s * 1000.0));
    const std::int64_t t0 = now_ms() - static_cast<std::int64_t>(o_.backfill) * step_ms;
    for (std::size_t k = 0; k < o_.backfill; ++k) {
      if (stop.stop_requested()) return;
      for (auto& w : walkers_)
        sink.on_bar(w.symbol, next_bar(w, t0 + static_cast<std::int64_t>(k) * step_ms), false);
    }
    sink.on_history_done();
    std::mutex mu;
    std::condition_variable_any cv;
    auto next = std::chrono::steady_clock::now();
    std::int64_t last_ts = t0 + static_cast<std::int64_t>(o_.backfill) * step_ms;
    for (std::int64_t n = 0; o_.max_bars < 0 || n < o_.max_bars; ++n) {
      if (o_.interval_s > 0) {
        next += std::chrono::milliseconds(step_ms);
        std::unique_lock lk(mu);
        if (cv.wait_until(lk, stop, next, [] { return false; })) break;
      }
      if (stop.stop_requested()) break;
      last_ts = std::max(last_ts + 1, o_.interval_s > 0 ? now_ms() : last_ts + step_ms);
      for (auto& w : walkers_) sink.on_bar(w.symbol, next_bar(w, last_ts), true);
    }
  }

  [[nodiscard]] bool backfills() const override { return o_.backfill > 0; }

  [[nodiscard]] std::string describe() const override {
    return "simulated(seed=" + std::to_string(o_.seed) + ", drift=" + fmt_num(o_.drift) +
           ", volatility=" + fmt_num(o_.volatility) + ", interval=" + fmt_num(o_.interval_s) + "s)";
  }

 private:
  // Four sub-steps per bar give open, high, low and close from one continuous path.
  Bar next_bar(Walker& w, std::int64_t ts) {
    std::normal_distribution<double> z(0.0, 1.0);
    const double sub_sigma = o_.volatility / 2.0;  // sqrt(4 sub-steps)
    const double sub_mu = o_.drift / 4.0 - 0.5 * sub_sigma * sub_sigma;
    Bar b;
    b.ts_ms = ts;
    b.open = w.price;
    b.high = b.low = w.price;
    for (int i = 0; i < 4; ++i) {
      w.price *= std::exp(sub_mu + sub_sigma * z(w.rng));
      b.high = std::max(b.high, w.price);
      b.low = std::min(b.low, w.price);
    }
    b.close = w.price;
    // Volume: log-normal, heavier on bars that move more than usual.
    const double move = std::abs(std::log(b.close / b.open)) / std::max(o_.volatility, 1e-12);
    std::lognormal_distribution<double> noise(0.0, 0.35);
    b.volume = std::round(o_.base_volume * (0.6 + 0.4 * move) * noise(w.rng));
    return b;
  }

  SimulatedFeedOptions o_;
  std::vector<Walker> walkers_;
};

}  // namespace

void SimulatedFeedOptions::validate() const {
  auto bad = [](const std::string& what, double v, const std::string& accepted) {
    throw InvalidArgument("Simulated feed: " + what + " " + fmt_num(v) +
                          " is not accepted; expected " + accepted);
  };
  if (!std::isfinite(drift) || std::abs(drift) > 0.1)
    bad("drift", drift, "a per-bar log-return in [-0.1, 0.1]");
  if (!std::isfinite(volatility) || volatility < 0 || volatility > 0.2) {
    bad("volatility", volatility, "a per-bar standard deviation in [0, 0.2]");
  }
  if (!std::isfinite(interval_s) || interval_s < 0 || interval_s > 3600) {
    bad("interval", interval_s, "seconds in [0, 3600]");
  }
  if (backfill > 100000) bad("backfill", static_cast<double>(backfill), "at most 100000 bars");
  if (!std::isfinite(base_volume) || base_volume <= 0)
    bad("base_volume", base_volume, "a number > 0");
  for (const auto& [s, p] : start_prices) {
    if (!std::isfinite(p) || p <= 0) bad("start price of " + s, p, "a price > 0");
  }
}

std::unique_ptr<Feed> make_simulated_feed(SimulatedFeedOptions opts) {
  return std::make_unique<SimulatedFeed>(std::move(opts));
}

}  // namespace gs
