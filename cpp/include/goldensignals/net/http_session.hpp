// One plain HTTP connection: reads requests (with body, header and time limits), answers
// them, and hands a WebSocket upgrade to a WebSocketSession.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <optional>

#include "goldensignals/net/net.hpp"

namespace gs {

struct ServerContext;
struct HttpReply;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<ServerContext> ctx);
  void run();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void do_read();
  void on_read(error_code ec, std::size_t n);
  void upgrade(Request req);
  void do_write(Response res);
  void on_write(bool keep_alive, error_code ec, std::size_t n);
  void do_close();
  Response make_response(const Request& req, const HttpReply& r) const;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<ServerContext> ctx_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<Response> writing_;  // alive until its async_write completes
};

}  // namespace gs
