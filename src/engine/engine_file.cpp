// Engine file writer and reader; the format is specified in docs/engine-format.md.
#include <cstring>

#include "backends/backend.h"
#include "engine/engine_file.h"
#include "torch2trt/engine.h"
#include "torch2trt/runtime.h"
#include "torch2trt/version.h"

namespace torch2trt {
namespace {

constexpr char kMagic[8] = {'T', '2', 'T', 'E', 'N', 'G', 'N', '\0'};
constexpr size_t kHeaderSize = 48;
constexpr size_t kSectionEntry = 24;
constexpr size_t kAlign = 64;
enum Section : uint32_t { kMeta = 1, kConfig = 2, kNetwork = 3, kWeightsIndex = 4, kWeights = 5 };

// 64-bit multiply-xorshift hash over 8-byte words: detects corruption, fast on large weights.
uint64_t hash64(const uint8_t* p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h ^= w;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  for (; i < n; ++i) {
    h ^= p[i];
    h *= 0xc4ceb9fe1a85ec53ull;
  }
  h ^= h >> 29;
  return h;
}

template <class T>
void put_at(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof(T));
}
template <class T>
T get_at(const uint8_t* p, size_t off) {
  T v;
  std::memcpy(&v, p + off, sizeof(T));
  return v;
}

[[noreturn]] void refuse(const std::string& what) { throw EngineFormatError(what); }

}  // namespace

uint64_t engine_checksum(const uint8_t* p, size_t n) { return hash64(p + kEngineChecksumStart, n - kEngineChecksumStart); }

std::vector<uint8_t> Engine::serialize() const {
  Writer meta, cfg, netw, widx;
  meta.put_all(std::string(kVersion), target_);
  cfg.put_all(config_.flags, config_.workspace_limit, config_.device, config_.device_index, config_.optimization_level);
  net_->save(netw);
  // Weights index: dtype, count, absolute offset, byte length.
  struct Blob {
    const Weights* w;
    uint64_t off;
  };
  std::vector<std::vector<uint8_t>*> parts = {&meta.buf, &cfg.buf, &netw.buf, &widx.buf};
  const uint32_t ids[4] = {kMeta, kConfig, kNetwork, kWeightsIndex};
  size_t nsec = 5;
  size_t pos = kHeaderSize + nsec * kSectionEntry;
  std::vector<std::pair<uint64_t, uint64_t>> table;
  // Index size is known before offsets: 4 + 8 + 8 + 8 bytes per blob plus the count.
  size_t widx_size = 8 + netw.blobs.size() * 28;
  size_t sizes[4] = {meta.buf.size(), cfg.buf.size(), netw.buf.size(), widx_size};
  for (int i = 0; i < 4; ++i) {
    table.push_back({pos, sizes[i]});
    pos += sizes[i];
  }
  pos = (pos + kAlign - 1) & ~(kAlign - 1);
  size_t wstart = pos;
  std::vector<uint64_t> offs;
  for (auto& w : netw.blobs) {
    offs.push_back(pos);
    pos += w.nbytes();
    pos = (pos + kAlign - 1) & ~(kAlign - 1);
  }
  table.push_back({wstart, pos - wstart});
  widx.put(static_cast<uint64_t>(netw.blobs.size()));
  for (size_t i = 0; i < netw.blobs.size(); ++i)
    widx.put_all(netw.blobs[i].dtype, netw.blobs[i].count, offs[i], static_cast<uint64_t>(netw.blobs[i].nbytes()));

  std::vector<uint8_t> out(pos, 0);
  std::memcpy(out.data(), kMagic, 8);
  put_at<uint32_t>(out, 8, kEngineFormatVersion);
  put_at<uint32_t>(out, 12, static_cast<uint32_t>(kHeaderSize));
  put_at<uint64_t>(out, 16, out.size());
  put_at<uint32_t>(out, 32, static_cast<uint32_t>(nsec));
  put_at<uint32_t>(out, 36, 0x01020304u);  // byte-order mark
  for (size_t i = 0; i < nsec; ++i) {
    size_t e = kHeaderSize + i * kSectionEntry;
    put_at<uint32_t>(out, e, i < 4 ? ids[i] : static_cast<uint32_t>(kWeights));
    put_at<uint64_t>(out, e + 8, table[i].first);
    put_at<uint64_t>(out, e + 16, table[i].second);
  }
  for (int i = 0; i < 4; ++i)
    if (!parts[i]->empty()) std::memcpy(out.data() + table[i].first, parts[i]->data(), parts[i]->size());
  for (size_t i = 0; i < netw.blobs.size(); ++i)
    if (netw.blobs[i].nbytes()) std::memcpy(out.data() + offs[i], netw.blobs[i].data(), netw.blobs[i].nbytes());
  put_at<uint64_t>(out, kEngineChecksumOffset, engine_checksum(out.data(), out.size()));
  return out;
}

std::unique_ptr<Engine> Engine::deserialize(const uint8_t* p, size_t n) {
  const std::string rebuild = "rebuild it with torch2trt.torch2trt";
  if (!p || n == 0) refuse("engine data is empty: pass the bytes of an engine file written by torch2trt");
  if (n < 8 || std::memcmp(p, kMagic, 8) != 0) {
    if ((n >= 4 && std::memcmp(p, "ftrt", 4) == 0) || (n >= 8 && std::memcmp(p + 4, "ftrt", 4) == 0))
      refuse("this is a TensorRT engine, not a torch2trt engine: " + rebuild);
    if (n >= 2 && p[0] == 'P' && p[1] == 'K')
      refuse("this is a zip archive (a torch.save file?), not a torch2trt engine: load it with torch.load, "
             "or pass engine bytes");
    refuse("not a torch2trt engine file (wrong magic bytes at the start): pass the bytes of an engine written by "
           "torch2trt, or " + rebuild);
  }
  if (n < kHeaderSize) refuse("engine file is truncated: " + std::to_string(n) + " bytes, shorter than its header; " + rebuild);
  uint32_t ver = get_at<uint32_t>(p, 8);
  if (ver > kEngineFormatVersion)
    refuse("engine written by format " + std::to_string(ver) + "; this torch2trt (" + kVersion + ") reads up to " +
           std::to_string(kEngineFormatVersion) + ": upgrade torch2trt or " + rebuild);
  if (ver == 0) refuse("engine header is corrupt (format version 0): " + rebuild);
  if (ver < kOldestEngineFormatVersion)
    refuse("engine written by format " + std::to_string(ver) + ", older than this torch2trt (" + kVersion +
           ") reads (format " + std::to_string(kOldestEngineFormatVersion) + " on): " + rebuild);
  if (get_at<uint32_t>(p, 12) != kHeaderSize) refuse("engine header is corrupt (unexpected header size): " + rebuild);
  uint64_t size = get_at<uint64_t>(p, 16);
  if (size > n)
    refuse("engine file is truncated: its header says " + std::to_string(size) + " bytes but only " + std::to_string(n) +
           " are present; copy the file again or " + rebuild);
  if (size < n)
    refuse("engine data has " + std::to_string(n - size) + " extra bytes after its end (" + std::to_string(size) +
           " expected); pass exactly the bytes of one engine file");
  if (get_at<uint32_t>(p, 36) != 0x01020304u) refuse("engine was written on a machine of another byte order: " + rebuild);
  if (engine_checksum(p, n) != get_at<uint64_t>(p, kEngineChecksumOffset))
    refuse("engine file is corrupted (checksum mismatch): the bytes changed after it was written; copy it again or " + rebuild);
  uint32_t nsec = get_at<uint32_t>(p, 32);
  if (nsec > 64 || kHeaderSize + nsec * kSectionEntry > n) refuse("engine section table is corrupt: " + rebuild);
  const uint8_t* sec[6] = {};
  uint64_t len[6] = {};
  for (uint32_t i = 0; i < nsec; ++i) {
    size_t e = kHeaderSize + i * kSectionEntry;
    uint32_t id = get_at<uint32_t>(p, e);
    uint64_t off = get_at<uint64_t>(p, e + 8), l = get_at<uint64_t>(p, e + 16);
    if (off > n || l > n - off) refuse("engine section " + std::to_string(id) + " lies outside the file: " + rebuild);
    if (id >= 1 && id <= 5) sec[id] = p + off, len[id] = l;  // unknown sections are skipped (forward compatible)
  }
  for (uint32_t id = 1; id <= 5; ++id)
    if (!sec[id]) refuse("engine file lacks section " + std::to_string(id) + ": " + rebuild);

  std::string producer, target;
  Reader meta(sec[kMeta], len[kMeta]);
  meta.get_all(producer, target);

  BuilderConfig cfg;
  Reader rc(sec[kConfig], len[kConfig]);
  int32_t dev;
  rc.get_all(cfg.flags, cfg.workspace_limit, dev, cfg.device_index, cfg.optimization_level);
  if (dev != 0 && dev != 1) rc.bad("an unknown device type");
  cfg.device = static_cast<DeviceType>(dev);

  Reader ri(sec[kWeightsIndex], len[kWeightsIndex]);
  uint64_t nb;
  ri.get(nb);
  if (nb > len[kWeightsIndex] / 28) ri.bad("a weights count larger than its index");
  std::vector<Weights> blobs;
  blobs.reserve(nb);
  for (uint64_t i = 0; i < nb; ++i) {
    int32_t t;
    int64_t count;
    uint64_t off, bytes;
    ri.get_all(t, count, off, bytes);
    if (!is_valid_dtype(t) || count < 0) ri.bad("a weights record with a bad type or count");
    DataType dt = static_cast<DataType>(t);
    if (bytes != static_cast<uint64_t>(count) * dtype_size(dt)) ri.bad("a weights record whose size does not match");
    if (off > n || bytes > n - off) ri.bad("weights that lie outside the file");
    blobs.emplace_back(dt, p + off, count);
  }
  Reader rn(sec[kNetwork], len[kNetwork], &blobs);
  auto net = Network::load(rn);
  auto e = std::make_unique<Engine>(std::move(net), cfg);
  e->set_producer(producer);
  e->set_target(target);
  return e;
}

}  // namespace torch2trt
