// Runs Python work on a few dedicated threads, each with a persistent thread state, so no
// network or compute thread ever takes the GIL. A worker stuck in a call long past its
// deadline is set aside and replaced, not waited for.
#pragma once

#include <Python.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gs::bind {

class PythonExecutor {
 public:
  using Clock = std::chrono::steady_clock;
  struct Task {
    std::function<void()> run;  // called with the GIL held; must not throw
    Clock::time_point deadline = Clock::time_point::max();
  };
  struct Stats {
    std::size_t workers = 0;
    std::size_t stuck = 0;
    std::size_t queued = 0;
    std::uint64_t executed = 0;
    std::uint64_t rejected = 0;
    std::uint64_t replaced = 0;
  };

  // workers: the pool size kept healthy; max_workers bounds replacements for stuck ones.
  PythonExecutor(std::size_t workers, std::size_t max_workers, std::size_t queue_capacity,
                 std::chrono::milliseconds stuck_grace);
  ~PythonExecutor();
  PythonExecutor(const PythonExecutor&) = delete;
  PythonExecutor& operator=(const PythonExecutor&) = delete;

  // Never blocks; false when the queue is full or the executor is stopped, and then t is
  // left untouched, so the caller decides where what it holds is released.
  bool submit(Task&& t);
  // Call with the GIL released. Stuck workers are left behind (they exit when they return).
  void stop();
  [[nodiscard]] Stats stats() const;

 private:
  struct Worker;
  struct State;  // shared with the threads, so a detached stuck worker never outlives it
  static void work(std::shared_ptr<State> st, std::shared_ptr<Worker> w);
  static void spawn_locked(const std::shared_ptr<State>& st);
  void watch();

  std::shared_ptr<State> st_;
  std::thread watchdog_;
};

}  // namespace gs::bind
