// Typed errors of the runtime; the bindings map each to a Python exception in one place.
#pragma once

#include <stdexcept>
#include <string>

namespace gs {

// Base of every error the runtime raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A setting, argument or input value that is not accepted (names thing, value, what is accepted).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// Market data that would corrupt state (NaN, non-positive price, time going backwards).
class BadMarketData : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

// A symbol the runtime does not know.
class UnknownSymbol : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

// A wait that ran out of time.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

// An operation that needs a running (or stopped) runtime.
class StateError : public Error {
 public:
  using Error::Error;
};

}  // namespace gs
