// CUDA kernels for indexing ops and the scatters their backward passes need: the same contracts
// as ops/cpu/index.h (the oracle for every kernel here). Tensors are on one CUDA device; index
// values were validated with find_bad_index before any other kernel reads them. Functions that
// size outputs (count_nonzero, find_bad_index) read one value back to the host.
#pragma once

#include "core/tensor.h"
#include "ops/cpu/index.h"

#include <optional>

namespace splat::ops::cuda {

using cpu::BadIndex;

std::optional<BadIndex> find_bad_index(const Tensor& index, int64_t size);

void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);
void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);
void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);
void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);

int64_t count_nonzero(const Tensor& t);
void masked_select(const Tensor& out, const Tensor& x, const Tensor& mask);
void masked_scatter(const Tensor& out, const Tensor& mask, const Tensor& src);
void nonzero(const Tensor& out, const Tensor& x);

} // namespace splat::ops::cuda
