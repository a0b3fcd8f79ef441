#include "json_py.hpp"

namespace py = pybind11;

namespace gs::bind {

py::object to_py(const nlohmann::json& j) {
  using T = nlohmann::json::value_t;
  switch (j.type()) {
    case T::null:
    case T::discarded:
      return py::none();
    case T::boolean:
      return py::bool_(j.get<bool>());
    case T::number_integer:
      return py::int_(j.get<std::int64_t>());
    case T::number_unsigned:
      return py::int_(j.get<std::uint64_t>());
    case T::number_float:
      return py::float_(j.get<double>());
    case T::string:
      return py::str(j.get_ref<const std::string&>());
    case T::binary: {
      const auto& bin = j.get_binary();
      return py::bytes(reinterpret_cast<const char*>(bin.data()), bin.size());
    }
    case T::array: {
      py::list out(j.size());
      std::size_t i = 0;
      for (const auto& item : j) out[i++] = to_py(item);
      return out;
    }
    case T::object: {
      py::dict out;
      for (const auto& [key, value] : j.items()) out[py::str(key)] = to_py(value);
      return out;
    }
  }
  return py::none();
}

}  // namespace gs::bind
