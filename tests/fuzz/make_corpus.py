#!/usr/bin/env python3
"""Regenerates tests/fuzz/corpus/ (the seed inputs of the fuzz targets in this folder).

Run from anywhere: python3 tests/fuzz/make_corpus.py. Needs python3-cryptography for the
FieldCipher tokens. Seeds follow the formats of fuzz_bodies.h:
  gateway_json/, gateway_proto/  first byte = method index in linli.gateway.v1.ConsoleService
                                 (declaration order), then the JSON / binary request;
  page_token/                    tokens as common/pagination.cc's EncodePageToken makes them for
                                 query fingerprint "fp", plus near misses;
  field_cipher/                  tokens as FieldCipher::Encrypt makes them with the fixed test key
                                 (k1 = bytes 0..31) and associated data "elders/1#phone",
                                 plus near misses.
"""
import base64
import hashlib
import os
import shutil
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# Method indexes in console.proto's declaration order.
CREATE_REGION, GET_REGION, LIST_REGIONS, GET_MAP, SEARCH_PROVIDERS = 0, 1, 2, 3, 4
LIST_ELDERS, GET_ELDER, LIST_VISITS = 11, 12, 17


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, wire_type, payload):
    key = varint(number << 3 | wire_type)
    if wire_type == 0:
        return key + varint(payload)
    if wire_type == 1:
        return key + payload
    if isinstance(payload, str):
        payload = payload.encode()
    return key + varint(len(payload)) + payload


def page_token(key, fingerprint="fp"):
    body = b"1" + key.encode()
    checksum = hashlib.sha256(body + b"\x1f" + fingerprint.encode()).digest()[:8]
    return b64url(checksum + body)


def field_token(plaintext, aad, nonce):
    key = bytes(range(32))
    header = "v1.k1."
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), (header + aad).encode())
    return header + b64url(nonce + sealed)


def main():
    shutil.rmtree(ROOT, ignore_errors=True)

    j = "gateway_json"
    write(j, "get_region", bytes([GET_REGION]) + b'{"name":"regions/310101"}')
    write(j, "list_regions", bytes([LIST_REGIONS]) +
          b'{"parent":"regions/310101020","pageSize":10}')
    write(j, "get_map", bytes([GET_MAP]) +
          b'{"region":"regions/310101020","depth":1,"lines":["lines/civil-affairs"]}')
    write(j, "create_region", bytes([CREATE_REGION]) +
          '{"region":{"code":"310101020001","displayName":"某居委","level":"REGION_LEVEL_STREET",'
          '"parent":"regions/310101020","createTime":"2026-11-30T08:00:00Z"},'
          '"requestId":"r-1"}'.encode())
    write(j, "search_providers", bytes([SEARCH_PROVIDERS]) +
          b'{"elder":"elders/1","point":{"latitude":31.23,"longitude":121.47},'
          b'"serviceType":"serviceTypes/meal","radiusMeters":1500,"pageSize":"20"}')
    write(j, "list_elders", bytes([LIST_ELDERS]) +
          b'{"region":"regions/310101020","livingSituation":1,"pageToken":"abc"}')
    write(j, "list_visits", bytes([LIST_VISITS]) +
          b'{"elder":"elders/7","from_date":"2026-11-30","to_date":"2026-12-07","page_size":0}')
    write(j, "empty_object", bytes([GET_ELDER]) + b"{}")
    write(j, "bad_unknown_field", bytes([GET_REGION]) + b'{"name":"regions/1","nope":true}')
    write(j, "bad_truncated", bytes([LIST_REGIONS]) + b'{"parent":"regions/3101')
    write(j, "bad_type", bytes([LIST_REGIONS]) + b'{"pageSize":"ten"}')
    # protobuf 3.21 accepts (flattens) nested lists in a repeated field.
    write(j, "nested_lists", bytes([GET_MAP]) + b'{"lines":[[["x"]]]}')

    p = "gateway_proto"
    write(p, "get_region", bytes([GET_REGION]) + field(1, 2, "regions/310101"))
    write(p, "list_regions", bytes([LIST_REGIONS]) + field(1, 2, "regions/310101020") +
          field(2, 0, 10) + field(3, 2, page_token("regions/310101020001")))
    write(p, "get_map", bytes([GET_MAP]) + field(1, 2, "regions/310101020") + field(2, 0, 1) +
          field(3, 2, "lines/civil-affairs") + field(5, 2, bytes([1, 2, 3])))
    write(p, "search_providers", bytes([SEARCH_PROVIDERS]) + field(1, 2, "elders/1") +
          field(3, 2, field(1, 1, struct.pack("<d", 31.23)) +
                field(2, 1, struct.pack("<d", 121.47))) + field(5, 0, 1500))
    write(p, "with_unknown_fields", bytes([LIST_ELDERS]) + field(1, 2, "regions/1") +
          field(99, 0, 7) + field(100, 2, "extra"))
    write(p, "negative_page_size", bytes([LIST_VISITS]) + field(5, 0, (1 << 64) - 1))
    write(p, "empty", bytes([GET_ELDER]))
    write(p, "bad_truncated", bytes([GET_REGION]) + field(1, 2, "regions/310101")[:-3])
    write(p, "bad_utf8", bytes([GET_REGION]) + field(1, 2, b"\xff\xfe"))

    t = "page_token"
    write(t, "key_region", page_token("regions/310101020001"))
    write(t, "key_id", page_token("12345"))
    write(t, "key_empty", page_token(""))
    write(t, "key_tuple", page_token("2026-11-30T08:00:00\x1f4711"))
    write(t, "empty", "")
    write(t, "other_query", page_token("12345", "another"))
    write(t, "bad_version", b64url(hashlib.sha256(b"2x\x1ffp").digest()[:8] + b"2x"))
    write(t, "bad_base64", "not a token!")
    write(t, "short", b64url(b"12345678"))

    c = "field_cipher"
    aad = "elders/1#phone"
    write(c, "phone", field_token("13812345678", aad, bytes(range(12))))
    write(c, "address", field_token("上海市黄浦区某路1号", aad, bytes(range(1, 13))))
    write(c, "id_number", field_token("310101195001011234", aad, bytes(range(2, 14))))
    write(c, "empty_plaintext", field_token("", aad, bytes(12)))
    # A genuine k1 token (of a seed plaintext) relabelled as k2, which the keyring lacks.
    write(c, "unknown_key", "v1.k2." + field_token("13812345678", aad, bytes(12))[6:])
    write(c, "bad_prefix", "v2.k1.AAAA")
    write(c, "bad_key_id", "v1.k!.AAAA")
    write(c, "bad_base64", "v1.k1.****")
    write(c, "short", "v1.k1." + b64url(bytes(20)))


if __name__ == "__main__":
    main()
