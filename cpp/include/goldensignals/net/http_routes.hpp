// Plain HTTP answers (health, status, metrics, static files) and WebSocket URL parsing,
// kept free of Beast so they compile fast and test without sockets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "goldensignals/broadcast/message.hpp"

namespace gs {

struct HttpRouteParts;

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// A request's conditional headers (the cacheable /api/snapshot and /api/bars answer 304).
struct CacheHeaders {
  std::string_view if_none_match;
  std::string_view if_modified_since;
};

// The answer to a plain (non-upgrade) request. `method` is e.g. "GET"; `authorization` the
// Authorization header (for GS_ADMIN_TOKEN on /ws/status and /metrics).
HttpReply route_http(const HttpRouteParts& p, std::string_view method, std::string_view target,
                     std::string_view authorization = {}, const CacheHeaders& cache = {});

// A request's token: ?token= (percent-decoded), else Authorization: Bearer.
std::string request_token(std::string_view target, std::string_view authorization);

// A WebSocket upgrade target: /ws/signals or /ws/symbols/{symbol}, with
// ?format=json|msgpack|protobuf.
struct WsTarget {
  bool ok = false;
  int status = 404;                   // when !ok: the HTTP status of the refusal
  std::string error;                  // when !ok: why
  std::optional<std::string> symbol;  // /ws/symbols/{symbol}, normalized
  WireFormat format = WireFormat::Json;
  std::string token;  // ?token=, percent-decoded ("" when absent)
};
WsTarget parse_ws_target(std::string_view target);

// A JSON error body: {"error": code, "message": message}.
std::string json_error(std::string_view code, std::string_view message);

// Content type by file extension (".html" -> "text/html; charset=utf-8").
std::string_view content_type_for(std::string_view path);

}  // namespace gs
