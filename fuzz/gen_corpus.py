#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/: a handful of real frames each.

Run from anywhere: python3 fuzz/gen_corpus.py (needs python3-msgpack). The files are committed;
rerun only to change the seeds. Inputs of request_parser and reply_parser start with two bytes
that choose how the fuzz target cuts the stream into reads.
"""
import hashlib
import hmac
import os
import struct

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"greenrpc-fuzz-secret"  # as in envelope_fuzzer.cpp
NONCE = b"0123456789abcdef"
INFO = b"# Server\r\nredis_version:7.0.0\r\nmode:x\r\n"


def command(*parts):
    out = b"*%d\r\n" % len(parts)
    for p in parts:
        out += b"$%d\r\n%s\r\n" % (len(p), p)
    return out


def pack(v):
    return msgpack.packb(v, use_bin_type=True)


def signed(seq, name, *args, dl=None):
    elements = [name] + [pack(a) for a in args]
    msg = b"greenrpc-req-v1" + NONCE + struct.pack(">QQ", seq, 0xFFFFFFFFFFFFFFFF if dl is None else dl)
    for e in elements:
        msg += struct.pack(">Q", len(e)) + e
    env = {"v": 1, "seq": seq}
    if dl is not None:
        env["dl"] = dl
    env["tag"] = hmac.new(SECRET, msg, hashlib.sha256).digest()
    return command(pack(env), *elements)


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


write("request_parser", {
    "ping": b"\x00\x00" + command(b"PING"),
    "add": b"\x03\x07" + command(b"add", pack(1), pack({"value": 2})),
    "pipeline": b"\x10\x01" + command(b"add", pack(1), pack({"value": 10})) + command(b"ECHO", b"hi\r\n") + b"*0\r\n*-1\r\n",
    "inline": b"\x00\x05" + b"PING\r\nECHO \"a\\x41\\n\" 'it\\'s' plain\r\n\r\n",
    "inline_bad": b"\x01\x01" + b"ECHO \"unbalanced\r\n",
    "empty_bulk": b"\x02\x02" + command(b"SET", b"", b"x" * 40),
    "bad_header": b"\x00\x09" + b"*2\r\n$3\r\nGET\r\n:1\r\n",
    "signed": b"\x05\x05" + signed(1, b"add", 1, {"value": 2}, dl=1500),
})

write("reply_parser", {
    "simple": b"\x00\x00+PONG\r\n",
    "error": b"\x01\x00-VALIDATION_ERROR [\"add\",\"b\"] field 'value': value is not a valid integer int\r\n",
    "bulk": b"\x02\x03$1\r\n\x03\r\n$-1\r\n:42\r\n:-9223372036854775808\r\n",
    "nested": b"\x04\x01*3\r\n*2\r\n$2\r\nab\r\n:1\r\n*-1\r\n*0\r\n",
    "signed_reply": b"\x07\x07*2\r\n$32\r\n" + bytes(range(32)) + b"\r\n$1\r\n\x0a\r\n",
    "info": b"\x30\x30" + b"$%d\r\n%s\r\n" % (len(INFO), INFO),
})

order = {
    "kind": 1,
    "items": [{"name": "a", "id": 7, "codes": [1, 65535], "level": -300, "where": {"x": 1, "y": -2}},
              {"name": "b", "id": None, "codes": [], "level": 0, "where": None}],
    "by_name": {"a": {"name": "a", "id": None, "codes": [], "level": 300, "where": None}, "z": None},
    "blob": b"\x00\x01\xff",
    "series": {-1: [0.5, 2.0], 3: []},
    "labels": ["x", "y"],
    "flag": True,
    "ratio": 0.25,
    "total": 2**64 - 1,
    "notes": ["n", None],
    "extra": [-128, b"e", 200],
}
write("codec_decode", {
    "order": pack(order),
    "order_minimal": pack({"kind": 0, "items": [], "by_name": {}, "blob": None, "series": {}, "labels": [],
                           "flag": False, "ratio": 0.0, "total": 0, "notes": None, "extra": [0, b"", None]}),
    "arguments": pack([order, [{"x": 1, "y": 2}], 200]),
    "arguments_nil": pack([{"kind": 200, "items": [], "by_name": {}, "blob": "str as bytes", "series": {},
                            "labels": [], "flag": False, "ratio": 1, "total": 5, "notes": [], "extra": [1, b"", 1]},
                           [], None]),
    "wrong_type": pack({"kind": "one", "items": 3}),
    "truncated": pack(order)[:40],
})

write("envelope", {
    "signed": signed(1, b"add", 1, {"value": 2}),
    "signed_dl": signed(7, b"slow_idem", 50, dl=250),
    "unsigned_dl": command(pack({"v": 1, "dl": 100}), b"add", pack(1), pack({"value": 2})),
    "unknown_keys": command(pack({"v": 1, "seq": 2, "x": [1, 2], "tag": b"\x00" * 32}), b"PING"),
    "raw_envelope": pack({"v": 1, "seq": 3, "dl": 10, "tag": b"\x11" * 32}),
    "bad_version": command(pack({"v": 2}), b"PING"),
})
