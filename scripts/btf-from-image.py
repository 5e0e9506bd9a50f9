#!/usr/bin/env python3
"""Slice a kernel's BTF out of its boot image (scripts/gen-vmlinux.sh).

A kernel built with CONFIG_DEBUG_INFO_BTF carries its BTF in the .BTF
section, and the image the bootloader loads (arm64's Image, the payload of
a gzip'd vmlinuz) holds that section's bytes as they are: the raw BTF that
/sys/kernel/btf/vmlinux serves, and all `bpftool btf dump` needs.  So a
distribution's kernel package is enough to get its types, without booting
it and without its multi-hundred-MB debug-symbols package.

The blob is found by its header (include/uapi/linux/btf.h): magic 0xeB9F,
version 1, flags 0, hdr_len 24, then type_off, type_len, str_off, str_len,
the types starting right after the header and the strings right after the
types, in little-endian (the images this handles are little-endian
arm64 and x86).  Of the candidates that fit, the largest is vmlinux's.

    scripts/btf-from-image.py IMAGE OUT

Writes the BTF to OUT and prints "offset size" (bytes, in the decompressed
image) on stdout.  Exits 1 if the image holds no BTF (an x86 bzImage's
payload is compressed: give it the vmlinux ELF instead).
"""
import gzip
import struct
import sys

MAGIC = b"\x9f\xeb\x01\x00"  # 0xeB9F little-endian, version 1, flags 0
HDR_LEN = 24


def candidates(data):
    i = data.find(MAGIC)
    while i >= 0:
        if i + HDR_LEN <= len(data):
            hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<5I", data, i + 4)
            size = hdr_len + str_off + str_len
            if hdr_len == HDR_LEN and type_off == 0 and str_off == type_len and \
                    type_len and str_len and i + size <= len(data) and \
                    data[i + hdr_len + str_off] == 0:  # the string section opens with ""
                yield i, size
        i = data.find(MAGIC, i + 1)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: btf-from-image.py IMAGE OUT")
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":  # a gzip'd Image (some distributions' arm64 vmlinuz)
        data = gzip.decompress(data)
    found = sorted(candidates(data), key=lambda c: c[1])
    if not found:
        sys.exit("btf-from-image: no BTF in %s" % sys.argv[1])
    off, size = found[-1]
    with open(sys.argv[2], "wb") as f:
        f.write(data[off:off + size])
    print("%d %d" % (off, size))


if __name__ == "__main__":
    main()
