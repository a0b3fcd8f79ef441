#include "goldensignals/market/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"

namespace gs {
namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::stringstream ss(line);
  while (std::getline(ss, cell, ',')) {
    cell.erase(0, cell.find_first_not_of(" \t\""));
    cell.erase(cell.find_last_not_of(" \t\"\r") + 1);
    out.push_back(cell);
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<double> number(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> epoch_ms(const std::string& s) {
  if (auto n = number(s)) return static_cast<std::int64_t>(std::llround(*n * 1000.0));
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double sec = 0;
  char t = 0;
  const int got =
      std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%lf", &y, &mo, &d, &t, &h, &mi, &sec);
  if (got != 3 && got < 6) return std::nullopt;
  if (got >= 4 && t != 'T' && t != ' ') return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = got >= 6 ? h : 0;
  tm.tm_min = got >= 6 ? mi : 0;
  tm.tm_sec = 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 +
         static_cast<std::int64_t>(std::llround((got == 7 ? sec : 0.0) * 1000.0));
}

}  // namespace

std::map<std::string, std::vector<Bar>> read_ohlcv_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgument("replay file '" + path + "' cannot be opened");
  return parse_ohlcv_csv(in, path);
}

std::map<std::string, std::vector<Bar>> parse_ohlcv_csv(std::istream& in,
                                                        const std::string& path) {
  std::string line;
  if (!std::getline(in, line)) throw InvalidArgument("replay file '" + path + "' is empty");
  const auto header = split(line);
  auto find = [&](std::initializer_list<const char*> names) -> int {
    for (std::size_t i = 0; i < header.size(); ++i) {
      for (const char* n : names) {
        if (lower(header[i]) == n) return static_cast<int>(i);
      }
    }
    return -1;
  };
  const int date = find({"date", "datetime", "timestamp", "time"});
  const int cols[5] = {find({"open"}), find({"high"}), find({"low"}), find({"close"}),
                       find({"volume"})};
  const int sym = find({"symbol"});
  static const char* names[5] = {"open", "high", "low", "close", "volume"};
  if (date < 0) {
    throw InvalidArgument("replay file '" + path +
                          "': no date column (date, datetime, timestamp or time) in '" + line +
                          "'");
  }
  for (int k = 0; k < 5; ++k) {
    if (cols[k] < 0) {
      throw InvalidArgument("replay file '" + path + "': no " + names[k] + " column in '" + line +
                            "'");
    }
  }
  std::map<std::string, std::vector<Bar>> out;
  for (int lineno = 2; std::getline(in, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto cells = split(line);
    auto cell = [&](int i) -> const std::string& {
      static const std::string empty;
      return i < static_cast<int>(cells.size()) ? cells[static_cast<std::size_t>(i)] : empty;
    };
    const auto where = [&](const char* col, const std::string& v) {
      return "replay file '" + path + "' line " + std::to_string(lineno) + ": " + col + " '" + v +
             "'";
    };
    Bar b;
    auto ts = epoch_ms(cell(date));
    if (!ts) throw InvalidArgument(where("date", cell(date)) + " is not a date");
    b.ts_ms = *ts;
    double* fields[5] = {&b.open, &b.high, &b.low, &b.close, &b.volume};
    for (int k = 0; k < 5; ++k) {
      auto v = number(cell(cols[k]));
      if (!v || !std::isfinite(*v))
        throw InvalidArgument(where(names[k], cell(cols[k])) + " is not a number");
      *fields[k] = *v;
    }
    std::string symbol;
    if (sym >= 0) {
      try {
        symbol = normalize_symbol(cell(sym));
      } catch (const InvalidArgument& e) {
        throw InvalidArgument(where("symbol", cell(sym)) + " is not accepted: " + e.what());
      }
    }
    out[symbol].push_back(b);
  }
  if (out.empty()) throw InvalidArgument("replay file '" + path + "' has no rows");
  return out;
}

}  // namespace gs
