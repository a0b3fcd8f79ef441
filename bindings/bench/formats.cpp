// The three wire formats' encode cost and size (_gs_bench, for bench/formats.py; not part of
// the package): the server's own encoders over a list of real messages.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench.hpp"
#include "goldensignals/broadcast/message.hpp"
#include "goldensignals/broadcast/protobuf.hpp"

namespace py = pybind11;

namespace gs::bench_py {

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double ns_per_message(std::size_t messages, int rounds, F&& each_round) {
  double best = 1e300;
  for (int r = 0; r < rounds; ++r) {  // the fastest round: the least disturbed by the machine
    const auto t0 = Clock::now();
    each_round();
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    best = std::min(best, ns / static_cast<double>(messages));
  }
  return best;
}

// For each format: nanoseconds per message (the best of `rounds`) and bytes in all. "object":
// from the parsed object (JSON: dump it; MessagePack: to_msgpack; Protobuf: encode_server).
// "server": what a Message does on its first send in that format (JSON: nothing, the text is
// the message; the others: parse the text, then encode).
py::dict format_costs(const std::vector<std::string>& texts, int rounds) {
  std::vector<nlohmann::json> objects;
  objects.reserve(texts.size());
  for (const auto& t : texts) objects.push_back(nlohmann::json::parse(t));
  py::dict out;
  std::size_t json_bytes = 0, msgpack_bytes = 0, protobuf_bytes = 0, unmapped = 0;
  std::size_t out_sink = 0;
  double dump_ns = 0, msgpack_ns = 0, protobuf_ns = 0, msgpack_server_ns = 0,
         protobuf_server_ns = 0;
  {
    py::gil_scoped_release nogil;
    for (const auto& t : texts) json_bytes += t.size();
    for (const auto& o : objects) {
      msgpack_bytes += nlohmann::json::to_msgpack(o).size();
      const auto e = pb::encode_server(o);
      protobuf_bytes += e.bytes.size();
      unmapped += e.unmapped.size();
    }
    std::size_t sink = 0;
    dump_ns = ns_per_message(objects.size(), rounds, [&] {
      for (const auto& o : objects) sink += o.dump().size();
    });
    msgpack_ns = ns_per_message(objects.size(), rounds, [&] {
      for (const auto& o : objects) sink += nlohmann::json::to_msgpack(o).size();
    });
    protobuf_ns = ns_per_message(objects.size(), rounds, [&] {
      for (const auto& o : objects) sink += pb::encode_server(o).bytes.size();
    });
    std::vector<MessagePtr> messages;
    auto fresh = [&] {
      messages.clear();
      for (const auto& t : texts) messages.push_back(make_message(MessageKind::Reply, t));
    };
    double best_m = 1e300, best_p = 1e300;
    for (int r = 0; r < rounds; ++r) {
      fresh();
      best_m = std::min(best_m, ns_per_message(texts.size(), 1, [&] {
                          for (const auto& m : messages) sink += m->msgpack().size();
                        }));
      fresh();
      best_p = std::min(best_p, ns_per_message(texts.size(), 1, [&] {
                          for (const auto& m : messages) sink += m->protobuf().size();
                        }));
    }
    msgpack_server_ns = best_m;
    protobuf_server_ns = best_p;
    out_sink = sink;
  }
  out["messages"] = texts.size();
  out["bytes"] = py::dict(py::arg("json") = json_bytes, py::arg("msgpack") = msgpack_bytes,
                          py::arg("protobuf") = protobuf_bytes);
  out["encode_ns_from_object"] =
      py::dict(py::arg("json") = dump_ns, py::arg("msgpack") = msgpack_ns,
               py::arg("protobuf") = protobuf_ns);
  out["encode_ns_server"] = py::dict(py::arg("json") = 0.0, py::arg("msgpack") = msgpack_server_ns,
                                     py::arg("protobuf") = protobuf_server_ns);
  out["protobuf_unmapped"] = unmapped;
  out["bytes_encoded"] = out_sink;  // the work's result, so none of it is optimized away
  return out;
}

}  // namespace

void init_formats(py::module_& m) {
  m.def("format_costs", &format_costs, py::arg("texts"), py::arg("rounds") = 5,
        "Encode cost (ns per message) and bytes of JSON, MessagePack and Protobuf for real "
        "message texts, with the server's encoders.");
}

}  // namespace gs::bench_py
