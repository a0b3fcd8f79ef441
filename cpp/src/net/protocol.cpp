#include "goldensignals/net/protocol.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <iterator>
#include <optional>

#include "goldensignals/broadcast/protobuf.hpp"
#include "goldensignals/core/clock.hpp"

namespace gs::proto {

namespace {

Problem bad(std::string msg) { return {"bad_request", "error", std::move(msg)}; }

std::string now_iso() { return iso8601_ms(now_ms()); }

// Client text may be cut mid-character when quoted back: replace, never throw.
std::string text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A flat JSON object of string and boolean members, written straight into its text: the
// messages every connection gets (welcome, confirmations, heartbeats) are built this way, at a
// tenth of what building and dumping an nlohmann::json costs. The members are given in order
// of their names, as nlohmann::json writes them, so the text is the same either way. Values
// come from the server or from a parsed JSON text; any that is not plain ASCII is written by
// nlohmann::json (bytes that are not UTF-8 replaced, as text() does).
class FlatObject {
 public:
  FlatObject() { out_.reserve(160); }  // one allocation for each of these messages
  FlatObject& str(std::string_view key, std::string_view value) {
    if (std::any_of(value.begin(), value.end(),
                    [](char c) { return kNotPlain[static_cast<unsigned char>(c)]; })) {
      return escaped(key, value);
    }
    // Plain ASCII (nearly always): ,"key":"value" copied into place.
    const std::size_t at = out_.size();
    const bool comma = at > 1;
    out_.resize(at + comma + key.size() + value.size() + 5);
    char* p = out_.data() + at;
    if (comma) *p++ = ',';
    *p++ = '"';
    p = std::copy(key.begin(), key.end(), p);
    *p++ = '"';
    *p++ = ':';
    *p++ = '"';
    p = std::copy(value.begin(), value.end(), p);
    *p = '"';
    return *this;
  }
  FlatObject& flag(std::string_view key, bool value) {
    name(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  std::string done() {  // the text; the object is spent
    out_ += '}';
    return std::move(out_);
  }

 private:
  // Any other value: nlohmann::json writes it, as it wrote these messages.
  FlatObject& escaped(std::string_view key, std::string_view value) {
    name(key);
    out_ += text(nlohmann::json(value));
    return *this;
  }

  // The bytes left to nlohmann::json: those JSON text escapes (the quote, the backslash, the
  // control characters) and those past ASCII (it checks they are UTF-8).
  static constexpr auto kNotPlain = [] {
    std::array<bool, 256> t{};
    for (std::size_t c = 0; c < 256; ++c) t[c] = c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
    return t;
  }();

  void name(std::string_view key) {  // keys are the protocol's own: nothing to escape
    out_ += out_.size() == 1 ? "\"" : ",\"";
    out_ += key;
    out_ += "\":";
  }
  std::string out_{'{'};
};

// A symbol given as text: upper-cased, or the invalid_symbol problem.
std::variant<std::string, Problem> symbol_text(const std::string& given) {
  if (auto s = symbol_from(given)) return *std::move(s);
  return Problem{"invalid_symbol", "error", invalid_symbol_message(given)};
}

// The symbol of a request: missing or malformed is invalid_symbol; not a string is bad_request.
std::variant<std::string, Problem> symbol_of(const nlohmann::json& j, const std::string& type) {
  auto it = j.find("symbol");
  if (it == j.end() || it->is_null()) {
    return Problem{"invalid_symbol", "error", "'" + type + "' needs a symbol, e.g. \"AAPL\""};
  }
  if (!it->is_string())
    return bad("'symbol' must be a string, got " + std::string(it->type_name()));
  return symbol_text(it->get<std::string>());
}

// An optional non-negative integer field (0 when missing or null).
std::variant<std::uint64_t, Problem> seq_field(const nlohmann::json& j, const char* key,
                                               const char* what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::uint64_t{0};
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  return bad(std::string("'") + key + "' = " + text(*it).substr(0, 40) +
             " is not accepted; expected a non-negative integer (" + what + ")");
}

bool is_alert_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
  });
}

// add_alert's id, condition, severity and cooldown; remove_alert's id.
std::optional<Problem> alert_fields(const nlohmann::json& j, Request& r) {
  const auto id = j.find("id");
  const bool needs_id = r.command == Command::RemoveAlert;
  if (id == j.end() || id->is_null()) {
    if (needs_id) return bad("'remove_alert' needs the 'id' of the alert to remove");
  } else if (!id->is_string() || !is_alert_id(id->get<std::string>())) {
    return bad("'id' = " + text(*id).substr(0, 80) +
               " is not accepted; expected 1-64 of A-Z a-z 0-9 _ - . :");
  } else {
    r.id = id->get<std::string>();
  }
  if (needs_id) return std::nullopt;
  const auto cond = j.find("condition");
  if (cond == j.end() || !cond->is_string()) {
    return bad("'add_alert' needs a string 'condition', e.g. \"price > 200 and rsi_14 < 30\"");
  }
  r.condition = cond->get<std::string>();
  if (const auto sev = j.find("severity"); sev != j.end() && !sev->is_null()) {
    const std::string v = sev->is_string() ? sev->get<std::string>() : text(*sev);
    if (v != "info" && v != "warning" && v != "error" && v != "critical") {
      return bad("'severity' = " + v.substr(0, 40) +
                 " is not accepted; expected info, warning, error or critical");
    }
    r.severity = v;
  }
  if (const auto cd = j.find("cooldown"); cd != j.end() && !cd->is_null()) {
    if (!cd->is_number() || !(cd->get<double>() >= 0) || cd->get<double>() > 86400) {
      return bad("'cooldown' = " + text(*cd).substr(0, 40) +
                 " is not accepted; expected seconds from 0 to 86400");
    }
    r.cooldown_s = cd->get<double>();
  }
  return std::nullopt;
}

// subscribe_portfolio's id and positions; unsubscribe_portfolio's id.
std::optional<Problem> portfolio_fields(const nlohmann::json& j, Request& r) {
  const bool sub = r.command == Command::SubscribePortfolio;
  const auto id = j.find("id");
  if (id == j.end() || id->is_null()) {
    if (!sub) return bad("'unsubscribe_portfolio' needs the 'id' of the portfolio");
  } else if (!id->is_string() || !is_alert_id(id->get<std::string>())) {
    return bad("'id' = " + text(*id).substr(0, 80) +
               " is not accepted; expected 1-64 of A-Z a-z 0-9 _ - . :");
  } else {
    r.id = id->get<std::string>();
  }
  if (!sub) return std::nullopt;
  const auto pos = j.find("positions");
  if (pos == j.end() || !pos->is_object() || pos->empty()) {
    return bad(
        "'subscribe_portfolio' needs 'positions', an object of symbol: weight, e.g. "
        "{\"AAPL\": 0.4, \"SPY\": -0.3}");
  }
  for (const auto& [key, weight] : pos->items()) {
    auto sym = symbol_text(key);
    if (auto* p = std::get_if<Problem>(&sym)) return *p;
    if (!weight.is_number() || !std::isfinite(weight.get<double>()) ||
        std::abs(weight.get<double>()) > 10) {
      return bad("the weight of " + key.substr(0, 32) + " = " + text(weight).substr(0, 40) +
                 " is not accepted; expected a number from -10 to 10 (negative: short)");
    }
    auto& slot = r.positions[std::get<std::string>(sym)];
    slot += weight.get<double>();  // "aapl" and "AAPL" are one position
  }
  return std::nullopt;
}

// Every client message type: its command and whether it names a symbol.
struct TypeName {
  std::string_view name;
  Command command;
  bool takes_symbol;
};
constexpr TypeName kTypes[] = {
    {"subscribe", Command::Subscribe, true},
    {"unsubscribe", Command::Unsubscribe, true},
    {"analyze", Command::Analyze, true},
    {"get_status", Command::GetStatus, false},
    {"heartbeat", Command::Heartbeat, false},
    {"ping", Command::Ping, false},
    {"history", Command::History, true},
    {"replay", Command::Replay, true},
    {"add_alert", Command::AddAlert, true},
    {"remove_alert", Command::RemoveAlert, false},
    {"list_alerts", Command::ListAlerts, false},
    {"subscribe_portfolio", Command::SubscribePortfolio, false},
    {"unsubscribe_portfolio", Command::UnsubscribePortfolio, false},
    {"list_portfolios", Command::ListPortfolios, false},
};

}  // namespace

std::optional<std::string> symbol_from(std::string_view raw) {
  std::string s(raw);
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (!is_valid_symbol(s)) return std::nullopt;
  return s;
}

std::string invalid_symbol_message(std::string_view given) {
  return "symbol '" + std::string(given.substr(0, 32)) +
         "' is not valid; expected 1-16 of A-Z 0-9 . - ^ = starting with a letter or digit";
}

Parsed parse_object(const nlohmann::json& j) {
  if (!j.is_object())
    return bad("a message must be a JSON object, got " + std::string(j.type_name()));
  auto t = j.find("type");
  if (t == j.end()) return bad("a message needs a string field 'type'");
  if (!t->is_string()) return bad("'type' must be a string, got " + std::string(t->type_name()));
  const auto type = t->get<std::string>();
  Request r;
  const auto* known = std::find_if(std::begin(kTypes), std::end(kTypes),
                                   [&](const TypeName& k) { return k.name == type; });
  if (known == std::end(kTypes)) {
    std::string names;
    for (const auto& k : kTypes) names += (names.empty() ? "" : ", ") + std::string(k.name);
    return Problem{"unknown_type", "warning",
                   "unknown message type '" + type.substr(0, 64) + "'; expected one of " + names};
  }
  r.command = known->command;
  const bool takes_symbol = known->takes_symbol;
  if (takes_symbol) {
    auto sym = symbol_of(j, type);
    if (auto* p = std::get_if<Problem>(&sym)) return *p;
    r.symbol = std::get<std::string>(std::move(sym));
  }
  if (r.command == Command::Subscribe) {
    auto since = seq_field(j, "since", "the last seq this client received");
    if (auto* p = std::get_if<Problem>(&since)) return *p;
    if (auto v = std::get<std::uint64_t>(since); j.contains("since") && !j["since"].is_null())
      r.since = v;
    if (const auto e = j.find("epoch"); e != j.end() && !e->is_null()) {
      if (!e->is_string() || e->get_ref<const std::string&>().size() > 64) {
        return bad(
            "'epoch' is not accepted; expected the epoch string of the subscribe "
            "confirmation that came with the seqs (at most 64 characters)");
      }
      r.epoch = e->get<std::string>();
    }
  } else if (r.command == Command::History) {
    auto limit = seq_field(j, "limit", "how many signals, 1 to 1000");
    if (auto* p = std::get_if<Problem>(&limit)) return *p;
    if (auto v = std::get<std::uint64_t>(limit); v != 0) {
      if (v > 1000)
        return bad("'limit' " + std::to_string(v) + " is not accepted; expected 1 to 1000");
      r.limit = static_cast<std::size_t>(v);
    } else if (j.contains("limit") && !j["limit"].is_null()) {
      return bad("'limit' 0 is not accepted; expected 1 to 1000");
    }
    auto before = seq_field(j, "before", "a seq: only older signals");
    if (auto* p = std::get_if<Problem>(&before)) return *p;
    r.before = std::get<std::uint64_t>(before);
  } else if (r.command == Command::Replay) {
    for (auto [key, out] : {std::pair{"from", &r.from_ms}, std::pair{"to", &r.to_ms}}) {
      auto it = j.find(key);
      const bool str = it != j.end() && it->is_string();
      const auto ms = str ? parse_iso8601_ms(it->get<std::string>()) : std::nullopt;
      if (!ms) {
        return bad(std::string("'") + key + "' " +
                   (it == j.end() ? std::string("is missing")
                                  : "= " + text(*it).substr(0, 40) + " is not accepted") +
                   "; expected an ISO-8601 UTC time such as \"2024-01-02T15:04:05Z\"");
      }
      *out = *ms;
    }
    if (r.to_ms < r.from_ms) return bad("'to' is before 'from'; expected from <= to");
    if (auto it = j.find("speed"); it != j.end() && !it->is_null()) {
      if (!it->is_number() || !(it->get<double>() >= 0) || it->get<double>() > 1e6) {
        return bad("'speed' = " + text(*it).substr(0, 40) +
                   " is not accepted; expected a number from 0 (at once) to 1000000");
      }
      r.speed = it->get<double>();
    }
  } else if (r.command == Command::AddAlert || r.command == Command::RemoveAlert) {
    if (auto p = alert_fields(j, r)) return *p;
  } else if (r.command == Command::SubscribePortfolio ||
             r.command == Command::UnsubscribePortfolio) {
    if (auto p = portfolio_fields(j, r)) return *p;
  }
  return r;
}

namespace {

// Reads the JSON text of a flat object: see read_flat_object.
class FlatReader {
 public:
  explicit FlatReader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  std::optional<nlohmann::json> object() {
    auto out = nlohmann::json::object();
    if (!eat('{')) return std::nullopt;
    if (!eat('}')) {
      std::string key;
      do {
        space();
        if (!string(key) || !eat(':')) return std::nullopt;
        nlohmann::json v;
        if (!value(v)) return std::nullopt;
        out[key] = std::move(v);  // a repeated name: the last value, as nlohmann::json keeps
      } while (eat(','));
      if (!eat('}')) return std::nullopt;
    }
    space();
    if (p_ != end_) return std::nullopt;
    return out;
  }

 private:
  void space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool eat(char c) {
    space();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool word(std::string_view w) {
    if (static_cast<std::size_t>(end_ - p_) < w.size() || std::string_view(p_, w.size()) != w)
      return false;
    p_ += w.size();
    return true;
  }
  bool hex4(std::uint32_t& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return false;
      out = out * 16 + static_cast<std::uint32_t>(d);
    }
    return true;
  }
  // A string of ASCII text and escapes; a byte over 0x7f is left to nlohmann, which checks
  // that it is UTF-8.
  bool string(std::string& out) {
    out.clear();
    if (p_ == end_ || *p_ != '"') return false;
    ++p_;
    while (true) {
      const char* run = p_;
      while (p_ != end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20 &&
             static_cast<unsigned char>(*p_) < 0x80) {
        ++p_;
      }
      out.append(run, p_);
      if (p_ == end_) return false;
      const char c = *p_++;
      if (c == '"') return true;
      if (c != '\\' || p_ == end_) return false;  // a control character or a high byte
      switch (const char e = *p_++) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp) || (cp >= 0xDC00 && cp <= 0xDFFF)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a pair: the low half must follow
            std::uint32_t low = 0;
            if (!word("\\u") || !hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          utf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
  }
  static void utf8(std::uint32_t cp, std::string& out) {
    auto byte = [&](std::uint32_t b) { out += static_cast<char>(b); };
    if (cp < 0x80) {
      byte(cp);
    } else if (cp < 0x800) {
      byte(0xC0 | (cp >> 6));
      byte(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      byte(0xE0 | (cp >> 12));
      byte(0x80 | ((cp >> 6) & 0x3F));
      byte(0x80 | (cp & 0x3F));
    } else {
      byte(0xF0 | (cp >> 18));
      byte(0x80 | ((cp >> 12) & 0x3F));
      byte(0x80 | ((cp >> 6) & 0x3F));
      byte(0x80 | (cp & 0x3F));
    }
  }
  // An integer, as nlohmann::json types it: unsigned when not negative, else signed. A
  // fraction, an exponent or one too large for 64 bits is left to nlohmann (a double).
  bool integer(nlohmann::json& out) {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    const char* digits = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    if (p_ == digits || (*digits == '0' && p_ - digits > 1)) return false;
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (*start == '-') {
      std::int64_t v = 0;
      if (std::from_chars(start, p_, v).ec != std::errc()) return false;
      out = v;
    } else {
      std::uint64_t v = 0;
      if (std::from_chars(start, p_, v).ec != std::errc()) return false;
      out = v;
    }
    return true;
  }
  bool value(nlohmann::json& out) {
    space();
    if (p_ == end_) return false;
    switch (*p_) {
      case '"': {
        std::string v;
        if (!string(v)) return false;
        out = std::move(v);
        return true;
      }
      case 't':
        out = true;
        return word("true");
      case 'f':
        out = false;
        return word("false");
      case 'n':
        out = nullptr;
        return word("null");
      default:
        return integer(out);
    }
  }

  const char* p_;
  const char* end_;
};

}  // namespace

std::optional<nlohmann::json> read_flat_object(std::string_view text) {
  return FlatReader(text).object();
}

Parsed parse_text(std::string_view text) {
  if (auto flat = read_flat_object(text)) return parse_object(*flat);
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Problem{"invalid_json", "error", "the message is not valid JSON"};
  return parse_object(j);
}

Parsed parse_binary(std::string_view bytes) {
  auto j = nlohmann::json::from_msgpack(bytes, true, false);
  if (j.is_discarded()) {
    return Problem{"invalid_json", "error", "a binary frame must hold one MessagePack object"};
  }
  return parse_object(j);
}

Parsed parse_protobuf(std::string_view bytes) {
  auto j = pb::decode_client(bytes);
  if (const auto* e = std::get_if<pb::DecodeError>(&j)) {
    if (!e->malformed) return bad(e->why);  // as a JSON object without a type
    return Problem{"invalid_json", "error",
                   "a binary frame on a ?format=protobuf connection must hold one "
                   "goldensignals.v1.ClientMessage (proto/goldensignals.proto): " +
                       e->why};
  }
  return parse_object(std::get<nlohmann::json>(j));
}

std::string welcome(const std::string& client_id) {
  return FlatObject()
      .str("client_id", client_id)
      .str("message", "Connected to GoldenSignals WebSocket")
      .str("timestamp", now_iso())
      .str("type", "heartbeat")
      .done();
}

std::string confirmation(std::string_view type, const std::string& symbol,
                         std::optional<bool> recovered, const std::string& epoch) {
  FlatObject j;
  if (!epoch.empty()) j.str("epoch", epoch);
  if (recovered) j.flag("recovered", *recovered);
  return j.str("status", type == "subscribe" ? "subscribed" : "unsubscribed")
      .str("symbol", symbol)
      .str("timestamp", now_iso())
      .str("type", type)
      .done();
}

std::string heartbeat() {
  return FlatObject().str("timestamp", now_iso()).str("type", "heartbeat").done();
}

std::string heartbeat_ack() {
  return FlatObject().flag("ack", true).str("timestamp", now_iso()).str("type", "heartbeat").done();
}

std::string pong() { return FlatObject().str("timestamp", now_iso()).str("type", "pong").done(); }

std::string alert(const Problem& p, const nlohmann::json& extra) {
  nlohmann::json j = {{"type", "alert"}, {"alert_type", p.severity}, {"severity", p.severity},
                      {"code", p.code},  {"message", p.message},     {"timestamp", now_iso()}};
  for (const auto& [k, v] : extra.items()) j[k] = v;
  return text(j);
}

std::string info(std::string_view code, const std::string& message, const nlohmann::json& extra) {
  return alert(Problem{std::string(code), "info", message}, extra);
}

}  // namespace gs::proto
