// T2T_PLACEHOLDER
#include "python/bind.h"

namespace torch2trt::py {
void bind_Select(nb::module_& m, nb::class_<Network>& net) { (void)m, (void)net; }
}  // namespace torch2trt::py
