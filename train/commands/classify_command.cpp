// `splat classify`: runs an ImageNet classifier in eval mode on a tensor file or on one image.
//
//   splat classify --model resnest50 --weights W.pth|W.safetensors --input IN.safetensors --output OUT.safetensors
//   splat classify --model resnest50 --weights W.pth --image photo.jpg
//
// Weights: a .pth is imported (nn/pth.h); the official ResNeSt files are recognised by their
// `conv1.0.weight` key and renamed with the resnest key map. Loading is strict.
// Image preprocessing (the ResNeSt evaluation transform): shorter side resized to 256 with
// bilinear sampling (half-pixel centres, no antialiasing: torchvision's PIL path antialiases when
// shrinking, so probabilities can differ slightly from it on large photos), centre crop 224,
// scaled to [0, 1] and normalised with the ImageNet mean and std.
#include "autograd/grad_mode.h"
#include "core/safetensors.h"
#include "data/image.h"
#include "data/transforms.h"
#include "models/resnest.h"
#include "nn/checkpoint_keys.h"
#include "nn/pth.h"
#include "ops/copy.h"
#include "ops/pointwise.h"
#include "ops/softmax.h"
#include "ops/sort.h"
#include "ops/view.h"
#include "train/commands/command.h"

#include <cmath>
#include <cstdio>
#include <memory>

namespace splat::train {
namespace {

std::map<std::string, Tensor> load_weights(const std::string& path) {
  if (path.ends_with(".safetensors")) return load_safetensors(path).tensors;
  auto state = nn::load_pth_state_dict(path);
  return state.count("conv1.0.weight") ? nn::map_keys(state, nn::KeyMap::resnest) : state;
}

// (H, W, 3) u8 -> (1, 3, 224, 224) f32, the ResNeSt evaluation transform.
Tensor imagenet_eval_input(const Tensor& image) {
  constexpr int64_t kResize = 256, kCrop = 224;
  const int64_t h = image.size(0), w = image.size(1);
  const double scale = double(kResize) / std::min(h, w);
  const int64_t rh = std::max<int64_t>(kCrop, std::lround(h * scale)), rw = std::max<int64_t>(kCrop, std::lround(w * scale));
  const Tensor resized = data::resize_bilinear(image, rh, rw);
  const Tensor crop = ops::narrow(ops::narrow(resized, 0, (rh - kCrop) / 2, kCrop), 1, (rw - kCrop) / 2, kCrop);
  Tensor x = ops::div(ops::to(ops::permute(crop, {2, 0, 1}), DType::f32), 255.0);
  const Tensor mean = ops::from_vector<float>({0.485f, 0.456f, 0.406f}, {3, 1, 1});
  const Tensor std = ops::from_vector<float>({0.229f, 0.224f, 0.225f}, {3, 1, 1});
  return ops::unsqueeze(ops::div(ops::sub(x, mean), std), 0);
}

} // namespace

void add_classify_command(CLI::App& app, Commands& out) {
  struct Options {
    std::string model = "resnest50", weights, input, output, image, device = "cpu";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("classify", "Run an ImageNet classifier in eval mode");
  cmd->add_option("--model", o->model, "resnest50, resnest101, resnest200 or resnest269");
  cmd->add_option("--weights", o->weights, "Weights (.pth or .safetensors)")->required();
  auto* input = cmd->add_option("--input", o->input, "safetensors file with an f32 NCHW tensor `input`");
  auto* image = cmd->add_option("--image", o->image, "A JPEG or PNG image; prints the top 5 classes");
  input->excludes(image);
  cmd->add_option("--output", o->output, "Where --input's logits go (tensor `logits`)")->needs(input);
  cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  out.push_back({cmd, [o] {
    SPLAT_CHECK(!o->input.empty() || !o->image.empty(), "classify: give --input (with --output) or --image");
    SPLAT_CHECK(o->input.empty() || !o->output.empty(), "classify: --input needs --output");
    const Device device = o->device == "cuda" ? Device::cuda(0) : Device::cpu();
    auto model = models::make_classifier(o->model);
    model->load_state_dict(load_weights(o->weights));
    model->to(device);
    model->eval();
    autograd::NoGradGuard no_grad;
    if (!o->input.empty()) {
      const auto file = load_safetensors(o->input);
      auto it = file.tensors.find("input");
      SPLAT_CHECK(it != file.tensors.end(), o->input, ": no tensor named 'input'");
      const Tensor& x = it->second;
      SPLAT_CHECK(x.dtype() == DType::f32 && x.dim() == 4 && x.size(1) == 3, o->input,
                  ": 'input' must be f32 (N, 3, H, W), got ", dtype_name(x.dtype()), " ", shape_str(x.shape()));
      const Tensor logits = ops::to(model->forward(ops::to(x, device)), Device::cpu());
      save_safetensors(o->output, {{"logits", logits}}, {{"model", o->model}});
      std::printf("wrote %s: logits %s\n", o->output.c_str(), shape_str(logits.shape()).c_str());
      return;
    }
    const Tensor x = ops::to(imagenet_eval_input(data::read_image(o->image)), device);
    const Tensor probs = ops::to(ops::softmax(model->forward(x), 1), Device::cpu());
    const auto top = ops::topk(ops::view(probs, {probs.size(1)}), 5, 0);
    const auto* p = top.values.data<float>();
    const auto* idx = top.indices.data<int64_t>();
    for (int i = 0; i < 5; ++i) std::printf("%lld %.4f\n", static_cast<long long>(idx[i]), p[i]);
  }});
}

} // namespace splat::train
