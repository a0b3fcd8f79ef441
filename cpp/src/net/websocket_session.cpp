#include "goldensignals/net/websocket_session.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <iterator>

#include "goldensignals/broadcast/room_hub.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/net/client_handler.hpp"
#include "goldensignals/net/server_parts.hpp"

namespace gs {

namespace {
constexpr std::size_t kTlsBuffer = 4096;     // a TLS session's read buffer
constexpr std::size_t kScratch = 64 * 1024;  // a network thread's read buffer
constexpr std::size_t kKeptCapacity = 16;    // batch vectors keep this many when idle

// The allocator of a quiet connection's pending readiness wait: exactly the operation's size.
// Asio's default hands it the network thread's last freed operation block, which after an
// upgrade is the HTTP read's (about 460 bytes), kept for as long as the client is quiet.
template <class T>
struct ExactAllocator {
  using value_type = T;
  ExactAllocator() noexcept = default;
  template <class U>
  explicit ExactAllocator(const ExactAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
  friend bool operator==(ExactAllocator, ExactAllocator) noexcept { return true; }
};
}  // namespace

WebSocketSession::WebSocketSession(NetStream&& stream, std::shared_ptr<const WebSocketParts> parts,
                                   WireFormat format, std::optional<ws::Deflate> deflate,
                                   IpTable::Slot ip_slot)
    : socket_(stream.get_executor()),
      tls_(stream.release_tls()),
      parts_(std::move(parts)),
      format_(format),
      deflate_bits_(deflate ? deflate->server_bits : 0),
      reader_(parts_->opts.max_message_bytes, deflate.has_value()),
      ip_slot_(std::move(ip_slot)) {
  if (tls_) {
    tls_buffer_ = std::make_unique<char[]>(kTlsBuffer);
  } else {
    socket_ = stream.release_socket();
  }
}

std::string WebSocketSession::client_id() const { return handler_ ? handler_->client_id() : ""; }

WebSocketSession::~WebSocketSession() {
  if (tick_slot_ != Ticker::kNoSlot) parts_->ticker.remove(tick_slot_);
  parts_->gate.connection_closed();
}

tcp::socket& WebSocketSession::socket() { return tls_ ? tls_->next_layer() : socket_; }

void WebSocketSession::run(Principal who, std::optional<std::string> symbol, std::string response,
                           std::string_view early) {
  exp_ = who.exp;
  handler_ = std::make_unique<ClientHandler>(share_part(parts_, parts_->client), weak_from_this(),
                                             socket_.get_executor(), uuid4(), std::move(who));
  error_code ignored;
  auto& sock = socket();
  sock.set_option(tcp::no_delay(true), ignored);  // small frames should leave at once
  if (parts_->opts.socket_send_buffer > 0) {
    sock.set_option(asio::socket_base::send_buffer_size(parts_->opts.socket_send_buffer), ignored);
  }
  if (!tls_) sock.non_blocking(true, ignored);  // reads take what is there, never wait
  control_ = std::move(response);               // the 101 leaves first
  last_rx_ = Clock::now();
  parts_->counters.connections_total.fetch_add(1);
  parts_->hub.connect(shared_from_this());
  if (parts_->log.enabled(10)) {
    parts_->log(10, "client connected: " + client_id() + " (" +
                        std::to_string(parts_->counters.connections_active.load()) + " open)");
  }
  handler_->on_open(symbol);
  do_write();
  if (!early.empty()) {
    std::string bytes(early);
    consume(std::span<char>(bytes.data(), bytes.size()));
  }
  do_read();
  next_tick_ = Clock::now() + parts_->opts.heartbeat_interval;
  set_expiry();
  tick_slot_ = parts_->ticker.add(std::weak_ptr<Ticker::Due>(shared_from_this()), &deadline_);
  arm_timer();
  // A stop that began during the upgrade did not see us in the hub: close now.
  if (parts_->gate.stopping()) do_close(ws::kGoingAway, "server shutdown");
}

void WebSocketSession::do_read() {
  if (tls_) {
    tls_->async_read_some(
        asio::buffer(tls_buffer_.get(), kTlsBuffer),
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
    return;
  }
  // No buffer while the client is quiet: wait until there is something to read.
  socket_.async_wait(
      tcp::socket::wait_read,
      asio::bind_allocator(ExactAllocator<void>(),
                           [self = shared_from_this()](error_code ec) { self->on_readable(ec); }));
}

void WebSocketSession::on_readable(error_code ec) {
  if (ec) return end();
  thread_local std::unique_ptr<char[]> scratch;  // one per network thread, made on first use
  if (!scratch) scratch = std::make_unique<char[]>(kScratch);
  for (int round = 0; round < 4; ++round) {  // then the other sessions get a turn
    const std::size_t n = socket_.read_some(asio::buffer(scratch.get(), kScratch), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) return end();  // the client closed, or the connection broke
    consume(std::span<char>(scratch.get(), n));
    if (ended_) return;
    if (n < kScratch) break;
  }
  do_read();
}

void WebSocketSession::on_read(error_code ec, std::size_t n) {
  if (ec) return end();
  consume(std::span<char>(tls_buffer_.get(), n));
  if (!ended_) do_read();
}

bool WebSocketSession::consume(std::span<char> bytes) {
  last_rx_ = Clock::now();
  if (read_done_) return false;  // the close handshake is under way: what follows is ignored
  if (reader_.feed(bytes, *this)) return true;
  read_done_ = true;
  if (const auto* e = reader_.error()) {
    if (e->code == ws::kTooBig) parts_->counters.security.oversize_closes.fetch_add(1);
    shutdown_after_write_ = true;  // the client's close would not be read
    do_close(e->code, e->reason);
    do_write();  // when a close was already under way, do_close wrote nothing
  }
  return false;
}

void WebSocketSession::on_message(bool text, std::string_view data) {
  if (close_sent_) return;
  if (text) {
    handler_->on_text(data);
  } else {
    handler_->on_binary(data, format_);
  }
}

void WebSocketSession::on_ping(std::string_view payload) {
  if (close_sent_) return;
  // Only the latest ping is answered while a pong waits unsent (RFC 6455 5.5.3): a client
  // that pings and never reads cannot grow what waits for the socket.
  if (pong_at_ != std::string::npos) {
    const std::size_t size = 2 + (static_cast<unsigned char>(control_[pong_at_ + 1]) & 0x7F);
    control_.erase(pong_at_, size);
  }
  pong_at_ = control_.size();
  ws::append_control(control_, ws::kPong, payload);
  do_write();
}

void WebSocketSession::on_pong() {}  // last_rx_ is all a pong tells

void WebSocketSession::on_close(std::uint16_t code, std::string_view) {
  if (!close_sent_) {  // the client began it: answer with its code
    close_sent_ = true;
    {
      std::lock_guard lk(mu_);
      closing_ = true;
      queue_.clear();
    }
    if (code == 1005) {
      ws::append_control(control_, ws::kClose);
    } else {
      ws::append_close(control_, code, {});
    }
    close_deadline_ = Clock::now() + parts_->opts.close_timeout;
    arm_timer();
  }
  shutdown_after_write_ = true;
  do_write();
}

SendStatus WebSocketSession::send(MessagePtr m) {
  return enqueue(std::span<const MessagePtr>(&m, 1)).last;
}

std::size_t WebSocketSession::send_burst(std::span<const MessagePtr> burst) {
  return enqueue(burst).accepted;
}

WebSocketSession::Queued WebSocketSession::enqueue(std::span<const MessagePtr> burst) {
  Queued q;
  bool schedule = false;
  {
    std::lock_guard lk(mu_);
    if (closing_) return {0, SendStatus::Closed};
    for (const auto& m : burst) {
      q.last = SendStatus::Queued;
      if (m->kind() == MessageKind::PriceUpdate) {
        // A newer price makes the unsent older one of the symbol worthless: drop that one.
        for (auto it = queue_.rbegin(); it != queue_.rend(); ++it) {
          if ((*it)->kind() == MessageKind::PriceUpdate && (*it)->symbol() == m->symbol()) {
            queue_.erase(std::next(it).base());
            q.last = SendStatus::Replaced;
            parts_->counters.messages_dropped.fetch_add(1);
            break;
          }
        }
      }
      if (queue_.size() >= parts_->opts.message_queue_size) {
        closing_ = true;
        parts_->counters.messages_dropped.fetch_add(queue_.size() + 1);
        parts_->counters.slow_consumer_closes.fetch_add(1);
        queue_.clear();
        q.last = SendStatus::Dropped;
        break;
      }
      queue_.push_back(m);
      ++q.accepted;
    }
    if (q.last != SendStatus::Dropped && q.accepted > 0) {
      schedule = !write_scheduled_;
      write_scheduled_ = true;
    }
  }
  if (q.last == SendStatus::Dropped) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->do_close(ws::kPolicyViolation, "slow consumer");
    });
  } else if (schedule) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
  }
  return q;
}

void WebSocketSession::close(std::uint16_t code, std::string reason) {
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
               self->do_close(code, std::move(reason));
             });
}

void WebSocketSession::do_write() {
  if (in_flight_ || ended_) return;  // on_write goes on
  {
    std::lock_guard lk(mu_);
    if (!closing_ && !queue_.empty()) {
      // TLS: the TLS stream writes one buffer at a time anyway; keep its batches short.
      const std::size_t batch = tls_ ? 16 : kBatch;
      if (queue_.size() <= batch) {
        writing_.swap(queue_);  // all of it (writing_ was empty)
      } else {
        const auto n = static_cast<std::ptrdiff_t>(batch);
        std::move(queue_.begin(), queue_.begin() + n, std::back_inserter(writing_));
        queue_.erase(queue_.begin(), queue_.begin() + n);
      }
    }
    write_scheduled_ = !writing_.empty() || !control_.empty();
  }
  if (writing_.empty() && control_.empty()) {
    if (shutdown_after_write_ && !std::exchange(shut_, true)) {
      // Our FIN after the close frame; the client closes its side and the read ends the
      // session (or the close deadline does). Reading on until then, rather than closing
      // with bytes unread, keeps the kernel from resetting the connection over our close frame.
      error_code ignored;
      socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    return;
  }
  // The session's own frames first, then the queued messages, each frame one buffer.
  control_writing_.swap(control_);
  pong_at_ = std::string::npos;
  frames_.clear();
  frames_.reserve(writing_.size() + 1);
  if (!control_writing_.empty())
    frames_.emplace_back(control_writing_.data(), control_writing_.size());
  for (const auto& m : writing_) {
    auto f = m->frame(format_);
    if (deflate_bits_ != 0 && f.payload.size() >= parts_->opts.compression_threshold) {
      f = m->deflated(format_, deflate_bits_);
    }
    const auto whole = f.whole();
    frames_.emplace_back(whole.data(), whole.size());
  }
  in_flight_ = true;
  auto done = [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); };
  if (tls_) {
    asio::async_write(*tls_, frames_, std::move(done));
    return;
  }
  if (!writer_.write_gather(frames_, std::move(done))) return;  // on_write goes on
  // The socket took it all at once. Nothing more queued (the usual case at a steady rate):
  // done, with no post. Else the next batch goes on a later turn, by which time more of a
  // burst has queued (writing it now would make smaller batches).
  in_flight_ = false;
  batch_sent();
  {
    std::lock_guard lk(mu_);
    if ((closing_ || queue_.empty()) && control_.empty() && !shutdown_after_write_) {
      write_scheduled_ = false;
      return;
    }
  }
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
}

void WebSocketSession::batch_sent() {
  parts_->counters.messages_sent.fetch_add(writing_.size());
  writing_.clear();
  // The 101 is the largest control write; a quiet connection keeps no buffer for it.
  std::string().swap(control_writing_);
}

// At a heartbeat, a connection with nothing to send gives back what its last burst grew.
void WebSocketSession::trim() {
  if (in_flight_) return;
  std::vector<MessagePtr> gone;  // freed after the lock
  {
    std::lock_guard lk(mu_);
    if (queue_.empty() && queue_.capacity() > kKeptCapacity) queue_.swap(gone);
  }
  if (writing_.capacity() > kKeptCapacity) std::vector<MessagePtr>().swap(writing_);
  if (frames_.capacity() > kKeptCapacity) std::vector<asio::const_buffer>().swap(frames_);
}

void WebSocketSession::on_write(error_code ec) {
  in_flight_ = false;
  if (ec) {
    writing_.clear();
    {
      std::lock_guard lk(mu_);
      closing_ = true;
      write_scheduled_ = false;
      queue_.clear();
    }
    return drop();  // the pending read ends, and with it the session
  }
  batch_sent();
  do_write();
}

void WebSocketSession::do_close(std::uint16_t code, std::string reason) {
  if (close_sent_ || ended_) return;
  close_sent_ = true;
  // Closes the server decides on (a slow or silent client) are worth an info line.
  const int level = reason == "slow consumer" || reason == "idle timeout" ||
                            reason == "message flood" || reason == "token expired"
                        ? 20
                        : 10;
  if (parts_->log.enabled(level)) {
    parts_->log(level, "closing client " + client_id() + " with " + std::to_string(code) + " (" +
                           reason + ")");
  }
  {
    std::lock_guard lk(mu_);
    closing_ = true;
    queue_.clear();
  }
  ws::append_close(control_, code, reason);
  // A peer that never reads cannot receive our close frame: drop the socket after a while.
  close_deadline_ = Clock::now() + parts_->opts.close_timeout;
  arm_timer();
  do_write();
}

void WebSocketSession::drop() {
  error_code ignored;
  socket().close(ignored);
}

// A token that expires while connected ends the session at expiry (plus the leeway).
void WebSocketSession::set_expiry() {
  if (!exp_) return;
  // Whole seconds, as exp is; at most a year ahead (then it is worked out again).
  const std::int64_t left = *exp_ + parts_->opts.jwt_leeway.count() - now_ms() / 1000;
  constexpr std::int64_t kYear = 366LL * 24 * 3600;
  expiry_final_ = left <= kYear;
  expiry_ = Clock::now() + std::chrono::seconds(std::clamp<std::int64_t>(left, 0, kYear));
}

void WebSocketSession::arm_timer() {
  auto at = close_deadline_;
  if (!close_sent_) at = std::min({at, next_tick_, expiry_});
  Ticker::set(deadline_, at);
}

void WebSocketSession::due() noexcept {
  Ticker::hand_over(socket_.get_executor(), deadline_,
                    [self = shared_from_this()] { self->on_timer(); });
}

void WebSocketSession::on_timer() {
  if (ended_) return;
  const auto now = Clock::now();
  if (now >= close_deadline_) return drop();
  if (!close_sent_ && now >= expiry_) {
    if (expiry_final_) {
      parts_->counters.security.token_expired_closes.fetch_add(1);
      do_close(ws::kPolicyViolation, "token expired");
    } else {
      set_expiry();
    }
  }
  if (!close_sent_ && now >= next_tick_) {
    next_tick_ = now + parts_->opts.heartbeat_interval;
    if (now - last_rx_ >= 2 * parts_->opts.heartbeat_interval) {
      parts_->counters.idle_closes.fetch_add(1);
      do_close(ws::kGoingAway, "idle timeout");
    } else {
      ws::append_control(control_, ws::kPing);
      trim();
      do_write();
    }
  }
  arm_timer();
}

void WebSocketSession::end() {
  if (ended_) return;
  ended_ = true;
  {
    std::lock_guard lk(mu_);
    closing_ = true;
    queue_.clear();
  }
  deadline_.store(Ticker::kNever);
  parts_->ticker.remove(std::exchange(tick_slot_, Ticker::kNoSlot));
  drop();
  if (handler_) handler_->on_closed();
  parts_->hub.disconnect(this);
}

}  // namespace gs
