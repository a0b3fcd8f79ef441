#include "goldensignals/net/ws_wire.hpp"

#include <algorithm>
#include <boost/beast/zlib/inflate_stream.hpp>
#include <cstring>
#include <memory>

#include "goldensignals/broadcast/frame_header.hpp"

namespace gs::ws {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

// A window size parameter's value: 8-15, quoted or not; 0 when it is not one.
int window_bits(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v == "8" || v == "9") return v[0] - '0';
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
  return 0;
}

// One offer's parameters (after its name); none when the server cannot take it.
std::optional<Deflate> take_offer(std::string_view params, int max_bits) {
  bool seen_snct = false, seen_cnct = false, seen_smwb = false, seen_cmwb = false;
  int server_bits = max_bits;
  while (!params.empty()) {
    const auto semi = params.find(';');
    const auto param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.empty()) continue;
    const auto eq = param.find('=');
    const auto name = trim(param.substr(0, eq));
    const auto value =
        eq == std::string_view::npos ? std::string_view{} : trim(param.substr(eq + 1));
    const bool has_value = eq != std::string_view::npos;
    auto once = [](bool& seen) { return !std::exchange(seen, true); };
    if (iequals(name, "server_no_context_takeover")) {
      if (has_value || !once(seen_snct)) return std::nullopt;
    } else if (iequals(name, "client_no_context_takeover")) {
      if (has_value || !once(seen_cnct)) return std::nullopt;
    } else if (iequals(name, "server_max_window_bits")) {
      const int bits = window_bits(value);
      if (bits == 0 || !once(seen_smwb)) return std::nullopt;
      server_bits = std::min(server_bits, bits);
    } else if (iequals(name, "client_max_window_bits")) {
      // The client's own window: any size is fine to inflate with a 15-bit window.
      if ((has_value && window_bits(value) == 0) || !once(seen_cmwb)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  // zlib treats a window of 8 bits as 9, which an 8-bit inflater could not read.
  if (server_bits < 9) return std::nullopt;
  Deflate d;
  d.server_bits = server_bits;
  d.response = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
  if (seen_smwb || server_bits < 15) {
    d.response += "; server_max_window_bits=" + std::to_string(server_bits);
  }
  return d;
}

// A compressed message (RFC 7692 7.2.2): its bytes and the 00 00 ff ff the sender left off,
// through a fresh inflater (client_no_context_takeover); none when it is corrupt. Sets
// `too_big` and stops when it inflates past `max`.
std::optional<std::string> inflate(std::string_view compressed, std::size_t max, bool& too_big) {
  namespace zlib = boost::beast::zlib;
  auto zi = std::make_unique<zlib::inflate_stream>();  // large: only while it is needed
  zi->reset(15);
  std::string in;
  in.reserve(compressed.size() + 4);
  in.append(compressed);
  in.append("\x00\x00\xff\xff", 4);
  std::string out;
  zlib::z_params zs;
  zs.next_in = in.data();
  zs.avail_in = in.size();
  for (;;) {
    const std::size_t have = out.size();
    const std::size_t room = std::min(std::max<std::size_t>(4096, have), max + 1 - have);
    out.resize(have + room);
    zs.next_out = out.data() + have;
    zs.avail_out = room;
    boost::system::error_code ec;
    zi->write(zs, zlib::Flush::sync, ec);
    out.resize(have + room - zs.avail_out);
    if (out.size() > max) {
      too_big = true;
      return std::nullopt;
    }
    if (ec == zlib::error::end_of_stream) break;
    if (ec && ec != zlib::error::need_buffers) return std::nullopt;
    if (zs.avail_in == 0 && zs.avail_out != 0) break;  // all of it read and written out
    if (ec == zlib::error::need_buffers && zs.avail_out != 0) return std::nullopt;  // stuck
  }
  return out;
}

bool valid_close_code(std::uint16_t c) {
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

}  // namespace

bool valid_key(std::string_view key) {
  key = trim(key);
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  });
}

std::optional<Deflate> negotiate_deflate(std::string_view extensions, int max_bits) {
  while (!extensions.empty()) {
    const auto comma = extensions.find(',');
    const auto offer = trim(extensions.substr(0, comma));
    extensions =
        comma == std::string_view::npos ? std::string_view{} : extensions.substr(comma + 1);
    const auto semi = offer.find(';');
    if (!iequals(trim(offer.substr(0, semi)), "permessage-deflate")) continue;
    if (auto d =
            take_offer(semi == std::string_view::npos ? std::string_view{} : offer.substr(semi + 1),
                       max_bits)) {
      return d;
    }
  }
  return std::nullopt;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Eight ASCII bytes at a time, the usual case of JSON.
    if (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int more = 0;
    unsigned lo = 0x80, hi = 0xBF;  // the range of the byte after the lead
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (end - p <= more) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int i = 2; i <= more; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += more + 1;
  }
  return true;
}

void append_control(std::string& out, Opcode op, std::string_view payload) {
  payload = payload.substr(0, 125);
  append_frame_header(out, static_cast<std::uint8_t>(0x80 | op), payload.size());
  out.append(payload);
}

void append_close(std::string& out, std::uint16_t code, std::string_view reason) {
  if (reason.size() > 123) {
    std::size_t n = 123;
    while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
    reason = reason.substr(0, n);
  }
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xff));
  payload.append(reason);
  append_control(out, kClose, payload);
}

Reader::Held& Reader::held_state() {
  if (!held_) held_ = std::make_unique<Held>();
  return *held_;
}

void Reader::release_if_empty() {
  if (held_ && held_->pending.empty() && held_->message.empty() && !held_->error) held_.reset();
}

bool Reader::fail(std::uint16_t code, std::string reason) {
  stopped_ = true;
  auto& h = held_state();
  h.error = std::make_unique<Error>(Error{code, std::move(reason)});
  std::string().swap(h.pending);
  std::string().swap(h.message);
  return false;
}

bool Reader::feed(std::span<char> bytes, Sink& sink) {
  if (stopped_) return false;
  std::span<char> in = bytes;
  const bool had_pending = held_ && !held_->pending.empty();
  if (had_pending) {
    held_->pending.append(bytes.data(), bytes.size());
    in = std::span<char>(held_->pending.data(), held_->pending.size());
  }
  std::size_t at = 0;
  bool going = true;
  while (going && in.size() - at >= 2) {
    const auto* h = reinterpret_cast<const unsigned char*>(in.data() + at);
    const std::uint8_t first = h[0];
    const std::uint8_t op = first & 0x0F;
    const bool fin = (first & 0x80) != 0, rsv1 = (first & 0x40) != 0;
    const bool control = (op & 0x08) != 0;
    if ((first & 0x30) != 0) return fail(kProtocolError, "reserved bits RSV2 or RSV3 are set");
    if (op != kContinuation && op != kText && op != kBinary && op != kClose && op != kPing &&
        op != kPong) {
      return fail(kProtocolError, "unknown opcode " + std::to_string(op));
    }
    if (rsv1 && (!deflate_ || control || op == kContinuation)) {
      return fail(kProtocolError, deflate_ ? "RSV1 is set on a control or continuation frame"
                                           : "RSV1 is set but no compression was agreed");
    }
    if ((h[1] & 0x80) == 0) return fail(kProtocolError, "a client's frames must be masked");
    const std::uint8_t len7 = h[1] & 0x7F;
    if (control && (!fin || len7 > 125)) {
      return fail(kProtocolError, "a control frame must be whole and at most 125 bytes");
    }
    const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    const std::size_t head = 2 + ext + 4;
    if (in.size() - at < head) break;
    std::uint64_t size = len7;
    if (ext != 0) {
      size = 0;
      for (std::size_t i = 0; i < ext; ++i) size = (size << 8) | h[2 + i];
      if (size >> 63) return fail(kProtocolError, "a frame length has its top bit set");
      if (size < (ext == 2 ? 126U : 65536U)) {
        return fail(kProtocolError, "a frame length is not in its shortest form");
      }
    }
    const std::size_t so_far = control || !held_ ? 0 : held_->message.size();
    if (size > max_message_ || so_far + size > max_message_) {
      return fail(kTooBig, "a message is larger than " + std::to_string(max_message_) +
                               " bytes, the most this server reads (WS_MAX_MESSAGE_SIZE)");
    }
    if (in.size() - at - head < size) break;
    char* payload = in.data() + at + head;
    const auto* mask = h + head - 4;
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
    at += head + size;
    going = frame(first, payload, static_cast<std::size_t>(size), sink);
  }
  if (stopped_) {
    if (held_) std::string().swap(held_->pending);
    return false;
  }
  if (had_pending) {
    held_->pending.erase(0, at);
    if (held_->pending.empty()) std::string().swap(held_->pending);
  } else if (at < in.size()) {
    held_state().pending.assign(in.data() + at, in.size() - at);
  }
  release_if_empty();
  return true;
}

bool Reader::frame(std::uint8_t first, char* payload, std::size_t size, Sink& sink) {
  const std::uint8_t op = first & 0x0F;
  const bool fin = (first & 0x80) != 0;
  const std::string_view data(payload, size);
  switch (op) {
    case kPing:
      sink.on_ping(data);
      return true;
    case kPong:
      sink.on_pong();
      return true;
    case kClose: {
      if (size == 1) return fail(kProtocolError, "a close frame's payload cannot be 1 byte");
      std::uint16_t code = 1005;
      std::string_view reason;
      if (size >= 2) {
        code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                          static_cast<unsigned char>(payload[1]));
        reason = data.substr(2);
        if (!valid_close_code(code)) {
          return fail(kProtocolError,
                      "close code " + std::to_string(code) + " is not one a peer may send");
        }
        if (!valid_utf8(reason)) return fail(kInvalidPayload, "a close reason is not valid UTF-8");
      }
      stopped_ = true;  // nothing after a close is read
      sink.on_close(code, reason);
      return false;
    }
    case kContinuation:
      if (!in_message_) return fail(kProtocolError, "a continuation frame without a message");
      break;
    default:  // text or binary
      if (in_message_) return fail(kProtocolError, "a new message began before the last ended");
      in_message_ = true;
      text_ = op == kText;
      compressed_ = (first & 0x40) != 0;
      break;
  }
  if (fin && (!held_ || held_->message.empty())) {  // one frame: no copy unless inflated
    in_message_ = false;
    return deliver(data, sink);
  }
  auto& message = held_state().message;
  message.append(data);
  if (!fin) return true;
  in_message_ = false;
  std::string whole;
  whole.swap(message);  // releases the fragments' memory once delivered
  return deliver(whole, sink);
}

bool Reader::deliver(std::string_view data, Sink& sink) {
  std::string inflated;
  if (compressed_) {
    bool too_big = false;
    auto out = inflate(data, max_message_, too_big);
    if (too_big) {
      return fail(kTooBig, "a compressed message inflates past " + std::to_string(max_message_) +
                               " bytes, the most this server reads (WS_MAX_MESSAGE_SIZE)");
    }
    if (!out) return fail(kInvalidPayload, "a compressed message does not inflate");
    inflated = std::move(*out);
    data = inflated;
  }
  if (text_ && !valid_utf8(data)) return fail(kInvalidPayload, "a text message is not valid UTF-8");
  sink.on_message(text_, data);
  return !stopped_;
}

}  // namespace gs::ws
