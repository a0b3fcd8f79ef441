#include "goldensignals/core/types.hpp"

namespace gs {

std::string_view to_string(Action a) noexcept {
  switch (a) {
    case Action::Buy:
      return "BUY";
    case Action::Sell:
      return "SELL";
    case Action::Hold:
      return "HOLD";
  }
  return "HOLD";
}

std::optional<Action> parse_action(std::string_view s) noexcept {
  if (s == "BUY") return Action::Buy;
  if (s == "SELL") return Action::Sell;
  if (s == "HOLD") return Action::Hold;
  return std::nullopt;
}

std::string_view to_string(AgentStatus s) noexcept {
  switch (s) {
    case AgentStatus::Ok:
      return "ok";
    case AgentStatus::Abstain:
      return "abstain";
    case AgentStatus::Timeout:
      return "timeout";
    case AgentStatus::Failed:
      return "failed";
    case AgentStatus::Disabled:
      return "disabled";
  }
  return "failed";
}

}  // namespace gs
