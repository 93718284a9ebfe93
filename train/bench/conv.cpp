// `splat bench conv`: every distinct convolution of ResNeSt-50 (spec sections 1.2-1.4: the deep
// stem, the bottleneck 1x1s, the radix-2 grouped 3x3s, the split-attention fc1/fc2 on pooled
// (N, C, 1, 1) inputs, the avg-down shortcut 1x1s) at 224x224, f32 on the CPU.
//
// One line per shape, which scripts/bench_vs_torch.py parses and replays in PyTorch:
//   conv NAME x=N,C,H,W w=O,I,KH,KW stride=S pad=P groups=G bias=B count=K fwd_ms=.. fwd_gflops=..
//        [fwdbwd_ms=.. fwdbwd_gflops=..]
// count is how often the shape occurs in one network pass; the closing total line weights each
// shape by it, so it is the time of all the convolutions of one ResNeSt-50 pass. Forward+backward
// computes the gradients of x, weight and bias (the leaves' .grad is reset before each run, as
// `x.grad = None` does in PyTorch). A convolution of C*M MACs counts 2 C M flops forward and
// three times that forward+backward.
#include "train/bench/bench.h"

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/threads.h"
#include "ops/conv.h"
#include "ops/random.h"

#include <cstdio>
#include <memory>
#include <string>

namespace splat::train {
namespace {

struct ConvShape {
  std::string name;
  int64_t c_in, c_out, size, kernel, stride, groups;
  bool bias;
  int count;
  int64_t padding() const { return kernel / 2; }
  int64_t out_size() const { return (size + 2 * padding() - kernel) / stride + 1; }
  double macs(int64_t batch) const {
    return double(batch) * c_out * out_size() * out_size() * (c_in / groups) * kernel * kernel;
  }
};

// The convolutions of one ResNeSt-50 stage: `blocks` bottlenecks of width `planes` (radix 2,
// cardinality 1) on `in` input channels at `size`, the first with `stride` (moved to the avd pool,
// so the 3x3 runs at the input resolution and the conv3 and shortcut after the pool).
void add_stage(std::vector<ConvShape>& out, const std::string& stage, int64_t in, int64_t planes,
               int64_t size, int64_t stride, int blocks) {
  const int64_t width = planes, expanded = 4 * planes, attn = std::max<int64_t>(width * 2 / 4, 32);
  const int64_t after = size / stride;
  const auto add = [&](const std::string& name, int64_t ci, int64_t co, int64_t s, int64_t k,
                       int64_t g, bool bias, int count) {
    for (ConvShape& c : out) // the avg-down shortcut of layer1 has conv3's shape
      if (c.c_in == ci && c.c_out == co && c.size == s && c.kernel == k && c.groups == g &&
          c.bias == bias) {
        c.count += count;
        c.name += "+" + name;
        return;
      }
    out.push_back({stage + "." + name, ci, co, s, k, 1, g, bias, count});
  };
  add("conv1_first", in, width, size, 1, 1, false, 1);
  add("radix_conv_first", width, 2 * width, size, 3, 2, false, 1);
  add("fc1", width, attn, 1, 1, 1, true, blocks);
  add("fc2", attn, 2 * width, 1, 1, 1, true, blocks);
  add("conv3", width, expanded, after, 1, 1, false, blocks);
  add("shortcut", in, expanded, after, 1, 1, false, 1);
  if (blocks > 1) {
    add("conv1", expanded, width, after, 1, 1, false, blocks - 1);
    add("radix_conv", width, 2 * width, after, 3, 2, false, blocks - 1);
  }
}

std::vector<ConvShape> resnest50_convs() {
  std::vector<ConvShape> s = {
      {"stem.conv1", 3, 32, 224, 3, 2, 1, false, 1},
      {"stem.conv2", 32, 32, 112, 3, 1, 1, false, 1},
      {"stem.conv3", 32, 64, 112, 3, 1, 1, false, 1},
  };
  add_stage(s, "layer1", 64, 64, 56, 1, 3);
  add_stage(s, "layer2", 256, 128, 56, 2, 4);
  add_stage(s, "layer3", 512, 256, 28, 2, 6);
  add_stage(s, "layer4", 1024, 512, 14, 2, 3);
  return s;
}

} // namespace

void bench_conv(int64_t batch, double min_seconds, bool backward) {
  double total_fwd = 0, total_fwdbwd = 0, total_macs = 0;
  for (const ConvShape& c : resnest50_convs()) {
    const Tensor x = ops::randn({batch, c.c_in, c.size, c.size}).requires_grad_(backward);
    const Tensor w =
        ops::randn({c.c_out, c.c_in / c.groups, c.kernel, c.kernel}).requires_grad_(backward);
    const Tensor b = c.bias ? ops::randn({c.c_out}).requires_grad_(backward) : Tensor();
    const ops::Conv2dOptions o{.stride = c.stride, .padding = c.padding(), .groups = c.groups};
    const double macs = c.macs(batch);
    double fwd = 0;
    {
      autograd::NoGradGuard no_grad;
      fwd = best_seconds([&] { (void)ops::conv2d(x, w, b, o); }, min_seconds);
    }
    std::printf(
        "conv %s x=%lld,%lld,%lld,%lld w=%lld,%lld,%lld,%lld stride=%lld pad=%lld groups=%lld "
        "bias=%d count=%d fwd_ms=%.3f fwd_gflops=%.1f",
        c.name.c_str(), (long long)batch, (long long)c.c_in, (long long)c.size, (long long)c.size,
        (long long)c.c_out, (long long)(c.c_in / c.groups), (long long)c.kernel,
        (long long)c.kernel, (long long)c.stride, (long long)c.padding(), (long long)c.groups,
        c.bias ? 1 : 0, c.count, fwd * 1e3, 2 * macs / fwd / 1e9);
    total_fwd += c.count * fwd;
    total_macs += c.count * macs;
    if (backward) {
      const Tensor gy = ops::randn({batch, c.c_out, c.out_size(), c.out_size()});
      const double s = best_seconds(
          [&] {
            for (const Tensor& t : {x, w, b})
              if (t.defined()) t.set_grad(Tensor());
            autograd::backward(ops::conv2d(x, w, b, o), gy);
          },
          min_seconds);
      std::printf(" fwdbwd_ms=%.3f fwdbwd_gflops=%.1f", s * 1e3, 6 * macs / s / 1e9);
      total_fwdbwd += c.count * s;
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf("conv total batch=%lld threads=%d gmacs_per_image=%.3f fwd_ms=%.1f fwd_gflops=%.1f",
              (long long)batch, num_threads(), total_macs / batch / 1e9, total_fwd * 1e3,
              2 * total_macs / total_fwd / 1e9);
  if (backward)
    std::printf(" fwdbwd_ms=%.1f fwdbwd_gflops=%.1f", total_fwdbwd * 1e3,
                6 * total_macs / total_fwdbwd / 1e9);
  std::printf("\n");
}

void add_bench_conv_command(CLI::App& bench, Commands& out) {
  struct Options {
    int64_t batch = 8;
    double min_seconds = 0.5;
    bool backward = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd =
      bench.add_subcommand("conv", "ResNeSt-50 conv2d shapes at 224x224: ms and GFLOP/s");
  cmd->add_option("--batch", o->batch, "Images per batch")->check(CLI::PositiveNumber);
  cmd->add_option("--min-seconds", o->min_seconds, "Minimum timed seconds per shape and pass");
  cmd->add_flag("--backward", o->backward,
                "Also time forward+backward (gradients of x, weight, bias)");
  out.push_back({cmd, [o] { bench_conv(o->batch, o->min_seconds, o->backward); }});
}

} // namespace splat::train
