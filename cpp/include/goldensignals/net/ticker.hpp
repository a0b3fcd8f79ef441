// One timer for all of a server's WebSocket sessions. Each session keeps its next deadline
// (a heartbeat, the end of its close handshake, its token's expiry) in an atomic; the ticker
// wakes every `resolution`, and hands each session whose deadline has passed to the session's
// own executor. A session pays about 40 bytes for this, against a timer (120 bytes) and a
// pending wait (about 150 bytes) of its own.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "goldensignals/net/net.hpp"

namespace gs {

class Ticker {
 public:
  // What the ticker calls when a deadline has passed.
  class Due {
   public:
    // On the ticker's thread, without its lock: post to your own executor, do not work here.
    virtual void due() noexcept = 0;

   protected:
    ~Due() = default;
  };
  // Nanoseconds of std::chrono::steady_clock; kNever: none.
  using Deadline = std::atomic<std::int64_t>;
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
  static constexpr std::size_t kNoSlot = std::numeric_limits<std::size_t>::max();

  static std::int64_t at(std::chrono::steady_clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  // Sets `d` to `t`; time_point::max() is never.
  static void set(Deadline& d, std::chrono::steady_clock::time_point t) noexcept {
    d.store(t == std::chrono::steady_clock::time_point::max() ? kNever : at(t),
            std::memory_order_release);
  }
  // For a Due's due(): `f` to run on `ex`. If it cannot be queued (out of memory), `d` is due
  // again, and the ticker tries at its next tick.
  template <class F>
  static void hand_over(const asio::any_io_executor& ex, Deadline& d, F&& f) noexcept {
    try {
      asio::post(ex, std::forward<F>(f));
    } catch (...) {
      set(d, std::chrono::steady_clock::now());
    }
  }

  explicit Ticker(std::chrono::milliseconds resolution) : resolution_(resolution) {}
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  // Watches `deadline` for `who` until remove(slot); `deadline` must outlive that.
  // Thread-safe.
  std::size_t add(std::weak_ptr<Due> who, Deadline* deadline);
  void remove(std::size_t slot);

  // Starts ticking on `ex`; stop() from any thread ends the pending wait. release() once no
  // thread runs the executor any more (the server's stop).
  void start(const asio::any_io_executor& ex);
  void stop();
  void release();

  [[nodiscard]] std::chrono::milliseconds resolution() const noexcept { return resolution_; }

 private:
  struct Entry {
    std::weak_ptr<Due> who;
    Deadline* deadline = nullptr;  // null: a free slot
  };
  void arm();
  void on_tick(error_code ec);

  const std::chrono::milliseconds resolution_;
  std::mutex mu_;  // guards entries_ and free_; never held across I/O or a call out
  std::vector<Entry> entries_;
  std::vector<std::size_t> free_;
  std::unique_ptr<asio::steady_timer> timer_;  // while started
  std::vector<std::shared_ptr<Due>> ready_;    // the ticker's thread only
};

}  // namespace gs
