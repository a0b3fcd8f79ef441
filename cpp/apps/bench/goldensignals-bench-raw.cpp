// goldensignals-bench-raw: the raw limit of fan-out on this machine, for bench/fanout.py. A
// WebSocket server cut down to what the load client needs (upgrade, subscribe, confirmation)
// that publishes as the peers do (bench/peers/fanout_common.py: the same ~400-byte
// signal_update, BURST messages per turn flat out, or one at a fixed rate) with as little
// user-space work as there can be: each turn's frames are made once per room into one
// contiguous buffer, and each subscriber gets them with one send(). No strands, no queues, no
// locks: what is left is the kernel's cost of the writes, which every server pays. It is a
// yardstick, not a server: one thread, no limits, no TLS, no checks beyond what it reads.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "goldensignals/broadcast/frame_header.hpp"
#include "goldensignals/net/ws_wire.hpp"

namespace {

constexpr std::size_t kBacklogBytes = 64 * 1024;  // flat out: as BACKLOG_BYTES of the peers
constexpr int kBurst = 32;                        // flat out: messages per turn, as the peers

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// An unmasked server text frame.
void append_frame(std::string& out, std::string_view payload) {
  gs::append_frame_header(out, 0x81, payload.size());
  out.append(payload);
}

struct Conn {
  int fd = -1;
  bool open = false;  // upgraded
  int room = -1;      // joined
  std::string in;     // unread bytes
  std::string out;    // bytes the socket did not take yet
  bool want_out = false;
};

class RawServer {
 public:
  RawServer(int rooms, std::size_t subscribers, double rate, double duration, std::size_t payload)
      : rooms_(rooms), subscribers_(subscribers), rate_(rate), duration_(duration) {
    for (int r = 0; r < rooms; ++r) {
      names_.push_back(rooms == 1 ? std::string("BENCH") : "BENCH" + std::to_string(r));
      std::string head = "\"type\":\"signal_update\",\"data\":{\"symbol\":\"" + names_.back() +
                         "\",\"action\":\"BUY\",\"confidence\":0.8125,\"agreement\":0.8,"
                         "\"price\":187.42,\"reasoning\":[\"";
      if (payload > head.size() + 41) head.append(payload - head.size() - 41, 'x');
      heads_.push_back(std::move(head));
    }
    seq_.assign(static_cast<std::size_t>(rooms), 0);
    members_.resize(static_cast<std::size_t>(rooms));
    bursts_.resize(static_cast<std::size_t>(rooms));
  }

  int run(const std::string& host, int port) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1 ||
        ::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd_, 4096) != 0) {
      std::cerr << "goldensignals-bench-raw: cannot listen on " << host << ":" << port << ": "
                << std::strerror(errno) << "\n";
      return 1;
    }
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd_;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, lfd_, &ev);
    while (joined_ < subscribers_) poll(20);
    publish();
    for (;;) poll(100);  // keeps answering until the harness stops it
  }

 private:
  void poll(int timeout_ms) {
    epoll_event evs[256];
    const int n = ::epoll_wait(ep_, evs, 256, timeout_ms);
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == lfd_) {
        accept_all();
        continue;
      }
      auto it = conns_.find(fd);
      if (it == conns_.end()) continue;
      Conn& c = *it->second;
      if (evs[i].events & EPOLLOUT) flush(c);
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read(c);
    }
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
      conns_.emplace(fd, std::move(c));
    }
  }

  void drop(Conn& c) {
    if (c.room >= 0) {
      auto& m = members_[static_cast<std::size_t>(c.room)];
      m.erase(std::remove(m.begin(), m.end(), &c), m.end());
    }
    ::close(c.fd);
    conns_.erase(c.fd);
  }

  void read(Conn& c) {
    char buf[4096];
    for (;;) {
      const auto n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EAGAIN) break;
      return drop(c);
    }
    if (!c.open) {
      const auto end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      constexpr std::string_view kKey = "Sec-WebSocket-Key: ";
      const auto k = c.in.find(kKey);
      if (k == std::string::npos || k > end) return drop(c);
      const auto v = k + kKey.size();
      const std::string key = c.in.substr(v, c.in.find("\r\n", v) - v);
      c.in.erase(0, end + 4);
      c.open = true;
      send(c,
           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " +
               gs::ws::accept_key(key).value() + "\r\n\r\n");
    }
    frames(c);
  }

  // Client frames are masked; only a subscribe (text) is acted on, a close ends it.
  void frames(Conn& c) {
    std::size_t pos = 0;
    const auto* d = reinterpret_cast<const std::uint8_t*>(c.in.data());
    while (c.in.size() - pos >= 6) {
      std::size_t hdr = 2;
      std::uint64_t len = d[pos + 1] & 0x7f;
      if (len == 126) {
        if (c.in.size() - pos < 8) break;
        len = (std::uint64_t{d[pos + 2]} << 8) | d[pos + 3];
        hdr = 4;
      } else if (len == 127) {
        return drop(c);  // nothing the load client sends is that large
      }
      if (c.in.size() - pos < hdr + 4 + len) break;
      const std::uint8_t* mask = d + pos + hdr;
      std::string payload(static_cast<std::size_t>(len), '\0');
      for (std::size_t k = 0; k < len; ++k)
        payload[k] = static_cast<char>(d[pos + hdr + 4 + k] ^ mask[k % 4]);
      const int opcode = d[pos] & 0x0f;
      pos += hdr + 4 + len;
      if (opcode == 0x8) return drop(c);
      if (opcode == 0x1) on_text(c, payload);
    }
    c.in.erase(0, pos);
  }

  void on_text(Conn& c, const std::string& text) {
    constexpr std::string_view kSymbol = "\"symbol\":\"";
    const auto at = text.find(kSymbol);
    if (text.find("\"subscribe\"") == std::string::npos || at == std::string::npos) return;
    const auto from = at + kSymbol.size();
    const std::string room = text.substr(from, text.find('"', from) - from);
    const auto it = std::find(names_.begin(), names_.end(), room);
    if (it == names_.end() || c.room >= 0) return;
    c.room = static_cast<int>(it - names_.begin());
    members_[static_cast<std::size_t>(c.room)].push_back(&c);
    ++joined_;
    std::string frame;
    append_frame(frame,
                 "{\"type\":\"subscribe\",\"symbol\":\"" + room +
                     "\",\"status\":\"subscribed\",\"timestamp\":\"2026-12-07T00:00:00.000Z\"}");
    send(c, frame);
  }

  // Writes what the socket takes now and keeps the rest, to be written when it has room.
  void send(Conn& c, std::string_view bytes) {
    if (!c.out.empty()) {
      c.out.append(bytes);
      return;
    }
    const auto n = ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    const std::size_t sent = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (n < 0 && errno != EAGAIN) return;  // the read side drops it
    if (sent < bytes.size()) {
      c.out.assign(bytes.substr(sent));
      watch_out(c, true);
    }
  }

  void flush(Conn& c) {
    while (!c.out.empty()) {
      const auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        c.out.clear();
        break;
      }
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    watch_out(c, false);
  }

  void watch_out(Conn& c, bool on) {
    if (c.want_out == on) return;
    c.want_out = on;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.fd = c.fd;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void add_message(std::size_t i, std::int64_t stamp) {
    const auto r = i % static_cast<std::size_t>(rooms_);
    append_frame(bursts_[r], "{\"seq\":" + std::to_string(++seq_[r]) + "," + heads_[r] +
                                 "\"],\"published_ns\":" + std::to_string(stamp) + "}}");
  }

  // Each room's frames of this turn, to each of its members in one send.
  void send_bursts() {
    for (std::size_t r = 0; r < bursts_.size(); ++r) {
      if (bursts_[r].empty()) continue;
      for (Conn* c : members_[r]) send(*c, bursts_[r]);
      bursts_[r].clear();
    }
  }

  bool backlogged() const {
    const auto& m = members_[0];
    if (m.empty()) return false;
    for (const Conn* c : {m.front(), m[m.size() / 2], m.back()}) {
      if (c->out.size() > kBacklogBytes) return true;
    }
    return false;
  }

  void publish() {
    const std::int64_t start = now_ns();
    const auto end = start + static_cast<std::int64_t>(duration_ * 1e9);
    for (std::size_t i = 0;;) {
      if (rate_ > 0) {
        if (static_cast<double>(i) >= rate_ * duration_) return;
        const auto due = start + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate_);
        while (now_ns() < due)
          poll(static_cast<int>(std::max<std::int64_t>(0, (due - now_ns()) / 1'000'000)));
        add_message(i++, due);
        send_bursts();
        continue;
      }
      if (now_ns() >= end) return;
      while (backlogged()) poll(1);
      for (int k = 0; k < kBurst; ++k) add_message(i++, now_ns());
      send_bursts();
      poll(0);  // a turn of the loop: reads and writable sockets
    }
  }

  int rooms_;
  std::size_t subscribers_;
  double rate_, duration_;
  std::vector<std::string> names_, heads_, bursts_;
  std::vector<std::uint64_t> seq_;
  std::vector<std::vector<Conn*>> members_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::size_t joined_ = 0;
  int lfd_ = -1, ep_ = -1;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The raw limit of fan-out for bench/fanout.py: a cut-down WebSocket publisher",
               "goldensignals-bench-raw"};
  std::string host = "127.0.0.1";
  int port = 0, rooms = 1;
  std::size_t subscribers = 1, payload = 400;
  double rate = 0, duration = 3;
  app.add_option("--host", host);
  app.add_option("--port", port)->required();
  app.add_option("--rooms", rooms)->check(CLI::Range(1, 100000));
  app.add_option("--subscribers", subscribers);
  app.add_option("--rate", rate, "messages per second (0: flat out)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duration", duration)->check(CLI::PositiveNumber);
  app.add_option("--payload-bytes", payload);
  CLI11_PARSE(app, argc, argv);
  return RawServer(rooms, subscribers, rate, duration, payload).run(host, port);
}
