// libFuzzer: the client's frames, JSON text (gs::proto::parse_text: fuzz_protocol_json),
// MessagePack binary (gs::proto::parse_binary: fuzz_protocol_msgpack, built with
// GS_FUZZ_MSGPACK) or a goldensignals.v1.ClientMessage (gs::proto::parse_protobuf:
// fuzz_protocol_protobuf, GS_FUZZ_PROTOBUF). Any input must parse to a request or a problem, never
// throw or crash; a request's symbol is always a valid one, and a problem always has a code and a
// message for the alert. For JSON, what parse_text's quick reader reads must be what
// nlohmann::json::parse makes of it.
#include <cstdint>
#include <string_view>
#include <variant>

#include "goldensignals/core/clock.hpp"  // is_valid_symbol
#include "goldensignals/net/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
#if defined(GS_FUZZ_MSGPACK)
  const auto parsed = gs::proto::parse_binary(text);
#elif defined(GS_FUZZ_PROTOBUF)
  const auto parsed = gs::proto::parse_protobuf(text);
#else
  const auto parsed = gs::proto::parse_text(text);
  // The quick reader of flat objects makes what nlohmann::json::parse makes, or leaves the text.
  if (const auto flat = gs::proto::read_flat_object(text)) {
    const auto ref = nlohmann::json::parse(text, nullptr, false);
    if (ref.is_discarded() || *flat != ref || flat->dump() != ref.dump()) __builtin_trap();
    for (auto it = flat->begin(); it != flat->end(); ++it) {
      if (it->type() != ref.at(it.key()).type()) __builtin_trap();
    }
  }
#endif
  if (const auto* r = std::get_if<gs::proto::Request>(&parsed)) {
    if (!r->symbol.empty() && !gs::is_valid_symbol(r->symbol)) __builtin_trap();
  } else {
    const auto& p = std::get<gs::proto::Problem>(parsed);
    if (p.code.empty() || p.message.empty()) __builtin_trap();
    (void)gs::proto::alert(p);  // the reply is made from whatever the client sent
  }
  return 0;
}
