#include "goldensignals/net/security.hpp"

#include <algorithm>

#include "goldensignals/net/context.hpp"

namespace gs {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '/')) s.remove_suffix(1);
  return s;
}

constexpr std::array<std::string_view, static_cast<std::size_t>(Refusal::kCount)> kNames = {
    "missing_token",    "malformed_token",
    "alg_none",         "alg_not_allowed",
    "bad_signature",    "expired",
    "not_yet_valid",    "bad_claims",
    "forbidden_origin", "too_many_connections_per_ip",
    "admin_required"};

}  // namespace

std::string_view refusal_name(Refusal r) { return kNames.at(static_cast<std::size_t>(r)); }

Refusal refusal_for(std::string_view reason) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == reason) return static_cast<Refusal>(i);
  }
  return Refusal::MalformedToken;
}

IpTable::Slot IpTable::acquire(const std::string& ip, std::size_t limit) {
  std::lock_guard lk(mu_);
  auto& n = open_[ip];
  if (n >= limit) {
    if (n == 0) open_.erase(ip);
    return {};
  }
  ++n;
  return Slot(this, ip);
}

void IpTable::release(const std::string& ip) {
  std::lock_guard lk(mu_);
  const auto it = open_.find(ip);
  if (it != open_.end() && --it->second == 0) open_.erase(it);
}

std::size_t IpTable::addresses() const {
  std::lock_guard lk(mu_);
  return open_.size();
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::string_view bearer_token(std::string_view authorization) {
  authorization = trim(authorization);
  if (authorization.size() < 7 || lower(authorization.substr(0, 7)) != "bearer ") return {};
  return trim(authorization.substr(7));
}

bool origin_allowed(std::string_view spec, std::string_view origin, std::string_view host,
                    bool tls) {
  spec = trim(spec);
  if (spec.empty() || spec == "*" || origin.empty()) return true;
  const auto want = lower(trim(origin));
  std::size_t i = 0;
  while (i <= spec.size()) {
    const auto comma = spec.find(',', i);
    const auto item =
        trim(spec.substr(i, (comma == std::string_view::npos ? spec.size() : comma) - i));
    if (item == "*") return true;
    if (item == "self") {
      if (!host.empty() &&
          want == lower(std::string(tls ? "https://" : "http://") + std::string(trim(host)))) {
        return true;
      }
    } else if (!item.empty() && lower(item) == want) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    i = comma + 1;
  }
  return false;
}

}  // namespace gs
