// The settings of the runtime and the server, defined once. Every way in is made from this
// table: goldensignals-server's flags (CLI11), the Python module goldensignals.settings (its
// keywords, environment variables and `goldensignals serve` flags), the bindings that turn
// settings into options, and docs/operations.md's table (scripts/gen_settings_doc.py).
//
// Precedence: flag or keyword > environment variable > default. A refused value is named
// as the user gave it (the flag, the variable or the keyword), with the value and what is
// accepted; the ranges here are the ones enforced.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gs {

struct RuntimeOptions;
struct ServerOptions;

namespace settings {

enum class Kind {
  Integer,   // a whole number in [lo, hi]
  Number,    // a finite number in [lo, hi] (or (lo, hi] when lo_open)
  Boolean,   // true/false, yes/no, on/off, 1/0 (any case)
  Text,      // any text (surrounding spaces dropped)
  Address,   // an IPv4 or IPv6 address to bind
  Symbols,   // a comma-separated list of at least one symbol, upper-cased
  Database,  // a file path, or off / none / false / 0 / empty for no history
};

struct Spec {
  std::string_view key;       // keyword of gs.Runtime and of the resolved settings
  std::string_view env;       // environment variable
  std::string_view flag;      // flag of goldensignals-server and `goldensignals serve`
  Kind kind;
  std::string_view fallback;  // the default, as it would be written in the environment
  double lo = 0;              // Integer and Number: the accepted range
  double hi = 0;
  bool lo_open = false;       // Number: lo itself is refused
  std::string_view unit;      // "s" (seconds), "bytes", or empty
  std::string_view help;
};

using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;
using Values = std::map<std::string, Value, std::less<>>;

// Every setting, in the order of the docs' table.
std::span<const Spec> table();

// The setting with this keyword; throws InvalidArgument naming the keywords accepted.
const Spec& spec(std::string_view key);

// What the setting accepts, in words: "an integer in [1, 1000000]".
std::string accepted(const Spec& s);

// The flag's help in --help: the meaning, the variable, what is accepted and the default.
std::string help_line(const Spec& s);

// Parses `raw` as the setting. A refusal throws InvalidArgument
// "<given_as> '<raw>' is not accepted; expected <accepted>".
Value parse(const Spec& s, std::string_view raw, std::string_view given_as);

// A number given as a number (a binding's argument), checked against the setting's range as
// parse() checks text; the refusal is worded the same.
double check_number(const Spec& s, double x, std::string_view given_as);

// A value given by the user, and the name they gave it under (flag or keyword).
struct Given {
  std::string raw;
  std::string given_as;
};

// Every setting: given > environment (looked up with `env`) > default, each parsed.
Values resolve(const std::map<std::string, Given, std::less<>>& given,
               const std::function<std::optional<std::string>(std::string_view)>& env);

// The process environment, for resolve().
std::optional<std::string> process_env(std::string_view name);

// The settings that belong to whoever hosts Python agents (the bindings, the pyhost plugin).
struct PythonHost {
  std::size_t workers = 2;                    // GS_PYTHON_WORKERS
  std::size_t event_queue = 65'536;           // GS_EVENT_QUEUE
  std::chrono::milliseconds agent_timeout{1'000};  // GS_AGENT_TIMEOUT
};

// Seconds to milliseconds, the one way: rounded to the nearest, at least 1 ms when > 0.
std::chrono::milliseconds to_ms(double seconds);

// Writes resolved settings into the option structs. Throws InvalidArgument for a missing
// or mistyped value (a bug of the caller: resolve() makes complete, typed values).
void apply(const Values& v, RuntimeOptions& runtime, ServerOptions& server, PythonHost& python);

// Checks the options as the runtime and the server will when they start (symbols, ranges,
// files, pairs such as the TLS certificate and key); throws InvalidArgument on the first
// problem. `goldensignals-server --check-config` and `goldensignals serve --check-config`.
void check(const RuntimeOptions& runtime, const ServerOptions& server);

// The typed value of one resolved setting.
std::int64_t integer(const Values& v, std::string_view key);
double number(const Values& v, std::string_view key);
bool boolean(const Values& v, std::string_view key);
const std::string& text(const Values& v, std::string_view key);
const std::vector<std::string>& symbols(const Values& v, std::string_view key);

}  // namespace settings
}  // namespace gs
