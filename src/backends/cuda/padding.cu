#include "backends/cuda/axis_map.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

class PaddingKernel : public Kernel {
 public:
  PaddingKernel(const PaddingParams& p, uint64_t fill) : p_(p), fill_(fill) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    const Dims &x = in[0].dims, &y = out[0].dims;
    std::vector<int64_t> xs = contiguous_strides(x);
    int first = x.nb_dims - p_.pre_padding.nb_dims;  // first padded axis
    cpu::AxisMap map;
    map.dims = y;
    map.offset.assign(y.nb_dims, {});
    for (int i = 0; i < y.nb_dims; ++i) {
      auto& o = map.offset[i];
      o.resize(static_cast<size_t>(y.d[i]));
      int64_t pre = i >= first ? p_.pre_padding.d[i - first] : 0;
      int64_t post = i >= first ? p_.post_padding.d[i - first] : 0;
      for (int64_t k = 0; k < y.d[i]; ++k) {
        int64_t c = pad_source(p_.mode, k, pre, post, x.d[i]);
        o[k] = c < 0 ? -1 : c * xs[i];
      }
    }
    map_.upload(map);
  }
  void run(const KernelArgs& a) override {
    map_.run(dtype_size(a.out[0].dtype), a.in[0].data, a.out[0].data, a.out[0].numel(), nullptr, fill_, stream_of(a),
             "padding");
  }
  const char* impl_name() const override { return "cuda_padding"; }

 private:
  PaddingParams p_;
  uint64_t fill_;  // the fill value's bits in the element type
  DeviceAxisMap map_;
};

// The fill value's bits as an element of `t`. Unlike cpu::value_bits (which stores half types as float32
// because the CPU kernels see float32), half types are stored natively here.
uint64_t fill_bits(double v, DataType t) {
  uint64_t bits = 0;
  if (t == DataType::kHALF) {
    uint16_t h = float_to_half(static_cast<float>(v));
    std::memcpy(&bits, &h, sizeof(h));
  } else if (t == DataType::kBF16) {
    uint16_t h = float_to_bf16(static_cast<float>(v));
    std::memcpy(&bits, &h, sizeof(h));
  } else {
    bits = cpu::value_bits(v, t);
  }
  return bits;
}

}  // namespace

std::unique_ptr<Kernel> make_Padding(const PaddingLayer& l, const std::vector<TensorDesc>& in,
                                     const std::vector<TensorDesc>&, std::string* why) {
  *why = move_dtype_problem(in[0].dtype, "Padding");
  if (!why->empty()) return nullptr;
  return std::make_unique<PaddingKernel>(l.p, fill_bits(l.p.value, in[0].dtype));
}

}  // namespace torch2trt::gpu
