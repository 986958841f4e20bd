#include "backends/cpu/onednn_util.h"

#include <cstdlib>
#include <cstring>

namespace torch2trt::cpu {

bool onednn_enabled() {
#ifdef T2T_WITH_ONEDNN
  const char* v = std::getenv("T2T_CPU_NO_ONEDNN");
  return !v || !*v || std::strcmp(v, "0") == 0;
#else
  return false;
#endif
}

}  // namespace torch2trt::cpu

#ifdef T2T_WITH_ONEDNN
namespace torch2trt::cpu::dnn {

const dnnl::engine& engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::memory::dims dims(const int64_t* d, int n) { return dnnl::memory::dims(d, d + n); }

dnnl::memory::desc plain_f32(const dnnl::memory::dims& d) {
  dnnl::memory::dims strides(d.size());
  int64_t acc = 1;
  for (size_t i = d.size(); i-- > 0;) {
    strides[i] = acc;
    acc *= d[i] > 0 ? d[i] : 1;
  }
  return dnnl::memory::desc(d, dnnl::memory::data_type::f32, strides);
}

void Primitive::init(dnnl::primitive prim, const std::vector<std::pair<int, dnnl::memory::desc>>& args,
                     const std::vector<std::pair<int, dnnl::memory>>& fixed) {
  prim_ = std::move(prim);
  stream_ = dnnl::stream(engine());
  ids_.clear();
  mems_.clear();
  args_.clear();
  for (auto& [id, md] : args) {
    // DNNL_MEMORY_NONE: the pointer is attached at each run.
    dnnl::memory m(md, engine(), DNNL_MEMORY_NONE);
    ids_.push_back(id);
    mems_.push_back(m);
    args_[id] = m;
  }
  for (auto& [id, m] : fixed) args_[id] = m;
  ready_ = true;
}

void Primitive::run(const std::vector<void*>& ptrs) {
  for (size_t i = 0; i < mems_.size(); ++i) mems_[i].set_data_handle(ptrs[i]);
  prim_.execute(stream_, args_);
  stream_.wait();
}

dnnl::memory reorder_to(const dnnl::memory::desc& src, const void* data, const dnnl::memory::desc& dst) {
  dnnl::memory from(src, engine(), const_cast<void*>(data));
  dnnl::memory to(dst, engine());
  dnnl::stream s(engine());
  dnnl::reorder(from, to).execute(s, from, to);
  s.wait();
  return to;
}

}  // namespace torch2trt::cpu::dnn
#endif
