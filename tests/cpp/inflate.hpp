// What a permessage-deflate receiver does with a compressed frame (RFC 7692 7.2.2): append
// 00 00 ff ff and inflate with a fresh stream of `bits` window bits.
#pragma once

#include <gtest/gtest.h>

#include <boost/beast/zlib/inflate_stream.hpp>
#include <string>
#include <string_view>

namespace gs::test {

inline std::string inflate(std::string_view payload, int bits) {
  namespace zlib = boost::beast::zlib;
  zlib::inflate_stream zi;
  zi.reset(bits);
  std::string in(payload);
  in += std::string("\x00\x00\xff\xff", 4);
  std::string out(1 << 20, '\0');
  zlib::z_params zs;
  zs.next_in = in.data();
  zs.avail_in = in.size();
  zs.next_out = out.data();
  zs.avail_out = out.size();
  boost::system::error_code ec;
  zi.write(zs, zlib::Flush::sync, ec);
  EXPECT_TRUE(!ec || ec == zlib::error::end_of_stream) << ec.message();
  out.resize(zs.total_out);
  return out;
}

}  // namespace gs::test
