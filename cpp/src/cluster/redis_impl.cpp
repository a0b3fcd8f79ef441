// Boost.Redis is compiled here, once (its headers elsewhere are declarations only).
#include <boost/redis/src.hpp>
