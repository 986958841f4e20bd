// The CPU backend: kernel dispatch from layers.def, half-precision adapter, host memory.
#include <omp.h>

#include <cstdlib>
#include <cstring>

#include "backends/cpu/cpu_kernels.h"

namespace torch2trt {
namespace cpu {

int num_threads() { return omp_get_max_threads(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& f) {
  if (n <= 0) return;
  int nt = num_threads();
  if (grain < 1) grain = 1;
  int64_t chunks = std::min<int64_t>(nt, (n + grain - 1) / grain);
  if (chunks <= 1 || omp_in_parallel()) {
    f(0, n);
    return;
  }
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    if (b < e) f(b, e);
  }
}

namespace {

bool is_half(DataType t) { return t == DataType::kHALF || t == DataType::kBF16; }

std::vector<TensorDesc> as_float(std::vector<TensorDesc> d) {
  for (auto& x : d)
    if (is_half(x.dtype)) x.dtype = DataType::kFLOAT;
  return d;
}

std::unique_ptr<Kernel> dispatch(const Layer& l, const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out,
                                 std::string* why) {
  switch (l.kind()) {
#define T2T_LAYER(Name, family) \
  case LayerKind::k##Name:      \
    return make_##Name(static_cast<const Name##Layer&>(l), in, out, why);
#include "torch2trt/layers.def"
#undef T2T_LAYER
  }
  *why = "unknown layer kind";
  return nullptr;
}

// Runs a float32 kernel on float16/bfloat16 tensors by converting around it.
class HalfAdapter : public Kernel {
 public:
  explicit HalfAdapter(std::unique_ptr<Kernel> inner) : inner_(std::move(inner)) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    inner_->reshape(as_float(in), as_float(out));
    bytes_ = 0;
    auto add = [&](const std::vector<TensorDesc>& v) {
      for (auto& d : v)
        if (is_half(d.dtype)) bytes_ += align(d.dims.volume() * 4);
    };
    add(in);
    add(out);
  }
  size_t workspace_size() const override { return bytes_ + inner_->workspace_size(); }
  void run(const KernelArgs& a) override {
    KernelArgs f = a;
    auto* scratch = static_cast<uint8_t*>(a.workspace);
    auto widen = [&](TensorView& v, bool copy_in) {
      if (!is_half(v.dtype)) return;
      int64_t n = v.numel();
      float* dst = reinterpret_cast<float*>(scratch);
      scratch += align(n * 4);
      if (copy_in) {
        const uint16_t* src = static_cast<const uint16_t*>(v.data);
        if (v.dtype == DataType::kHALF)
          for (int64_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i]);
        else
          for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_float(src[i]);
      }
      v.data = dst;
      v.dtype = DataType::kFLOAT;
    };
    for (auto& v : f.in)
      if (v.data) widen(v, true);
    for (auto& v : f.out) widen(v, false);
    f.workspace = scratch;
    inner_->run(f);
    for (size_t i = 0; i < a.out.size(); ++i) {
      const TensorView& o = a.out[i];
      if (!is_half(o.dtype)) continue;
      const float* src = static_cast<const float*>(f.out[i].data);
      uint16_t* dst = static_cast<uint16_t*>(o.data);
      int64_t n = o.numel();
      if (o.dtype == DataType::kHALF)
        for (int64_t k = 0; k < n; ++k) dst[k] = float_to_half(src[k]);
      else
        for (int64_t k = 0; k < n; ++k) dst[k] = float_to_bf16(src[k]);
    }
  }
  const char* impl_name() const override { return inner_->impl_name(); }
  // No constant_output / output_aliases_input: the inner kernel sees float32 copies (a float copy kernel
  // may implement a cast), so its bytes are never the output's.

 private:
  static size_t align(int64_t n) { return (static_cast<size_t>(n) + 63) & ~size_t(63); }
  std::unique_ptr<Kernel> inner_;
  size_t bytes_ = 0;
};

bool any_half(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) {
  for (auto& d : in)
    if (is_half(d.dtype)) return true;
  for (auto& d : out)
    if (is_half(d.dtype)) return true;
  return false;
}

class CpuBackend : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  DeviceKind device() const override { return DeviceKind::kCPU; }
  std::string unsupported_reason(const Layer& l, const std::vector<TensorDesc>& in,
                                 const std::vector<TensorDesc>& out) const override {
    std::string why;
    auto k = any_half(in, out) ? dispatch(l, as_float(in), as_float(out), &why) : dispatch(l, in, out, &why);
    if (k) return "";
    return why.empty() ? "no CPU kernel" : why;
  }
  std::unique_ptr<Kernel> make_kernel(const Layer& l, const std::vector<TensorDesc>& in,
                                      const std::vector<TensorDesc>& out) const override {
    std::string why;
    bool half = any_half(in, out);
    auto k = half ? dispatch(l, as_float(in), as_float(out), &why) : dispatch(l, in, out, &why);
    if (!k)
      throw Unsupported(std::string(layer_kind_name(l.kind())) + " layer '" + l.name() + "' cannot run on the CPU: " + why);
    if (half) return std::make_unique<HalfAdapter>(std::move(k));
    return k;
  }
  void* allocate(size_t bytes) override {
    void* p = std::aligned_alloc(64, (bytes + 63) & ~size_t(63));
    if (!p && bytes) throw RuntimeFailure("out of host memory allocating " + std::to_string(bytes) + " bytes");
    return p;
  }
  void release(void* p) override { std::free(p); }
  void copy(void* dst, const void* src, size_t bytes, void*) override {
    if (bytes) std::memmove(dst, src, bytes);
  }
  void upload(void* dst, const void* src, size_t bytes) override { copy(dst, src, bytes, nullptr); }
  void download(void* dst, const void* src, size_t bytes) override { copy(dst, src, bytes, nullptr); }
  void synchronize(void*) override {}
};

}  // namespace
}  // namespace cpu

Backend& cpu_backend() {
  static cpu::CpuBackend b;
  return b;
}

Backend& get_backend(DeviceKind kind, int device_index) {
  switch (kind) {
    case DeviceKind::kCPU: return cpu_backend();
    case DeviceKind::kCUDA: {
      std::string why;
      Backend* b = cuda_backend(device_index, &why);
      if (!b) throw Unsupported(why);
      return *b;
    }
  }
  throw Unsupported("unknown device kind");
}

#ifndef T2T_WITH_CUDA
Backend* cuda_backend(int, std::string* why) {
  *why = "this torch2trt was built without CUDA support; rebuild it where nvcc is available (see README) or build a CPU engine";
  return nullptr;
}
#endif

}  // namespace torch2trt
