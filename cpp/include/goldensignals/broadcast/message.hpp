// One server message, serialized once and shared by every recipient; and who receives them.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "goldensignals/core/message_kind.hpp"

namespace gs {

// What a client asked to receive (?format=): JSON text frames, or MessagePack or Protobuf
// (proto/goldensignals.proto's ServerMessage) binary frames.
enum class WireFormat : std::uint8_t { Json, MsgPack, Protobuf };

// The JSON text once; the MessagePack and Protobuf forms each made at most once, on first
// demand. Each form is kept as a whole WebSocket frame, header and payload in one buffer, so a
// recipient's gather write takes one buffer per message (the kernel's cost of a sendmsg grows
// with its buffers: two per message cost a fifth of fan-out's throughput at 1,000 subscribers).
class Message {
 public:
  Message(MessageKind kind, std::string symbol, std::shared_ptr<const std::string> json);

  [[nodiscard]] MessageKind kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& symbol() const noexcept { return symbol_; }
  [[nodiscard]] const std::string& json() const noexcept { return *json_; }
  // The same object as MessagePack; thread-safe, encoded on the first call only.
  [[nodiscard]] std::string_view msgpack() const;
  // The same object as a goldensignals.v1.ServerMessage; thread-safe, encoded once.
  [[nodiscard]] std::string_view protobuf() const;
  // json(), msgpack() or protobuf().
  [[nodiscard]] std::string_view payload(WireFormat f) const;

  // A WebSocket frame: its header and its payload, contiguous (whole() is both).
  struct Frame {
    std::string_view header;
    std::string_view payload;
    [[nodiscard]] std::string_view whole() const noexcept {
      return {header.data(), header.size() + payload.size()};
    }
  };
  // The unmasked, unfragmented frame of payload(f) (a text frame for JSON, else binary), made
  // once with the payload and shared by every recipient's gather write.
  [[nodiscard]] Frame frame(WireFormat f) const;

  // The same frame compressed for permessage-deflate without server context takeover: payload(f)
  // deflated on its own (RFC 7692 7.2.1, the trailing 00 00 ff ff removed) with at
  // most 2^window_bits of window (9-15), and a header with RSV1 set. Made once per message,
  // format and window, on the first demand, and shared by every such recipient. Thread-safe.
  [[nodiscard]] Frame deflated(WireFormat f, int window_bits) const;

 private:
  // A frame in one buffer: `header` bytes, then the payload.
  struct Framed {
    std::string bytes;
    std::size_t header = 0;
    void set(std::uint8_t first_byte, std::string_view payload);
    [[nodiscard]] Frame frame() const noexcept {
      const std::string_view all = bytes;
      return {all.substr(0, header), all.substr(header)};
    }
  };
  const Framed& framed(WireFormat f) const;
  MessageKind kind_;
  std::string symbol_;
  std::shared_ptr<const std::string> json_;
  Framed text_;
  mutable std::once_flag msgpack_once_;
  mutable Framed msgpack_;
  mutable std::once_flag protobuf_once_;
  mutable Framed protobuf_;
  struct Deflated {
    WireFormat format;
    int window_bits;
    Framed framed;
  };
  mutable std::mutex deflate_mu_;  // guards deflated_ (entries are never removed or moved)
  mutable std::vector<std::unique_ptr<const Deflated>> deflated_;
};
using MessagePtr = std::shared_ptr<const Message>;

// A JSON text as a message (replies, confirmations).
MessagePtr make_message(MessageKind kind, std::string json, std::string symbol = {});

enum class SendStatus : std::uint8_t {
  Queued,    // will be written
  Replaced,  // queued, and an unsent older price_update of the symbol was dropped for it
  Dropped,   // not queued: the client was too slow and is being closed
  Closed,    // not queued: the connection is closing or closed
};
std::string_view to_string(SendStatus s) noexcept;

// A connected client as the broadcast layer sees it. Both calls are thread-safe, never block
// on I/O and may be made under a room lock.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual SendStatus send(MessagePtr m) = 0;
  // The messages in order, as one step (a session takes its lock once for all of them);
  // stops at the first one not accepted. Returns how many were accepted (queued, or
  // replacing an unsent price). By default, send() for each.
  virtual std::size_t send_burst(std::span<const MessagePtr> burst);
  virtual void close(std::uint16_t code, std::string reason) = 0;
  // Who it is in logs and /ws/status (a token's sub, else a uuid); fixed for its lifetime.
  [[nodiscard]] virtual std::string client_id() const { return {}; }
};

}  // namespace gs
