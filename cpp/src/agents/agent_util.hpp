// Small helpers the built-in agents share: number formatting for reasoning, clamping, and
// turning a lean into a vote. Private to cpp/src/agents.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
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

inline void put(std::string& s, std::string_view t) { s += t; }
inline void put(std::string& s, char c) { s += c; }
inline void put(std::string& s, Fx f) {
  char buf[128];
  if (f.plus && !std::signbit(f.v)) s += '+';
  auto r = std::to_chars(buf, buf + sizeof(buf), f.v, std::chars_format::fixed, f.decimals);
  if (r.ec != std::errc()) r = std::to_chars(buf, buf + sizeof(buf), f.v);  // huge: shortest form
  s.append(buf, r.ptr);
}

// One reasoning line from text and numbers, built with one allocation.
template <typename... Parts>
std::string say(const Parts&... parts) {
  std::string s;
  s.reserve(96);
  (put(s, parts), ...);
  return s;
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
inline Vote vote_from_lean(double lean, double threshold, std::vector<std::string> why) {
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

inline Vote make_vote(Action a, double confidence, std::vector<std::string> why) {
  Vote v;
  v.action = a;
  v.confidence = confidence;
  v.reasoning = std::move(why);
  return v;
}

}  // namespace gs::agents_detail
