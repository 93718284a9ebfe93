// GCC 12.2 built for AVX-512 passes `padding` as (1, 0) here. meson.build runs this file with the
// host code's flags when the build machine can execute them, and the toolchain suite links it
// (with SPLAT_PROBE_NO_MAIN) into its AVX-512 variant (tests/toolchain/).
//
// What happens (seen in -fdump-rtl-all and the assembly): the SLP vectoriser stores the first 32
// bytes of the temporary as the vector {1, 1, 0, 0} (correct GIMPLE); the RTL dead-store pass
// (dse1) forwards that store into the 256-bit copy of the by-value argument, as an OImode
// integer constant; the x86 back end then materialises that constant as a broadcast of its first
// 64-bit element (vpbroadcastq), i.e. {1, 1, 1, 1}. This matches GCC bug 108599, which other
// projects worked around for Debian 12's GCC 12.2; clang 14 compiles it correctly.
// Exit status 0 when the compiler got it right.
struct Size2 {
  long h = 0, w = 0;
  constexpr Size2(long both) : h(both), w(both) {}
};
struct Options {
  Size2 stride = 1, padding = 0, dilation = 1;
  long groups = 1;
};
[[gnu::noipa]] long padding_h(long, long, Options o) { return o.padding.h; }
bool struct_argument_probe_ok() { return padding_h(3, 1, {.groups = 2}) == 0; }
#ifndef SPLAT_PROBE_NO_MAIN
int main() { return struct_argument_probe_ok() ? 0 : 1; }
#endif
