// Argument checks shared by the streaming and batch indicators; one message format for all.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs::ind::detail {

inline constexpr int kMaxPeriod = 100000;  // TA-Lib's upper bound for every period

inline void check_period(const char* fn, const char* param, int v, int lo) {
  if (v < lo || v > kMaxPeriod) {
    throw InvalidArgument(std::string(fn) + ": " + param + " " + std::to_string(v) +
                          " is not accepted; expected an integer in [" + std::to_string(lo) + ", " +
                          std::to_string(kMaxPeriod) + "]");
  }
}

inline void check_finite_param(const char* fn, const char* param, double v) {
  if (!std::isfinite(v)) {
    throw InvalidArgument(std::string(fn) + ": " + param + " " + fmt_num(v) +
                          " is not accepted; expected a finite number");
  }
}

// A streaming input that would poison the state forever.
inline void check_input(const char* fn, const char* input, double v) {
  if (!std::isfinite(v)) {
    throw InvalidArgument(std::string(fn) + ": input " + input + " " + fmt_num(v) +
                          " is not accepted; expected a finite number");
  }
}

}  // namespace gs::ind::detail
