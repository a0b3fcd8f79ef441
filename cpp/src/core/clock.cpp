#include "goldensignals/core/clock.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "goldensignals/core/errors.hpp"

namespace gs {

std::int64_t now_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

// Writes `v` as exactly `n` decimal digits ending just before `end`; returns where they begin.
char* put_digits(char* end, unsigned v, int n) {
  while (n-- > 0) {
    *--end = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return end;
}

// Any time gmtime can take, years outside 0-9999 included (written as %04d writes them).
std::string iso8601_ms_general(std::int64_t ms) {
  std::int64_t secs = ms / 1000;
  std::int64_t rem = ms % 1000;
  if (rem < 0) {  // floor for times before the epoch
    rem += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 96> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem));
  return std::string(buf.data());
}

}  // namespace

std::string iso8601_ms(std::int64_t ms) {
  using namespace std::chrono;
  constexpr std::int64_t kYear0 = -62'167'219'200'000;      // 0000-01-01T00:00:00.000Z
  constexpr std::int64_t kYear10000 = 253'402'300'800'000;  // 10000-01-01T00:00:00.000Z
  if (ms < kYear0 || ms >= kYear10000) return iso8601_ms_general(ms);
  // 2024-01-02T03:04:05.678Z, written without gmtime and printf: every message of the server
  // carries one.
  const sys_time<milliseconds> t{milliseconds{ms}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  auto of_day = static_cast<unsigned>((t - day).count());
  std::string out(24, ' ');
  char* p = out.data();
  put_digits(p + 4, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  p[4] = '-';
  put_digits(p + 7, static_cast<unsigned>(ymd.month()), 2);
  p[7] = '-';
  put_digits(p + 10, static_cast<unsigned>(ymd.day()), 2);
  p[10] = 'T';
  put_digits(p + 23, of_day % 1000, 3);
  of_day /= 1000;
  put_digits(p + 19, of_day % 60, 2);
  p[19] = '.';
  of_day /= 60;
  put_digits(p + 16, of_day % 60, 2);
  p[16] = ':';
  put_digits(p + 13, of_day / 60, 2);
  p[13] = ':';
  p[23] = 'Z';
  return out;
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) noexcept {
  using namespace std::chrono;
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (!digits(0, 4, y) || text.size() < 10 || text[4] != '-' || !digits(5, 2, mo) ||
      text[7] != '-' || !digits(8, 2, d)) {
    return std::nullopt;
  }
  std::size_t pos = 10;
  if (pos < text.size()) {
    if ((text[pos] != 'T' && text[pos] != ' ') || !digits(pos + 1, 2, h) || text.size() < pos + 9 ||
        text[pos + 3] != ':' || !digits(pos + 4, 2, mi) || text[pos + 6] != ':' ||
        !digits(pos + 7, 2, s)) {
      return std::nullopt;
    }
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      std::size_t n = 0;
      int scale = 100;
      for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++n) {
        ms += (text[pos] - '0') * scale;
        scale /= 10;
      }
      if (n == 0) return std::nullopt;
    }
    const auto zone = text.substr(pos);
    if (!zone.empty() && zone != "Z" && zone != "+00:00") return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  const auto t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s) + milliseconds(ms);
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

std::string uuid4() {
  // One generator per thread: no lock, no shared state.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t hi = (rng() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  const std::uint64_t lo = (rng() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx: the 32 hex digits of hi then lo, dashes between.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t at = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (at == 8 || at == 13 || at == 18 || at == 23) ++at;
    const std::uint64_t word = nibble < 16 ? hi : lo;
    out[at++] = kHex[(word >> (60 - 4 * (nibble % 16))) & 0xF];
  }
  return out;
}

bool is_valid_symbol(std::string_view s) noexcept {
  if (s.empty() || s.size() > 16) return false;
  auto alnum = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(s[0])) return false;
  for (char c : s.substr(1)) {
    if (!(alnum(c) || c == '.' || c == '-' || c == '^' || c == '=')) return false;
  }
  return true;
}

std::string normalize_symbol(std::string_view s) {
  std::string up(s);
  for (char& c : up) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (!is_valid_symbol(up)) {
    throw InvalidArgument("symbol '" + std::string(s) +
                          "' is not valid: expected 1-16 characters matching "
                          "^[A-Z0-9][A-Z0-9.\\-^=]{0,15}$ (case-insensitive)");
  }
  return up;
}

}  // namespace gs
