// Turns runtime events into room messages. Called on compute threads, it builds the JSON text
// once. Room messages have one route: into the journal (History::journal: in memory, or the
// SignalStore), which numbers them, makes them durable when it keeps history, and hands
// them back (hand_over) to one strand, in seq order; there they go to the bus. Messages for
// every client (alerts, heartbeats) go to the same strand directly.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "goldensignals/broadcast/message.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/store/journal.hpp"

namespace gs {

struct RouterParts;
class Bus;

// Runs what the journal handed over, in order: messages to `bus`, recovery answers called.
void run_steps(Bus& bus, std::vector<Journal::Step>& steps);

class EventRouter final : public RuntimeSink, public std::enable_shared_from_this<EventRouter> {
 public:
  // `strand` serializes publishing.
  EventRouter(std::shared_ptr<const RouterParts> parts, boost::asio::any_io_executor strand);

  void on_agent_update(const AgentUpdate& u) override;
  void on_decision(const DecisionPtr& d) override;
  void on_alert(const Alert& a) override;
  void on_price_update(const PriceUpdate& p) override;
  void on_signal_outcome(const ScoredForecast& f) override;
  void on_log(int, const std::string&, const std::string&) override {}
  [[nodiscard]] int log_level() const override { return 1000; }  // the server wants no logs

  // Publishes as the runtime would (heartbeats, tests, other producers): room kinds through
  // the journal, the rest on the strand. `body` is a JSON object text without seq.
  void post(std::string symbol, MessageKind kind, std::string body);
  // What the journal delivers, run on the strand in order (messages fanned out, recovery
  // answers run), so the network thread fans out in bursts. Bounded: with `wait` (the
  // store's thread) it blocks while event_queue_size steps wait for the strand, so a network
  // thread that falls behind holds the store back (and the store's full queue its producers).
  // Without (the memory journal, called by producers): it never blocks; prices were shed
  // before the journal while the backlog is full. Never from the strand.
  void hand_over(std::vector<Journal::Step> steps, bool wait = true);
  // Once the io threads are stopped: hand_over no longer waits or posts, only queues, and
  // run_left_over() runs what the strand did not get to, in order, on the caller's thread.
  void close_hand_over();
  void run_left_over();
  // Events after this are ignored (the server is stopping); steps handed over still run.
  void stop() noexcept { stopped_.store(true); }

 private:
  using Journaled = std::vector<std::pair<MessageKind, std::string>>;
  struct Item {  // a message for every client
    MessageKind kind;
    std::string body;
  };
  // Room messages of `symbol`, into the journal in the order given.
  void journal(const std::string& symbol, Journaled items);
  void drain();  // on the strand: publishes everything posted so far, in order

  std::shared_ptr<const RouterParts> parts_;
  boost::asio::any_io_executor strand_;
  std::atomic<std::size_t> backlog_{0};  // handed over, not yet run (prices shed past the cap)
  // Messages for every client wait here for one drain on the strand: a burst of events reaches
  // every client's queue before its next write, which then carries them all (one gather write).
  std::mutex inbox_mu_;  // guards the fields up to closed_; never held across I/O or publishing
  std::vector<Item> inbox_;
  std::vector<Journal::Step> stored_;    // handed over by the journal, in its order
  std::condition_variable stored_room_;  // hand_over waits here while stored_ is full
  bool closed_ = false;                  // no strand any more: hand_over only queues
  bool drain_posted_ = false;
  std::vector<Item> draining_;                  // strand only: the batch being published
  std::vector<Journal::Step> draining_stored_;  // strand only
  std::atomic<bool> stopped_{false};
};

}  // namespace gs
