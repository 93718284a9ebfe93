// Unused: flip copies a negatively strided view with the copy kernel (ops/cpu/copy.h).
