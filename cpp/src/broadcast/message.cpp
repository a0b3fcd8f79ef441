#include "goldensignals/broadcast/message.hpp"

#include <nlohmann/json.hpp>

namespace gs {

std::string_view to_string(SendStatus s) noexcept {
  switch (s) {
    case SendStatus::Queued:
      return "queued";
    case SendStatus::Replaced:
      return "replaced";
    case SendStatus::Dropped:
      return "dropped";
    case SendStatus::Closed:
      return "closed";
  }
  return "?";
}

const std::string& Message::msgpack() const {
  std::call_once(msgpack_once_, [this] {
    // Our own JSON text: parsing cannot fail; if it ever did, an empty map beats a crash.
    auto j = nlohmann::json::parse(*json_, nullptr, false);
    if (j.is_discarded()) j = nlohmann::json::object();
    std::vector<std::uint8_t> bytes = nlohmann::json::to_msgpack(j);
    msgpack_.assign(bytes.begin(), bytes.end());
    binary_header_.set(0x2, msgpack_.size());
  });
  return msgpack_;
}

void Message::FrameHeader::set(std::uint8_t opcode, std::size_t payload) noexcept {
  bytes[0] = static_cast<char>(0x80 | opcode);  // FIN
  if (payload < 126) {
    bytes[1] = static_cast<char>(payload);
    size = 2;
  } else if (payload <= 0xffff) {
    bytes[1] = 126;
    bytes[2] = static_cast<char>((payload >> 8) & 0xff);
    bytes[3] = static_cast<char>(payload & 0xff);
    size = 4;
  } else {
    bytes[1] = 127;
    for (int i = 0; i < 8; ++i) {
      bytes[static_cast<std::size_t>(2 + i)] =
          static_cast<char>((static_cast<std::uint64_t>(payload) >> (56 - 8 * i)) & 0xff);
    }
    size = 10;
  }
}

std::string_view Message::frame_header(bool binary) const {
  if (!binary) return {text_header_.bytes.data(), text_header_.size};
  (void)msgpack();
  return {binary_header_.bytes.data(), binary_header_.size};
}

MessagePtr make_message(MessageKind kind, std::string json, std::string symbol) {
  return std::make_shared<const Message>(kind, std::move(symbol),
                                         std::make_shared<const std::string>(std::move(json)));
}

}  // namespace gs
