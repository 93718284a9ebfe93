#include "train/detection/dataset_classes.h"

#include "core/error.h"
#include "data/coco.h"
#include "data/shapes.h"

#include <filesystem>

namespace splat::train {

const DatasetClasses& coco_classes() {
  static const DatasetClasses classes = [] {
    DatasetClasses c;
    c.names = {"person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck",
               "boat", "traffic light", "fire hydrant", "stop sign", "parking meter", "bench",
               "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra",
               "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis",
               "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard",
               "surfboard", "tennis racket", "bottle", "wine glass", "cup", "fork", "knife",
               "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot",
               "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
               "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
               "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
               "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush"};
    // COCO's ids run 1..90 with ten unused: 12, 26, 29, 30, 45, 66, 68, 69, 71, 83.
    for (int64_t id = 1; id <= 90; ++id)
      if (id != 12 && id != 26 && id != 29 && id != 30 && id != 45 && id != 66 && id != 68 &&
          id != 69 && id != 71 && id != 83)
        c.category_ids.push_back(id);
    return c;
  }();
  return classes;
}

namespace {

DatasetClasses from_annotations(const std::string& path) {
  const data::CocoDataset coco = data::CocoDataset::load(path);
  DatasetClasses c;
  for (const data::CocoCategory& cat : coco.categories()) { // sorted by id: the label order
    c.names.push_back(cat.name);
    c.category_ids.push_back(cat.id);
  }
  return c;
}

} // namespace

DatasetClasses dataset_classes(const config::DatasetConfig& dataset, int64_t num_classes,
                               const std::string& config_path) {
  DatasetClasses c;
  std::string source;
  if (dataset.shapes) {
    c.names = data::shape_category_names(dataset.shapes->options);
    for (size_t i = 0; i < c.names.size(); ++i) c.category_ids.push_back(static_cast<int64_t>(i) + 1);
    source = "the shapes dataset's categories";
  } else if (std::filesystem::is_regular_file(dataset.val.annotations)) {
    c = from_annotations(dataset.val.annotations);
    source = "the categories of " + dataset.val.annotations;
  } else {
    c = coco_classes();
    source = "COCO 2017's categories (" + dataset.val.annotations + " is not there)";
  }
  SPLAT_CHECK(static_cast<int64_t>(c.names.size()) == num_classes, config_path,
              ": model.num_classes is ", num_classes, " but the dataset has ", c.names.size(),
              " classes (", source, ")");
  return c;
}

} // namespace splat::train
