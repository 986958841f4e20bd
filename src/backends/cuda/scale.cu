#include "backends/cuda/cuda_device.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace torch2trt::gpu {
namespace {

// y[i] = (x[i] * scale[w] + shift[w]) ** power[w] with w = (i / div) % mod; a null array is the identity.
template <class T>
struct ScaleOp {
  const T* x;
  T* y;
  const float *scale, *shift, *power;
  int64_t div, mod;
  __device__ __forceinline__ void operator()(int64_t i) const {
    int64_t w = (i / div) % mod;
    float v = to_float(x[i]);
    if (scale) v *= scale[w];
    if (shift) v += shift[w];
    if (power) v = powf(v, power[w]);
    y[i] = from_float<T>(v);
  }
};

class ScaleKernel : public Kernel {
 public:
  explicit ScaleKernel(const ScaleParams& p) : p_(p) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>&) override {
    if (!uploaded_) upload();
    div_ = 1, mod_ = 1;
    if (p_.mode != ScaleMode::kUNIFORM) {
      int64_t outer, c, inner;
      cpu::split_at_axis(in[0].dims, p_.channel_axis, &outer, &c, &inner);
      if (p_.mode == ScaleMode::kCHANNEL)
        div_ = inner, mod_ = c;
      else
        mod_ = c * inner;
    }
    if (mod_ < 1) mod_ = 1;  // empty tensor: nothing runs
  }
  void run(const KernelArgs& a) override {
    const float* base = weights_.as<const float>();
    const float* sc = p_.scale.empty() ? nullptr : base + scale_at_;
    const float* sh = p_.shift.empty() ? nullptr : base + shift_at_;
    const float* pw = p_.power.empty() ? nullptr : base + power_at_;
    dispatch_float(a.in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      launch_1d(a.out[0].numel(), ScaleOp<T>{a.in[0].as<const T>(), a.out[0].as<T>(), sc, sh, pw, div_, mod_},
                stream_of(a), "scale");
    });
  }
  const char* impl_name() const override { return "cuda_scale"; }

 private:
  // The three arrays, converted to float, in one device buffer: [scale | shift | power].
  void upload() {
    std::vector<float> all;
    auto put = [&](const Weights& w, size_t* at) {
      *at = all.size();
      auto v = w.to_float();
      all.insert(all.end(), v.begin(), v.end());
    };
    put(p_.scale, &scale_at_);
    put(p_.shift, &shift_at_);
    put(p_.power, &power_at_);
    weights_.upload(all.data(), all.size() * sizeof(float));
    uploaded_ = true;
  }
  ScaleParams p_;
  DeviceBuffer weights_;
  bool uploaded_ = false;
  size_t scale_at_ = 0, shift_at_ = 0, power_at_ = 0;
  int64_t div_ = 1, mod_ = 1;
};

}  // namespace

std::unique_ptr<Kernel> make_Scale(const ScaleLayer& l, const std::vector<TensorDesc>& in,
                                   const std::vector<TensorDesc>&, std::string* why) {
  if (!is_float_type(in[0].dtype)) return unsupported(why, "Scale on " + dt(in[0].dtype));
  return std::make_unique<ScaleKernel>(l.p);
}

}  // namespace torch2trt::gpu
