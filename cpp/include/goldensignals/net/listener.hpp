// Accepts TCP connections and hands each one, on its own strand, to `on_accept`.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>

#include "goldensignals/net/net.hpp"

namespace gs {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using OnAccept = std::function<void(tcp::socket)>;

  // Opens, binds and listens now; throws gs::Error naming host:port if that fails.
  Listener(asio::io_context& ioc, const tcp::endpoint& ep, OnAccept on_accept);

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  void run();   // starts accepting
  void stop();  // stops accepting; thread-safe

 private:
  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_;  // pauses accepting after an error such as too many open files
  OnAccept on_accept_;
  std::uint16_t port_ = 0;
};

}  // namespace gs
