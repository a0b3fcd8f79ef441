// Wall clock, ISO-8601 formatting and identifiers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gs {

// Milliseconds since the Unix epoch, UTC.
std::int64_t now_ms() noexcept;

// "2024-01-01T00:00:00.123Z" (ISO-8601 UTC with milliseconds).
std::string iso8601_ms(std::int64_t ms_since_epoch);

// "2024-01-01T00:00:00Z", with optional .fff and a Z or +00:00 zone (or none: UTC), or a date
// "2024-01-01", to milliseconds since the epoch; nullopt when it is not one of those.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) noexcept;

// A random RFC 4122 version-4 UUID in canonical lower-case form.
std::string uuid4();

// True if s matches ^[A-Z0-9][A-Z0-9.\-^=]{0,15}$ (call after upper-casing).
bool is_valid_symbol(std::string_view s) noexcept;

// Upper-cases and validates; throws InvalidArgument naming the bad value and the accepted form.
std::string normalize_symbol(std::string_view s);

}  // namespace gs
