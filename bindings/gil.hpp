// Running C++ that may wait (joins, locks) with the GIL released, whoever calls it.
#pragma once

#include <Python.h>

namespace gs::bind {

// Calls fn() without the GIL: releases it around the call if this thread holds it.
template <typename F>
void without_gil(F&& fn) {
  if (!Py_IsInitialized() || !PyGILState_Check()) {
    fn();
    return;
  }
  PyThreadState* ts = PyEval_SaveThread();
  fn();
  PyEval_RestoreThread(ts);
}

}  // namespace gs::bind
