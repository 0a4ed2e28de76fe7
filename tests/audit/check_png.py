#!/usr/bin/python3
"""Checks a browser screenshot of an audit report with nothing but zlib: a real PNG of some
size, more than a handful of colours in its top rows (the page rendered, not a blank or
single-colour canvas), and the colour of the verdict banner at its top-left.

Usage: check_png.py PNG green|amber|red"""
import struct
import sys
import zlib

ROWS = 360  # the banner, the checkpoint table and the start of the summary


def fail(msg):
    sys.exit("check_png: FAIL - " + msg)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def unfilter(kind, line, prev, bpp):
    out = bytearray(line)
    if kind == 1:
        for i in range(bpp, len(out)):
            out[i] = (out[i] + out[i - bpp]) & 0xFF
    elif kind == 2:
        for i in range(len(out)):
            out[i] = (out[i] + prev[i]) & 0xFF
    elif kind == 3:
        for i in range(len(out)):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(len(out)):
            left = out[i - bpp] if i >= bpp else 0
            up_left = prev[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + paeth(left, prev[i], up_left)) & 0xFF
    elif kind != 0:
        fail("bad PNG filter %d" % kind)
    return out


def top_rows(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, colour = hdr[:4]
    if depth != 8 or colour not in (2, 6):
        fail("PNG is not 8-bit RGB or RGBA (depth %d, colour type %d)" % (depth, colour))
    bpp = 3 if colour == 2 else 4
    stride, rows = width * bpp, min(ROWS, height)
    raw = zlib.decompressobj().decompress(b"".join(idat), rows * (stride + 1))
    prev, out = bytearray(stride), []
    for y in range(rows):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        prev = unfilter(line[0], line[1:], prev, bpp)
        out.append([tuple(prev[x:x + 3]) for x in range(0, stride, bpp)])
    return width, height, out


def main():
    path, want = sys.argv[1], sys.argv[2]
    data = open(path, "rb").read()
    if len(data) < 20000:
        fail("%s is only %d bytes" % (path, len(data)))
    width, height, rows = top_rows(data)
    colours = {px for row in rows for px in row}
    if len(colours) < 16:
        fail("only %d colours in the top %d rows: the page did not render" % (len(colours), len(rows)))
    r, g, b = rows[12][12]
    ok = {"red": r > 150 and g < 90 and b < 90, "green": g > r + 30 and g > b + 30,
          "amber": r > 110 and g > 60 and b < 40 and r > g}[want]
    if not ok:
        fail("verdict banner is rgb%s, want %s" % ((r, g, b), want))
    print("%s: %dx%d PNG, %d bytes, %d colours in the top %d rows, banner rgb%s (%s)" % (
        path, width, height, len(data), len(colours), len(rows), (r, g, b), want))


if __name__ == "__main__":
    main()
