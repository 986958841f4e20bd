// Binary writer and checked reader used for engine files and layer parameters.
#pragma once

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "torch2trt/types.h"

namespace torch2trt {

/// Appends little-endian values to a byte buffer; weights go to a side list written aligned.
class Writer {
 public:
  std::vector<uint8_t> buf;        ///< the bytes written so far
  std::vector<Weights> blobs;      ///< weights referenced by index from buf

  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf.insert(buf.end(), b, b + n);
  }
  template <class T>
  std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>> put(const T& v) { raw(&v, sizeof(T)); }
  void put(const std::string& s) {
    put(static_cast<uint64_t>(s.size()));
    raw(s.data(), s.size());
  }
  void put(const Dims& d) {
    put(d.nb_dims);
    for (int i = 0; i < d.nb_dims; ++i) put(d.d[i]);
  }
  void put(const Weights& w) {
    put(w.dtype);
    put(w.count);
    if (w.count == 0) {
      put(static_cast<int64_t>(-1));
      return;
    }
    put(static_cast<int64_t>(blobs.size()));
    blobs.push_back(w);
  }
  template <class T>
  void put(const std::vector<T>& v) {
    put(static_cast<uint64_t>(v.size()));
    for (const auto& x : v) put(x);
  }
  /// Writes every argument in order.
  template <class... A>
  void put_all(const A&... a) { (put(a), ...); }
};

/// Reads what Writer wrote; every read is bounds-checked and throws EngineFormatError when short.
class Reader {
 public:
  Reader(const uint8_t* p, size_t n, const std::vector<Weights>* blobs = nullptr) : p_(p), n_(n), blobs_(blobs) {}

  void raw(void* dst, size_t n) {
    need(n);
    std::memcpy(dst, p_ + pos_, n);
    pos_ += n;
  }
  template <class T>
  std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>> get(T& v) { raw(&v, sizeof(T)); }
  // A bool read as its raw byte would be undefined for values other than 0 and 1 (corrupt files).
  void get(bool& b) {
    uint8_t v;
    get(v);
    if (v > 1) bad("a boolean of value " + std::to_string(v));
    b = v != 0;
  }
  void get(std::string& s) {
    uint64_t n;
    get(n);
    need(n);
    s.assign(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
  }
  void get(Dims& d) {
    get(d.nb_dims);
    if (d.nb_dims < 0 || d.nb_dims > kMaxDims) bad("a tensor rank of " + std::to_string(d.nb_dims));
    for (int i = 0; i < d.nb_dims; ++i) get(d.d[i]);
  }
  void get(Weights& w) {
    int32_t t;
    get(t);
    if (!is_valid_dtype(t)) bad("an unknown weights data type " + std::to_string(t));
    int64_t count, index;
    get(count);
    get(index);
    if (count == 0 && index == -1) {
      w = Weights();
      w.dtype = static_cast<DataType>(t);
      return;
    }
    if (!blobs_ || index < 0 || index >= static_cast<int64_t>(blobs_->size())) bad("a weights index out of range");
    w = (*blobs_)[index];
    if (w.dtype != static_cast<DataType>(t) || w.count != count) bad("weights whose size does not match their record");
  }
  template <class T>
  void get(std::vector<T>& v) {
    uint64_t n;
    get(n);
    if (n > remaining()) bad("a list longer than the data that holds it");  // each element takes >= 1 byte
    v.resize(n);
    for (auto& x : v) get(x);
  }
  template <class... A>
  void get_all(A&... a) { (get(a), ...); }

  size_t remaining() const { return n_ - pos_; }
  size_t pos() const { return pos_; }
  [[noreturn]] void bad(const std::string& what) const {
    throw EngineFormatError("engine data is corrupt: found " + what + " at byte " + std::to_string(pos_) +
                            " of a section; rebuild the engine with torch2trt.torch2trt");
  }

 private:
  void need(size_t n) const {
    if (n > n_ - pos_) bad("a record that runs past the end of its section");
  }
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  const std::vector<Weights>* blobs_;
};

}  // namespace torch2trt

/// Declares a layer's save/load from one field list, so the two can never disagree.
#define T2T_SERIALIZE_FIELDS(...)                                             \
  void save(::torch2trt::Writer& w) const override { w.put_all(__VA_ARGS__); } \
  void load(::torch2trt::Reader& r) override { r.get_all(__VA_ARGS__); }
