// JPEG and PNG codecs (conventions in data/image.h).
//
// libjpeg and libpng report errors by longjmp. Each setjmp lives in a small function that holds
// no C++ object with a destructor and only writes through pointers, so the jump skips nothing;
// the C++ callers own the library structs through guards and turn a failed call into an Error
// carrying the library's message and the file name.
#include "data/image.h"

#include "core/error.h"
#include "data/tensor_util.h"

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

namespace splat::data {
namespace {

constexpr size_t kMessageSize = 256;

// ---- JPEG -----------------------------------------------------------------------------------

// libjpeg's error manager extended with the jump target and the message of the failure.
struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings are silent, except that data ending early (libjpeg pads it with gray and carries on)
// fails as PIL does: a truncated file must not train on a half-gray image. Other warnings
// (extraneous bytes, corrupt data the decoder resynchronises over) are accepted, as by PIL and
// OpenCV.
void jpeg_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_fail(cinfo);
}

void init_jpeg_errors(JpegErrors& errors) {
  jpeg_std_error(&errors.mgr);
  errors.mgr.error_exit = [](j_common_ptr c) { jpeg_fail(c); };
  errors.mgr.emit_message = jpeg_message;
  errors.message[0] = '\0';
}

struct JpegHeader {
  int height, width, components;
  J_COLOR_SPACE color;
  bool adobe;
};

bool jpeg_read_header_guarded(jpeg_decompress_struct* cinfo, JpegErrors* errors,
                              const uint8_t* data, size_t size, JpegHeader* header) {
  if (setjmp(errors->jump)) return false;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  switch (cinfo->jpeg_color_space) {
  case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
  case JCS_CMYK:
  case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; break;
  default: cinfo->out_color_space = JCS_RGB; break;
  }
  jpeg_calc_output_dimensions(cinfo);
  *header = {static_cast<int>(cinfo->output_height), static_cast<int>(cinfo->output_width),
             cinfo->output_components, cinfo->out_color_space, cinfo->saw_Adobe_marker != 0};
  return true;
}

// Decodes all scanlines into out (height rows of width * components bytes).
bool jpeg_decode_guarded(jpeg_decompress_struct* cinfo, JpegErrors* errors, uint8_t* out,
                         size_t row_bytes) {
  if (setjmp(errors->jump)) return false;
  jpeg_start_decompress(cinfo);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + cinfo->output_scanline * row_bytes;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

struct JpegDecompressor {
  jpeg_decompress_struct cinfo{};
  JpegErrors errors{};
  JpegDecompressor() {
    init_jpeg_errors(errors);
    cinfo.err = &errors.mgr;
    jpeg_create_decompress(&cinfo);
  }
  ~JpegDecompressor() { jpeg_destroy_decompress(&cinfo); }
  JpegDecompressor(const JpegDecompressor&) = delete;
  JpegDecompressor& operator=(const JpegDecompressor&) = delete;
};

// PIL's MULDIV255: a * b / 255 rounded to nearest, exactly, for a, b in [0, 255].
uint8_t muldiv255(int a, int b) {
  const int t = a * b + 128;
  return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

// Gray or CMYK scanlines (components 1 or 4) to RGB, as PIL's L->RGB and CMYK->RGB.
void to_rgb(const std::vector<uint8_t>& src, const JpegHeader& h, uint8_t* rgb) {
  const size_t n = static_cast<size_t>(h.height) * static_cast<size_t>(h.width);
  for (size_t i = 0; i < n; ++i) {
    if (h.components == 1) {
      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = src[i];
      continue;
    }
    // Adobe writers store 255 - ink; PIL reads those as "CMYK;I" and undoes the inversion.
    const uint8_t* s = &src[4 * i];
    const int inv = h.adobe ? 255 : 0;
    const int not_k = 255 - (s[3] ^ inv);
    for (int c = 0; c < 3; ++c)
      rgb[3 * i + c] = static_cast<uint8_t>(not_k - muldiv255(s[c] ^ inv, not_k));
  }
}

Tensor decode_jpeg(std::span<const uint8_t> bytes, const std::string& name) {
  JpegDecompressor d;
  JpegHeader h{};
  SPLAT_CHECK(jpeg_read_header_guarded(&d.cinfo, &d.errors, bytes.data(), bytes.size(), &h),
              "read_image: cannot decode JPEG '", name, "': ", d.errors.message);
  SPLAT_CHECK(h.components == 1 || h.components == 3 || h.components == 4, "read_image: JPEG '",
              name, "' decodes to ", h.components, " components, expected 1, 3 or 4");
  Tensor out = Tensor::empty({h.height, h.width, 3}, DType::u8);
  const bool direct = h.components == 3;
  std::vector<uint8_t> raw(direct ? 0 : static_cast<size_t>(h.height) * h.width * h.components);
  uint8_t* dst = direct ? out.data<uint8_t>() : raw.data();
  SPLAT_CHECK(
      jpeg_decode_guarded(&d.cinfo, &d.errors, dst, static_cast<size_t>(h.width) * h.components),
      "read_image: cannot decode JPEG '", name, "': ", d.errors.message);
  if (!direct) to_rgb(raw, h, out.data<uint8_t>());
  return apply_exif_orientation(out, jpeg_exif_orientation(bytes));
}

// ---- PNG ------------------------------------------------------------------------------------

// What the libpng callbacks see: the bytes still to read and the failure message.
struct PngContext {
  std::span<const uint8_t> rest;
  char message[kMessageSize] = {};
};

[[noreturn]] void png_fail(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->message, kMessageSize, "%s", message);
  png_longjmp(png, 1);
}
void png_silent_warning(png_structp, png_const_charp) {}

void png_read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (n > ctx->rest.size()) png_error(png, "unexpected end of data (file truncated)");
  std::memcpy(out, ctx->rest.data(), n);
  ctx->rest = ctx->rest.subspan(n);
}

struct PngReader {
  PngContext ctx;
  png_structp png = nullptr;
  png_infop info = nullptr;
  explicit PngReader(std::span<const uint8_t> bytes) {
    ctx.rest = bytes;
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_fail, png_silent_warning);
    SPLAT_CHECK(png != nullptr, "read_image: png_create_read_struct failed");
    info = png_create_info_struct(png);
    if (info == nullptr) png_destroy_read_struct(&png, nullptr, nullptr);
    SPLAT_CHECK(info != nullptr, "read_image: png_create_info_struct failed");
    png_set_read_fn(png, &ctx, png_read_bytes);
  }
  ~PngReader() { png_destroy_read_struct(&png, &info, nullptr); }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;
};

// Reads the header and sets up libpng's conversions to 8-bit RGB without alpha.
bool png_read_header_guarded(PngReader* r, uint32_t* height, uint32_t* width, size_t* row_bytes) {
  if (setjmp(png_jmpbuf(r->png))) return false;
  png_read_info(r->png, r->info);
  const int color = png_get_color_type(r->png, r->info);
  const int depth = png_get_bit_depth(r->png, r->info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
  if (depth == 16) png_set_strip_16(r->png);
  // Expanding a palette also turns tRNS into an alpha channel; both kinds of alpha are dropped.
  if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(r->png, r->info, PNG_INFO_tRNS))
    png_set_strip_alpha(r->png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
    png_set_gray_to_rgb(r->png);
  png_set_interlace_handling(r->png);
  png_read_update_info(r->png, r->info);
  *height = png_get_image_height(r->png, r->info);
  *width = png_get_image_width(r->png, r->info);
  *row_bytes = png_get_rowbytes(r->png, r->info);
  return true;
}

bool png_read_rows_guarded(PngReader* r, png_bytepp rows) {
  if (setjmp(png_jmpbuf(r->png))) return false;
  png_read_image(r->png, rows);
  png_read_end(r->png, nullptr);
  return true;
}

Tensor decode_png(std::span<const uint8_t> bytes, const std::string& name) {
  PngReader r(bytes);
  uint32_t height = 0, width = 0;
  size_t row_bytes = 0;
  SPLAT_CHECK(png_read_header_guarded(&r, &height, &width, &row_bytes),
              "read_image: cannot decode PNG '", name, "': ", r.ctx.message);
  SPLAT_CHECK(row_bytes == static_cast<size_t>(width) * 3, "read_image: PNG '", name,
              "' converts to ", row_bytes, " bytes per row, expected ", width, " x 3");
  Tensor out = Tensor::empty({height, width, 3}, DType::u8);
  std::vector<png_bytep> rows(height);
  for (uint32_t y = 0; y < height; ++y) rows[y] = out.data<uint8_t>() + y * row_bytes;
  SPLAT_CHECK(png_read_rows_guarded(&r, rows.data()), "read_image: cannot decode PNG '", name,
              "': ", r.ctx.message);
  return out;
}

// ---- Writing --------------------------------------------------------------------------------

// An (H, W, 3) u8 image as contiguous rows, checked.
Tensor writable_rgb(std::string_view op, const std::string& path, const Tensor& rgb) {
  check_cpu_tensor(op, "rgb", rgb, DType::u8, 3);
  SPLAT_CHECK(rgb.size(2) == 3 && rgb.size(0) > 0 && rgb.size(1) > 0, op, ": '", path,
              "': rgb must be (H, W, 3) with H, W > 0, got ", shape_str(rgb.shape()));
  return contiguous_cpu(rgb);
}

struct File {
  std::FILE* f;
  std::string path;
  File(const std::string& p, std::string_view op) : f(std::fopen(p.c_str(), "wb")), path(p) {
    SPLAT_CHECK(f != nullptr, op, ": cannot open '", p, "' for writing: ", std::strerror(errno));
  }
  // Closes and reports whether every write reached the file.
  bool close() {
    const bool ok = std::fflush(f) == 0 && std::ferror(f) == 0;
    const bool closed = std::fclose(f) == 0;
    f = nullptr;
    return ok && closed;
  }
  ~File() {
    if (f != nullptr) std::fclose(f);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
};

bool jpeg_encode_guarded(jpeg_compress_struct* cinfo, JpegErrors* errors, std::FILE* f,
                         const uint8_t* pixels, int height, int width, int quality) {
  if (setjmp(errors->jump)) return false;
  jpeg_stdio_dest(cinfo, f);
  cinfo->image_width = static_cast<JDIMENSION>(width);
  cinfo->image_height = static_cast<JDIMENSION>(height);
  cinfo->input_components = 3;
  cinfo->in_color_space = JCS_RGB;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  while (cinfo->next_scanline < cinfo->image_height) {
    // libjpeg's API takes non-const rows but does not write to them.
    auto row = const_cast<JSAMPROW>(pixels + static_cast<size_t>(cinfo->next_scanline) * width * 3);
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

bool png_encode_guarded(png_structp png, png_infop info, std::FILE* f, png_bytepp rows,
                        uint32_t height, uint32_t width) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_init_io(png, f);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SPLAT_CHECK(in.good(), "read_image: cannot open '", path, "': ", std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  SPLAT_CHECK(!in.bad(), "read_image: error reading '", path, "'");
  return bytes;
}

// ---- EXIF -----------------------------------------------------------------------------------

// A bounds-checked reader of TIFF integers in either byte order.
struct TiffView {
  std::span<const uint8_t> data;
  bool big_endian;
  bool has(size_t at, size_t n) const { return at <= data.size() && n <= data.size() - at; }
  uint32_t get(size_t at, int n) const {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      const uint32_t b = data[at + (big_endian ? i : n - 1 - i)];
      v = v << 8 | b;
    }
    return v;
  }
};

// The Orientation tag (0x0112) of IFD0 of a TIFF block, or 1.
int tiff_orientation(std::span<const uint8_t> tiff) {
  if (tiff.size() < 8) return 1;
  const bool be = tiff[0] == 'M' && tiff[1] == 'M';
  if (!be && !(tiff[0] == 'I' && tiff[1] == 'I')) return 1;
  const TiffView v{tiff, be};
  if (v.get(2, 2) != 42) return 1;
  const size_t ifd = v.get(4, 4);
  if (!v.has(ifd, 2)) return 1;
  const uint32_t entries = v.get(ifd, 2);
  for (uint32_t e = 0; e < entries; ++e) {
    const size_t at = ifd + 2 + 12 * static_cast<size_t>(e);
    if (!v.has(at, 12)) return 1;
    if (v.get(at, 2) != 0x0112) continue;
    const uint32_t type = v.get(at + 2, 2), count = v.get(at + 4, 4);
    if (type != 3 || count != 1) return 1; // must be one SHORT, held in the value field
    const uint32_t o = v.get(at + 8, 2);
    return o >= 1 && o <= 8 ? static_cast<int>(o) : 1;
  }
  return 1;
}

} // namespace

int jpeg_exif_orientation(std::span<const uint8_t> bytes) {
  if (bytes.size() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return 1;
  size_t at = 2;
  // Marker segments up to the start of scan: FF, marker byte, 2-byte big-endian length.
  while (at + 4 <= bytes.size()) {
    if (bytes[at] != 0xFF) return 1;
    const uint8_t marker = bytes[at + 1];
    if (marker == 0xFF) { // fill byte
      ++at;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 1; // start of scan / end of image
    const size_t length = static_cast<size_t>(bytes[at + 2]) << 8 | bytes[at + 3];
    if (length < 2 || at + 2 + length > bytes.size()) return 1;
    const auto payload = bytes.subspan(at + 4, length - 2);
    static constexpr uint8_t kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (marker == 0xE1 && payload.size() >= 6 && std::memcmp(payload.data(), kExif, 6) == 0)
      return tiff_orientation(payload.subspan(6));
    at += 2 + length;
  }
  return 1;
}

Tensor apply_exif_orientation(const Tensor& image, int orientation) {
  check_cpu_tensor("apply_exif_orientation", "image", image, DType::u8, 3);
  SPLAT_CHECK(orientation >= 1 && orientation <= 8,
              "apply_exif_orientation: orientation must be in 1..8, got ", orientation);
  const Tensor in = contiguous_cpu(image);
  const int64_t h = in.size(0), w = in.size(1), c = in.size(2);
  const bool swap = orientation >= 5; // the transposing ones
  const int64_t oh = swap ? w : h, ow = swap ? h : w;
  // Source element of output (y, x) = origin + y * step_y + x * step_x, in pixels (row = w).
  const int64_t row = w, last_row = (h - 1) * w, last_col = w - 1;
  int64_t origin = 0, step_y = row, step_x = 1;
  switch (orientation) {
  case 1: break;
  case 2: origin = last_col, step_x = -1; break;                           // mirror
  case 3: origin = last_row + last_col, step_y = -row, step_x = -1; break; // rotate 180
  case 4: origin = last_row, step_y = -row; break;                         // flip vertically
  case 5: step_y = 1, step_x = row; break;                                 // transpose
  case 6: origin = last_row, step_y = 1, step_x = -row; break;             // rotate 90 clockwise
  case 7: origin = last_row + last_col, step_y = -1, step_x = -row; break; // transverse
  case 8: origin = last_col, step_y = -1, step_x = row; break; // rotate 90 counter-clockwise
  }
  Tensor out = Tensor::empty({oh, ow, c}, DType::u8);
  const uint8_t* src = in.data<uint8_t>();
  uint8_t* dst = out.data<uint8_t>();
  for (int64_t y = 0; y < oh; ++y)
    for (int64_t x = 0; x < ow; ++x)
      std::memcpy(dst + (y * ow + x) * c, src + (origin + y * step_y + x * step_x) * c,
                  static_cast<size_t>(c));
  return out;
}

Tensor decode_image(std::span<const uint8_t> bytes, const std::string& name) {
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
    return decode_jpeg(bytes, name);
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0) return decode_png(bytes, name);
  SPLAT_CHECK(false, "read_image: '", name, "' is neither a JPEG nor a PNG (", bytes.size(),
              " bytes", bytes.empty() ? ", empty" : "", ")");
  return {};
}

Tensor read_image(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  return decode_image(bytes, path);
}

void write_jpeg(const std::string& path, const Tensor& rgb, int quality) {
  SPLAT_CHECK(quality >= 1 && quality <= 100, "write_jpeg: '", path,
              "': quality must be in 1..100, got ", quality);
  const Tensor img = writable_rgb("write_jpeg", path, rgb);
  File file(path, "write_jpeg");
  jpeg_compress_struct cinfo{};
  JpegErrors errors{};
  init_jpeg_errors(errors);
  cinfo.err = &errors.mgr;
  jpeg_create_compress(&cinfo);
  const bool ok =
      jpeg_encode_guarded(&cinfo, &errors, file.f, img.data<uint8_t>(),
                          static_cast<int>(img.size(0)), static_cast<int>(img.size(1)), quality);
  jpeg_destroy_compress(&cinfo);
  SPLAT_CHECK(ok, "write_jpeg: cannot encode '", path, "': ", errors.message);
  SPLAT_CHECK(file.close(), "write_jpeg: error writing '", path, "': ", std::strerror(errno));
}

void write_png(const std::string& path, const Tensor& rgb) {
  const Tensor img = writable_rgb("write_png", path, rgb);
  File file(path, "write_png");
  PngContext ctx;
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_fail, png_silent_warning);
  SPLAT_CHECK(png != nullptr, "write_png: png_create_write_struct failed");
  png_infop info = png_create_info_struct(png);
  const auto height = static_cast<uint32_t>(img.size(0)),
             width = static_cast<uint32_t>(img.size(1));
  std::vector<png_bytep> rows(height);
  for (uint32_t y = 0; y < height; ++y)
    rows[y] = const_cast<png_bytep>(img.data<uint8_t>() + static_cast<size_t>(y) * width * 3);
  const bool ok =
      info != nullptr && png_encode_guarded(png, info, file.f, rows.data(), height, width);
  png_destroy_write_struct(&png, &info);
  SPLAT_CHECK(ok, "write_png: cannot encode '", path, "': ", ctx.message);
  SPLAT_CHECK(file.close(), "write_png: error writing '", path, "': ", std::strerror(errno));
}

} // namespace splat::data
