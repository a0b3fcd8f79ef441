// The server's side of the WebSocket wire (RFC 6455, and RFC 7692's permessage-deflate) as
// code over bytes, with no socket in it: the upgrade's accept key and extension negotiation,
// the control frames the server writes, and the reader of a client's frames. The session
// (net/websocket_session.hpp) owns the socket; this owns the rules, so they can be tested and
// fuzzed on their own.
//
// The reader keeps no buffer while a connection is quiet: a frame that arrives whole is
// handed on from the bytes it arrived in; only a frame split across reads, a fragmented
// message or a compressed one is copied, and that memory is released once it is delivered.
#pragma once

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gs::ws {

enum Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes the server sends (RFC 6455 7.4.1).
enum CloseCode : std::uint16_t {
  kNormal = 1000,
  kGoingAway = 1001,
  kProtocolError = 1002,
  kInvalidPayload = 1007,
  kPolicyViolation = 1008,
  kTooBig = 1009,
};

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2); nullopt when
// OpenSSL gives no SHA-1 (a server checks that it does when it is made). OpenSSL's SHA1() looks
// the digest up in its provider tables on each call, which costs more than the hash of these
// 60 bytes: it is looked up once.
inline std::optional<std::string> accept_key(std::string_view key) {
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  const std::string in = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (sha1 == nullptr || EVP_Digest(in.data(), in.size(), digest, &len, sha1, nullptr) != 1 ||
      len != SHA_DIGEST_LENGTH) {
    return std::nullopt;
  }
  unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

// Whether `key` is a Sec-WebSocket-Key: 16 bytes in base64 (24 characters).
bool valid_key(std::string_view key);

// permessage-deflate as agreed in the upgrade: the server compresses each message on its own
// with `server_bits` window bits, and the client does the same (client_no_context_takeover),
// so the server inflates each compressed message with a fresh inflater.
struct Deflate {
  int server_bits = 15;
  std::string response;  // the Sec-WebSocket-Extensions value of the 101
};

// The first permessage-deflate offer in a Sec-WebSocket-Extensions header (one or more, comma
// separated) that the server can take, its window at most `max_bits` (9-15); none when there
// is none. An offer with a parameter the server does not know, or with a value outside RFC
// 7692's ranges, is passed over, as the RFC asks.
std::optional<Deflate> negotiate_deflate(std::string_view extensions, int max_bits);

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s);

// Appends a whole unmasked control frame: a ping or pong (`payload` at most 125 bytes) or a
// close with `code` and `reason` (cut to fit 125 bytes, at a character boundary).
void append_control(std::string& out, Opcode op, std::string_view payload = {});
void append_close(std::string& out, std::uint16_t code, std::string_view reason);

// Reads a client's frames from the bytes as they arrive, and hands on each message and
// control frame. The first violation ends it: `error()` then gives the close code and the
// reason to send, and it reads nothing more.
class Reader {
 public:
  class Sink {
   public:
    virtual void on_message(bool text, std::string_view data) = 0;
    virtual void on_ping(std::string_view payload) = 0;
    virtual void on_pong() = 0;
    // The client's close frame: its code (1005, "no status", when it sent none) and reason.
    virtual void on_close(std::uint16_t code, std::string_view reason) = 0;

   protected:
    ~Sink() = default;
  };

  struct Error {
    std::uint16_t code = 0;
    std::string reason;
  };

  // `max_message`: the largest message, inflated, that is accepted (1009 past it);
  // `deflate`: whether permessage-deflate was agreed (else RSV1 is a protocol error).
  Reader(std::size_t max_message, bool deflate) : max_message_(max_message), deflate_(deflate) {}

  // Reads the frames of `bytes` (unmasked in place) and of what an earlier call left
  // incomplete. False once it has stopped: after a violation, or after the client's close.
  bool feed(std::span<char> bytes, Sink& sink);

  // Why it stopped, after a violation; null otherwise.
  [[nodiscard]] const Error* error() const noexcept { return held_ ? held_->error.get() : nullptr; }
  // Bytes held between calls (a frame not yet whole, a message not yet ended); 0 when quiet.
  [[nodiscard]] std::size_t held() const noexcept {
    return held_ ? held_->pending.size() + held_->message.size() : 0;
  }

 private:
  // Handles one whole frame; false when reading stops.
  bool frame(std::uint8_t first, char* payload, std::size_t size, Sink& sink);
  bool deliver(std::string_view data, Sink& sink);
  bool fail(std::uint16_t code, std::string reason);
  // What is kept between calls, made when first needed and released when empty again: a
  // quiet connection's reader is three words.
  struct Held {
    std::string pending;  // the start of a frame that has not all arrived
    std::string message;  // the fragments so far of a fragmented message
    std::unique_ptr<Error> error;
  };
  Held& held_state();
  void release_if_empty();

  std::size_t max_message_;
  std::unique_ptr<Held> held_;
  bool deflate_;
  bool stopped_ = false;
  bool in_message_ = false;  // a fragmented message has begun
  bool text_ = false, compressed_ = false;
};

}  // namespace gs::ws
