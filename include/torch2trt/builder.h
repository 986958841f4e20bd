// Builder: turns a Network into an Engine for a device, under a BuilderConfig.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "torch2trt/network.h"

namespace torch2trt {

class Engine;

/// Builder flags (a subset of TensorRT's BuilderFlag, with our own stable numbers).
enum class BuilderFlag : int32_t {
  kFP16 = 0,                         ///< allow float16 kernels
  kINT8 = 1,                         ///< allow int8 kernels (needs calibration; not implemented yet)
  kBF16 = 2,                         ///< allow bfloat16 kernels
  kSTRICT_TYPES = 3,                 ///< honour per-layer precision exactly (older name)
  kOBEY_PRECISION_CONSTRAINTS = 4,   ///< honour per-layer precision exactly
  kPREFER_PRECISION_CONSTRAINTS = 5, ///< honour per-layer precision where a kernel exists
  kDISABLE_CUDA_GRAPHS = 6,          ///< never replay CUDA graphs
  kTF32 = 7,                         ///< allow TF32 math for float32 on GPUs
};

/// Device an engine is built for.
enum class DeviceType : int32_t { kCPU = 0, kGPU = 1 };

/// Tactic choices measured by earlier builds (TensorRT's ITimingCache): for each problem a kernel
/// describes (Kernel::tactic_key, with the device's name), the fastest tactic and its time. Share one
/// between builds (BuilderConfig::timing_cache) so a second build of the same model skips the timing.
/// Safe to use from several builders at once.
class TimingCache {
 public:
  /// One measured choice.
  struct Entry {
    int64_t tactic = -1;
    double ms = 0;
  };
  TimingCache() = default;
  TimingCache(const TimingCache& o) : entries_(o.snapshot()) {}
  /// The entry for `key`, if any.
  bool find(const std::string& key, Entry* e) const;
  void put(const std::string& key, const Entry& e);
  size_t size() const;
  /// Adds the entries of `other` that this cache lacks.
  void combine(const TimingCache& other);
  /// The devices the entries were measured on (the part of each key after its last '@').
  std::vector<std::string> devices() const;
  /// Bytes for a file (magic "T2TTCACH", a version, the entries); read back with deserialize().
  std::vector<uint8_t> serialize() const;
  /// Parses serialize()'s bytes; throws InvalidArgument saying what is wrong (not a cache, a newer
  /// version, truncated or corrupt) and what to do.
  static std::shared_ptr<TimingCache> deserialize(const uint8_t* data, size_t size);

 private:
  std::map<std::string, Entry> snapshot() const;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

/// What the builder may do (TensorRT's IBuilderConfig).
struct BuilderConfig {
  uint32_t flags = 0;
  uint64_t workspace_limit = 1ull << 30;  ///< scratch bytes a kernel may use
  DeviceType device = DeviceType::kCPU;
  int32_t device_index = 0;
  int32_t optimization_level = 3;  ///< 0 runs no builder passes and times no tactics (TensorRT's builder_optimization_level)
  /// Where measured tactic choices are looked up and recorded; null: a cache private to each build.
  std::shared_ptr<TimingCache> timing_cache;
  void set_flag(BuilderFlag f) { flags |= 1u << static_cast<int>(f); }
  void clear_flag(BuilderFlag f) { flags &= ~(1u << static_cast<int>(f)); }
  bool get_flag(BuilderFlag f) const { return (flags >> static_cast<int>(f)) & 1u; }
};

/// Builds engines. Thread-compatible: use one builder per thread.
class Builder {
 public:
  /// Optimizes a copy of `net` (the caller's network is not modified) and makes an engine.
  /// Throws InvalidArgument for an invalid network and Unsupported, naming the layer, for a layer
  /// the target device cannot run.
  std::unique_ptr<Engine> build(const Network& net, const BuilderConfig& config);
  /// build() then Engine::serialize().
  std::vector<uint8_t> build_serialized(const Network& net, const BuilderConfig& config);
};

}  // namespace torch2trt
