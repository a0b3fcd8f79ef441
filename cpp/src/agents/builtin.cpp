// The built-in agents' names and the factory the runtime and the bindings use.
#include "goldensignals/agents/builtin.hpp"

#include <array>
#include <string_view>

#include "goldensignals/agents/analog.hpp"
#include "goldensignals/core/errors.hpp"

namespace gs {

namespace {

struct Entry {
  std::string_view name;
  AgentPtr (*make)();
};

template <typename A>
AgentPtr make_one() {
  return std::make_shared<const A>();
}

constexpr std::array<Entry, 5> kBuiltins{{
    {"TechnicalAnalyst", &make_one<TechnicalAnalyst>},
    {"Momentum", &make_one<Momentum>},
    {"MeanReversion", &make_one<MeanReversion>},
    {"VolumeAnalyst", &make_one<VolumeAnalyst>},
    {"VolatilityRegime", &make_one<VolatilityRegime>},
}};

// Made by name, never part of the default panel.
constexpr std::array<Entry, 1> kOptional{{
    {"Analog", &make_one<Analog>},
}};

}  // namespace

std::vector<std::string> builtin_agent_names() {
  std::vector<std::string> out;
  for (const auto& e : kBuiltins) out.emplace_back(e.name);
  return out;
}

std::vector<std::string> optional_agent_names() {
  std::vector<std::string> out;
  for (const auto& e : kOptional) out.emplace_back(e.name);
  return out;
}

std::vector<AgentPtr> make_builtin_agents(const std::vector<std::string>& names) {
  std::vector<AgentPtr> out;
  if (names.empty()) {
    for (const auto& e : kBuiltins) out.push_back(e.make());
    return out;
  }
  for (const auto& name : names) {
    const Entry* found = nullptr;
    for (const auto* list : {kBuiltins.data(), kOptional.data()}) {
      const std::size_t n = list == kBuiltins.data() ? kBuiltins.size() : kOptional.size();
      for (std::size_t i = 0; i < n; ++i) {
        if (list[i].name == name) found = &list[i];
      }
    }
    if (found == nullptr) {
      std::string known;
      for (const auto& n : builtin_agent_names()) known += (known.empty() ? "" : ", ") + n;
      for (const auto& n : optional_agent_names()) known += ", " + n;
      throw InvalidArgument("make_builtin_agents: unknown agent '" + name + "'; known: " + known);
    }
    out.push_back(found->make());
  }
  return out;
}

}  // namespace gs
