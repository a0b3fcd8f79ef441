// One server message, serialized once and shared by every recipient; and who receives them.
#pragma once

#include <array>
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
// demand.
class Message {
 public:
  Message(MessageKind kind, std::string symbol, std::shared_ptr<const std::string> json)
      : kind_(kind), symbol_(std::move(symbol)), json_(std::move(json)) {
    text_header_.set(0x1, json_->size());
  }

  [[nodiscard]] MessageKind kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& symbol() const noexcept { return symbol_; }
  [[nodiscard]] const std::string& json() const noexcept { return *json_; }
  // The same object as MessagePack; thread-safe, encoded on the first call only.
  [[nodiscard]] const std::string& msgpack() const;
  // The same object as a goldensignals.v1.ServerMessage; thread-safe, encoded once.
  [[nodiscard]] const std::string& protobuf() const;
  // json(), msgpack() or protobuf().
  [[nodiscard]] const std::string& payload(WireFormat f) const;
  // The header of an unmasked, unfragmented WebSocket frame of payload(f) (a text frame for
  // JSON, else binary), made once and shared by every recipient's gather write.
  [[nodiscard]] std::string_view frame_header(WireFormat f) const;

  // The same frame compressed for permessage-deflate without server context takeover: payload(f)
  // deflated on its own (RFC 7692 7.2.1, the trailing 00 00 ff ff removed) with at
  // most 2^window_bits of window (9-15), and a header with RSV1 set. Made once per message,
  // format and window, on the first demand, and shared by every such recipient. Thread-safe.
  struct Frame {
    std::string_view header;
    std::string_view payload;
  };
  [[nodiscard]] Frame deflated(WireFormat f, int window_bits) const;

 private:
  struct FrameHeader {
    std::array<char, 10> bytes{};
    std::uint8_t size = 0;
    void set(std::uint8_t opcode, std::size_t payload) noexcept;
  };
  const FrameHeader& header_of(WireFormat f) const;
  MessageKind kind_;
  std::string symbol_;
  std::shared_ptr<const std::string> json_;
  FrameHeader text_header_;
  mutable std::once_flag msgpack_once_;
  mutable std::string msgpack_;
  mutable FrameHeader binary_header_;
  mutable std::once_flag protobuf_once_;
  mutable std::string protobuf_;
  mutable FrameHeader protobuf_header_;
  struct Deflated {
    WireFormat format;
    int window_bits;
    FrameHeader header;
    std::string payload;
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
