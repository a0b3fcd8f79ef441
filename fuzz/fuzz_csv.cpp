// libFuzzer: the replay CSV reader (gs::parse_ohlcv_csv). Any text must give bars or an
// InvalidArgument naming the problem, never another exception or a crash; every bar it gives
// has finite fields.
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/market/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    for (const auto& [symbol, bars] : gs::parse_ohlcv_csv(in, "fuzz.csv")) {
      for (const auto& b : bars) {
        if (!std::isfinite(b.open) || !std::isfinite(b.high) || !std::isfinite(b.low) ||
            !std::isfinite(b.close) || !std::isfinite(b.volume)) {
          __builtin_trap();
        }
      }
    }
  } catch (const gs::InvalidArgument& e) {
    if (std::string(e.what()).find("fuzz.csv") == std::string::npos) __builtin_trap();
  }
  return 0;
}
