// The envelope without a server: parse / append_encoded and the request and reply tags, checked
// against OpenSSL's one-shot HMAC over the bytes docs/protocol.md (E.1, E.3) specifies. No fibers,
// so this suite also runs in the ASan/UBSan build.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "greenrpc/envelope/envelope.hpp"
#include "greenrpc/envelope/hmac_key.hpp"

namespace {

using greenrpc::HmacKey;
using greenrpc::Tag;
namespace envelope = greenrpc::envelope;

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string u64_be(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

Tag reference_hmac(std::string_view secret, const std::string& message) {
  Tag tag{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), tag.data(), &len);
  EXPECT_EQ(len, 32u);
  return tag;
}

TEST(EnvelopeFormat, EncodedHeadersParseBackUnchanged) {
  envelope::Header h;
  h.seq = 42;
  h.deadline_ms = 1500;
  Tag tag{};
  for (std::size_t i = 0; i < tag.size(); ++i) tag[i] = static_cast<std::uint8_t>(i * 7);
  h.tag = tag;
  std::string wire;
  envelope::append_encoded(wire, h);
  ASSERT_TRUE(envelope::is_envelope(wire));
  const envelope::Header back = envelope::parse(wire);
  EXPECT_EQ(back.seq, 42u);
  EXPECT_EQ(back.deadline_ms, 1500u);
  EXPECT_EQ(back.tag, tag);

  std::string minimal;
  envelope::append_encoded(minimal, envelope::Header{});
  EXPECT_EQ(minimal, bytes({0x81, 0xa1, 'v', 0x01}));
  const envelope::Header empty = envelope::parse(minimal);
  EXPECT_EQ(empty.seq, 0u);
  EXPECT_FALSE(empty.deadline_ms);
  EXPECT_FALSE(empty.tag);
}

TEST(EnvelopeFormat, UnknownKeysAreIgnored) {
  // {"v": 1, "x": [1, 2], "dl": 7}
  const envelope::Header h = envelope::parse(bytes({0x83, 0xa1, 'v', 0x01, 0xa1, 'x', 0x92, 0x01, 0x02, 0xa2, 'd', 'l', 0x07}));
  EXPECT_EQ(h.deadline_ms, 7u);
}

TEST(EnvelopeFormat, MalformedEnvelopesThrowEnvelopeError) {
  const std::vector<std::string> bad = {
      "",                                                  // empty
      "GET",                                               // not a map
      bytes({0x80}),                                       // no version
      bytes({0x81, 0xa1, 'v', 0x02}),                      // version 2
      bytes({0x81, 0xa1, 'v'}),                            // truncated
      bytes({0x81, 0xa1, 'v', 0x01, 0x00}),                // trailing byte
      bytes({0x81, 0x01, 0x01}),                           // integer key
      bytes({0x82, 0xa1, 'v', 0x01, 0xa3, 's', 'e', 'q', 0xff}),  // negative seq
      bytes({0x82, 0xa1, 'v', 0x01, 0xa3, 't', 'a', 'g', 0xc4, 0x01, 0x00}),  // 1-byte tag
      bytes({0x82, 0xa1, 'v', 0x01, 0xa1, 'x', 0x91, 0x91, 0x91, 0x01}),     // too deep
      bytes({0x8f}),                                       // 15 pairs declared, none present
  };
  for (const std::string& element : bad) {
    EXPECT_THROW(envelope::parse(element), envelope::EnvelopeError) << testing::PrintToString(element);
  }
}

TEST(EnvelopeFormat, RequestTagIsHmacOverTheDocumentedBytes) {
  const std::string secret = "s3cret";
  const HmacKey key(secret);
  const std::string nonce(16, '\x5a');
  envelope::Header h;
  h.seq = 3;
  const std::string arg1 = bytes({0x01});
  const std::string arg2 = bytes({0x81, 0xa1, 'v', 0x01});
  const std::vector<std::string_view> elements = {"add", arg1, arg2};

  std::string message = std::string(envelope::kRequestDomain) + nonce + u64_be(3) + u64_be(envelope::kNoDeadline);
  for (std::string_view e : elements) message += u64_be(e.size()) + std::string(e);
  EXPECT_EQ(envelope::request_tag(key, nonce, h, elements), reference_hmac(secret, message));

  h.deadline_ms = 250;
  message = std::string(envelope::kRequestDomain) + nonce + u64_be(3) + u64_be(250);
  for (std::string_view e : elements) message += u64_be(e.size()) + std::string(e);
  EXPECT_EQ(envelope::request_tag(key, nonce, h, elements), reference_hmac(secret, message));

  // A nonce longer than greenrpc's own is hashed as given, too.
  const std::string long_nonce(40, 'n');
  message = std::string(envelope::kRequestDomain) + long_nonce + u64_be(3) + u64_be(250);
  for (std::string_view e : elements) message += u64_be(e.size()) + std::string(e);
  EXPECT_EQ(envelope::request_tag(key, long_nonce, h, elements), reference_hmac(secret, message));
}

TEST(EnvelopeFormat, ReplyTagIsHmacOverTheDocumentedBytes) {
  const std::string secret(100, 'k');  // longer than a SHA-256 block: hashed first
  const HmacKey key(secret);
  const std::string nonce(16, '\x01');
  const std::string reply = "$1\r\n\x03\r\n";
  const std::string message = std::string(envelope::kReplyDomain) + nonce + u64_be(9) + reply;
  EXPECT_EQ(envelope::reply_tag(key, nonce, 9, reply), reference_hmac(secret, message));
}

TEST(EnvelopeFormat, TagComparison) {
  Tag a{};
  Tag b{};
  b[31] = 1;
  EXPECT_TRUE(HmacKey::equal(a, a));
  EXPECT_FALSE(HmacKey::equal(a, b));
  EXPECT_TRUE(HmacKey::equal(std::string_view(reinterpret_cast<const char*>(a.data()), 32), a));
  EXPECT_FALSE(HmacKey::equal(std::string_view(reinterpret_cast<const char*>(a.data()), 31), a));
}

}  // namespace
