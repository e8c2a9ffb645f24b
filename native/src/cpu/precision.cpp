// Which precisions a GPU runs fast (plain C++, so CI checks the table).
#include "jetbench/tensorrt.h"

namespace jetbench {

void checkPrecisionIsFast(const std::string& precision, int major, int minor) {
  const int cc = major * 10 + minor;
  const std::string gpu = "this GPU (compute capability " + std::to_string(major) + "." + std::to_string(minor) + ")";
  if (precision == "fp32") return;
  if (precision == "fp16") {
    // Fast half arithmetic: Tegra X1 (5.3), P100 (6.0), Tegra X2 (6.2) and Volta onwards; GP10x (6.1) runs fp16 at 1/64 rate.
    if (cc == 53 || cc == 60 || cc == 62 || cc >= 70) return;
    throw InvalidArgument("fp16 is not fast on " + gpu + ": it needs compute capability 5.3, 6.0, 6.2 or 7.0 and later (Jetson Xavier/Orin); use --precision fp32");
  }
  if (precision == "int8") {
    // INT8 needs DP4A (6.1) or tensor cores (7.2 Xavier, 7.5 and later); Tegra X2 (6.2) and P100 (6.0) have neither.
    if (cc == 61 || cc >= 70) return;
    throw InvalidArgument("int8 is not fast on " + gpu + ": it needs compute capability 6.1 or 7.0 and later (Jetson Xavier/Orin); use --precision fp16 or fp32");
  }
  throw InvalidArgument("precision '" + precision + "' is not fp32, fp16 or int8");
}

}  // namespace jetbench
