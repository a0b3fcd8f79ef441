// One WebSocket client: its own strand, one write in flight, a bounded send queue in which a
// newer price_update replaces an unsent one of the same symbol; a client whose queue overflows
// is closed with 1008 and nobody else waits for it. Queued messages leave in batches, up to
// kBatch frames per gather write (net/gather_stream.hpp) over plain TCP, each frame (header and
// payload in one buffer) made once per message for all its recipients; under TLS one frame per
// Beast write.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
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
#include "goldensignals/net/net.hpp"
#include "goldensignals/net/net_stream.hpp"
#include "goldensignals/net/security.hpp"

namespace gs {

struct WebSocketParts;
class ClientHandler;

// The server's window bits of the permessage-deflate in a handshake response's
// Sec-WebSocket-Extensions (15 unless it says server_max_window_bits=N); 0 when absent.
int negotiated_deflate_bits(std::string_view extensions);

class WebSocketSession final : public Subscriber,
                               public std::enable_shared_from_this<WebSocketSession> {
 public:
  // The caller has reserved a connection slot (counters.connections_active) and the client
  // address's slot (`ip_slot`); we release both. `who`: the verified token's claims.
  WebSocketSession(NetStream&& stream, std::shared_ptr<const WebSocketParts> parts,
                   std::optional<std::string> symbol, WireFormat format, Principal who = {},
                   IpTable::Slot ip_slot = {});
  ~WebSocketSession() override;

  // Completes the upgrade of `req`, then welcomes the client and starts reading.
  void run(boost::beast::http::request<boost::beast::http::string_body> req);

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

  void on_accept(error_code ec);
  void do_read();
  void on_read(error_code ec, std::size_t n);
  void do_write();
  void on_write(error_code ec);
  void batch_sent();  // writing_ is on the socket: counted and cleared
  void do_close(std::uint16_t code, std::string reason);
  void on_close(error_code ec);
  void do_tick();
  void on_tick(error_code ec);
  void end();
  void arm_expiry();

  static constexpr std::size_t kBatch = 128;  // frames per gather write, at most

  boost::beast::websocket::stream<NetStream> ws_;
  asio::any_io_executor strand_;  // a copy of the stream's strand, for posting from any thread
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<const WebSocketParts> parts_;
  std::optional<std::string> symbol_;  // from /ws/symbols/{symbol}
  const WireFormat format_;
  // permessage-deflate as negotiated in the handshake: the server's window bits (0: none).
  int deflate_bits_ = 0;
  std::unique_ptr<ClientHandler> handler_;  // set in run(), before anyone else sees us
  Principal who_;
  IpTable::Slot ip_slot_;
  asio::steady_timer tick_timer_;    // ping and idle check every heartbeat interval
  asio::steady_timer close_timer_;   // drops the socket if the close handshake stalls
  asio::steady_timer expiry_timer_;  // closes with 1008 when the token expires

  std::mutex mu_;                  // guards the three below, never held across I/O
  std::vector<MessagePtr> queue_;  // unsent messages, at most message_queue_size
  bool write_scheduled_ = false;   // a do_write is posted or a write is in flight
  bool closing_ = false;           // no more messages are accepted

  // Strand-only state.
  std::vector<MessagePtr> writing_;         // the batch in flight (keeps its payloads alive)
  std::vector<asio::const_buffer> frames_;  // its frames, one buffer each
  bool open_ = false, close_started_ = false, ping_pending_ = false, ended_ = false;
  Clock::time_point last_rx_ = Clock::now();  // any frame from the client, pongs included
};

}  // namespace gs
