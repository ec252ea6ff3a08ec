#include "http/stream_io.hpp"

#include <charconv>

#include <boost/beast/http/status.hpp>

namespace sluice::http::internal {

void AppendResponseHead(unsigned status, unsigned version, const beast::http::fields& fields,
                        std::string& out) {
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  char digits[8];
  const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), status);
  out.append(digits, end);
  out.push_back(' ');
  out.append(beast::http::obsolete_reason(static_cast<beast::http::status>(status)));
  out.append("\r\n");
  for (const auto& field : fields) {
    out.append(field.name_string());
    out.append(": ");
    out.append(field.value());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace sluice::http::internal
