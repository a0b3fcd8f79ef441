// The consensus rules; docs/consensus.md gives them with their reasons and guarantees.
#include "goldensignals/consensus/consensus.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs {
namespace {

constexpr double kMaxConfidence = 0.99;
constexpr double kStrongAgreement = 0.8;
constexpr double kMinThreshold = 0.5;  // below half, two actions could both "win"
constexpr std::array<Action, 3> kActions{Action::Buy, Action::Sell, Action::Hold};

std::size_t idx(Action a) { return static_cast<std::size_t>(a); }

// A vote that counts, with its weight rescaled (see decide) and its score.
struct Counted {
  const Ballot* ballot;
  double weight;
  double score;
};

// Lower weighted median of (value, weight) pairs: the smallest value whose cumulative weight
// reaches half the total. Zero weights have no say; empty when no weight is positive.
std::optional<double> weighted_median(std::vector<std::pair<double, double>> vw) {
  std::erase_if(vw, [](const auto& p) { return !(p.second > 0.0); });
  if (vw.empty()) return std::nullopt;
  std::sort(vw.begin(), vw.end());  // by value, then weight: one order for any input order
  double total = 0.0;
  for (const auto& p : vw) total += p.second;
  double cum = 0.0;
  for (const auto& [value, weight] : vw) {
    cum += weight;
    if (cum * 2.0 >= total) return value;
  }
  return vw.back().first;
}

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, x);
  return buf;
}

// Decimals enough (2 to 9) to tell x from y in a message, so "0.70 below 0.70" never appears.
int digits_to_tell(double x, double y) {
  int d = 2;
  while (d < 9 && fixed(x, d) == fixed(y, d)) ++d;
  return d;
}

std::string shares(const std::array<double, 3>& score, double total, int digits) {
  std::string s;
  for (Action a : kActions) {
    if (score[idx(a)] <= 0.0) continue;
    if (!s.empty()) s += ", ";
    s += std::string(to_string(a)) + " " + fixed(score[idx(a)] / total, digits);
  }
  return s;
}

void check_ballots(std::span<const Ballot> ballots) {
  std::vector<std::string_view> names;
  names.reserve(ballots.size());
  for (const Ballot& b : ballots) {
    if (!std::isfinite(b.weight) || b.weight < 0.0) {
      throw InvalidArgument("agent '" + b.agent + "': weight " + fmt_num(b.weight) +
                            " is not accepted; expected a finite number >= 0");
    }
    names.push_back(b.agent);
  }
  std::sort(names.begin(), names.end());
  auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end()) {
    throw InvalidArgument("agent '" + std::string(*dup) +
                          "' appears more than once in the ballots; agent names must be unique");
  }
}

// Power of two that brings the largest weight into [0.5, 1): exact, so scaling every weight by
// a power of two changes no bit of the result, and sums of weights cannot overflow.
int weight_exponent(std::span<const Ballot> ballots) {
  double max_w = 0.0;
  for (const Ballot& b : ballots) max_w = std::max(max_w, b.weight);
  int e = 0;
  if (max_w > 0.0) std::frexp(max_w, &e);
  return e;
}

bool counts(const Ballot& b, const ConsensusPolicy& p) {
  return b.status == AgentStatus::Ok && b.vote && !vote_problem(*b.vote, b.agent) &&
         b.vote->confidence >= p.min_confidence;
}

// Target or stop from the winners' own levels (weighted median), else from ATR.
std::optional<double> level(const std::vector<Counted>& winners, std::optional<double> Vote::*field,
                            Action action, double price, double atr, double atr_mult,
                            bool above_for_buy) {
  std::vector<std::pair<double, double>> vw;
  for (const Counted& c : winners) {
    if (auto v = (*c.ballot->vote).*field) vw.emplace_back(*v, c.weight);
  }
  std::optional<double> out = weighted_median(std::move(vw));
  if (!out && action != Action::Hold && std::isfinite(price) && std::isfinite(atr) && price > 0.0 &&
      atr > 0.0) {
    const bool above = (action == Action::Buy) == above_for_buy;
    out = above ? price + atr_mult * atr : price - atr_mult * atr;
  }
  if (out && !(std::isfinite(*out) && *out > 0.0)) out.reset();  // never a price <= 0
  return out;
}

}  // namespace

void ConsensusPolicy::validate() const {
  auto bad = [](const char* field, double v, const char* range) {
    return InvalidArgument(std::string("consensus policy: ") + field + " " + fmt_num(v) +
                           " is not accepted; expected " + range);
  };
  if (!(min_confidence >= 0.0 && min_confidence <= 1.0)) {
    throw bad("min_confidence", min_confidence, "a number in [0, 1]");
  }
  if (!(threshold >= 0.0 && threshold <= 1.0)) {
    throw bad("threshold", threshold, "a number in [0, 1] (values below 0.5 act as 0.5)");
  }
  if (min_agents < 1) throw bad("min_agents", min_agents, "an integer >= 1");
  if (!(std::isfinite(target_atr) && target_atr >= 0.0)) {
    throw bad("target_atr", target_atr, "a finite number >= 0");
  }
  if (!(std::isfinite(stop_atr) && stop_atr >= 0.0)) {
    throw bad("stop_atr", stop_atr, "a finite number >= 0");
  }
}

std::string_view to_string(Strength s) noexcept {
  switch (s) {
    case Strength::Strong:
      return "STRONG";
    case Strength::Moderate:
      return "MODERATE";
    case Strength::Weak:
      return "WEAK";
  }
  return "WEAK";
}

std::string ConsensusResult::action_name() const {
  return action ? std::string(to_string(*action)) : std::string("NO_SIGNAL");
}

ConsensusResult decide(std::span<const Ballot> ballots, const ConsensusPolicy& policy, double price,
                       double atr) {
  policy.validate();
  check_ballots(ballots);
  const int exponent = weight_exponent(ballots);

  ConsensusResult r;
  std::vector<Counted> counted;
  int weak = 0;
  for (const Ballot& b : ballots) {
    if (b.status == AgentStatus::Disabled) continue;
    ++r.total_agents;
    if (b.status == AgentStatus::Ok || b.status == AgentStatus::Abstain) ++r.completed_agents;
    if (b.status == AgentStatus::Timeout || b.status == AgentStatus::Failed) {
      r.faulty_agents.push_back(b.agent);
    }
    if (counts(b, policy)) {
      const double w = std::ldexp(b.weight, -exponent);
      counted.push_back({&b, w, w * b.vote->confidence});
    } else if (b.status == AgentStatus::Ok && b.vote) {
      ++weak;
    }
  }
  // Sum in name order: floating-point sums then do not depend on the ballots' order.
  std::sort(counted.begin(), counted.end(),
            [](const Counted& a, const Counted& b) { return a.ballot->agent < b.ballot->agent; });

  const int n = r.total_agents;
  const int f = n > 0 ? (n - 1) / 3 : 0;
  r.quorum = std::max(policy.min_agents, 2 * f + 1);
  r.valid_votes = static_cast<int>(counted.size());
  for (const Counted& c : counted) r.counted_agents.push_back(c.ballot->agent);

  std::array<double, 3> score{};
  for (const Counted& c : counted) score[idx(c.ballot->vote->action)] += c.score;
  const double total = score[0] + score[1] + score[2];
  Action lead = Action::Buy;
  for (Action a : kActions) {
    if (score[idx(a)] > score[idx(lead)]) lead = a;
  }
  r.agreement = total > 0.0 ? score[idx(lead)] / total : 0.0;
  const double threshold = std::max(policy.threshold, kMinThreshold);

  if (r.valid_votes < r.quorum) {
    r.reason = "quorum not reached: " + std::to_string(r.valid_votes) + " of " + std::to_string(n) +
               " agents voted (need " + std::to_string(r.quorum) + ")";
    if (weak > 0) {
      r.reason +=
          "; " + std::to_string(weak) + " below min_confidence " + fmt_num(policy.min_confidence);
    }
    return r;
  }
  if (!(total > 0.0)) {
    r.reason = "no weight behind the votes: every counted vote has weight * confidence 0";
    return r;
  }
  if (r.agreement < threshold) {
    const int d = digits_to_tell(r.agreement, threshold);
    r.reason = "agreement " + fixed(r.agreement, d) + " below threshold " + fixed(threshold, d) +
               " (" + shares(score, total, d) + ")";
    return r;
  }
  for (Action a : kActions) {
    if (a != lead && score[idx(a)] == score[idx(lead)]) {
      r.reason = "tie: " + std::string(to_string(lead)) + " and " + std::string(to_string(a)) +
                 " have equal scores (" + shares(score, total, 2) + ")";
      return r;
    }
  }

  r.action = lead;
  std::vector<Counted> winners;
  for (const Counted& c : counted) {
    if (c.ballot->vote->action == lead) winners.push_back(c);
  }
  r.agreeing_agents = static_cast<int>(winners.size());

  std::vector<std::pair<double, double>> conf;
  for (const Counted& c : winners) conf.emplace_back(c.ballot->vote->confidence, c.weight);
  // The lead's score is > 0, so some winner has a positive weight: the median exists.
  r.confidence =
      std::min(weighted_median(std::move(conf)).value_or(0.0) * r.agreement, kMaxConfidence);

  if (r.agreement >= kStrongAgreement && r.agreeing_agents >= 2 * f + 1) {
    r.strength = Strength::Strong;
  } else {
    r.strength = r.agreement >= threshold ? Strength::Moderate : Strength::Weak;
  }

  // Strongest first; equal scores by name, so the order does not depend on the ballots' order.
  std::stable_sort(winners.begin(), winners.end(),
                   [](const Counted& a, const Counted& b) { return a.score > b.score; });
  std::set<std::string_view> seen;
  for (const Counted& c : winners) {
    for (const std::string& line : c.ballot->vote->reasoning) {
      if (seen.insert(line).second) r.reasoning.push_back(line);
    }
  }

  r.target_price = level(winners, &Vote::target_price, lead, price, atr, policy.target_atr, true);
  r.stop_loss = level(winners, &Vote::stop_loss, lead, price, atr, policy.stop_atr, false);
  return r;
}

}  // namespace gs
