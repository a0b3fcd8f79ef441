#include "goldensignals/cluster/redis_url.hpp"

#include <charconv>
#include <optional>

#include "goldensignals/core/errors.hpp"

namespace gs {

namespace {

constexpr std::string_view kAccepted =
    "expected redis://[[user]:password@]host[:port][/db] or rediss://... (TLS), e.g. "
    "redis://127.0.0.1:6379/0";

[[noreturn]] void refuse(std::string_view url, const std::string& why) {
  // The password never appears in a message.
  std::string shown(url);
  if (const auto at = shown.rfind('@'); at != std::string::npos) {
    const auto scheme = shown.find("://");
    const auto from = scheme == std::string::npos ? 0 : scheme + 3;
    if (at > from) shown.replace(from, at - from, "***");
  }
  throw InvalidArgument("GS_REDIS_URL '" + shown + "' is not accepted: " + why + "; " +
                        std::string(kAccepted));
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int v = 0;
    const auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (r.ec != std::errc{} || r.ptr != s.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

template <class Int>
std::optional<Int> whole(std::string_view s) {
  Int v{};
  if (s.empty()) return std::nullopt;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string RedisEndpoint::display() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "rediss://" : "redis://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + "/" + std::to_string(db);
}

RedisEndpoint parse_redis_url(std::string_view url) {
  RedisEndpoint e;
  std::string_view rest;
  if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else if (url.starts_with("rediss://")) {
    e.tls = true;
    rest = url.substr(9);
  } else {
    refuse(url, "the scheme must be redis:// or rediss://");
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (const auto q = path.find('?'); q != std::string_view::npos) {
    refuse(url, "query parameters are not read");
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const auto info = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = info.find(':');
    const auto user = percent_decode(info.substr(0, colon));
    const auto pass = colon == std::string_view::npos ? std::optional<std::string>(std::string{})
                                                      : percent_decode(info.substr(colon + 1));
    if (!user || !pass)
      refuse(url, "a % in the user or password is not followed by two hex digits");
    if (colon == std::string_view::npos) {
      e.password = *user;  // redis://secret@host: a lone userinfo is the password
    } else {
      e.user = *user;
      e.password = *pass;
    }
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) refuse(url, "an IPv6 address must end with ]");
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') refuse(url, "only :port may follow the host");
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) refuse(url, "the host is missing");
  e.host = std::string(host);
  if (!port.empty()) {
    const auto p = whole<unsigned>(port);
    if (!p || *p == 0 || *p > 65535) refuse(url, "the port must be 1 to 65535");
    e.port = static_cast<std::uint16_t>(*p);
  }
  if (!path.empty()) {
    const auto db = whole<int>(path);
    if (!db || *db < 0 || *db > 15) refuse(url, "the database must be a number 0 to 15");
    e.db = *db;
  }
  return e;
}

}  // namespace gs
