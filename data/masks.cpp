// COCO mask API semantics (see masks.h). The polygon rasteriser, toBbox and the string codec
// reproduce pycocotools' integer and floating-point steps exactly, because COCO's areas, boxes
// and evaluation were computed with them; the comments name each step's rounding.
#include "data/masks.h"

// pycocotools' floating-point steps are reproduced to the last bit, so no multiply-add may be
// fused here (its x86-64 builds have no FMA; -march=native builds would otherwise fuse).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace splat::data {

namespace {

constexpr uint64_t kMaxPixels = std::numeric_limits<uint32_t>::max();

void check_size(int64_t h, int64_t w, std::string_view what) {
  SPLAT_CHECK(h >= 0 && w >= 0, what, ": mask size ", h, "x", w, " is negative");
  SPLAT_CHECK(h == 0 || static_cast<uint64_t>(w) <= kMaxPixels / static_cast<uint64_t>(h), what,
              ": mask size ", h, "x", w, " has more than 2^32-1 pixels");
}

// Appends runs of (value, length) and keeps the counts canonical: consecutive runs of one value
// are joined, zero-length runs vanish, and the first run is of 0s (possibly empty).
class RunBuilder {
public:
  void push(bool value, uint64_t length) {
    if (length == 0) return;
    if (value != value_) {
      counts_.push_back(static_cast<uint32_t>(current_));
      value_ = value;
      current_ = 0;
    }
    current_ += length;
  }
  std::vector<uint32_t> finish() {
    counts_.push_back(static_cast<uint32_t>(current_));
    return std::move(counts_);
  }

private:
  std::vector<uint32_t> counts_;
  bool value_ = false;
  uint64_t current_ = 0;
};

// Walks the runs of an RLE: value() over the next remaining() pixels.
class RunCursor {
public:
  explicit RunCursor(const Rle& r) : counts_(r.counts) { settle(); }
  bool done() const { return index_ >= counts_.size(); }
  bool value() const { return index_ % 2 == 1; }
  uint64_t remaining() const { return remaining_; }
  void advance(uint64_t n) {
    remaining_ -= n;
    if (remaining_ == 0) {
      ++index_;
      settle();
    }
  }

private:
  // Moves to the next non-empty run (zero-length runs only flip the value).
  void settle() {
    while (index_ < counts_.size() && counts_[index_] == 0) ++index_;
    remaining_ = index_ < counts_.size() ? counts_[index_] : 0;
  }
  const std::vector<uint32_t>& counts_;
  size_t index_ = 0;
  uint64_t remaining_ = 0;
};

// Sweeps two equally sized RLEs together; f(value_a, value_b, length) for each common stretch.
template <class F> void sweep(const Rle& a, const Rle& b, F&& f) {
  RunCursor ca(a), cb(b);
  while (!ca.done() && !cb.done()) {
    const uint64_t n = std::min(ca.remaining(), cb.remaining());
    f(ca.value(), cb.value(), n);
    ca.advance(n);
    cb.advance(n);
  }
}

void check_same_size(const Rle& a, const Rle& b, std::string_view what) {
  SPLAT_CHECK(a.height == b.height && a.width == b.width, what, ": masks of different sizes ",
              a.height, "x", a.width, " and ", b.height, "x", b.width);
}

// C's (int)(v + .5) as pycocotools rounds: half up, but truncating toward zero, so -0.3 -> 0.
int round_half_up_trunc(double v, std::string_view what) {
  const double r = v + .5;
  SPLAT_CHECK(std::fabs(r) < 1073741824.0, what, ": polygon coordinate ", v / 5,
              " is out of range");
  return static_cast<int>(r);
}

} // namespace

void check_rle(const Rle& rle, std::string_view what) {
  check_size(rle.height, rle.width, what);
  uint64_t sum = 0;
  for (uint32_t c : rle.counts) sum += c;
  const uint64_t pixels = static_cast<uint64_t>(rle.height) * static_cast<uint64_t>(rle.width);
  SPLAT_CHECK(sum == pixels, what, ": RLE counts sum to ", sum, " but the mask ", rle.height, "x",
              rle.width, " has ", pixels, " pixels");
}

Rle rle_from_polygon(std::span<const double> xy, int64_t h, int64_t w) {
  constexpr std::string_view what = "rle_from_polygon";
  check_size(h, w, what);
  SPLAT_CHECK(xy.size() % 2 == 0, what, ": polygon has an odd number of coordinates (", xy.size(),
              ")");
  SPLAT_CHECK(!xy.empty(), what, ": polygon has no points");
  constexpr double kScale = 5; // pycocotools rasterises on a 5x finer grid
  const size_t k = xy.size() / 2;
  // Vertices on the fine grid, closed (vertex k = vertex 0).
  std::vector<int> vx(k + 1), vy(k + 1);
  for (size_t j = 0; j < k; ++j) {
    vx[j] = round_half_up_trunc(kScale * xy[2 * j], what);
    vy[j] = round_half_up_trunc(kScale * xy[2 * j + 1], what);
  }
  vx[k] = vx[0];
  vy[k] = vy[0];

  // Dense boundary: every edge walked one fine cell at a time along its longer axis, from its
  // start vertex to its end vertex. The other coordinate is interpolated from the endpoint with
  // the smaller walking coordinate (so an edge rasterises the same in both directions) and
  // rounded as above.
  std::vector<int> u, v;
  for (size_t j = 0; j < k; ++j) {
    const int x0 = vx[j], y0 = vy[j], x1 = vx[j + 1], y1 = vy[j + 1];
    const int dx = std::abs(x1 - x0), dy = std::abs(y1 - y0);
    const bool along_x = dx >= dy;
    const int steps = along_x ? dx : dy;
    if (steps == 0) { // a repeated vertex: one point (its interpolation would be 0/0)
      u.push_back(x0);
      v.push_back(y0);
      continue;
    }
    const bool reversed = along_x ? x0 > x1 : y0 > y1;
    const int lo_x = reversed ? x1 : x0, lo_y = reversed ? y1 : y0;
    const int hi_x = reversed ? x0 : x1, hi_y = reversed ? y0 : y1;
    const double slope =
        along_x ? static_cast<double>(hi_y - lo_y) / dx : static_cast<double>(hi_x - lo_x) / dy;
    for (int d = 0; d <= steps; ++d) {
      const int t = reversed ? steps - d : d; // offset from the low endpoint
      if (along_x) {
        u.push_back(lo_x + t);
        v.push_back(static_cast<int>(lo_y + slope * t + .5));
      } else {
        v.push_back(lo_y + t);
        u.push_back(static_cast<int>(lo_x + slope * t + .5));
      }
    }
  }

  // Where the boundary steps from one fine column to the next it crosses the pixel-centre line
  // of an image column iff that fine boundary sits at a centre ((xd + .5) / 5 - .5 integral).
  // The crossing toggles the mask from row ceil(y) of that column on, y taken from the lower
  // (smaller) of the two fine rows and clamped to [0, h].
  std::vector<uint64_t> toggles;
  for (size_t j = 1; j < u.size(); ++j) {
    if (u[j] == u[j - 1]) continue;
    double xd = static_cast<double>(u[j] < u[j - 1] ? u[j] : u[j] - 1);
    xd = (xd + .5) / kScale - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > static_cast<double>(w - 1)) continue;
    double yd = static_cast<double>(std::min(v[j], v[j - 1]));
    yd = (yd + .5) / kScale - .5;
    yd = std::ceil(std::clamp(yd, 0.0, static_cast<double>(h)));
    toggles.push_back(static_cast<uint64_t>(xd) * static_cast<uint64_t>(h) +
                      static_cast<uint64_t>(yd));
  }
  std::sort(toggles.begin(), toggles.end());

  // Runs between toggles; an even number of toggles at one position cancels.
  RunBuilder runs;
  const uint64_t pixels = static_cast<uint64_t>(h) * static_cast<uint64_t>(w);
  bool value = false;
  uint64_t pos = 0;
  for (uint64_t t : toggles) {
    runs.push(value, t - pos);
    pos = t;
    value = !value;
  }
  runs.push(value, pixels - pos);
  return Rle{h, w, runs.finish()};
}

Rle rle_from_polygons(const std::vector<Polygon>& polygons, int64_t h, int64_t w) {
  if (polygons.empty()) {
    check_size(h, w, "rle_from_polygons");
    return Rle{h, w, {static_cast<uint32_t>(h * w)}};
  }
  std::vector<Rle> rles;
  rles.reserve(polygons.size());
  for (const Polygon& p : polygons) rles.push_back(rle_from_polygon(p, h, w));
  return rle_merge(rles);
}

Rle rle_from_box(const BoxXywh& box, int64_t h, int64_t w) {
  const double x0 = box[0], y0 = box[1], x1 = box[0] + box[2], y1 = box[1] + box[3];
  const double xy[] = {x0, y0, x0, y1, x1, y1, x1, y0};
  return rle_from_polygon(xy, h, w);
}

Rle rle_from_polygon_list(const std::vector<Polygon>& polygons, int64_t h, int64_t w) {
  if (polygons.empty() || polygons[0].size() != 4) return rle_from_polygons(polygons, h, w);
  std::vector<Rle> boxes;
  for (const Polygon& p : polygons) {
    SPLAT_CHECK(p.size() == 4,
                "the first polygon has 4 numbers (read as a box, as pycocotools) "
                "but another has ",
                p.size());
    boxes.push_back(rle_from_box({p[0], p[1], p[2], p[3]}, h, w));
  }
  return rle_merge(boxes);
}

Rle rle_encode(const Tensor& mask) {
  SPLAT_CHECK(mask.defined() && mask.dim() == 2, "rle_encode: mask must be (H, W), got ",
              mask.defined() ? shape_str(mask.shape()) : std::string("an undefined tensor"));
  SPLAT_CHECK(mask.dtype() == DType::u8 || mask.dtype() == DType::b8,
              "rle_encode: mask must be u8 or b8, got ", dtype_name(mask.dtype()));
  SPLAT_CHECK(mask.device().is_cpu(), "rle_encode: mask must be on the CPU");
  const int64_t h = mask.size(0), w = mask.size(1);
  check_size(h, w, "rle_encode");
  // b8 and u8 are both one byte; any nonzero byte is foreground.
  const auto* p = static_cast<const uint8_t*>(mask.raw_data());
  const int64_t sy = mask.stride(0), sx = mask.stride(1);
  RunBuilder runs;
  for (int64_t x = 0; x < w; ++x) {
    const uint8_t* col = p + x * sx;
    int64_t y = 0;
    while (y < h) {
      const bool value = col[y * sy] != 0;
      int64_t end = y + 1;
      while (end < h && (col[end * sy] != 0) == value) ++end;
      runs.push(value, static_cast<uint64_t>(end - y));
      y = end;
    }
  }
  return Rle{h, w, runs.finish()};
}

void rle_decode_into(const Rle& rle, std::span<uint8_t> out) {
  check_rle(rle, "rle_decode");
  const uint64_t h = static_cast<uint64_t>(rle.height), w = static_cast<uint64_t>(rle.width);
  SPLAT_CHECK(out.size() == h * w, "rle_decode: output has ", out.size(), " bytes, the mask ", h,
              "x", w, " needs ", h * w);
  std::memset(out.data(), 0, out.size());
  uint64_t pos = 0;
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    uint64_t left = rle.counts[i];
    if (i % 2 == 1) {
      // Column-major run into the row-major buffer: one column segment at a time.
      while (left > 0) {
        const uint64_t x = pos / h, y = pos % h, n = std::min(left, h - y);
        uint8_t* dst = out.data() + y * w + x;
        for (uint64_t k = 0; k < n; ++k) dst[k * w] = 1;
        pos += n;
        left -= n;
      }
    } else {
      pos += left;
    }
  }
}

Tensor rle_decode(const Rle& rle) {
  check_rle(rle, "rle_decode");
  Tensor out = Tensor::empty({rle.height, rle.width}, DType::u8);
  rle_decode_into(rle, {out.data<uint8_t>(), static_cast<size_t>(out.numel())});
  return out;
}

uint64_t rle_area(const Rle& rle) {
  uint64_t area = 0;
  for (size_t i = 1; i < rle.counts.size(); i += 2) area += rle.counts[i];
  return area;
}

Rle rle_merge(const std::vector<Rle>& rles, bool intersect) {
  SPLAT_CHECK(!rles.empty(), "rle_merge: no masks to merge");
  for (const Rle& r : rles) {
    check_rle(r, "rle_merge");
    check_same_size(rles[0], r, "rle_merge");
  }
  Rle acc = rles[0];
  for (size_t i = 1; i < rles.size(); ++i) {
    RunBuilder runs;
    sweep(acc, rles[i],
          [&](bool a, bool b, uint64_t n) { runs.push(intersect ? (a && b) : (a || b), n); });
    acc.counts = runs.finish();
  }
  return acc;
}

BoxXywh rle_to_bbox(const Rle& rle) {
  // pycocotools' toBbox: only whole (0s, 1s) pairs count, and for each 1s run its first and last
  // pixel (in uint32 arithmetic, as pycocotools) enter the box; a run spanning two columns makes
  // the box full height.
  const size_t m = rle.counts.size() / 2 * 2;
  if (m == 0 || rle.height == 0 || rle.width == 0) return {0, 0, 0, 0};
  const uint32_t h = static_cast<uint32_t>(rle.height), w = static_cast<uint32_t>(rle.width);
  uint32_t xs = w, ys = h, xe = 0, ye = 0, cc = 0, x_start = 0;
  for (size_t j = 0; j < m; ++j) {
    cc += rle.counts[j];
    const uint32_t t = cc - static_cast<uint32_t>(j % 2); // run start, or last pixel of a 1s run
    const uint32_t y = t % h, x = (t - y) / h;
    if (j % 2 == 0) {
      x_start = x;
    } else if (x_start < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = std::min(xs, x);
    xe = std::max(xe, x);
    ys = std::min(ys, y);
    ye = std::max(ye, y);
  }
  return {static_cast<double>(xs), static_cast<double>(ys), static_cast<double>(xe - xs + 1),
          static_cast<double>(ye - ys + 1)};
}

std::vector<double> box_iou(const std::vector<BoxXywh>& dt, const std::vector<BoxXywh>& gt,
                            const std::vector<bool>& iscrowd) {
  SPLAT_CHECK(iscrowd.empty() || iscrowd.size() == gt.size(), "box_iou: ", iscrowd.size(),
              " iscrowd flags for ", gt.size(), " ground truths");
  std::vector<double> out(dt.size() * gt.size(), 0.0);
  for (size_t d = 0; d < dt.size(); ++d) {
    const BoxXywh& D = dt[d];
    const double da = D[2] * D[3];
    for (size_t g = 0; g < gt.size(); ++g) {
      const BoxXywh& G = gt[g];
      const double iw = std::fmin(D[2] + D[0], G[2] + G[0]) - std::fmax(D[0], G[0]);
      if (iw <= 0) continue;
      const double ih = std::fmin(D[3] + D[1], G[3] + G[1]) - std::fmax(D[1], G[1]);
      if (ih <= 0) continue;
      const double inter = iw * ih;
      const bool crowd = !iscrowd.empty() && iscrowd[g];
      out[d * gt.size() + g] = inter / (crowd ? da : da + G[2] * G[3] - inter);
    }
  }
  return out;
}

std::vector<double> rle_iou(const std::vector<Rle>& dt, const std::vector<Rle>& gt,
                            const std::vector<bool>& iscrowd) {
  SPLAT_CHECK(iscrowd.empty() || iscrowd.size() == gt.size(), "rle_iou: ", iscrowd.size(),
              " iscrowd flags for ", gt.size(), " ground truths");
  std::vector<BoxXywh> db, gb;
  for (const Rle& r : dt) {
    check_rle(r, "rle_iou");
    db.push_back(rle_to_bbox(r));
  }
  for (const Rle& r : gt) {
    check_rle(r, "rle_iou");
    gb.push_back(rle_to_bbox(r));
  }
  std::vector<double> out = box_iou(db, gb, iscrowd);
  for (size_t d = 0; d < dt.size(); ++d) {
    for (size_t g = 0; g < gt.size(); ++g) {
      double& o = out[d * gt.size() + g];
      if (o <= 0) continue; // boxes apart: the masks are too
      check_same_size(dt[d], gt[g], "rle_iou");
      uint64_t inter = 0, uni = 0;
      sweep(dt[d], gt[g], [&](bool a, bool b, uint64_t n) {
        if (a || b) uni += n;
        if (a && b) inter += n;
      });
      const bool crowd = !iscrowd.empty() && iscrowd[g];
      if (inter == 0) {
        o = 0;
      } else {
        if (crowd) uni = rle_area(dt[d]);
        o = static_cast<double>(inter) / static_cast<double>(uni);
      }
    }
  }
  return out;
}

std::string rle_to_string(const Rle& rle) {
  std::string s;
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    int64_t x = rle.counts[i];
    if (i > 2) x -= rle.counts[i - 2];
    for (bool more = true; more;) {
      int c = static_cast<int>(x & 0x1f);
      x >>= 5; // arithmetic: negative deltas end with a group whose bit 4 is set
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

Rle rle_from_string(std::string_view s, int64_t h, int64_t w) {
  constexpr std::string_view what = "rle_from_string";
  check_size(h, w, what);
  std::vector<uint32_t> counts;
  size_t p = 0;
  while (p < s.size()) {
    const size_t start = p;
    int64_t x = 0;
    int shift = 0;
    for (bool more = true; more; shift += 5) {
      SPLAT_CHECK(p < s.size(), what, ": string ends inside the count starting at character ",
                  start);
      const int c = static_cast<unsigned char>(s[p]) - 48;
      SPLAT_CHECK(c >= 0 && c < 64, what, ": character ", p, " ('", s[p],
                  "') is outside the alphabet '0'..'o'");
      SPLAT_CHECK(shift <= 55, what, ": the count starting at character ", start, " is too long");
      ++p;
      x |= static_cast<int64_t>(c & 0x1f) << shift;
      more = (c & 0x20) != 0;
      if (!more && (c & 0x10)) x |= static_cast<int64_t>(-1) * (int64_t{1} << (shift + 5));
    }
    if (counts.size() > 2) x += counts[counts.size() - 2];
    SPLAT_CHECK(x >= 0 && x <= static_cast<int64_t>(kMaxPixels), what, ": count ", counts.size(),
                " decodes to ", x);
    counts.push_back(static_cast<uint32_t>(x));
  }
  Rle rle{h, w, std::move(counts)};
  check_rle(rle, what);
  return rle;
}

} // namespace splat::data
