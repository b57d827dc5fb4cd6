// Exceptions across the wire: RpcError, codes mapped to user types, unmapped codes. Signed and
// unsigned, by client and on the raw wire.
#include <gtest/gtest.h>

#include "envelope_support.hpp"

using namespace env_test;

namespace {

class ErrorsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    install(app, counters);
    server = app.start_background(server_options(secret()));
  }
  void TearDown() override { server.stop(); }
  std::string secret() const { return GetParam() ? "s3cret" : ""; }
  greenrpc::Client client() { return greenrpc::Client("127.0.0.1", server.port(), client_options(secret())); }
  // The reply element of a raw call (tag checked when signed).
  std::string raw_call(const std::vector<std::string>& elements) {
    RawSocket s(server.port());
    if (!GetParam()) return s.call(frame_of(elements));
    Signer sign("s3cret", s.nonce());
    return sign.open_reply(1, s.call(sign.request(1, std::nullopt, elements)));
  }
  greenrpc::App app;
  Counters counters;
  greenrpc::Server server;
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Envelope, ErrorsTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Signed" : "Unsigned"; });

TEST_P(ErrorsTest, RpcErrorRoundTrip) {
  auto c = client();
  try {
    c.call<int>("fail_rpc", std::string("Something went wrong"));
    FAIL() << "no exception";
  } catch (const greenrpc::RpcError& e) {
    EXPECT_STREQ(e.what(), "Something went wrong");
    EXPECT_EQ(e.code(), "RPC_ERROR");
  } catch (const std::exception& e) {
    FAIL() << "not an RpcError: " << e.what();
  }
  EXPECT_EQ(raw_call({"fail_rpc", mp(std::string("Something went wrong"))}), "-RPC_ERROR \"Something went wrong\"\r\n");
  EXPECT_EQ(c.call(add, 1, NumberInput{1}), 2) << "the connection stays usable";
}

TEST_P(ErrorsTest, MappedCodeRethrowsTheUsersType) {
  auto c = client();
  c.map_error<OutOfStock>("OUT_OF_STOCK");
  try {
    c.call<int>("fail_mapped", std::string("no more apples"));
    FAIL() << "no exception";
  } catch (const OutOfStock& e) {
    EXPECT_STREQ(e.what(), "no more apples");
    EXPECT_EQ(e.code(), "OUT_OF_STOCK");
  } catch (const std::exception& e) {
    FAIL() << "not OutOfStock: " << e.what();
  }
  EXPECT_EQ(raw_call({"fail_mapped", mp(std::string("no more apples"))}), "-OUT_OF_STOCK \"no more apples\"\r\n");
  // Another client, without the mapping: a RemoteError carrying the code.
  auto plain = client();
  try {
    plain.call<int>("fail_mapped", std::string("no more apples"));
    FAIL() << "no exception";
  } catch (const greenrpc::RemoteError& e) {
    EXPECT_EQ(e.code(), "OUT_OF_STOCK");
    EXPECT_EQ(e.message(), "no more apples");
  }
}

TEST_P(ErrorsTest, UnmappedCustomCodeIsARemoteErrorWithItsCode) {
  auto c = client();
  c.map_error<OutOfStock>("OUT_OF_STOCK");
  try {
    c.call<int>("fail_other", std::string("tea is cold"));
    FAIL() << "no exception";
  } catch (const OutOfStock&) {
    FAIL() << "mapped the wrong code";
  } catch (const greenrpc::RemoteError& e) {
    EXPECT_EQ(e.code(), "SOMETHING_ELSE");
    EXPECT_EQ(e.message(), "tea is cold");
  }
  EXPECT_EQ(c.call(add, 2, NumberInput{2}), 4);
}

TEST_P(ErrorsTest, MappingDoesNotHijackBuiltInCodesUnlessAsked) {
  auto c = client();
  c.map_error<OutOfStock>("OUT_OF_STOCK");
  EXPECT_THROW(c.call<int>("add", std::string("x"), NumberInput{1}), greenrpc::ValidationError);
  EXPECT_THROW(c.call<int>("nope"), greenrpc::UnknownCommandError);
}
