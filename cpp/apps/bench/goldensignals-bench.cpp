// goldensignals-bench: a WebSocket load client for bench/. One thread, epoll, raw non-blocking
// sockets: it opens many connections, upgrades them, subscribes each to a room, then records
// for every room message the delay from the publish time it carries ("published_ns", CLOCK_
// MONOTONIC nanoseconds) to its arrival, in a log-linear histogram. It reports one JSON line:
// messages, bytes, errors, latency percentiles, its own CPU time and, given --server-pid, the
// server's CPU time and RSS over the measured window (from /proc), so the primary figure,
// messages delivered per server CPU-second, does not depend on how busy this client was.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "goldensignals/broadcast/frame_header.hpp"

namespace {

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double self_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// utime + stime of a process, in seconds; -1 if it cannot be read.
double proc_cpu_s(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// VmRSS of a process in bytes; -1 if it cannot be read.
long long proc_rss(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

// Log-linear histogram of nanoseconds: 2^k octaves, 32 linear steps each (about 3% error).
class Histogram {
 public:
  void record(std::int64_t ns) {
    if (ns < 0) ns = 0;
    ++counts_[index(static_cast<std::uint64_t>(ns))];
    ++n_;
    max_ = std::max(max_, ns);
  }
  [[nodiscard]] std::uint64_t count() const { return n_; }
  [[nodiscard]] std::int64_t max() const { return max_; }
  // The upper bound of the bucket holding the q-quantile.
  [[nodiscard]] double quantile(double q) const {
    if (n_ == 0) return 0;
    const auto want = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= want && counts_[i] > 0) {
        return std::min(static_cast<double>(upper(i)), static_cast<double>(max_));
      }
    }
    return static_cast<double>(max_);
  }

 private:
  static constexpr int kSub = 5;  // 32 steps per octave
  static std::size_t index(std::uint64_t v) {
    if (v < (1u << kSub)) return v;
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - kSub;
    return static_cast<std::size_t>((shift + 1) << kSub) + ((v >> shift) & ((1u << kSub) - 1));
  }
  static std::uint64_t upper(std::size_t i) {
    if (i < (1u << kSub)) return i;
    const int shift = static_cast<int>(i >> kSub) - 1;
    const std::uint64_t mant = (1u << kSub) + (i & ((1u << kSub) - 1));
    return ((mant + 1) << shift) - 1;
  }
  std::array<std::uint64_t, 64 << kSub> counts_{};
  std::uint64_t n_ = 0;
  std::int64_t max_ = 0;
};

enum class State : std::uint8_t { Connecting, Handshake, Open, Subscribed, Closed };

struct Conn {
  int fd = -1;
  State state = State::Connecting;
  std::string room;
  std::string in;   // bytes of an unfinished frame or handshake
  std::string out;  // bytes not yet written (handshake, subscribe, pong)
  std::uint64_t messages = 0;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string path = "/ws/signals";
  int connections = 100;
  int rooms = 1;
  std::string room_prefix = "BENCH";
  int sources = 1;
  int server_pid = 0;
  bool subscribe = true;
  int concurrency = 200;    // connection attempts and handshakes in flight
  double timeout_s = 60;    // the whole run, at most
  double quiet_ms = 500;    // after the first message, this long without one ends the run
  double min_window_s = 0;  // ... but not before the window is this long (the publishing time)
  double settle_ms = 1000;  // idle mode: wait this long before reading the server's memory
  double hold_s = 0;        // after the run, keep the connections open this long
};

std::string room_of(const Options& o, int i) {
  return o.rooms <= 1 ? o.room_prefix : o.room_prefix + std::to_string(i % o.rooms);
}

// A masked client text frame.
std::string client_frame(std::string_view payload, std::uint8_t opcode = 0x1) {
  std::string f;
  const std::size_t n = payload.size();
  gs::append_frame_header(f, static_cast<std::uint8_t>(0x80 | opcode), n, true);
  const std::array<std::uint8_t, 4> key{0x5a, 0x17, 0xc3, 0x2e};
  for (auto k : key) f.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < n; ++i) {
    f.push_back(static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ key[i % 4]));
  }
  return f;
}

class Client {
 public:
  explicit Client(Options o) : o_(std::move(o)) {}

  int run();

 private:
  void start_connect(std::size_t i);
  void on_event(std::size_t i, std::uint32_t ev);
  void flush(Conn& c);
  bool on_bytes(Conn& c, const char* p, std::size_t n);
  bool parse_frames(Conn& c);
  void on_message(Conn& c, std::uint8_t opcode, std::string_view payload);
  void fail(Conn& c, const std::string& why);
  void want_write(Conn& c, bool on);
  void poll(int timeout_ms) {
    const int n = epoll_wait(ep_, evs_.data(), static_cast<int>(evs_.size()), timeout_ms);
    for (int k = 0; k < n; ++k) {
      const auto& e = evs_[static_cast<std::size_t>(k)];
      on_event(e.data.u64, e.events);
    }
  }
  // Keeps serving the connections (answering pings) for `seconds`.
  void serve_for(double seconds) {
    const auto until = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
    while (now_ns() < until) poll(20);
  }

  Options o_;
  int ep_ = -1;
  std::vector<epoll_event> evs_ = std::vector<epoll_event>(1024);
  std::vector<Conn> conns_;
  std::size_t next_ = 0, in_flight_ = 0, ready_ = 0, closed_ = 0;
  std::uint64_t messages_ = 0, bytes_ = 0, other_ = 0, errors_ = 0, closes_ = 0;
  std::int64_t last_msg_ns_ = 0;
  std::string first_error_;
  Histogram hist_;
  bool measuring_ = false;
};

void Client::start_connect(std::size_t i) {
  Conn& c = conns_[i];
  c.room = room_of(o_, static_cast<int>(i));
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return fail(c, std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (o_.sources > 1) {
    // The port is chosen at connect(), per destination, so ports in TIME_WAIT of earlier
    // runs against other server ports do not run the range short.
    setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000001u + static_cast<std::uint32_t>(i % o_.sources));
    if (bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
      return fail(c, std::string("bind: ") + std::strerror(errno));
    }
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<std::uint16_t>(o_.port));
  inet_pton(AF_INET, o_.host.c_str(), &dst.sin_addr);
  ++in_flight_;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = i;
  epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0 && errno != EINPROGRESS) {
    return fail(c, std::string("connect: ") + std::strerror(errno));
  }
  c.out = "GET " + o_.path + " HTTP/1.1\r\nHost: " + o_.host + ":" + std::to_string(o_.port) +
          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

void Client::want_write(Conn& c, bool on) {
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
  epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Client::fail(Conn& c, const std::string& why) {
  if (c.state == State::Closed) return;
  if (c.state == State::Connecting || c.state == State::Handshake) --in_flight_;
  if (c.state == State::Subscribed || (!o_.subscribe && c.state == State::Open)) --ready_;
  ++errors_;
  if (first_error_.empty()) first_error_ = why;
  if (c.fd >= 0) close(c.fd);
  c.fd = -1;
  c.state = State::Closed;
  ++closed_;
}

void Client::flush(Conn& c) {
  while (!c.out.empty()) {
    const auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) return want_write(c, true);
      return fail(c, std::string("send: ") + std::strerror(errno));
    }
    c.out.erase(0, static_cast<std::size_t>(n));
  }
  want_write(c, false);
}

void Client::on_event(std::size_t i, std::uint32_t ev) {
  Conn& c = conns_[i];
  if (c.state == State::Closed) return;
  if (c.state == State::Connecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(c, std::string("connect: ") + std::strerror(err));
    if (!(ev & EPOLLOUT)) return;
    c.state = State::Handshake;
  }
  if (ev & EPOLLOUT) flush(c);
  if (c.state == State::Closed) return;
  if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    static thread_local std::array<char, 1 << 16> buf;
    for (int rounds = 0; rounds < 8; ++rounds) {
      const auto n = ::recv(c.fd, buf.data(), buf.size(), 0);
      if (n > 0) {
        if (!on_bytes(c, buf.data(), static_cast<std::size_t>(n))) return;
        if (static_cast<std::size_t>(n) < buf.size()) break;
      } else if (n == 0) {
        return fail(c, "connection closed by the server");
      } else {
        if (errno == EAGAIN) break;
        return fail(c, std::string("recv: ") + std::strerror(errno));
      }
    }
  }
}

bool Client::on_bytes(Conn& c, const char* p, std::size_t n) {
  if (measuring_) bytes_ += n;
  c.in.append(p, n);
  if (c.state == State::Handshake) {
    const auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return true;
    if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
      fail(c, "upgrade refused: " + c.in.substr(0, c.in.find("\r\n")));
      return false;
    }
    c.in.erase(0, end + 4);
    c.state = State::Open;
    --in_flight_;
    if (o_.subscribe) {
      c.out += client_frame(R"({"type":"subscribe","symbol":")" + c.room + "\"}");
      flush(c);
      if (c.state == State::Closed) return false;
    } else {
      ++ready_;
    }
  }
  return parse_frames(c);
}

bool Client::parse_frames(Conn& c) {
  std::size_t pos = 0;
  const auto* d = reinterpret_cast<const std::uint8_t*>(c.in.data());
  while (c.in.size() - pos >= 2) {
    const std::uint8_t b0 = d[pos], b1 = d[pos + 1];
    std::size_t hdr = 2;
    std::uint64_t len = b1 & 0x7f;
    if (b1 & 0x80) {
      fail(c, "the server sent a masked frame");
      return false;
    }
    if (len == 126) {
      if (c.in.size() - pos < 4) break;
      len = (std::uint64_t{d[pos + 2]} << 8) | d[pos + 3];
      hdr = 4;
    } else if (len == 127) {
      if (c.in.size() - pos < 10) break;
      len = 0;
      for (int k = 0; k < 8; ++k) len = (len << 8) | d[pos + 2 + k];
      hdr = 10;
    }
    if (c.in.size() - pos < hdr + len) break;
    on_message(c, b0 & 0x0f,
               std::string_view(c.in.data() + pos + hdr, static_cast<std::size_t>(len)));
    if (c.state == State::Closed) return false;
    pos += hdr + len;
  }
  c.in.erase(0, pos);
  if (c.in.capacity() > 4096 && c.in.size() < 1024) c.in.shrink_to_fit();
  return true;
}

void Client::on_message(Conn& c, std::uint8_t opcode, std::string_view payload) {
  if (opcode == 0x9) {  // ping
    c.out += client_frame(payload, 0xA);
    flush(c);
    return;
  }
  if (opcode == 0x8) {
    ++closes_;
    std::uint16_t code =
        payload.size() >= 2
            ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                         static_cast<std::uint8_t>(payload[1]))
            : 0;
    fail(c, "closed by the server with " + std::to_string(code) + " " +
                std::string(payload.size() > 2 ? payload.substr(2) : ""));
    return;
  }
  if (opcode != 0x1 && opcode != 0x2) return;
  static constexpr std::string_view kStamp = "\"published_ns\":";
  const auto at = payload.find(kStamp);
  if (at != std::string_view::npos) {
    const auto t = now_ns();
    std::int64_t v = 0;
    for (auto k = at + kStamp.size(); k < payload.size() && payload[k] >= '0' && payload[k] <= '9';
         ++k) {
      v = v * 10 + (payload[k] - '0');
    }
    // Counted even before the window opens: the server may publish its first message as the
    // last subscriber joins, before this client has read every confirmation.
    ++messages_;
    ++c.messages;
    hist_.record(t - v);
    last_msg_ns_ = t;
    return;
  }
  ++other_;
  if (c.state == State::Open && o_.subscribe && payload.find("\"subscribed\"") != payload.npos) {
    c.state = State::Subscribed;
    ++ready_;
  }
}

int Client::run() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  const auto need = static_cast<rlim_t>(o_.connections) + 64;
  if (rl.rlim_cur < need) {
    rl.rlim_cur = std::min(need, rl.rlim_max);
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < need) {
      std::cerr << "goldensignals-bench: --connections " << o_.connections << " needs " << need
                << " file descriptors; the hard limit is " << rl.rlim_max << "\n";
      return 2;
    }
  }
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  conns_.resize(static_cast<std::size_t>(o_.connections));
  const long long rss_before = proc_rss(o_.server_pid);
  const auto t0 = now_ns();
  const auto deadline = t0 + static_cast<std::int64_t>(o_.timeout_s * 1e9);
  double cpu0 = 0, srv0 = 0;
  std::int64_t t_ready = 0;
  bool timed_out = false;
  auto alive = [&] { return conns_.size() - closed_; };
  while (true) {
    while (next_ < conns_.size() && in_flight_ < static_cast<std::size_t>(o_.concurrency)) {
      start_connect(next_++);
    }
    const auto now = now_ns();
    if (now > deadline) {
      timed_out = true;
      break;
    }
    if (!measuring_ && next_ == conns_.size() && in_flight_ == 0 && ready_ >= alive()) {
      // Every connection is up (and subscribed): the measured window starts now.
      measuring_ = true;
      t_ready = now;
      cpu0 = self_cpu_s();
      srv0 = proc_cpu_s(o_.server_pid);
      if (!o_.subscribe) break;
    }
    if (measuring_) {
      const auto quiet = static_cast<std::int64_t>(o_.quiet_ms * 1e6);
      const bool long_enough = now - t_ready >= static_cast<std::int64_t>(o_.min_window_s * 1e9);
      if (messages_ > 0 && long_enough && now - last_msg_ns_ > quiet) break;
      if (alive() == 0) break;
    }
    poll(20);
  }
  const auto t_end = messages_ > 0 ? last_msg_ns_ : now_ns();
  double srv1 = proc_cpu_s(o_.server_pid);
  const double cpu1 = self_cpu_s();
  long long rss_after = -1;
  if (!o_.subscribe && measuring_) {
    // Idle connections: let the server settle, keep answering pings, then read its memory.
    serve_for(o_.settle_ms / 1e3);
    srv1 = proc_cpu_s(o_.server_pid);
  }
  rss_after = proc_rss(o_.server_pid);
  std::uint64_t min_per = UINT64_MAX, max_per = 0;
  for (const auto& c : conns_) {
    min_per = std::min(min_per, c.messages);
    max_per = std::max(max_per, c.messages);
  }
  if (conns_.empty()) min_per = 0;
  const double window = measuring_ ? static_cast<double>(t_end - t_ready) / 1e9 : 0;
  const double srv_cpu = (srv0 >= 0 && srv1 >= 0 && measuring_) ? srv1 - srv0 : -1;
  std::ostringstream j;
  j.setf(std::ios::fixed);
  j.precision(6);
  auto ms = [&](double q) { return hist_.quantile(q) / 1e6; };
  std::string err = first_error_;
  for (auto& ch : err) {
    if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  }
  j << "{\"connections\":" << o_.connections << ",\"ready\":" << ready_
    << ",\"connect_s\":" << (measuring_ ? static_cast<double>(t_ready - t0) / 1e9 : -1.0)
    << ",\"window_s\":" << window << ",\"messages\":" << messages_ << ",\"bytes\":" << bytes_
    << ",\"other_messages\":" << other_ << ",\"min_per_connection\":" << min_per
    << ",\"max_per_connection\":" << max_per << ",\"errors\":" << errors_
    << ",\"closes\":" << closes_ << ",\"timed_out\":" << (timed_out ? "true" : "false")
    << ",\"first_error\":\"" << err << "\""
    << ",\"p50_ms\":" << ms(0.50) << ",\"p99_ms\":" << ms(0.99) << ",\"p999_ms\":" << ms(0.999)
    << ",\"max_ms\":" << static_cast<double>(hist_.max()) / 1e6
    << ",\"client_cpu_s\":" << (measuring_ ? cpu1 - cpu0 : -1.0) << ",\"server_cpu_s\":" << srv_cpu
    << ",\"server_rss_before\":" << rss_before << ",\"server_rss_after\":" << rss_after << "}";
  std::cout << j.str() << std::endl;
  serve_for(o_.hold_s);
  for (auto& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
  close(ep_);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"WebSocket load client of bench/: connects, subscribes, measures delivery",
               "goldensignals-bench"};
  Options o;
  bool idle = false;
  app.add_option("--host", o.host, "server IPv4 address")->capture_default_str();
  app.add_option("--port", o.port, "server port")->required()->check(CLI::Range(1, 65535));
  app.add_option("--path", o.path, "WebSocket path")->capture_default_str();
  app.add_option("--connections", o.connections, "connections to open")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--rooms", o.rooms, "rooms; connection i joins room i % rooms")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--room-prefix", o.room_prefix, "room name (with --rooms > 1: prefix + index)")
      ->capture_default_str();
  app.add_option("--sources", o.sources, "source addresses 127.0.0.1.. to spread connections over")
      ->check(CLI::Range(1, 250))
      ->capture_default_str();
  app.add_option("--server-pid", o.server_pid, "the server's pid, for its CPU time and memory");
  app.add_flag("--idle", idle, "connect and upgrade only; report the server's memory");
  app.add_option("--concurrency", o.concurrency, "connection attempts in flight")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "seconds for the whole run, at most")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--quiet-ms", o.quiet_ms, "after the first message, silence that ends the run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--min-window", o.min_window_s,
                 "seconds after which silence may end the run (the server's publishing time)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--settle-ms", o.settle_ms, "--idle: wait before reading the server's memory")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--hold", o.hold_s, "seconds to keep the connections open after reporting")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  o.subscribe = !idle;
  return Client(o).run();
}
