// Checks shared by every way into the runtime (Python, native, wire): one message per mistake.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "goldensignals/core/types.hpp"

namespace gs {

// Parses an action name, case-insensitively; throws InvalidArgument naming `what` and the value.
Action parse_action_or_throw(std::string_view s, std::string_view what);

// Throws InvalidArgument unless the vote is well-formed: confidence finite in [0, 1], target
// and stop finite and > 0. `who` names the vote's author in the message.
void validate_vote(const Vote& v, std::string_view who);

// Empty when the vote is well-formed; else why not (the same text validate_vote throws).
std::optional<std::string> vote_problem(const Vote& v, std::string_view who);

// Formats a double for messages: shortest round-trip form, "nan", "inf".
std::string fmt_num(double x);

}  // namespace gs
