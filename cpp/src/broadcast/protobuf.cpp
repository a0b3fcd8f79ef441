#include "goldensignals/broadcast/protobuf.hpp"

#include <google/protobuf/arena.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace gs::pb {

namespace detail {
// The FileDescriptorSet protoc made of proto/goldensignals.proto (generated at build time).
extern const unsigned char descriptor_set[];
extern const std::size_t descriptor_set_size;
}  // namespace detail

namespace {

namespace gpb = google::protobuf;
using nlohmann::json;
using Cpp = gpb::FieldDescriptor::CppType;

std::atomic<std::uint64_t> g_unmapped{0};

// The schema in a pool of its own, and a factory of dynamic messages over it (for reading
// frames; Wire writes from the descriptors alone). Both are thread-safe once built:
// DynamicMessageFactory::GetPrototype locks.
class Schema {
 public:
  static const Schema& get() {
    static const Schema s;
    return s;
  }
  const gpb::Message* server = nullptr;
  const gpb::Message* client = nullptr;

 private:
  Schema() {
    gpb::FileDescriptorSet set;
    if (!set.ParseFromArray(detail::descriptor_set,
                            static_cast<int>(detail::descriptor_set_size))) {
      throw std::logic_error("goldensignals.proto: the embedded descriptor set does not parse");
    }
    for (const auto& file : set.file()) {  // protoc lists imports before their importers
      if (pool_.BuildFile(file) == nullptr) {
        throw std::logic_error("goldensignals.proto: cannot build " + std::string(file.name()));
      }
    }
    // Wire writes map keys as strings: a schema with other keys is refused here, not misencoded.
    const auto* file = pool_.FindFileByName("goldensignals.proto");
    if (file == nullptr) throw std::logic_error("goldensignals.proto: not in the descriptor set");
    for (int i = 0; i < file->message_type_count(); ++i) check_maps(file->message_type(i));
    server = prototype("goldensignals.v1.ServerMessage");
    client = prototype("goldensignals.v1.ClientMessage");
  }
  static void check_maps(const gpb::Descriptor* d) {
    for (int i = 0; i < d->field_count(); ++i) {
      const auto* f = d->field(i);
      if (f->is_map() &&
          f->message_type()->map_key()->type() != gpb::FieldDescriptor::TYPE_STRING) {
        throw std::logic_error("goldensignals.proto: " + std::string(f->full_name()) +
                               ": only string map keys are supported");
      }
    }
    for (int i = 0; i < d->nested_type_count(); ++i) check_maps(d->nested_type(i));
  }
  const gpb::Message* prototype(const std::string& name) {
    const auto* d = pool_.FindMessageTypeByName(name);
    if (d == nullptr) throw std::logic_error("goldensignals.proto: no message " + name);
    return factory_.GetPrototype(d);
  }
  gpb::DescriptorPool pool_;
  gpb::DynamicMessageFactory factory_{&pool_};
};

bool is(const gpb::Descriptor* d, std::string_view full_name) {
  return d != nullptr && d->full_name() == full_name;
}
constexpr std::string_view kStruct = "google.protobuf.Struct";
constexpr std::string_view kValue = "google.protobuf.Value";
constexpr std::string_view kList = "google.protobuf.ListValue";

// A whole number that fits T: an integer, or a float with no fraction.
template <class T>
std::optional<T> integer(const json& v) {
  using L = std::numeric_limits<T>;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(L::max())) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    const auto s = v.get<std::int64_t>();
    if (s >= static_cast<std::int64_t>(L::min()) &&
        (s < 0 || static_cast<std::uint64_t>(s) <= static_cast<std::uint64_t>(L::max()))) {
      return static_cast<T>(s);
    }
  } else if (v.is_number_float()) {
    const double x = v.get<double>();
    // L::max() + 1 is a power of two, exact as a double: the casts below are in range.
    if (std::isfinite(x) && x == std::floor(x) && x >= static_cast<double>(L::min()) &&
        x < static_cast<double>(L::max()) + 1.0) {
      return static_cast<T>(x);
    }
  }
  return std::nullopt;
}

// Where a value sits in a message ("data.agents_consensus.faulty_agents[2]"), kept as a chain
// of views and made into text only when something there does not fit.
struct Path {
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
  const Path* parent = nullptr;  // nullptr: the message itself
  std::string_view key;
  std::size_t index = kNoIndex;  // an element of a repeated field

  [[nodiscard]] std::string str() const {
    if (parent == nullptr) return {};
    std::string s = parent->str();
    if (index != kNoIndex) return s + "[" + std::to_string(index) + "]";
    return s.empty() ? std::string(key) : s + "." + std::string(key);
  }
};

// Protobuf's wire format written straight from JSON, guided by the schema's descriptors (no
// message objects: one pass, a buffer per nested message). What does not fit is noted, never
// guessed. Fields go out in the JSON object's key order, which parsers accept (fields may come
// in any order); proto3 defaults of fields without presence are left out, as protoc's code does.
class Wire {
 public:
  explicit Wire(std::vector<std::string>& unmapped) : unmapped_(unmapped) {}

  // j's keys (but skip) as the fields of message type d, appended to out.
  void object(const json& j, const gpb::Descriptor* d, std::string& out, const Path& path,
              std::string_view skip = {}) {
    for (const auto& [key, v] : j.items()) {
      if (v.is_null() || (!skip.empty() && key == skip)) continue;  // null: an unset field
      const Path at{&path, key};
      const auto* f = d->FindFieldByName(key);
      if (f == nullptr) {
        note(at, "no such field in " + std::string(d->full_name()));
        continue;
      }
      field(v, f, out, at);
    }
  }

  // Field `number` holding a nested message's bytes.
  static void nested(int number, std::string_view body, std::string& out) {
    tag(out, number, kLen);
    varint(out, body.size());
    out.append(body);
  }

 private:
  static constexpr int kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5;
  // google/protobuf/struct.proto's field numbers.
  static constexpr int kStructFields = 1, kListValues = 1, kNull = 1, kNumber = 2, kString = 3,
                       kBool = 4, kStructValue = 5, kListValue = 6;

  static void varint(std::string& o, std::uint64_t v) {
    while (v >= 0x80) {
      o.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    o.push_back(static_cast<char>(v));
  }
  static void tag(std::string& o, int number, int wire) {
    varint(o, (static_cast<std::uint64_t>(number) << 3) | static_cast<std::uint64_t>(wire));
  }
  static void fixed(std::string& o, std::uint64_t bits, int bytes) {
    for (int i = 0; i < bytes; ++i) o.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  static void fixed_double(std::string& o, double x) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &x, sizeof bits);
    fixed(o, bits, 8);
  }
  static void fixed_float(std::string& o, float x) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &x, sizeof bits);
    fixed(o, bits, 4);
  }

  void note(const Path& at, const std::string& why) { unmapped_.push_back(at.str() + ": " + why); }

  void field(const json& v, const gpb::FieldDescriptor* f, std::string& out, const Path& at) {
    if (f->is_map()) {
      if (!v.is_object()) return note(at, "expected an object");
      const auto* value = f->message_type()->map_value();
      std::string entry;
      for (const auto& [k, x] : v.items()) {
        if (x.is_null()) continue;
        entry.clear();
        tag(entry, 1, kLen);
        varint(entry, k.size());
        entry.append(k);
        if (put(x, value, entry, Path{&at, k}, true)) nested(f->number(), entry, out);
      }
      return;
    }
    if (f->is_repeated()) {
      if (!v.is_array()) return note(at, "expected an array");
      if (f->is_packed()) {  // numbers: one length-delimited run of values without tags
        std::string run;
        for (std::size_t i = 0; i < v.size(); ++i) {
          scalar(v[i], f, run, Path{&at, {}, i});
        }
        if (!run.empty()) nested(f->number(), run, out);
        return;
      }
      for (std::size_t i = 0; i < v.size(); ++i) {
        put(v[i], f, out, Path{&at, {}, i}, true);
      }
      return;
    }
    put(v, f, out, at, f->has_presence());
  }

  // One value of f with its tag; `always`: even a proto3 default (a field with presence, a
  // repeated element, a map value). False when it did not fit (noted).
  bool put(const json& v, const gpb::FieldDescriptor* f, std::string& out, const Path& at,
           bool always) {
    using T = gpb::FieldDescriptor::Type;
    if (f->type() == T::TYPE_MESSAGE) {
      const auto* t = f->message_type();
      std::string body;
      if (is(t, kStruct)) {
        if (!v.is_object()) return note(at, "expected an object"), false;
        struct_body(v, body);
      } else if (is(t, kList)) {
        if (!v.is_array()) return note(at, "expected an array"), false;
        list_body(v, body);
      } else if (is(t, kValue)) {
        value_body(v, body);
      } else {
        if (!v.is_object()) return note(at, "expected an object"), false;
        object(v, t, body, at);
      }
      nested(f->number(), body, out);
      return true;
    }
    if (f->type() == T::TYPE_STRING || f->type() == T::TYPE_BYTES) {
      if (!v.is_string()) return mismatch(v, f, at);
      const auto& s = v.get_ref<const std::string&>();
      if (s.empty() && !always) return true;
      tag(out, f->number(), kLen);
      varint(out, s.size());
      out.append(s);
      return true;
    }
    std::string one;
    if (!scalar(v, f, one, at)) return false;
    if (!always && is_zero(one, f)) return true;
    tag(out, f->number(), wire_of(f));
    out.append(one);
    return true;
  }

  static int wire_of(const gpb::FieldDescriptor* f) {
    using T = gpb::FieldDescriptor::Type;
    switch (f->type()) {
      case T::TYPE_DOUBLE:
      case T::TYPE_FIXED64:
      case T::TYPE_SFIXED64:
        return kFixed64;
      case T::TYPE_FLOAT:
      case T::TYPE_FIXED32:
      case T::TYPE_SFIXED32:
        return kFixed32;
      default:
        return kVarint;
    }
  }

  // A proto3 default: a varint 0, or fixed bits all zero (+0.0; -0.0 is written, as protoc's
  // code writes it).
  static bool is_zero(const std::string& encoded, const gpb::FieldDescriptor* f) {
    if (wire_of(f) == kVarint) return encoded.size() == 1 && encoded[0] == 0;
    return std::all_of(encoded.begin(), encoded.end(), [](char c) { return c == 0; });
  }

  bool mismatch(const json& v, const gpb::FieldDescriptor* f, const Path& at) {
    note(at, "expected " + std::string(f->cpp_type_name()) + ", got " + v.type_name());
    return false;
  }

  // A number, bool or enum of f's type, without tag.
  bool scalar(const json& v, const gpb::FieldDescriptor* f, std::string& out, const Path& at) {
    using T = gpb::FieldDescriptor::Type;
    switch (f->type()) {
      case T::TYPE_DOUBLE:
        if (!v.is_number()) break;
        fixed_double(out, v.get<double>());
        return true;
      case T::TYPE_FLOAT:
        if (!v.is_number()) break;
        // Outside float's range the conversion is undefined: not a float, then.
        if (std::fabs(v.get<double>()) > std::numeric_limits<float>::max()) break;
        fixed_float(out, v.get<float>());
        return true;
      case T::TYPE_BOOL:
        if (!v.is_boolean()) break;
        varint(out, v.get<bool>() ? 1 : 0);
        return true;
      case T::TYPE_INT64:
      case T::TYPE_SFIXED64:
      case T::TYPE_SINT64:
        if (const auto n = integer<std::int64_t>(v)) {
          const auto u = static_cast<std::uint64_t>(*n);
          if (f->type() == T::TYPE_SFIXED64) {
            fixed(out, u, 8);
          } else if (f->type() == T::TYPE_SINT64) {
            varint(out, (u << 1) ^ static_cast<std::uint64_t>(*n >> 63));
          } else {
            varint(out, u);
          }
          return true;
        }
        break;
      case T::TYPE_INT32:
      case T::TYPE_SFIXED32:
      case T::TYPE_SINT32:
        if (const auto n = integer<std::int32_t>(v)) {
          if (f->type() == T::TYPE_SFIXED32) {
            fixed(out, static_cast<std::uint32_t>(*n), 4);
          } else if (f->type() == T::TYPE_SINT32) {
            varint(out,
                   (static_cast<std::uint32_t>(*n) << 1) ^ static_cast<std::uint32_t>(*n >> 31));
          } else {
            varint(out,
                   static_cast<std::uint64_t>(static_cast<std::int64_t>(*n)));  // sign-extended
          }
          return true;
        }
        break;
      case T::TYPE_UINT64:
      case T::TYPE_FIXED64:
        if (const auto n = integer<std::uint64_t>(v)) {
          f->type() == T::TYPE_FIXED64 ? fixed(out, *n, 8) : varint(out, *n);
          return true;
        }
        break;
      case T::TYPE_UINT32:
      case T::TYPE_FIXED32:
        if (const auto n = integer<std::uint32_t>(v)) {
          f->type() == T::TYPE_FIXED32 ? fixed(out, *n, 4) : varint(out, *n);
          return true;
        }
        break;
      case T::TYPE_ENUM: {
        const gpb::EnumValueDescriptor* e = nullptr;
        if (v.is_string()) e = f->enum_type()->FindValueByName(v.get<std::string>());
        if (e == nullptr) break;
        varint(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(e->number())));
        return true;
      }
      default:  // strings and messages are put(); groups are not in proto3
        break;
    }
    return mismatch(v, f, at);
  }

  // google.protobuf.Struct, ListValue and Value hold any JSON (numbers as doubles).
  static void struct_body(const json& j, std::string& out) {
    std::string entry, value;
    for (const auto& [k, x] : j.items()) {
      entry.clear();
      value.clear();
      tag(entry, 1, kLen);
      varint(entry, k.size());
      entry.append(k);
      value_body(x, value);
      nested(2, value, entry);
      nested(kStructFields, entry, out);
    }
  }
  static void list_body(const json& j, std::string& out) {
    std::string value;
    for (const auto& x : j) {
      value.clear();
      value_body(x, value);
      nested(kListValues, value, out);
    }
  }
  static void value_body(const json& x, std::string& out) {
    std::string inner;
    switch (x.type()) {
      case json::value_t::boolean:
        tag(out, kBool, kVarint);
        varint(out, x.get<bool>() ? 1 : 0);
        return;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float:
        tag(out, kNumber, kFixed64);
        fixed_double(out, x.get<double>());
        return;
      case json::value_t::string:
        tag(out, kString, kLen);
        varint(out, x.get_ref<const std::string&>().size());
        out.append(x.get_ref<const std::string&>());
        return;
      case json::value_t::object:
        struct_body(x, inner);
        nested(kStructValue, inner, out);
        return;
      case json::value_t::array:
        list_body(x, inner);
        nested(kListValue, inner, out);
        return;
      default:  // null, binary, discarded: NULL_VALUE (0)
        tag(out, kNull, kVarint);
        varint(out, 0);
        return;
    }
  }

  std::vector<std::string>& unmapped_;
};

// A message as JSON: every field without presence (proto3 defaults included, repeated and map
// fields even when empty), and every field with presence that is set.
json read(const gpb::Message& m);

// A signed integer as JSON text parses: unsigned when not negative (the protocol's checks of
// seqs and limits ask for that, as for a JSON client's 5).
json number(std::int64_t v) { return v >= 0 ? json(static_cast<std::uint64_t>(v)) : json(v); }

json read_value(const gpb::Message& m, const gpb::FieldDescriptor* f, int i) {
  const auto* r = m.GetReflection();
  const bool rep = i >= 0;
  switch (f->cpp_type()) {
    case Cpp::CPPTYPE_MESSAGE:
      return read(rep ? r->GetRepeatedMessage(m, f, i) : r->GetMessage(m, f));
    case Cpp::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, i) : r->GetString(m, f);
    case Cpp::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, f, i) : r->GetBool(m, f);
    case Cpp::CPPTYPE_DOUBLE:
      return rep ? r->GetRepeatedDouble(m, f, i) : r->GetDouble(m, f);
    case Cpp::CPPTYPE_FLOAT:
      return rep ? r->GetRepeatedFloat(m, f, i) : r->GetFloat(m, f);
    case Cpp::CPPTYPE_INT64:
      return number(rep ? r->GetRepeatedInt64(m, f, i) : r->GetInt64(m, f));
    case Cpp::CPPTYPE_INT32:
      return number(rep ? r->GetRepeatedInt32(m, f, i) : r->GetInt32(m, f));
    case Cpp::CPPTYPE_UINT64:
      return rep ? r->GetRepeatedUInt64(m, f, i) : r->GetUInt64(m, f);
    case Cpp::CPPTYPE_UINT32:
      return rep ? r->GetRepeatedUInt32(m, f, i) : r->GetUInt32(m, f);
    case Cpp::CPPTYPE_ENUM:
      return (rep ? r->GetRepeatedEnum(m, f, i) : r->GetEnum(m, f))->name();
  }
  return nullptr;
}

json read_wkt(const gpb::Message& m) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  if (is(d, kStruct)) {
    json out = json::object();
    const auto* fields = d->FindFieldByName("fields");
    const auto* key = fields->message_type()->map_key();
    const auto* value = fields->message_type()->map_value();
    for (int i = 0; i < r->FieldSize(m, fields); ++i) {
      const auto& e = r->GetRepeatedMessage(m, fields, i);
      out[e.GetReflection()->GetString(e, key)] = read_wkt(e.GetReflection()->GetMessage(e, value));
    }
    return out;
  }
  if (is(d, kList)) {
    json out = json::array();
    const auto* values = d->FindFieldByName("values");
    for (int i = 0; i < r->FieldSize(m, values); ++i) {
      out.push_back(read_wkt(r->GetRepeatedMessage(m, values, i)));
    }
    return out;
  }
  // Value: the member of its oneof that is set.
  const auto* set = r->GetOneofFieldDescriptor(m, d->FindOneofByName("kind"));
  if (set == nullptr || set->name() == "null_value") return nullptr;
  if (set->name() == "number_value") return r->GetDouble(m, set);
  if (set->name() == "string_value") return r->GetString(m, set);
  if (set->name() == "bool_value") return r->GetBool(m, set);
  return read_wkt(r->GetMessage(m, set));
}

json read(const gpb::Message& m) {
  const auto* d = m.GetDescriptor();
  if (is(d, kStruct) || is(d, kValue) || is(d, kList)) return read_wkt(m);
  const auto* r = m.GetReflection();
  json out = json::object();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->is_map()) {
      json o = json::object();
      const auto* key = f->message_type()->map_key();
      const auto* value = f->message_type()->map_value();
      for (int k = 0; k < r->FieldSize(m, f); ++k) {
        const auto& e = r->GetRepeatedMessage(m, f, k);
        o[e.GetReflection()->GetString(e, key)] = read_value(e, value, -1);
      }
      out[f->name()] = std::move(o);
    } else if (f->is_repeated()) {
      json a = json::array();
      for (int k = 0; k < r->FieldSize(m, f); ++k) a.push_back(read_value(m, f, k));
      out[f->name()] = std::move(a);
    } else if (!f->has_presence() || r->HasField(m, f)) {
      out[f->name()] = read_value(m, f, -1);
    }
  }
  return out;
}

std::variant<json, DecodeError> unwrap(const gpb::Message& prototype, std::string_view bytes) {
  gpb::Arena arena;
  gpb::Message* m = prototype.New(&arena);
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      (!bytes.empty() && !m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))) {
    return DecodeError{
        true, "the bytes are not a " + std::string(prototype.GetDescriptor()->full_name())};
  }
  const auto* d = m->GetDescriptor();
  const auto* set = m->GetReflection()->GetOneofFieldDescriptor(*m, d->oneof_decl(0));
  if (set == nullptr) {
    std::string names;
    for (int i = 0; i < d->field_count(); ++i) {
      names += (names.empty() ? "" : ", ") + std::string(d->field(i)->name());
    }
    return DecodeError{false, "a " + std::string(d->full_name()) + " must set one of " + names};
  }
  const auto& body = m->GetReflection()->GetMessage(*m, set);
  if (set->name() == "unmapped") {
    const auto* jf = body.GetDescriptor()->FindFieldByName("json");
    auto j = json::parse(body.GetReflection()->GetString(body, jf), nullptr, false);
    if (j.is_discarded()) return DecodeError{true, "ServerMessage.unmapped.json is not JSON"};
    return j;
  }
  json out = read(body);
  out["type"] = set->name();
  return out;
}

// {"type": T, ...} as the envelope with member T; a type it has no member for is noted and,
// for a ServerMessage, sent whole as its JSON text (the unmapped member).
Encoded encode(const gpb::Message& prototype, const json& message, bool server) {
  Encoded out;
  const auto* envelope = prototype.GetDescriptor();
  const auto t = message.find("type");
  const std::string type = t != message.end() && t->is_string() ? t->get<std::string>() : "";
  const auto* member = envelope->FindFieldByName(type);
  if (member != nullptr && member->containing_oneof() != nullptr && type != "unmapped") {
    std::string body;
    Wire(out.unmapped).object(message, member->message_type(), body, Path{}, "type");
    Wire::nested(member->number(), body, out.bytes);
    return out;
  }
  out.unmapped.push_back("type: '" + type.substr(0, 64) + "' is not a " +
                         std::string(envelope->name()) + " member");
  if (!server) return out;
  // A type this schema does not know: the whole object as JSON text, nothing lost.
  const auto* unmapped = envelope->FindFieldByName("unmapped");
  const json u = {{"type", type},
                  {"json", message.dump(-1, ' ', false, json::error_handler_t::replace)}};
  std::string body;
  Wire(out.unmapped).object(u, unmapped->message_type(), body, Path{});
  Wire::nested(unmapped->number(), body, out.bytes);
  return out;
}

}  // namespace

Encoded encode_server(const json& message) {
  auto out = encode(*Schema::get().server, message, true);
  if (!out.unmapped.empty()) g_unmapped.fetch_add(out.unmapped.size(), std::memory_order_relaxed);
  return out;
}

Encoded encode_client(const json& message) { return encode(*Schema::get().client, message, false); }

std::variant<json, DecodeError> decode_client(std::string_view bytes) {
  return unwrap(*Schema::get().client, bytes);
}

std::variant<json, DecodeError> decode_server(std::string_view bytes) {
  return unwrap(*Schema::get().server, bytes);
}

std::string_view descriptor_set() noexcept {
  return {reinterpret_cast<const char*>(detail::descriptor_set), detail::descriptor_set_size};
}

std::uint64_t unmapped_total() noexcept { return g_unmapped.load(std::memory_order_relaxed); }

}  // namespace gs::pb
