#include "goldensignals/net/options.hpp"

#include <boost/asio/ip/address.hpp>
#include <cmath>
#include <filesystem>

#include "goldensignals/core/errors.hpp"
#include "goldensignals/core/validate.hpp"

namespace gs {

namespace {

void need(bool ok, const char* field, const std::string& value, const char* accepted) {
  if (!ok) {
    throw InvalidArgument(std::string("ServerOptions.") + field + " = " + value +
                          " is not accepted; expected " + accepted);
  }
}

void need_count(std::size_t v, std::size_t lo, std::size_t hi, const char* field,
                const char* accepted) {
  need(v >= lo && v <= hi, field, std::to_string(v), accepted);
}

void need_ms(std::chrono::milliseconds v, std::int64_t lo, std::int64_t hi, const char* field,
             const char* accepted) {
  need(v.count() >= lo && v.count() <= hi, field, std::to_string(v.count()) + " ms", accepted);
}

}  // namespace

void ServerOptions::validate() const {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  need(!ec, "host", "'" + host + "'", "an IPv4 or IPv6 address such as 127.0.0.1 or 0.0.0.0");
  need_count(io_threads, 1, 64, "io_threads", "1 to 64");
  need_ms(heartbeat_interval, 10, 3'600'000, "heartbeat_interval", "10 ms to 1 h");
  need_count(message_queue_size, 1, 1'000'000, "message_queue_size", "1 to 1000000");
  need_count(max_connections, 1, 1'000'000, "max_connections", "1 to 1000000");
  need_count(max_message_bytes, 128, 64 * 1024 * 1024, "max_message_bytes", "128 B to 64 MiB");
  need_count(max_subscriptions_per_client, 1, 100'000, "max_subscriptions_per_client",
             "1 to 100000");
  need(std::isfinite(analyze_rate.per_second) && analyze_rate.per_second > 0,
       "analyze_rate.per_second", fmt_num(analyze_rate.per_second), "a finite rate > 0 per second");
  need(std::isfinite(analyze_rate.burst) && analyze_rate.burst >= 1, "analyze_rate.burst",
       fmt_num(analyze_rate.burst), "a finite number >= 1");
  need(std::isfinite(message_rate.per_second) && message_rate.per_second > 0,
       "message_rate.per_second", fmt_num(message_rate.per_second), "a finite rate > 0 per second");
  need(std::isfinite(message_rate.burst) && message_rate.burst >= 1, "message_rate.burst",
       fmt_num(message_rate.burst), "a finite number >= 1");
  need_count(max_connections_per_ip, 1, 1'000'000, "max_connections_per_ip", "1 to 1000000");
  need_count(max_active_analyses, 1, 1'000'000, "max_active_analyses", "1 to 1000000");
  need_count(max_alerts_per_client, 0, 10'000, "max_alerts_per_client", "0 to 10000");
  need_count(alert_max_length, 16, 4'096, "alert_max_length", "16 to 4096");
  need_count(cache_max_age, 0, 86'400, "cache_max_age", "0 to 86400 s");
  need(compression_window_bits >= 9 && compression_window_bits <= 15, "compression_window_bits",
       std::to_string(compression_window_bits), "9 to 15");
  need_count(compression_threshold, 0, 64 * 1024 * 1024, "compression_threshold", "0 to 64 MiB");
  need_count(max_portfolios_per_client, 0, 1'000, "max_portfolios_per_client", "0 to 1000");
  need_count(max_portfolio_size, 1, 10'000, "max_portfolio_size", "1 to 10000");
  need(jwt_leeway.count() >= 0 && jwt_leeway.count() <= 3600, "jwt_leeway",
       std::to_string(jwt_leeway.count()) + " s", "0 to 3600 s");
  need(!require_auth || !jwt_secret.empty() || !jwt_public_key.empty(), "require_auth", "true",
       "a key to verify tokens with: set GS_JWT_SECRET or GS_JWT_PUBLIC_KEY too");
  need(tls_cert.empty() == tls_key.empty(), "tls_cert/tls_key",
       "'" + tls_cert + "'/'" + tls_key + "'", "both files (TLS) or neither (plain TCP)");
  need_count(http_body_limit, 0, 64 * 1024 * 1024, "http_body_limit", "0 to 64 MiB");
  need_count(http_header_limit, 1024, 1024 * 1024, "http_header_limit", "1 KiB to 1 MiB");
  need_ms(handshake_timeout, 10, 600'000, "handshake_timeout", "10 ms to 10 min");
  need_ms(read_timeout, 10, 3'600'000, "read_timeout", "10 ms to 1 h");
  need_ms(close_timeout, 10, 600'000, "close_timeout", "10 ms to 10 min");
  need_count(event_queue_size, 16, 10'000'000, "event_queue_size", "16 to 10000000");
  need_count(store_queue_size, 16, 10'000'000, "store_queue_size", "16 to 10000000");
  need_ms(commit_interval, 0, 1'000, "commit_interval", "0 to 1000 ms");
  need(socket_send_buffer >= 0, "socket_send_buffer", std::to_string(socket_send_buffer),
       "0 (OS default) or a size in bytes");
  need(std::isfinite(retention_days) && retention_days > 0 && retention_days <= 36'500,
       "retention_days", fmt_num(retention_days), "a number of days in (0, 36500]");
  need_count(retention_rows, 1, 1'000'000'000, "retention_rows", "1 to 1000000000");
  if (!web_root.empty()) {
    std::error_code fec;
    need(std::filesystem::is_directory(web_root, fec), "web_root", "'" + web_root + "'",
         "an existing directory, or empty for the built-in page");
  }
}

}  // namespace gs
