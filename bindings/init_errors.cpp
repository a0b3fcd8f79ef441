// C++ errors map to Python exceptions here, and only here.
#include <pybind11/pybind11.h>

#include "goldensignals/core/errors.hpp"
#include "init.hpp"

namespace py = pybind11;

namespace gs::bind {
namespace {

// Leaked on purpose: exception classes live as long as the interpreter.
PyObject* make_class(py::module_& m, const char* name, py::tuple bases, const char* doc) {
  py::dict ns;
  ns["__module__"] = "goldensignals";
  ns["__doc__"] = doc;
  py::object cls = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&PyType_Type))(
      name, bases, ns);
  m.attr(name) = cls;
  return cls.release().ptr();
}

}  // namespace

void init_errors(py::module_& m) {
  static PyObject* base =
      make_class(m, "GoldenSignalsError", py::make_tuple(py::handle(PyExc_Exception)),
                 "Base class of every error GoldenSignals raises.");
  static PyObject* invalid = make_class(
      m, "InvalidArgumentError", py::make_tuple(py::handle(base), py::handle(PyExc_ValueError)),
      "A setting, argument or input value that is not accepted.");
  static PyObject* bad_data =
      make_class(m, "BadMarketDataError", py::make_tuple(py::handle(invalid)),
                 "Market data that would corrupt state (NaN, non-positive "
                 "price, time going backwards).");
  static PyObject* unknown =
      make_class(m, "UnknownSymbolError", py::make_tuple(py::handle(invalid)),
                 "A symbol the runtime does not track.");
  static PyObject* timeout = make_class(
      m, "AnalysisTimeoutError", py::make_tuple(py::handle(base), py::handle(PyExc_TimeoutError)),
      "A wait for an analysis ran out of time.");
  static PyObject* state = make_class(m, "RuntimeStateError", py::make_tuple(py::handle(base)),
                                      "The runtime is not in a state that allows the operation.");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const gs::UnknownSymbol& e) {
      PyErr_SetString(unknown, e.what());
    } catch (const gs::BadMarketData& e) {
      PyErr_SetString(bad_data, e.what());
    } catch (const gs::InvalidArgument& e) {
      PyErr_SetString(invalid, e.what());
    } catch (const gs::TimeoutError& e) {
      PyErr_SetString(timeout, e.what());
    } catch (const gs::StateError& e) {
      PyErr_SetString(state, e.what());
    } catch (const gs::Error& e) {
      PyErr_SetString(base, e.what());
    }
  });
}

}  // namespace gs::bind
