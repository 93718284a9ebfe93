// Import of PyTorch checkpoints written by torch.save (spec section 7.2): the zip container
// (PyTorch >= 1.6) and the legacy container (magic number, protocol, sys info, object pickle,
// storage keys, raw storages), detected from the first bytes.
//
// Tensors come back on the cpu with their recorded sizes, strides and storage offsets; tensors
// that shared a storage in the file share one here. splat has no 16-bit or 8-bit signed types,
// so Half and BFloat16 storages are widened to float32 and Short/Char storages to int32 (exact
// conversions); any other storage type is an error naming it.
//
// A truncated or corrupted file, an unknown pickle opcode, a tensor reaching outside its storage
// or an unsupported storage type throws an Error naming the file; nothing is executed.
#pragma once

#include "core/tensor.h"
#include "nn/pickle.h"

#include <map>
#include <span>
#include <string>

namespace splat::nn {

// The whole pickled object. Tensors are Values of kind opaque for which tensor_of() is non-null.
pickle::ValuePtr load_pth(const std::string& path);
// The same from bytes in memory; name is used in error messages.
pickle::ValuePtr load_pth(std::span<const uint8_t> bytes, const std::string& name);
const Tensor* tensor_of(const pickle::Value& v);

// The state dict of a checkpoint: the root when it is a dict of tensors, otherwise its
// `state_dict` (MMDetection, mmcv) or `model` entry. Throws an Error listing the top-level keys
// when there is none, and naming any entry that is not a tensor.
std::map<std::string, Tensor> state_dict_of(const pickle::ValuePtr& root, const std::string& path);

// load_pth + state_dict_of.
std::map<std::string, Tensor> load_pth_state_dict(const std::string& path);

} // namespace splat::nn
