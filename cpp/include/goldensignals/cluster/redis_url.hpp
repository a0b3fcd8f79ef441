// Where the cluster's Redis is: GS_REDIS_URL, redis://[[user]:password@]host[:port][/db] or
// rediss:// for TLS, the password from the URL or GS_REDIS_PASSWORD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gs {

struct RedisEndpoint {
  bool tls = false;
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  int db = 0;
  std::string user;      // empty: Redis's default user
  std::string password;  // empty: no AUTH

  // redis://host:port/db (never the password), for logs and status.
  [[nodiscard]] std::string display() const;
};

// Throws InvalidArgument naming GS_REDIS_URL, the value and what is accepted.
RedisEndpoint parse_redis_url(std::string_view url);

}  // namespace gs
