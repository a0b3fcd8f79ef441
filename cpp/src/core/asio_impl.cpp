// The one translation unit that compiles Boost.Asio (BOOST_ASIO_SEPARATE_COMPILATION); its
// TLS part is compiled with the network layer (net/beast_impl.cpp).
#include <boost/asio/impl/src.hpp>
