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
  // workers 0: no threads; submit() runs the task at once on the caller's thread, taking the
  // GIL for it (a synchronous runtime, whose caller is a Python thread).
  PythonExecutor(std::size_t workers, std::size_t max_workers, std::size_t queue_capacity,
                 std::chrono::milliseconds stuck_grace);
  ~PythonExecutor();
  PythonExecutor(const PythonExecutor&) = delete;

  // The pool that runs Python agents (GS_PYTHON_WORKERS), the same for gs.Runtime and the
  // native server's plugin: up to 4 + 4x replacements for stuck workers, 10,000 calls queued.
  static std::shared_ptr<PythonExecutor> for_agents(std::size_t workers);
  PythonExecutor& operator=(const PythonExecutor&) = delete;

  // Never blocks; false when the queue is full or the executor is stopped, and then t is
  // left untouched, so the caller decides where what it holds is released.
  bool submit(Task&& t);
  // Call with the GIL released. Stuck workers are left behind (they exit when they return).
  void stop();
  [[nodiscard]] Stats stats() const;
  // True when tasks run on the submitting thread (workers 0).
  [[nodiscard]] bool runs_inline() const noexcept;
  // Inline: a task saw Ctrl-C (KeyboardInterrupt on the main thread). Until take_interrupt()
  // clears it, submit() refuses work, so the run that owns this thread ends quickly.
  void note_interrupt() noexcept { interrupted_.store(true); }
  bool take_interrupt() noexcept { return interrupted_.exchange(false); }

 private:
  struct Worker;
  struct State;  // shared with the threads, so a detached stuck worker never outlives it
  bool run_inline(Task&& t);
  static void work(std::shared_ptr<State> st, std::shared_ptr<Worker> w);
  static void spawn_locked(const std::shared_ptr<State>& st);
  void watch();

  std::shared_ptr<State> st_;
  std::thread watchdog_;
  std::atomic<bool> interrupted_{false};
};

}  // namespace gs::bind
