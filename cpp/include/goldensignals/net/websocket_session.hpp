// One WebSocket client: its own strand, one write in flight, a bounded send queue in which a
// newer price_update replaces an unsent one of the same symbol; a client whose queue overflows
// is closed with 1008 and nobody else waits for it. Queued messages leave in batches, up to
// kBatch frames per gather write (net/gather_writer.hpp), each frame (header and payload in one
// buffer) made once per message for all its recipients, with the session's own control frames
// (the upgrade's 101, pings, pongs, the close) ahead of them.
//
// The WebSocket protocol is the server's own (net/ws_wire.hpp), so a quiet connection holds
// no buffer: over plain TCP the session waits until the socket is readable and reads into the
// network thread's scratch buffer; its heartbeats, close handshake and token expiry are
// deadlines the server's one ticker watches (net/ticker.hpp). Under TLS it reads into a
// buffer of its own.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "goldensignals/broadcast/message.hpp"
#include "goldensignals/net/auth.hpp"
#include "goldensignals/net/gather_writer.hpp"
#include "goldensignals/net/net.hpp"
#include "goldensignals/net/net_stream.hpp"
#include "goldensignals/net/security.hpp"
#include "goldensignals/net/ticker.hpp"
#include "goldensignals/net/ws_wire.hpp"

namespace gs {

struct WebSocketParts;
class ClientHandler;

class WebSocketSession final : public Subscriber,
                               public Ticker::Due,
                               private ws::Reader::Sink,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  // The caller has reserved a connection slot (counters.connections_active) and the client
  // address's slot (`ip_slot`); we release both.
  // `stream`: the upgraded connection; `deflate`: permessage-deflate if the upgrade agreed it.
  WebSocketSession(NetStream&& stream, std::shared_ptr<const WebSocketParts> parts,
                   WireFormat format, std::optional<ws::Deflate> deflate,
                   IpTable::Slot ip_slot = {});
  ~WebSocketSession() override;

  // Sends `response` (the 101), then welcomes the client (`who`: the verified token's claims;
  // `symbol`: from /ws/symbols/{symbol}) and starts reading: first `early`, the bytes that came
  // after the upgrade request, then the socket. Call on the connection's executor.
  void run(Principal who, std::optional<std::string> symbol, std::string response,
           std::string_view early);

  // Thread-safe; never block on I/O.
  SendStatus send(MessagePtr m) override;
  std::size_t send_burst(std::span<const MessagePtr> burst) override;
  void close(std::uint16_t code, std::string reason) override;
  [[nodiscard]] std::string client_id() const override;

 private:
  using Clock = std::chrono::steady_clock;

  struct Queued {
    std::size_t accepted = 0;
    SendStatus last = SendStatus::Queued;  // of the last message tried
  };
  // Queues the messages in order under one lock, stopping at the first one refused.
  Queued enqueue(std::span<const MessagePtr> burst);

  tcp::socket& socket();
  void do_read();
  void on_readable(error_code ec);
  void on_read(error_code ec, std::size_t n);  // TLS: `n` bytes in tls_buffer_
  // Reads `bytes`; false once reading has stopped.
  bool consume(std::span<char> bytes);
  void on_message(bool text, std::string_view data) override;
  void on_ping(std::string_view payload) override;
  void on_pong() override;
  void on_close(std::uint16_t code, std::string_view reason) override;

  void do_write();
  void on_write(error_code ec);
  void batch_sent();  // writing_ is on the socket: counted and cleared
  void trim();        // idle: the batch vectors' memory released
  void do_close(std::uint16_t code, std::string reason);
  void drop();  // closes the socket: every pending operation ends
  void set_expiry();
  void arm_timer();  // the next deadline, to the ticker
  void due() noexcept override;
  void on_timer();
  void end();

  static constexpr std::size_t kBatch = 128;  // frames per gather write, at most

  // Plain TCP; under TLS unused but for its executor. Its executor is the connection's: posts
  // from other threads go there.
  tcp::socket socket_;
  GatherWriter writer_{socket_};              // its batched frame writes
  std::unique_ptr<NetStream::tls_type> tls_;  // or TLS
  std::unique_ptr<char[]> tls_buffer_;        // TLS only: what a read lands in
  std::shared_ptr<const WebSocketParts> parts_;
  const WireFormat format_;
  // permessage-deflate as agreed in the upgrade: the server's window bits (0: none).
  const int deflate_bits_;
  ws::Reader reader_;
  std::unique_ptr<ClientHandler> handler_;  // set in run(), before anyone else sees us
  std::optional<std::int64_t> exp_;         // the token's expiry (seconds since the epoch)
  IpTable::Slot ip_slot_;
  // Heartbeats (a ping, and the idle check), the close handshake's limit and the token's
  // expiry: the ticker watches whichever is next.
  Ticker::Deadline deadline_{Ticker::kNever};
  std::size_t tick_slot_ = Ticker::kNoSlot;
  Clock::time_point next_tick_{}, close_deadline_ = Clock::time_point::max();
  Clock::time_point expiry_ = Clock::time_point::max();

  std::mutex mu_;                  // guards the three below, never held across I/O
  std::vector<MessagePtr> queue_;  // unsent messages, at most message_queue_size
  bool write_scheduled_ = false;   // a do_write is posted or a write is in flight
  bool closing_ = false;           // no more messages are accepted

  // Strand-only state.
  std::string control_;                      // control frames not yet written, in order
  std::size_t pong_at_ = std::string::npos;  // where in control_ an unsent pong is
  std::string control_writing_;              // those in the write in flight
  std::vector<MessagePtr> writing_;          // the batch in flight (keeps its payloads alive)
  std::vector<asio::const_buffer> frames_;   // its frames, one buffer each
  bool in_flight_ = false;                   // a write is on the socket
  bool close_sent_ = false, read_done_ = false, ended_ = false, expiry_final_ = true;
  // The close handshake is over once what is queued is written: then the socket is shut down
  // for sending, and read until the client closes it (or the close deadline).
  bool shutdown_after_write_ = false, shut_ = false;
  Clock::time_point last_rx_ = Clock::now();  // any bytes from the client, pongs included
};

}  // namespace gs
