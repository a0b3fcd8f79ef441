#include "goldensignals/cluster/cluster.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancel_after.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/consign.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/redis/connection.hpp>
#include <boost/redis/ignore.hpp>
#include <boost/redis/request.hpp>
#include <boost/redis/response.hpp>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

#include "goldensignals/cluster/rendezvous.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"
#include "goldensignals/store/signal_store.hpp"

namespace gs {

namespace asio = boost::asio;
namespace redis = boost::redis;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Every key of one symbol shares its hash tag, so a Redis Cluster keeps them in one slot.
std::string key(const std::string& symbol, std::string_view what) {
  return "gs:{" + symbol + "}:" + std::string(what);
}
const std::string kNodesKey = "gs:{nodes}:live";
const std::string kAnalyzeChannel = "gs:{nodes}:analyze";

// The node registry: a sorted set of node -> expiry (ms, Redis's clock). Refreshes (or
// removes) this node, drops the expired, and answers the live nodes.
constexpr std::string_view kRegistryScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[2])), ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return redis.call('ZRANGE', KEYS[1], 0, -1)
)lua";

// A symbol's lease. KEYS: lease, meta, stream. ARGV: node, want ('1': this node should own
// it), held token ('' none), lease ms, release ('1'), the highest seq this node has seen, a
// fresh epoch, and where a history Redis lost begins anew (above anything issued before).
// Answers {state, token, seq, epoch}: held | released | taken (token: the holder's) | free |
// acquired (this node's new token, the seq to publish after, the history's epoch).
constexpr std::string_view kLeaseScript = R"lua(
local cur = redis.call('GET', KEYS[1])
if ARGV[3] ~= '' and cur == ARGV[3] then
  if ARGV[5] == '1' then
    redis.call('DEL', KEYS[1])
    return {'released', '', '', ''}
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {'held', cur, '', ''}
end
if cur then return {'taken', cur, '', ''} end
if ARGV[2] ~= '1' then return {'free', '', '', ''} end
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  epoch = ARGV[7]
  local seq = ARGV[8]
  local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
  if #last > 0 then
    local id = string.match(last[1][1], '^(%d+)-')
    if id and tonumber(id) > tonumber(seq) then seq = id end
  end
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'seq', seq, 'fence', '0')
end
local seq = redis.call('HGET', KEYS[2], 'seq')
if tonumber(ARGV[6]) > tonumber(seq) then
  seq = ARGV[6]
  redis.call('HSET', KEYS[2], 'seq', seq)
end
local fence = redis.call('HINCRBY', KEYS[2], 'fence', 1)
local token = ARGV[1] .. '|' .. epoch .. '|' .. fence
redis.call('SET', KEYS[1], token, 'PX', ARGV[4])
redis.call('HSET', KEYS[2], 'token', token)
return {'acquired', token, seq, epoch}
)lua";

// Publishes a batch of one symbol. KEYS: meta, stream. ARGV: token, the seq before the
// batch, the batch's last seq, MAXLEN, channel, then (seq, type, frame) per message.
// Answers {ok|applied|stale|conflict, detail}: applied when this very batch went through
// before (its reply was lost), stale when the token is no longer the symbol's.
constexpr std::string_view kPublishScript = R"lua(
local meta = redis.call('HMGET', KEYS[1], 'token', 'seq', 'epoch')
if meta[1] ~= ARGV[1] then return {'stale', meta[1] or ''} end
if meta[2] == ARGV[3] then return {'applied', ARGV[3]} end
if meta[2] ~= ARGV[2] then return {'conflict', meta[2] or ''} end
for i = 6, #ARGV, 3 do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], ARGV[i] .. '-0', 't', ARGV[i + 1],
             'f', ARGV[i + 2])
  redis.call('PUBLISH', ARGV[5], meta[3] .. ' ' .. ARGV[i] .. ' ' .. ARGV[i + 1] .. ' ' ..
             ARGV[i + 2])
end
redis.call('HSET', KEYS[1], 'seq', ARGV[3])
return {'ok', ARGV[3]}
)lua";

std::optional<std::uint64_t> to_seq(std::string_view s) {
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || s.empty()) return std::nullopt;
  return v;
}

// The replies of a pipelined request, split: each top-level reply with its elements.
struct Reply {
  std::string value;                  // a simple reply's value
  std::vector<std::string> elements;  // a flat array's elements (depth 1)
  bool error = false;
};
std::vector<Reply> split(const std::vector<redis::resp3::node>& nodes) {
  std::vector<Reply> out;
  for (const auto& n : nodes) {
    if (n.depth == 0) {
      out.emplace_back();
      out.back().value = n.value;
      out.back().error = n.data_type == redis::resp3::type::simple_error ||
                         n.data_type == redis::resp3::type::blob_error;
    } else if (n.depth == 1 && !out.empty()) {
      out.back().elements.push_back(n.value);
    }
  }
  return out;
}

// One Stream entry: its seq (from the id <seq>-0), type and frame.
struct Entry {
  std::uint64_t seq = 0;
  std::string type;
  std::string frame;
};
// XRANGE's answer: [[id, [field, value, ...]], ...].
std::vector<Entry> entries(const std::vector<redis::resp3::node>& nodes) {
  std::vector<Entry> out;
  std::string field;
  for (const auto& n : nodes) {
    if (n.depth == 1) {
      out.emplace_back();
    } else if (n.depth == 2 && !out.empty() && !redis::resp3::is_aggregate(n.data_type)) {
      const auto dash = n.value.find('-');
      out.back().seq = to_seq(std::string_view(n.value).substr(0, dash)).value_or(0);
    } else if (n.depth == 3 && !out.empty()) {
      if (field.empty()) {
        field = n.value.empty() ? "?" : n.value;
      } else {
        if (field == "t") out.back().type = n.value;
        if (field == "f") out.back().frame = n.value;
        field.clear();
      }
    }
  }
  std::erase_if(out, [](const Entry& e) { return e.seq == 0 || e.frame.empty(); });
  return out;
}

std::string random_epoch() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint64_t> d;
  char buf[17];
  const auto v = d(rd) ^ (static_cast<std::uint64_t>(rd()) << 32);
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

void ClusterOptions::validate() const {
  if (node_id.empty() || node_id.size() > 128 ||
      node_id.find_first_of(" |\t\r\n") != std::string::npos) {
    throw InvalidArgument("GS_NODE_ID '" + node_id.substr(0, 64) +
                          "' is not accepted; expected 1 to 128 characters without spaces or |");
  }
  if (lease < std::chrono::milliseconds(100) || lease > std::chrono::minutes(1)) {
    throw InvalidArgument("GS_REDIS_LEASE " + std::to_string(lease.count() / 1000.0) +
                          " is not accepted; expected 0.1 to 60 seconds");
  }
  if (stream_length < 100) {
    throw InvalidArgument("GS_REDIS_STREAM_LENGTH " + std::to_string(stream_length) +
                          " is not accepted; expected at least 100");
  }
  if (symbols.empty()) throw InvalidArgument("a cluster node needs at least one symbol");
}

Ownership::Ownership(const std::vector<std::string>& symbols) {
  for (const auto& s : symbols) owned_[s];  // each false
}

bool Ownership::owns(const std::string& symbol) const {
  const auto it = owned_.find(symbol);
  return it != owned_.end() && it->second.load();
}

void Ownership::set(const std::string& symbol, bool owned) {
  if (const auto it = owned_.find(symbol); it != owned_.end()) it->second.store(owned);
}

struct RedisCluster::Impl : std::enable_shared_from_this<Impl> {
  // Of the io_context's own executor: small enough that an any_io_executor holds it inline.
  using Strand = asio::strand<asio::io_context::executor_type>;

  struct Relayed {
    std::uint64_t seq;
    std::string epoch;
    MessageKind kind;
    std::string frame;
  };
  // One symbol: strand-only state, except the atomics.
  struct Sym {
    std::string name, meta, stream, lease, channel;
    std::string token;            // this node's lease token ("" not the owner)
    std::uint64_t published = 0;  // owner: the last seq it published
    Clock::time_point renewed{};  // owner: when the lease was last renewed
    bool releasing = false;       // owner: stops taking messages, then gives the lease back
    std::string owner;            // as last read
    std::string epoch;            // of the last message relayed
    std::uint64_t relayed = 0;    // the last seq relayed to this node's clients
    bool holding = false;         // a gap fill or a recovery reads: live arrivals wait in held
    std::deque<Relayed> held;
    std::atomic<std::uint64_t> last{0};  // `relayed`, for any thread
    std::size_t queued = 0;              // outbound messages queued (under out_mu)
  };
  struct Out {
    std::string symbol;
    MessageKind kind;
    std::string body;
  };

  Impl(ClusterOptions o, std::shared_ptr<SignalStore> history, Hooks h)
      : opts(std::move(o)),
        store(std::move(history)),
        hooks(std::move(h)),
        owned(std::make_shared<Ownership>(opts.symbols)) {
    for (const auto& name : opts.symbols) {
      auto& s = syms[name];
      s.name = name;
      s.meta = key(name, "meta");
      s.stream = key(name, "stream");
      s.lease = key(name, "lease");
      s.channel = key(name, "room");
      if (store) {
        s.relayed = store->last_seq(name);
        s.last.store(s.relayed);
      }
    }
  }

  void configure() {
    cfg = redis::config{};
    cfg.addr.host = opts.redis.host;
    cfg.addr.port = std::to_string(opts.redis.port);
    cfg.use_ssl = opts.redis.tls;
    if (!opts.redis.user.empty()) cfg.username = opts.redis.user;
    cfg.password = opts.redis.password;
    cfg.database_index = opts.redis.db;
    cfg.clientname = "goldensignals:" + opts.node_id;
    cfg.health_check_id = "goldensignals:" + opts.node_id;
    // A subscriber connection that died silently is noticed by its PINGs.
    cfg.health_check_interval =
        std::max<Clock::duration>(opts.lease / 2, std::chrono::milliseconds(200));
    cfg.reconnect_wait_interval = std::chrono::milliseconds(200);
    cfg.connect_timeout = opts.lease;
    cfg.resolve_timeout = opts.lease;
    {
      std::lock_guard lk(stats_mu);
      st.node_id = opts.node_id;
      st.redis = opts.redis.display();
    }
  }

  redis::logger make_logger() {
    std::weak_ptr<Impl> weak = weak_from_this();
    return redis::logger(redis::logger::level::warning, [weak](redis::logger::level lvl,
                                                               std::string_view text) {
      auto self = weak.lock();
      if (!self || !self->hooks.log) return;
      self->hooks.log(lvl <= redis::logger::level::err ? 40 : 30, "redis: " + std::string(text));
    });
  }

  std::shared_ptr<redis::connection> make_connection() {
    asio::ssl::context tls(asio::ssl::context::tlsv12_client);
    if (opts.redis.tls) {
      tls.set_default_verify_paths();
      tls.set_verify_mode(asio::ssl::verify_peer);
    }
    return std::make_shared<redis::connection>(asio::any_io_executor(*strand), std::move(tls),
                                               make_logger());
  }

  void log(int level, const std::string& text) const {
    if (hooks.log) hooks.log(level, text);
  }

  Sym* find(const std::string& symbol) {
    const auto it = syms.find(symbol);
    return it == syms.end() ? nullptr : &it->second;
  }

  // --- life -------------------------------------------------------------------------------

  void start(asio::io_context& ioc, const std::string& node) {
    if (running.load()) throw StateError("RedisCluster::start: already started");
    if (opts.node_id.empty()) opts.node_id = node;
    opts.validate();
    configure();
    strand.emplace(asio::make_strand(ioc));
    tick_timer = std::make_unique<asio::steady_timer>(*strand);
    wake = std::make_unique<asio::steady_timer>(*strand);
    connected.reset();
    last_echo = Clock::now();
    resubscribe = false;
    cmd = make_connection();
    sub = make_connection();
    running.store(true);
    auto self = shared_from_this();
    cmd->async_run(cfg, asio::consign(asio::detached, cmd));
    sub->async_run(cfg, asio::consign(asio::detached, sub));
    spawn([self]() { return self->ticker(); });
    spawn([self]() { return self->subscriber(); });
    spawn([self]() { return self->publisher(); });
  }

  template <class F>
  void spawn(F f) {
    {
      std::lock_guard lk(task_mu);
      ++tasks;
    }
    asio::co_spawn(*strand, f(), [self = shared_from_this()](const std::exception_ptr& e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          self->log(40, std::string("cluster task failed: ") + x.what());
        }
      }
      {
        std::lock_guard lk(self->task_mu);
        --self->tasks;
      }
      self->task_cv.notify_all();
    });
  }

  void stop() {
    if (!running.exchange(false)) return;
    out_cv.notify_all();
    auto self = shared_from_this();
    auto released = std::make_shared<std::promise<void>>();
    auto done = released->get_future();
    // Give the leases back (other nodes take the symbols at once), leave the registry, and
    // cancel everything.
    asio::co_spawn(
        *strand,
        [self, released]() -> asio::awaitable<void> {
          co_await self->leave();
          released->set_value();
        },
        asio::detached);
    done.wait_for(opts.lease + std::chrono::seconds(1));
    asio::post(*strand, [self] {
      self->tick_timer->cancel();
      self->wake->cancel();
      self->cmd->cancel();
      self->sub->cancel();
    });
    {
      std::unique_lock lk(task_mu);
      task_cv.wait_for(lk, opts.lease + std::chrono::seconds(2), [&] { return tasks == 0; });
    }
    // Nothing of the cluster is left on the executor (whose io_context may go next).
    auto gone = std::make_shared<std::promise<void>>();
    auto gone_f = gone->get_future();
    asio::post(*strand, [self, gone] {
      self->tick_timer.reset();
      self->wake.reset();
      self->cmd.reset();
      self->sub.reset();
      gone->set_value();
    });
    gone_f.wait_for(std::chrono::seconds(2));
    strand.reset();
  }

  asio::awaitable<void> leave() {
    redis::request req;
    req.push("EVAL", kRegistryScript, 1, kNodesKey, opts.node_id, opts.lease.count(), "0");
    std::vector<Sym*> held;
    for (auto& [name, s] : syms) {
      owned->set(name, false);
      if (s.token.empty()) continue;
      held.push_back(&s);
      req.push("EVAL", kLeaseScript, 3, s.lease, s.meta, s.stream, opts.node_id, "0", s.token,
               opts.lease.count(), "1", "0", "-", "0");
    }
    redis::generic_response resp;
    if ((co_await exec(req, resp, opts.lease)).empty()) count(&ClusterStats::released, held.size());
    for (auto* s : held) s->token.clear();
  }

  // Runs `req` on the command connection, at most `limit`: "" when Redis answered without an
  // error, else what went wrong.
  asio::awaitable<std::string> exec(const redis::request& req, redis::generic_response& resp,
                                    Clock::duration limit) {
    auto [ec, n] = co_await cmd->async_exec(req, resp, asio::cancel_after(limit, kNoThrow));
    (void)n;
    if (ec) co_return ec.message();
    if (resp.has_error()) co_return resp.error().diagnostic;
    co_return std::string{};
  }

  // --- ownership ----------------------------------------------------------------------------

  asio::awaitable<void> ticker() {
    const auto every = std::max<Clock::duration>(opts.lease / 3, std::chrono::milliseconds(30));
    while (running.load()) {
      co_await tick();
      tick_timer->expires_after(every);
      co_await tick_timer->async_wait(kNoThrow);
    }
  }

  asio::awaitable<void> tick() {
    redis::request reg;
    reg.push("EVAL", kRegistryScript, 1, kNodesKey, opts.node_id, opts.lease.count(), "1");
    redis::generic_response nodes_resp;
    if (const auto err = co_await exec(reg, nodes_resp, opts.lease / 2); !err.empty()) {
      unreachable(err);
      co_return;
    }
    check_subscription();
    auto replies = split(nodes_resp.value());
    std::vector<std::string> live =
        replies.empty() ? std::vector<std::string>{} : replies[0].elements;
    std::sort(live.begin(), live.end());

    redis::request req;
    // The epoch a history begins with when Redis has none for a symbol (new, or lost).
    const auto epoch = random_epoch();
    std::vector<std::pair<Sym*, bool>> asked;  // the symbol, and whether it is given back
    bool gave_back = false;  // at most one symbol per tick: ownership moves back gradually
    for (auto& [name, s] : syms) {
      const auto desired = rendezvous_owner(live, name);
      const bool want = desired == opts.node_id;
      bool release = false;
      if (!s.token.empty() && !want && !desired.empty()) {
        if (!s.releasing && !gave_back) {
          s.releasing = true;  // first stop taking messages; give it back once they are out
          owned->set(s.name, false);
          gave_back = true;
        } else if (s.releasing && nothing_queued(s)) {
          release = true;
        }
      }
      // A history Redis lost (or a symbol it never had) starts above what this node has
      // seen; once anything was seen, at the time in microseconds, as the store does after
      // an unclean stop: above whatever any node may have relayed, seq never goes back.
      const auto seen = std::max(s.relayed, s.published);
      const auto anew = seen == 0 ? 0 : std::max(seen, static_cast<std::uint64_t>(now_ms()) * 1000);
      req.push("EVAL", kLeaseScript, 3, s.lease, s.meta, s.stream, opts.node_id,
               want && !s.releasing ? "1" : "0", s.token, opts.lease.count(), release ? "1" : "0",
               std::to_string(seen), epoch, std::to_string(anew));
      asked.emplace_back(&s, release);
    }
    const auto sent = Clock::now();
    redis::generic_response resp;
    if (const auto err = co_await exec(req, resp, opts.lease / 2); !err.empty()) {
      unreachable(err);
      co_return;
    }
    reachable();
    const auto answers = split(resp.value());
    std::map<std::string, std::string> owners;
    for (std::size_t i = 0; i < asked.size() && i < answers.size(); ++i) {
      auto& s = *asked[i].first;
      const auto& a = answers[i].elements;
      if (a.size() < 4) continue;
      const auto& state = a[0];
      if (state == "held") {
        s.renewed = sent;
        s.owner = opts.node_id;
      } else if (state == "released") {
        s.token.clear();
        s.releasing = false;
        s.owner.clear();
        count(&ClusterStats::released);
        log(20, "gave " + s.name + " back (it belongs to another node now)");
      } else if (state == "acquired") {
        s.token = a[1];
        s.published = to_seq(a[2]).value_or(0);
        s.renewed = sent;
        s.owner = opts.node_id;
        s.releasing = false;
        owned->set(s.name, true);
        count(&ClusterStats::acquired);
        log(20, "now owns " + s.name + " (publishing after seq " + a[2] + ", epoch " + a[3] + ")");
      } else {  // taken or free
        if (!s.token.empty())
          lose(s, state == "taken" ? "its lease is held by " + a[1] : "its lease expired");
        s.owner = state == "taken" ? a[1].substr(0, a[1].find('|')) : std::string{};
      }
      owners[s.name] = s.owner;
    }
    std::lock_guard lk(stats_mu);
    st.nodes = std::move(live);
    st.owners = std::move(owners);
  }

  // The subscriber connection hears its own echo every tick. Silence for a lease (a
  // connection that was lost and came back unsubscribed, whatever the receive saw) makes it
  // subscribe again and read back what it missed.
  std::string echo_channel() const { return "gs:{nodes}:echo:" + opts.node_id; }
  void check_subscription() {
    if (Clock::now() - last_echo > opts.lease && !resubscribe) {
      resubscribe = true;
      log(30, "no echo on the subscriber connection for a lease: subscribing again");
      sub->cancel(redis::operation::receive);
    }
    redis::request echo;
    echo.push("PUBLISH", echo_channel(), "1");
    auto self = shared_from_this();
    asio::co_spawn(
        *strand,
        [self, echo = std::move(echo)]() -> asio::awaitable<void> {
          redis::generic_response ignored;
          (void)co_await self->exec(echo, ignored, self->opts.lease / 2);
        },
        asio::detached);
  }

  bool nothing_queued(const Sym& s) {
    std::lock_guard lk(out_mu);
    return s.queued == 0 && in_flight != &s;
  }

  void lose(Sym& s, const std::string& why) {
    s.token.clear();
    s.releasing = false;
    owned->set(s.name, false);
    count(&ClusterStats::lost);
    log(30, "no longer owns " + s.name + ": " + why);
  }

  void unreachable(const std::string& why) {
    // Without Redis no lease can be renewed: past a lease, nothing here is owned any more.
    for (auto& [name, s] : syms) {
      if (!s.token.empty() && Clock::now() - s.renewed > opts.lease) lose(s, "Redis unreachable");
    }
    if (connected == false) return;
    connected = false;
    {
      std::lock_guard lk(stats_mu);
      st.connected = false;
    }
    const auto text = "Redis at " + opts.redis.display() + " is unreachable (" + why +
                      "); this node serves its own clients and history until it is back";
    log(40, text);
    if (hooks.notify) hooks.notify(true, text);
  }

  void reachable() {
    if (connected == true) return;
    const bool first = !connected.has_value();
    connected = true;
    {
      std::lock_guard lk(stats_mu);
      st.connected = true;
    }
    const auto text = "Redis at " + opts.redis.display() + " is reachable again";
    if (first) {
      log(20, "joined the cluster at " + opts.redis.display() + " as " + opts.node_id);
      return;
    }
    log(20, text);
    if (hooks.notify) hooks.notify(false, text);
  }

  void count(std::uint64_t ClusterStats::* field, std::uint64_t n = 1) {
    std::lock_guard lk(stats_mu);
    st.*field += n;
  }

  // --- publishing (owner) -------------------------------------------------------------------

  bool append(const std::string& symbol, std::vector<std::pair<MessageKind, std::string>> items) {
    const auto it = syms.find(symbol);  // keys fixed after construction
    if (it == syms.end() || !owned->owns(symbol)) {
      count(&ClusterStats::dropped_unowned, items.size());
      return true;  // its owner publishes it
    }
    auto& s = it->second;
    const bool sheddable = std::all_of(items.begin(), items.end(), [](const auto& i) {
      return i.first == MessageKind::PriceUpdate;
    });
    {
      std::unique_lock lk(out_mu);
      if (out.size() + items.size() > opts.queue_size) {
        if (sheddable) {
          lk.unlock();
          count(&ClusterStats::shed, items.size());
          return false;
        }
        // Others wait for room, at most a lease (past it Redis is gone and so is ownership).
        if (!out_cv.wait_for(lk, opts.lease, [&] {
              return !running.load() || out.size() + items.size() <= opts.queue_size;
            })) {
          lk.unlock();
          count(&ClusterStats::dropped_unowned, items.size());
          return false;
        }
      }
      for (auto& [kind, body] : items) out.push_back(Out{symbol, kind, std::move(body)});
      s.queued += items.size();
      if (std::exchange(wake_posted, true)) return true;
    }
    asio::post(*strand, [self = shared_from_this()] {
      if (self->wake) self->wake->cancel();
    });
    return true;
  }

  asio::awaitable<void> publisher() {
    wake->expires_at(Clock::time_point::max());
    while (running.load() || !out_empty()) {
      std::vector<Out> batch;
      {
        std::lock_guard lk(out_mu);
        wake_posted = false;
        const std::size_t n = std::min<std::size_t>(out.size(), 256);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(out.front()));
          out.pop_front();
        }
      }
      if (batch.empty()) {
        if (!running.load()) break;
        wake->expires_at(Clock::time_point::max());
        co_await wake->async_wait(kNoThrow);
        continue;
      }
      // Runs of one symbol, in order: one script call each.
      std::size_t i = 0;
      while (i < batch.size()) {
        std::size_t j = i;
        while (j < batch.size() && batch[j].symbol == batch[i].symbol) ++j;
        co_await publish(batch, i, j);
        i = j;
      }
      out_cv.notify_all();
    }
    out_cv.notify_all();
  }

  bool out_empty() {
    std::lock_guard lk(out_mu);
    return out.empty();
  }

  asio::awaitable<void> publish(std::vector<Out>& batch, std::size_t from, std::size_t to) {
    auto& s = syms.at(batch[from].symbol);
    const auto n = to - from;
    {
      std::lock_guard lk(out_mu);
      in_flight = &s;
    }
    auto done = [&] {
      std::lock_guard lk(out_mu);
      s.queued -= n;
      in_flight = nullptr;
    };
    std::vector<std::string> args{std::string(kPublishScript), "2", s.meta, s.stream};
    const std::size_t head = args.size();
    args.push_back(s.token);
    args.push_back(std::to_string(s.published));
    args.push_back(std::to_string(s.published + n));
    args.push_back(std::to_string(opts.stream_length));
    args.push_back(s.channel);
    for (std::size_t k = from; k < to; ++k) {
      const auto seq = s.published + 1 + (k - from);
      args.push_back(std::to_string(seq));
      args.push_back(std::string(to_string(batch[k].kind)));
      args.push_back(with_seq(seq, batch[k].body));
    }
    for (;;) {
      if (s.token.empty()) {  // lost meanwhile: its new owner publishes
        count(&ClusterStats::dropped_unowned, n);
        done();
        co_return;
      }
      args[head] = s.token;
      redis::request req;
      req.push_range("EVAL", args);
      redis::generic_response resp;
      const auto err = co_await exec(req, resp, opts.lease / 2);
      if (err.empty()) {
        const auto r = split(resp.value());
        const auto state = r.empty() || r[0].elements.empty() ? "" : r[0].elements[0];
        if (state == "ok" || state == "applied") {
          s.published += n;
          count(state == "ok" ? &ClusterStats::published : &ClusterStats::retries_applied, n);
          if (state == "applied") count(&ClusterStats::published, n);
        } else {
          count(&ClusterStats::stale_refused, n);
          if (!s.token.empty()) {
            lose(s, "a publish was refused (" + state + ", " +
                        (r[0].elements.size() > 1 ? r[0].elements[1] : std::string{}) + ")");
          }
        }
        done();
        co_return;
      }
      // Not known to have gone through: retry the same batch (answered "applied" if it did),
      // until the lease would have run out.
      if (Clock::now() - s.renewed > opts.lease || !running.load()) {
        lose(s, "Redis did not answer a publish within the lease (" + err + ")");
        count(&ClusterStats::dropped_unowned, n);
        done();
        co_return;
      }
      asio::steady_timer t(*strand, std::chrono::milliseconds(50));
      co_await t.async_wait(kNoThrow);
    }
  }

  void flush() {
    std::unique_lock lk(out_mu);
    out_cv.wait_for(lk, opts.lease, [&] { return out.empty() && in_flight == nullptr; });
    lk.unlock();
    if (store) store->flush();
  }

  // --- relaying (every node) ----------------------------------------------------------------

  asio::awaitable<void> subscriber() {
    redis::generic_response pushes;
    sub->set_receive_response(pushes);
    std::vector<std::string> channels;
    for (const auto& [name, s] : syms) channels.push_back(s.channel);
    channels.push_back(kAnalyzeChannel);
    channels.push_back(echo_channel());
    while (running.load()) {
      resubscribe = false;
      last_echo = Clock::now();
      redis::request req;
      req.push_range("SUBSCRIBE", channels);
      auto [ec, n] = co_await sub->async_exec(req, redis::ignore, kNoThrow);
      (void)n;
      if (ec) {
        if (!running.load()) break;
        asio::steady_timer t(*strand, std::chrono::milliseconds(100));
        co_await t.async_wait(kNoThrow);
        continue;
      }
      count(&ClusterStats::resubscribes);
      // What was published while this node was not subscribed: read back from the Streams.
      for (auto& [name, s] : syms) {
        if (s.relayed > 0) co_await fill(s, s.relayed + 1, 0);
      }
      for (;;) {
        if (resubscribe || !running.load()) break;  // the echo stopped (see tick)
        error_code rec;
        sub->receive(rec);
        if (rec == redis::error::sync_receive_push_failed) {
          auto [e2, m] = co_await sub->async_receive(kNoThrow);
          (void)m;
          rec = e2;
        }
        if (rec) break;  // the connection was lost: subscribe again
        // Taken out before anything awaits: more pushes may arrive meanwhile.
        std::vector<redis::resp3::node> nodes;
        nodes.swap(pushes.value());
        co_await on_pushes(nodes);
      }
    }
  }

  asio::awaitable<void> on_pushes(const std::vector<redis::resp3::node>& nodes) {
    // Each push: ["message", channel, payload] (or a subscribe confirmation).
    std::vector<std::string> parts;
    auto handle = [&]() -> std::optional<std::pair<std::string, std::string>> {
      if (parts.size() == 3 && parts[0] == "message") return std::make_pair(parts[1], parts[2]);
      return std::nullopt;
    };
    std::vector<std::pair<std::string, std::string>> messages;
    for (const auto& n : nodes) {
      if (n.depth == 0) {
        if (auto m = handle()) messages.push_back(std::move(*m));
        parts.clear();
      } else if (n.depth == 1) {
        parts.push_back(n.value);
      }
    }
    if (auto m = handle()) messages.push_back(std::move(*m));
    for (auto& [channel, payload] : messages) {
      if (channel == echo_channel()) {
        last_echo = Clock::now();
        continue;
      }
      if (channel == kAnalyzeChannel) {
        if (find(payload) && owned->owns(payload) && hooks.analyze) {
          hooks.analyze(payload);
        }
        continue;
      }
      // gs:{SYMBOL}:room; the payload: "<epoch> <seq> <type> <frame>".
      const auto open = channel.find('{');
      const auto close = channel.find('}');
      if (open == std::string::npos || close == std::string::npos) continue;
      auto* s = find(channel.substr(open + 1, close - open - 1));
      if (!s) continue;
      const auto a = payload.find(' ');
      const auto b = a == std::string::npos ? a : payload.find(' ', a + 1);
      const auto c = b == std::string::npos ? b : payload.find(' ', b + 1);
      if (c == std::string::npos) continue;
      const auto seq = to_seq(std::string_view(payload).substr(a + 1, b - a - 1));
      if (!seq) continue;
      // Named first: GCC 12 destroys a temporary in a co_await expression twice.
      Relayed m{*seq, payload.substr(0, a),
                room_kind(std::string_view(payload).substr(b + 1, c - b - 1)),
                payload.substr(c + 1)};
      co_await arrive(*s, std::move(m));
    }
  }

  // A live arrival, in order: duplicates dropped, a gap filled from the Stream first.
  asio::awaitable<void> arrive(Sym& s, Relayed m) {
    if (s.holding) {
      s.held.push_back(std::move(m));
      co_return;
    }
    if (m.seq <= s.relayed) {
      count(&ClusterStats::duplicates);
      co_return;
    }
    if (s.relayed > 0 && m.seq > s.relayed + 1) co_await fill(s, s.relayed + 1, m.seq - 1);
    if (m.seq <= s.relayed) {  // the fill brought it already
      count(&ClusterStats::duplicates);
      co_return;
    }
    co_await relay(s, std::move(m));
  }

  // Relays the Stream's messages from..to (to = 0: to its end) that come after s.relayed;
  // what the Stream no longer has is counted lost and skipped.
  asio::awaitable<void> fill(Sym& s, std::uint64_t from, std::uint64_t to) {
    const bool was_holding = std::exchange(s.holding, true);
    std::uint64_t next = from;
    for (;;) {
      redis::request req;
      req.push("XRANGE", s.stream, std::to_string(next) + "-0",
               to == 0 ? std::string("+") : std::to_string(to) + "-0", "COUNT", 500);
      redis::generic_response resp;
      if (!(co_await exec(req, resp, opts.lease)).empty()) {
        break;  // Redis is gone: the next resubscribe fills again
      }
      const auto got = entries(resp.value());
      for (const auto& e : got) {
        if (e.seq <= s.relayed) continue;
        if (e.seq > s.relayed + 1 && s.relayed > 0) {
          count(&ClusterStats::gaps_lost, e.seq - s.relayed - 1);
        }
        count(&ClusterStats::gaps_filled);
        Relayed m{e.seq, s.epoch, room_kind(e.type), e.frame};
        co_await relay(s, std::move(m));
      }
      if (got.size() < 500) break;
      next = got.back().seq + 1;
    }
    if (to != 0 && s.relayed < to) {
      count(&ClusterStats::gaps_lost, to - s.relayed);
      s.relayed = to;  // the rest of the gap is gone from the Stream
      s.last.store(to);
    }
    s.holding = was_holding;
    if (!s.holding) co_await release_held(s);
  }

  asio::awaitable<void> release_held(Sym& s) {
    while (!s.holding && !s.held.empty()) {
      auto m = std::move(s.held.front());
      s.held.pop_front();
      co_await arrive(s, std::move(m));
    }
  }

  asio::awaitable<void> relay(Sym& s, Relayed m) {
    if (!m.epoch.empty() && m.epoch != s.epoch) {
      if (!s.epoch.empty()) {
        count(&ClusterStats::epoch_changes);
        log(30, "the history of " + s.name + " in Redis began anew (epoch " + s.epoch + " -> " +
                    m.epoch + "); seq continues at " + std::to_string(m.seq));
      }
      s.epoch = m.epoch;
      std::lock_guard lk(stats_mu);
      st.epochs[s.name] = s.epoch;
    }
    auto frame = std::make_shared<const std::string>(std::move(m.frame));
    if (store) {
      // The store's queue full: wait here (this node's clients and history come after),
      // never blocking the thread.
      while (!store->relay(s.name, m.seq, m.kind, frame)) {
        asio::steady_timer t(*strand, std::chrono::milliseconds(5));
        co_await t.async_wait(kNoThrow);
      }
    } else if (hooks.deliver) {
      std::vector<Step> steps;
      steps.emplace_back(Publication{s.name, std::move(frame), m.kind});
      hooks.deliver(std::move(steps), false);
    }
    s.relayed = m.seq;
    s.last.store(m.seq);
    count(&ClusterStats::relayed);
  }

  // --- recovery -------------------------------------------------------------------------------

  void recover(const std::string& symbol, std::uint64_t since, std::size_t max_count,
               Recovered then) {
    if (!running.load()) {  // not serving: nothing to recover from here
      mark([then = std::move(then)]() mutable { then(false, {}); });
      return;
    }
    auto self = shared_from_this();
    asio::co_spawn(
        *strand,
        [self, symbol, since, max_count,
         then = std::move(then)]() mutable -> asio::awaitable<void> {
          co_await self->answer(symbol, since, max_count, std::move(then));
        },
        asio::detached);
  }

  void mark(std::function<void()> step) {
    if (store) {
      store->mark(std::move(step));
    } else if (hooks.deliver) {
      std::vector<Step> steps;
      steps.emplace_back(std::move(step));
      hooks.deliver(std::move(steps), false);
    }
  }

  asio::awaitable<void> answer(const std::string& symbol, std::uint64_t since,
                               std::size_t max_count, Recovered then) {
    auto* s = find(symbol);
    if (!s) {
      mark([then = std::move(then)]() mutable { then(false, {}); });
      co_return;
    }
    // Held at this point of the relay order: the answer goes out between what was relayed
    // so far and what arrives meanwhile.
    while (s->holding) {  // a fill in progress ends first
      asio::steady_timer t(*strand, std::chrono::milliseconds(2));
      co_await t.async_wait(kNoThrow);
    }
    // A client coming from a node that relayed further: wait (at most a lease) until this
    // node has relayed up to its `since`, so nothing it had is sent again.
    for (const auto until = Clock::now() + opts.lease;
         since > s->relayed && Clock::now() < until;) {
      asio::steady_timer t(*strand, std::chrono::milliseconds(5));
      co_await t.async_wait(kNoThrow);
      while (s->holding) {
        asio::steady_timer h(*strand, std::chrono::milliseconds(2));
        co_await h.async_wait(kNoThrow);
      }
    }
    const auto upto = s->relayed;
    if (since >= upto) {
      const bool ok = since == upto;  // above it: a seq this history never issued
      mark([then = std::move(then), ok]() mutable { then(ok, {}); });
      co_return;
    }
    s->holding = true;
    std::vector<Journal::Entry> missed;
    bool ok = false;
    redis::request req;
    req.push("XRANGE", s->stream, std::to_string(since + 1) + "-0", std::to_string(upto) + "-0",
             "COUNT", max_count + 1);
    redis::generic_response resp;
    if ((co_await exec(req, resp, opts.lease)).empty()) {
      const auto got = entries(resp.value());
      ok = !got.empty() && got.front().seq == since + 1 && got.back().seq == upto &&
           got.size() == upto - since && got.size() <= max_count;
      if (ok) {
        missed.reserve(got.size());
        for (const auto& e : got) {
          // A re-sent price is not replaceable in the client's queue (as the store does).
          auto kind = room_kind(e.type);
          if (kind == MessageKind::PriceUpdate) kind = MessageKind::Reply;
          missed.push_back(Journal::Entry{kind, e.frame});
        }
      }
    }
    if (!ok && store) {
      store->recover(symbol, since, max_count, std::move(then));  // this node's own history
    } else {
      mark([then = std::move(then), ok, missed = std::move(missed)]() mutable {
        then(ok, std::move(missed));
      });
    }
    s->holding = false;
    co_await release_held(*s);
  }

  void request_analysis(const std::string& symbol) {
    if (owned->owns(symbol)) {
      if (hooks.analyze) hooks.analyze(symbol);
      return;
    }
    if (!running.load()) return;
    auto self = shared_from_this();
    asio::co_spawn(
        *strand,
        [self, symbol]() -> asio::awaitable<void> {
          redis::request req;
          req.push("PUBLISH", kAnalyzeChannel, symbol);
          auto [ec, n] = co_await self->cmd->async_exec(
              req, redis::ignore, asio::cancel_after(self->opts.lease, kNoThrow));
          (void)n;
          if (ec)
            self->log(30,
                      "could not pass an analyze request for " + symbol + " on: " + ec.message());
        },
        asio::detached);
  }

  ClusterOptions opts;
  std::shared_ptr<SignalStore> store;
  Hooks hooks;
  std::shared_ptr<Ownership> owned;
  // While started (start() to stop()): the strand everything runs on, its timers and the
  // two connections (commands, and the subscriber).
  std::optional<Strand> strand;
  redis::config cfg;
  std::shared_ptr<redis::connection> cmd, sub;
  std::unique_ptr<asio::steady_timer> tick_timer;
  std::unique_ptr<asio::steady_timer> wake;  // the publisher waits on it; append() cancels it
  std::map<std::string, Sym> syms;           // keys fixed after construction
  std::optional<bool> connected;             // strand only; none before the first answer
  Clock::time_point last_echo{};             // strand only: the subscriber heard its echo
  bool resubscribe = false;                  // strand only: the subscriber subscribes again

  std::atomic<bool> running{false};
  std::mutex task_mu;  // only for tasks
  std::condition_variable task_cv;
  int tasks = 0;  // the ticker, subscriber and publisher running

  std::mutex out_mu;  // the outbound queue; never held across I/O
  std::condition_variable out_cv;
  std::deque<Out> out;
  const Sym* in_flight = nullptr;
  bool wake_posted = false;

  mutable std::mutex stats_mu;
  ClusterStats st;
};

RedisCluster::RedisCluster(ClusterOptions o, std::shared_ptr<SignalStore> store, Hooks hooks) {
  if (!o.node_id.empty()) o.validate();
  impl_ = std::make_shared<Impl>(std::move(o), std::move(store), std::move(hooks));
}

RedisCluster::~RedisCluster() { impl_->stop(); }

void RedisCluster::start(asio::io_context& ioc, const std::string& node_id) {
  impl_->start(ioc, node_id);
}
void RedisCluster::stop() { impl_->stop(); }

bool RedisCluster::owns(const std::string& symbol) const { return impl_->owned->owns(symbol); }

std::shared_ptr<const Ownership> RedisCluster::ownership() const { return impl_->owned; }

void RedisCluster::request_analysis(const std::string& symbol) { impl_->request_analysis(symbol); }

ClusterStats RedisCluster::stats() const {
  std::lock_guard lk(impl_->stats_mu);
  return impl_->st;
}

const ClusterOptions& RedisCluster::options() const noexcept { return impl_->opts; }

bool RedisCluster::append(const std::string& symbol,
                          std::vector<std::pair<MessageKind, std::string>> items) {
  return impl_->append(symbol, std::move(items));
}

void RedisCluster::recover(const std::string& symbol, std::uint64_t since, std::size_t max_count,
                           Recovered then) {
  impl_->recover(symbol, since, max_count, std::move(then));
}

void RedisCluster::flush() { impl_->flush(); }

std::string RedisCluster::epoch(const std::string& symbol) const {
  std::lock_guard lk(impl_->stats_mu);
  const auto it = impl_->st.epochs.find(symbol);
  return it == impl_->st.epochs.end() ? std::string{} : it->second;
}

std::uint64_t RedisCluster::last_seq(const std::string& symbol) const {
  const auto it = impl_->syms.find(symbol);
  return it == impl_->syms.end() ? 0 : it->second.last.load();
}

}  // namespace gs
