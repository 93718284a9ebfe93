// Writes the TensorBoard file tests/train/check_tfevents.py reads back with TensorBoard's own
// reader: scalars under three tags over 20 steps, values a function of the tag and step.
#include "train/log/tfevents_writer.h"

#include <cmath>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_tfevents DIR\n");
    return 2;
  }
  try {
    splat::train::TfEventsWriter w(argv[1]);
    for (int64_t step = 0; step < 20; ++step) {
      w.add_scalar("train/loss", 2.0 / (1.0 + static_cast<double>(step)), step * 50, 1.7e9 + static_cast<double>(step));
      w.add_scalar("train/lr", 0.02 * std::pow(0.9, static_cast<double>(step)), step * 50, 1.7e9 + static_cast<double>(step));
      if (step % 5 == 4) w.add_scalar("val/bbox_mAP", 0.01 * static_cast<double>(step), step * 50, 1.7e9 + static_cast<double>(step));
    }
    w.flush();
    std::printf("%s\n", w.path().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_tfevents: %s\n", e.what());
    return 1;
  }
  return 0;
}
