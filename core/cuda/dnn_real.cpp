// core/cuda/dnn.h on cuDNN (legacy convolution API, which cuDNN 9 still ships: descriptors,
// cudnnGetConvolution*Algorithm_v7, cudnnConvolution*). Compiled only in the nvcc build.
//
// Support is decided before any cuDNN call: f32/f64, every size and element count within int
// (the legacy API's limit), a non-empty problem, and an output size that is the conv2d formula's
// (conv_transpose2d with output_padding >= stride asks for one row less; the caller's kernels
// handle it). The algorithm for a geometry is the first one the v7 heuristics rank that is
// deterministic and needs at most kMaxWorkspaceBytes of workspace; it is remembered per (device,
// direction, geometry). A geometry with no such algorithm is remembered as unsupported.
#include "core/cuda/dnn.h"

#include "core/cuda/caching_allocator.h"
#include "core/error.h"

#include <cuda_runtime.h>
#include <cudnn.h>

#include <array>
#include <climits>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

namespace splat::cuda::dnn {
namespace {

// Larger workspaces are not worth the memory: the next-ranked algorithm is taken instead.
constexpr size_t kMaxWorkspaceBytes = size_t{1} << 30;

void check(cudnnStatus_t status, const char* call, const std::source_location& where) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  throw Error(str(call, " failed at ", where.file_name(), ":", where.line(), ": ",
                  cudnnGetErrorString(status)));
}

// One handle per device, created with the device current; never destroyed (see blas_real.cpp).
cudnnHandle_t handle_for_current_device(const std::source_location& where) {
  static std::mutex mu;
  static std::vector<cudnnHandle_t> handles;
  const int device = current_device();
  std::lock_guard lock(mu);
  if (handles.size() <= static_cast<size_t>(device))
    handles.resize(static_cast<size_t>(device) + 1, nullptr);
  cudnnHandle_t& h = handles[static_cast<size_t>(device)];
  if (h == nullptr) {
    cudnnHandle_t created = nullptr;
    check(cudnnCreate(&created), "cudnnCreate", where);
    h = created;
  }
  return h;
}

bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

bool supported(const ConvShape& s) {
  if (s.dtype != DType::f32 && s.dtype != DType::f64) return false;
  for (int64_t v : {s.n, s.c_in, s.h, s.w, s.c_out, s.ho, s.wo, s.kh, s.kw, s.stride_h, s.stride_w,
                    s.pad_h, s.pad_w, s.dilation_h, s.dilation_w, s.groups})
    if (!fits_int(v)) return false;
  if (s.n == 0 || s.c_in == 0 || s.c_out == 0 || s.ho <= 0 || s.wo <= 0 || s.groups == 0)
    return false;
  if (!fits_int(s.n * s.c_in * s.h * s.w) || !fits_int(s.n * s.c_out * s.ho * s.wo) ||
      !fits_int(s.c_out * (s.c_in / s.groups) * s.kh * s.kw))
    return false;
  const int64_t ho = (s.h + 2 * s.pad_h - s.dilation_h * (s.kh - 1) - 1) / s.stride_h + 1;
  const int64_t wo = (s.w + 2 * s.pad_w - s.dilation_w * (s.kw - 1) - 1) / s.stride_w + 1;
  return ho == s.ho && wo == s.wo;
}

// Owners of the descriptors of one call. Destruction cannot report a failure (it may run while an
// exception unwinds), and destroying a valid descriptor does not fail.
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  Descriptors(const ConvShape& s, const std::source_location& where) {
    const cudnnDataType_t dt = s.dtype == DType::f32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
    const auto i = [](int64_t v) { return static_cast<int>(v); };
    try {
      check(cudnnCreateTensorDescriptor(&x), "cudnnCreateTensorDescriptor", where);
      check(cudnnCreateTensorDescriptor(&y), "cudnnCreateTensorDescriptor", where);
      check(cudnnCreateFilterDescriptor(&w), "cudnnCreateFilterDescriptor", where);
      check(cudnnCreateConvolutionDescriptor(&conv), "cudnnCreateConvolutionDescriptor", where);
      check(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, dt, i(s.n), i(s.c_in), i(s.h), i(s.w)),
            "cudnnSetTensor4dDescriptor", where);
      check(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, dt, i(s.n), i(s.c_out), i(s.ho),
                                       i(s.wo)),
            "cudnnSetTensor4dDescriptor", where);
      check(cudnnSetFilter4dDescriptor(w, dt, CUDNN_TENSOR_NCHW, i(s.c_out), i(s.c_in / s.groups),
                                       i(s.kh), i(s.kw)),
            "cudnnSetFilter4dDescriptor", where);
      // The compute type is the data type: f32 accumulates in f32 (TF32 products where the
      // chosen algorithm's math type allows), f64 in f64.
      check(cudnnSetConvolution2dDescriptor(conv, i(s.pad_h), i(s.pad_w), i(s.stride_h),
                                            i(s.stride_w), i(s.dilation_h), i(s.dilation_w),
                                            CUDNN_CROSS_CORRELATION, dt),
            "cudnnSetConvolution2dDescriptor", where);
      check(cudnnSetConvolutionGroupCount(conv, i(s.groups)), "cudnnSetConvolutionGroupCount",
            where);
    } catch (...) {
      release();
      throw;
    }
  }
  ~Descriptors() { release(); }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

private:
  void release() {
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
  }
};

enum class Direction { forward, backward_data, backward_filter };

struct Choice {
  bool ok = false;
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

// The first deterministic algorithm with a workspace we accept, in the heuristics' order.
template <class Perf> Choice first_acceptable(const std::vector<Perf>& perf, int returned) {
  for (int k = 0; k < returned; ++k) {
    const Perf& p = perf[static_cast<size_t>(k)];
    if (p.status == CUDNN_STATUS_SUCCESS && p.determinism == CUDNN_DETERMINISTIC &&
        p.memory <= kMaxWorkspaceBytes)
      return {true, static_cast<int>(p.algo), p.memory, p.mathType};
  }
  return {};
}

// Ranks one direction's algorithms with its v7 heuristic (count: the MaxCount query, rank: the
// heuristic bound to the descriptors) and picks the first acceptable one.
template <class Perf, class Count, class Rank>
Choice heuristic_choice(cudnnHandle_t h, Count count, const char* count_name, Rank rank,
                        const char* rank_name, const std::source_location& where) {
  int max_count = 0, returned = 0;
  check(count(h, &max_count), count_name, where);
  std::vector<Perf> perf(static_cast<size_t>(max_count));
  check(rank(max_count, &returned, perf.data()), rank_name, where);
  return first_acceptable(perf, returned);
}

Choice find_choice(Direction dir, cudnnHandle_t h, const Descriptors& d,
                   const std::source_location& where) {
  switch (dir) {
  case Direction::forward:
    return heuristic_choice<cudnnConvolutionFwdAlgoPerf_t>(
        h, cudnnGetConvolutionForwardAlgorithmMaxCount,
        "cudnnGetConvolutionForwardAlgorithmMaxCount",
        [&](int n, int* r, cudnnConvolutionFwdAlgoPerf_t* p) {
          return cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, n, r, p);
        },
        "cudnnGetConvolutionForwardAlgorithm_v7", where);
  case Direction::backward_data:
    return heuristic_choice<cudnnConvolutionBwdDataAlgoPerf_t>(
        h, cudnnGetConvolutionBackwardDataAlgorithmMaxCount,
        "cudnnGetConvolutionBackwardDataAlgorithmMaxCount",
        [&](int n, int* r, cudnnConvolutionBwdDataAlgoPerf_t* p) {
          return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, n, r, p);
        },
        "cudnnGetConvolutionBackwardDataAlgorithm_v7", where);
  case Direction::backward_filter:
    return heuristic_choice<cudnnConvolutionBwdFilterAlgoPerf_t>(
        h, cudnnGetConvolutionBackwardFilterAlgorithmMaxCount,
        "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount",
        [&](int n, int* r, cudnnConvolutionBwdFilterAlgoPerf_t* p) {
          return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, n, r, p);
        },
        "cudnnGetConvolutionBackwardFilterAlgorithm_v7", where);
  }
  return {};
}

using Key = std::array<int64_t, 19>;

Key key_of(Direction dir, const ConvShape& s) {
  return {current_device(),
          static_cast<int64_t>(dir),
          static_cast<int64_t>(s.dtype),
          s.n,
          s.c_in,
          s.h,
          s.w,
          s.c_out,
          s.ho,
          s.wo,
          s.kh,
          s.kw,
          s.stride_h,
          s.stride_w,
          s.pad_h,
          s.pad_w,
          s.dilation_h,
          s.dilation_w,
          s.groups};
}

Choice cached_choice(Direction dir, const ConvShape& s, cudnnHandle_t h, const Descriptors& d,
                     const std::source_location& where) {
  static std::mutex mu;
  static std::map<Key, Choice> cache;
  const Key key = key_of(dir, s);
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  const Choice c = find_choice(dir, h, d, where);
  std::lock_guard lock(mu);
  cache.emplace(key, c);
  return c;
}

// Workspace from the caching allocator, returned when the call has been queued: the allocator
// hands it out again only to later work on the same stream.
class Workspace {
public:
  Workspace(size_t bytes, Stream stream)
      : allocator_(caching_allocator(current_device())), bytes_(bytes),
        ptr_(bytes > 0 ? allocator_.allocate(bytes, stream) : nullptr) {}
  ~Workspace() {
    if (ptr_ != nullptr) allocator_.deallocate(ptr_, bytes_);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* get() const { return ptr_; }

private:
  CachingAllocator& allocator_;
  size_t bytes_;
  void* ptr_;
};

// Runs one direction: a = the first operand, b = the second, out = the result, as in dnn.h.
bool run(Direction dir, const ConvShape& s, const void* a, const void* b, void* out, Stream stream,
         const std::source_location& where) {
  if (!enabled() || !supported(s)) return false;
  cudnnHandle_t h = handle_for_current_device(where);
  check(cudnnSetStream(h, static_cast<cudaStream_t>(stream.handle)), "cudnnSetStream", where);
  const Descriptors d(s, where);
  const Choice c = cached_choice(dir, s, h, d, where);
  if (!c.ok) return false;
  check(cudnnSetConvolutionMathType(d.conv, c.math), "cudnnSetConvolutionMathType", where);
  const Workspace ws(c.workspace, stream);
  const float one_f = 1, zero_f = 0;
  const double one_d = 1, zero_d = 0;
  const bool f32 = s.dtype == DType::f32;
  const void* one = f32 ? static_cast<const void*>(&one_f) : &one_d;
  const void* zero = f32 ? static_cast<const void*>(&zero_f) : &zero_d;
  switch (dir) {
  case Direction::forward:
    check(cudnnConvolutionForward(h, one, d.x, a, d.w, b, d.conv,
                                  static_cast<cudnnConvolutionFwdAlgo_t>(c.algo), ws.get(),
                                  c.workspace, zero, d.y, out),
          "cudnnConvolutionForward", where);
    break;
  case Direction::backward_data:
    check(cudnnConvolutionBackwardData(h, one, d.w, b, d.y, a, d.conv,
                                       static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), ws.get(),
                                       c.workspace, zero, d.x, out),
          "cudnnConvolutionBackwardData", where);
    break;
  case Direction::backward_filter:
    check(cudnnConvolutionBackwardFilter(h, one, d.x, a, d.y, b, d.conv,
                                         static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo),
                                         ws.get(), c.workspace, zero, d.w, out),
          "cudnnConvolutionBackwardFilter", where);
    break;
  }
  return true;
}

} // namespace

bool enabled() {
  static const bool on = [] {
    const char* v = std::getenv("SPLAT_DISABLE_CUDNN");
    return v == nullptr || std::string_view(v) != "1";
  }();
  return on;
}

bool convolution_forward(const ConvShape& s, const void* x, const void* w, void* y, Stream stream,
                         std::source_location where) {
  return run(Direction::forward, s, x, w, y, stream, where);
}
bool convolution_backward_data(const ConvShape& s, const void* dy, const void* w, void* dx,
                               Stream stream, std::source_location where) {
  return run(Direction::backward_data, s, dy, w, dx, stream, where);
}
bool convolution_backward_filter(const ConvShape& s, const void* x, const void* dy, void* dw,
                                 Stream stream, std::source_location where) {
  return run(Direction::backward_filter, s, x, dy, dw, stream, where);
}

} // namespace splat::cuda::dnn
