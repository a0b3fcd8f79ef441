// A message's shared frames: the deflated form of permessage-deflate (compressed once,
// inflating back to the same bytes).
#include <gtest/gtest.h>

#include <string>

#include "goldensignals/broadcast/message.hpp"
#include "inflate.hpp"

namespace gs {
namespace {

using test::inflate;

std::string signal_json() {
  std::string s = R"({"type":"signal_update","seq":7,"data":{"symbol":"AAPL","reasoning":[)";
  for (int i = 0; i < 40; ++i) s += R"("RSI 28.1 below 30: oversold",)";
  return s + R"("end"]}})";
}

TEST(Message, DeflatedOnceInflatesBackAndSetsRsv1) {
  const auto m = make_message(MessageKind::SignalUpdate, signal_json(), "AAPL");
  const auto f = m->deflated(gs::WireFormat::Json, 15);
  ASSERT_GE(f.header.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(f.header[0]), 0xC1);  // FIN, RSV1, text
  EXPECT_LT(f.payload.size(), m->json().size() / 4);         // repetitive: it shrinks a lot
  EXPECT_EQ(inflate(f.payload, 15), m->json());
  // The length in the header is the compressed payload's.
  const auto len = static_cast<unsigned char>(f.header[1]);
  const std::size_t n =
      len < 126 ? len
                : (static_cast<std::size_t>(static_cast<unsigned char>(f.header[2])) << 8) |
                      static_cast<unsigned char>(f.header[3]);
  EXPECT_EQ(n, f.payload.size());
  // Asked again: the same bytes, not a second compression.
  const auto again = m->deflated(gs::WireFormat::Json, 15);
  EXPECT_EQ(again.payload.data(), f.payload.data());
  // Another window is another entry; it inflates with that window.
  const auto small = m->deflated(gs::WireFormat::Json, 9);
  EXPECT_NE(small.payload.data(), f.payload.data());
  EXPECT_EQ(inflate(small.payload, 9), m->json());
  // MessagePack: a binary frame of the MessagePack bytes.
  const auto bin = m->deflated(gs::WireFormat::MsgPack, 15);
  EXPECT_EQ(static_cast<unsigned char>(bin.header[0]), 0xC2);
  EXPECT_EQ(inflate(bin.payload, 15), m->msgpack());
}

// Every form is one buffer, header then payload, so a gather write takes one buffer per frame.
TEST(Message, EachFrameIsOneBufferHeaderThenPayload) {
  const std::string big = signal_json();
  for (const std::string& text : {std::string("{}"), big, std::string(70000, ' ') + "{}"}) {
    const auto m = make_message(MessageKind::SignalUpdate, text, "AAPL");
    for (const auto format : {WireFormat::Json, WireFormat::MsgPack, WireFormat::Protobuf}) {
      const auto f = m->frame(format);
      EXPECT_EQ(f.header.data() + f.header.size(), f.payload.data());
      EXPECT_EQ(f.payload.data(), m->payload(format).data());  // the same bytes, made once
      EXPECT_EQ(static_cast<unsigned char>(f.header[0]), format == WireFormat::Json ? 0x81 : 0x82);
      const std::size_t len = static_cast<unsigned char>(f.header[1]);
      EXPECT_EQ(f.header.size(), len < 126 ? 2u : len == 126 ? 4u : 10u);
      std::size_t n = len;
      if (len >= 126) {
        n = 0;
        for (std::size_t i = 2; i < f.header.size(); ++i) {
          n = (n << 8) | static_cast<unsigned char>(f.header[i]);
        }
      }
      EXPECT_EQ(n, f.payload.size());
      EXPECT_EQ(f.whole().size(), f.header.size() + f.payload.size());
      const auto d = m->deflated(format, 15);
      EXPECT_EQ(d.header.data() + d.header.size(), d.payload.data());
    }
    EXPECT_EQ(m->frame(WireFormat::Json).payload, text);
  }
}

TEST(Message, TinyAndEmptyMessagesStillDeflateCorrectly) {
  for (const char* text : {"{}", "{\"type\":\"pong\"}"}) {
    const auto m = make_message(MessageKind::Reply, text);
    const auto f = m->deflated(gs::WireFormat::Json, 15);
    EXPECT_EQ(inflate(f.payload, 15), text);
  }
}

}  // namespace
}  // namespace gs
