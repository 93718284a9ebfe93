// The COCO reader (see coco.h). simdjson's on-demand parser walks the document once and every
// value is converted as it is met into the compact tables; ids are resolved after the walk
// because COCO files list "categories" after "annotations".
#include "data/coco.h"

#include "core/error.h"
#include "data/json_read.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <type_traits>

namespace splat::data {

namespace od = simdjson::ondemand;
using namespace json;

namespace {

// Byte classes for AnnotationSplitter's scan.
constexpr std::array<bool, 256> byte_table(std::string_view chars) {
  std::array<bool, 256> table{};
  for (char c : chars) table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> kStops = byte_table("\"{}[]");
constexpr std::array<bool, 256> kStopsAndCommas = byte_table("\"{}[],");

// Splits a COCO text, fed block by block, into the elements of its "annotations" array, handed
// on in pieces of about chunk_bytes (whole elements, separated by commas), and the rest of the
// document, kept with that array empty. simdjson indexes a whole document before walking it (4
// bytes per structural character: about the size of COCO's text again), and the annotations are
// nearly all of the text, so parsing them piece by piece as the file is read keeps peak memory
// near the size of the converted tables. The scan follows only strings and nesting: valid JSON
// is split correctly, and text it finds unbalanced is parsed again as one document, whose
// errors are precise.
class AnnotationSplitter {
public:
  using OnPiece = std::function<void(std::string_view elements)>;
  AnnotationSplitter(size_t chunk_bytes, OnPiece on_piece)
      : chunk_bytes_(chunk_bytes), on_piece_(std::move(on_piece)) {}

  void feed(std::string_view t) {
    size_t seg = 0; // start of the bytes not yet copied to their destination
    auto flush_to = [&](size_t end) {
      (inside_ ? piece_ : rest_).append(t.substr(seg, end - seg));
      seg = end;
    };
    for (size_t p = 0; p < t.size(); ++p) {
      const char c = t[p];
      if (in_string_) {
        if (escape_) {
          escape_ = false;
        } else if (c == '\\') {
          escape_ = true;
        } else if (c == '"') {
          in_string_ = false;
          if (depth_ == 1) last_key_.swap(key_);
        } else if (depth_ == 1 && key_.size() < 16) {
          key_.push_back(c);
        }
        continue;
      }
      // Only quotes and brackets matter, and commas between the annotations: skip the rest
      // (numbers, nearly all of the text) in a tight loop.
      const std::array<bool, 256>& stops = inside_ && depth_ == 2 ? kStopsAndCommas : kStops;
      if (!stops[static_cast<unsigned char>(c)]) {
        while (p + 1 < t.size() && !stops[static_cast<unsigned char>(t[p + 1])]) ++p;
        continue;
      }
      switch (c) {
      case '"':
        in_string_ = true;
        key_.clear();
        break;
      case '{':
      case '[':
        ++depth_;
        if (depth_ == 2 && c == '[' && last_key_ == "annotations" && !done_) {
          flush_to(p + 1); // the '[' stays in the rest
          inside_ = true;
        }
        break;
      case '}':
      case ']':
        if (depth_ == 2 && inside_) {
          flush_to(p);
          emit();
          inside_ = false;
          done_ = true;
        }
        if (--depth_ < 0) balanced_ = false;
        break;
      case ',':
        if (inside_ && depth_ == 2 && piece_.size() + (p - seg) >= chunk_bytes_) {
          flush_to(p);
          emit();
          seg = p + 1; // the separator is dropped
        }
        break;
      default: break;
      }
    }
    flush_to(t.size());
  }

  // The document without the annotations' elements; nullopt if the text was unbalanced.
  std::optional<std::string> finish() {
    if (!balanced_ || depth_ != 0 || in_string_ || inside_) return std::nullopt;
    return std::move(rest_);
  }

private:
  void emit() {
    if (!piece_.empty()) on_piece_(piece_);
    piece_.clear();
  }
  size_t chunk_bytes_;
  OnPiece on_piece_;
  std::string rest_, piece_, key_, last_key_;
  int64_t depth_ = 0;
  bool in_string_ = false, escape_ = false, inside_ = false, done_ = false, balanced_ = true;
};

} // namespace

// Builds a CocoDataset from a parsed document (friend of CocoDataset).
class CocoBuilder {
public:
  CocoBuilder(CocoDataset& d, const std::string& name) : d_(d) { d_.name_ = name; }

  void parse(od::document& doc) {
    const Where root{d_.name_, "", 0};
    od::object obj;
    if (auto e = doc.get_object().get(obj); e != simdjson::SUCCESS)
      root.fail("", str("expected a JSON object (", simdjson::error_message(e), ")"));
    Required<2> req{{"images", "categories"}};
    for_each_field(obj, root, [&](std::string_view key, od::value v) {
      if (key == "images") {
        req.mark(0);
        parse_array(v, "images", [&](od::object& o, const Where& w) { image(o, w); });
      } else if (key == "categories") {
        req.mark(1);
        parse_array(v, "categories", [&](od::object& o, const Where& w) { category(o, w); });
      } else if (key == "annotations") {
        parse_array(v, "annotations", [&](od::object& o, const Where& w) { annotation(o, w); });
      }
    });
    req.check(root);
    resolve();
  }

  // Parses a piece of the annotations array: elements separated by commas.
  void parse_annotation_piece(std::string_view elements, od::parser& parser, std::string& buf) {
    buf.assign(1, '[');
    buf.append(elements);
    buf.push_back(']');
    const size_t len = buf.size();
    buf.resize(len + simdjson::SIMDJSON_PADDING, ' ');
    const Where at_first{d_.name_, "annotations", d_.annotations_.size()};
    od::document doc;
    if (auto e = parser.iterate(simdjson::padded_string_view(buf.data(), len, buf.size())).get(doc);
        e != simdjson::SUCCESS)
      at_first.fail("", str("malformed JSON (", simdjson::error_message(e), ")"));
    od::array arr;
    check_ok(doc.get_array().get(arr), at_first, "");
    for (auto element : arr) {
      const Where w{d_.name_, "annotations", d_.annotations_.size()};
      od::value v;
      check_ok(std::move(element).get(v), w, "");
      od::object o = read<od::object>(v, w, "");
      annotation(o, w);
    }
  }

private:
  template <class F> void parse_array(od::value& v, std::string_view name, F&& f) {
    const Where top{d_.name_, "", 0};
    od::array arr = read<od::array>(v, top, name);
    for_each_element(arr, top, name, [&](size_t i, od::value& element) {
      const Where w{d_.name_, name, i};
      od::object o = read<od::object>(element, w, "");
      f(o, w);
    });
  }

  void image(od::object& o, const Where& w) {
    CocoImage im;
    Required<4> req{{"id", "file_name", "height", "width"}};
    for_each_field(o, w, [&](std::string_view key, od::value v) {
      if (key == "id") {
        im.id = read<int64_t>(v, w, key), req.mark(0);
      } else if (key == "file_name") {
        im.file_name = read<std::string_view>(v, w, key), req.mark(1);
      } else if (key == "height") {
        im.height = read<int64_t>(v, w, key), req.mark(2);
        if (im.height <= 0) w.fail(key, str(im.height, " is not positive"));
      } else if (key == "width") {
        im.width = read<int64_t>(v, w, key), req.mark(3);
        if (im.width <= 0) w.fail(key, str(im.width, " is not positive"));
      }
    });
    req.check(w);
    d_.images_.push_back(std::move(im));
  }

  void category(od::object& o, const Where& w) {
    CocoCategory c;
    Required<2> req{{"id", "name"}};
    for_each_field(o, w, [&](std::string_view key, od::value v) {
      if (key == "id") {
        c.id = read<int64_t>(v, w, key), req.mark(0);
      } else if (key == "name") {
        c.name = read<std::string_view>(v, w, key), req.mark(1);
      }
    });
    req.check(w);
    d_.categories_.push_back(std::move(c));
  }

  void annotation(od::object& o, const Where& w) {
    CocoAnnotation a;
    CocoDataset::SegRef seg;
    Required<5> req{{"id", "image_id", "category_id", "bbox", "area"}};
    for_each_field(o, w, [&](std::string_view key, od::value v) {
      if (key == "id") {
        a.id = read<int64_t>(v, w, key), req.mark(0);
      } else if (key == "image_id") {
        a.image_id = read<int64_t>(v, w, key), req.mark(1);
      } else if (key == "category_id") {
        a.category_id = read<int64_t>(v, w, key), req.mark(2);
      } else if (key == "bbox") {
        a.bbox = read_bbox(v, w), req.mark(3);
      } else if (key == "area") {
        a.area = read<double>(v, w, key), req.mark(4);
      } else if (key == "iscrowd") {
        a.iscrowd = read_flag(v, w, key);
      } else if (key == "ignore") {
        a.ignore = read_flag(v, w, key);
      } else if (key == "segmentation") {
        seg = segmentation(v, w);
      }
    });
    req.check(w);
    d_.annotations_.push_back(a);
    d_.segs_.push_back(seg);
  }

  CocoDataset::SegRef segmentation(od::value& v, const Where& w) {
    const od::json_type t = type_of(v, w, "segmentation");
    CocoDataset::SegRef seg;
    if (t == od::json_type::array) {
      seg.kind = CocoDataset::SegKind::polygons;
      seg.first = d_.polygons_.size();
      od::array polys = read<od::array>(v, w, "segmentation");
      for_each_element(polys, w, "segmentation", [&](size_t i, od::value& p) {
        const Field field("segmentation", static_cast<int64_t>(i));
        od::array coords = read<od::array>(p, w, field);
        scratch_.clear();
        for_each_element(coords, w, field, [&](size_t j, od::value& x) {
          scratch_.push_back(read<double>(x, w, field.at(j)));
        });
        if (scratch_.size() % 2 != 0)
          w.fail(field, str("polygon has ", scratch_.size(), " coordinates, expected x, y pairs"));
        add_polygon(scratch_);
        ++seg.count;
      });
    } else if (t == od::json_type::object) {
      seg.kind = CocoDataset::SegKind::rle;
      const Rle rle = read_rle(v, w);
      seg.rle_h = rle.height;
      seg.rle_w = rle.width;
      seg.first = d_.rle_counts_.size();
      seg.count = static_cast<uint32_t>(rle.counts.size());
      d_.rle_counts_.insert(d_.rle_counts_.end(), rle.counts.begin(), rle.counts.end());
    } else {
      w.fail("segmentation",
             str("expected a list of polygons or an RLE object, got ", token_of(v)));
    }
    return seg;
  }

  // Sorts categories by id, checks ids are unique and resolves annotation references.
  void resolve() {
    const std::string& file = d_.name_;
    const size_t n_images = d_.images_.size();
    SPLAT_CHECK(n_images <= std::numeric_limits<uint32_t>::max(), file, ": too many images");
    auto& ids = d_.image_ids_sorted_;
    ids.resize(n_images);
    for (size_t i = 0; i < n_images; ++i) ids[i] = {d_.images_[i].id, static_cast<uint32_t>(i)};
    std::sort(ids.begin(), ids.end());
    for (size_t i = 1; i < ids.size(); ++i)
      if (ids[i].first == ids[i - 1].first)
        Where{file, "images", ids[i].second}.fail(
            "id",
            str("duplicate image id ", ids[i].first, " (also images[", ids[i - 1].second, "])"));

    std::vector<size_t> order(d_.categories_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return d_.categories_[a].id < d_.categories_[b].id;
    });
    std::vector<CocoCategory> sorted;
    for (size_t i : order) sorted.push_back(std::move(d_.categories_[i]));
    for (size_t i = 1; i < sorted.size(); ++i)
      if (sorted[i].id == sorted[i - 1].id)
        Where{file, "categories", std::max(order[i], order[i - 1])}.fail(
            "id", str("duplicate category id ", sorted[i].id, " (also categories[",
                      std::min(order[i], order[i - 1]), "])"));
    d_.categories_ = std::move(sorted);

    std::vector<uint64_t> per_image(n_images + 1, 0);
    for (size_t k = 0; k < d_.annotations_.size(); ++k) {
      CocoAnnotation& a = d_.annotations_[k];
      const Where w{file, "annotations", k};
      const auto image = d_.image_index_of(a.image_id);
      if (!image) w.fail("image_id", str("unknown image id ", a.image_id));
      const auto cat =
          std::lower_bound(d_.categories_.begin(), d_.categories_.end(), a.category_id,
                           [](const CocoCategory& c, int64_t id) { return c.id < id; });
      if (cat == d_.categories_.end() || cat->id != a.category_id)
        w.fail("category_id", str("unknown category id ", a.category_id));
      a.image_index = static_cast<uint32_t>(*image);
      a.label = static_cast<uint32_t>(cat - d_.categories_.begin());
      const CocoDataset::SegRef& s = d_.segs_[k];
      const CocoImage& im = d_.images_[*image];
      if (s.kind == CocoDataset::SegKind::rle && (s.rle_h != im.height || s.rle_w != im.width))
        w.fail("segmentation.size", str("[", s.rle_h, ", ", s.rle_w, "] differs from image ", im.id,
                                        "'s [height, width] [", im.height, ", ", im.width, "]"));
      ++per_image[*image + 1];
    }
    // Group annotation indices by image (counting sort keeps file order within an image).
    for (size_t i = 0; i < n_images; ++i) per_image[i + 1] += per_image[i];
    d_.ann_by_image_.resize(d_.annotations_.size());
    std::vector<uint64_t> next(per_image.begin(), per_image.end() - 1);
    for (size_t k = 0; k < d_.annotations_.size(); ++k)
      d_.ann_by_image_[next[d_.annotations_[k].image_index]++] = static_cast<uint32_t>(k);
    d_.ann_by_image_start_ = std::move(per_image);
  }

  // Copies a polygon into the coordinate blocks: each polygon contiguous inside one block, and
  // blocks never move, so the coordinates (most of the memory) grow without the transient copy
  // of a doubling vector. A block's unused tail is never written, so it takes no physical memory.
  void add_polygon(std::span<const double> xy) {
    constexpr size_t kBlockDoubles = size_t{1} << 20;
    if (d_.coord_blocks_.empty() || block_used_ + xy.size() > block_capacity_) {
      block_capacity_ = std::max(kBlockDoubles, xy.size());
      d_.coord_blocks_.emplace_back(new double[block_capacity_]);
      block_used_ = 0;
    }
    double* dst = d_.coord_blocks_.back().get() + block_used_;
    std::copy(xy.begin(), xy.end(), dst);
    block_used_ += xy.size();
    d_.polygons_.push_back({dst, xy.size()});
  }

  CocoDataset& d_;
  std::vector<double> scratch_;
  size_t block_used_ = 0, block_capacity_ = 0;
};

namespace {

// Walks a whole document (text is padded in place).
void parse_document(CocoBuilder& builder, std::string& text, const std::string& name) {
  const size_t size = text.size();
  text.resize(size + simdjson::SIMDJSON_PADDING, ' ');
  od::parser parser;
  od::document doc;
  if (auto e =
          parser.iterate(simdjson::padded_string_view(text.data(), size, text.size())).get(doc);
      e != simdjson::SUCCESS)
    throw Error(str(name, ": malformed JSON (", simdjson::error_message(e), ")"));
  builder.parse(doc);
}

// Parses the document delivered by read(block) (which returns the bytes it put in block, 0 at the
// end); reread() gives the whole text again when it must be parsed as one document.
template <class Read, class Reread>
CocoDataset parse_blocks(const std::string& name, size_t chunk_bytes, Read&& read,
                         Reread&& reread) {
  CocoDataset d;
  CocoBuilder builder(d, name);
  od::parser piece_parser;
  std::string piece_buf;
  AnnotationSplitter splitter(chunk_bytes, [&](std::string_view elements) {
    builder.parse_annotation_piece(elements, piece_parser, piece_buf);
  });
  std::string block(std::max<size_t>(chunk_bytes, 1), '\0'); // small in tests: crosses tokens
  for (size_t n; (n = read(block)) > 0;) splitter.feed(std::string_view(block.data(), n));
  if (std::optional<std::string> rest = splitter.finish()) {
    parse_document(builder, *rest, name);
    return d;
  }
  CocoDataset whole; // unbalanced text: simdjson's verdict on the whole document
  CocoBuilder whole_builder(whole, name);
  std::string text = reread();
  parse_document(whole_builder, text, name);
  return whole;
}

} // namespace

CocoDataset CocoDataset::parse(std::string_view json, const std::string& name, size_t chunk_bytes) {
  size_t pos = 0;
  return parse_blocks(
      name, chunk_bytes,
      [&](std::string& block) {
        const size_t n = std::min(block.size(), json.size() - pos);
        std::copy_n(json.data() + pos, n, block.data());
        pos += n;
        return n;
      },
      [&] { return std::string(json); });
}

CocoDataset CocoDataset::load(const std::string& json_path) {
  std::ifstream in(json_path, std::ios::binary);
  SPLAT_CHECK(in, json_path, ": cannot open the file (", std::strerror(errno), ")");
  auto read = [&](std::string& block) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    SPLAT_CHECK(!in.bad(), json_path, ": cannot read the file");
    return static_cast<size_t>(in.gcount());
  };
  auto reread = [&] {
    in.clear();
    in.seekg(0);
    std::string all;
    std::string block(size_t{1} << 20, '\0');
    for (size_t n; (n = read(block)) > 0;) all.append(block.data(), n);
    return all;
  };
  return parse_blocks(json_path, kDefaultChunkBytes, read, reread);
}

std::span<const uint32_t> CocoDataset::annotations_of(size_t image_index) const {
  SPLAT_CHECK(image_index < images_.size(), name_, ": image index ", image_index, " out of range (",
              images_.size(), " images)");
  const uint64_t b = ann_by_image_start_[image_index], e = ann_by_image_start_[image_index + 1];
  return {ann_by_image_.data() + b, static_cast<size_t>(e - b)};
}

uint32_t CocoDataset::label_of(int64_t category_id) const {
  const auto it = std::lower_bound(categories_.begin(), categories_.end(), category_id,
                                   [](const CocoCategory& c, int64_t id) { return c.id < id; });
  SPLAT_CHECK(it != categories_.end() && it->id == category_id, name_, ": unknown category id ",
              category_id);
  return static_cast<uint32_t>(it - categories_.begin());
}

std::optional<size_t> CocoDataset::image_index_of(int64_t image_id) const {
  const auto it = std::lower_bound(
      image_ids_sorted_.begin(), image_ids_sorted_.end(), image_id,
      [](const std::pair<int64_t, uint32_t>& p, int64_t id) { return p.first < id; });
  if (it == image_ids_sorted_.end() || it->first != image_id) return std::nullopt;
  return it->second;
}

bool CocoDataset::has_segmentation(size_t ann) const {
  SPLAT_CHECK(ann < segs_.size(), name_, ": annotation index ", ann, " out of range (",
              segs_.size(), " annotations)");
  return segs_[ann].kind != SegKind::none;
}

Segmentation CocoDataset::segmentation(size_t ann) const {
  has_segmentation(ann); // bounds check
  const SegRef& s = segs_[ann];
  Segmentation out;
  if (s.kind == SegKind::polygons) {
    for (uint64_t p = s.first; p < s.first + s.count; ++p)
      out.polygons.emplace_back(polygons_[p].data, polygons_[p].data + polygons_[p].size);
  } else if (s.kind == SegKind::rle) {
    out.rle =
        Rle{s.rle_h, s.rle_w,
            std::vector<uint32_t>(rle_counts_.begin() + static_cast<ptrdiff_t>(s.first),
                                  rle_counts_.begin() + static_cast<ptrdiff_t>(s.first + s.count))};
  }
  return out;
}

Rle CocoDataset::rle(size_t ann) const {
  SPLAT_CHECK(has_segmentation(ann), name_, ": annotations[", ann, "] has no segmentation");
  Segmentation seg = segmentation(ann);
  if (seg.rle) return std::move(*seg.rle);
  const CocoImage& im = images_[annotations_[ann].image_index];
  try {
    return rle_from_polygon_list(seg.polygons, im.height, im.width);
  } catch (const Error& e) {
    throw Error(str(name_, ": annotations[", ann, "].segmentation: ", e.what()));
  }
}

AnnotationRole annotation_role(const CocoDataset& coco, size_t ann) {
  const CocoAnnotation& a = coco.annotations().at(ann);
  const CocoImage& im = coco.images()[a.image_index];
  if (a.ignore) return AnnotationRole::skipped;
  const auto [x, y, w, h] = a.bbox;
  const double inter_w =
      std::max(0.0, std::min(x + w, static_cast<double>(im.width)) - std::max(x, 0.0));
  const double inter_h =
      std::max(0.0, std::min(y + h, static_cast<double>(im.height)) - std::max(y, 0.0));
  if (inter_w * inter_h == 0) return AnnotationRole::skipped;
  if (a.area <= 0 || w < 1 || h < 1) return AnnotationRole::skipped;
  return a.iscrowd ? AnnotationRole::ignore_box : AnnotationRole::object;
}

std::vector<size_t> training_images(const CocoDataset& coco, int64_t min_size) {
  std::vector<size_t> out;
  for (size_t i = 0; i < coco.images().size(); ++i) {
    const CocoImage& im = coco.images()[i];
    if (!coco.annotations_of(i).empty() && std::min(im.width, im.height) >= min_size)
      out.push_back(i);
  }
  return out;
}

} // namespace splat::data
