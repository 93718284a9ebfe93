// Image codecs: JPEG (libjpeg-turbo, libjpeg API) and PNG (libpng), decoded to RGB u8.
//
// Conventions: an image is a CPU Tensor, dtype u8, shape (H, W, 3), RGB, contiguous (row-major,
// channels last). Every failure (unknown format, corrupt or truncated data - libjpeg's warnings
// about premature end of data are errors too - unsupported layout, I/O error) throws
// splat::Error whose message names the file (or the `name` given to decode_image).
//
// Decoding converts every layout to RGB:
//  - grayscale (and gray + alpha) is replicated to three channels;
//  - JPEG CMYK/YCCK as PIL's CMYK -> RGB: R = (255 - K) - round(C * (255 - K) / 255) (G, B
//    from M, Y), with C, K the ink amounts; files with an Adobe APP14 marker store 255 - ink
//    (PIL's "CMYK;I"), so for them R = round(stored C * stored K / 255). Other warnings of
//    libjpeg (extraneous bytes, corrupt data it resynchronises over) are accepted, as by PIL;
//  - PNG palette is expanded, alpha (tRNS or an alpha channel) is dropped (not composited),
//    16-bit samples are reduced to their high byte (as OpenCV's imread, mmcv's default backend);
//  - JPEG EXIF orientation (APP1 "Exif" TIFF tag 0x0112, values 1-8) is applied as PIL's
//    ImageOps.exif_transpose and OpenCV's imread (mmcv's default) do, so the result is upright;
//    a missing or malformed tag means orientation 1.
#pragma once

#include "core/tensor.h"

#include <cstdint>
#include <span>
#include <string>

namespace splat::data {

// Reads a JPEG or PNG file (recognised by content, not extension). Returns (H, W, 3) u8 RGB.
Tensor read_image(const std::string& path);

// Decodes a JPEG or PNG held in memory; `name` only appears in error messages.
Tensor decode_image(std::span<const uint8_t> bytes, const std::string& name);

// Writes rgb, (H, W, 3) u8 (any strides), as a baseline JPEG with this quality (1-100).
void write_jpeg(const std::string& path, const Tensor& rgb, int quality = 90);

// Writes rgb, (H, W, 3) u8 (any strides), as an 8-bit RGB PNG.
void write_png(const std::string& path, const Tensor& rgb);

// The EXIF orientation (1-8) of a JPEG file's bytes; 1 when there is no valid Orientation tag.
int jpeg_exif_orientation(std::span<const uint8_t> bytes);

// Applies EXIF orientation `orientation` (1-8) to an (H, W, C) u8 image so it becomes upright:
// 2 mirror, 3 rotate 180, 4 flip vertically, 5 transpose, 6 rotate 90 clockwise (PIL's
// ROTATE_270), 7 transverse, 8 rotate 90 counter-clockwise. Returns a new contiguous tensor.
Tensor apply_exif_orientation(const Tensor& image, int orientation);

} // namespace splat::data
