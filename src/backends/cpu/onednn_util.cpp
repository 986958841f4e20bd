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

void Primitive::init(const dnnl::primitive_desc& pd, const std::vector<Arg>& args,
                     const std::vector<std::pair<int, dnnl::memory>>& fixed) {
  prim_ = dnnl::primitive(pd);
  stream_ = dnnl::stream(engine());
  slots_.clear();
  args_.clear();
  workspace_ = 0;
  for (const Arg& a : args) {
    Slot s;
    s.output = a.output;
    s.reordered = !(a.inner == a.user);
    // DNNL_MEMORY_NONE: pointers are attached at each run.
    s.user = dnnl::memory(a.user, engine(), DNNL_MEMORY_NONE);
    s.offset = workspace_;
    if (!s.reordered) {
      s.inner = s.user;
    } else {
      s.inner = dnnl::memory(a.inner, engine(), DNNL_MEMORY_NONE);
      s.reorder = a.output ? dnnl::reorder(s.inner, s.user) : dnnl::reorder(s.user, s.inner);
      workspace_ += (a.inner.get_size() + 63) & ~size_t(63);
    }
    args_[a.id] = s.inner;
    slots_.push_back(s);
  }
  for (auto& [id, m] : fixed) args_[id] = m;
  impl_ = pd.impl_info_str();
}

void Primitive::run(const std::vector<void*>& ptrs, void* workspace) {
  auto* ws = static_cast<uint8_t*>(workspace);
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    s.user.set_data_handle(ptrs[i]);
    if (s.reordered) s.inner.set_data_handle(ws + s.offset);
  }
  for (auto& s : slots_)
    if (s.reordered && !s.output) s.reorder.execute(stream_, s.user, s.inner);
  prim_.execute(stream_, args_);
  for (auto& s : slots_)
    if (s.reordered && s.output) s.reorder.execute(stream_, s.inner, s.user);
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
