// Many nodes over one Redis (docs/operations.md, "Many nodes"). A RedisCluster is the node's
// journal when GS_REDIS_URL is set:
// - Each symbol has one owner at a time, the live node that rendezvous hashing picks, holding
//   a lease in Redis (SET NX PX, renewed) with a fencing token. Only the owner analyzes it.
// - The owner publishes the symbol's room messages with one Lua script that checks the token
//   and the previous seq, numbers them, appends them to the symbol's Stream (bounded by
//   MAXLEN) and PUBLISHes them, so pub/sub order is seq order. A stale owner is refused; a
//   retry after a lost reply is answered "already applied".
// - Every node (the owner too) relays what arrives on the symbols' channels to its own
//   clients, in seq order, once: duplicates are dropped and a gap is filled from the Stream
//   (after a reconnect too: it resubscribes and reads what it missed). What it relays goes
//   through its own SignalStore when it keeps history, so local history stays complete.
// - A `since` is answered on any node at a point of its relay order: from the Stream, or
//   from the local history when the Stream was trimmed.
// Keys carry the symbol as a hash tag, gs:{AAPL}:..., so one symbol's keys share a Redis
// Cluster slot. Boost.Redis is only seen by cluster.cpp; its connections run on the
// executor given (the server's io_context).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "goldensignals/cluster/redis_url.hpp"
#include "goldensignals/store/journal.hpp"

namespace boost::asio {
class io_context;
}

namespace gs {

class SignalStore;

struct ClusterOptions {
  RedisEndpoint redis;
  std::string node_id;                    // unique among the nodes (GS_NODE_ID); set by start()
  std::vector<std::string> symbols;       // the symbols every node tracks
  std::chrono::milliseconds lease{3000};  // GS_REDIS_LEASE: a dead owner's symbols move within it
  std::size_t stream_length = 10'000;     // GS_REDIS_STREAM_LENGTH: kept per symbol (XADD MAXLEN ~)
  std::size_t queue_size = 10'000;        // room messages waiting to be published, at most
  void validate() const;
};

struct ClusterStats {
  std::string node_id;
  std::string redis;                          // the endpoint, without the password
  bool connected = false;                     // the last command reached Redis
  std::vector<std::string> nodes;             // the live nodes, as last read
  std::map<std::string, std::string> owners;  // symbol -> owning node, as last read ("" none)
  std::map<std::string, std::string> epochs;  // symbol -> its history's epoch, as last seen
  std::uint64_t published = 0;                // room messages this node published (as owner)
  std::uint64_t relayed = 0;                  // room messages relayed to this node's clients
  std::uint64_t duplicates = 0;               // arrivals dropped: seq already relayed
  std::uint64_t gaps_filled = 0;              // messages read back from a Stream to fill a gap
  std::uint64_t gaps_lost = 0;                // messages of a gap the Stream no longer had
  std::uint64_t stale_refused = 0;            // publishes refused: this node's token was stale
  std::uint64_t retries_applied = 0;          // retried publishes answered "already applied"
  std::uint64_t dropped_unowned = 0;          // room messages of symbols this node does not own
  std::uint64_t shed = 0;                     // prices shed: the publish queue was full
  std::uint64_t resubscribes = 0;             // subscriber connection (re)established
  std::uint64_t epoch_changes = 0;            // a symbol's history was lost in Redis and began anew
  std::uint64_t acquired = 0;                 // leases this node took
  std::uint64_t released = 0;                 // leases it gave back (rebalancing, stop)
  std::uint64_t lost = 0;                     // leases it found taken or expired
};

// The symbols a node owns now: read from any thread without a lock. Shared, so a reader
// (the runtime's analysis filter) may outlive the cluster.
class Ownership {
 public:
  explicit Ownership(const std::vector<std::string>& symbols);
  [[nodiscard]] bool owns(const std::string& symbol) const;
  void set(const std::string& symbol, bool owned);

 private:
  std::map<std::string, std::atomic<bool>> owned_;  // keys fixed at construction
};

class RedisCluster final : public Journal {
 public:
  struct Hooks {
    // Where relayed messages go when the node keeps no history (with a store, through it).
    // Called on the cluster's strand; must not wait.
    Deliver deliver;
    // Analyze `symbol` now: an analyze request that reached the owner (this node).
    std::function<void(const std::string& symbol)> analyze;
    // Redis became unreachable (true, why) or reachable again (false, text).
    std::function<void(bool degraded, const std::string& text)> notify;
    // Log records, under the server's logger.
    std::function<void(int level, const std::string& text)> log;
  };

  // `store`: the node's history (null: none). Throws InvalidArgument for bad options.
  RedisCluster(ClusterOptions o, std::shared_ptr<SignalStore> store, Hooks hooks);
  ~RedisCluster() override;
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // Connects on a strand of `ioc` (in the background: Redis may come later) and takes part
  // as `node_id` (when the options name none). Throws InvalidArgument for a bad node id.
  void start(boost::asio::io_context& ioc, const std::string& node_id);
  // Publishes what is queued (at most a lease's time), gives back this node's leases so
  // other nodes take its symbols at once, and disconnects; everything on the executor is
  // gone when it returns. Call it from outside the executor's threads, which must still
  // run. start() may follow.
  void stop();

  // This node owns `symbol` now (thread-safe, lock-free).
  [[nodiscard]] bool owns(const std::string& symbol) const;
  [[nodiscard]] std::shared_ptr<const Ownership> ownership() const;
  // An analyze request from a client of this node: run here when this node owns the symbol,
  // else sent to its owner.
  void request_analysis(const std::string& symbol);
  [[nodiscard]] ClusterStats stats() const;
  [[nodiscard]] const ClusterOptions& options() const noexcept;

  // Journal: room messages of symbols this node owns are published; others are dropped
  // (their owner publishes them). Never waits longer than a lease for a full queue.
  bool append(const std::string& symbol,
              std::vector<std::pair<MessageKind, std::string>> items) override;
  void recover(const std::string& symbol, std::uint64_t since, std::size_t max_count,
               Recovered then) override;
  void flush() override;
  [[nodiscard]] std::uint64_t last_seq(const std::string& symbol) const override;
  [[nodiscard]] std::string epoch(const std::string& symbol) const override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace gs
