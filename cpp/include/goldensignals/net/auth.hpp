// JWT verification for the WebSocket upgrade (docs/security.md): Debian's libjwt checks the
// signature; we choose the key by the configured algorithm family first, so `alg: none`, an
// algorithm without a configured key and HS/RS key confusion never reach it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace gs {

struct ServerOptions;

// What a verified token grants. Empty optionals: the claim was absent (no restriction).
struct Principal {
  std::string sub;                               // the client id in logs and status
  std::optional<std::int64_t> exp;               // seconds since the epoch
  std::optional<std::set<std::string>> scope;    // subscribe, analyze, admin
  std::optional<std::set<std::string>> symbols;  // rooms it may join (upper case)

  [[nodiscard]] bool may(std::string_view action) const;
  [[nodiscard]] bool may_join(const std::string& symbol) const;
};

struct AuthResult {
  bool ok = false;
  // When !ok: missing_token, malformed_token, alg_none, alg_not_allowed, bad_signature,
  // expired, not_yet_valid or bad_claims; and a sentence for people.
  std::string reason;
  std::string message;
  Principal principal;
};

class JwtVerifier {
 public:
  // `secret`: HS256/384/512 key (empty: HS* refused). `public_key_pem`: RSA or EC public key
  // (empty: RS*/ES* refused). `leeway`: clock skew allowed on exp and nbf.
  JwtVerifier(std::string secret, std::string public_key_pem, std::chrono::seconds leeway);
  // From GS_JWT_SECRET / GS_JWT_PUBLIC_KEY (a file, read now; InvalidArgument naming it).
  static JwtVerifier from_options(const ServerOptions& o);

  // A key is configured: tokens can be verified.
  [[nodiscard]] bool enabled() const noexcept { return !secret_.empty() || !public_key_.empty(); }
  // `now_s`: seconds since the epoch.
  [[nodiscard]] AuthResult verify(std::string_view token, std::int64_t now_s) const;
  [[nodiscard]] AuthResult verify(std::string_view token) const;

 private:
  std::string secret_;
  std::string public_key_;
  std::chrono::seconds leeway_;
};

}  // namespace gs
