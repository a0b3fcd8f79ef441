// OHLCV bars from a CSV file, for replay by the native server.
#pragma once

#include <istream>
#include <map>
#include <string>
#include <vector>

#include "goldensignals/core/types.hpp"

namespace gs {

// Reads a CSV with a header naming a date column (date, datetime, timestamp or time) and
// open, high, low, close, volume (any case, any order); an optional symbol column splits the
// bars by symbol (key "" without one). Dates: YYYY-MM-DD, YYYY-MM-DD[ T]HH:MM:SS[.fff][Z]
// (UTC) or epoch seconds. Throws InvalidArgument naming the file, line, column and value.
std::map<std::string, std::vector<Bar>> read_ohlcv_csv(const std::string& path);
// The same from a stream; `path` names it in messages.
std::map<std::string, std::vector<Bar>> parse_ohlcv_csv(std::istream& in, const std::string& path);

}  // namespace gs
