#pragma once
// An HTTP/1.x request-head parser for the metrics endpoint (RFC 9112): the request line and the
// header fields, up to the empty line. Wire format only: no I/O, no routing.
//
// Bounded: the head may not exceed HttpLimits (8 KiB, a 4 KiB target, 100 header fields), and
// the parser holds no more than a few offsets and flags, whatever the peer sends.
// Resumable: like RequestParser, `input` always starts at the first byte of the request and each
// call passes at least the bytes passed before (the buffer may move between calls); complete lines
// are parsed once, and the search for a line end resumes where it stopped.
//
// What it accepts:
// * Request line `method SP request-target SP HTTP/1.x`, lines ending in CRLF or a bare LF (RFC
//   9112 §2.2 lets a recipient accept LF). Empty lines before the request line are skipped.
// * Any method token: the method is classified (GET, HEAD, another method HTTP defines, or an
//   unknown one) for the caller to answer 405 or 501. The target is reduced to its path (no
//   query or fragment; the scheme and authority of an absolute-form target removed), not
//   percent-decoded.
// * Header fields `name: value`: names must be tokens with no space before the colon; values
//   may not hold control characters. Only these are interpreted: Connection (close,
//   keep-alive), Content-Length, Transfer-Encoding, Host (at most one).
// * keep_alive: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
// * Bodies are not read. has_body says the request announced one (Content-Length > 0 or any
//   Transfer-Encoding); the caller refuses it (the endpoint answers 413 and closes, since it
//   cannot skip a body it does not parse). A Host header is not required.
//
// Errors carry the status to answer; the caller answers it and closes the connection:
//   400 malformed request line or header field, obs-fold, bad or conflicting Content-Length,
//       Content-Length together with Transfer-Encoding, several Host fields, HTTP/0.9, a request
//       line over max_head_bytes whose target is within max_target_bytes
//   414 request target longer than max_target_bytes
//   431 head longer than max_head_bytes, or more than max_headers fields
//   505 a well-formed version other than HTTP/1.0 and HTTP/1.1
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace greenrpc::protocol {

struct HttpLimits {
  std::size_t max_head_bytes = 8 * 1024;    // request line, header fields and the empty line
  std::size_t max_target_bytes = 4 * 1024;  // the request target
  std::size_t max_headers = 100;            // header fields
  std::size_t max_method_bytes = 32;        // longer method tokens are malformed
};

enum class HttpMethod : std::uint8_t {
  get,
  head,
  other,    // defined by HTTP (POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH): answer 405
  unknown,  // any other token: answer 501
};

enum class HttpParseStatus : std::uint8_t { complete, incomplete, error };

// A complete request head. The views point into the `input` of the parse() call that completed
// it: valid while that buffer is, until the next parse() or reset().
struct HttpRequestHead {
  std::string_view method;
  HttpMethod method_kind = HttpMethod::unknown;
  std::string_view target;  // as sent
  std::string_view path;    // the target's path ("/metrics"), see above
  int version_minor = 1;    // HTTP/1.<minor>
  bool keep_alive = true;
  bool has_body = false;
  std::size_t header_count = 0;
};

struct HttpParseResult {
  HttpParseStatus status = HttpParseStatus::incomplete;
  std::size_t consumed = 0;      // complete: bytes of the head (the next request starts there)
  int error_status = 0;          // error: 400, 414, 431 or 505
  std::string_view error = {};   // error: why, in a few words (static text)
};

class HttpRequestParser {
 public:
  explicit HttpRequestParser(HttpLimits limits = {}) : limits_(limits) {}

  HttpParseResult parse(std::string_view input);
  // After `complete`.
  const HttpRequestHead& head() const { return head_; }
  // Forgets the request in progress (the next parse starts a new one; done by parse() itself
  // after complete and error).
  void reset();

 private:
  enum class Phase : std::uint8_t { request_line, headers };

  HttpParseResult fail(int status, std::string_view why);
  HttpParseResult parse_request_line(std::string_view line);
  HttpParseResult parse_header(std::string_view line);
  HttpParseResult check_partial_request_line(std::string_view partial);
  HttpParseResult finish(std::string_view input, std::size_t consumed);

  HttpLimits limits_;
  HttpRequestHead head_;
  Phase phase_ = Phase::request_line;
  std::size_t line_start_ = 0;  // first byte of the line being parsed, from the request's start
  std::size_t scan_ = 0;        // where the search for '\n' resumes
  std::size_t headers_ = 0;
  // The request line, as offsets (the buffer may move between calls).
  std::size_t method_at_ = 0, method_len_ = 0, target_at_ = 0, target_len_ = 0;
  int minor_ = 1;
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  bool transfer_encoding_ = false;
  bool has_length_ = false;
  std::uint64_t content_length_ = 0;
  int hosts_ = 0;
};

}  // namespace greenrpc::protocol
