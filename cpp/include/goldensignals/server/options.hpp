// ServerOptions, for code that builds a Server: the struct lives with the network layer that
// reads it (net/options.hpp).
#pragma once

#include "goldensignals/net/options.hpp"
