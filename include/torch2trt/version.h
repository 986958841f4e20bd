// Library and engine-file versions.
#pragma once

namespace torch2trt {
/// Version of this library, written into every engine file.
constexpr const char* kVersion = "0.1.0";
/// Engine file format this library writes and the newest it reads (see docs/engine-format.md).
constexpr unsigned kEngineFormatVersion = 4;
/// Oldest engine-file format this library reads (format 3 added the Attention layer's packed_qkv field,
/// before any release; formats 1 and 2 are refused with a message to rebuild). Format 4 only appended the
/// SqueezeExcite kind, so format 3 files read unchanged.
constexpr unsigned kOldestEngineFormatVersion = 3;
}  // namespace torch2trt
