#include "goldensignals/net/websocket_session.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>
#include <iterator>

#include "goldensignals/broadcast/room_hub.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/net/client_handler.hpp"
#include "goldensignals/net/server_parts.hpp"

namespace gs {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

int negotiated_deflate_bits(std::string_view extensions) {
  if (extensions.find("permessage-deflate") == std::string_view::npos) return 0;
  constexpr std::string_view kBits = "server_max_window_bits=";
  const auto at = extensions.find(kBits);
  if (at == std::string_view::npos) return 15;
  int bits = 0;
  for (auto i = at + kBits.size();
       i < extensions.size() && extensions[i] >= '0' && extensions[i] <= '9'; ++i) {
    bits = bits * 10 + (extensions[i] - '0');
  }
  return bits >= 9 && bits <= 15 ? bits : 15;
}

WebSocketSession::WebSocketSession(NetStream&& stream, std::shared_ptr<const WebSocketParts> parts,
                                   std::optional<std::string> symbol, WireFormat format,
                                   Principal who, IpTable::Slot ip_slot)
    : ws_(std::move(stream)),
      strand_(ws_.get_executor()),
      parts_(std::move(parts)),
      symbol_(std::move(symbol)),
      format_(format),
      who_(std::move(who)),
      ip_slot_(std::move(ip_slot)),
      tick_timer_(strand_),
      close_timer_(strand_),
      expiry_timer_(strand_) {}

std::string WebSocketSession::client_id() const { return handler_ ? handler_->client_id() : ""; }

WebSocketSession::~WebSocketSession() { parts_->gate.connection_closed(); }

void WebSocketSession::run(beast::http::request<beast::http::string_body> req) {
  handler_ = std::make_unique<ClientHandler>(share_part(parts_, parts_->client), weak_from_this(),
                                             strand_, uuid4(), who_);
  error_code ignored;
  auto& sock = beast::get_lowest_layer(ws_).socket();
  sock.set_option(tcp::no_delay(true), ignored);  // small frames should leave at once
  if (parts_->opts.socket_send_buffer > 0) {
    sock.set_option(asio::socket_base::send_buffer_size(parts_->opts.socket_send_buffer), ignored);
  }
  ws_.set_option(websocket::stream_base::timeout{parts_->opts.handshake_timeout,
                                                 websocket::stream_base::none(), false});
  if (parts_->opts.compression) {
    websocket::permessage_deflate pmd;
    pmd.server_enable = true;
    pmd.server_max_window_bits = parts_->opts.compression_window_bits;
    // Each message compressed on its own: one compressed frame serves every recipient
    // (Message::deflated). Beast's own compressor only runs under TLS, where it writes.
    pmd.server_no_context_takeover = true;
    pmd.msg_size_threshold = parts_->opts.compression_threshold;
    ws_.set_option(pmd);
  }
  // Called on this strand during the accept, once Beast has negotiated the extensions.
  ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
    res.set(beast::http::field::server, "goldensignals/" GS_VERSION);
    deflate_bits_ = negotiated_deflate_bits(res[beast::http::field::sec_websocket_extensions]);
  }));
  ws_.read_message_max(parts_->opts.max_message_bytes);  // larger frames: Beast closes with 1009
  ws_.auto_fragment(false);  // one frame per message (Beast's own frames: control frames)
  ws_.binary(format_ != WireFormat::Json);
  ws_.control_callback(
      [this](websocket::frame_type, beast::string_view) { last_rx_ = Clock::now(); });
  ws_.async_accept(req, [self = shared_from_this()](error_code ec) { self->on_accept(ec); });
}

void WebSocketSession::on_accept(error_code ec) {
  if (ec) return end();
  open_ = true;
  last_rx_ = Clock::now();
  parts_->counters.connections_total.fetch_add(1);
  parts_->hub.connect(shared_from_this());
  if (parts_->log.enabled(10)) {
    parts_->log(10, "client connected: " + client_id() + " (" +
                        std::to_string(parts_->counters.connections_active.load()) + " open)");
  }
  handler_->on_open(symbol_);
  do_read();
  do_tick();
  arm_expiry();
  // A stop that began during the handshake did not see us in the hub: close now.
  if (parts_->gate.stopping()) do_close(websocket::close_code::going_away, "server shutdown");
}

void WebSocketSession::do_read() {
  ws_.async_read(
      buffer_, [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void WebSocketSession::on_read(error_code ec, std::size_t) {
  // Oversize frames (1009) and invalid UTF-8 (1007) were already answered by Beast.
  if (ec == websocket::error::message_too_big)
    parts_->counters.security.oversize_closes.fetch_add(1);
  if (ec) return end();
  last_rx_ = Clock::now();
  const auto data = buffer_.cdata();
  const std::string_view view(static_cast<const char*>(data.data()), data.size());
  if (!close_started_) {
    if (ws_.got_text()) {
      handler_->on_text(view);
    } else {
      handler_->on_binary(view, format_);
    }
  }
  buffer_.consume(buffer_.size());
  do_read();
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
    asio::post(strand_, [self = shared_from_this()] {
      self->do_close(websocket::close_code::policy_error, "slow consumer");
    });
  } else if (schedule) {
    asio::post(strand_, [self = shared_from_this()] { self->do_write(); });
  }
  return q;
}

void WebSocketSession::close(std::uint16_t code, std::string reason) {
  asio::post(strand_, [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
    self->do_close(code, std::move(reason));
  });
}

void WebSocketSession::do_write() {
  {
    std::lock_guard lk(mu_);
    if (!writing_.empty()) return;  // on_write continues the queue
    if (closing_ || queue_.empty() || !open_) {
      write_scheduled_ = false;
      return;
    }
    // TLS: one message per write, through Beast (the batch bypass needs the plain socket).
    const std::size_t batch = ws_.next_layer().gather() ? kBatch : 1;
    if (queue_.size() <= batch) {
      writing_.swap(queue_);  // all of it (writing_ was empty)
    } else {
      const auto n = static_cast<std::ptrdiff_t>(batch);
      std::move(queue_.begin(), queue_.begin() + n, std::back_inserter(writing_));
      queue_.erase(queue_.begin(), queue_.begin() + n);
    }
  }
  auto* gather = ws_.next_layer().gather();
  if (!gather) {
    const auto& m = writing_.front();
    ws_.async_write(
        asio::buffer(m->payload(format_)),
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
    return;
  }
  // Plain TCP: the queued frames leave together in one gather write, bypassing Beast's
  // one-frame write.
  frames_.clear();
  for (const auto& m : writing_) {
    auto f = m->frame(format_);
    if (deflate_bits_ != 0 && f.payload.size() >= parts_->opts.compression_threshold) {
      f = m->deflated(format_, deflate_bits_);
    }
    const auto whole = f.whole();
    frames_.emplace_back(whole.data(), whole.size());
  }
  if (!gather->write_gather(frames_, [self = shared_from_this()](error_code ec, std::size_t) {
        self->on_write(ec);
      })) {
    return;  // on_write goes on
  }
  // The socket took it all at once. Nothing more queued (the usual case at a steady rate):
  // done, with no post. Else the next batch goes on a later turn, by which time more of a
  // burst has queued (writing it now would make smaller batches).
  batch_sent();
  {
    std::lock_guard lk(mu_);
    if (closing_ || queue_.empty()) {
      write_scheduled_ = false;
      return;
    }
  }
  asio::post(strand_, [self = shared_from_this()] { self->do_write(); });
}

void WebSocketSession::batch_sent() {
  parts_->counters.messages_sent.fetch_add(writing_.size());
  writing_.clear();
  if (writing_.capacity() > kBatch) writing_.shrink_to_fit();  // after a burst, idle is small
}

void WebSocketSession::on_write(error_code ec) {
  if (ec) {
    writing_.clear();
    std::lock_guard lk(mu_);
    closing_ = true;
    write_scheduled_ = false;
    queue_.clear();
    return;  // the read side notices the broken connection and ends the session
  }
  batch_sent();
  do_write();
}

void WebSocketSession::do_close(std::uint16_t code, std::string reason) {
  if (close_started_ || ended_) return;
  close_started_ = true;
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
  if (!open_) {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    return;
  }
  // A peer that never reads cannot receive our close frame: drop the socket after a while.
  close_timer_.expires_after(parts_->opts.close_timeout);
  close_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) beast::get_lowest_layer(self->ws_).close();
  });
  ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                  [self = shared_from_this()](error_code ec) { self->on_close(ec); });
}

void WebSocketSession::on_close(error_code) { close_timer_.cancel(); }

void WebSocketSession::do_tick() {
  tick_timer_.expires_after(parts_->opts.heartbeat_interval);
  tick_timer_.async_wait([self = shared_from_this()](error_code ec) { self->on_tick(ec); });
}

void WebSocketSession::on_tick(error_code ec) {
  if (ec || ended_ || close_started_) return;
  if (Clock::now() - last_rx_ >= 2 * parts_->opts.heartbeat_interval) {
    parts_->counters.idle_closes.fetch_add(1);
    return do_close(websocket::close_code::going_away, "idle timeout");
  }
  if (!ping_pending_) {
    ping_pending_ = true;
    ws_.async_ping({}, [self = shared_from_this()](error_code) { self->ping_pending_ = false; });
  }
  do_tick();
}

// A token that expires while connected ends the session at expiry (plus the leeway).
void WebSocketSession::arm_expiry() {
  if (!who_.exp) return;
  // Whole seconds, as exp is; at most a year ahead (the timer is re-armed if it gets there).
  const std::int64_t left = *who_.exp + parts_->opts.jwt_leeway.count() - now_ms() / 1000;
  constexpr std::int64_t kYear = 366LL * 24 * 3600;
  if (left > kYear) {
    expiry_timer_.expires_after(std::chrono::seconds(kYear));
    expiry_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec && !self->ended_ && !self->close_started_) self->arm_expiry();
    });
    return;
  }
  expiry_timer_.expires_after(std::chrono::seconds(std::max<std::int64_t>(0, left)));
  expiry_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->ended_ || self->close_started_) return;
    self->parts_->counters.security.token_expired_closes.fetch_add(1);
    self->do_close(websocket::close_code::policy_error, "token expired");
  });
}

void WebSocketSession::end() {
  if (ended_) return;
  ended_ = true;
  {
    std::lock_guard lk(mu_);
    closing_ = true;
    queue_.clear();
  }
  tick_timer_.cancel();
  close_timer_.cancel();
  expiry_timer_.cancel();
  if (handler_) handler_->on_closed();
  parts_->hub.disconnect(this);
}

}  // namespace gs
