#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <queue>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/market/feed.hpp"

namespace gs {
namespace {

class ReplayFeed final : public Feed {
 public:
  explicit ReplayFeed(ReplayFeedOptions o) : o_(std::move(o)) {
    o_.validate();
    for (auto& [s, bars] : o_.bars) {
      std::stable_sort(bars.begin(), bars.end(),
                       [](const Bar& a, const Bar& b) { return a.ts_ms < b.ts_ms; });
    }
  }

  [[nodiscard]] std::vector<std::string> own_symbols() const override {
    std::vector<std::string> out;
    for (const auto& [s, bars] : o_.bars) out.push_back(s);
    return out;
  }

  void run(FeedSink& sink, std::stop_token stop) override {
    // Merge the symbols' series by time: (ts, symbol index, bar index).
    using Item = std::tuple<std::int64_t, std::size_t, std::size_t>;
    std::vector<const std::pair<const std::string, std::vector<Bar>>*> series;
    for (const auto& kv : o_.bars) series.push_back(&kv);
    std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
    for (std::size_t s = 0; s < series.size(); ++s) {
      if (!series[s]->second.empty()) heap.emplace(series[s]->second[0].ts_ms, s, 0);
    }
    std::mutex mu;
    std::condition_variable_any cv;
    std::int64_t prev_ts = 0;
    bool first = true;
    while (!heap.empty() && !stop.stop_requested()) {
      auto [ts, s, i] = heap.top();
      heap.pop();
      const auto& [symbol, bars] = *series[s];
      if (o_.speed > 0 && !first && ts > prev_ts) {
        const auto wait = std::chrono::duration<double, std::milli>((ts - prev_ts) / o_.speed);
        std::unique_lock lk(mu);
        if (cv.wait_for(lk, stop, std::chrono::duration_cast<std::chrono::microseconds>(wait),
                        [] { return false; }) ||
            stop.stop_requested()) {
          break;
        }
      }
      first = false;
      prev_ts = ts;
      sink.on_bar(symbol, bars[i], true);
      if (o_.speed == 0) sink.wait_idle(symbol);
      if (i + 1 < bars.size()) heap.emplace(bars[i + 1].ts_ms, s, i + 1);
    }
  }

  [[nodiscard]] std::string describe() const override {
    std::size_t n = 0;
    for (const auto& [s, bars] : o_.bars) n += bars.size();
    return "replay(" + std::to_string(n) + " bars, " + std::to_string(o_.bars.size()) +
           " symbols, speed=" + fmt_num(o_.speed) + ")";
  }

 private:
  ReplayFeedOptions o_;
};

}  // namespace

void ReplayFeedOptions::validate() const {
  if (!std::isfinite(speed) || speed < 0) {
    throw InvalidArgument("Replay feed: speed " + fmt_num(speed) +
                          " is not accepted; expected 0 (as fast as possible) or a multiple of "
                          "real time > 0");
  }
  if (bars.empty()) throw InvalidArgument("Replay feed: no bars given; expected at least one");
}

std::unique_ptr<Feed> make_replay_feed(ReplayFeedOptions opts) {
  return std::make_unique<ReplayFeed>(std::move(opts));
}

}  // namespace gs
