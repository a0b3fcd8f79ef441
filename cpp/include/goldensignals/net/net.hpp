// Namespace aliases for the network code (only the Beast translation units include Beast).
#pragma once

#include <boost/asio/ip/tcp.hpp>

namespace gs {
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;
}  // namespace gs
