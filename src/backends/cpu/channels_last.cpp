#include "backends/cpu/channels_last.h"

#include "backends/cpu/move_util.h"
#include "torch2trt/layers/convolution.h"

namespace torch2trt::cpu {
namespace {

size_t align64(size_t n) { return (n + 63) & ~size_t(63); }

// Axis order that reads a (..., *spatial, C) tensor as (..., C, *spatial), and back.
std::vector<int32_t> to_first(int rank, int nsp) {
  std::vector<int32_t> p;
  const int c = rank - 1 - nsp;
  for (int i = 0; i < c; ++i) p.push_back(i);
  p.push_back(rank - 1);
  for (int i = 0; i < nsp; ++i) p.push_back(c + i);
  return p;
}
std::vector<int32_t> to_last(int rank, int nsp) {
  std::vector<int32_t> p;
  const int c = rank - 1 - nsp;
  for (int i = 0; i < c; ++i) p.push_back(i);
  for (int i = 0; i < nsp; ++i) p.push_back(c + 1 + i);
  p.push_back(c);
  return p;
}

class ChannelsLastAdapter : public Kernel {
 public:
  ChannelsLastAdapter(std::unique_ptr<Kernel> inner, int nsp, std::vector<bool> permuted)
      : inner_(std::move(inner)), nsp_(nsp), permuted_(std::move(permuted)) {}
  void reshape(const std::vector<TensorDesc>& in, const std::vector<TensorDesc>& out) override {
    in_ = in, cf_in_ = in;
    in_maps_.assign(in.size(), AxisMap{});
    size_t off = 0;
    in_off_.assign(in.size(), 0);
    for (size_t i = 0; i < in.size(); ++i) {
      if (!is_permuted(i)) continue;
      cf_in_[i].dims = channels_first_dims(in[i].dims, nsp_);
      in_maps_[i] = AxisMap::permutation(in[i].dims, to_first(in[i].dims.nb_dims, nsp_));
      in_off_[i] = off;
      off += align64(static_cast<size_t>(in[i].dims.volume()) * dtype_size(in[i].dtype));
    }
    cf_out_ = out;
    cf_out_[0].dims = channels_first_dims(out[0].dims, nsp_);
    out_map_ = AxisMap::permutation(cf_out_[0].dims, to_last(out[0].dims.nb_dims, nsp_));
    out_off_ = off;
    off += align64(static_cast<size_t>(out[0].dims.volume()) * dtype_size(out[0].dtype));
    inner_->reshape(cf_in_, cf_out_);
    inner_off_ = off;
    ws_ = off + inner_->workspace_size();
  }
  size_t workspace_size() const override { return ws_; }
  void run(const KernelArgs& a) override {
    auto* ws = static_cast<uint8_t*>(a.workspace);
    KernelArgs b = a;
    b.workspace = ws + inner_off_;
    for (size_t i = 0; i < a.in.size(); ++i) {
      if (!is_permuted(i) || !a.in[i].data) continue;
      b.in[i].data = ws + in_off_[i];
      b.in[i].dims = cf_in_[i].dims;
      move(in_maps_[i], a.in[i].data, b.in[i].data, a.in[i].dtype);
    }
    b.out[0].data = ws + out_off_;
    b.out[0].dims = cf_out_[0].dims;
    inner_->run(b);
    move(out_map_, b.out[0].data, a.out[0].data, a.out[0].dtype);
  }
  const char* impl_name() const override { return inner_->impl_name(); }

 private:
  bool is_permuted(size_t i) const { return i < permuted_.size() && permuted_[i] && in_[i].dims.nb_dims >= nsp_ + 2; }
  static void move(const AxisMap& m, const void* src, void* dst, DataType t) {
    dispatch_bits(t, [&](auto tag) {
      using T = decltype(tag);
      run_axis_map(m, static_cast<const T*>(src), static_cast<T*>(dst), T{});
    });
  }
  std::unique_ptr<Kernel> inner_;
  int nsp_;
  std::vector<bool> permuted_;
  std::vector<TensorDesc> in_, cf_in_, cf_out_;
  std::vector<AxisMap> in_maps_;
  AxisMap out_map_;
  std::vector<size_t> in_off_;
  size_t out_off_ = 0, inner_off_ = 0, ws_ = 0;
};

}  // namespace

std::unique_ptr<Kernel> channels_last_adapter(std::unique_ptr<Kernel> inner, int nsp, std::vector<bool> permuted) {
  if (!inner) return nullptr;
  return std::make_unique<ChannelsLastAdapter>(std::move(inner), nsp, std::move(permuted));
}

}  // namespace torch2trt::cpu
