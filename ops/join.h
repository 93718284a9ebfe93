// Joining and splitting along one dim: cat, stack, split, chunk.
//
// cat and stack copy into a new contiguous tensor; split and chunk return views of their input
// (ops::narrow), so writes through a piece reach the input. Negative dims count from the end.
#pragma once

#include "core/tensor.h"

#include <vector>

namespace splat::ops {

// The tensors joined along dim. All share dtype, device and ndim (>= 1), and their sizes agree
// in every dim but `dim`. Unlike PyTorch, a 1-d empty tensor of shape [0] is not skipped: it
// must have the same ndim as the others like any input. The list must not be empty.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
// The tensors, all of one shape S, joined along a new dim: the result has shape S with
// tensors.size() inserted at dim, which lies in [-ndim-1, ndim].
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Consecutive views of split_size elements along dim; the last one is smaller when split_size
// does not divide the size. A dim of size 0 gives one empty piece.
std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim = 0);
// Consecutive views of sizes[i] elements along dim; the sizes must sum to the size of dim.
std::vector<Tensor> split(const Tensor& t, const std::vector<int64_t>& sizes, int64_t dim = 0);
// PyTorch's chunk: views of ceil(size / chunks) elements along dim (the last one smaller), so
// fewer than `chunks` pieces come back when the size does not fill them all (size 5 in 4 chunks
// gives 2, 2, 1). A dim of size 0 gives `chunks` empty pieces.
std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim = 0);

} // namespace splat::ops
