#include "goldensignals/core/validate.hpp"

#include <charconv>
#include <cmath>

#include "goldensignals/core/errors.hpp"

namespace gs {

std::string fmt_num(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

Action parse_action_or_throw(std::string_view s, std::string_view what) {
  std::string up(s);
  for (char& c : up) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (auto a = parse_action(up)) return *a;
  throw InvalidArgument(std::string(what) + ": unknown action '" + std::string(s) +
                        "'; expected BUY, SELL or HOLD");
}

std::optional<std::string> vote_problem(const Vote& v, std::string_view who) {
  if (!std::isfinite(v.confidence) || v.confidence < 0.0 || v.confidence > 1.0) {
    return std::string(who) + ": confidence " + fmt_num(v.confidence) +
           " is not accepted; expected a finite number in [0, 1]";
  }
  if (v.target_price && (!std::isfinite(*v.target_price) || *v.target_price <= 0.0)) {
    return std::string(who) + ": target_price " + fmt_num(*v.target_price) +
           " is not accepted; expected a finite price > 0";
  }
  if (v.stop_loss && (!std::isfinite(*v.stop_loss) || *v.stop_loss <= 0.0)) {
    return std::string(who) + ": stop_loss " + fmt_num(*v.stop_loss) +
           " is not accepted; expected a finite price > 0";
  }
  return std::nullopt;
}

void validate_vote(const Vote& v, std::string_view who) {
  if (auto p = vote_problem(v, who)) throw InvalidArgument(*p);
}

}  // namespace gs
