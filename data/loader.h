// The threaded data loader and the dataset glue that feeds it.
//
// - Dataset: anything that turns an index (and the epoch, for augmentation) into a Sample. Its
//   get() is called from several worker threads at once, so it must not mutate shared state.
// - CocoSampleDataset: the glue from a COCO annotation file to Samples: read the image, convert
//   the annotations (boxes x1y1x2y2 from xywh as mmdet: x2 = x + w, no -1; contiguous labels;
//   masks as bitmaps or polygons (MaskFormat); iscrowd annotations become ignore boxes), then apply
//   the pipeline (data/transforms.h) with its per-(epoch, index) random stream.
// - Loader: one epoch over a list of batches (from data/sampler.h). N worker threads claim the
//   samples in batch order, load them and, for a batch's last sample, collate (data/batch.h) it;
//   finished batches wait in a reorder buffer and next() hands them out strictly in order. At
//   most `prefetch_batches` batches are in flight or waiting, which bounds memory. Because every
//   sample depends only on (dataset, epoch, index) and batches leave in order, the output is
//   bit-identical for any number of workers (0 workers loads on the caller's thread).
//   Errors are delivered in order too: next() hands out every batch before the failing one, then
//   throws an Error naming the sample index, its description (the image path), the batch, the
//   epoch and the original message; no work past the failing batch is started, and the loader
//   is finished afterwards. With OnCorrupt::skip_with_warning a CorruptImageError instead drops
//   that one sample with a warning on stderr (a batch left empty is dropped with a warning);
//   other errors still throw. The destructor stops and joins the workers whatever state they
//   are in, waiting only for the samples being loaded at that moment.
//   Device: with a CUDA device, the worker that collates a batch copies all its tensors (images
//   and targets) into pinned host memory (a process-wide cache of cudaHostAlloc blocks, reused
//   across batches), and next() issues asynchronous copies to the device on the default stream,
//   so the transfer overlaps the host's work and is ordered before later kernels; the pinned
//   blocks go back to the cache once an event recorded after the copies has completed. The
//   emulated build runs the same code with plain host memory and synchronous copies.
#pragma once

#include "core/device.h"
#include "core/error.h"
#include "data/batch.h"
#include "data/coco.h"
#include "data/transforms.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace splat::data {

// An image that cannot be read or decoded (missing, truncated, corrupt): the only error the
// loader's skip_corrupt option skips. what() names the file.
class CorruptImageError : public Error {
public:
  using Error::Error;
};

class Dataset {
public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  // The sample at index for this epoch (augmentation may depend on both, nothing else).
  virtual Sample get(size_t index, int64_t epoch) const = 0;
  // What to name in errors about this index, e.g. the image path.
  virtual std::string describe(size_t index) const = 0;
};

// How instance masks are loaded, as mmdet 3.3's LoadAnnotations(with_mask=True, poly2mask):
// either way an annotation's polygons with an odd number of coordinates or fewer than 3 points are
// dropped and an object with none left becomes an ignore box (mmdet's ignore_flag; its fake
// mask never reaches a loss).
enum class MaskFormat {
  none,
  bitmaps,  // poly2mask=True: (n, H, W) u8 from the polygons' union or the RLE
  polygons, // poly2mask=False: PolygonMasks; an object given as an RLE becomes an ignore box
};

// Reads image `image_index` of coco from image_root/file_name and converts its annotations,
// without any transform: image (H, W, 3) u8, boxes (n, 4) f32 x1y1x2y2, labels (n) i64,
// masks as `masks` says (Target.masks or Target.polygons), ignore_boxes (k, 4) f32 from iscrowd
// annotations (and objects whose mask is unusable, see MaskFormat); meta with ori/img/pad sizes
// equal to the image's, scale 1, not flipped. Image read errors are rethrown as CorruptImageError;
// a size that differs from the annotation file's height/width is an Error naming both.
Sample load_coco_sample(const CocoDataset& coco, size_t image_index, const std::string& image_root,
                        MaskFormat masks);

// Samples of selected images of a COCO dataset, through a pipeline (TrainPipeline or
// TestPipeline) keyed by SampleKey{seed, epoch, dataset index}.
class CocoSampleDataset final : public Dataset {
public:
  // image_indices: positions in coco.images() this dataset serves, in order (e.g.
  // training_images(coco)); dataset index i is image image_indices[i].
  CocoSampleDataset(std::shared_ptr<const CocoDataset> coco, std::string image_root,
                    std::vector<size_t> image_indices, std::shared_ptr<const Pipeline> pipeline,
                    uint64_t seed, MaskFormat masks);
  size_t size() const override { return image_indices_.size(); }
  Sample get(size_t index, int64_t epoch) const override;
  std::string describe(size_t index) const override;
  const CocoDataset& coco() const { return *coco_; }
  // Position in coco().images() of dataset index i.
  size_t image_index(size_t i) const { return image_indices_.at(i); }
  // mmdet's aspect-ratio flag of every dataset index, for GroupedBatchSampler.
  std::vector<uint8_t> aspect_ratio_flags() const;

private:
  std::shared_ptr<const CocoDataset> coco_;
  std::string image_root_;
  std::vector<size_t> image_indices_;
  std::shared_ptr<const Pipeline> pipeline_;
  uint64_t seed_;
  MaskFormat masks_;
};

enum class OnCorrupt { fail, skip_with_warning };

struct LoaderOptions {
  int workers = 2;             // 0: load on the thread calling next()
  size_t prefetch_batches = 4; // batches in flight or waiting (>= 1)
  OnCorrupt on_corrupt = OnCorrupt::fail;
  Device device = Device::cpu(); // where next() puts batch images
  int64_t size_divisor = 32;     // collate padding
};

class Loader {
public:
  // One epoch over `batches` (lists of dataset indices, each non-empty and < dataset.size()).
  // Workers start at once. The dataset must outlive the loader.
  Loader(const Dataset& dataset, std::vector<std::vector<size_t>> batches, int64_t epoch,
         LoaderOptions options = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch in order, or nullopt after the last. Rethrows the error that stopped a worker
  // (an Error naming the sample), after which the loader is finished.
  std::optional<Batch> next();
  size_t num_batches() const;
  // Samples skipped as corrupt so far (skip_with_warning only).
  size_t skipped() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace splat::data
