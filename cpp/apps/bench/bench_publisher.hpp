// The load of goldensignals-bench-server (bench/): room messages published through
// Server::publish, the runtime's own path, once `subscribers` clients have joined rooms BENCH
// (or BENCH0..BENCHn-1): flat out (rate 0) or at a fixed rate, for `duration_s` seconds.
// Every message timed carries "published_ns" (CLOCK_MONOTONIC), so goldensignals-bench can
// time its delivery.
//
// kind "signal": signal_update messages of about `payload` bytes (stored when history is on).
// kind "price": price_update messages (never stored unless GS_STORE_PRICES); with
// `signal_every` n > 0, an unstamped signal_update goes before every n-th price, so the
// history store has commits to make while the prices are timed.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "goldensignals/server/server.hpp"

namespace gs::bench {

struct Publisher {
  int rooms = 0;
  std::size_t subscribers = 1;
  double rate = 0;
  double duration_s = 3;
  std::size_t payload = 400;
  std::string kind = "signal";
  std::uint64_t signal_every = 0;
  std::size_t backlog = 160;  // flat out: unsent messages per subscriber (as the peers: 64 KiB)
  std::uint64_t burst = 32;   // flat out: messages published back to back (as the peers)

  [[nodiscard]] std::string room(int i) const {
    return rooms == 1 ? std::string("BENCH") : "BENCH" + std::to_string(i);
  }

  [[nodiscard]] std::string signal_body(const std::string& sym, std::int64_t stamp) const {
    std::string body = R"({"type":"signal_update","data":{"symbol":")" + sym +
                       R"(","action":"BUY","confidence":0.8125,"agreement":0.8,"price":187.42,)"
                       R"("reasoning":[")";
    const std::size_t tail = 40;  // the stamp and the closing of the object
    if (body.size() + tail < payload) body.append(payload - body.size() - tail, 'x');
    body += "\"]";
    if (stamp >= 0) body += R"(,"published_ns":)" + std::to_string(stamp);
    return body + "}}";
  }

  [[nodiscard]] static std::string price_body(const std::string& sym, std::int64_t stamp) {
    return R"({"type":"price_update","data":{"symbol":")" + sym +
           R"(","price":187.42,"volume":1200,"change":0.35,"change_percent":0.19,)"
           R"("timestamp":"2026-12-06T21:00:00.000Z","published_ns":)" +
           std::to_string(stamp) + "}}";
  }

  static std::int64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }

  void run(Server& server, const std::atomic<bool>& stop) const {
    using namespace std::chrono;
    for (;;) {  // wait for every subscriber
      if (stop.load()) return;
      std::size_t joined = 0;
      for (const auto& [sym, n] : server.stats().rooms) {
        if (sym.rfind("BENCH", 0) == 0) joined += n;
      }
      if (joined >= subscribers) break;
      std::this_thread::sleep_for(milliseconds(5));
    }
    spdlog::info("bench: {} subscribers in {} room(s); publishing {} {} for {} s", subscribers,
                 rooms, kind, rate > 0 ? std::to_string(rate) + " msg/s" : std::string("flat out"),
                 duration_s);
    const bool prices = kind == "price";
    const auto per_room = static_cast<std::size_t>(subscribers / static_cast<std::size_t>(rooms));
    const auto start = steady_clock::now();
    const auto end = start + duration_cast<steady_clock::duration>(duration<double>(duration_s));
    const std::uint64_t sent0 = server.messages_sent();
    std::uint64_t published = 0, frames = 0;
    const std::int64_t start_ns = mono_ns();
    struct Msg {
      std::string room;
      MessageKind kind;
      std::string body;
    };
    // At a fixed rate the stamp is the time the message was due, so a publisher that falls
    // behind shows as latency rather than as a slower rate nobody sees.
    auto make = [&](std::uint64_t i, std::vector<Msg>& out) {
      const auto sym = room(static_cast<int>(i % static_cast<std::uint64_t>(rooms)));
      const std::int64_t stamp =
          rate > 0 ? start_ns + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate)
                   : mono_ns();
      if (!prices) {
        out.push_back({sym, MessageKind::SignalUpdate, signal_body(sym, stamp)});
        return;
      }
      if (signal_every > 0 && i % signal_every == 0) {
        out.push_back({sym, MessageKind::SignalUpdate, signal_body(sym, -1)});
      }
      out.push_back({sym, MessageKind::PriceUpdate, price_body(sym, stamp)});
    };
    std::vector<Msg> batch;
    for (std::uint64_t i = 0;;) {
      if (stop.load()) return;
      batch.clear();
      if (rate > 0) {
        if (static_cast<double>(i) >= rate * duration_s) break;
        std::this_thread::sleep_until(
            steady_clock::time_point(nanoseconds(start_ns)) +
            duration_cast<steady_clock::duration>(duration<double>(static_cast<double>(i) / rate)));
        make(i++, batch);
      } else {
        // Flat out: `burst` messages made, then handed over back to back (as the peers publish
        // a burst per turn of their event loop), while at most `backlog` per subscriber wait.
        if (steady_clock::now() >= end) break;
        while (frames > server.messages_sent() - sent0 + backlog * subscribers && !stop.load()) {
          std::this_thread::sleep_for(microseconds(500));
        }
        for (std::uint64_t k = 0; k < burst; ++k) make(i++, batch);
      }
      for (auto& m : batch) {
        server.publish(m.room, m.kind, std::move(m.body));
        ++published;
        frames += per_room;
      }
    }
    spdlog::info("bench: published {} messages", published);
  }
};

}  // namespace gs::bench
