#include "goldensignals/cluster/rendezvous.hpp"

namespace gs {

namespace {

// FNV-1a over the bytes, then a SplitMix64-style finalizer, so nearby names spread out.
std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::uint64_t rendezvous_weight(std::string_view node, std::string_view symbol) {
  std::uint64_t h = fnv1a(0xcbf29ce484222325ULL, node);
  h = fnv1a(h ^ 0xff, symbol);  // a separator byte: ("ab","c") and ("a","bc") differ
  return mix(h);
}

std::string rendezvous_owner(const std::vector<std::string>& nodes, std::string_view symbol) {
  const std::string* best = nullptr;
  std::uint64_t best_w = 0;
  for (const auto& n : nodes) {
    const auto w = rendezvous_weight(n, symbol);
    if (!best || w > best_w || (w == best_w && n < *best)) {
      best = &n;
      best_w = w;
    }
  }
  return best ? *best : std::string{};
}

}  // namespace gs
