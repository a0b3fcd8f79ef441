#include "goldensignals/net/auth.hpp"

#include <jwt.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/net/options.hpp"

namespace gs {

namespace {

constexpr std::size_t kMaxTokenBytes = 8 * 1024;  // fits the header limit with room to spare
constexpr std::size_t kMaxSubBytes = 128;

// RFC 4648 section 5, without padding (JWS compact serialization); nullopt on a bad character.
std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '-') v = 62;
    if (c == '_') v = 63;
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone character cannot encode a byte
  return out;
}

std::optional<nlohmann::json> json_part(std::string_view part) {
  const auto raw = base64url_decode(part);
  if (!raw) return std::nullopt;
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

AuthResult refuse(std::string reason, std::string message) {
  AuthResult r;
  r.reason = std::move(reason);
  r.message = std::move(message);
  return r;
}

bool is_hmac(jwt_alg_t a) { return a == JWT_ALG_HS256 || a == JWT_ALG_HS384 || a == JWT_ALG_HS512; }

// A JSON string or array of strings (scope may also be one space-separated string).
std::optional<std::set<std::string>> string_set(const nlohmann::json& v, bool split_spaces,
                                                bool upper) {
  std::set<std::string> out;
  auto add = [&](std::string s) {
    if (upper)
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (!s.empty()) out.insert(std::move(s));
  };
  if (v.is_string()) {
    if (!split_spaces) return std::nullopt;
    std::istringstream words(v.get<std::string>());
    for (std::string w; words >> w;) add(w);
    return out;
  }
  if (!v.is_array()) return std::nullopt;
  for (const auto& e : v) {
    if (!e.is_string()) return std::nullopt;
    add(e.get<std::string>());
  }
  return out;
}

std::optional<std::int64_t> seconds_claim(const nlohmann::json& claims, const char* name,
                                          bool& bad) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  // Seconds since 1970, within about +-30000 years (so the arithmetic below cannot overflow).
  constexpr double kLimit = 1e12;
  const double v = it->is_number() ? it->get<double>() : 0.0;
  if (!it->is_number() || !(v > -kLimit && v < kLimit)) {
    bad = true;
    return std::nullopt;
  }
  return static_cast<std::int64_t>(v);
}

}  // namespace

bool Principal::may(std::string_view action) const {
  return !scope || scope->contains(std::string(action)) || scope->contains("admin");
}

bool Principal::may_join(const std::string& symbol) const {
  return !symbols || symbols->contains(symbol) || symbols->contains("*");
}

JwtVerifier::JwtVerifier(std::string secret, std::string public_key_pem,
                         std::chrono::seconds leeway)
    : secret_(std::move(secret)), public_key_(std::move(public_key_pem)), leeway_(leeway) {}

JwtVerifier JwtVerifier::from_options(const ServerOptions& o) {
  std::string pem;
  if (!o.jwt_public_key.empty()) {
    std::ifstream f(o.jwt_public_key, std::ios::binary);
    std::ostringstream text;
    text << f.rdbuf();
    pem = text.str();
    if (!f || pem.find("-----BEGIN PUBLIC KEY-----") == std::string::npos) {
      throw InvalidArgument("GS_JWT_PUBLIC_KEY '" + o.jwt_public_key +
                            "' is not accepted; expected a readable PEM file with a "
                            "'BEGIN PUBLIC KEY' block (RSA or EC)");
    }
  }
  return JwtVerifier(o.jwt_secret, std::move(pem), o.jwt_leeway);
}

AuthResult JwtVerifier::verify(std::string_view token) const {
  return verify(token, now_ms() / 1000);
}

AuthResult JwtVerifier::verify(std::string_view token, std::int64_t now_s) const {
  if (token.empty())
    return refuse("missing_token", "no token: pass ?token= or Authorization: Bearer");
  if (token.size() > kMaxTokenBytes) {
    return refuse("malformed_token",
                  "the token is longer than " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return refuse("malformed_token", "a JWT has three base64url parts separated by dots");
  }
  const auto header = json_part(token.substr(0, dot1));
  const auto claims = json_part(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!header || !claims) {
    return refuse("malformed_token", "the token's header or claims are not base64url JSON objects");
  }
  const auto alg_it = header->find("alg");
  if (alg_it == header->end() || !alg_it->is_string()) {
    return refuse("malformed_token", "the token's header has no 'alg'");
  }
  const auto alg_name = alg_it->get<std::string>();
  std::string lower = alg_name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "none") return refuse("alg_none", "unsigned tokens (alg none) are refused");
  const jwt_alg_t alg = jwt_str_alg(alg_name.c_str());
  if (alg == JWT_ALG_INVAL || alg == JWT_ALG_NONE) {
    return refuse("alg_not_allowed", "algorithm '" + alg_name +
                                         "' is not accepted; HS256/384/512, RS256/384/512 and "
                                         "ES256/384/512 are, each with its configured key");
  }
  // The key follows the configured family, never the token: an RS key is never an HMAC secret.
  const std::string& key = is_hmac(alg) ? secret_ : public_key_;
  if (key.empty()) {
    return refuse("alg_not_allowed", "algorithm '" + alg_name + "' has no key on this server (" +
                                         (is_hmac(alg) ? "GS_JWT_SECRET" : "GS_JWT_PUBLIC_KEY") +
                                         " is not set)");
  }
  jwt_t* raw = nullptr;
  const std::string text(token);
  const int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                            static_cast<int>(key.size()));
  const std::unique_ptr<jwt_t, void (*)(jwt_t*)> jwt(raw, jwt_free);
  if (rc != 0 || !jwt || jwt_get_alg(jwt.get()) != alg) {
    return refuse("bad_signature", "the token's signature does not verify with the " +
                                       std::string(is_hmac(alg) ? "shared secret" : "public key"));
  }

  AuthResult r;
  bool bad = false;
  const auto exp = seconds_claim(*claims, "exp", bad);
  const auto nbf = seconds_claim(*claims, "nbf", bad);
  const auto leeway = leeway_.count();
  if (bad) return refuse("bad_claims", "'exp' and 'nbf' must be numbers of seconds since 1970");
  if (exp && now_s > *exp + leeway) {
    return refuse("expired", "the token expired at " + iso8601_ms(*exp * 1000));
  }
  if (nbf && now_s + leeway < *nbf) {
    return refuse("not_yet_valid", "the token is not valid before " + iso8601_ms(*nbf * 1000));
  }
  r.principal.exp = exp;
  if (const auto it = claims->find("sub"); it != claims->end()) {
    if (!it->is_string() || it->get<std::string>().empty() ||
        it->get<std::string>().size() > kMaxSubBytes) {
      return refuse("bad_claims",
                    "'sub' must be a string of 1 to " + std::to_string(kMaxSubBytes) + " bytes");
    }
    r.principal.sub = it->get<std::string>();
    for (const unsigned char c : r.principal.sub) {
      if (c < 0x20 || c == 0x7F) return refuse("bad_claims", "'sub' has a control character");
    }
  }
  if (const auto it = claims->find("scope"); it != claims->end()) {
    r.principal.scope = string_set(*it, true, false);
    if (!r.principal.scope) {
      return refuse("bad_claims", "'scope' must be a space-separated string or a list of strings");
    }
  }
  if (const auto it = claims->find("symbols"); it != claims->end()) {
    r.principal.symbols = string_set(*it, false, true);
    if (!r.principal.symbols) return refuse("bad_claims", "'symbols' must be a list of strings");
  }
  r.ok = true;
  return r;
}

}  // namespace gs
