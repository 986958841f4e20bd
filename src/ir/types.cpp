#include <cmath>
#include <cstring>
#include <sstream>

#include "torch2trt/types.h"

namespace torch2trt {

size_t dtype_size(DataType t) {
  switch (t) {
    case DataType::kFLOAT: return 4;
    case DataType::kHALF: return 2;
    case DataType::kINT8: return 1;
    case DataType::kINT32: return 4;
    case DataType::kBOOL: return 1;
    case DataType::kUINT8: return 1;
    case DataType::kFP8: return 1;
    case DataType::kBF16: return 2;
    case DataType::kINT64: return 8;
  }
  throw InvalidArgument("unknown data type " + std::to_string(static_cast<int>(t)));
}

const char* dtype_name(DataType t) {
  switch (t) {
    case DataType::kFLOAT: return "float32";
    case DataType::kHALF: return "float16";
    case DataType::kINT8: return "int8";
    case DataType::kINT32: return "int32";
    case DataType::kBOOL: return "bool";
    case DataType::kUINT8: return "uint8";
    case DataType::kFP8: return "float8";
    case DataType::kBF16: return "bfloat16";
    case DataType::kINT64: return "int64";
  }
  return "unknown";
}

bool is_floating(DataType t) { return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16; }
bool is_valid_dtype(int32_t t) { return t >= 0 && t <= 8; }

Dims::Dims(std::initializer_list<int64_t> v) {
  if (v.size() > kMaxDims) throw InvalidArgument("a shape may have at most 8 dimensions, got " + std::to_string(v.size()));
  nb_dims = static_cast<int32_t>(v.size());
  int i = 0;
  for (auto x : v) d[i++] = x;
}

Dims Dims::from(const std::vector<int64_t>& v) {
  if (v.size() > kMaxDims) throw InvalidArgument("a shape may have at most 8 dimensions, got " + std::to_string(v.size()));
  Dims r;
  r.nb_dims = static_cast<int32_t>(v.size());
  for (size_t i = 0; i < v.size(); ++i) r.d[i] = v[i];
  return r;
}

int64_t Dims::volume() const {
  int64_t v = 1;
  for (int i = 0; i < nb_dims; ++i) {
    if (d[i] < 0) return -1;
    v *= d[i];
  }
  return v;
}

bool Dims::is_static() const {
  for (int i = 0; i < nb_dims; ++i)
    if (d[i] < 0) return false;
  return true;
}

std::string Dims::str() const {
  std::ostringstream s;
  s << "(";
  for (int i = 0; i < nb_dims; ++i) s << (i ? ", " : "") << d[i];
  if (nb_dims == 1) s << ",";
  s << ")";
  return s.str();
}

bool Dims::operator==(const Dims& o) const {
  if (nb_dims != o.nb_dims) return false;
  for (int i = 0; i < nb_dims; ++i)
    if (d[i] != o.d[i]) return false;
  return true;
}

std::vector<int64_t> contiguous_strides(const Dims& d) {
  std::vector<int64_t> s(d.nb_dims);
  int64_t acc = 1;
  for (int i = d.nb_dims - 1; i >= 0; --i) {
    s[i] = acc;
    acc *= d.d[i];
  }
  return s;
}

Weights::Weights(DataType t, const void* data, int64_t n) : dtype(t), count(n) {
  if (n < 0) throw InvalidArgument("weights count must be >= 0, got " + std::to_string(n));
  if (n == 0) return;
  bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(n) * dtype_size(t));
  if (data) std::memcpy(bytes->data(), data, bytes->size());
}

Weights Weights::f32(const std::vector<float>& v) {
  return Weights(DataType::kFLOAT, v.data(), static_cast<int64_t>(v.size()));
}

double Weights::at(int64_t i) const {
  const void* p = data();
  switch (dtype) {
    case DataType::kFLOAT: return static_cast<const float*>(p)[i];
    case DataType::kHALF: return half_to_float(static_cast<const uint16_t*>(p)[i]);
    case DataType::kBF16: return bf16_to_float(static_cast<const uint16_t*>(p)[i]);
    case DataType::kINT8: return static_cast<const int8_t*>(p)[i];
    case DataType::kUINT8: return static_cast<const uint8_t*>(p)[i];
    case DataType::kBOOL: return static_cast<const uint8_t*>(p)[i] != 0;
    case DataType::kINT32: return static_cast<const int32_t*>(p)[i];
    case DataType::kINT64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DataType::kFP8: break;
  }
  throw Unsupported(std::string("weights of type ") + dtype_name(dtype) + " cannot be read");
}

std::vector<float> Weights::to_float() const {
  std::vector<float> r(static_cast<size_t>(count));
  if (dtype == DataType::kFLOAT) {
    if (count) std::memcpy(r.data(), data(), r.size() * 4);
    return r;
  }
  for (int64_t i = 0; i < count; ++i) r[i] = static_cast<float>(at(i));
  return r;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mag = x & 0x7fffffffu;
  if (mag >= 0x7f800000u) return static_cast<uint16_t>(sign | (mag > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (mag >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (mag < 0x38800000u) {  // subnormal or zero in half
    float af;
    std::memcpy(&af, &mag, 4);
    // scale so that the half subnormal lsb becomes 1, then round to nearest even by float addition
    float scaled = af * 16777216.0f;  // 2^24
    uint32_t r = static_cast<uint32_t>(std::nearbyint(scaled));
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t e = ((mag >> 23) - 112) << 10;
  uint32_t m = (mag >> 13) & 0x3ffu;
  uint32_t h = e | m;
  uint32_t rest = mag & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float half_to_float(uint16_t h) {
  uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu;
  uint32_t m = h & 0x3ffu;
  uint32_t x;
  if (e == 0) {
    float v = std::ldexp(static_cast<float>(m), -24);
    std::memcpy(&x, &v, 4);
    x |= sign;
  } else if (e == 31) {
    x = sign | 0x7f800000u | (m << 13);
  } else {
    x = sign | ((e + 112) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t float_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb;
  return static_cast<uint16_t>(x >> 16);
}

float bf16_to_float(uint16_t h) {
  uint32_t x = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

}  // namespace torch2trt
