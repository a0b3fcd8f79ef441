// The plain-TCP layer under a session's websocket::stream that can also write a batch of
// ready-made WebSocket frames (header, payload, header, payload, ...) with one gather write.
//
// One write() per frame caps a server near 155k frames per CPU-second over loopback; a batch of
// queued frames per write reaches millions. Beast writes one frame per operation, so the batch
// bypasses it: both Beast's own writes (the upgrade response, pings, pongs, close frames) and the
// batches go through this layer, which writes each one whole and one at a time, in the order
// they were asked for, so frames never interleave on the socket. Writes are sendmsg calls of
// up to kMaxIov buffers; a full socket buffer is waited for, not retried. Beast serializes its
// writes and the session has at most one batch in flight, so at most one write waits behind the
// running one.
//
// Only for plain TCP: under TLS the session keeps Beast's one-frame write path.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "goldensignals/net/net.hpp"

namespace gs {

class GatherStream {
 public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;
  using Handler = asio::any_completion_handler<void(error_code, std::size_t)>;

  explicit GatherStream(next_layer_type&& next) : next_(std::move(next)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return next_.async_read_some(buffers, std::forward<Token>(token));
  }

  // Beast's writes: copied (they are small: control frames, the upgrade response) and written
  // whole, so Beast never continues a frame after another write.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          Job job;
          job.owned.resize(asio::buffer_size(b));
          asio::buffer_copy(asio::buffer(job.owned), b);
          job.handler = Handler(std::move(handler));
          submit(std::move(job));
        },
        token, buffers);
  }

  // Writes every buffer of `frames` whole. True when the socket took them all at once: then
  // `handler` is never called and the caller goes on (no allocation, no post). Otherwise it is
  // called on the stream's executor once everything is written or the write failed, and the
  // caller keeps `frames` and the bytes they point to alive until then. Call from the stream's
  // executor, with at most one batch in flight.
  bool write_gather(std::span<const asio::const_buffer> frames, Handler handler) {
    if (running_) {  // behind one of Beast's writes
      Job job;
      job.frames = frames;
      job.handler = std::move(handler);
      submit(std::move(job));
      return false;
    }
    std::size_t index = 0, offset = 0, written = 0;
    error_code ec;
    const Sent s = send_now(frames, index, offset, written, ec);
    if (s == Sent::All) return true;
    std::unique_ptr<InFlight> f;
    try {
      f = std::make_unique<InFlight>();
    } catch (...) {  // part of a frame may be on the socket: the rest could never follow
      error_code ignored;
      next_.socket().close(ignored);
      throw;
    }
    f->job.frames = frames;
    f->job.handler = std::move(handler);
    f->index = index;
    f->offset = offset;
    f->written = written;
    running_ = f.get();
    if (s == Sent::Failed) {
      finish(std::move(f), ec, false);
    } else {
      wait_for_room(std::move(f));
    }
    return false;
  }

 private:
  struct Job {
    std::string owned;                           // Beast's bytes
    std::span<const asio::const_buffer> frames;  // or a batch's buffers
    Handler handler;
  };
  // Owned by the running write's completion handler, so if the io_context is destroyed with
  // the write pending, the waiting job (and the session its handler holds) go with it.
  struct InFlight {
    Job job;
    std::optional<Job> next;
    asio::const_buffer own;  // Beast's bytes as the one frame
    std::size_t index = 0, offset = 0, written = 0;
  };
  static constexpr std::size_t kMaxIov = 256;  // buffers per sendmsg (the kernel takes 1024)

  void submit(Job job) {
    if (running_) {
      running_->next = std::move(job);
      return;
    }
    start(std::move(job));
  }

  void start(Job job) {
    auto f = std::make_unique<InFlight>();  // per write of many frames; none kept when idle
    f->job = std::move(job);
    if (f->job.frames.empty()) {
      f->own = asio::buffer(f->job.owned);
      f->job.frames = {&f->own, 1};
    }
    running_ = f.get();
    pump(std::move(f), false);
  }

  // What the sendmsg calls of send_now did: wrote everything, filled the socket's buffer, or
  // failed (`ec`).
  enum class Sent { All, Full, Failed };

  // Writes from `frames[index]` at `offset` on, as much as the socket takes now, moving
  // index and offset past what was written and adding it to `written`.
  Sent send_now(std::span<const asio::const_buffer> frames, std::size_t& index, std::size_t& offset,
                std::size_t& written, error_code& ec) {
    for (;;) {
      std::array<iovec, kMaxIov> iov;
      std::size_t count = 0, bytes = 0;
      for (std::size_t i = index; i < frames.size() && count < iov.size(); ++i) {
        const std::size_t skip = i == index ? offset : 0;
        iov[count].iov_base = const_cast<char*>(static_cast<const char*>(frames[i].data()) + skip);
        iov[count].iov_len = frames[i].size() - skip;
        bytes += iov[count].iov_len;
        ++count;
      }
      if (count == 0) return Sent::All;
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = count;
      const ssize_t n =
          ::sendmsg(next_.socket().native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        ec = error_code(errno, boost::system::system_category());
        return Sent::Failed;
      }
      const auto sent = n < 0 ? std::size_t{0} : static_cast<std::size_t>(n);
      written += sent;
      advance(frames, index, offset, sent);
      if (index == frames.size()) return Sent::All;
      if (sent != bytes) return Sent::Full;
      // else: more frames than one call takes, and room for them
    }
  }

  // Writes what it can now; waits for room in the socket's buffer and goes on, until all is
  // written. A write completed at once completes through a post, never inside the call that
  // asked for it.
  void pump(std::unique_ptr<InFlight> f, bool waited) {
    error_code ec;
    switch (send_now(f->job.frames, f->index, f->offset, f->written, ec)) {
      case Sent::All:
        return finish(std::move(f), {}, waited);
      case Sent::Failed:
        return finish(std::move(f), ec, waited);
      case Sent::Full:
        return wait_for_room(std::move(f));
    }
  }

  // The socket's buffer is full: goes on when it has room.
  void wait_for_room(std::unique_ptr<InFlight> f) {
    next_.socket().async_wait(tcp::socket::wait_write,
                              [this, f = std::move(f)](error_code ec) mutable {
                                if (ec) return finish(std::move(f), ec, true);
                                pump(std::move(f), true);
                              });
  }

  static void advance(std::span<const asio::const_buffer> frames, std::size_t& index,
                      std::size_t& offset, std::size_t n) {
    while (n > 0 && index < frames.size()) {
      const std::size_t left = frames[index].size() - offset;
      if (n < left) {
        offset += n;
        return;
      }
      n -= left;
      ++index;
      offset = 0;
    }
    while (index < frames.size() && frames[index].size() == 0) ++index;
  }

  void finish(std::unique_ptr<InFlight> f, error_code ec, bool waited) {
    running_ = nullptr;
    Handler h = std::move(f->job.handler);
    const std::size_t n = f->written;
    std::optional<Job> next = std::move(f->next);
    f.reset();
    if (next) start(std::move(*next));
    if (waited) {
      std::move(h)(ec, n);
    } else {
      asio::post(next_.get_executor(),
                 [h = std::move(h), ec, n]() mutable { std::move(h)(ec, n); });
    }
  }

  next_layer_type next_;
  InFlight* running_ = nullptr;  // the write in flight, if any
};

// The websocket close handshake ends with the TCP teardown of the socket underneath.
inline void teardown(boost::beast::role_type role, GatherStream& s, error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, s.next_layer().socket(), ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, GatherStream& s, TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, s.next_layer().socket(), std::forward<TeardownHandler>(handler));
}

}  // namespace gs
