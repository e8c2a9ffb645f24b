#include "jetbench/common.h"

namespace jetbench {

void validateFrame(const FrameView& f, std::size_t availableBytes) {
  if (f.width <= 0 || f.height <= 0) {
    throw InvalidArgument("frame is " + std::to_string(f.width) + "x" + std::to_string(f.height) +
                          ": a frame needs a width and height of at least 1 pixel");
  }
  const long long rowBytes = 3LL * f.width;
  if (f.strideBytes < rowBytes) {
    throw InvalidArgument("frame stride " + std::to_string(f.strideBytes) + " bytes is smaller than one BGR row (" +
                          std::to_string(rowBytes) + " bytes for width " + std::to_string(f.width) +
                          "): give the row pitch in bytes, at least width * 3");
  }
  const unsigned long long needed = static_cast<unsigned long long>(f.strideBytes) * (f.height - 1) + rowBytes;
  if (f.data == nullptr || availableBytes < needed) {
    throw InvalidArgument("frame " + std::to_string(f.width) + "x" + std::to_string(f.height) + " with stride " +
                          std::to_string(f.strideBytes) + " needs " + std::to_string(needed) + " bytes, the buffer has " +
                          std::to_string(availableBytes));
  }
}

}  // namespace jetbench
