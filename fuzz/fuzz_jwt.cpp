// libFuzzer: the JWT verifier (libjwt under gs::JwtVerifier) on any token text, with an HS256
// secret and an ES256 public key configured, at a fixed time. It must answer ok or a reason,
// never throw or crash; an accepted token must carry a subject.
#include <cstdint>
#include <string_view>

#include "goldensignals/net/auth.hpp"

namespace {
// An EC P-256 public key made for this harness; the corpus's ES256 seed tokens were signed
// with its private half, so they reach libjwt's signature check.
const char kPublicKey[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWuX7qLHnqCEea9SjL/nRZWoVUfQQ\n"
    "2DlHHNyektm1UeBuw/TSI0UqozWph1FXNz0v89J6bWhsYtHyR/+7ypw40w==\n"
    "-----END PUBLIC KEY-----\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gs::JwtVerifier verifier("fuzzing-secret-of-32-bytes-or-more", kPublicKey,
                                        std::chrono::seconds(30));
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  const auto r = verifier.verify(token, 1'800'000'000);
  // A refusal always says why, for the client and the counters.
  if (!r.ok && (r.reason.empty() || r.message.empty())) __builtin_trap();
  return 0;
}
