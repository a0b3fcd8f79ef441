#include "goldensignals/broadcast/message.hpp"

#include <boost/beast/zlib/deflate_stream.hpp>
#include <nlohmann/json.hpp>

#include "goldensignals/broadcast/frame_header.hpp"
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

Message::Message(MessageKind kind, std::string symbol, std::shared_ptr<const std::string> json)
    : kind_(kind), symbol_(std::move(symbol)), json_(std::move(json)) {
  text_.set(0x81, *json_);  // FIN, text
}

void Message::Framed::set(std::uint8_t first_byte, std::string_view payload) {
  bytes.clear();
  bytes.reserve(payload.size() + 10);
  append_frame_header(bytes, first_byte, payload.size());
  header = bytes.size();
  bytes.append(payload);
}

std::string_view Message::msgpack() const {
  std::call_once(msgpack_once_, [this] {
    const std::vector<std::uint8_t> b = nlohmann::json::to_msgpack(object_of(*json_));
    msgpack_.set(0x82, {reinterpret_cast<const char*>(b.data()), b.size()});  // FIN, binary
  });
  return msgpack_.frame().payload;
}

std::string_view Message::protobuf() const {
  std::call_once(protobuf_once_, [this] {
    // What does not fit the schema is counted there.
    protobuf_.set(0x82, pb::encode_server(object_of(*json_)).bytes);
  });
  return protobuf_.frame().payload;
}

const Message::Framed& Message::framed(WireFormat f) const {
  switch (f) {
    case WireFormat::MsgPack:
      (void)msgpack();
      return msgpack_;
    case WireFormat::Protobuf:
      (void)protobuf();
      return protobuf_;
    case WireFormat::Json:
      break;
  }
  return text_;
}

std::string_view Message::payload(WireFormat f) const { return framed(f).frame().payload; }

Message::Frame Message::frame(WireFormat f) const { return framed(f).frame(); }

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
  const Framed& plain = framed(format);
  std::lock_guard lk(deflate_mu_);
  for (const auto& d : deflated_) {
    if (d->format == format && d->window_bits == window_bits) return d->framed.frame();
  }
  auto d = std::make_unique<Deflated>(Deflated{format, window_bits, {}});
  const std::string compressed = deflate_alone(plain.frame().payload, window_bits);
  if (compressed.empty() && !plain.frame().payload.empty()) {
    d->framed = plain;  // not compressed after all: the plain frame
  } else {
    // FIN, RSV1 (compressed), text or binary
    d->framed.set(format == WireFormat::Json ? 0xC1 : 0xC2, compressed);
  }
  const Frame f = d->framed.frame();
  deflated_.push_back(std::move(d));
  return f;
}

MessagePtr make_message(MessageKind kind, std::string json, std::string symbol) {
  return std::make_shared<const Message>(kind, std::move(symbol),
                                         std::make_shared<const std::string>(std::move(json)));
}

}  // namespace gs
