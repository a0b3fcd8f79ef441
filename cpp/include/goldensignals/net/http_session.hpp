// One HTTP connection (plain or TLS): reads requests (with body, header and time limits), answers
// them, and hands a WebSocket upgrade to a WebSocketSession.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <optional>

#include "goldensignals/net/auth.hpp"
#include "goldensignals/net/net.hpp"
#include "goldensignals/net/net_stream.hpp"
#include "goldensignals/net/security.hpp"

namespace gs {

struct HttpParts;
struct HttpReply;
struct WsTarget;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<const HttpParts> parts);
  void run();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void on_handshake(error_code ec);
  void do_read();
  void on_read(error_code ec, std::size_t n);
  void upgrade(Request req);
  // Origin, token and per-address checks of an upgrade: the refusal, or nullopt with the
  // token's claims in `who` and the address's slot held in `slot`.
  std::optional<HttpReply> gate(const Request& req, const WsTarget& target, Principal& who,
                                IpTable::Slot& slot);
  void do_write(Response res);
  void on_write(bool keep_alive, error_code ec, std::size_t n);
  void do_close();
  Response make_response(const Request& req, const HttpReply& r) const;

  NetStream stream_;  // plain TCP, or TLS when the server has a certificate
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<const HttpParts> parts_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<Response> writing_;  // alive until its async_write completes
  std::string peer_;                   // the client's address
  std::size_t requests_ = 0;           // requests read on this connection
};

}  // namespace gs
