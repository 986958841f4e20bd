// Library and engine-file versions.
#pragma once

namespace torch2trt {
/// Version of this library, written into every engine file.
constexpr const char* kVersion = "0.1.0";
/// Engine file format this library writes and the newest it reads (see docs/engine-format.md).
constexpr unsigned kEngineFormatVersion = 2;
/// Oldest engine-file format this library reads (format 2 changed the convolution, pooling and matrix
/// multiply parameters and added the Attention kind, before any release).
constexpr unsigned kOldestEngineFormatVersion = 2;
}  // namespace torch2trt
