// Cross-backend layer harness: builds a one-layer network, runs it on every backend built,
// and compares every output with a float64 reference. Results feed docs/operators.md.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "torch2trt/layers/all.h"
#include "torch2trt/network.h"

namespace t2t_test {

using namespace torch2trt;

/// A host tensor holding values as doubles, whatever its dtype.
struct HostTensor {
  DataType dtype = DataType::kFLOAT;
  Dims dims;
  std::vector<double> v;
  int64_t numel() const { return dims.volume(); }
  /// Row-major index helper.
  double at(std::initializer_list<int64_t> idx) const;
};

/// One harness case: a layer with fixed parameters on inputs of given type and shape.
struct OpCase {
  std::string variant;                        ///< e.g. "RELU" or "stride2_pad1"
  std::vector<TensorDesc> inputs;             ///< input types/shapes (all static)
  double lo = -2.0, hi = 2.0;                 ///< random input range
  std::vector<std::vector<double>> fixed;     ///< optional fixed values for some inputs (empty: random)
  /// Adds the layer under test (may add helper layers, e.g. constants); returns its outputs to mark.
  std::function<std::vector<Tensor*>(Network&, const std::vector<Tensor*>&)> build;
  /// Float64 reference of the outputs from the inputs.
  std::function<std::vector<HostTensor>(const std::vector<HostTensor>&)> reference;
  double tol = 1e-5;                          ///< relative L2 tolerance for float32
  double half_tol = 1e-2;                     ///< relative L2 tolerance when float16/bfloat16 are involved
  bool exact = false;                         ///< integer/bool outputs: must match exactly
  bool misalign = false;                      ///< every buffer starts one element past an aligned address
  int64_t cuda_tactic = -1;                   ///< >= 0: every layer of the tested kind runs this tactic on CUDA
  std::string cuda_kernel;                    ///< set: the CUDA kernel of every layer of the tested kind has this in its name
  int runs = 1;                               ///< runs of one context, outputs poisoned before each (state kept between runs)
};

/// Runs the case on every available backend (CPU always; CUDA when built and a GPU is present),
/// through a serialize/deserialize round trip, and checks every output with gtest assertions.
/// `kind` names the layer kind for the support table.
void check_op(LayerKind kind, const OpCase& c);

/// The backends this process can run: the CPU, and CUDA device 0 when built and present.
std::vector<Backend*> available_backends();

/// Random values in [lo, hi] (rounded for integer types, 0/1 for bool), deterministic per call order.
std::vector<double> random_values(int64_t n, DataType t, double lo, double hi);

/// Elementwise map helper for references.
HostTensor map(const HostTensor& x, const std::function<double(double)>& f, DataType out_dtype);

}  // namespace t2t_test
