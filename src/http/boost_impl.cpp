// Asio and Beast are built in separate-compilation mode: their non-template code is compiled here
// once instead of in every file that includes them, which roughly halves build times.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
