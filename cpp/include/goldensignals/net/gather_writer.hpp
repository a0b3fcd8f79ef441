// Writes a batch of ready-made WebSocket frames (each one buffer, header then payload) to a
// plain TCP socket with as few sendmsg calls as it takes.
//
// One write() per frame caps a server near 155k frames per CPU-second over loopback; a batch of
// queued frames per write reaches millions. Writes are sendmsg calls of up to kMaxIov buffers;
// a full socket buffer is waited for, not retried. The caller has at most one batch in flight,
// so frames never interleave on the socket. Under TLS the session writes through the TLS stream
// instead.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <span>
#include <utility>

#include "goldensignals/net/net.hpp"

namespace gs {

class GatherWriter {
 public:
  using Handler = asio::any_completion_handler<void(error_code, std::size_t)>;

  explicit GatherWriter(tcp::socket& socket) : socket_(socket) {}
  GatherWriter(const GatherWriter&) = delete;
  GatherWriter& operator=(const GatherWriter&) = delete;

  // Writes every buffer of `frames` whole. True when the socket took them all at once: then
  // `handler` is never called and the caller goes on (no allocation, no post). Otherwise it is
  // called on the stream's executor once everything is written or the write failed, and the
  // caller keeps `frames` and the bytes they point to alive until then. Call from the stream's
  // executor, with at most one batch in flight.
  bool write_gather(std::span<const asio::const_buffer> frames, Handler handler) {
    std::size_t index = 0, offset = 0, written = 0;
    error_code ec;
    const Sent s = send_now(frames, index, offset, written, ec);
    if (s == Sent::All) return true;
    std::unique_ptr<InFlight> f;
    try {
      f = std::make_unique<InFlight>();
    } catch (...) {  // part of a frame may be on the socket: the rest could never follow
      error_code ignored;
      socket_.close(ignored);
      throw;
    }
    f->frames = frames;
    f->handler = std::move(handler);
    f->index = index;
    f->offset = offset;
    f->written = written;
    if (s == Sent::Failed) {
      finish(std::move(f), ec, true);
    } else {
      wait_for_room(std::move(f));
    }
    return false;
  }

 private:
  // Owned by the waiting write's completion handler, so if the io_context is destroyed with
  // the write pending, the handler (and the session it holds) go with it.
  struct InFlight {
    std::span<const asio::const_buffer> frames;
    Handler handler;
    std::size_t index = 0, offset = 0, written = 0;
  };
  static constexpr std::size_t kMaxIov = 256;  // buffers per sendmsg (the kernel takes 1024)

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
      const ssize_t n = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
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

  // Writes what it can; waits for room in the socket's buffer and goes on, until all is
  // written or the write failed.
  void pump(std::unique_ptr<InFlight> f) {
    error_code ec;
    switch (send_now(f->frames, f->index, f->offset, f->written, ec)) {
      case Sent::All:
        return finish(std::move(f), {});
      case Sent::Failed:
        return finish(std::move(f), ec);
      case Sent::Full:
        return wait_for_room(std::move(f));
    }
  }

  // The socket's buffer is full: goes on when it has room.
  void wait_for_room(std::unique_ptr<InFlight> f) {
    socket_.async_wait(tcp::socket::wait_write, [this, f = std::move(f)](error_code ec) mutable {
      if (ec) return finish(std::move(f), ec);
      pump(std::move(f));
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

  // A failure found by the first send_now completes through a post, never inside the call
  // that asked for the write.
  void finish(std::unique_ptr<InFlight> f, error_code ec, bool posted = false) {
    Handler h = std::move(f->handler);
    const std::size_t n = f->written;
    f.reset();
    if (!posted) {
      std::move(h)(ec, n);
    } else {
      asio::post(socket_.get_executor(),
                 [h = std::move(h), ec, n]() mutable { std::move(h)(ec, n); });
    }
  }

  tcp::socket& socket_;
};

}  // namespace gs
