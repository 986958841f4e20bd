// Basic value types of the torch2trt engine: data types, dimensions, weights and errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace torch2trt {

/// Element types; the numeric values match TensorRT's `DataType` so engine files and Python code agree.
enum class DataType : int32_t {
  kFLOAT = 0,
  kHALF = 1,
  kINT8 = 2,
  kINT32 = 3,
  kBOOL = 4,
  kUINT8 = 5,
  kFP8 = 6,
  kBF16 = 7,
  kINT64 = 8,
};

/// Size in bytes of one element of `t`.
size_t dtype_size(DataType t);
/// Lower-case name of `t` ("float32", "float16", ...), as PyTorch spells it.
const char* dtype_name(DataType t);
/// True for float32, float16 and bfloat16.
bool is_floating(DataType t);
/// True when `t` is a value the engine knows (guards values read from files or Python).
bool is_valid_dtype(int32_t t);

/// Largest rank a tensor may have.
constexpr int kMaxDims = 8;

/// A shape: up to kMaxDims extents; -1 marks an extent known only at run time.
struct Dims {
  int32_t nb_dims = 0;
  int64_t d[kMaxDims] = {0, 0, 0, 0, 0, 0, 0, 0};

  Dims() = default;
  /// Builds dims from a list; throws if the rank exceeds kMaxDims.
  Dims(std::initializer_list<int64_t> v);
  /// Builds dims from a vector; throws if the rank exceeds kMaxDims.
  static Dims from(const std::vector<int64_t>& v);
  /// The extents as a vector.
  std::vector<int64_t> vec() const { return std::vector<int64_t>(d, d + nb_dims); }
  int64_t& operator[](int i) { return d[i]; }
  int64_t operator[](int i) const { return d[i]; }
  /// Number of elements, or -1 if any extent is unknown.
  int64_t volume() const;
  /// True when every extent is known (>= 0).
  bool is_static() const;
  /// "(1, 3, 224, 224)" style text for error messages.
  std::string str() const;
  bool operator==(const Dims& o) const;
  bool operator!=(const Dims& o) const { return !(*this == o); }
};

/// Row-major strides (in elements) of a dense tensor with static dims `d`.
std::vector<int64_t> contiguous_strides(const Dims& d);

/// Base class of every error the engine raises; the message is meant for the user.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& m) : std::runtime_error(m) {}
};
/// A bad argument to a network-building call (shape, dtype, parameter value).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};
/// A request the engine does not implement (a layer on a backend, a dtype, a feature).
class Unsupported : public Error {
 public:
  using Error::Error;
};
/// An engine file that cannot be read (truncated, corrupt, foreign, other version).
class EngineFormatError : public Error {
 public:
  using Error::Error;
};
/// A failure while executing an engine (unbound tensor, wrong shape, device error).
class RuntimeFailure : public Error {
 public:
  using Error::Error;
};

/// A constant array owned by the network (kernel, bias, constant values), stored in its own dtype.
struct Weights {
  DataType dtype = DataType::kFLOAT;
  int64_t count = 0;
  std::shared_ptr<std::vector<uint8_t>> bytes;  ///< count * dtype_size(dtype) bytes, or null when empty

  Weights() = default;
  /// Copies `count` elements of type `t` from `data`.
  Weights(DataType t, const void* data, int64_t count);
  /// Makes float32 weights from values.
  static Weights f32(const std::vector<float>& v);
  bool empty() const { return count == 0; }
  const void* data() const { return bytes ? bytes->data() : nullptr; }
  template <class T>
  const T* as() const { return reinterpret_cast<const T*>(data()); }
  size_t nbytes() const { return bytes ? bytes->size() : 0; }
  /// Value i converted to double (any dtype); for builders, passes and tests.
  double at(int64_t i) const;
  /// All values converted to float.
  std::vector<float> to_float() const;
};

/// Converts a float to IEEE half bits and back (round to nearest even).
uint16_t float_to_half(float f);
float half_to_float(uint16_t h);
/// Converts a float to bfloat16 bits and back (round to nearest even).
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t h);

}  // namespace torch2trt
