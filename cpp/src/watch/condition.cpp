#include "goldensignals/watch/condition.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

namespace gs::watch {

namespace {

enum class NameType : std::uint8_t { Number, Text };

constexpr std::array<std::string_view, 6> kVotes = {"BUY",     "SELL",    "HOLD",
                                                    "ABSTAIN", "TIMEOUT", "FAILED"};

// The type of a known name; nullopt for a name that does not exist.
std::optional<NameType> type_of(std::string_view name) {
  if (name == "action" || name.starts_with("votes.")) return NameType::Text;
  for (const auto* n : {"price", "volume", "change", "change_percent", "confidence"}) {
    if (name == n) return NameType::Number;
  }
  for (const auto& f : ind::IndicatorValues::fields()) {
    if (name == f.first) return NameType::Number;
  }
  return std::nullopt;
}

std::string known_names() {
  std::string out = "price, volume, change, change_percent, ";
  for (const auto& f : ind::IndicatorValues::fields()) out += std::string(f.first) + ", ";
  return out + "action, confidence, votes.<Agent>";
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

struct Token {
  enum class Kind : std::uint8_t { End, Number, Text, Name, Op, LParen, RParen, And, Or, Not };
  Kind kind = Kind::End;
  std::size_t pos = 0;
  std::string text;  // as written (Text: the literal without quotes)
  double number = 0;
};

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}

std::string shown(const Token& t) {
  switch (t.kind) {
    case Token::Kind::End:
      return "the end";
    case Token::Kind::Text:
      return "'" + t.text + "'";
    default:
      return "'" + t.text + "'";
  }
}

}  // namespace

class Parser {
 public:
  Parser(std::string_view text, Condition& out) : s_(text), out_(out) { next(); }

  void parse() {
    const auto root = parse_or(0);
    if (tok_.kind != Token::Kind::End) {
      fail(tok_.pos, "expected 'and', 'or' or the end after a comparison, found " + shown(tok_));
    }
    (void)root;
  }

 private:
  [[noreturn]] static void fail(std::size_t pos, const std::string& what) {
    throw ConditionError(pos, what);
  }

  void next() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])) != 0) ++i_;
    tok_ = Token{};
    tok_.pos = i_;
    if (i_ >= s_.size()) return;
    const char c = s_[i_];
    if (c == '(' || c == ')') {
      tok_.kind = c == '(' ? Token::Kind::LParen : Token::Kind::RParen;
      tok_.text = std::string(1, c);
      ++i_;
      return;
    }
    if (c == '\'' || c == '"') {
      const auto end = s_.find(c, i_ + 1);
      if (end == std::string_view::npos)
        fail(i_, "the text started here has no closing " + std::string(1, c));
      tok_.kind = Token::Kind::Text;
      tok_.text = std::string(s_.substr(i_ + 1, end - i_ - 1));
      i_ = end + 1;
      return;
    }
    if (c == '<' || c == '>' || c == '=' || c == '!') {
      const bool two = i_ + 1 < s_.size() && s_[i_ + 1] == '=';
      tok_.kind = Token::Kind::Op;
      tok_.text = std::string(s_.substr(i_, two ? 2 : 1));
      if (tok_.text == "!") fail(i_, "'!' alone is not an operator; use '!=' or 'not'");
      i_ += two ? 2 : 1;
      return;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '+' || c == '.') {
      std::size_t j = i_;
      if (s_[j] == '-' || s_[j] == '+') ++j;
      while (j < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[j])) != 0 || s_[j] == '.' ||
              ((s_[j] == '-' || s_[j] == '+') && (s_[j - 1] == 'e' || s_[j - 1] == 'E')))) {
        ++j;
      }
      const auto lit = s_.substr(i_, j - i_);
      const char* first = lit.data() + (lit.front() == '+' ? 1 : 0);
      double v = 0;
      const auto [end, ec] = std::from_chars(first, lit.data() + lit.size(), v);
      if (ec != std::errc{} || end != lit.data() + lit.size() || !std::isfinite(v)) {
        fail(i_, "'" + std::string(lit) + "' is not a number");
      }
      tok_.kind = Token::Kind::Number;
      tok_.text = std::string(lit);
      tok_.number = v;
      i_ = j;
      return;
    }
    if (name_start(c)) {
      std::size_t j = i_;
      while (j < s_.size() && name_char(s_[j])) ++j;
      tok_.text = std::string(s_.substr(i_, j - i_));
      i_ = j;
      const auto word = upper(tok_.text);
      tok_.kind = word == "AND"   ? Token::Kind::And
                  : word == "OR"  ? Token::Kind::Or
                  : word == "NOT" ? Token::Kind::Not
                                  : Token::Kind::Name;
      return;
    }
    fail(i_, "unexpected character '" + std::string(1, c) +
                 "'; a condition uses names, numbers, 'text', comparisons, and/or/not and "
                 "parentheses");
  }

  std::size_t add(Condition::Node n) {
    out_.nodes_.push_back(n);
    return out_.nodes_.size() - 1;
  }

  std::size_t parse_or(std::size_t depth) {
    auto left = parse_and(depth);
    while (tok_.kind == Token::Kind::Or) {
      next();
      left = add({Condition::Op::Or, left, parse_and(depth)});
    }
    return left;
  }

  std::size_t parse_and(std::size_t depth) {
    auto left = parse_not(depth);
    while (tok_.kind == Token::Kind::And) {
      next();
      left = add({Condition::Op::And, left, parse_not(depth)});
    }
    return left;
  }

  std::size_t parse_not(std::size_t depth) {
    if (depth >= Condition::kMaxDepth) {
      fail(tok_.pos, "nested more than " + std::to_string(Condition::kMaxDepth) +
                         " levels deep (parentheses and nots)");
    }
    if (tok_.kind == Token::Kind::Not) {
      next();
      return add({Condition::Op::Not, parse_not(depth + 1), 0});
    }
    if (tok_.kind == Token::Kind::LParen) {
      const auto open = tok_.pos;
      next();
      const auto inner = parse_or(depth + 1);
      if (tok_.kind != Token::Kind::RParen) {
        fail(tok_.pos, "expected ')' to close the '(' at position " + std::to_string(open) +
                           ", found " + shown(tok_));
      }
      next();
      return inner;
    }
    return comparison();
  }

  struct Side {
    std::size_t operand;
    std::optional<NameType> type;  // nullopt: a literal that fits either side
    std::size_t pos;
    std::string shown;
  };

  Side operand() {
    Condition::Operand o;
    Side side{0, std::nullopt, tok_.pos, shown(tok_)};
    switch (tok_.kind) {
      case Token::Kind::Number:
        o.kind = Condition::Operand::Kind::Number;
        o.number = tok_.number;
        side.type = NameType::Number;
        break;
      case Token::Kind::Text:
        o.kind = Condition::Operand::Kind::Text;
        o.text = tok_.text;
        side.type = NameType::Text;
        break;
      case Token::Kind::Name: {
        const auto t = type_of(tok_.text);
        if (!t || tok_.text == "votes.") {
          fail(tok_.pos, "unknown name '" + tok_.text + "'; known: " + known_names());
        }
        o.kind = Condition::Operand::Kind::Name;
        o.text = tok_.text;
        side.type = t;
        if (std::find(out_.names_.begin(), out_.names_.end(), o.text) == out_.names_.end()) {
          out_.names_.push_back(o.text);
        }
        break;
      }
      default:
        fail(tok_.pos, "expected a name, a number or 'text', found " + shown(tok_));
    }
    next();
    out_.operands_.push_back(std::move(o));
    side.operand = out_.operands_.size() - 1;
    return side;
  }

  std::size_t comparison() {
    auto a = operand();
    if (tok_.kind != Token::Kind::Op) {
      fail(tok_.pos, "expected a comparison (<, <=, >, >=, ==, !=) after " + a.shown + ", found " +
                         shown(tok_));
    }
    const auto op_tok = tok_;
    const auto& w = op_tok.text;
    const auto op = w == "<"    ? Condition::Op::Lt
                    : w == "<=" ? Condition::Op::Le
                    : w == ">"  ? Condition::Op::Gt
                    : w == ">=" ? Condition::Op::Ge
                    : w == "!=" ? Condition::Op::Ne
                                : Condition::Op::Eq;  // == or =
    next();
    auto b = operand();
    if (a.type != b.type) {
      fail(b.pos, "cannot compare " + a.shown + " (" + kind_name(a.type) + ") with " + b.shown +
                      " (" + kind_name(b.type) + ")");
    }
    if (a.type == NameType::Text) {
      if (op != Condition::Op::Eq && op != Condition::Op::Ne) {
        fail(op_tok.pos, "text compares only with == and !=, not '" + w + "'");
      }
      for (auto* s : {&a, &b}) {
        auto& o = out_.operands_[s->operand];
        if (o.kind != Condition::Operand::Kind::Text) continue;
        o.text = upper(o.text);
        if (std::find(kVotes.begin(), kVotes.end(), o.text) == kVotes.end()) {
          fail(s->pos, s->shown +
                           " is never an action or a vote; expected BUY, SELL, HOLD, "
                           "ABSTAIN, TIMEOUT or FAILED");
        }
      }
    }
    if (out_.operands_[a.operand].kind != Condition::Operand::Kind::Name &&
        out_.operands_[b.operand].kind != Condition::Operand::Kind::Name) {
      fail(a.pos, "compares two constants; use a name (price, rsi_14, ...) on one side");
    }
    return add({op, a.operand, b.operand});
  }

  static std::string kind_name(std::optional<NameType> t) {
    return t == NameType::Text ? "text" : "a number";
  }

  std::string_view s_;
  Condition& out_;
  std::size_t i_ = 0;
  Token tok_;
};

Condition Condition::parse(std::string_view text, std::size_t max_length) {
  if (text.size() > max_length) {
    throw ConditionError(max_length, "longer than " + std::to_string(max_length) +
                                         " characters (GS_ALERT_MAX_LENGTH); it has " +
                                         std::to_string(text.size()));
  }
  Condition c;
  c.text_ = std::string(text);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw ConditionError(0, "empty; write a comparison such as price > 200");
  }
  Parser(text, c).parse();
  return c;
}

Condition::Value fact(const Facts& f, std::string_view name) {
  auto num = [](double v) -> Condition::Value {
    if (std::isnan(v)) return std::monostate{};
    return v;
  };
  auto txt = [](const std::string& v) -> Condition::Value {
    if (v.empty()) return std::monostate{};
    return v;
  };
  if (name == "price") return num(f.price);
  if (name == "volume") return num(f.volume);
  if (name == "change") return num(f.change);
  if (name == "change_percent") return num(f.change_percent);
  if (name == "confidence") return num(f.confidence);
  if (name == "action") return txt(f.action);
  if (name.starts_with("votes.")) {
    const auto it = f.votes.find(name.substr(6));
    return it == f.votes.end() ? Condition::Value{} : txt(it->second);
  }
  for (const auto& [n, member] : ind::IndicatorValues::fields()) {
    if (name == n) return num(f.indicators.*member);
  }
  return std::monostate{};
}

Truth Condition::evaluate(const Facts& facts) const { return eval(nodes_.size() - 1, facts); }

Truth Condition::eval(std::size_t i, const Facts& facts) const {
  const auto& n = nodes_[i];
  switch (n.op) {
    case Op::And: {
      const auto a = eval(n.a, facts);
      if (a == Truth::False) return Truth::False;
      const auto b = eval(n.b, facts);
      if (b == Truth::False) return Truth::False;
      return a == Truth::True && b == Truth::True ? Truth::True : Truth::Unknown;
    }
    case Op::Or: {
      const auto a = eval(n.a, facts);
      if (a == Truth::True) return Truth::True;
      const auto b = eval(n.b, facts);
      if (b == Truth::True) return Truth::True;
      return a == Truth::False && b == Truth::False ? Truth::False : Truth::Unknown;
    }
    case Op::Not: {
      const auto a = eval(n.a, facts);
      return a == Truth::Unknown ? a : (a == Truth::True ? Truth::False : Truth::True);
    }
    default:
      break;
  }
  auto value = [&](std::size_t k) -> Value {
    const auto& o = operands_[k];
    switch (o.kind) {
      case Operand::Kind::Number:
        return o.number;
      case Operand::Kind::Text:
        return o.text;
      case Operand::Kind::Name:
        return fact(facts, o.text);
    }
    return std::monostate{};
  };
  const auto a = value(n.a);
  const auto b = value(n.b);
  if (std::holds_alternative<std::monostate>(a) || std::holds_alternative<std::monostate>(b) ||
      a.index() != b.index()) {
    return Truth::Unknown;
  }
  int cmp = 0;
  if (const auto* x = std::get_if<double>(&a)) {
    const double y = std::get<double>(b);
    cmp = *x < y ? -1 : (*x > y ? 1 : 0);
  } else {
    cmp = std::get<std::string>(a).compare(std::get<std::string>(b));
  }
  bool r = false;
  switch (n.op) {
    case Op::Lt:
      r = cmp < 0;
      break;
    case Op::Le:
      r = cmp <= 0;
      break;
    case Op::Gt:
      r = cmp > 0;
      break;
    case Op::Ge:
      r = cmp >= 0;
      break;
    case Op::Eq:
      r = cmp == 0;
      break;
    case Op::Ne:
      r = cmp != 0;
      break;
    default:
      break;
  }
  return r ? Truth::True : Truth::False;
}

nlohmann::json Condition::values(const Facts& facts) const {
  auto out = nlohmann::json::object();
  for (const auto& name : names_) {
    const auto v = fact(facts, name);
    if (const auto* d = std::get_if<double>(&v)) {
      out[name] = *d;
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      out[name] = *s;
    } else {
      out[name] = nullptr;
    }
  }
  return out;
}

}  // namespace gs::watch
