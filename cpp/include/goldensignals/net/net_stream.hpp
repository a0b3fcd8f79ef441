// One stream type for an HTTP connection that is plain TCP or TLS, decided when it is accepted,
// so the HTTP session is written once: a TCP socket, or Beast's ssl_stream over one. Its
// deadlines are the server's ticker's (net/ticker.hpp), not timers of its own. An upgrade to
// WebSocket takes the socket (or the TLS stream) out of it.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "goldensignals/net/net.hpp"

namespace gs {

class NetStream {
 public:
  using tls_type = boost::beast::ssl_stream<tcp::socket>;
  using executor_type = tcp::socket::executor_type;

  explicit NetStream(tcp::socket&& s) : plain_(std::in_place, std::move(s)) {}
  NetStream(tcp::socket&& s, boost::asio::ssl::context& tls)
      : tls_(std::make_unique<tls_type>(std::move(s), tls)) {}

  [[nodiscard]] bool is_tls() const noexcept { return tls_ != nullptr; }
  tls_type& tls() noexcept { return *tls_; }
  // For the upgrade: the TLS stream (null over plain TCP) or else the socket, taken out.
  std::unique_ptr<tls_type> release_tls() noexcept { return std::move(tls_); }
  tcp::socket release_socket() { return std::move(*plain_); }

  executor_type get_executor() noexcept {
    return tls_ ? tls_->get_executor() : plain_->get_executor();
  }
  // The TCP socket, under TLS or not.
  tcp::socket& socket() noexcept { return tls_ ? tls_->next_layer() : *plain_; }

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

 private:
  std::optional<tcp::socket> plain_;  // plain TCP
  std::unique_ptr<tls_type> tls_;     // or TLS over TCP
};

}  // namespace gs
