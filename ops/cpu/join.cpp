// Unused: cat and stack copy through the copy kernel (ops/cpu/copy.h) into narrow() views.
