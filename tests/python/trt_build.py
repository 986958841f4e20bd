"""Builds and runs one-off networks through torch2trt.trt for the layer tests."""

import torch
import torch2trt.trt as trt

DTYPES = {
    torch.float32: trt.float32,
    torch.float16: trt.float16,
    torch.bfloat16: trt.bfloat16,
    torch.int32: trt.int32,
    torch.int64: trt.int64,
    torch.int8: trt.int8,
    torch.uint8: trt.uint8,
    torch.bool: trt.bool,
}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}


def build_and_run(fn, inputs, shapes=None, impls=None):
    """Builds fn(network, *input_tensors) -> output tensor(s) into a CPU engine (through engine bytes),
    runs it on `inputs` and returns the outputs as torch tensors (one tensor when fn returns one).
    `shapes` gives build-time input shapes (-1 for extents given at run time); `impls`, when a list,
    receives each layer's kernel name. Float outputs start as NaN so an unwritten element shows."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network()
    shapes = shapes or [tuple(x.shape) for x in inputs]
    tensors = [network.add_input(f"x{i}", DTYPES[x.dtype], s) for i, (x, s) in enumerate(zip(inputs, shapes))]
    outs = fn(network, *tensors)
    single = not isinstance(outs, (list, tuple))
    outs = [outs] if single else list(outs)
    for i, o in enumerate(outs):
        o.name = f"y{i}"
        network.mark_output(o)
    config = builder.create_builder_config()
    config.default_device_type = trt.DeviceType.CPU
    engine = trt.Runtime(logger).deserialize_cuda_engine(builder.build_serialized_network(network, config))
    ctx = engine.create_execution_context()
    inputs = [x.contiguous() for x in inputs]
    for i, x in enumerate(inputs):
        if -1 in shapes[i]:
            ctx.set_input_shape(f"x{i}", tuple(x.shape))
        ctx.set_tensor_address(f"x{i}", x.data_ptr())
    results = []
    for i in range(len(outs)):
        y = torch.empty(tuple(ctx.get_tensor_shape(f"y{i}")), dtype=TORCH_DTYPES[engine.get_tensor_dtype(f"y{i}")])
        if y.is_floating_point():
            y.fill_(float("nan"))
        ctx.set_tensor_address(f"y{i}", y.data_ptr())
        results.append(y)
    assert ctx.execute_async_v3(0)
    if impls is not None:
        impls.extend(info[2] for info in ctx.layer_info())
    return results[0] if single else results
