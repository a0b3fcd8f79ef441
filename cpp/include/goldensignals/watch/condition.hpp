// A custom alert's condition: `price > 200 and rsi_14 < 30`, `votes.Momentum == "BUY"`.
// Parsed once by a small recursive-descent parser (no eval; bounded length and depth) into a
// flat tree, then evaluated against a symbol's facts on every price and signal.
//
//   condition  := or
//   or         := and ("or" and)*
//   and        := not ("and" not)*
//   not        := "not" not | "(" or ")" | comparison
//   comparison := operand ("<" | "<=" | ">" | ">=" | "==" | "=" | "!=") operand
//   operand    := number | 'text' | "text" | name
//
// Names: price, volume, change, change_percent, every indicator the market state keeps
// (rsi_14, sma_20, ...), the latest signal's action and confidence, and votes.<Agent> (that
// agent's vote in the latest signal). Numbers compare with numbers and text with text (== and
// != only). A value not known yet (an indicator in its lead-in, no signal yet, an agent that
// did not vote) makes its comparison unknown: `and`, `or` and `not` follow SQL's three-valued
// logic, and only a condition that is true fires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/indicators/indicator_set.hpp"

namespace gs::watch {

// A condition that does not parse; `position` is the 0-based offset of the offending token.
class ConditionError : public InvalidArgument {
 public:
  ConditionError(std::size_t position, const std::string& what)
      : InvalidArgument("condition: at position " + std::to_string(position) + ": " + what),
        position_(position) {}
  [[nodiscard]] std::size_t position() const noexcept { return position_; }

 private:
  std::size_t position_;
};

// What a condition can see of one symbol. NaN (numbers) and "" (text): not known yet.
struct Facts {
  double price = ind::kNaN;
  double volume = ind::kNaN;
  double change = ind::kNaN;
  double change_percent = ind::kNaN;
  ind::IndicatorValues indicators;
  std::string action;  // the latest signal: BUY, SELL or HOLD
  double confidence = ind::kNaN;
  std::map<std::string, std::string, std::less<>> votes;  // agent -> its vote in that signal
};

enum class Truth : std::uint8_t { False, True, Unknown };

class Condition {
 public:
  static constexpr std::size_t kMaxDepth = 16;  // nested parentheses and nots

  // Throws ConditionError for text that does not parse or is longer than `max_length`.
  static Condition parse(std::string_view text, std::size_t max_length);

  [[nodiscard]] Truth evaluate(const Facts& facts) const;
  // The current value of every name the condition uses (null when not known): what made it
  // true, for the alert.
  [[nodiscard]] nlohmann::json values(const Facts& facts) const;
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

  using Value = std::variant<std::monostate, double, std::string>;
  struct Operand {
    enum class Kind : std::uint8_t { Number, Text, Name } kind = Kind::Number;
    double number = 0;
    std::string text;  // Text: the literal; Name: the name
  };
  enum class Op : std::uint8_t { Lt, Le, Gt, Ge, Eq, Ne, And, Or, Not };
  struct Node {
    Op op = Op::Eq;
    std::size_t a = 0, b = 0;  // children (And, Or: both; Not: a) or operands (comparisons)
  };

 private:
  friend class Parser;
  [[nodiscard]] Truth eval(std::size_t node, const Facts& facts) const;

  std::string text_;
  std::vector<Operand> operands_;
  std::vector<Node> nodes_;  // the root is the last
  std::vector<std::string> names_;
};

// The value of `name` in `facts` (monostate when not known or no such name).
Condition::Value fact(const Facts& facts, std::string_view name);

}  // namespace gs::watch
