// The COCO results reader (see detection_results.h): simdjson's on-demand parser over the whole
// text; each object is read into a RawResult and converted at once by the kind the first one set.
#include "train/eval/detection_results.h"

#include "core/error.h"
#include "data/json_read.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <variant>

namespace splat::train {
namespace {

namespace od = simdjson::ondemand;
using namespace data::json;

// One result object as written, before loadRes's conversion.
struct RawResult {
  std::optional<int64_t> image_id, category_id;
  std::optional<double> score;
  std::optional<std::vector<double>> bbox; // any length as read; [] marks a segm result
  std::variant<std::monostate, data::Rle, std::vector<data::Polygon>> segmentation;
};

std::vector<double> numbers(od::value& v, const Where& w, const Field& field) {
  std::vector<double> out;
  od::array arr = read<od::array>(v, w, field);
  for_each_element(arr, w, field,
                   [&](size_t i, od::value& x) { out.push_back(read<double>(x, w, field.at(i))); });
  return out;
}

RawResult read_raw(od::object& o, const Where& w) {
  RawResult r;
  for_each_field(o, w, [&](std::string_view key, od::value v) {
    if (key == "image_id") {
      r.image_id = read<int64_t>(v, w, key);
    } else if (key == "category_id") {
      r.category_id = read<int64_t>(v, w, key);
    } else if (key == "score") {
      r.score = read<double>(v, w, key);
    } else if (key == "bbox") {
      r.bbox = numbers(v, w, key);
    } else if (key == "segmentation") {
      const od::json_type t = type_of(v, w, key);
      if (t == od::json_type::object) {
        r.segmentation = read_rle(v, w);
      } else if (t == od::json_type::array) {
        std::vector<data::Polygon> polygons;
        od::array arr = read<od::array>(v, w, key);
        for_each_element(arr, w, key, [&](size_t i, od::value& p) {
          polygons.push_back(numbers(p, w, Field(key, static_cast<int64_t>(i))));
        });
        r.segmentation = std::move(polygons);
      } else {
        w.fail(key, str("expected an RLE object or a list of polygons, got ", token_of(v)));
      }
    }
  });
  auto need = [&](bool present, const char* name) {
    if (!present) w.fail("", str("missing field \"", name, "\""));
  };
  need(r.image_id.has_value(), "image_id");
  need(r.category_id.has_value(), "category_id");
  need(r.score.has_value(), "score");
  return r;
}

enum class Kind { unknown, bbox, segm };

class Converter {
public:
  Converter(const std::string& name, const data::CocoDataset& gt, IouType iou_type)
      : name_(name), gt_(gt), iou_type_(iou_type) {}

  Detection convert(RawResult& r, size_t index, const Where& w) {
    if (kind_ == Kind::unknown) {
      if (r.bbox && !r.bbox->empty())
        kind_ = Kind::bbox;
      else if (!std::holds_alternative<std::monostate>(r.segmentation))
        kind_ = Kind::segm;
      else
        w.fail("", "neither a bbox nor a segmentation (the first result sets which results "
                   "these are)");
    }
    Detection d;
    d.id = static_cast<int64_t>(index) + 1;
    d.category_id = *r.category_id;
    d.score = *r.score;
    const auto image = gt_.image_index_of(*r.image_id);
    if (!image)
      w.fail("image_id", str("image id ", *r.image_id, " is not an image of ", gt_.name()));
    d.image_index = static_cast<uint32_t>(*image);
    const data::CocoImage& im = gt_.images()[*image];
    if (r.bbox) d.bbox = box(*r.bbox, w);

    if (kind_ == Kind::bbox) {
      if (!r.bbox) w.fail("", "missing field \"bbox\" (the first result has one)");
      d.area = d.bbox[2] * d.bbox[3];
      if (iou_type_ == IouType::segm) d.mask = mask_of(r, im, d.bbox, w);
    } else {
      auto* rle = std::get_if<data::Rle>(&r.segmentation);
      if (!rle)
        w.fail("segmentation", std::holds_alternative<std::monostate>(r.segmentation)
                                   ? "missing (the first result has a segmentation and no bbox)"
                                   : "expected an RLE object, as the first result has no bbox");
      check_size(*rle, im, w);
      d.area = static_cast<double>(data::rle_area(*rle));
      if (!r.bbox) d.bbox = data::rle_to_bbox(*rle);
      if (iou_type_ == IouType::segm) d.mask = std::move(*rle);
    }
    return d;
  }

private:
  static data::BoxXywh box(const std::vector<double>& b, const Where& w) {
    if (b.size() != 4) w.fail("bbox", str("expected 4 numbers [x, y, w, h], got ", b.size()));
    return {b[0], b[1], b[2], b[3]};
  }

  void check_size(const data::Rle& rle, const data::CocoImage& im, const Where& w) const {
    if (rle.height != im.height || rle.width != im.width)
      w.fail("segmentation.size",
             str("[", rle.height, ", ", rle.width, "] differs from image ", im.id,
                 "'s [height, width] [", im.height, ", ", im.width, "] in ", gt_.name()));
  }

  // COCO.annToRLE of a bbox result's segmentation: the RLE, the polygons, or (none given)
  // loadRes's polygon of the box.
  data::Rle mask_of(RawResult& r, const data::CocoImage& im, const data::BoxXywh& b,
                    const Where& w) const {
    if (auto* rle = std::get_if<data::Rle>(&r.segmentation)) {
      check_size(*rle, im, w);
      return std::move(*rle);
    }
    try {
      if (auto* polygons = std::get_if<std::vector<data::Polygon>>(&r.segmentation))
        return data::rle_from_polygon_list(*polygons, im.height, im.width);
      return data::rle_from_box(b, im.height, im.width);
    } catch (const Error& e) {
      w.fail("segmentation", e.what());
    }
  }

  const std::string& name_;
  const data::CocoDataset& gt_;
  IouType iou_type_;
  Kind kind_ = Kind::unknown; // set by the first result
};

// Parses `text`, padding it in place for simdjson.
DetectionResults parse_text(std::string& text, const std::string& name, const data::CocoDataset& gt,
                            IouType iou_type) {
  const size_t size = text.size();
  text.resize(size + simdjson::SIMDJSON_PADDING, ' ');
  const Where root{name, "", 0};
  od::parser parser;
  od::document doc;
  check_ok(parser.iterate(simdjson::padded_string_view(text.data(), size, text.size())).get(doc),
           root, "");
  od::array arr;
  if (auto e = doc.get_array().get(arr); e != simdjson::SUCCESS)
    root.fail("",
              str("expected a JSON array of result objects (", simdjson::error_message(e), ")"));
  DetectionResults out;
  out.name = name;
  Converter converter(name, gt, iou_type);
  for_each_element(arr, root, "", [&](size_t i, od::value& v) {
    const Where w{name, "results", i};
    od::object o = read<od::object>(v, w, "");
    RawResult r = read_raw(o, w);
    out.detections.push_back(converter.convert(r, i, w));
  });
  return out;
}

} // namespace

DetectionResults parse_detection_results(std::string_view json, const std::string& name,
                                         const data::CocoDataset& gt, IouType iou_type) {
  std::string text(json);
  return parse_text(text, name, gt, iou_type);
}

DetectionResults load_detection_results(const std::string& path, const data::CocoDataset& gt,
                                        IouType iou_type) {
  std::ifstream in(path, std::ios::binary);
  SPLAT_CHECK(in, path, ": cannot open the file (", std::strerror(errno), ")");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SPLAT_CHECK(!in.bad(), path, ": cannot read the file");
  return parse_text(text, path, gt, iou_type);
}

} // namespace splat::train
