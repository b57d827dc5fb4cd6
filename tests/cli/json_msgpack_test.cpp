// The CLI's JSON <-> msgpack conversion (src/cli/json_msgpack.hpp): exact wire bytes, round
// trips, the 64-bit integer edges, the bytes and ext conventions, nesting, refused input.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "byte_text.hpp"
#include "greenrpc/codec/decode.hpp"
#include "greenrpc/codec/decode_error.hpp"
#include "greenrpc/codec/encode.hpp"
#include "json_msgpack.hpp"

namespace {

using greenrpc::cli::BytesFormat;
using greenrpc::cli::Json;
using greenrpc::cli::json_argument_to_msgpack;
using greenrpc::cli::JsonInputError;
using greenrpc::cli::msgpack_to_json;
using greenrpc::cli::render_json;

std::string bytes(std::initializer_list<unsigned> values) {
  std::string out;
  for (unsigned v : values) out += static_cast<char>(v);
  return out;
}

// JSON text -> msgpack -> JSON text.
std::string round_trip(const std::string& text, BytesFormat format = BytesFormat::base64) {
  return render_json(msgpack_to_json(json_argument_to_msgpack(text), format));
}

TEST(JsonToMsgpack, ScalarsHaveTheirSmallestMsgpackForm) {
  EXPECT_EQ(json_argument_to_msgpack("null"), bytes({0xc0}));
  EXPECT_EQ(json_argument_to_msgpack("true"), bytes({0xc3}));
  EXPECT_EQ(json_argument_to_msgpack("false"), bytes({0xc2}));
  EXPECT_EQ(json_argument_to_msgpack("1"), bytes({0x01}));
  EXPECT_EQ(json_argument_to_msgpack("-1"), bytes({0xff}));
  EXPECT_EQ(json_argument_to_msgpack("200"), bytes({0xcc, 0xc8}));
  EXPECT_EQ(json_argument_to_msgpack("-200"), bytes({0xd1, 0xff, 0x38}));
  EXPECT_EQ(json_argument_to_msgpack("\"ab\""), bytes({0xa2, 'a', 'b'}));
  // A JSON number with a fraction or exponent is a float64, even when whole.
  EXPECT_EQ(json_argument_to_msgpack("2.0"), bytes({0xcb, 0x40, 0x00, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(json_argument_to_msgpack("1e0"), bytes({0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}));
}

struct NumberInput {  // samples/quickstart's model
  int value = 0;
  MSGPACK_DEFINE_MAP(value);
};

TEST(JsonToMsgpack, QuickstartArgumentsMatchTheTypedClient) {
  EXPECT_EQ(json_argument_to_msgpack("1"), greenrpc::codec::encode(1));
  EXPECT_EQ(json_argument_to_msgpack(R"({"value": 2})"), greenrpc::codec::encode(NumberInput{2}));
  EXPECT_EQ(json_argument_to_msgpack("  {\"value\":2}\n"), bytes({0x81, 0xa5, 'v', 'a', 'l', 'u', 'e', 0x02}));
}

TEST(JsonToMsgpack, SixtyFourBitEdgesArriveExactly) {
  const auto i64_min = std::numeric_limits<std::int64_t>::min();
  const auto i64_max = std::numeric_limits<std::int64_t>::max();
  const auto u64_max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(greenrpc::codec::decode<std::int64_t>(json_argument_to_msgpack("-9223372036854775808")), i64_min);
  EXPECT_EQ(greenrpc::codec::decode<std::int64_t>(json_argument_to_msgpack("9223372036854775807")), i64_max);
  EXPECT_EQ(greenrpc::codec::decode<std::uint64_t>(json_argument_to_msgpack("18446744073709551615")), u64_max);
  EXPECT_EQ(json_argument_to_msgpack("18446744073709551615"), bytes({0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(json_argument_to_msgpack("-9223372036854775808"), bytes({0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}));
  for (const char* text : {"-9223372036854775808", "9223372036854775807", "18446744073709551615", "4294967296",
                           "-2147483649", "0", "-32", "-33", "127", "128"})
    EXPECT_EQ(round_trip(text), text);
}

TEST(JsonToMsgpack, IntegersBeyondSixtyFourBitsAreRefusedNotRounded) {
  for (const char* text : {"18446744073709551616", "-9223372036854775809", "100000000000000000000000"}) {
    try {
      json_argument_to_msgpack(text);
      ADD_FAILURE() << text << " was accepted";
    } catch (const JsonInputError& e) {
      EXPECT_NE(std::string(e.what()).find("64-bit"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(json_argument_to_msgpack("1e400"), JsonInputError);
}

TEST(JsonToMsgpack, ObjectsKeepTheirKeyOrder) {
  EXPECT_EQ(json_argument_to_msgpack(R"({"b":1,"a":2})"), bytes({0x82, 0xa1, 'b', 0x01, 0xa1, 'a', 0x02}));
  EXPECT_EQ(round_trip(R"({"z":1,"a":[true,null,{"k":"v"}],"m":{}})"), R"({"z":1,"a":[true,null,{"k":"v"}],"m":{}})");
}

TEST(JsonToMsgpack, NestingRoundTrips) {
  const std::string text = R"([[1,[2,[3,[4,{"deep":[-5,"six",7.5]}]]]],[],{"":""}])";
  EXPECT_EQ(round_trip(text), text);
}

TEST(JsonToMsgpack, UnicodeStringsRoundTrip) {
  EXPECT_EQ(json_argument_to_msgpack(R"("\u00e9")"), bytes({0xa2, 0xc3, 0xa9}));
  EXPECT_EQ(round_trip(R"("héllo wörld ✓ \"q\" \\ \n")"), R"("héllo wörld ✓ \"q\" \\ \n")");
}

TEST(BytesConvention, Base64AndHexBecomeBin) {
  EXPECT_EQ(json_argument_to_msgpack(R"({"$bytes": "AAH/"})"), bytes({0xc4, 0x03, 0x00, 0x01, 0xff}));
  EXPECT_EQ(json_argument_to_msgpack(R"({"$hex": "0001fF"})"), bytes({0xc4, 0x03, 0x00, 0x01, 0xff}));
  EXPECT_EQ(json_argument_to_msgpack(R"({"$bytes": ""})"), bytes({0xc4, 0x00}));
  EXPECT_EQ(greenrpc::codec::decode<greenrpc::Bytes>(json_argument_to_msgpack(R"({"$bytes": "aGk="})")).data, "hi");
}

TEST(BytesConvention, BinPrintsAsBase64OrHex) {
  EXPECT_EQ(round_trip(R"({"$bytes": "AAH/"})"), R"("AAH/")");
  EXPECT_EQ(round_trip(R"({"$bytes": "AAH/"})", BytesFormat::hex), R"("0001ff")");
  EXPECT_EQ(round_trip(R"([{"$hex": "68"}, "68"])"), R"(["aA==","68"])");
  // Inside a map, and as a map key.
  EXPECT_EQ(render_json(msgpack_to_json(bytes({0x81, 0xc4, 0x01, 'x', 0xc4, 0x01, 'y'}), BytesFormat::hex)),
            R"({"78":"79"})");
}

TEST(BytesConvention, OnlyAnObjectWithExactlyThatKeyIsBytes) {
  // Another key beside it: an ordinary map.
  EXPECT_EQ(round_trip(R"({"$bytes": "AA==", "x": 1})"), R"({"$bytes":"AA==","x":1})");
}

TEST(BytesConvention, MalformedTextIsRefused) {
  for (const char* text : {R"({"$bytes": "abc"})", R"({"$bytes": "ab=c"})", R"({"$bytes": "AB=="})",
                           R"({"$bytes": "a b="})", R"({"$bytes": 5})", R"({"$hex": "abc"})", R"({"$hex": "zz"})",
                           R"({"$hex": null})"})
    EXPECT_THROW(json_argument_to_msgpack(text), JsonInputError) << text;
}

TEST(ExtConvention, RoundTripsBothWays) {
  const std::string ext = json_argument_to_msgpack(R"({"$ext": 5, "data": "AQI="})");
  EXPECT_EQ(ext, bytes({0xd5, 0x05, 0x01, 0x02}));  // fixext 2
  EXPECT_EQ(render_json(msgpack_to_json(ext, BytesFormat::base64)), R"({"$ext":5,"data":"AQI="})");
  EXPECT_EQ(render_json(msgpack_to_json(ext, BytesFormat::hex)), R"({"$ext":5,"hex":"0102"})");
  EXPECT_EQ(json_argument_to_msgpack(R"({"$ext": -1, "hex": "0102"})"), bytes({0xd5, 0xff, 0x01, 0x02}));
  EXPECT_THROW(json_argument_to_msgpack(R"({"$ext": 128, "data": ""})"), JsonInputError);
  EXPECT_THROW(json_argument_to_msgpack(R"({"$ext": "x", "data": ""})"), JsonInputError);
}

TEST(MsgpackToJson, FloatsIncludingNonFinite) {
  EXPECT_EQ(render_json(msgpack_to_json(greenrpc::codec::encode(0.5), BytesFormat::base64)), "0.5");
  EXPECT_EQ(render_json(msgpack_to_json(greenrpc::codec::encode(2.0), BytesFormat::base64)), "2.0");
  EXPECT_EQ(render_json(msgpack_to_json(greenrpc::codec::encode(0.25f), BytesFormat::base64)), "0.25");
  EXPECT_EQ(render_json(msgpack_to_json(greenrpc::codec::encode(std::numeric_limits<double>::quiet_NaN()),
                                        BytesFormat::base64)),
            R"("NaN")");
  EXPECT_EQ(render_json(msgpack_to_json(greenrpc::codec::encode(-std::numeric_limits<double>::infinity()),
                                        BytesFormat::base64)),
            R"("-Infinity")");
  EXPECT_EQ(round_trip("-1.25e-7"), "-1.25e-07");
}

TEST(MsgpackToJson, NonStringKeysUseTheirJsonText) {
  // {1: "a", -2: "b", [1, 2]: "c", nil: "d"}
  const std::string map = bytes({0x84, 0x01, 0xa1, 'a', 0xfe, 0xa1, 'b', 0x92, 0x01, 0x02, 0xa1, 'c', 0xc0, 0xa1, 'd'});
  EXPECT_EQ(render_json(msgpack_to_json(map, BytesFormat::base64)), R"({"1":"a","-2":"b","[1,2]":"c","null":"d"})");
}

TEST(MsgpackToJson, InvalidUtf8IsReplacedWhenPrinted) {
  EXPECT_EQ(render_json(msgpack_to_json(bytes({0xa2, 'a', 0xff}), BytesFormat::base64)), "\"a\xef\xbf\xbd\"");
}

TEST(MsgpackToJson, MalformedOrTrailingBytesAreDecodeErrors) {
  EXPECT_THROW(msgpack_to_json(bytes({0x92, 0x01}), BytesFormat::base64), greenrpc::codec::DecodeError);
  EXPECT_THROW(msgpack_to_json(bytes({0x01, 0x02}), BytesFormat::base64), greenrpc::codec::DecodeError);
  EXPECT_THROW(msgpack_to_json("", BytesFormat::base64), greenrpc::codec::DecodeError);
  EXPECT_THROW(msgpack_to_json(bytes({0xc1}), BytesFormat::base64), greenrpc::codec::DecodeError);
}

TEST(InvalidInput, NotJsonIsRefusedWithAQuotingHint) {
  for (const char* text : {"hello", "'hello'", "", "{value: 2}", "[1,", "1 2", "\"unterminated", "tru", "01",
                           "NaN", "[1,]"}) {
    EXPECT_THROW(json_argument_to_msgpack(text), JsonInputError) << text;
  }
  try {
    json_argument_to_msgpack("hello");
    FAIL();
  } catch (const JsonInputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("quote"), std::string::npos) << what;
    EXPECT_EQ(what.find("json.exception"), std::string::npos) << what;
  }
}

TEST(InvalidInput, NestingIsBounded) {
  const std::size_t limit = greenrpc::cli::kMaxJsonDepth;
  const std::string ok = std::string(limit, '[') + std::string(limit, ']');
  EXPECT_NO_THROW(json_argument_to_msgpack(ok));
  const std::string deep = std::string(limit + 1, '[') + std::string(limit + 1, ']');
  EXPECT_THROW(json_argument_to_msgpack(deep), JsonInputError);
  const std::string very_deep = std::string(100000, '[');
  EXPECT_THROW(json_argument_to_msgpack(very_deep), JsonInputError);
}

TEST(ByteText, Base64IsCanonical) {
  EXPECT_EQ(greenrpc::cli::to_base64(""), "");
  EXPECT_EQ(greenrpc::cli::to_base64("f"), "Zg==");
  EXPECT_EQ(greenrpc::cli::to_base64("fo"), "Zm8=");
  EXPECT_EQ(greenrpc::cli::to_base64("foo"), "Zm9v");
  EXPECT_EQ(greenrpc::cli::to_base64("foobar"), "Zm9vYmFy");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) EXPECT_EQ(*greenrpc::cli::from_base64(greenrpc::cli::to_base64(s)), s);
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(*greenrpc::cli::from_base64(greenrpc::cli::to_base64(all)), all);
  EXPECT_EQ(*greenrpc::cli::from_hex(greenrpc::cli::to_hex(all)), all);
  EXPECT_FALSE(greenrpc::cli::from_base64("Zh=="));  // non-zero bits dropped by the padding
  EXPECT_FALSE(greenrpc::cli::from_base64("Zg="));
  EXPECT_FALSE(greenrpc::cli::from_base64("===="));
  EXPECT_FALSE(greenrpc::cli::from_base64("Zg==Zg=="));
}

}  // namespace
