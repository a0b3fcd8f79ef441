// JwtVerifier on tokens minted here with libjwt and keys made with OpenSSL: every refusal
// reason, key confusion, leeway, claims; plus the origin and token helpers, and AccessControl,
// which sessions and routes check tokens, origins and the admin token through.
#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/net/auth.hpp"
#include "goldensignals/net/security.hpp"
#include "goldensignals/net/server_parts.hpp"

namespace gs {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;  // a fixed "now" for exp/nbf

struct Pem {
  std::string priv, pub;
};

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Pem make_key(bool ec) {
  EVP_PKEY* k = ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  EXPECT_NE(k, nullptr);
  std::unique_ptr<BIO, int (*)(BIO*)> a(BIO_new(BIO_s_mem()), BIO_free),
      b(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(a.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(b.get(), k);
  EVP_PKEY_free(k);
  return {bio_text(a.get()), bio_text(b.get())};
}

const Pem& rsa() {
  static const Pem p = make_key(false);
  return p;
}
const Pem& ecdsa() {
  static const Pem p = make_key(true);
  return p;
}

// Mints a token with libjwt: `claims` a JSON object text.
std::string mint(jwt_alg_t alg, const std::string& key, const std::string& claims) {
  jwt_t* raw = nullptr;
  EXPECT_EQ(jwt_new(&raw), 0);
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> j(raw, jwt_free);
  EXPECT_EQ(jwt_add_grants_json(j.get(), claims.c_str()), 0);
  EXPECT_EQ(jwt_set_alg(j.get(), alg,
                        key.empty() ? nullptr : reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  char* s = jwt_encode_str(j.get());
  EXPECT_NE(s, nullptr);
  std::string out = s ? s : "";
  std::free(s);  // libjwt 1.10 hands out malloc()ed strings
  return out;
}

std::string b64url(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

const std::string kSecret = "a-shared-secret-of-32-bytes-long!";
const std::string kClaims = R"({"sub":"alice","exp":1800000600})";

JwtVerifier hs_only() { return JwtVerifier(kSecret, "", std::chrono::seconds(30)); }
JwtVerifier rs_only() { return JwtVerifier("", rsa().pub, std::chrono::seconds(30)); }

TEST(JwtVerifier, AcceptsHs256AndReadsTheClaims) {
  const auto t = mint(JWT_ALG_HS256, kSecret,
                      R"({"sub":"alice","exp":1800000600,"nbf":1799999000,)"
                      R"("scope":"subscribe analyze","symbols":["aapl","NVDA"]})");
  const auto r = hs_only().verify(t, kNow);
  ASSERT_TRUE(r.ok) << r.reason << ": " << r.message;
  EXPECT_EQ(r.principal.sub, "alice");
  EXPECT_EQ(r.principal.exp, 1'800'000'600);
  EXPECT_TRUE(r.principal.may("analyze"));
  EXPECT_FALSE(r.principal.may("admin"));
  EXPECT_TRUE(r.principal.may_join("AAPL"));
  EXPECT_FALSE(r.principal.may_join("TSLA"));
}

TEST(JwtVerifier, AcceptsRs256AndEs256WithThePublicKey) {
  const auto rs = mint(JWT_ALG_RS256, rsa().priv, kClaims);
  EXPECT_TRUE(rs_only().verify(rs, kNow).ok);
  const JwtVerifier es("", ecdsa().pub, std::chrono::seconds(0));
  const auto t = mint(JWT_ALG_ES256, ecdsa().priv, kClaims);
  const auto r = es.verify(t, kNow);
  EXPECT_TRUE(r.ok) << r.reason << ": " << r.message;
}

TEST(JwtVerifier, NamesEveryRefusal) {
  const auto v = hs_only();
  EXPECT_EQ(v.verify("", kNow).reason, "missing_token");
  EXPECT_EQ(v.verify("abc", kNow).reason, "malformed_token");
  EXPECT_EQ(v.verify("a.b.c.d", kNow).reason, "malformed_token");
  EXPECT_EQ(v.verify("!!!.e30.x", kNow).reason, "malformed_token");
  EXPECT_EQ(v.verify(std::string(9000, 'a'), kNow).reason, "malformed_token");
  const auto none = b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(kClaims) + ".";
  EXPECT_EQ(v.verify(none, kNow).reason, "alg_none");
  const auto none_caps = b64url(R"({"alg":"NoNe"})") + "." + b64url(kClaims) + ".";
  EXPECT_EQ(v.verify(none_caps, kNow).reason, "alg_none");
  const auto odd = b64url(R"({"alg":"PS256"})") + "." + b64url(kClaims) + ".c2ln";
  EXPECT_EQ(v.verify(odd, kNow).reason, "alg_not_allowed");
  EXPECT_EQ(v.verify(mint(JWT_ALG_RS256, rsa().priv, kClaims), kNow).reason, "alg_not_allowed");
  EXPECT_EQ(v.verify(mint(JWT_ALG_HS256, "another-secret-another-secret!!", kClaims), kNow).reason,
            "bad_signature");
  EXPECT_EQ(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"sub":"a","exp":1799999000})"), kNow).reason,
            "expired");
  EXPECT_EQ(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"sub":"a","nbf":1800001000})"), kNow).reason,
            "not_yet_valid");
  EXPECT_EQ(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"sub":"a","exp":"tomorrow"})"), kNow).reason,
            "bad_claims");
  EXPECT_EQ(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"sub":7})"), kNow).reason, "bad_claims");
  EXPECT_EQ(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"exp":1e300})"), kNow).reason, "bad_claims");
  EXPECT_TRUE(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"exp":99999999999})"), kNow).ok);
  EXPECT_EQ(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"symbols":"AAPL"})"), kNow).reason,
            "bad_claims");
}

TEST(JwtVerifier, TamperedClaimsFailTheSignature) {
  const auto t = mint(JWT_ALG_HS256, kSecret, kClaims);
  const auto dot1 = t.find('.'), dot2 = t.rfind('.');
  const auto forged =
      t.substr(0, dot1 + 1) + b64url(R"({"sub":"mallory","exp":1800000600})") + t.substr(dot2);
  EXPECT_EQ(hs_only().verify(forged, kNow).reason, "bad_signature");
  auto flipped = t;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(hs_only().verify(flipped, kNow).reason, "bad_signature");
}

// The classic confusion: an HS256 token whose HMAC key is the server's RSA public key.
TEST(JwtVerifier, RefusesHsTokenSignedWithThePublicKey) {
  const auto forged = mint(JWT_ALG_HS256, rsa().pub, kClaims);
  EXPECT_EQ(rs_only().verify(forged, kNow).reason, "alg_not_allowed");
  // With a secret configured too, the public key is still never the HMAC key.
  const JwtVerifier both(kSecret, rsa().pub, std::chrono::seconds(0));
  EXPECT_EQ(both.verify(forged, kNow).reason, "bad_signature");
  EXPECT_TRUE(both.verify(mint(JWT_ALG_RS256, rsa().priv, kClaims), kNow).ok);
}

TEST(JwtVerifier, LeewayAppliesToExpAndNbf) {
  const JwtVerifier v(kSecret, "", std::chrono::seconds(60));
  EXPECT_TRUE(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"exp":1799999950})"), kNow).ok);
  EXPECT_EQ(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"exp":1799999900})"), kNow).reason,
            "expired");
  EXPECT_TRUE(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"nbf":1800000050})"), kNow).ok);
  EXPECT_EQ(v.verify(mint(JWT_ALG_HS256, kSecret, R"({"nbf":1800000100})"), kNow).reason,
            "not_yet_valid");
}

TEST(Security, OriginPolicy) {
  EXPECT_TRUE(origin_allowed("", "http://evil.example", "127.0.0.1:8000", false));
  EXPECT_TRUE(origin_allowed("*", "null", "127.0.0.1:8000", false));
  EXPECT_TRUE(origin_allowed("self", "", "127.0.0.1:8000", false));  // not a browser
  EXPECT_TRUE(origin_allowed("self", "http://127.0.0.1:8000", "127.0.0.1:8000", false));
  EXPECT_FALSE(origin_allowed("self", "https://127.0.0.1:8000", "127.0.0.1:8000", false));
  EXPECT_TRUE(origin_allowed("self", "https://127.0.0.1:8000", "127.0.0.1:8000", true));
  EXPECT_FALSE(origin_allowed("self", "null", "127.0.0.1:8000", false));
  EXPECT_FALSE(origin_allowed("self", "http://evil.example", "127.0.0.1:8000", false));
  const auto list = "https://app.example.com, self ,http://localhost:3000";
  EXPECT_TRUE(origin_allowed(list, "HTTPS://APP.example.com", "h:1", false));
  EXPECT_TRUE(origin_allowed(list, "http://localhost:3000", "h:1", false));
  EXPECT_TRUE(origin_allowed(list, "http://h:1", "h:1", false));
  EXPECT_FALSE(origin_allowed(list, "https://app.example.com.evil.example", "h:1", false));
}

TEST(Security, BearerAndConstantTimeCompare) {
  EXPECT_EQ(bearer_token("Bearer abc.def"), "abc.def");
  EXPECT_EQ(bearer_token("bearer   abc"), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
}

TEST(Security, IpTableBoundsAndReleases) {
  IpTable t;
  {
    auto a = t.acquire("10.0.0.1", 2);
    auto b = t.acquire("10.0.0.1", 2);
    EXPECT_TRUE(a && b);
    EXPECT_FALSE(t.acquire("10.0.0.1", 2));
    EXPECT_TRUE(t.acquire("10.0.0.2", 2));
    EXPECT_EQ(t.addresses(), 1u);
  }
  EXPECT_EQ(t.addresses(), 0u);
  EXPECT_TRUE(t.acquire("10.0.0.1", 1));
}

// --- AccessControl: the checks every session and route share ---------------------------

std::string fresh_claims(const std::string& extra) {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count() +
                   3600;
  return R"({"sub":"alice","exp":)" + std::to_string(exp) + extra + "}";
}

ServerOptions access_options(std::string secret, bool require_auth, std::string admin_token) {
  ServerOptions o;
  o.jwt_secret = std::move(secret);
  o.require_auth = require_auth;
  o.admin_token = std::move(admin_token);
  return o;
}

TEST(AccessControl, WithoutAKeyEveryoneIsLetInAndTokensAreNotRead) {
  const AccessControl a(access_options("", false, ""));
  EXPECT_TRUE(a.check("").ok);
  const auto r = a.check("not-a-token");
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.principal.sub.empty());
  EXPECT_TRUE(a.admin_allowed(""));  // no admin token: the admin pages are open
  EXPECT_EQ(a.tls(), nullptr);
}

TEST(AccessControl, APresentTokenIsAlwaysVerifiedAnAbsentOneOnlyWhenRequired) {
  const AccessControl open(access_options(kSecret, false, ""));
  EXPECT_TRUE(open.check("").ok);
  const auto good = open.check(mint(JWT_ALG_HS256, kSecret, fresh_claims("")));
  ASSERT_TRUE(good.ok) << good.reason << ": " << good.message;
  EXPECT_EQ(good.principal.sub, "alice");
  const auto bad =
      open.check(mint(JWT_ALG_HS256, "another-secret-of-32-bytes-long!!", fresh_claims("")));
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.reason, "bad_signature");

  const AccessControl closed(access_options(kSecret, true, ""));
  const auto none = closed.check("");
  EXPECT_FALSE(none.ok);
  EXPECT_EQ(none.reason, "missing_token");
}

TEST(AccessControl, AdminPagesTakeTheAdminTokenOrAnAdminScopedJwt) {
  const AccessControl a(access_options(kSecret, false, "the-admin-token"));
  EXPECT_FALSE(a.admin_allowed(""));
  EXPECT_FALSE(a.admin_allowed("the-admin-tokeN"));
  EXPECT_TRUE(a.admin_allowed("the-admin-token"));
  EXPECT_TRUE(a.admin_allowed(mint(JWT_ALG_HS256, kSecret, fresh_claims(R"(,"scope":"admin")"))));
  EXPECT_FALSE(
      a.admin_allowed(mint(JWT_ALG_HS256, kSecret, fresh_claims(R"(,"scope":"subscribe")"))));

  const AccessControl no_key(access_options("", false, "the-admin-token"));
  EXPECT_FALSE(
      no_key.admin_allowed(mint(JWT_ALG_HS256, kSecret, fresh_claims(R"(,"scope":"admin")"))));
}

TEST(AccessControl, OriginsFollowTheAllowList) {
  auto o = access_options("", false, "");
  o.allowed_origins = "self,https://app.example";
  const AccessControl a(o);
  EXPECT_TRUE(a.origin_allowed("", "h:8000", false));  // not a browser
  EXPECT_TRUE(a.origin_allowed("http://h:8000", "h:8000", false));
  EXPECT_FALSE(a.origin_allowed("http://h:8000", "h:8000", true));  // self over TLS is https
  EXPECT_TRUE(a.origin_allowed("https://app.example", "h:8000", false));
  EXPECT_FALSE(a.origin_allowed("https://evil.example", "h:8000", false));
}

TEST(AccessControl, ABadKeyOrCertificateFileIsNamed) {
  auto o = access_options("", false, "");
  o.tls_cert = "/nonexistent/cert.pem";
  o.tls_key = "/nonexistent/key.pem";
  try {
    const AccessControl a(o);
    FAIL() << "a missing certificate was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("GS_TLS_CERT '/nonexistent/cert.pem'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace gs
