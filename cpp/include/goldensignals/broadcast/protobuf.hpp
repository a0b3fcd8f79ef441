// ?format=protobuf: the protocol's JSON objects as the messages of proto/goldensignals.proto
// (goldensignals.v1.ServerMessage and ClientMessage), and back.
//
// The schema is compiled in (protoc's FileDescriptorSet of the .proto, embedded at build time)
// and read into a descriptor pool of its own with dynamic messages: no generated code, so no
// two copies of one file can ever meet in protobuf's global pool (the server, its Python-agent
// plugin and the Python module each carry the schema). The oneof field set in a ServerMessage
// or ClientMessage is the JSON "type"; the other keys map to the fields of the same name.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gs::pb {

struct Encoded {
  std::string bytes;
  // Keys the schema has no field for, or values of the wrong kind ("data.price: expected a
  // number"): left out of bytes. Empty for every message this server makes.
  std::vector<std::string> unmapped;
};

// A server message (a JSON object with a string "type") as ServerMessage bytes. A type the
// schema does not know travels whole, as ServerMessage.unmapped (its JSON text).
Encoded encode_server(const nlohmann::json& message);

// A client message (a JSON object with a string "type") as ClientMessage bytes (tests, tools).
Encoded encode_client(const nlohmann::json& message);

// Why bytes are not a message: not that message type at all (malformed), or one that sets
// none of its members.
struct DecodeError {
  bool malformed = true;
  std::string why;
};

// ClientMessage bytes as the JSON object a JSON client sends.
std::variant<nlohmann::json, DecodeError> decode_client(std::string_view bytes);

// ServerMessage bytes as the JSON object (tests, tools). Decoded objects carry every field
// without `optional` (proto3 defaults included) and every repeated and map field.
std::variant<nlohmann::json, DecodeError> decode_server(std::string_view bytes);

// The schema: a FileDescriptorSet of goldensignals.proto and what it imports, for clients that
// build their message classes at run time (the Python package does).
std::string_view descriptor_set() noexcept;

// Keys and values encode_server left out since start (a schema behind its server: a bug).
std::uint64_t unmapped_total() noexcept;

}  // namespace gs::pb
