#include "event_pump.hpp"

#include <cxxabi.h>

#include "event_types.hpp"
#include "gil.hpp"
#include "goldensignals/core/thread_name.hpp"

namespace py = pybind11;

namespace gs::bind {

EventPump::EventPump(py::object dispatch, std::size_t capacity)
    : dispatch_(std::make_unique<py::object>(std::move(dispatch))), capacity_(capacity) {}

void EventPump::start() {
  thread_ = std::thread([self = shared_from_this()] {
    name_this_thread("gs-py-events");
    self->run();
  });
}

EventPump::~EventPump() {
  if (thread_.joinable() && thread_.get_id() == std::this_thread::get_id()) {
    stop();
    thread_.detach();  // destroyed from its own callback: the thread is on its way out
    return;
  }
  without_gil([this] { stop(); });  // the thread may be waiting for the GIL to finish
}

void EventPump::push(Event e) {
  {
    std::unique_lock lk(mu_);
    // Waiting with the GIL held would stop the pump that makes the room: drop then instead.
    if (block_ && queue_.size() >= capacity_ && !PyGILState_Check()) {
      room_cv_.wait(lk, [&] { return stopping_ || queue_.size() < capacity_; });
    }
    if (stopping_) return;
    if (queue_.size() >= capacity_) {
      dropped_.fetch_add(1);  // Python is not keeping up; never block a compute thread
      return;
    }
    queue_.push_back(std::move(e));
  }
  cv_.notify_one();
}

std::size_t EventPump::queued() const {
  std::lock_guard lk(mu_);
  return queue_.size();
}

void EventPump::run() {
  PyGILState_STATE gstate = PyGILState_Ensure();
  py::object get_level =
      py::module_::import("logging").attr("getLogger")("goldensignals").attr("getEffectiveLevel");
  level_.store(get_level().cast<int>());
  try {
    loop(get_level);
  } catch (abi::__forced_unwind&) {
    // Interpreter finalization ended this thread as it took the GIL back: keep the Python
    // objects rather than release them without the GIL. The process is ending.
    get_level.release();
    dispatch_.release();
    throw;
  }
  get_level = py::object();
  dispatch_.reset();
  PyGILState_Release(gstate);
}

void EventPump::loop(const py::object& get_level) {
  PyThreadState* ts = PyEval_SaveThread();
  std::unique_lock lk(mu_);
  while (true) {
    // Wakes twice a second at least, to follow logging.setLevel() made while idle.
    const bool ready = cv_.wait_for(lk, std::chrono::milliseconds(500),
                                    [&] { return stopping_ || !queue_.empty(); });
    if (!ready) {
      lk.unlock();
      PyEval_RestoreThread(ts);
      try {
        level_.store(get_level().cast<int>());
      } catch (py::error_already_set& e) {
        e.discard_as_unraisable("goldensignals log level");
      }
      ts = PyEval_SaveThread();
      lk.lock();
      continue;
    }
    if (queue_.empty()) break;
    std::deque<Event> batch;
    batch.swap(queue_);
    lk.unlock();
    room_cv_.notify_all();
    PyEval_RestoreThread(ts);
    for (auto& ev : batch) {
      try {
        std::visit([&](auto& e) { deliver(*dispatch_, e); }, ev);
      } catch (py::error_already_set& e) {
        e.discard_as_unraisable("goldensignals event callback");
      }
    }
    batch.clear();
    try {
      level_.store(get_level().cast<int>());  // follow logging.setLevel() without a round trip
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("goldensignals log level");
    }
    ts = PyEval_SaveThread();
    lk.lock();
  }
  lk.unlock();
  PyEval_RestoreThread(ts);
}

void EventPump::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  room_cv_.notify_all();
  // A callback may stop the runtime from the pump's own thread: then a later stop() (or the
  // destructor) joins it. Joins are serialized: two stoppers never join at once.
  std::lock_guard jl(join_mu_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace gs::bind
