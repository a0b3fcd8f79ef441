// Which node should own a symbol: rendezvous (highest random weight) hashing. Every node
// computes the same answer from the same list of live nodes; when a node joins or leaves,
// only the symbols it wins or held move.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gs {

// A well-mixed 64-bit weight of (node, symbol), the same on every machine.
[[nodiscard]] std::uint64_t rendezvous_weight(std::string_view node, std::string_view symbol);

// The node of `nodes` with the highest weight for `symbol` ("" when `nodes` is empty). Ties
// (practically never) go to the smaller name, so every node agrees.
[[nodiscard]] std::string rendezvous_owner(const std::vector<std::string>& nodes,
                                           std::string_view symbol);

}  // namespace gs
