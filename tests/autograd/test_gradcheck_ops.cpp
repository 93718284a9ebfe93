// gradcheck of the joining and indexing ops (cat, stack, split, index_select, gather, scatter_add).
#include "tests/autograd/grad_helpers.h"
