// libFuzzer: the server's WebSocket reader (net/ws_wire.hpp) on any bytes a client could send,
// cut into reads where the input says, with and without permessage-deflate; and the
// extension negotiation on any header text. It must never crash or read past what it was
// given; a message it hands on fits the limit (text ones are UTF-8); a stop it reports names
// a close code the server sends and a reason; it holds no more than a frame and a message.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "goldensignals/net/ws_wire.hpp"

namespace {

constexpr std::size_t kMax = 4096;  // the largest message, small so the limit is reached

struct Checks final : gs::ws::Reader::Sink {
  void on_message(bool text, std::string_view data) override {
    if (data.size() > kMax) __builtin_trap();
    if (text && !gs::ws::valid_utf8(data)) __builtin_trap();
  }
  void on_ping(std::string_view payload) override {
    if (payload.size() > 125) __builtin_trap();
  }
  void on_pong() override {}
  void on_close(std::uint16_t code, std::string_view reason) override {
    if (code < 1000 || !gs::ws::valid_utf8(reason)) __builtin_trap();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // First byte: deflate agreed (bit 0) and the size of each read (the rest, 1-128 bytes).
  const bool deflate = (data[0] & 1) != 0;
  const std::size_t step = 1 + (data[0] >> 1);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  gs::ws::Reader reader(kMax, deflate);
  Checks checks;
  for (std::size_t at = 0; at < rest.size(); at += step) {
    std::string piece(rest.substr(at, step));  // its own buffer, so ASan sees every overread
    if (!reader.feed(std::span<char>(piece.data(), piece.size()), checks)) break;
    // At most a message's fragments, a control frame begun between them and one read.
    if (reader.held() > kMax + 14 + 131 + step) __builtin_trap();
  }
  if (const auto* e = reader.error()) {
    if ((e->code != 1002 && e->code != 1007 && e->code != 1009) || e->reason.empty())
      __builtin_trap();
  }

  if (const auto d = gs::ws::negotiate_deflate(rest, 15)) {
    if (d->server_bits < 9 || d->server_bits > 15 || d->response.empty()) __builtin_trap();
  }
  return 0;
}
