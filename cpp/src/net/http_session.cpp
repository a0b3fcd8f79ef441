#include "goldensignals/net/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "goldensignals/net/http_routes.hpp"
#include "goldensignals/net/security.hpp"
#include "goldensignals/net/server_parts.hpp"
#include "goldensignals/net/websocket_session.hpp"
#include "goldensignals/net/ws_wire.hpp"

namespace gs {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
NetStream make_stream(tcp::socket socket, const AccessControl& access) {
  if (auto* tls = access.tls()) return NetStream(std::move(socket), *tls);
  return NetStream(std::move(socket));
}

// An address as text: IPv4, nearly every client, without inet_ntop and its printf.
std::string address_text(const boost::asio::ip::address& a) {
  if (!a.is_v4()) return a.to_string();
  std::string out;
  for (const unsigned b : a.to_v4().to_bytes()) {
    if (!out.empty()) out += '.';
    if (b >= 100) out += static_cast<char>('0' + b / 100);
    if (b >= 10) out += static_cast<char>('0' + b / 10 % 10);
    out += static_cast<char>('0' + b % 10);
  }
  return out;
}
}  // namespace

HttpSession::HttpSession(tcp::socket socket, std::shared_ptr<const HttpParts> parts)
    : executor_(socket.get_executor()),
      stream_(make_stream(std::move(socket), parts->access)),
      parts_(std::move(parts)) {
  error_code ec;
  const auto ep = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? std::string("unknown") : address_text(ep.address());
}

HttpSession::~HttpSession() {
  if (tick_slot_ != Ticker::kNoSlot) parts_->ticker.remove(tick_slot_);
}

void HttpSession::run() {
  asio::dispatch(executor_, [self = shared_from_this()] {
    self->tick_slot_ = self->parts_->ticker.add(std::weak_ptr<Ticker::Due>(self), &self->deadline_);
    if (!self->stream_.is_tls()) return self->do_read();
    // The TLS handshake gets handshake_timeout, then the first request gets its own.
    self->expires_after(self->parts_->opts.handshake_timeout);
    self->stream_.tls().async_handshake(asio::ssl::stream_base::server,
                                        [self](error_code ec) { self->on_handshake(ec); });
  });
}

void HttpSession::expires_after(Clock::duration after) {
  expires_ = after == Clock::duration::max() ? Clock::time_point::max() : Clock::now() + after;
  Ticker::set(deadline_, expires_);
}

void HttpSession::due() noexcept {
  Ticker::hand_over(executor_, deadline_, [self = shared_from_this()] { self->on_deadline(); });
}

void HttpSession::on_deadline() {
  if (Clock::now() < expires_) {  // moved on meanwhile: watch the new time
    Ticker::set(deadline_, expires_);
    return;
  }
  // What is under way ends with operation_aborted; its handler sees timed_out_.
  timed_out_ = true;
  error_code ignored;
  stream_.socket().close(ignored);
}

void HttpSession::on_handshake(error_code ec) {
  if (timed_out_) {  // even if it succeeded meanwhile: the ticker has closed the socket
    parts_->counters.security.handshake_timeouts.fetch_add(1);
    if (parts_->log.enabled(10)) parts_->log(10, "TLS handshake with " + peer_ + " timed out");
    return;
  }
  if (ec) {
    if (parts_->log.enabled(10))
      parts_->log(10, "TLS handshake with " + peer_ + " failed: " + ec.message());
    return;
  }
  do_read();
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->body_limit(parts_->opts.http_body_limit);
  parser_->header_limit(static_cast<std::uint32_t>(parts_->opts.http_header_limit));
  // A connection gets handshake_timeout for its first request (a client that opens TCP and
  // never upgrades, or trickles its headers, is let go); a kept-alive one read_timeout.
  expires_after(requests_ == 0 ? parts_->opts.handshake_timeout : parts_->opts.read_timeout);
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void HttpSession::on_read(error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream) return do_close();
  if (timed_out_) {
    if (requests_ == 0) parts_->counters.security.handshake_timeouts.fetch_add(1);
    return;
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    parts_->counters.security.http_too_large.fetch_add(1);
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
  ++requests_;
  if (beast::websocket::is_upgrade(req)) return upgrade(std::move(req));
  parts_->counters.http_requests.fetch_add(1);
  const auto reply =
      route_http(parts_->routes, std::string_view(req.method_string()),
                 std::string_view(req.target()), std::string_view(req[http::field::authorization]),
                 CacheHeaders{std::string_view(req[http::field::if_none_match]),
                              std::string_view(req[http::field::if_modified_since])});
  do_write(make_response(req, reply));
}

HttpSession::UpgradeHeaders::UpgradeHeaders(const Request& req) {
  const std::pair<http::field, std::string_view*> wanted[] = {
      {http::field::host, &host},
      {http::field::origin, &origin},
      {http::field::sec_websocket_key, &key},
      {http::field::sec_websocket_version, &version},
      {http::field::sec_websocket_extensions, &extensions},
      {http::field::authorization, &authorization}};
  for (const auto& f : req) {
    for (const auto& [name, value] : wanted) {
      if (f.name() == name && value->data() == nullptr) *value = std::string_view(f.value());
    }
  }
}

std::optional<HttpReply> HttpSession::gate(const UpgradeHeaders& h, const WsTarget& target,
                                           Principal& who, IpTable::Slot& slot) {
  auto refuse = [&](int status, Refusal why, const std::string& message) {
    parts_->counters.security.count(why);
    if (parts_->log.enabled(20)) {
      parts_->log(20, "upgrade from " + peer_ + " refused with " + std::to_string(status) + " (" +
                          std::string(refusal_name(why)) + ")");
    }
    HttpReply r{status, "application/json", json_error(refusal_name(why), message), {}};
    if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    if (status == 429) r.headers.emplace_back("Retry-After", "5");
    return r;
  };
  if (!parts_->access.origin_allowed(h.origin, h.host, stream_.is_tls())) {
    return refuse(403, Refusal::ForbiddenOrigin,
                  "origin '" + std::string(h.origin) +
                      "' is not allowed here (GS_ALLOWED_ORIGINS); open the dashboard this server "
                      "serves, or ask its operator to allow your origin");
  }
  // A token that is present is always verified when the server has a key, auth required or not.
  const auto token =
      target.token.empty() ? std::string(bearer_token(h.authorization)) : target.token;
  auto r = parts_->access.check(token);
  if (!r.ok) return refuse(401, refusal_for(r.reason), r.message);
  who = std::move(r.principal);
  slot = parts_->gate.hold_address(peer_);
  if (!slot) {
    return refuse(429, Refusal::TooManyPerIp,
                  peer_ + " already has " + std::to_string(parts_->gate.max_per_address()) +
                      " WebSocket connections, the limit per address "
                      "(WS_MAX_CONNECTIONS_PER_IP)");
  }
  return std::nullopt;
}

void HttpSession::upgrade(Request req) {
  const auto target = parse_ws_target(std::string_view(req.target()));
  HttpReply refusal;
  Principal who;
  IpTable::Slot slot;
  const UpgradeHeaders h(req);
  if (h.version != "13") {
    refusal = HttpReply{
        426,
        "application/json",
        json_error("bad_upgrade", "Sec-WebSocket-Version '" + std::string(h.version.substr(0, 64)) +
                                      "' is not supported; this server speaks version 13"),
        {{"Sec-WebSocket-Version", "13"}, {"Upgrade", "websocket"}}};
  } else if (h.host.empty()) {
    refusal = HttpReply{400,
                        "application/json",
                        json_error("bad_upgrade", "the upgrade request has no Host header"),
                        {}};
  } else if (!ws::valid_key(h.key)) {
    refusal = HttpReply{
        400,
        "application/json",
        json_error("bad_upgrade", "Sec-WebSocket-Key '" + std::string(h.key.substr(0, 64)) +
                                      "' is not 16 bytes in base64"),
        {}};
  } else if (!target.ok) {
    refusal =
        HttpReply{target.status, "application/json", json_error("bad_upgrade", target.error), {}};
  } else if (parts_->gate.stopping()) {
    refusal = HttpReply{
        503, "application/json", json_error("stopping", "the server is shutting down"), {}};
  } else if (auto r = gate(h, target, who, slot)) {
    refusal = std::move(*r);
  } else if (const auto accept = ws::accept_key(h.key); !accept) {
    refusal = HttpReply{500,
                        "application/json",
                        json_error("internal_error",
                                   "this server cannot answer the upgrade: OpenSSL gives it no "
                                   "SHA-1 for Sec-WebSocket-Accept"),
                        {}};
  } else {
    if (!parts_->gate.open_connection()) {
      refusal = HttpReply{503,
                          "application/json",
                          json_error("too_many_connections",
                                     "the server is at its connection limit (" +
                                         std::to_string(parts_->gate.max_connections()) + ")"),
                          {{"Retry-After", "5"}}};
    } else {
      // The WebSocket session keeps its own deadlines.
      expires_after(Clock::duration::max());
      parts_->ticker.remove(std::exchange(tick_slot_, Ticker::kNoSlot));
      std::optional<ws::Deflate> deflate;
      if (parts_->opts.compression) {
        deflate = ws::negotiate_deflate(h.extensions, parts_->opts.compression_window_bits);
      }
      std::string response =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: " +
          *accept + "\r\nServer: goldensignals/" GS_VERSION "\r\n";
      if (deflate) response += "Sec-WebSocket-Extensions: " + deflate->response + "\r\n";
      response += "\r\n";
      // A client may send its first frames right behind the request.
      const auto early = buffer_.cdata();
      const std::string_view early_bytes(static_cast<const char*>(early.data()), early.size());
      std::make_shared<WebSocketSession>(std::move(stream_), share_part(parts_, parts_->websocket),
                                         target.format, std::move(deflate), std::move(slot))
          ->run(std::move(who), target.symbol, std::move(response), early_bytes);
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
  expires_after(parts_->opts.read_timeout);
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
  if (stream_.is_tls()) {
    // close_notify, then the socket closes with this session (bounded by read_timeout).
    stream_.tls().async_shutdown([self = shared_from_this()](error_code) {});
    return;
  }
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace gs
