#include "torch2trt/builder.h"

#include "backends/backend.h"
#include "engine/tactics.h"
#include "passes/pass.h"
#include "torch2trt/engine.h"

namespace torch2trt {

std::unique_ptr<Engine> Builder::build(const Network& src, const BuilderConfig& config) {
  src.validate();
  if (config.get_flag(BuilderFlag::kINT8))
    throw Unsupported("int8 engines are not implemented yet: build without the INT8 flag (int8_mode=False)");
  DeviceKind dev = config.device == DeviceType::kGPU ? DeviceKind::kCUDA : DeviceKind::kCPU;
  Backend& backend = get_backend(dev, config.device_index);
  auto net = src.clone();
  if (config.optimization_level > 0) run_passes(*net, config);
  assign_precision(*net, config);
  if (config.optimization_level > 0) layout_channels_last(*net, config);
  net->validate();
  // Every layer must have a kernel on the target: say which one does not, and why, before any file is written.
  for (int i = 0; i < net->num_layers(); ++i) {
    Layer* l = net->layer(i);
    std::vector<TensorDesc> out;
    for (auto* t : l->outputs()) out.push_back(t->desc());
    std::string why = backend.unsupported_reason(*l, l->input_descs(), out);
    if (!why.empty())
      throw Unsupported(std::string(layer_kind_name(l->kind())) + " layer '" + l->name() + "' cannot run on " +
                        backend.name() + ": " + why);
  }
  if (config.optimization_level > 0 && dev == DeviceKind::kCUDA) {
    std::shared_ptr<TimingCache> cache = config.timing_cache ? config.timing_cache : std::make_shared<TimingCache>();
    choose_tactics(*net, config, backend, *cache);
  }
  auto e = std::make_unique<Engine>(std::move(net), config);
  e->set_target(dev == DeviceKind::kCPU ? "cpu" : "cuda:" + std::to_string(config.device_index));
  return e;
}

std::vector<uint8_t> Builder::build_serialized(const Network& net, const BuilderConfig& config) {
  return build(net, config)->serialize();
}

}  // namespace torch2trt
