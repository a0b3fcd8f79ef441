// A small test client for the server: Beast's WebSocket client, every read bounded in time.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace gs::test {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;
using json = nlohmann::json;

class WsClient {
 public:
  // Connects and upgrades; rcvbuf > 0 shrinks the socket's receive buffer (a slow reader).
  explicit WsClient(std::uint16_t port, const std::string& target = "/ws/signals", int rcvbuf = 0)
      : ws_(ioc_) {
    auto& sock = beast::get_lowest_layer(ws_).socket();
    sock.open(tcp::v4());
    if (rcvbuf > 0) sock.set_option(boost::asio::socket_base::receive_buffer_size(rcvbuf));
    sock.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    ws_.handshake(response_, "127.0.0.1:" + std::to_string(port), target, ec_);
  }

  [[nodiscard]] bool ok() const { return !ec_; }
  [[nodiscard]] const websocket::response_type& response() const { return response_; }
  websocket::stream<beast::tcp_stream>& ws() { return ws_; }

  void send(const std::string& text) {
    ws_.text(true);
    ws_.write(boost::asio::buffer(text));
  }
  void send_binary(const std::string& bytes) {
    ws_.binary(true);
    ws_.write(boost::asio::buffer(bytes));
  }

  // The next frame's payload, or nullopt on close/error/timeout (then error() says which).
  std::optional<std::string> read_raw(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    buffer_.clear();
    bool done = false;
    ws_.async_read(buffer_, [&](beast::error_code ec, std::size_t) {
      ec_ = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run_for(limit);
    if (!done) {
      beast::get_lowest_layer(ws_).cancel();  // a bounded wait: give up the read
      ioc_.restart();
      ioc_.run_for(std::chrono::seconds(1));
      timed_out_ = true;
      return std::nullopt;
    }
    if (ec_) return std::nullopt;
    last_binary_ = ws_.got_binary();
    return beast::buffers_to_string(buffer_.data());
  }

  // The next message as JSON (MessagePack when binary).
  std::optional<json> read(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto raw = read_raw(limit);
    if (!raw) return std::nullopt;
    if (last_binary_) return json::from_msgpack(*raw);
    return json::parse(*raw);
  }

  // Reads until a message of `type` arrives (others are skipped); nullopt if none in time.
  std::optional<json> read_until(const std::string& type,
                                 std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      auto m = read(std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now()));
      if (!m) return std::nullopt;
      if ((*m)["type"] == type) return m;
    }
    return std::nullopt;
  }

  // Reads until the server closes; returns its close code (0 if no close frame came in time).
  int read_until_closed(std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (!read_raw(std::chrono::duration_cast<std::chrono::milliseconds>(
              end - std::chrono::steady_clock::now()))) {
        // The close frame arrived (reason set) even if the TCP teardown after it failed.
        return ws_.reason().code;
      }
    }
    return 0;
  }

  [[nodiscard]] beast::error_code error() const { return ec_; }
  [[nodiscard]] bool last_binary() const { return last_binary_; }

 private:
  boost::asio::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  beast::error_code ec_;
  bool last_binary_ = false;
  bool timed_out_ = false;
};

struct HttpResult {
  int status = 0;
  std::string head;
  std::string body;
};

// One HTTP/1.1 request with "Connection: close"; reads to EOF (the server's timeouts bound it).
inline HttpResult http_get(std::uint16_t port, const std::string& target,
                           const std::string& method = "GET") {
  boost::asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  const std::string req =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  std::string all;
  beast::error_code ec;
  boost::asio::read(s, boost::asio::dynamic_buffer(all), ec);
  HttpResult r;
  const auto sp = all.find(' ');
  if (sp != std::string::npos) r.status = std::stoi(all.substr(sp + 1, 3));
  const auto hdr_end = all.find("\r\n\r\n");
  r.head = all.substr(0, hdr_end);
  if (hdr_end != std::string::npos) r.body = all.substr(hdr_end + 4);
  return r;
}

}  // namespace gs::test
