// Small helpers the built-in agents share: number formatting for reasoning, clamping, and
// turning a lean into a vote. Private to cpp/src/agents.
//
// The agents decide first and hand their reasoning over as Reasoning::later(writer): the
// writer captures the numbers it prints by value and runs only if someone reads the lines.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "goldensignals/core/types.hpp"

namespace gs::agents_detail {

// A number to print with a fixed count of decimals; `plus` prints a '+' on non-negatives.
struct Fx {
  double v;
  int decimals;
  bool plus;
};
inline Fx fx(double v, int decimals) { return {v, decimals, false}; }
inline Fx sfx(double v, int decimals) { return {v, decimals, true}; }

// One reasoning line, composed in a stack buffer and copied once into a right-sized string:
// formatting is most of an agent's work whenever its reasoning is read.
class Line {
 public:
  template <std::size_t N>
  void put(const char (&lit)[N]) {
    append(lit, N - 1);  // a compile-time size: the copy is inlined
  }
  void put(const char* s) { put(std::string_view(s)); }
  void put(std::string_view t) { append(t.data(), t.size()); }
  void put(Fx f) {
    char tmp[32];
    char* const end = tmp + sizeof(tmp);
    char* p = fixed(f, end);
    if (p == nullptr) {  // outside the fast path: let the library format it
      auto r = std::to_chars(tmp, end, f.v, std::chars_format::fixed, f.decimals);
      if (r.ec != std::errc()) r = std::to_chars(tmp, end, f.v);
      append(tmp, static_cast<std::size_t>(r.ptr - tmp));
      return;
    }
    append(p, static_cast<std::size_t>(end - p));
  }
  [[nodiscard]] std::string str() const { return {buf_, n_}; }

 private:
  // Writes f backwards ending at `end`; nullptr when |v| >= 1e15 or decimals not in [0, 2].
  // Correctly rounded, half to even, as printf and Python's format: x * 100 is exact in long
  // double (53 + 7 bits fit 64), and adding and subtracting 1.5 * 2^63 rounds it to an integer.
  static char* fixed(Fx f, char* end) {
    static constexpr long double kScale[] = {1.0L, 10.0L, 100.0L};
    constexpr long double kRound = 0x1.8p63L;
    if (f.decimals < 0 || f.decimals > 2 || !(std::fabs(f.v) < 1e15)) return nullptr;
    const long double scaled = static_cast<long double>(f.v) * kScale[f.decimals];
    const auto q = static_cast<long long>((scaled + kRound) - kRound);
    auto u = static_cast<unsigned long long>(q < 0 ? -q : q);
    char* p = end;
    for (int d = 0; d < f.decimals; ++d, u /= 10) *--p = static_cast<char>('0' + u % 10);
    if (f.decimals > 0) *--p = '.';
    do {
      *--p = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (std::signbit(f.v)) {
      *--p = '-';  // printf and Python print -0.00 for small negatives
    } else if (f.plus) {
      *--p = '+';
    }
    return p;
  }
  void append(const char* s, std::size_t k) {
    if (k > kCap - n_) k = kCap - n_;  // never happens with the agents' lines; truncates if so
    std::memcpy(buf_ + n_, s, k);
    n_ += k;
  }

  static constexpr std::size_t kCap = 256;
  char buf_[kCap];
  std::size_t n_ = 0;
};

using Lines = Reasoning::Lines;

// One reasoning line from text and numbers.
template <typename... Parts>
std::string say(const Parts&... parts) {
  Line line;
  (line.put(parts), ...);
  return line.str();
}

// Reasoning lines made of the given strings, moved in (an initializer list would copy them).
template <typename... S>
Lines lines_of(S&&... s) {
  Lines v;
  v.reserve(sizeof...(s));
  (v.push_back(std::forward<S>(s)), ...);
  return v;
}

inline bool all_defined(std::initializer_list<double> xs) {
  return std::all_of(xs.begin(), xs.end(), [](double x) { return std::isfinite(x); });
}

inline double clamp1(double x) { return std::min(1.0, std::max(-1.0, x)); }

// +1 / -1 when x is beyond +-eps, else 0.
inline double side(double x, double eps) { return x > eps ? 1.0 : x < -eps ? -1.0 : 0.0; }

// Percent change from `from` to `to`.
inline double pct(double to, double from) { return (to / from - 1.0) * 100.0; }

// A lean in [-1, 1] becomes BUY/SELL at or beyond +-threshold (confidence 0.5 + 0.45 |lean|),
// else HOLD, more confident the more balanced the evidence.
inline Vote vote_from_lean(double lean, double threshold, Reasoning why) {
  Vote v;
  const double a = std::abs(lean);
  if (a >= threshold) {
    v.action = lean > 0.0 ? Action::Buy : Action::Sell;
    v.confidence = 0.5 + 0.45 * std::min(a, 1.0);
  } else {
    v.action = Action::Hold;
    v.confidence = 0.3 + 0.4 * (1.0 - a / threshold);
  }
  v.reasoning = std::move(why);
  return v;
}

inline Vote make_vote(Action a, double confidence, Reasoning why) {
  Vote v;
  v.action = a;
  v.confidence = confidence;
  v.reasoning = std::move(why);
  return v;
}

}  // namespace gs::agents_detail
