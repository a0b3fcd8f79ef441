// The upgrade's gatekeeping (docs/security.md): origin allowlist, token extraction, the admin
// token, the per-IP connection table and the security counters. Free of Beast.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "goldensignals/net/auth.hpp"

namespace gs {

// Why an upgrade or request was refused, as counted in /metrics (gs_security_refusals_total).
enum class Refusal : std::uint8_t {
  MissingToken,
  MalformedToken,
  AlgNone,
  AlgNotAllowed,
  BadSignature,
  Expired,
  NotYetValid,
  BadClaims,
  ForbiddenOrigin,
  TooManyPerIp,
  AdminRequired,
  kCount
};
std::string_view refusal_name(Refusal r);
Refusal refusal_for(std::string_view auth_reason);  // an AuthResult reason

struct SecurityCounters {
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Refusal::kCount)> refused{};
  std::atomic<std::uint64_t> message_flood_closes{0};   // 1008 "message flood"
  std::atomic<std::uint64_t> oversize_closes{0};        // 1009
  std::atomic<std::uint64_t> token_expired_closes{0};   // 1008 "token expired"
  std::atomic<std::uint64_t> rate_limited{0};           // analyze over the client's bucket
  std::atomic<std::uint64_t> analyses_refused{0};       // over GS_MAX_ACTIVE_ANALYSES
  std::atomic<std::uint64_t> forbidden{0};              // actions outside scope or symbols
  std::atomic<std::uint64_t> subscriptions_refused{0};  // over the per-client limit
  std::atomic<std::uint64_t> handshake_timeouts{0};     // TCP or TLS that never upgraded in time
  std::atomic<std::uint64_t> http_too_large{0};         // 413 and 431

  void count(Refusal r) { refused[static_cast<std::size_t>(r)].fetch_add(1); }
};

// Open WebSocket sessions per client address, bounded by max_connections_per_ip.
class IpTable {
 public:
  class Slot {
   public:
    Slot() = default;
    Slot(IpTable* t, std::string ip) : table_(t), ip_(std::move(ip)) {}
    Slot(Slot&& o) noexcept : table_(std::exchange(o.table_, nullptr)), ip_(std::move(o.ip_)) {}
    Slot& operator=(Slot&& o) noexcept {
      if (this != &o) {
        if (table_) table_->release(ip_);
        table_ = std::exchange(o.table_, nullptr);
        ip_ = std::move(o.ip_);
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    ~Slot() {
      if (table_) table_->release(ip_);
    }
    explicit operator bool() const noexcept { return table_ != nullptr; }

   private:
    IpTable* table_ = nullptr;
    std::string ip_;
  };

  // A held slot, or an empty one when `ip` already has `limit` sessions.
  Slot acquire(const std::string& ip, std::size_t limit);
  [[nodiscard]] std::size_t addresses() const;

 private:
  void release(const std::string& ip);
  mutable std::mutex mu_;
  std::map<std::string, std::size_t> open_;  // only addresses with open sessions
};

// Constant-time for equal lengths (the admin token's comparison).
bool constant_time_equal(std::string_view a, std::string_view b);

// "Bearer abc" -> "abc"; anything else -> "".
std::string_view bearer_token(std::string_view authorization);

// GS_ALLOWED_ORIGINS: '' or '*' allow any; otherwise a comma list of origins
// (scheme://host[:port]) and/or 'self' (the Origin names this server's Host). A request
// without an Origin header (not a browser) is allowed: the check protects browsers' users.
bool origin_allowed(std::string_view spec, std::string_view origin, std::string_view host,
                    bool tls);

}  // namespace gs
