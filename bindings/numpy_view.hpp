// 1-D NumPy inputs of the bindings, read in place.
#pragma once

#include <pybind11/numpy.h>

#include <span>
#include <string>

#include "goldensignals/core/errors.hpp"

namespace gs::bind {

template <class T>
using NumpyIn = pybind11::array_t<T, pybind11::array::c_style | pybind11::array::forcecast>;

// A view of a 1-D array; anything else is an InvalidArgument naming the function and input.
template <class T>
std::span<const T> view(const NumpyIn<T>& a, const std::string& fn, const std::string& name) {
  if (a.ndim() != 1) {
    throw InvalidArgument(fn + ": " + name + " must be a 1-D array; got " +
                          std::to_string(a.ndim()) + " dimensions");
  }
  return {a.data(), static_cast<std::size_t>(a.shape(0))};
}

}  // namespace gs::bind
