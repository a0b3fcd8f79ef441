// RedisCluster against a real redis-server (Debian's, started here on a free loopback port):
// one owner per symbol, the relay in seq order on every node, stale owners refused, leases
// given back on stop, and the rendezvous choice. The multi-process scenarios (kill -9,
// SIGSTOP, Redis restarts, haproxy) are in tests/py/test_cluster.py.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "goldensignals/cluster/cluster.hpp"
#include "goldensignals/cluster/redis_url.hpp"
#include "goldensignals/cluster/rendezvous.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/message_kind.hpp"

extern char** environ;

namespace gs {
namespace {

using namespace std::chrono_literals;

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

// redis-server on 127.0.0.1:port, without persistence, stopped with the test.
class RedisServer {
 public:
  RedisServer() : port_(free_port()) {
    const std::string p = std::to_string(port_);
    std::vector<std::string> args{"redis-server", "--port",     p,        "--bind",
                                  "127.0.0.1",    "--save",     "",       "--appendonly",
                                  "no",           "--loglevel", "warning"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Its output goes nowhere (nor does it keep the test's pipes open).
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    for (int fd = 0; fd <= 2; ++fd) {
      posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    }
    const int rc = ::posix_spawnp(&pid_, "redis-server", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = 0;
      return;
    }
    for (int i = 0; i < 200 && cli("PING") != "PONG"; ++i) std::this_thread::sleep_for(10ms);
  }
  ~RedisServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  [[nodiscard]] bool up() { return pid_ > 0 && cli("PING") == "PONG"; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // One redis-cli command; its output without the trailing newline.
  std::string cli(const std::string& args) const {
    const std::string cmd = "redis-cli -p " + std::to_string(port_) + " " + args + " 2>/dev/null";
    std::string out;
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      std::size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
      ::pclose(f);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

 private:
  std::uint16_t port_;
  pid_t pid_ = 0;
};

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

const std::vector<std::string> kSymbols{"AAPL", "MSFT", "NVDA", "TSLA", "SPY", "QQQ"};

// One node: its io threads, its cluster, and what it relayed (per symbol, in order).
struct Node {
  Node(std::uint16_t port, std::string id, std::chrono::milliseconds lease = 600ms)
      : work(ioc.get_executor()) {
    ClusterOptions o;
    o.redis = parse_redis_url("redis://127.0.0.1:" + std::to_string(port) + "/0");
    o.node_id = std::move(id);
    o.symbols = kSymbols;
    o.lease = lease;
    o.stream_length = 1000;
    RedisCluster::Hooks h;
    h.deliver = [this](std::vector<Journal::Step> steps, bool) {
      std::lock_guard lk(mu);
      for (auto& step : steps) {
        if (auto* p = std::get_if<Journal::Publication>(&step)) {
          got[p->symbol].push_back(*p->frame);
        } else {
          std::get<std::function<void()>>(step)();
        }
      }
    };
    h.analyze = [this](const std::string& symbol) {
      std::lock_guard lk(mu);
      analyze_requests.push_back(symbol);
    };
    if (std::getenv("GS_TEST_CLUSTER_LOG")) {
      h.log = [id = o.node_id](int level, const std::string& text) {
        std::fprintf(stderr, "[%s %d] %s\n", id.c_str(), level, text.c_str());
      };
    }
    cluster = std::make_unique<RedisCluster>(o, nullptr, h);
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { ioc.run(); });
    cluster->start(ioc, o.node_id);
  }
  ~Node() { halt(); }
  void halt() {
    if (!cluster) return;
    cluster->stop();
    cluster.reset();
    work.reset();
    ioc.stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }
  std::vector<std::string> frames(const std::string& symbol) {
    std::lock_guard lk(mu);
    return got[symbol];
  }
  std::size_t owned() const {
    std::size_t n = 0;
    for (const auto& s : kSymbols) n += cluster->owns(s) ? 1 : 0;
    return n;
  }

  boost::asio::io_context ioc{2};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  std::vector<std::thread> threads;
  std::unique_ptr<RedisCluster> cluster;
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> got;
  std::vector<std::string> analyze_requests;
};

std::uint64_t seq_of(const std::string& frame) {
  // {"seq":N,...
  return std::stoull(frame.substr(7, frame.find(',') - 7));
}

#define NEED_REDIS(r)                                                                  \
  if (!(r).up()) {                                                                     \
    FAIL() << "redis-server did not start (make test installs Debian's redis-server)"; \
  }

TEST(RedisUrl, ParsesEveryPartAndNamesWhatIsWrong) {
  const auto e = parse_redis_url("rediss://bob:p%40ss@cache.local:6380/3");
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.host, "cache.local");
  EXPECT_EQ(e.port, 6380);
  EXPECT_EQ(e.db, 3);
  EXPECT_EQ(e.user, "bob");
  EXPECT_EQ(e.password, "p@ss");
  EXPECT_EQ(e.display(), "rediss://cache.local:6380/3");  // never the password
  const auto d = parse_redis_url("redis://[::1]");
  EXPECT_EQ(d.host, "::1");
  EXPECT_EQ(d.port, 6379);
  EXPECT_EQ(parse_redis_url("redis://secret@h").password, "secret");
  for (const char* bad : {"http://h:6379", "redis://:6379", "redis://h:0", "redis://h:99999",
                          "redis://h/16", "redis://h/x", "redis://u:p%4@h"}) {
    try {
      (void)parse_redis_url(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const InvalidArgument& x) {
      const std::string what = x.what();
      EXPECT_EQ(what.rfind("GS_REDIS_URL '", 0), 0U) << what;
      EXPECT_NE(what.find("expected redis://"), std::string::npos) << what;
    }
  }
  try {
    (void)parse_redis_url("redis://u:topsecret@h:0");
  } catch (const InvalidArgument& x) {
    EXPECT_EQ(std::string(x.what()).find("topsecret"), std::string::npos) << x.what();
  }
}

TEST(Rendezvous, EveryNodeAgreesAndOnlyTheLeaversSymbolsMove) {
  const std::vector<std::string> three{"n1", "n2", "n3"};
  const std::vector<std::string> shuffled{"n3", "n1", "n2"};
  std::map<std::string, int> per_node;
  std::vector<std::string> symbols;
  for (int i = 0; i < 300; ++i) symbols.push_back("S" + std::to_string(i));
  for (const auto& s : symbols) {
    const auto o = rendezvous_owner(three, s);
    EXPECT_EQ(o, rendezvous_owner(shuffled, s));
    ++per_node[o];
  }
  for (const auto& [n, c] : per_node) EXPECT_GT(c, 60) << n;  // spread, not piled on one
  const std::vector<std::string> two{"n1", "n3"};             // n2 leaves
  for (const auto& s : symbols) {
    const auto before = rendezvous_owner(three, s);
    if (before != "n2") {
      EXPECT_EQ(rendezvous_owner(two, s), before) << s;
    }
  }
  EXPECT_EQ(rendezvous_owner({}, "AAPL"), "");
}

TEST(RedisCluster, EachSymbolHasExactlyOneOwnerTheRendezvousChoice) {
  RedisServer redis;
  NEED_REDIS(redis);
  Node a(redis.port(), "node-a");
  Node b(redis.port(), "node-b");
  Node c(redis.port(), "node-c");
  const std::vector<std::string> ids{"node-a", "node-b", "node-c"};
  ASSERT_TRUE(eventually([&] {
    for (const auto& s : kSymbols) {
      const auto want = rendezvous_owner(ids, s);
      const int owners = a.cluster->owns(s) + b.cluster->owns(s) + c.cluster->owns(s);
      if (owners != 1) return false;
      auto& n = want == "node-a" ? a : want == "node-b" ? b : c;
      if (!n.cluster->owns(s)) return false;
    }
    return true;
  })) << a.owned()
      << " " << b.owned() << " " << c.owned();
  ASSERT_TRUE(eventually([&] { return a.cluster->stats().nodes == ids; }));
  EXPECT_TRUE(a.cluster->stats().connected);
}

TEST(RedisCluster, TheOwnersMessagesReachEveryNodeOnceInSeqOrder) {
  RedisServer redis;
  NEED_REDIS(redis);
  Node a(redis.port(), "node-a");
  Node b(redis.port(), "node-b");
  ASSERT_TRUE(eventually([&] { return a.owned() + b.owned() == kSymbols.size(); }));
  const std::string sym = "AAPL";
  auto& owner = a.cluster->owns(sym) ? a : b;
  auto& other = a.cluster->owns(sym) ? b : a;
  // Both subscribed (a node relays from its first arrival on; it has no history before).
  ASSERT_TRUE(eventually([&] {
    return a.cluster->stats().resubscribes > 0 && b.cluster->stats().resubscribes > 0;
  }));
  std::this_thread::sleep_for(100ms);
  constexpr int kCount = 300;
  for (int i = 0; i < kCount; ++i) {
    std::vector<std::pair<MessageKind, std::string>> items;
    items.emplace_back(MessageKind::SignalUpdate,
                       "{\"type\":\"signal_update\",\"i\":" + std::to_string(i) + "}");
    ASSERT_TRUE(owner.cluster->append(sym, std::move(items)));
    // A non-owner's messages are not published (the owner's are the symbol's).
    std::vector<std::pair<MessageKind, std::string>> stray;
    stray.emplace_back(MessageKind::SignalUpdate, "{\"type\":\"signal_update\",\"stray\":1}");
    ASSERT_TRUE(other.cluster->append(sym, std::move(stray)));
  }
  for (auto* n : {&a, &b}) {
    ASSERT_TRUE(eventually([&] { return n->frames(sym).size() >= kCount; }))
        << n->frames(sym).size();
    const auto f = n->frames(sym);
    ASSERT_EQ(f.size(), static_cast<std::size_t>(kCount));
    for (std::size_t i = 0; i < f.size(); ++i) {
      EXPECT_EQ(seq_of(f[i]), seq_of(f[0]) + i);
      EXPECT_NE(f[i].find("\"i\":" + std::to_string(i) + "}"), std::string::npos) << f[i];
    }
  }
  EXPECT_EQ(a.frames(sym), b.frames(sym));
  EXPECT_EQ(other.cluster->stats().dropped_unowned, static_cast<std::uint64_t>(kCount));
  EXPECT_EQ(owner.cluster->stats().published, static_cast<std::uint64_t>(kCount));
  // The Stream holds them under ids <seq>-0, bounded by MAXLEN.
  EXPECT_EQ(redis.cli("XLEN gs:{AAPL}:stream"), std::to_string(kCount));
}

TEST(RedisCluster, AStaleOwnerIsRefusedAndStopsOwning) {
  RedisServer redis;
  NEED_REDIS(redis);
  Node a(redis.port(), "node-a", 5s);  // a long lease: only the token changes hands here
  ASSERT_TRUE(eventually([&] { return a.owned() == kSymbols.size(); }));
  // Another owner took AAPL meanwhile (as after this node's lease ran out).
  redis.cli("HSET gs:{AAPL}:meta token someone-else");
  std::vector<std::pair<MessageKind, std::string>> items;
  items.emplace_back(MessageKind::SignalUpdate, "{\"type\":\"signal_update\"}");
  ASSERT_TRUE(a.cluster->append("AAPL", std::move(items)));
  ASSERT_TRUE(eventually([&] { return !a.cluster->owns("AAPL"); }));
  EXPECT_EQ(a.cluster->stats().stale_refused, 1U);
  EXPECT_EQ(a.cluster->stats().published, 0U);
  EXPECT_EQ(redis.cli("XLEN gs:{AAPL}:stream"), "0");
  EXPECT_TRUE(a.cluster->owns("MSFT"));
}

TEST(RedisCluster, StopGivesTheLeasesBackSoAnotherNodeTakesThemAtOnce) {
  RedisServer redis;
  NEED_REDIS(redis);
  Node a(redis.port(), "node-a", 5s);
  Node b(redis.port(), "node-b", 5s);
  // Settled: each holds its rendezvous share.
  ASSERT_TRUE(eventually(
      [&] { return a.owned() > 0 && b.owned() > 0 && a.owned() + b.owned() == kSymbols.size(); }));
  const auto t0 = std::chrono::steady_clock::now();
  a.halt();
  // Well before a's 5 s lease would have run out (b ticks every lease / 3).
  ASSERT_TRUE(eventually([&] { return b.owned() == kSymbols.size(); }, 4s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
}

TEST(RedisCluster, AnAnalyzeRequestReachesTheOwner) {
  RedisServer redis;
  NEED_REDIS(redis);
  Node a(redis.port(), "node-a");
  Node b(redis.port(), "node-b");
  ASSERT_TRUE(eventually([&] { return a.owned() + b.owned() == kSymbols.size(); }));
  for (const auto& s : kSymbols) {
    auto& asker = a.cluster->owns(s) ? b : a;
    asker.cluster->request_analysis(s);
  }
  ASSERT_TRUE(eventually([&] {
    std::scoped_lock lk(a.mu, b.mu);
    return a.analyze_requests.size() + b.analyze_requests.size() == kSymbols.size();
  }));
  std::scoped_lock lk(a.mu, b.mu);
  for (const auto& s : a.analyze_requests) EXPECT_TRUE(a.cluster->owns(s)) << s;
  for (const auto& s : b.analyze_requests) EXPECT_TRUE(b.cluster->owns(s)) << s;
}

}  // namespace
}  // namespace gs
