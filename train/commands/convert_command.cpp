// `splat convert IN.pth OUT.safetensors [--map resnest|mmdet|none]`: imports a PyTorch
// checkpoint's state dict (nn/pth.h), renames its keys for splat's modules
// (nn/checkpoint_keys.h) and writes it as safetensors, splat's own format.
#include "core/safetensors.h"
#include "nn/checkpoint_keys.h"
#include "nn/pth.h"
#include "train/commands/command.h"

#include <cstdio>
#include <memory>

namespace splat::train {

void add_convert_command(CLI::App& app, Commands& out) {
  struct Options {
    std::string input, output, map = "none";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert a PyTorch .pth checkpoint to safetensors");
  cmd->add_option("input", o->input, "PyTorch checkpoint (.pth, zip or legacy container)")->required();
  cmd->add_option("output", o->output, "safetensors file to write")->required();
  cmd->add_option("--map", o->map, "Key renaming: none, resnest (official ImageNet files) or mmdet")
      ->check(CLI::IsMember({"none", "resnest", "mmdet"}));
  out.push_back({cmd, [o] {
    const auto state = nn::map_keys(nn::load_pth_state_dict(o->input), nn::parse_key_map(o->map));
    int64_t elements = 0;
    for (const auto& [key, t] : state) elements += t.numel();
    // Views that shared a storage in the file are written as separate dense tensors.
    save_safetensors(o->output, state, {{"source", o->input}, {"key_map", o->map}});
    std::printf("wrote %s: %zu tensors, %lld elements\n", o->output.c_str(), state.size(),
                static_cast<long long>(elements));
  }});
}

} // namespace splat::train
