// The header of an unfragmented WebSocket frame (RFC 6455 5.2), the one encoder of the server's
// frames and of the benchmarks' load client and raw publisher (cpp/apps/bench/).
#pragma once

#include <cstdint>
#include <string>

namespace gs {

// Appends `first_byte` (FIN, RSV1-3, opcode), then the payload length `size` in 7, 7+16 or
// 7+64 bits, with the mask bit set when `masked` (a client's frame: its 4-byte key is the
// caller's to append).
inline void append_frame_header(std::string& out, std::uint8_t first_byte, std::uint64_t size,
                                bool masked = false) {
  const auto mask = static_cast<std::uint8_t>(masked ? 0x80 : 0);
  out.push_back(static_cast<char>(first_byte));
  if (size < 126) {
    out.push_back(static_cast<char>(mask | size));
  } else if (size <= 0xffff) {
    out.push_back(static_cast<char>(mask | 126));
    out.push_back(static_cast<char>((size >> 8) & 0xff));
    out.push_back(static_cast<char>(size & 0xff));
  } else {
    out.push_back(static_cast<char>(mask | 127));
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((size >> (56 - 8 * i)) & 0xff));
  }
}

}  // namespace gs
