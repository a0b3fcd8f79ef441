// The server's side of the WebSocket wire (net/ws_wire.hpp): the accept key of RFC 6455's own
// example, the permessage-deflate negotiation, UTF-8, close frames, and the reader of client
// frames whole, split at every byte, fragmented, compressed, and broken in each way the RFCs
// name, with the close code each break gets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "goldensignals/broadcast/frame_header.hpp"
#include "goldensignals/broadcast/message.hpp"
#include "goldensignals/net/ws_wire.hpp"

namespace gs::ws {
namespace {

// A client's frame: `first` (FIN, RSV, opcode), masked with `key`.
std::string client_frame(std::uint8_t first, std::string_view payload,
                         std::string_view key = "\x12\x34\x56\x78") {
  std::string out;
  append_frame_header(out, first, payload.size(), true);
  out.append(key.substr(0, 4));
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ key[i & 3]));
  return out;
}

struct Events final : Reader::Sink {
  std::vector<std::string> log;
  void on_message(bool text, std::string_view data) override {
    log.push_back((text ? "text:" : "binary:") + std::string(data));
  }
  void on_ping(std::string_view p) override { log.push_back("ping:" + std::string(p)); }
  void on_pong() override { log.emplace_back("pong"); }
  void on_close(std::uint16_t code, std::string_view reason) override {
    log.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
  }
};

// Feeds `bytes` to a fresh reader in pieces of `step` bytes; the events, and the error if any.
struct Fed {
  std::vector<std::string> log;
  std::uint16_t code = 0;
  std::string reason;
  std::size_t held_after = 0;
};
Fed feed(std::string bytes, std::size_t step = 0, std::size_t max = 1 << 16, bool deflate = false) {
  Reader r(max, deflate);
  Events ev;
  if (step == 0) step = bytes.size() == 0 ? 1 : bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    std::string piece = bytes.substr(at, step);
    if (!r.feed(std::span<char>(piece.data(), piece.size()), ev)) break;
  }
  Fed f{ev.log, 0, {}, r.held()};
  if (r.error()) {
    f.code = r.error()->code;
    f.reason = r.error()->reason;
  }
  return f;
}

TEST(WsWire, AcceptKeyIsRfc6455sExample) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_FALSE(valid_key(""));
  EXPECT_FALSE(valid_key("dGhlIHNhbXBsZSBub25jZQ"));     // no padding: not 16 bytes
  EXPECT_FALSE(valid_key("dGhlIHNhbXBsZSBub25jZQ!="));   // not base64
  EXPECT_FALSE(valid_key("dGhlIHNhbXBsZSBub25jZQ==x"));  // 17 bytes and more
}

TEST(WsWire, DeflateOffersAreTakenOrPassedOverAsRfc7692Says) {
  EXPECT_FALSE(negotiate_deflate("", 15));
  EXPECT_FALSE(negotiate_deflate("x-webkit-deflate-frame", 15));
  auto d = negotiate_deflate("permessage-deflate; client_max_window_bits", 15);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->server_bits, 15);
  EXPECT_EQ(d->response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  // The window the client asks for is answered, at most the server's own.
  d = negotiate_deflate("permessage-deflate; server_max_window_bits=10", 15);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->server_bits, 10);
  EXPECT_NE(d->response.find("server_max_window_bits=10"), std::string::npos);
  d = negotiate_deflate("permessage-deflate; server_max_window_bits=\"12\"", 11);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->server_bits, 11);
  // A server window under 15 is announced even unasked.
  d = negotiate_deflate("permessage-deflate", 12);
  ASSERT_TRUE(d);
  EXPECT_NE(d->response.find("server_max_window_bits=12"), std::string::npos);
  // An offer the server cannot take is passed over for the next one.
  d = negotiate_deflate(
      "permessage-deflate; x-unknown, permessage-deflate; server_max_window_bits=99, "
      "PerMessage-Deflate; server_no_context_takeover; server_max_window_bits=9",
      15);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->server_bits, 9);
  EXPECT_FALSE(negotiate_deflate("permessage-deflate; server_max_window_bits=8", 15));  // zlib
  EXPECT_FALSE(
      negotiate_deflate("permessage-deflate; server_no_context_takeover; "
                        "server_no_context_takeover",
                        15));  // a parameter twice
  EXPECT_FALSE(negotiate_deflate("permessage-deflate; client_max_window_bits=16", 15));
}

TEST(WsWire, Utf8IsCheckedAsRfc3629Says) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ASCII, longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88 \xf4\x8f\xbf\xbf"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));      // overlong, three bytes
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xe2\x82"));          // cut short
  EXPECT_FALSE(valid_utf8("abcdefgh\x80"));      // a lone continuation byte after ASCII
  EXPECT_FALSE(valid_utf8("\xff"));
}

TEST(WsWire, CloseFramesCarryTheCodeAndAReasonCutAtACharacter) {
  std::string out;
  append_close(out, 1008, "slow consumer");
  EXPECT_EQ(out, std::string("\x88\x0f\x03\xf0slow consumer", 17));
  out.clear();
  std::string long_reason(122, 'x');
  long_reason += "\xe2\x82\xac";  // a 3-byte character across the 123-byte limit
  append_close(out, 1000, long_reason);
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 2 + 122);  // the character left out whole
  out.clear();
  append_control(out, kPing);
  EXPECT_EQ(out, std::string("\x89\x00", 2));
}

TEST(WsReader, WholeSplitAndFragmentedMessagesArriveOnceAndNothingIsHeldAfter) {
  const std::string bytes = client_frame(0x81, "{\"type\":\"subscribe\"}") +
                            client_frame(0x82, std::string(300, 'b')) + client_frame(0x89, "hi") +
                            client_frame(0x8A, "") +
                            // a fragmented text message with a ping between its fragments
                            client_frame(0x01, "frag") + client_frame(0x89, "") +
                            client_frame(0x00, "ment") + client_frame(0x80, "ed");
  const std::vector<std::string> want = {"text:{\"type\":\"subscribe\"}",
                                         "binary:" + std::string(300, 'b'),
                                         "ping:hi",
                                         "pong",
                                         "ping:",
                                         "text:fragmented"};
  for (std::size_t step :
       {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{64}}) {
    const auto f = feed(bytes, step);
    EXPECT_EQ(f.log, want) << "in pieces of " << step;
    EXPECT_EQ(f.code, 0) << f.reason;
    EXPECT_EQ(f.held_after, 0u);
  }
  // Half a frame is held until the rest comes.
  Reader r(1 << 16, false);
  Events ev;
  std::string frame = client_frame(0x81, "hello");
  std::string a = frame.substr(0, 4), b = frame.substr(4);
  EXPECT_TRUE(r.feed(std::span<char>(a.data(), a.size()), ev));
  EXPECT_EQ(r.held(), 4u);
  EXPECT_TRUE(r.feed(std::span<char>(b.data(), b.size()), ev));
  EXPECT_EQ(r.held(), 0u);
  EXPECT_EQ(ev.log, std::vector<std::string>{"text:hello"});
}

TEST(WsReader, ACompressedMessageInflatesAndOneInflatingPastTheLimitIs1009) {
  std::string text = R"({"type":"history","symbol":"AAPL","padding":")";
  text += std::string(2000, 'x') + "\"}";
  const auto m = make_message(MessageKind::Reply, text);
  const auto d = m->deflated(WireFormat::Json, 15);
  const std::string compressed(d.payload);
  ASSERT_LT(compressed.size(), text.size() / 4);
  // RSV1 on the first frame; split in two frames as well.
  auto f = feed(client_frame(0xC1, compressed), 0, 1 << 16, true);
  EXPECT_EQ(f.log, std::vector<std::string>{"text:" + text});
  const auto half = compressed.size() / 2;
  f = feed(
      client_frame(0x41, compressed.substr(0, half)) + client_frame(0x80, compressed.substr(half)),
      3, 1 << 16, true);
  EXPECT_EQ(f.log, std::vector<std::string>{"text:" + text});
  // Small on the wire, past the limit once inflated.
  f = feed(client_frame(0xC1, compressed), 0, 1000, true);
  EXPECT_TRUE(f.log.empty());
  EXPECT_EQ(f.code, kTooBig);
  // Compressed bytes that are not deflate.
  f = feed(client_frame(0xC1, "\xff\xff\xff\xff not deflate"), 0, 1 << 16, true);
  EXPECT_EQ(f.code, kInvalidPayload);
  // RSV1 without compression agreed.
  f = feed(client_frame(0xC1, compressed));
  EXPECT_EQ(f.code, kProtocolError);
}

TEST(WsReader, EachViolationStopsWithItsCloseCode) {
  struct Case {
    const char* what;
    std::string bytes;
    std::uint16_t code;
  };
  std::string unmasked;
  append_frame_header(unmasked, 0x81, 2);
  unmasked += "hi";
  std::string huge;  // a header announcing 1 MiB: refused before any payload arrives
  append_frame_header(huge, 0x82, 1 << 20, true);
  huge += "abcd";
  std::string long_form;  // 5 bytes announced in the 16-bit form
  long_form += "\x81\xfe";
  long_form += std::string("\x00\x05\x00\x00\x00\x00", 6);
  long_form += "hello";
  const std::vector<Case> cases = {
      {"length not in its shortest form", long_form, kProtocolError},
      {"unmasked", unmasked, kProtocolError},
      {"RSV2", client_frame(0xA1, "x"), kProtocolError},
      {"unknown opcode", client_frame(0x83, "x"), kProtocolError},
      {"fragmented ping", client_frame(0x09, "x"), kProtocolError},
      {"long ping", client_frame(0x89, std::string(126, 'p')), kProtocolError},
      {"continuation first", client_frame(0x80, "x"), kProtocolError},
      {"new message inside one", client_frame(0x01, "a") + client_frame(0x81, "b"), kProtocolError},
      {"too big", huge, kTooBig},
      {"too big in fragments",
       client_frame(0x02, std::string(40000, 'a')) + client_frame(0x80, std::string(40000, 'a')),
       kTooBig},
      {"bad UTF-8", client_frame(0x81, "\xc0\xaf"), kInvalidPayload},
      {"close of 1 byte", client_frame(0x88, "x"), kProtocolError},
      {"close code 1005", client_frame(0x88, "\x03\xed"), kProtocolError},
      {"close reason not UTF-8", client_frame(0x88, "\x03\xe8\xff"), kInvalidPayload},
  };
  for (const auto& c : cases) {
    const auto f = feed(c.bytes + client_frame(0x81, "after"));
    EXPECT_EQ(f.code, c.code) << c.what << ": " << f.reason;
    EXPECT_FALSE(f.reason.empty()) << c.what;
    for (const auto& e : f.log) EXPECT_NE(e, "text:after") << c.what << ": read past the error";
  }
}

TEST(WsReader, AClientsCloseIsReportedAndNothingAfterItIsRead) {
  auto f = feed(client_frame(0x88, std::string("\x03\xe8", 2) + "bye") + client_frame(0x81, "x"));
  EXPECT_EQ(f.log, std::vector<std::string>{"close:1000:bye"});
  EXPECT_EQ(f.code, 0);
  f = feed(client_frame(0x88, ""));
  EXPECT_EQ(f.log, std::vector<std::string>{"close:1005:"});
}

}  // namespace
}  // namespace gs::ws
