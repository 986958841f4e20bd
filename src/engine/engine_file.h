// Internals of the engine file shared with tests.
#pragma once

#include <cstddef>
#include <cstdint>

namespace torch2trt {
/// The file checksum (see docs/engine-format.md): over bytes [32, size) of a file.
uint64_t engine_checksum(const uint8_t* p, size_t n);
/// Offset of the checksum field and of the first byte it covers.
constexpr size_t kEngineChecksumOffset = 24;
constexpr size_t kEngineChecksumStart = 32;
}  // namespace torch2trt
