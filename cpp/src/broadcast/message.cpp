#include "goldensignals/broadcast/message.hpp"

#include <boost/beast/zlib/deflate_stream.hpp>
#include <nlohmann/json.hpp>

#include "goldensignals/broadcast/protobuf.hpp"

namespace gs {

std::size_t Subscriber::send_burst(std::span<const MessagePtr> burst) {
  std::size_t accepted = 0;
  for (const auto& m : burst) {
    const auto st = send(m);
    if (st != SendStatus::Queued && st != SendStatus::Replaced) break;
    ++accepted;
  }
  return accepted;
}

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

namespace {

// Our own JSON text as an object: parsing cannot fail; if it ever did, an empty map beats a
// crash.
nlohmann::json object_of(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

}  // namespace

const std::string& Message::msgpack() const {
  std::call_once(msgpack_once_, [this] {
    std::vector<std::uint8_t> bytes = nlohmann::json::to_msgpack(object_of(*json_));
    msgpack_.assign(bytes.begin(), bytes.end());
    binary_header_.set(0x2, msgpack_.size());
  });
  return msgpack_;
}

const std::string& Message::protobuf() const {
  std::call_once(protobuf_once_, [this] {
    protobuf_ = pb::encode_server(object_of(*json_)).bytes;  // what does not fit is counted there
    protobuf_header_.set(0x2, protobuf_.size());
  });
  return protobuf_;
}

const std::string& Message::payload(WireFormat f) const {
  switch (f) {
    case WireFormat::MsgPack:
      return msgpack();
    case WireFormat::Protobuf:
      return protobuf();
    case WireFormat::Json:
      break;
  }
  return *json_;
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

const Message::FrameHeader& Message::header_of(WireFormat f) const {
  (void)payload(f);  // made with its header
  return f == WireFormat::MsgPack    ? binary_header_
         : f == WireFormat::Protobuf ? protobuf_header_
                                     : text_header_;
}

std::string_view Message::frame_header(WireFormat f) const {
  const FrameHeader& h = header_of(f);
  return {h.bytes.data(), h.size};
}

namespace {

// One message deflated on its own, as a permessage-deflate sender without context takeover
// does: the data, an empty block and a sync flush, whose 00 00 ff ff marker is dropped.
std::string deflate_alone(std::string_view in, int window_bits) {
  namespace zlib = boost::beast::zlib;
  zlib::deflate_stream zo;
  zo.reset(6, window_bits, 8, zlib::Strategy::normal);
  std::string out(zo.upper_bound(in.size()) + 16, '\0');
  zlib::z_params zs;
  zs.next_in = in.data();
  zs.avail_in = in.size();
  zs.next_out = out.data();
  zs.avail_out = out.size();
  boost::system::error_code ec;
  zo.write(zs, zlib::Flush::none, ec);
  if (!ec || ec == zlib::error::need_buffers) zo.write(zs, zlib::Flush::block, ec);
  if (!ec || ec == zlib::error::need_buffers) zo.write(zs, zlib::Flush::sync, ec);
  if ((ec && ec != zlib::error::need_buffers) || zs.avail_in != 0 || zs.total_out < 4) {
    return {};  // cannot happen with upper_bound's room; the caller sends it uncompressed
  }
  out.resize(zs.total_out - 4);
  return out;
}

}  // namespace

Message::Frame Message::deflated(WireFormat format, int window_bits) const {
  const std::string& plain = payload(format);
  std::lock_guard lk(deflate_mu_);
  for (const auto& d : deflated_) {
    if (d->format == format && d->window_bits == window_bits) {
      return {{d->header.bytes.data(), d->header.size}, d->payload};
    }
  }
  auto d = std::make_unique<Deflated>(
      Deflated{format, window_bits, {}, deflate_alone(plain, window_bits)});
  if (d->payload.empty() && !plain.empty()) {  // not compressed after all: the plain frame
    d->header = header_of(format);
    d->payload = plain;
  } else {
    d->header.set(format == WireFormat::Json ? 0x1 : 0x2, d->payload.size());
    d->header.bytes[0] = static_cast<char>(d->header.bytes[0] | 0x40);  // RSV1: compressed
  }
  const Frame f{{d->header.bytes.data(), d->header.size}, d->payload};
  deflated_.push_back(std::move(d));
  return f;
}

MessagePtr make_message(MessageKind kind, std::string json, std::string symbol) {
  return std::make_shared<const Message>(kind, std::move(symbol),
                                         std::make_shared<const std::string>(std::move(json)));
}

}  // namespace gs
