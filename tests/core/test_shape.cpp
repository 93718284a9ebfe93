#include "core/shape.h"
#include "tests/helpers.h"

using namespace splat;

TEST_CASE("broadcast_shapes follows NumPy rules") {
  CHECK(broadcast_shapes("t", Shape{2, 1, 4}, Shape{3, 1}) == Shape{2, 3, 4});
  CHECK(broadcast_shapes("t", Shape{}, Shape{5}) == Shape{5});
  CHECK(broadcast_shapes("t", Shape{0, 1}, Shape{1, 7}) == Shape{0, 7});
  CHECK_THROWS_WITH_ALL(broadcast_shapes("add", Shape{2, 3}, Shape{4}), "add", "[2, 3]", "[4]",
                        "3 vs 4");
}

TEST_CASE("wrap_dim accepts negative dims and names the valid range") {
  CHECK(wrap_dim("t", -1, 3) == 2);
  CHECK(wrap_dim("t", 0, 0) == 0);  // a 0-d tensor accepts dim 0 and -1
  CHECK(wrap_dim("t", -1, 0) == 0);
  CHECK_THROWS_WITH_ALL(wrap_dim("sum", 3, 3), "sum", "dim 3", "-3 to 2");
}

TEST_CASE("contiguous strides and numel") {
  CHECK(contiguous_strides(Shape{2, 3, 4}) == Strides{12, 4, 1});
  CHECK(contiguous_strides(Shape{2, 0, 4}) == Strides{4, 4, 1});
  CHECK(numel(Shape{}) == 1);
  CHECK(numel(Shape{3, 0}) == 0);
  CHECK_THROWS_WITH_ALL(numel(Shape{2, -1}), "negative size");
}
