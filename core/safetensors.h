// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
//
//   8 bytes    N, the header length, unsigned little-endian
//   N bytes    a JSON object, possibly padded with trailing spaces:
//                {"__metadata__": {"key": "value", ...},
//                 "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}, ...}
//   the rest   the data buffer; tensor "name" is bytes [b, e) of it, row-major, little-endian
//
// dtypes: F32 F64 I64 I32 U8 BOOL (one byte, 0 or 1). The loader is strict: any malformed JSON
// (reported with its byte position), unknown dtype or field, duplicate key, non-string metadata
// value, byte range out of the buffer, size not matching dtype and shape, or overlap or hole in
// the buffer throws an Error naming the file and the tensor or key. Tensors load contiguous, on
// the cpu.
//
// The writer puts __metadata__ first and the tensors in key order, packed in that order, and pads
// the header with spaces so the data buffer starts 8-byte aligned. It writes a temporary file
// next to the target, fsyncs it, renames it over the target and fsyncs the directory, so a crash
// or a failed save leaves either the old file or the complete new one.
#pragma once

#include "core/tensor.h"

#include <map>
#include <string>

namespace splat {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

SafeTensors load_safetensors(const std::string& path);

// Tensors must be defined and on the cpu; any strides (written in row-major element order).
// The name "__metadata__" is reserved.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

} // namespace splat
