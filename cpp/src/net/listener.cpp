#include "goldensignals/net/listener.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>

#include "goldensignals/core/errors.hpp"

namespace gs {

namespace {
std::string where(const tcp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}
}  // namespace

Listener::Listener(asio::io_context& ioc, const tcp::endpoint& ep, OnAccept on_accept,
                   std::size_t threads)
    : ioc_(ioc),
      // One thread serializes the acceptor's handlers as it does the connections'.
      acceptor_(threads > 1 ? asio::any_io_executor(asio::make_strand(ioc))
                            : asio::any_io_executor(ioc.get_executor())),
      backoff_(acceptor_.get_executor()),
      on_accept_(std::move(on_accept)),
      strands_(threads > 1) {
  error_code ec;
  auto check = [&](const char* step) {
    if (ec) {
      throw Error("cannot listen on " + where(ep) + ": " + step + " failed: " + ec.message() +
                  (ec == asio::error::address_in_use ? " (another process holds the port; pick "
                                                       "another port, or 0 for a free one)"
                                                     : ""));
    }
  };
  acceptor_.open(ep.protocol(), ec);
  check("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);  // restart during TIME_WAIT
  check("setsockopt");
  acceptor_.bind(ep, ec);
  check("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  check("listen");
  port_ = acceptor_.local_endpoint(ec).port();
}

void Listener::run() {
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void Listener::stop() {
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    error_code ignored;
    self->acceptor_.close(ignored);
    self->backoff_.cancel();
  });
}

void Listener::do_accept() {
  auto handler = [self = shared_from_this()](error_code ec, tcp::socket s) {
    self->on_accept(ec, std::move(s));
  };
  if (strands_) {
    acceptor_.async_accept(asio::make_strand(ioc_), std::move(handler));
  } else {
    acceptor_.async_accept(ioc_.get_executor(), std::move(handler));
  }
}

void Listener::on_accept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (!ec) {
    on_accept_(std::move(socket));
    return do_accept();
  }
  // Out of descriptors and the like: retry shortly instead of spinning on the error.
  backoff_.expires_after(std::chrono::milliseconds(50));
  backoff_.async_wait([self = shared_from_this()](error_code wec) {
    if (!wec && self->acceptor_.is_open()) self->do_accept();
  });
}

}  // namespace gs
