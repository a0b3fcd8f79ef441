// The custom alerts of every connected client, and the facts of each symbol they watch.
// Clients add and remove alerts from their connections' strands; room messages reach it on
// the router's strand as they reach this node's rooms (LocalBus), so a node of many sees the
// prices and signals its clients see. Each alert is evaluated on every price_update and
// signal_update of its symbol and fires (an `alert` with alert_type "custom" to its client)
// when its condition becomes true, at most once per cooldown.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "goldensignals/broadcast/message.hpp"
#include "goldensignals/watch/condition.hpp"

namespace gs::watch {

// An alert as the client gave it (and as it is stored for a token's subject).
struct AlertSpec {
  std::string id;
  std::string symbol;
  std::string condition;
  std::string severity = "warning";  // info | warning | error | critical
  double cooldown_s = 0;             // after firing, silent this long
  std::int64_t created_ms = 0;

  [[nodiscard]] nlohmann::json to_json() const;
  // Throws InvalidArgument for a stored body that is not an alert.
  static AlertSpec from_json(const nlohmann::json& j);
};

// An alert and what it did: the list_alerts reply.
struct AlertView {
  AlertSpec spec;
  std::uint64_t fired = 0;
  std::int64_t last_fired_ms = 0;  // 0: never
  std::string state;               // true | false | unknown: the last evaluation
};

// A portfolio as the client gave it: weights per symbol (negative: short), and the price of
// each when it was first watched, the base of its value.
struct PortfolioSpec {
  std::string id;
  std::map<std::string, double> positions;  // symbol -> weight
  std::map<std::string, double> reference;  // symbol -> price at the start (when known)
  std::int64_t created_ms = 0;

  [[nodiscard]] nlohmann::json to_json() const;
  // Throws InvalidArgument for a stored body that is not a portfolio.
  static PortfolioSpec from_json(const nlohmann::json& j);
};

// Facts from room messages' data objects.
void apply_price(Facts& f, const nlohmann::json& data);
void apply_signal(Facts& f, const nlohmann::json& data);

class WatchBook {
 public:
  // `seed`: the facts a symbol starts from when its first alert arrives (the market state's
  // price and indicators, the room's latest signal). `indicators`: the symbol's indicators
  // now (nullopt: no data yet). Both are called without the book's lock held.
  using Seed = std::function<Facts(const std::string& symbol)>;
  using IndicatorsOf = std::function<std::optional<ind::IndicatorValues>(const std::string&)>;
  WatchBook(Seed seed, IndicatorsOf indicators);

  // Adds `spec` for `owner` (a client's handler), or replaces its alert of the same id.
  // A new alert fires at its first true evaluation; a `restored` one (brought back after a
  // reconnect or a restart) takes its first evaluation silently, so what was already true
  // does not fire again. The condition is evaluated at once against the symbol's facts.
  void add(const void* owner, std::weak_ptr<Subscriber> to, AlertSpec spec, Condition condition,
           bool restored = false);
  // True when `owner` had an alert `id`.
  bool remove(const void* owner, const std::string& id);
  void remove_all(const void* owner);
  [[nodiscard]] std::vector<AlertView> alerts(const void* owner) const;
  [[nodiscard]] std::size_t count(const void* owner) const;
  [[nodiscard]] bool has(const void* owner, const std::string& id) const;
  [[nodiscard]] std::size_t total() const;
  [[nodiscard]] std::uint64_t fired() const;

  // Adds `spec` for `owner`, or replaces its portfolio of the same id, and sends its first
  // portfolio_update at once; later ones follow each price_update and signal_update of a
  // member. A member without a reference price gets its current one (or its first).
  // Returns the portfolio as kept, with the reference prices known now.
  PortfolioSpec add_portfolio(const void* owner, std::weak_ptr<Subscriber> to, PortfolioSpec spec);
  bool remove_portfolio(const void* owner, const std::string& id);
  void remove_all_portfolios(const void* owner);
  [[nodiscard]] std::vector<PortfolioSpec> portfolios(const void* owner) const;
  [[nodiscard]] bool has_portfolio(const void* owner, const std::string& id) const;
  [[nodiscard]] std::size_t portfolio_count(const void* owner) const;
  [[nodiscard]] std::size_t portfolio_updates() const;

  // A room message as it reaches this node's rooms; a symbol nobody watches costs one lookup.
  void on_room_message(const std::string& symbol, MessageKind kind, const std::string& json);

 private:
  using Clock = std::chrono::steady_clock;
  struct Rule {
    const void* owner;
    std::weak_ptr<Subscriber> to;
    AlertSpec spec;
    Condition condition;
    Truth last = Truth::Unknown;
    bool silent_first = false;
    std::uint64_t fired = 0;
    std::int64_t last_fired_ms = 0;
    Clock::time_point quiet_until{};
  };
  struct Portfolio {
    const void* owner;
    std::weak_ptr<Subscriber> to;
    PortfolioSpec spec;
  };
  struct Watched {
    Facts facts;
    std::vector<std::shared_ptr<Rule>> rules;
    std::vector<std::shared_ptr<Portfolio>> portfolios;  // those holding this symbol
  };
  struct Firing {
    std::weak_ptr<Subscriber> to;
    std::string json;
    std::string replaces = {};  // non-empty: a newer one replaces an unsent one with this key
  };
  // Lock held. Evaluates the rules of `w`, collecting what fires.
  void evaluate(Watched& w, std::vector<Firing>& out);
  void check(Rule& r, const Facts& facts, std::vector<Firing>& out);
  void unlink(const std::shared_ptr<Rule>& r);         // lock held
  void unlink(const std::shared_ptr<Portfolio>& pf);   // lock held
  void erase_if_unwatched(const std::string& symbol);  // lock held
  // Lock held. The portfolio_update of `pf` now, `trigger` being what changed.
  Firing update(Portfolio& pf, const std::string& trigger);
  // Facts for symbols not followed yet (called without the lock).
  std::map<std::string, Facts> seed_missing(const std::vector<std::string>& symbols);
  static void send(std::vector<Firing>& firing);

  Seed seed_;
  IndicatorsOf indicators_;
  mutable std::mutex mu_;  // everything below; never held across a send or a call out
  std::map<std::string, Watched, std::less<>> symbols_;
  std::unordered_map<const void*, std::map<std::string, std::shared_ptr<Rule>>> owners_;
  std::unordered_map<const void*, std::map<std::string, std::shared_ptr<Portfolio>>> books_;
  std::size_t updates_ = 0;
  std::size_t total_ = 0;
  std::uint64_t fired_ = 0;
};

}  // namespace gs::watch
