// One HTTP connection (plain or TLS): reads requests (with body, header and time limits), answers
// them, and hands a WebSocket upgrade to a WebSocketSession. Its time limits are deadlines the
// server's ticker watches, as the WebSocket sessions' are.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include "goldensignals/net/auth.hpp"
#include "goldensignals/net/net.hpp"
#include "goldensignals/net/net_stream.hpp"
#include "goldensignals/net/security.hpp"
#include "goldensignals/net/ticker.hpp"

namespace gs {

struct HttpParts;
struct HttpReply;
struct WsTarget;

class HttpSession final : public std::enable_shared_from_this<HttpSession>, public Ticker::Due {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<const HttpParts> parts);
  ~HttpSession();
  void run();
  void due() noexcept override;

 private:
  using Clock = std::chrono::steady_clock;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void on_handshake(error_code ec);
  void do_read();
  void on_read(error_code ec, std::size_t n);
  // The headers an upgrade reads, each the first of its name, found in one pass over the
  // request (a lookup by name walks Beast's field set with case-blind compares).
  struct UpgradeHeaders {
    explicit UpgradeHeaders(const Request& req);
    std::string_view host, origin, key, version, extensions, authorization;
  };

  void upgrade(Request req);
  // Origin, token and per-address checks of an upgrade: the refusal, or nullopt with the
  // token's claims in `who` and the address's slot held in `slot`.
  std::optional<HttpReply> gate(const UpgradeHeaders& h, const WsTarget& target, Principal& who,
                                IpTable::Slot& slot);
  void do_write(Response res);
  void on_write(bool keep_alive, error_code ec, std::size_t n);
  void do_close();
  Response make_response(const Request& req, const HttpReply& r) const;
  // The connection is closed `after` from now unless a later call moves the time (never: with
  // Clock::duration::max()).
  void expires_after(Clock::duration after);
  void on_deadline();

  // The connection's executor, kept apart from the stream: the ticker's thread reads it while
  // an upgrade may be moving the stream out.
  const asio::any_io_executor executor_;
  NetStream stream_;  // plain TCP, or TLS when the server has a certificate
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<const HttpParts> parts_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<Response> writing_;                     // alive until its async_write completes
  std::string peer_;                                      // the client's address
  std::size_t requests_ = 0;                              // requests read on this connection
  Clock::time_point expires_ = Clock::time_point::max();  // the I/O under way ends by then
  Ticker::Deadline deadline_{Ticker::kNever};             // expires_, for the ticker
  std::size_t tick_slot_ = Ticker::kNoSlot;
  bool timed_out_ = false;  // the ticker closed the connection
};

}  // namespace gs
