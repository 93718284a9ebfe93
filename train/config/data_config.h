// The [data] section of a training config: the dataset, the train and test pipelines, batching
// and the loader, bound to the data layer's structs (data/transforms.h, data/loader.h,
// data/shapes.h). configs/README.md shows the layout; every value that the spec (section 4) sets
// is required in the file, so a config states it instead of inheriting a silent default:
//
//   [data]                    workers (required), prefetch_batches = 4, seed = 0,
//                             on_corrupt = "fail" | "skip"
//   [data.dataset]            kind = "coco": root = "", train_annotations, train_images,
//                             val_annotations, val_images (required; relative to root, and root to
//                             the working directory)
//                             kind = "shapes": dir (required), train, val, min_size, max_size,
//                             seed, categories, kinds, jpeg_quality, min_object, max_object,
//                             object_sizes, max_occlusion, overlap_prob, noise, colors
//                             (data::ShapesOptions's defaults)
//   [data.normalize]          mean, std: RGB, 3 numbers each (required)
//   [data.train]              batch_size (images per GPU), batching = "aspect_ratio_groups" |
//                             "shuffled", with_masks, min_image_size, scales = [[long, short],
//                             ...], mode = "range" | "value", flip_prob, size_divisor (all
//                             required); poly2mask = false
//   [data.test]               batch_size, scale = [long, short], size_divisor (all required)
//
// Values are checked where they are read (errors name file:line:col and the key); the pipeline
// and shapes options are also checked by their own constructors, located at their table.
#pragma once

#include "core/device.h"
#include "data/loader.h"
#include "data/shapes.h"
#include "data/transforms.h"
#include "train/config/config_node.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace splat::train::config {

// One split's annotation file and the directory its file names are relative to.
struct SplitFiles {
  std::string annotations;
  std::string images;
};

// The synthetic dataset (data/shapes.h): generated into dir by make_shapes when absent, and
// again when the stamp make_shapes left there names other options.
struct ShapesDataset {
  std::string dir;
  data::ShapesOptions options;
};

struct DatasetConfig {
  SplitFiles train, val;               // for shapes: the layout make_shapes writes under dir
  std::optional<ShapesDataset> shapes; // set for kind = "shapes"
};

// How training batches are drawn (data/sampler.h).
enum class Batching {
  aspect_ratio_groups, // GroupedBatchSampler: each batch all landscape or all portrait (mmdet)
  shuffled,            // DistributedSampler batches
};

struct TrainDataConfig {
  data::TrainPipelineConfig pipeline;
  size_t batch_size = 0; // images per GPU
  Batching batching = Batching::aspect_ratio_groups;
  bool with_masks = false;    // load instance masks (Mask and Cascade Mask R-CNN)
  bool poly2mask = false;     // masks as bitmaps instead of polygons (mmdet's LoadAnnotations)
  int64_t min_image_size = 0; // data::training_images: smaller images are not trained on

  // What the loader makes of the masks: none, or bitmaps / polygons as poly2mask says.
  data::MaskFormat mask_format() const;
};

struct TestDataConfig {
  data::TestPipelineConfig pipeline;
  size_t batch_size = 0; // images per GPU
};

struct DataConfig {
  DatasetConfig dataset;
  TrainDataConfig train;
  TestDataConfig test;
  int workers = 0;             // loader threads per process
  size_t prefetch_batches = 4; // data::LoaderOptions
  data::OnCorrupt on_corrupt = data::OnCorrupt::fail;
  uint64_t seed = 0; // shuffling and augmentation (data::SampleKey, samplers)

  // Loader options for the train or test loader: the values above, the pipeline's size divisor
  // for collate padding, and the device the trainer runs on.
  data::LoaderOptions train_loader(Device device) const;
  data::LoaderOptions test_loader(Device device) const;
};

// Reads the [data] table (`data` is root.table("data")), marking every key it reads used.
DataConfig read_data_config(const Node& data);

} // namespace splat::train::config
