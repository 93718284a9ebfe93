#include "models/detection/fpn.h"

#include "core/error.h"
#include "models/detection/conv_module.h"
#include "nn/init.h"
#include "ops/pointwise.h"
#include "ops/resize.h"
#include "ops/view.h"

namespace splat::models {

Fpn::Fpn(const FpnConfig& cfg) : Module("FPN"), config(cfg) {
  SPLAT_CHECK(!cfg.in_channels.empty() && cfg.num_outs >= static_cast<int64_t>(cfg.in_channels.size()),
              "FPN: num_outs (", cfg.num_outs, ") must be at least the number of inputs (",
              cfg.in_channels.size(), ")");
  lateral_convs = register_module("lateral_convs", std::make_shared<nn::ModuleList>());
  fpn_convs = register_module("fpn_convs", std::make_shared<nn::ModuleList>());
  for (int64_t c : cfg.in_channels) {
    auto lateral = lateral_convs->push_back(std::make_shared<ConvModule>(
        c, cfg.out_channels, ConvModuleOptions{.kernel = 1, .padding = 0, .relu = false}));
    auto output = fpn_convs->push_back(std::make_shared<ConvModule>(
        cfg.out_channels, cfg.out_channels, ConvModuleOptions{.kernel = 3, .padding = 1, .relu = false}));
    // mmdet's FPN init_cfg: Xavier (uniform) on every conv, zero bias.
    for (const auto& m : {lateral, output}) {
      nn::init::xavier_uniform_(m->conv->weight);
      nn::init::constant_(m->conv->bias, 0);
    }
  }
}

std::vector<Tensor> Fpn::forward(const std::vector<Tensor>& inputs) {
  const size_t n = lateral_convs->size();
  SPLAT_CHECK(inputs.size() == n, "FPN: expected ", n, " input levels, got ", inputs.size());
  std::vector<Tensor> laterals;
  for (size_t i = 0; i < n; ++i) laterals.push_back((*lateral_convs)[i]->forward(inputs[i]));
  for (size_t i = n - 1; i > 0; --i) {
    const Tensor& finer = laterals[i - 1];
    laterals[i - 1] = ops::add(finer, ops::upsample_nearest2d(laterals[i], {finer.size(2), finer.size(3)}));
  }
  std::vector<Tensor> outs;
  for (size_t i = 0; i < n; ++i) outs.push_back((*fpn_convs)[i]->forward(laterals[i]));
  // mmdet's extra levels: max_pool2d(kernel 1, stride 2), i.e. every second row and column.
  while (static_cast<int64_t>(outs.size()) < config.num_outs)
    outs.push_back(ops::slice(ops::slice(outs.back(), 2, 0, outs.back().size(2), 2), 3, 0,
                              outs.back().size(3), 2));
  return outs;
}

} // namespace splat::models
