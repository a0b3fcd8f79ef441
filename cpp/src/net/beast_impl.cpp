// The one translation unit that compiles Boost.Beast (BOOST_BEAST_SEPARATE_COMPILATION) and
// Boost.Asio's TLS (the server's GS_TLS_CERT); the rest of Asio is in core/asio_impl.cpp.
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
