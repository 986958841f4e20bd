// T2T_PLACEHOLDER
#include "backends/cpu/cpu_kernels.h"

namespace torch2trt::cpu {
std::unique_ptr<Kernel> make_Select(const SelectLayer&, const std::vector<TensorDesc>&, const std::vector<TensorDesc>&, std::string* why) {
  *why = "not implemented";
  return nullptr;
}
}  // namespace torch2trt::cpu
