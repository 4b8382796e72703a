#!/usr/bin/env python3
"""Writes the small checked-in seed corpus under fuzz/seeds/<target>/ (deterministic).

Input layouts are those of fuzz/src/lib.rs: one control byte (bit 0 = role or secret), then
the stream. CRC32 is zlib's (IEEE), as the full transport uses.
"""
import os
import random
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
rnd = random.Random(7)


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


def abridged(p):
    w = len(p) // 4
    return (bytes([w]) if w < 0x7F else bytes([0x7F]) + struct.pack("<I", w)[:3]) + p


def inter(p, pad=b""):
    return struct.pack("<I", len(p) + len(pad)) + p + pad


def full(p, seq):
    head = struct.pack("<II", len(p) + 12, seq) + p
    return head + struct.pack("<I", zlib.crc32(head))


small = bytes(range(1, 25))
big = bytes(rnd.getrandbits(8) for _ in range(508))
err = struct.pack("<i", -404)

for ctl in (0, 1):
    write("transport_abridged", f"frames{ctl}", [ctl] + list(abridged(small) + abridged(big) + abridged(err)))
    write("transport_abridged", f"quickack{ctl}", [ctl] + [0x81, 2, 3, 4] + list(abridged(small)))
    write("transport_intermediate", f"frames{ctl}", [ctl] + list(inter(small) + inter(big) + inter(err)))
    write("transport_intermediate", f"quickack{ctl}", [ctl] + [4, 3, 2, 0x81] + list(inter(small)))
    write("transport_padded", f"frames{ctl}", [ctl] + list(inter(small, b"\x55" * 7) + inter(big) + inter(err, b"\x01\x02")))
    write("transport_full", f"frames{ctl}", [ctl] + list(full(small, 0) + full(big, 1) + full(err, 2)))
    write("transport_full", f"bare_error{ctl}", [ctl] + list(struct.pack("<i", -429)))

write("transport_detect", "abridged", [0, 0xEF] + list(abridged(small)))
write("transport_detect", "intermediate", [0] + [0xEE] * 4 + list(inter(small)))
write("transport_detect", "padded", [0] + [0xDD] * 4 + list(inter(small, b"\x00\x01")))
write("transport_detect", "full", [0] + list(full(small, 0) + full(small, 1)))
write("transport_detect", "http", [0] + list(b"GET / HTTP/1.1\r\n\r\n"))
for ctl in (0, 1):
    init = bytes([0x11, 2, 3, 4, 5, 6, 7, 8]) + bytes(rnd.getrandbits(8) for _ in range(56))
    write("transport_detect", f"obfuscated{ctl}", [ctl] + list(init) + list(inter(small)))

for ctl in range(6):
    seed = bytes(rnd.getrandbits(8) for _ in range(8))
    body = [2] + list(range(8)) + [1, 9, 9, 9, 9] + [0] + list(inter(small))
    write("transport_obfuscated", f"roundtrip{ctl}", [ctl] + list(seed) + body)

# tl_decode nesting recipes (0xff, u16 count, prefix length, prefix, suffix): 65535 nested
# jsonArray around a jsonNull, and 12000 inputPeerUserFromMessage around an inputPeerEmpty.
def u32(x):
    return struct.pack("<I", x)


json_array = u32(0xF7444763) + u32(0x1CB5C415) + u32(1)
write("tl_decode", "nested_json_array", [0xFF] + list(struct.pack("<H", 65535)) + [len(json_array)] + list(json_array) + list(u32(0x3F6D7B68)))
peer = u32(0xA87B0A1C)
write("tl_decode", "nested_input_peer", [0xFF] + list(struct.pack("<H", 12000)) + [len(peer)] + list(peer) + list(u32(0x7F3B18EA) + bytes(12)))
# auth_client: tests/mtproto_auth_hostile.rs writes real exchanges (TGMUX_WRITE_FUZZ_SEEDS=1).

# The embedded store file (src/store/file.rs): header, then records of
# len u32, !len u32, change, SHA-256(change)[:8].
import hashlib


def store_str(s):
    return struct.pack("<H", len(s)) + s


def store_record(change):
    n = len(change)
    return struct.pack("<II", n, n ^ 0xFFFFFFFF) + change + hashlib.sha256(change).digest()[:8]


flood = b"\x01" + store_str(b"main") + struct.pack("<iQ", 2, 1_700_000_000_123)
resolved = (b"\x02" + store_str(b"bot-2") + store_str(b"https://t.me/c/1/2")
            + struct.pack("<QI", 1_700_000_360_000, 3) + b"loc")
forget = b"\x03" + store_str(b"main") + store_str(b"t.me/x/1")
authkey = b"\x04" + store_str(b"main") + struct.pack("<i", 4) + bytes(range(256))
header = b"TGMUXSTO" + struct.pack("<I", 1)
log = header + b"".join(store_record(c) for c in (flood, resolved, forget, authkey))
write("store_file", "log", log)
write("store_file", "torn", log[:-5])
write("store_file", "record", flood)

# HTTP: u64 LE size, then Range / If-Range / If-None-Match / If-Match / IMS / IUS lines.
size = struct.pack("<Q", 10_000 * 4 + 1)  # low bits 01: size % 100000 = 40001
for name, fields in [
    ("single", [b"bytes=0-499"]),
    ("suffix", [b"bytes=-500"]),
    ("open", [b"bytes=9500-"]),
    ("multi", [b"bytes=0-9,100-199,-10,50-60"]),
    ("if_range_etag", [b"bytes=5-", b'"00000000000000ab-1f"']),
    ("if_range_date", [b"bytes=5-", b"Sun, 06 Nov 1994 08:49:37 GMT"]),
    ("conditional", [b"bytes=1-2", b"", b'W/"x", "00000000000000ab-1f"', b"*", b"Sunday, 06-Nov-94 08:49:37 GMT", b"Sun Nov  6 08:49:37 1994"]),
]:
    write("http_range", name, size + b"\n".join(fields))
for name, text in [
    ("doc", b"/alice/12"),
    ("channel_mp4", b"/c/1234567890/7.mp4?download=1"),
    ("segment", b"/alice/12/seg-3.m4s?token=token"),
    ("watch_signed", b"/watch/alice/12?exp=2000&sig=" + b"ab" * 32),
    ("bearer", b"/alice/12/info\nBearer token"),
    ("escaped", b"/Al%69ce/12/subs-0.vtt?_=1&download=0"),
]:
    write("http_link", name, text)

# fmp4_read's seeds (av_text: `tgmux remux --fragmented` of a 2 s 64x64 H.264 + AAC + SRT
# file from ffmpeg; init_only: its bytes before the first moof; regress_time_overflow: the
# first crash the target found) are checked in as made, not written here.
