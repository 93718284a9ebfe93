#include "data/loader.h"

#include "core/allocator.h"
#include "core/cuda/device_guard.h"
#include "core/cuda/runtime.h"
#include "data/image.h"
#include "data/sampler.h"
#include "data/tensor_util.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

namespace splat::data {

// ---- Dataset glue -------------------------------------------------------------------------------

namespace {

std::string join_path(const std::string& root, const std::string& name) {
  if (root.empty()) return name;
  return root.back() == '/' ? root + name : root + "/" + name;
}

// A new (rows, 4) f32 tensor holding the x1 y1 x2 y2 boxes of `xywh`.
Tensor boxes_tensor(const std::vector<BoxXywh>& xywh) {
  Tensor t = Tensor::empty({static_cast<int64_t>(xywh.size()), 4}, DType::f32);
  float* p = t.data<float>();
  for (const BoxXywh& b : xywh) {
    // mmdet: [x1, y1, x1 + w, y1 + h], no -1.
    *p++ = static_cast<float>(b[0]);
    *p++ = static_cast<float>(b[1]);
    *p++ = static_cast<float>(b[0] + b[2]);
    *p++ = static_cast<float>(b[1] + b[3]);
  }
  return t;
}

} // namespace

Sample load_coco_sample(const CocoDataset& coco, size_t image_index, const std::string& image_root,
                        MaskFormat masks) {
  SPLAT_CHECK(image_index < coco.images().size(), "load_coco_sample: image index ", image_index,
              " out of range for ", coco.name(), " with ", coco.images().size(), " images");
  const CocoImage& info = coco.images()[image_index];
  const std::string path = join_path(image_root, info.file_name);
  Sample s;
  try {
    s.image = read_image(path);
  } catch (const Error& e) {
    throw CorruptImageError(e.what()); // read_image's message names the file
  }
  const int64_t h = s.image.size(0), w = s.image.size(1);
  SPLAT_CHECK(h == info.height && w == info.width, path, ": decoded size ", h, "x", w,
              " (HxW) differs from ", info.height, "x", info.width, " in ", coco.name(),
              " (image id ", info.id, ")");

  std::vector<BoxXywh> objects, ignores;
  std::vector<int64_t> labels;
  std::vector<Rle> rles;           // MaskFormat::bitmaps: one per object
  PolygonMasks polygons{h, w, {}}; // MaskFormat::polygons
  for (uint32_t a : coco.annotations_of(image_index)) {
    const CocoAnnotation& ann = coco.annotations()[a];
    const AnnotationRole role = annotation_role(coco, a);
    if (role == AnnotationRole::skipped) continue;
    if (role == AnnotationRole::ignore_box) {
      ignores.push_back(ann.bbox);
      continue;
    }
    if (masks != MaskFormat::none) {
      SPLAT_CHECK(coco.has_segmentation(a), coco.name(), ": annotation id ", ann.id, " of image ",
                  info.file_name, " has no segmentation, but masks were requested");
      Segmentation seg = coco.segmentation(a);
      std::optional<std::vector<Polygon>> kept;
      if (!seg.rle) kept = valid_polygons(seg.polygons);
      const bool usable = seg.rle ? masks == MaskFormat::bitmaps : kept.has_value();
      if (!usable) {
        ignores.push_back(ann.bbox);
        continue;
      }
      if (masks == MaskFormat::polygons)
        polygons.instances.push_back(std::move(*kept));
      else
        rles.push_back(seg.rle ? std::move(*seg.rle) : rle_from_polygons(*kept, h, w));
    }
    objects.push_back(ann.bbox);
    labels.push_back(ann.label);
  }
  s.target.boxes = boxes_tensor(objects);
  s.target.ignore_boxes = boxes_tensor(ignores);
  s.target.labels = Tensor::empty({static_cast<int64_t>(labels.size())}, DType::i64);
  std::copy(labels.begin(), labels.end(), s.target.labels.data<int64_t>());
  if (masks == MaskFormat::bitmaps) {
    s.target.masks = Tensor::empty({static_cast<int64_t>(rles.size()), h, w}, DType::u8);
    uint8_t* m = s.target.masks.data<uint8_t>();
    // CocoDataset checked every RLE's counts and size against its image when parsing.
    for (size_t i = 0; i < rles.size(); ++i)
      rle_decode_into(rles[i], std::span<uint8_t>(m + i * h * w, static_cast<size_t>(h * w)));
  }
  if (masks == MaskFormat::polygons) s.target.polygons = std::move(polygons);
  s.meta.file_name = info.file_name;
  s.meta.image_id = info.id;
  s.meta.ori_h = s.meta.img_h = s.meta.pad_h = h;
  s.meta.ori_w = s.meta.img_w = s.meta.pad_w = w;
  return s;
}

CocoSampleDataset::CocoSampleDataset(std::shared_ptr<const CocoDataset> coco,
                                     std::string image_root, std::vector<size_t> image_indices,
                                     std::shared_ptr<const Pipeline> pipeline, uint64_t seed,
                                     MaskFormat masks)
    : coco_(std::move(coco)), image_root_(std::move(image_root)),
      image_indices_(std::move(image_indices)), pipeline_(std::move(pipeline)), seed_(seed),
      masks_(masks) {
  SPLAT_CHECK(coco_ != nullptr && pipeline_ != nullptr,
              "CocoSampleDataset: the dataset and the pipeline must be given");
  for (size_t i : image_indices_)
    SPLAT_CHECK(i < coco_->images().size(), "CocoSampleDataset: image index ", i,
                " out of range for ", coco_->name(), " with ", coco_->images().size(), " images");
}

Sample CocoSampleDataset::get(size_t index, int64_t epoch) const {
  Sample raw = load_coco_sample(*coco_, image_index(index), image_root_, masks_);
  return (*pipeline_)(std::move(raw), SampleKey{seed_, static_cast<uint64_t>(epoch), index});
}

std::string CocoSampleDataset::describe(size_t index) const {
  return join_path(image_root_, coco_->images().at(image_index(index)).file_name);
}

std::vector<uint8_t> CocoSampleDataset::aspect_ratio_flags() const {
  std::vector<uint8_t> flags;
  flags.reserve(image_indices_.size());
  for (size_t i : image_indices_)
    flags.push_back(aspect_ratio_flag(coco_->images()[i].width, coco_->images()[i].height));
  return flags;
}

// ---- Pinned host memory -------------------------------------------------------------------------

namespace {

// A process-wide cache of pinned host blocks (pinning is slow, and batches of one run have
// similar sizes). Blocks are rounded up to 2 MiB and reused for requests of at least half their
// size; at most kMaxCached bytes stay cached. Never destroyed, because storages may outlive any
// loader.
class PinnedPool final : public Allocator {
public:
  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    std::lock_guard lock(mu_);
    auto it = free_.lower_bound(nbytes);
    void* p;
    size_t size;
    if (it != free_.end() && it->first / 2 <= nbytes) {
      size = it->first;
      p = it->second;
      free_.erase(it);
      cached_ -= size;
    } else {
      size = (nbytes + kRound - 1) / kRound * kRound;
      p = cuda::host_alloc_pinned(size);
    }
    sizes_[p] = size;
    stats_.allocated_bytes += static_cast<int64_t>(size);
    stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.allocated_bytes);
    ++stats_.live_blocks;
    ++stats_.total_allocations;
    return p;
  }
  void deallocate(void* p, size_t) override {
    if (p == nullptr) return;
    std::lock_guard lock(mu_);
    const auto it = sizes_.find(p);
    SPLAT_CHECK(it != sizes_.end(), "pinned pool: pointer ", p, " was not allocated here");
    const size_t size = it->second;
    sizes_.erase(it);
    stats_.allocated_bytes -= static_cast<int64_t>(size);
    --stats_.live_blocks;
    if (cached_ + size > kMaxCached) {
      cuda::host_free_pinned(p);
    } else {
      free_.emplace(size, p);
      cached_ += size;
    }
  }
  MemoryStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }
  void reset_peak() override {
    std::lock_guard lock(mu_);
    stats_.peak_bytes = stats_.allocated_bytes;
  }

private:
  static constexpr size_t kRound = size_t{2} << 20;
  static constexpr size_t kMaxCached = size_t{1} << 30;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;
  std::map<void*, size_t> sizes_;
  size_t cached_ = 0;
  MemoryStats stats_;
};

PinnedPool& pinned_pool() {
  static auto* pool = new PinnedPool();
  return *pool;
}

// A contiguous copy of a CPU tensor in pinned host memory (undefined stays undefined).
Tensor pinned_copy(const Tensor& t) {
  if (!t.defined()) return t;
  SPLAT_CHECK(t.device().is_cpu(), "Loader: batch tensor ", shape_str(t.shape()),
              " must be on the CPU to pin, got ", t.device());
  const Tensor c = contiguous_cpu(t);
  const size_t nbytes = static_cast<size_t>(t.numel()) * t.itemsize();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(nbytes, Device::cpu(), pinned_pool());
  impl->shape = t.shape();
  impl->strides = contiguous_strides(t.shape());
  impl->dtype = t.dtype();
  if (nbytes > 0) std::memcpy(impl->storage->data(), c.raw_data(), nbytes);
  return Tensor(std::move(impl));
}

// Enqueues a copy of a contiguous host tensor to `device` on the default stream.
Tensor copy_to_device_async(const Tensor& t, Device device) {
  if (!t.defined()) return t;
  Tensor d = Tensor::empty(t.shape(), t.dtype(), device);
  cuda::memcpy_async(d.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()) * t.itemsize(),
                     cuda::CopyKind::host_to_device, cuda::Stream{});
  return d;
}

// Applies f to every tensor of a batch, in place.
template <class F> void for_each_tensor(Batch& b, F f) {
  b.images = f(b.images);
  for (Target& t : b.targets) {
    t.boxes = f(t.boxes);
    t.labels = f(t.labels);
    t.masks = f(t.masks);
    t.ignore_boxes = f(t.ignore_boxes);
  }
}

} // namespace

// ---- Loader -------------------------------------------------------------------------------------

struct Loader::State {
  const Dataset& dataset;
  std::vector<std::vector<size_t>> batches;
  int64_t epoch;
  LoaderOptions options;

  // The flat sample sequence: sample j is batches[batch_of[j]][j - first_of_batch[batch_of[j]]].
  std::vector<size_t> batch_of, first_of_batch;

  struct Slot {
    std::vector<std::optional<Sample>> samples; // nullopt: skipped as corrupt
    size_t remaining = 0;                       // samples not yet finished
    bool done = false;                          // batch (or error) ready for next()
    std::optional<Batch> batch;                 // nullopt when every sample was skipped
    std::exception_ptr error;
  };
  std::vector<Slot> slots;

  std::mutex mu;
  std::condition_variable work_cv, ready_cv;
  size_t next_sample = 0;        // the next sample a worker claims
  size_t consumed = 0;           // batches handed out by next()
  size_t first_error = SIZE_MAX; // batch holding the earliest error; no work is claimed past it
  size_t skipped = 0;
  bool stopping = false;
  std::vector<std::thread> workers;

  // Host batches whose device copies may still be running (real GPU), released once done.
  struct InFlight {
    cuda::Event done;
    Batch host;
  };
  std::deque<InFlight> in_flight;

  State(const Dataset& d, std::vector<std::vector<size_t>> b, int64_t e, LoaderOptions o)
      : dataset(d), batches(std::move(b)), epoch(e), options(o) {}

  // Loads sample j (no lock held); returns nullopt when skipped.
  std::optional<Sample> load(size_t j) {
    const size_t b = batch_of[j];
    const size_t index = batches[b][j - first_of_batch[b]];
    try {
      return dataset.get(index, epoch);
    } catch (const CorruptImageError& e) {
      if (options.on_corrupt != OnCorrupt::skip_with_warning) throw context(e.what(), index, b);
      std::fprintf(stderr, "splat: warning: skipping sample %zu (%s): %s\n", index,
                   dataset.describe(index).c_str(), e.what());
      return std::nullopt;
    } catch (const std::exception& e) {
      throw context(e.what(), index, b);
    }
  }
  Error context(const char* what, size_t index, size_t b) const {
    return Error(str("Loader: sample ", index, " (", dataset.describe(index), ") of batch ", b,
                     " in epoch ", epoch, ": ", what));
  }

  // Collates the present samples of a batch; pinned when the batch goes to a device.
  std::optional<Batch> assemble(std::vector<std::optional<Sample>> samples) {
    std::vector<Sample> present;
    for (auto& s : samples)
      if (s) present.push_back(std::move(*s));
    if (present.empty()) return std::nullopt;
    Batch batch = collate(std::move(present), options.size_divisor);
    if (options.device.is_cuda()) for_each_tensor(batch, pinned_copy);
    return batch;
  }

  // Worker j finished (or failed) its sample: record it and, for the batch's last sample,
  // assemble the batch. Called without the lock.
  void finish(size_t j, std::optional<Sample> sample, std::exception_ptr error) {
    const size_t b = batch_of[j];
    std::unique_lock lock(mu);
    Slot& slot = slots[b];
    if (error) {
      if (!slot.error) slot.error = error;
      first_error = std::min(first_error, b);
    } else if (!sample) {
      ++skipped;
    }
    slot.samples[j - first_of_batch[b]] = std::move(sample);
    if (--slot.remaining > 0) return;
    if (!slot.error) {
      auto samples = std::move(slot.samples);
      lock.unlock();
      std::optional<Batch> batch;
      std::exception_ptr collate_error;
      try {
        batch = assemble(std::move(samples));
      } catch (const std::exception& e) {
        collate_error = std::make_exception_ptr(
            Error(str("Loader: collating batch ", b, " in epoch ", epoch, ": ", e.what())));
      }
      lock.lock();
      slot.batch = std::move(batch);
      if (collate_error) {
        slot.error = collate_error;
        first_error = std::min(first_error, b);
      }
    }
    slot.samples.clear();
    slot.done = true;
    ready_cv.notify_all();
    work_cv.notify_all(); // a worker may wait for first_error to move
  }

  // Whether sample j may be started now (lock held): within the prefetch window and not past
  // an error.
  bool claimable(size_t j) const {
    return j < batch_of.size() && batch_of[j] < consumed + options.prefetch_batches &&
           batch_of[j] <= first_error;
  }

  void worker_loop() {
    std::unique_lock lock(mu);
    for (;;) {
      work_cv.wait(lock, [&] {
        return stopping || claimable(next_sample) || next_sample >= batch_of.size();
      });
      if (stopping || next_sample >= batch_of.size()) return;
      const size_t j = next_sample++;
      lock.unlock();
      std::optional<Sample> sample;
      std::exception_ptr error;
      try {
        sample = load(j);
      } catch (...) {
        error = std::current_exception();
      }
      finish(j, std::move(sample), error);
      lock.lock();
    }
  }

  // Releases the pinned host batches whose copies have completed (all of them when wait).
  void release_in_flight(bool wait) {
    while (!in_flight.empty()) {
      InFlight& f = in_flight.front();
      if (wait)
        cuda::synchronize_event(f.done);
      else if (!cuda::query_event(f.done))
        break;
      cuda::destroy_event(f.done);
      in_flight.pop_front();
    }
  }

  Batch to_device(Batch host) {
    cuda::DeviceGuard guard(options.device);
    Batch dev = host; // metas copied; tensors replaced below
    for_each_tensor(dev, [&](const Tensor& t) { return copy_to_device_async(t, options.device); });
    InFlight f{cuda::create_event(), std::move(host)};
    cuda::record_event(f.done, cuda::Stream{});
    in_flight.push_back(std::move(f));
    return dev;
  }
};

Loader::Loader(const Dataset& dataset, std::vector<std::vector<size_t>> batches, int64_t epoch,
               LoaderOptions options)
    : state_(std::make_unique<State>(dataset, std::move(batches), epoch, options)) {
  State& s = *state_;
  SPLAT_CHECK(options.workers >= 0, "Loader: workers must be >= 0, got ", options.workers);
  SPLAT_CHECK(options.prefetch_batches >= 1, "Loader: prefetch_batches must be >= 1, got ",
              options.prefetch_batches);
  s.slots.resize(s.batches.size());
  for (size_t b = 0; b < s.batches.size(); ++b) {
    SPLAT_CHECK(!s.batches[b].empty(), "Loader: batch ", b, " is empty");
    s.first_of_batch.push_back(s.batch_of.size());
    for (size_t index : s.batches[b]) {
      SPLAT_CHECK(index < dataset.size(), "Loader: batch ", b, " holds index ", index,
                  ", out of range for a dataset of ", dataset.size());
      s.batch_of.push_back(b);
    }
    s.slots[b].samples.resize(s.batches[b].size());
    s.slots[b].remaining = s.batches[b].size();
  }
  for (int i = 0; i < options.workers; ++i) s.workers.emplace_back([&s] { s.worker_loop(); });
}

Loader::~Loader() {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    s.stopping = true;
  }
  s.work_cv.notify_all();
  for (auto& t : s.workers) t.join();
  try {
    s.release_in_flight(true);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "splat: warning: Loader: waiting for device copies: %s\n", e.what());
  }
}

size_t Loader::num_batches() const { return state_->batches.size(); }

size_t Loader::skipped() const {
  std::lock_guard lock(state_->mu);
  return state_->skipped;
}

std::optional<Batch> Loader::next() {
  State& s = *state_;
  s.release_in_flight(false);
  for (;;) {
    std::unique_lock lock(s.mu);
    if (s.consumed >= s.batches.size()) return std::nullopt;
    const size_t b = s.consumed;
    if (s.workers.empty()) {
      // No workers: load this batch's samples here, in order.
      lock.unlock();
      for (size_t j = s.first_of_batch[b]; j < s.first_of_batch[b] + s.batches[b].size(); ++j) {
        std::optional<Sample> sample;
        std::exception_ptr error;
        try {
          sample = s.load(j);
        } catch (...) {
          error = std::current_exception();
        }
        s.finish(j, std::move(sample), error);
      }
      lock.lock();
    }
    s.ready_cv.wait(lock, [&] { return s.slots[b].done; });
    State::Slot& slot = s.slots[b];
    if (slot.error) {
      // Finished: nothing after an error is handed out.
      const std::exception_ptr e = slot.error;
      s.consumed = s.batches.size();
      s.stopping = true;
      lock.unlock();
      s.work_cv.notify_all();
      std::rethrow_exception(e);
    }
    std::optional<Batch> batch = std::move(slot.batch);
    slot.batch.reset();
    ++s.consumed;
    lock.unlock();
    s.work_cv.notify_all(); // the prefetch window moved
    if (!batch) {
      std::fprintf(stderr, "splat: warning: Loader: batch %zu dropped, every sample was skipped\n",
                   b);
      continue;
    }
    if (s.options.device.is_cuda()) return s.to_device(std::move(*batch));
    return batch;
  }
}

} // namespace splat::data
