#pragma once

#include <cstddef>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/fields.hpp>

namespace sluice::http::internal {

namespace net = boost::asio;
namespace beast = boost::beast;

/// Reads from `socket` into `parser` until `done(parser)` holds, parsing what `buffer` already
/// holds before reading more. Unlike Beast's composed reads, a message already in the buffer
/// costs no trip through the event loop, and each socket read asks for as much as `buffer` has
/// room for (at least `read_size` bytes).
///
/// Returns the parser's error (header_limit, body_limit, a syntax error), end_of_stream when the
/// peer closed before the message began, partial_message when it closed inside one, or the
/// socket's error. Bytes after the message stay in `buffer` (pipelining).
template <bool IsRequest, typename Done>
net::awaitable<boost::system::error_code> ReadUntil(net::ip::tcp::socket& socket,
                                                    beast::flat_buffer& buffer,
                                                    beast::http::basic_parser<IsRequest>& parser,
                                                    Done done, std::size_t read_size = 16384) {
  boost::system::error_code ec;
  while (!done(parser)) {
    if (buffer.size() > 0) {
      const std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (!ec) {
        continue;
      }
      if (ec != beast::http::error::need_more) {
        co_return ec;
      }
      ec = {};
    }
    auto [read_ec, n] = co_await socket.async_read_some(buffer.prepare(read_size),
                                                        net::as_tuple(net::use_awaitable));
    if (read_ec == net::error::eof) {
      if (!parser.got_some()) {
        // Closed before a message began. Asking the parser would mark it as having seen one,
        // and callers tell an idle connection the peer closed from a broken one by got_some().
        co_return beast::http::error::end_of_stream;
      }
      parser.put_eof(ec);  // completes a message whose body ends with the connection
      if (ec) {
        co_return ec;
      }
      continue;
    }
    if (read_ec) {
      co_return read_ec;
    }
    buffer.commit(n);
  }
  co_return ec;
}

/// Writes every byte of `buffers`, trying a direct non-blocking write first: a response that
/// fits in the socket's send buffer (nearly all of them) then completes without a trip through
/// the event loop. The socket must be in non-blocking mode.
template <typename ConstBuffers>
net::awaitable<boost::system::error_code> WriteAll(net::ip::tcp::socket& socket,
                                                   const ConstBuffers& buffers) {
  boost::system::error_code ec;
  const std::size_t total = net::buffer_size(buffers);
  const std::size_t written = socket.write_some(buffers, ec);
  if (!ec && written == total) {
    co_return ec;
  }
  if (ec && ec != net::error::would_block) {
    co_return ec;
  }
  // The rest waits for the socket to drain.
  beast::buffers_suffix<ConstBuffers> rest(buffers);
  rest.consume(ec ? 0 : written);
  auto [write_ec, n] = co_await net::async_write(socket, rest, net::as_tuple(net::use_awaitable));
  co_return write_ec;
}

/// Appends an HTTP/1.1 head (status line and fields) to `out`.
void AppendResponseHead(unsigned status, unsigned version, const beast::http::fields& fields,
                        std::string& out);

}  // namespace sluice::http::internal
