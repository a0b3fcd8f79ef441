// Accepts TCP connections and hands each one to `on_accept`, on its own strand when several
// threads run the io_context (a connection's handlers never run concurrently), else on the
// io_context's executor, which one thread already serializes (no strand to allocate per
// connection, and none to pass each accept through).
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
  // `threads`: how many threads run `ioc`.
  Listener(asio::io_context& ioc, const tcp::endpoint& ep, OnAccept on_accept,
           std::size_t threads = 1);

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
  bool strands_;
  std::uint16_t port_ = 0;
};

}  // namespace gs
