#include "core/device.h"
#include "core/dtype.h"
#include "tests/helpers.h"

using namespace splat;

TEST_CASE("dtype sizes and names") {
  CHECK(itemsize(DType::f32) == 4);
  CHECK(itemsize(DType::f64) == 8);
  CHECK(itemsize(DType::i64) == 8);
  CHECK(itemsize(DType::i32) == 4);
  CHECK(itemsize(DType::u8) == 1);
  CHECK(itemsize(DType::b8) == 1);
  CHECK(dtype_name(DType::b8) == "bool");
}

TEST_CASE("dispatch instantiates only the allowed dtypes and names the rejected one") {
  const auto size = dispatch<DTypeSet::floating>(DType::f64, "op", []<class T>() { return sizeof(T); });
  CHECK(size == 8);
  CHECK_THROWS_WITH_ALL(dispatch<DTypeSet::floating>(DType::i32, "exp", []<class T>() { return 0; }),
                        "exp", "unsupported dtype i32");
}

TEST_CASE("devices parse and print") {
  CHECK(Device::parse("cpu") == Device::cpu());
  CHECK(Device::parse("cuda:1") == Device::cuda(1));
  CHECK(Device::cuda(2).str() == "cuda:2");
  CHECK_THROWS_WITH_ALL(Device::parse("cuda:x"), "unknown device 'cuda:x'");
  CHECK_THROWS_WITH_ALL(Device::parse("tpu"), "unknown device 'tpu'");
}
