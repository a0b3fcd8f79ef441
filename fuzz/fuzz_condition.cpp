// libFuzzer: a custom alert's condition (gs::watch::Condition, the parser clients reach with
// add_alert). Any text must parse or throw ConditionError with a position inside the text
// (or at the length bound), never another exception, a crash or deep recursion; a parsed
// condition evaluates on facts with and without values, and its values name what it uses.
#include <algorithm>
#include <cstdint>
#include <string>

#include "goldensignals/watch/condition.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kMax = 4096;
  try {
    const auto c = gs::watch::Condition::parse(text, kMax);
    gs::watch::Facts unknown;
    (void)c.evaluate(unknown);
    gs::watch::Facts known;
    known.price = 101.5;
    known.volume = 1e6;
    known.change = -1;
    known.change_percent = -0.98;
    known.indicators.rsi_14 = 28;
    known.action = "BUY";
    known.confidence = 0.8;
    known.votes["Momentum"] = "SELL";
    (void)c.evaluate(known);
    if (!c.values(known).is_object()) __builtin_trap();
  } catch (const gs::watch::ConditionError& e) {
    if (e.position() > std::max(size, kMax)) __builtin_trap();
  }
  return 0;
}
