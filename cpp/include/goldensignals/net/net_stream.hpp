// One stream type for a connection that is plain TCP or TLS, decided when it is accepted, so
// the HTTP and WebSocket sessions are written once. Plain TCP goes through GatherStream (its
// batched frame writes); TLS is Beast's ssl_stream over a tcp_stream.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "goldensignals/net/gather_stream.hpp"

namespace gs {

class NetStream {
 public:
  using tls_type = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  using executor_type = boost::beast::tcp_stream::executor_type;

  explicit NetStream(boost::beast::tcp_stream&& s) : plain_(std::in_place, std::move(s)) {}
  NetStream(boost::beast::tcp_stream&& s, boost::asio::ssl::context& tls)
      : tls_(std::make_unique<tls_type>(std::move(s), tls)) {}

  [[nodiscard]] bool is_tls() const noexcept { return tls_ != nullptr; }
  tls_type& tls() noexcept { return *tls_; }
  // The batched frame writer, for plain TCP only (null under TLS).
  GatherStream* gather() noexcept { return plain_ ? &*plain_ : nullptr; }

  executor_type get_executor() noexcept {
    return tls_ ? tls_->get_executor() : plain_->get_executor();
  }
  // The TCP stream (Beast's get_lowest_layer reaches it through this).
  boost::beast::tcp_stream& next_layer() noexcept {
    return tls_ ? tls_->next_layer() : plain_->next_layer();
  }
  const boost::beast::tcp_stream& next_layer() const noexcept {
    return tls_ ? tls_->next_layer() : plain_->next_layer();
  }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& b, Handler&& h) {
    if (tls_) {
      tls_->async_read_some(b, std::forward<Handler>(h));
    } else {
      plain_->async_read_some(b, std::forward<Handler>(h));
    }
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& b, Handler&& h) {
    if (tls_) {
      tls_->async_write_some(b, std::forward<Handler>(h));
    } else {
      plain_->async_write_some(b, std::forward<Handler>(h));
    }
  }

  // The WebSocket close: TLS sends close_notify first; plain TCP shuts the socket down.
  friend void teardown(boost::beast::role_type role, NetStream& s, boost::system::error_code& ec) {
    using boost::beast::websocket::teardown;
    if (s.tls_) {
      teardown(role, *s.tls_, ec);
    } else {
      teardown(role, *s.plain_, ec);
    }
  }
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, NetStream& s, Handler&& h) {
    using boost::beast::websocket::async_teardown;
    if (s.tls_) {
      async_teardown(role, *s.tls_, std::forward<Handler>(h));
    } else {
      async_teardown(role, *s.plain_, std::forward<Handler>(h));
    }
  }

 private:
  std::optional<GatherStream> plain_;  // plain TCP
  std::unique_ptr<tls_type> tls_;      // or TLS over TCP
};

}  // namespace gs
