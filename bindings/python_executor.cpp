#include "python_executor.hpp"

#include <cxxabi.h>

#include <algorithm>

#include "gil.hpp"
#include "goldensignals/core/thread_name.hpp"

namespace gs::bind {

namespace {
std::int64_t ns_of(PythonExecutor::Clock::time_point t) {
  if (t == PythonExecutor::Clock::time_point::max()) return INT64_MAX;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

struct PythonExecutor::Worker {
  std::thread thread;
  std::atomic<std::int64_t> busy_until_ns{0};  // deadline of the current task; 0 when idle
  std::atomic<bool> done{false};
};

struct PythonExecutor::State {
  State(std::size_t t, std::size_t m, std::size_t c, std::chrono::milliseconds g)
      : target(t), max(m), capacity(c), grace(g) {}
  const std::size_t target;
  const std::size_t max;
  const std::size_t capacity;
  const std::chrono::milliseconds grace;
  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  std::condition_variable watch_cv;
  std::deque<Task> queue;
  std::vector<std::shared_ptr<Worker>> workers;
  bool stopping = false;
  std::atomic<std::uint64_t> executed{0}, rejected{0}, replaced{0};

  // Workers not stuck: idle, or inside their task's deadline plus the grace.
  std::size_t healthy_locked(Clock::time_point now) const {
    const auto limit = ns_of(now) - std::chrono::nanoseconds(grace).count();
    std::size_t n = 0;
    for (const auto& w : workers) {
      const auto until = w->busy_until_ns.load();
      if (!w->done.load() && (until == 0 || until > limit)) ++n;
    }
    return n;
  }
};

PythonExecutor::PythonExecutor(std::size_t workers, std::size_t max_workers,
                               std::size_t queue_capacity, std::chrono::milliseconds stuck_grace)
    : st_(std::make_shared<State>(workers, std::max(max_workers, workers), queue_capacity,
                                  stuck_grace)) {
  if (workers == 0) return;  // inline
  {
    std::lock_guard lk(st_->mu);
    for (std::size_t i = 0; i < st_->target; ++i) spawn_locked(st_);
  }
  watchdog_ = std::thread([this] {
    name_this_thread("gs-py-watchdog");
    watch();
  });
}

std::shared_ptr<PythonExecutor> PythonExecutor::for_agents(std::size_t workers) {
  return std::make_shared<PythonExecutor>(workers, workers * 4 + 4, 10'000,
                                          std::chrono::milliseconds(250));
}

PythonExecutor::~PythonExecutor() {
  without_gil([this] { stop(); });  // workers may be waiting for the GIL to finish
}

void PythonExecutor::spawn_locked(const std::shared_ptr<State>& st) {
  auto w = std::make_shared<Worker>();
  w->thread = std::thread([st, w] {
    name_this_thread("gs-py-agent");
    work(st, w);
  });
  st->workers.push_back(std::move(w));
}

bool PythonExecutor::submit(Task&& t) {
  if (runs_inline()) return run_inline(std::move(t));
  {
    std::lock_guard lk(st_->mu);
    if (st_->stopping || st_->queue.size() >= st_->capacity) {
      st_->rejected.fetch_add(1);
      return false;
    }
    st_->queue.push_back(std::move(t));
  }
  st_->cv.notify_one();
  return true;
}

bool PythonExecutor::run_inline(Task&& t) {
  {
    std::lock_guard lk(st_->mu);
    if (st_->stopping || interrupted_.load()) {
      st_->rejected.fetch_add(1);
      return false;
    }
  }
  if (!Py_IsInitialized()) return false;
  const PyGILState_STATE g = PyGILState_Ensure();
  {
    Task mine = std::move(t);
    try {
      mine.run();
    } catch (abi::__forced_unwind&) {
      new Task(std::move(mine));  // as in work(): the process is ending
      throw;
    } catch (...) {  // a task must not throw; if one does, the caller survives it
      PyErr_Clear();
    }
  }  // what the task held is released with the GIL held
  st_->executed.fetch_add(1);
  PyGILState_Release(g);
  return true;
}

void PythonExecutor::work(std::shared_ptr<State> st, std::shared_ptr<Worker> w) {
  // One thread state for the thread's whole life: re-acquiring it costs ~0.3 us, making one ~8 us.
  PyGILState_STATE gstate = PyGILState_Ensure();
  PyThreadState* ts = PyEval_SaveThread();
  std::unique_lock lk(st->mu);
  while (true) {
    st->cv.wait(lk, [&] { return st->stopping || !st->queue.empty(); });
    if (st->queue.empty()) break;  // stopping and drained
    Task t = std::move(st->queue.front());
    st->queue.pop_front();
    lk.unlock();
    PyEval_RestoreThread(ts);
    // One task at a time, so a stuck call never holds back work another worker could do; the
    // GIL is kept while more is queued. try_lock never waits, so no lock is awaited under it.
    while (true) {
      w->busy_until_ns.store(ns_of(t.deadline));
      try {
        t.run();
      } catch (abi::__forced_unwind&) {
        // Interpreter finalization ends a thread that takes the GIL back (Python <= 3.13
        // calls pthread_exit): let the unwind end it, and keep what the task owns instead of
        // dropping Python references without the GIL. The process is ending.
        new Task(std::move(t));
        throw;
      } catch (...) {  // a task must not throw; if one does, the worker survives it
        PyErr_Clear();
      }
      w->busy_until_ns.store(0);
      st->executed.fetch_add(1);
      t = Task{};  // release what the task held while the GIL is held
      if (!lk.try_lock()) break;
      if (st->queue.empty() || st->stopping) {
        lk.unlock();
        break;
      }
      t = std::move(st->queue.front());
      st->queue.pop_front();
      lk.unlock();
    }
    ts = PyEval_SaveThread();
    lk.lock();
    // A replacement took this worker's place while it was stuck: leave if there are enough.
    if (st->workers.size() > st->target && st->healthy_locked(Clock::now()) > st->target) break;
  }
  w->done.store(true);
  lk.unlock();
  PyEval_RestoreThread(ts);
  PyGILState_Release(gstate);
}

void PythonExecutor::watch() {
  auto st = st_;
  std::unique_lock lk(st->mu);
  while (!st->stopping) {
    st->watch_cv.wait_for(lk, std::chrono::milliseconds(20));
    if (st->stopping) break;
    std::vector<std::shared_ptr<Worker>> gone;
    std::erase_if(st->workers, [&](const auto& w) {
      if (!w->done.load()) return false;
      gone.push_back(w);
      return true;
    });
    if (st->healthy_locked(Clock::now()) < st->target && st->workers.size() < st->max &&
        !st->queue.empty()) {
      spawn_locked(st);
      st->replaced.fetch_add(1);
    }
    if (!gone.empty()) {
      lk.unlock();  // joining waits for the GIL; never while holding the lock
      for (auto& w : gone) w->thread.join();
      lk.lock();
    }
  }
}

void PythonExecutor::stop() {
  std::vector<std::shared_ptr<Worker>> workers;
  {
    std::lock_guard lk(st_->mu);
    if (st_->stopping) return;
    st_->stopping = true;
  }
  st_->cv.notify_all();
  st_->watch_cv.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  {
    std::lock_guard lk(st_->mu);
    workers = st_->workers;
  }
  const auto until = Clock::now() + std::chrono::seconds(2);
  for (auto& w : workers) {
    // A worker stuck in Python past the wait is detached; it ends when its call returns.
    while (!w->done.load() && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (w->done.load()) {
      w->thread.join();
    } else {
      w->thread.detach();
    }
  }
}

bool PythonExecutor::runs_inline() const noexcept { return st_->target == 0; }

PythonExecutor::Stats PythonExecutor::stats() const {
  std::lock_guard lk(st_->mu);
  Stats s;
  s.workers = st_->workers.size();
  s.stuck = s.workers - std::min(s.workers, st_->healthy_locked(Clock::now()));
  s.queued = st_->queue.size();
  s.executed = st_->executed.load();
  s.rejected = st_->rejected.load();
  s.replaced = st_->replaced.load();
  return s;
}

}  // namespace gs::bind
