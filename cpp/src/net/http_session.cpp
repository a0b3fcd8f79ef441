#include "goldensignals/net/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "goldensignals/net/context.hpp"
#include "goldensignals/net/http_routes.hpp"
#include "goldensignals/net/websocket_session.hpp"

namespace gs {

namespace beast = boost::beast;
namespace http = beast::http;

HttpSession::HttpSession(tcp::socket socket, std::shared_ptr<ServerContext> ctx)
    : stream_(std::move(socket)), ctx_(std::move(ctx)) {}

void HttpSession::run() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->body_limit(ctx_->opts.http_body_limit);
  parser_->header_limit(static_cast<std::uint32_t>(ctx_->opts.http_header_limit));
  stream_.expires_after(ctx_->opts.read_timeout);  // an idle or trickling client is let go
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void HttpSession::on_read(error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream) return do_close();
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    HttpReply r{ec == http::error::body_limit ? 413 : 431,
                "application/json",
                json_error("too_large", "the request is larger than this server accepts"),
                {}};
    Request req;
    req.version(11);
    auto res = make_response(req, r);
    res.keep_alive(false);
    return do_write(std::move(res));
  }
  if (ec) return;  // timeout or reset: the stream closes with this session
  Request req = parser_->release();
  if (beast::websocket::is_upgrade(req)) return upgrade(std::move(req));
  ctx_->counters.http_requests.fetch_add(1);
  const auto reply =
      route_http(*ctx_, std::string_view(req.method_string()), std::string_view(req.target()));
  do_write(make_response(req, reply));
}

void HttpSession::upgrade(Request req) {
  const auto target = parse_ws_target(std::string_view(req.target()));
  HttpReply refusal;
  if (!target.ok) {
    refusal =
        HttpReply{target.status, "application/json", json_error("bad_upgrade", target.error), {}};
  } else if (ctx_->stopping.load()) {
    refusal = HttpReply{
        503, "application/json", json_error("stopping", "the server is shutting down"), {}};
  } else {
    // Reserve a slot first, so concurrent upgrades can never overshoot the limit.
    const auto before = ctx_->counters.connections_active.fetch_add(1);
    if (before >= ctx_->opts.max_connections) {
      ctx_->counters.connections_active.fetch_sub(1);
      ctx_->counters.connections_rejected.fetch_add(1);
      refusal = HttpReply{
          503,
          "application/json",
          json_error("too_many_connections", "the server is at its connection limit (" +
                                                 std::to_string(ctx_->opts.max_connections) + ")"),
          {{"Retry-After", "5"}}};
    } else {
      stream_.expires_never();  // the WebSocket session sets its own timeouts
      std::make_shared<WebSocketSession>(std::move(stream_), ctx_, target.symbol, target.msgpack)
          ->run(std::move(req));
      return;
    }
  }
  auto res = make_response(req, refusal);
  res.keep_alive(false);
  do_write(std::move(res));
}

HttpSession::Response HttpSession::make_response(const Request& req, const HttpReply& r) const {
  Response res{static_cast<http::status>(r.status), req.version()};
  res.set(http::field::server, "goldensignals/" GS_VERSION);
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(req.keep_alive());
  res.body() = r.body;
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();  // the length stays announced
  return res;
}

void HttpSession::do_write(Response res) {
  const bool keep_alive = res.keep_alive();
  writing_ = std::make_shared<Response>(std::move(res));
  stream_.expires_after(ctx_->opts.read_timeout);
  http::async_write(stream_, *writing_,
                    [self = shared_from_this(), keep_alive](error_code ec, std::size_t n) {
                      self->on_write(keep_alive, ec, n);
                    });
}

void HttpSession::on_write(bool keep_alive, error_code ec, std::size_t) {
  writing_.reset();
  if (ec) return;
  if (!keep_alive) return do_close();
  do_read();
}

void HttpSession::do_close() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace gs
