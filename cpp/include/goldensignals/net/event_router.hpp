// Turns runtime events into room messages. Called on compute threads, it only builds the JSON
// text once and posts it to one strand; there the per-symbol seq is stamped and the message
// goes to the bus, so every room sees its messages in seq order. With history on, room
// messages go to the SignalStore instead, which stamps seq, commits and hands them back
// (hand_over) to the same strand, in order.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "goldensignals/broadcast/message.hpp"
#include "goldensignals/broadcast/sequencer.hpp"
#include "goldensignals/runtime/runtime.hpp"
#include "goldensignals/store/signal_store.hpp"

namespace gs {

struct ServerContext;
class Bus;

// Runs what the store handed over, in order: messages to `bus`, recovery answers called.
void run_steps(Bus& bus, std::vector<SignalStore::Step>& steps);

class EventRouter final : public RuntimeSink, public std::enable_shared_from_this<EventRouter> {
 public:
  // `strand` serializes sequencing and publishing; `seq` numbers room messages.
  EventRouter(std::shared_ptr<ServerContext> ctx, boost::asio::any_io_executor strand,
              std::unique_ptr<Sequencer> seq);

  void on_agent_update(const AgentUpdate& u) override;
  void on_decision(const DecisionPtr& d) override;
  void on_alert(const Alert& a) override;
  void on_price_update(const PriceUpdate& p) override;
  void on_signal_outcome(const ScoredForecast& f) override;
  void on_log(int, const std::string&, const std::string&) override {}
  [[nodiscard]] int log_level() const override { return 1000; }  // the server wants no logs

  // Publishes on the strand, as the runtime would (heartbeats, tests, other producers).
  // `body` is a JSON object text without seq; room kinds get one.
  void post(std::string symbol, MessageKind kind, std::string body);
  // With history on: what the store hands over after a commit, run on the strand in order
  // (messages fanned out, recovery answers run), so the network thread fans out in bursts
  // as it does with the store off. Bounded: while event_queue_size steps wait for the strand
  // it blocks, so a network thread that falls behind holds the store back (and the store's
  // full queue its producers) instead of letting this queue grow. From the store's thread,
  // never from the strand's.
  void hand_over(std::vector<SignalStore::Step> steps);
  // Once the io threads are stopped: hand_over no longer waits or posts, only queues, and
  // run_left_over() runs what the strand did not get to, in order, on the caller's thread.
  void close_hand_over();
  void run_left_over();
  // Events after this are ignored (the server is stopping); steps handed over still run.
  void stop() noexcept { stopped_.store(true); }
  [[nodiscard]] const Sequencer& sequencer() const noexcept { return *seq_; }

 private:
  struct Item {
    MessageKind kind;
    std::string body;
  };
  struct Posted {
    std::string symbol;
    Item a;
    std::optional<Item> b;
  };
  void post_items(std::string symbol, Item a, std::optional<Item> b);
  void drain();  // on the strand: publishes everything posted so far, in order
  void publish(const std::string& symbol, Item& item);

  std::shared_ptr<ServerContext> ctx_;
  boost::asio::any_io_executor strand_;
  std::unique_ptr<Sequencer> seq_;
  std::atomic<std::size_t> pending_{0};  // posted, not yet published (bounded for prices)
  // Posted events wait here for one drain on the strand: a burst of events reaches every
  // client's queue before its next write, which then carries them all (one gather write).
  std::mutex inbox_mu_;  // guards the fields up to closed_; never held across I/O or publishing
  std::vector<Posted> inbox_;
  std::vector<SignalStore::Step> stored_;  // handed over by the store, in its order
  std::condition_variable stored_room_;    // hand_over waits here while stored_ is full
  bool closed_ = false;                    // no strand any more: hand_over only queues
  bool drain_posted_ = false;
  std::vector<Posted> draining_;                    // strand only: the batch being published
  std::vector<SignalStore::Step> draining_stored_;  // strand only
  std::atomic<bool> stopped_{false};
};

}  // namespace gs
