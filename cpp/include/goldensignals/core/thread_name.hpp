// Names the calling thread, so `top -H`, `ps -L`, perf and gdb tell the server's threads apart
// (Linux keeps at most 15 characters; longer names are cut there).
#pragma once

#include <pthread.h>

#include <string>

namespace gs {

inline void name_this_thread(const std::string& name) {
  const std::string cut = name.substr(0, 15);
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace gs
