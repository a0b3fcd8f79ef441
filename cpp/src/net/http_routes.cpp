#include "goldensignals/net/http_routes.hpp"

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <variant>

#include "goldensignals/broadcast/room_hub.hpp"
#include "goldensignals/core/clock.hpp"
#include "goldensignals/core/errors.hpp"
#include "goldensignals/net/protocol.hpp"
#include "goldensignals/net/reporter.hpp"
#include "goldensignals/net/security.hpp"
#include "goldensignals/net/server_parts.hpp"

namespace gs {

namespace {

constexpr std::uintmax_t kMaxStaticFile = 16 * 1024 * 1024;  // dashboards are small; no DoS

// Shown at GET / without a web_root: enough to see the stream working.
constexpr std::string_view kBuiltinPage = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>GoldenSignals</title></head>
<body><h1>GoldenSignals</h1>
<p>WebSocket: <code>/ws/signals</code> &middot; <a href="/ws/status">status</a> &middot;
<a href="/metrics">metrics</a> &middot; <a href="/health">health</a></p>
<form id="f"><input id="s" value="AAPL" size="8"> <button>analyze</button></form>
<pre id="log"></pre>
<script>
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/signals");
const log = document.getElementById("log");
ws.onmessage = (e) => { log.textContent = e.data + "\n" + log.textContent.slice(0, 20000); };
document.getElementById("f").onsubmit = (e) => {
  e.preventDefault();
  ws.send(JSON.stringify({type: "analyze", symbol: document.getElementById("s").value}));
};
</script></body></html>
)";

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; nullopt on a malformed escape or a NUL byte.
std::optional<std::string> decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return std::nullopt;
    out += c;
    i += 2;
  }
  return out;
}

HttpReply error(int status, std::string_view code, std::string_view message) {
  return HttpReply{status, "application/json", json_error(code, message), {}};
}

HttpReply static_file(const HttpRouteParts& p, std::string_view raw_path) {
  const bool root_page = raw_path == "/" || raw_path == "/index.html";
  if (p.opts.web_root.empty()) {
    if (root_page) return HttpReply{200, "text/html; charset=utf-8", std::string(kBuiltinPage), {}};
    return error(404, "not_found", "no such page");
  }
  auto path = decode(raw_path);
  if (!path || path->empty() || path->front() != '/' || path->find('\\') != std::string::npos) {
    return error(400, "bad_path", "the request path is malformed");
  }
  // Refuse any dot-dot segment outright, then check the resolved path stays under the root.
  for (std::size_t i = 0; i < path->size();) {
    const auto j = path->find('/', i + 1);
    const auto seg =
        std::string_view(*path).substr(i + 1, (j == std::string::npos ? path->size() : j) - i - 1);
    if (seg == "..") return error(400, "bad_path", "the request path may not contain '..'");
    if (j == std::string::npos) break;
    i = j;
  }
  if (path->back() == '/') *path += "index.html";
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root = fs::canonical(p.opts.web_root, ec);
  if (ec) return error(404, "not_found", "no such file");
  const fs::path full = fs::weakly_canonical(root / path->substr(1), ec);
  const auto rel = full.lexically_relative(root);
  if (ec || rel.empty() || *rel.begin() == "..") return error(404, "not_found", "no such file");
  if (!fs::is_regular_file(full, ec)) return error(404, "not_found", "no such file");
  const auto size = fs::file_size(full, ec);
  if (ec || size > kMaxStaticFile) return error(404, "not_found", "no such file");
  std::ifstream in(full, std::ios::binary);
  std::string body(static_cast<std::size_t>(size), '\0');
  if (!in.read(body.data(), static_cast<std::streamsize>(size))) {
    return error(404, "not_found", "no such file");
  }
  return HttpReply{200, std::string(content_type_for(full.string())), std::move(body), {}};
}

// A query string's key=value pairs in order, values percent-decoded ("?" for a malformed
// escape, which no parameter accepts).
std::vector<std::pair<std::string_view, std::string>> params(std::string_view query) {
  std::vector<std::pair<std::string_view, std::string>> out;
  for (std::size_t i = 0; i < query.size();) {
    auto amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    const auto kv = query.substr(i, amp - i);
    i = amp + 1;
    if (kv.empty()) continue;
    const auto eq = kv.find('=');
    const auto raw = decode(eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1));
    out.emplace_back(kv.substr(0, eq), raw ? *raw : std::string("?"));
  }
  return out;
}

// A decimal count in [lo, hi].
std::optional<std::uint64_t> count_param(const std::string& v, std::uint64_t lo, std::uint64_t hi) {
  if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const auto n = std::stoull(v);
  return n < lo || n > hi ? std::nullopt : std::optional<std::uint64_t>(n);
}

// A symbol as given, upper-cased; or the 400 invalid_symbol answer.
std::variant<std::string, HttpReply> symbol_param(const std::string& given) {
  if (auto s = proto::symbol_from(given)) return *std::move(s);
  return error(400, "invalid_symbol", proto::invalid_symbol_message(given));
}

// GET /api/signals?symbol=AAPL&limit=100&before=SEQ: stored signals, newest first.
// `who`: the verified token's claims (its symbols claim applies), or empty without a token.
HttpReply signal_history(const HttpRouteParts& p, std::string_view query, const Principal& who) {
  std::optional<std::string> symbol;
  std::size_t limit = 100;
  std::uint64_t before = 0;
  for (const auto& [key, v] : params(query)) {
    if (key == "symbol") {
      auto s = symbol_param(v);
      if (auto* bad = std::get_if<HttpReply>(&s)) return std::move(*bad);
      symbol = std::get<std::string>(std::move(s));
    } else if (key == "limit") {
      auto n = count_param(v, 1, 1000);
      if (!n) {
        return error(400, "bad_request",
                     "limit '" + v.substr(0, 32) + "' is not accepted; expected 1 to 1000");
      }
      limit = static_cast<std::size_t>(*n);
    } else if (key == "before") {
      auto n = count_param(v, 1, static_cast<std::uint64_t>(INT64_MAX));
      if (!n) {
        return error(400, "bad_request",
                     "before '" + v.substr(0, 32) +
                         "' is not accepted; expected a seq (an integer >= 1), such as the "
                         "next_before of the previous page");
      }
      before = *n;
    } else if (key != "token") {  // the token was checked by route_http
      return error(400, "bad_request",
                   "unknown parameter '" + std::string(key.substr(0, 32)) +
                       "'; accepted: symbol, limit, before, token");
    }
  }
  if (!symbol) {
    return error(400, "invalid_symbol", "symbol is missing; use /api/signals?symbol=AAPL");
  }
  if (!who.may_join(*symbol)) {
    p.counters.security.forbidden.fetch_add(1);
    return error(403, "forbidden", "the token's symbols do not include " + *symbol);
  }
  if (!p.history.enabled()) {
    return error(404, "history_disabled",
                 "signal history is off on this server (GS_DB is off); start it with "
                 "GS_DB=PATH");
  }
  nlohmann::json items;
  try {
    items = p.history.signals(*symbol, limit, before);
  } catch (const Error& e) {
    return error(503, "history_unavailable", e.what());
  }
  nlohmann::json next = nullptr;
  if (items.size() == limit && !items.empty()) next = items.back()["seq"];
  return HttpReply{
      200,
      "application/json",
      nlohmann::json{
          {"symbol", *symbol}, {"signals", std::move(items)}, {"next_before", std::move(next)}}
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      {}};
}

// --- cacheable market data: /api/snapshot/{symbol} and /api/bars/{symbol} -------------------

// RFC 9110's IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a time in ms since the epoch.
std::string http_date(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

// An IMF-fixdate in seconds since the epoch; nullopt when it is not one.
std::optional<std::int64_t> parse_http_date(std::string_view text) {
  std::tm tm{};
  std::istringstream in{std::string(text)};
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

// A strong validator of the body: FNV-1a, 64 bits, quoted.
std::string etag_of(std::string_view body) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

// If-None-Match: "*" or a list of entity tags, compared weakly (RFC 9110 13.1.2).
bool etag_matches(std::string_view header, std::string_view etag) {
  if (header.find('*') != std::string_view::npos) return true;
  for (std::size_t i = 0; i < header.size();) {
    auto comma = header.find(',', i);
    if (comma == std::string_view::npos) comma = header.size();
    auto tag = header.substr(i, comma - i);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    i = comma + 1;
  }
  return false;
}

// A cacheable JSON answer: ETag, Last-Modified and Cache-Control, or 304 when the client's
// copy is current (If-None-Match; else If-Modified-Since).
HttpReply cacheable(const HttpRouteParts& p, std::string body, std::int64_t modified_ms,
                    const CacheHeaders& cache) {
  const auto etag = etag_of(body);
  // Answers that need a token are the client's own: no shared cache may keep them.
  const std::string control = std::string(p.opts.require_auth ? "private" : "public") +
                              ", max-age=" + std::to_string(p.opts.cache_max_age);
  HttpReply r{200, "application/json", std::move(body), {}};
  bool current = false;
  if (!cache.if_none_match.empty()) {
    current = etag_matches(cache.if_none_match, etag);
  } else if (!cache.if_modified_since.empty()) {
    const auto since = parse_http_date(cache.if_modified_since);
    current = since && modified_ms / 1000 <= *since;
  }
  if (current) {
    r.status = 304;
    r.body.clear();
  }
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Last-Modified", http_date(modified_ms));
  r.headers.emplace_back("Cache-Control", control);
  if (p.opts.require_auth) r.headers.emplace_back("Vary", "Authorization");
  return r;
}

nlohmann::json bar_json(const MarketSnapshot& m, std::size_t i) {
  return {{"time", iso8601_ms(m.time_ms[i])},
          {"open", m.open[i]},
          {"high", m.high[i]},
          {"low", m.low[i]},
          {"close", m.close[i]},
          {"volume", m.volume[i]}};
}

// GET /api/snapshot/{symbol}: the latest price, the indicators and the latest signal.
// GET /api/bars/{symbol}?limit=N: the newest N bars kept (oldest first; 100 by default).
HttpReply market_data(const HttpRouteParts& p, bool bars, std::string_view raw_symbol,
                      std::string_view query, const Principal& who, const CacheHeaders& cache) {
  auto parsed = symbol_param(decode(raw_symbol).value_or("?"));
  if (auto* bad = std::get_if<HttpReply>(&parsed)) return std::move(*bad);
  const auto symbol = std::get<std::string>(std::move(parsed));
  std::size_t limit = 100;
  for (const auto& [key, v] : params(query)) {
    if (bars && key == "limit") {
      const auto n = count_param(v, 1, 100'000);
      if (!n) {
        return error(400, "bad_request",
                     "limit '" + v.substr(0, 32) + "' is not accepted; expected 1 to 100000");
      }
      limit = static_cast<std::size_t>(*n);
    } else if (key != "token") {
      return error(400, "bad_request",
                   "unknown parameter '" + std::string(key.substr(0, 32)) +
                       "'; accepted: " + (bars ? "limit, token" : "token"));
    }
  }
  if (!who.may_join(symbol)) {
    p.counters.security.forbidden.fetch_add(1);
    return error(403, "forbidden", "the token's symbols do not include " + symbol);
  }
  SnapshotPtr m;
  try {
    m = p.analyses.market(symbol);
  } catch (const UnknownSymbol&) {
    std::string list;
    for (const auto& t : p.analyses.symbols()) list += (list.empty() ? "" : ", ") + t;
    return error(404, "unknown_symbol",
                 symbol + " is not tracked by this server; tracked: " + list);
  }
  if (!m) return error(404, "no_data", "no market data for " + symbol + " yet");
  std::int64_t modified = m->as_of_ms;
  nlohmann::json out{{"symbol", symbol}};
  if (bars) {
    const auto n = std::min(limit, m->size());
    auto list = nlohmann::json::array();
    for (std::size_t i = m->size() - n; i < m->size(); ++i) list.push_back(bar_json(*m, i));
    out["bars"] = std::move(list);
    out["count"] = n;
    out["kept"] = m->size();
  } else {
    out["price"] = m->price;
    out["as_of"] = iso8601_ms(m->as_of_ms);
    out["bars_seen"] = m->bars_seen;
    out["last_bar"] = m->size() > 0 ? bar_json(*m, m->size() - 1) : nlohmann::json(nullptr);
    auto ind = nlohmann::json::object();
    for (const auto& [name, v] : m->indicators.defined()) ind[std::string(name)] = v;
    out["indicators"] = std::move(ind);
    out["signal"] = nullptr;
    if (const auto last = p.hub.snapshot(symbol)) {
      auto j = nlohmann::json::parse(last->json(), nullptr, false);
      if (j.is_object() && j.contains("data")) {
        out["signal"] = std::move(j["data"]);
        if (const auto ts = out["signal"].find("timestamp");
            ts != out["signal"].end() && ts->is_string()) {
          modified = std::max(modified, parse_iso8601_ms(ts->get<std::string>()).value_or(0));
        }
      }
    }
  }
  return cacheable(p, out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), modified,
                   cache);
}

}  // namespace

std::string json_error(std::string_view code, std::string_view message) {
  return nlohmann::json{{"error", code}, {"message", message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view content_type_for(std::string_view path) {
  const auto dot = path.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot);
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".wasm", "application/wasm"},
  };
  for (const auto& [e, t] : kTypes) {
    if (e == ext) return t;
  }
  return "application/octet-stream";
}

namespace {

// The value of `name` in a query string, percent-decoded ('+' is a space); nullopt if absent.
std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  std::size_t i = 0;
  while (i < query.size()) {
    const auto amp = query.find('&', i);
    const auto kv = query.substr(i, (amp == std::string_view::npos ? query.size() : amp) - i);
    if (kv.size() > name.size() && kv.starts_with(name) && kv[name.size()] == '=') {
      std::string v(kv.substr(name.size() + 1));
      for (char& c : v) {
        if (c == '+') c = ' ';
      }
      return decode(v).value_or(std::string());
    }
    if (amp == std::string_view::npos) break;
    i = amp + 1;
  }
  return std::nullopt;
}

HttpReply admin_refusal() {
  auto r = error(401, "admin_required",
                 "this endpoint needs the admin token (GS_ADMIN_TOKEN) as Authorization: Bearer "
                 "or ?token=");
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace

std::string request_token(std::string_view target, std::string_view authorization) {
  const auto [path, query] = split_target(target);
  if (auto t = query_value(query, "token"); t && !t->empty()) return *t;
  return std::string(bearer_token(authorization));
}

HttpReply route_http(const HttpRouteParts& p, std::string_view method, std::string_view target,
                     std::string_view authorization, const CacheHeaders& cache) {
  const auto [path, query] = split_target(target);
  if ((path == "/ws/status" || path == "/metrics") &&
      !p.access.admin_allowed(request_token(target, authorization))) {
    p.counters.security.count(Refusal::AdminRequired);
    return admin_refusal();
  }
  if (method != "GET" && method != "HEAD") {
    auto r = error(405, "method_not_allowed", "only GET and HEAD are served");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (path == "/health") {
    if (p.history.degraded()) {
      return HttpReply{503,
                       "application/json",
                       nlohmann::json{{"status", "degraded"},
                                      {"history", p.history.report()},
                                      {"cluster", p.history.cluster_report()}}
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       {}};
    }
    return HttpReply{200, "application/json", R"({"status":"ok"})", {}};
  }
  if (path == "/ws/status")
    return HttpReply{200, "application/json", p.reporter.status().dump(), {}};
  if (path == "/metrics") {
    return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", p.reporter.metrics(), {}};
  }
  constexpr std::string_view kSnapshot = "/api/snapshot/", kBars = "/api/bars/";
  const bool snapshot = path.starts_with(kSnapshot) && path.size() > kSnapshot.size();
  const bool bars = path.starts_with(kBars) && path.size() > kBars.size();
  if (path == "/api/signals" || snapshot || bars) {
    // History and market data are data like the stream: the same token rules as the upgrade.
    auto v = p.access.check(request_token(target, authorization));
    if (!v.ok) {
      p.counters.security.count(refusal_for(v.reason));
      auto r = error(401, v.reason, v.message);
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    if (snapshot)
      return market_data(p, false, path.substr(kSnapshot.size()), query, v.principal, cache);
    if (bars) return market_data(p, true, path.substr(kBars.size()), query, v.principal, cache);
    return signal_history(p, query, v.principal);
  }
  if (path == "/ws" || path.starts_with("/ws/")) {
    auto r = error(426, "upgrade_required", "this is a WebSocket endpoint; connect with ws://");
    r.headers.emplace_back("Upgrade", "websocket");
    return r;
  }
  return static_file(p, path);
}

WsTarget parse_ws_target(std::string_view target) {
  WsTarget t;
  const auto [path, query] = split_target(target);
  constexpr std::string_view kSymbols = "/ws/symbols/";
  if (path == "/ws/signals") {
    // the main endpoint
  } else if (path.starts_with(kSymbols) && path.size() > kSymbols.size()) {
    auto s = proto::symbol_from(decode(path.substr(kSymbols.size())).value_or(""));
    if (!s) {
      t.status = 400;
      t.error = "invalid symbol in the path; expected 1-16 of A-Z 0-9 . - ^ =";
      return t;
    }
    t.symbol = std::move(s);
  } else {
    t.status = 404;
    t.error = "no WebSocket endpoint here; use /ws/signals or /ws/symbols/{symbol}";
    return t;
  }
  std::size_t i = 0;
  while (i <= query.size() && !query.empty()) {
    const auto amp = query.find('&', i);
    const auto kv = query.substr(i, (amp == std::string_view::npos ? query.size() : amp) - i);
    if (kv.starts_with("format=")) {
      const auto v = kv.substr(7);
      if (v == "msgpack") {
        t.format = WireFormat::MsgPack;
      } else if (v == "protobuf") {
        t.format = WireFormat::Protobuf;
      } else if (v != "json") {
        t.status = 400;
        t.error = "format '" + std::string(v.substr(0, 32)) +
                  "' is not accepted; expected json, msgpack or protobuf";
        return t;
      }
    }
    if (amp == std::string_view::npos) break;
    i = amp + 1;
  }
  t.token = query_value(query, "token").value_or(std::string());
  t.ok = true;
  return t;
}

}  // namespace gs
