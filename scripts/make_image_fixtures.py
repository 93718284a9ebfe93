#!/usr/bin/python3
"""Writes the tiny image files tests/data/test_image.cpp decodes, into tests/fixtures/images/.

    /usr/bin/python3 scripts/make_image_fixtures.py

JPEGs are written with PIL (python3-pil); PNGs with the small writer below, which can produce
layouts PIL cannot (16-bit RGB, 2-bit palette with transparency). Every pixel value is a simple
formula the C++ test restates, so the test does not depend on this script's output beyond the
files themselves. The script checks each JPEG against PIL's own decoding before keeping it.
"""
import io
import os
import struct
import zlib

from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "images")

H, W = 32, 48  # quadrants of 16 x 24 pixels
QUADRANT_RGB = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40)]  # TL TR BL BR
QUADRANT_GRAY = [40, 90, 160, 230]
QUADRANT_CMYK = [(0, 200, 200, 0), (200, 0, 100, 50), (30, 60, 90, 120), (255, 0, 0, 30)]


def quadrant(x, y):
    return (y >= H // 2) * 2 + (x >= W // 2)


def quadrant_image(mode, values):
    img = Image.new(mode, (W, H))
    img.putdata([values[quadrant(x, y)] for y in range(H) for x in range(W)])
    return img


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path, width, height, bit_depth, color_type, rows, extra_chunks=()):
    """rows: the packed bytes of each row (without the filter byte)."""
    raw = b"".join(b"\x00" + r for r in rows)
    data = b"\x89PNG\r\n\x1a\n"
    data += png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
    for kind, payload in extra_chunks:
        data += png_chunk(kind, payload)
    data += png_chunk(b"IDAT", zlib.compress(raw, 9))
    data += png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)
    return data


def save_jpeg(name, img, **kw):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95, subsampling=0, **kw)
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return buf.getvalue()


def check_close(img, expected, tol, what):
    got, want = img.convert("RGB"), expected.convert("RGB")
    assert got.size == want.size, (what, got.size, want.size)
    for y in (H // 4, 3 * H // 4):
        for x in (W // 4, 3 * W // 4):
            g, e = got.getpixel((x, y)), want.getpixel((x, y))
            assert all(abs(a - b) <= tol for a, b in zip(g, e)), (what, x, y, g, e)


# The transpose that undoes each EXIF orientation (PIL's ImageOps.exif_transpose table), and its
# inverse, used to store an image that exif_transpose turns back into the upright one.
UNDO = {2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM, 5: Image.TRANSPOSE,
        6: Image.ROTATE_270, 7: Image.TRANSVERSE, 8: Image.ROTATE_90}
INVERSE = {Image.ROTATE_270: Image.ROTATE_90, Image.ROTATE_90: Image.ROTATE_270}


def main():
    os.makedirs(OUT, exist_ok=True)
    upright = quadrant_image("RGB", QUADRANT_RGB)
    rgb = save_jpeg("rgb.jpg", upright)
    check_close(Image.open(io.BytesIO(rgb)), upright, 4, "rgb.jpg")

    for k in range(1, 9):
        stored = upright if k == 1 else upright.transpose(INVERSE.get(UNDO[k], UNDO[k]))
        exif = Image.Exif()
        exif[0x0112] = k
        data = save_jpeg(f"exif_{k}.jpg", stored, exif=exif.tobytes())
        check_close(ImageOps.exif_transpose(Image.open(io.BytesIO(data))), upright, 4, f"exif_{k}")

    gray = quadrant_image("L", QUADRANT_GRAY)
    check_close(Image.open(io.BytesIO(save_jpeg("gray.jpg", gray))), gray, 4, "gray.jpg")
    cmyk = quadrant_image("CMYK", [tuple(v) for v in QUADRANT_CMYK])
    check_close(Image.open(io.BytesIO(save_jpeg("cmyk.jpg", cmyk))), cmyk, 4, "cmyk.jpg")

    # Truncated: the entropy-coded data (after the SOS marker) stops half-way, so the headers
    # parse and only the scan runs out. Corrupt: the frame header's height is 0.
    sos = rgb.index(b"\xff\xda")
    with open(os.path.join(OUT, "truncated.jpg"), "wb") as f:
        f.write(rgb[: sos + (len(rgb) - sos) // 2])
    sof = rgb.index(b"\xff\xc0")
    corrupt = bytearray(rgb)
    corrupt[sof + 5: sof + 7] = b"\x00\x00"
    with open(os.path.join(OUT, "corrupt.jpg"), "wb") as f:
        f.write(bytes(corrupt))

    # PNGs, 20 x 12 (w x h), pixel formulas restated in tests/data/test_image.cpp.
    pw, ph = 20, 12
    rgba_rows = [bytes(v for x in range(pw) for v in (x * 12, y * 20, (x * y * 7) % 256, (x * 13) % 256))
                 for y in range(ph)]
    write_png(os.path.join(OUT, "rgba.png"), pw, ph, 8, 6, rgba_rows)
    rgb16_rows = [b"".join(struct.pack(">HHH", x * 3000 + y, y * 5000 + x, 65535 - x * y * 200)
                           for x in range(pw)) for y in range(ph)]
    write_png(os.path.join(OUT, "rgb16.png"), pw, ph, 16, 2, rgb16_rows)
    # 2-bit palette (4 pixels per byte, high bits first), index (x + 2y) % 4, entry 1 transparent.
    palette = bytes([10, 20, 30, 250, 128, 0, 0, 90, 200, 255, 255, 255])
    pal_rows = []
    for y in range(ph):
        idx = [(x + 2 * y) % 4 for x in range(pw)]
        pal_rows.append(bytes(idx[i] << 6 | idx[i + 1] << 4 | idx[i + 2] << 2 | idx[i + 3]
                              for i in range(0, pw, 4)))
    write_png(os.path.join(OUT, "palette.png"), pw, ph, 2, 3, pal_rows,
              [(b"PLTE", palette), (b"tRNS", bytes([255, 0]))])
    ga_rows = [bytes(v for x in range(pw) for v in ((x * 11 + y) % 256, 255 - x)) for y in range(ph)]
    good = write_png(os.path.join(OUT, "gray_alpha.png"), pw, ph, 8, 4, ga_rows)
    # Valid data under a wrong IDAT CRC (the 4 bytes before the IEND chunk's 12).
    corrupt_png = bytearray(good)
    corrupt_png[-13] ^= 0xFF
    with open(os.path.join(OUT, "corrupt.png"), "wb") as f:
        f.write(bytes(corrupt_png))
    with open(os.path.join(OUT, "truncated.png"), "wb") as f:
        f.write(good[: len(good) // 2])

    for name in sorted(os.listdir(OUT)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes")


if __name__ == "__main__":
    main()
