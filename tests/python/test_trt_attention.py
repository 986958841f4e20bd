"""The Attention layer and the fuse_attention pass seen from Python.

Networks built through torch2trt.trt with ``add_attention`` match torch's scaled_dot_product_attention
(both layouts, masks, causal); networks and converted models that write attention out as matrix
multiplies and a softmax build into one Attention layer and still match PyTorch.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from conftest import rel_l2
from torch import nn
from torch2trt import torch2trt, trt

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
DTYPES = {torch.float32: trt.float32, torch.float16: trt.float16, torch.bfloat16: trt.bfloat16, torch.bool: trt.bool}
E, M = trt.ElementWiseOperation, trt.MatrixOperation


def run_network(fn, inputs, device, optimize=True):
    """Builds fn(network, *input_tensors) -> output into an engine for `device`, runs it on `inputs` and
    returns (output, kinds of the engine's layers)."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network()
    tensors = [network.add_input(f"x{i}", DTYPES[x.dtype], tuple(x.shape)) for i, x in enumerate(inputs)]
    y = fn(network, *tensors)
    y.name = "y"
    network.mark_output(y)
    config = builder.create_builder_config()
    config.default_device_type = trt.DeviceType.GPU if device == "cuda" else trt.DeviceType.CPU
    if not optimize:
        config.builder_optimization_level = 0
    engine = trt.Runtime(logger).deserialize_cuda_engine(builder.build_serialized_network(network, config))
    ctx = engine.create_execution_context()
    inputs = [x.to(device).contiguous() for x in inputs]
    for i, x in enumerate(inputs):
        ctx.set_tensor_address(f"x{i}", x.data_ptr())
    out = torch.full(tuple(ctx.get_tensor_shape("y")), float("nan"), dtype=inputs[0].dtype, device=device)
    ctx.set_tensor_address("y", out.data_ptr())
    stream = torch.cuda.current_stream().cuda_stream if device == "cuda" else 0
    assert ctx.execute_async_v3(stream)
    if device == "cuda":
        torch.cuda.synchronize()
    return out.cpu(), [info[1] for info in ctx.layer_info()]


def tolerance(dtype):
    return 1e-5 if dtype == torch.float32 else 1e-2


def sdpa64(q, k, v, mask=None, causal=False, scale=None):
    """torch's scaled_dot_product_attention in float64 (the reference)."""
    if mask is not None and mask.dtype != torch.bool:
        mask = mask.double()
    return F.scaled_dot_product_attention(
        q.double(), k.double(), v.double(), attn_mask=mask, is_causal=causal, scale=scale
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize(
    "shape_q, shape_k, dv",
    [
        ((1, 12, 128, 64), (1, 12, 128, 64), 64),
        ((2, 3, 197, 64), (2, 3, 197, 64), 64),
        ((2, 2, 7, 32), (2, 2, 90, 32), 48),
    ],
)
def test_add_attention_matches_sdpa(device, dtype, shape_q, shape_k, dv):
    torch.manual_seed(0)
    q, k = torch.randn(shape_q, dtype=dtype), torch.randn(shape_k, dtype=dtype)
    v = torch.randn(shape_k[:-1] + (dv,), dtype=dtype)
    scale = 1 / math.sqrt(shape_q[-1])

    def net(network, q, k, v):
        layer = network.add_attention(query=q, key=k, value=v)
        layer.scale = scale
        assert layer.type == trt.LayerType.Attention
        return layer.get_output(0)

    got, kinds = run_network(net, [q, k, v], device)
    assert kinds == ["Attention"]
    assert rel_l2(got, sdpa64(q, k, v)) <= tolerance(dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_masks_and_causal(device, dtype):
    torch.manual_seed(0)
    b, h, s = 2, 3, 40
    q, k, v = (torch.randn(b, h, s, 32, dtype=dtype) for _ in range(3))
    float_mask = torch.zeros(b, 1, 1, s, dtype=dtype)
    float_mask[1, ..., s // 2 :] = -10000.0  # BERT's extended mask: padding in the second sequence
    bool_mask = torch.rand(b, 1, s, s) > 0.3
    bool_mask[..., 0] = True  # every query may attend to something
    for mask in (float_mask, bool_mask):
        got, _ = run_network(
            lambda n, q, k, v, m: n.add_attention(q, k, v, m, scale=0.2).get_output(0), [q, k, v, mask], device
        )
        assert rel_l2(got, sdpa64(q, k, v, mask, scale=0.2)) <= tolerance(dtype)
    got, _ = run_network(lambda n, q, k, v: n.add_attention(q, k, v, causal=True).get_output(0), [q, k, v], device)
    assert rel_l2(got, sdpa64(q, k, v, causal=True, scale=1.0)) <= tolerance(dtype)


@pytest.mark.parametrize("device", DEVICES)
def test_fully_masked_rows_nan_or_zero(device):
    # softmax over nothing: NaN as the SoftMax layer gives it, or 0 (torch's sdpa) with zero_empty_rows.
    q, k, v = (torch.randn(1, 2, 6, 16) for _ in range(3))
    mask = torch.ones(1, 1, 6, 6, dtype=torch.bool)
    mask[..., 2, :] = False
    for zero in (False, True):

        def net(n, q, k, v, m, zero=zero):
            layer = n.add_attention(q, k, v, m, scale=0.25)
            layer.zero_empty_rows = zero
            return layer.get_output(0)

        got, _ = run_network(net, [q, k, v, mask], device)
        assert (got[:, :, 2] == 0).all() if zero else got[:, :, 2].isnan().all()
        ok = torch.ones(6, dtype=torch.bool)
        ok[2] = False
        assert rel_l2(got[:, :, ok], sdpa64(q, k, v, mask, scale=0.25)[:, :, ok]) <= 1e-5


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_heads_interleaved_reads_and_writes_bshd(device, dtype):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 65, 4, 64, dtype=dtype) for _ in range(3))  # (B, S, H, D)

    def net(n, q, k, v):
        layer = n.add_attention(q, k, v, scale=0.125)
        layer.heads_interleaved = True
        return layer.get_output(0)

    got, _ = run_network(net, [q, k, v], device)
    assert tuple(got.shape) == (2, 65, 4, 64)
    want = sdpa64(*(t.transpose(1, 2) for t in (q, k, v)), scale=0.125).transpose(1, 2)
    assert rel_l2(got, want) <= tolerance(dtype)


def test_properties_validate_and_restore():
    network = trt.Builder(trt.Logger()).create_network()
    q = network.add_input("q", trt.float32, (2, 4, 10, 32))
    k = network.add_input("k", trt.float32, (2, 4, 12, 32))
    layer = network.add_attention(query=q, key=k, value=k)
    assert (layer.scale, layer.causal, layer.heads_interleaved, layer.zero_empty_rows) == (1.0, False, False, False)
    assert tuple(layer.get_output(0).shape) == (2, 4, 10, 32)
    layer.causal = True
    assert layer.causal
    with pytest.raises(ValueError, match="scale: must be finite"):
        layer.scale = float("inf")
    assert layer.scale == 1.0
    with pytest.raises(ValueError, match="key: batch dimension 2 is 12, neither the query's 10 nor 1"):
        layer.heads_interleaved = True
    assert not layer.heads_interleaved
    m = network.add_input("m", trt.int32, (2, 1, 1, 12))
    with pytest.raises(ValueError, match="mask: must be bool .* got int32"):
        network.add_attention(q, k, k, m)
    kd = network.add_input("kd", trt.float32, (2, 4, 12, 16))
    with pytest.raises(ValueError, match=r"key: feature size \(last dim\) differs"):
        network.add_attention(q, kd, kd)


def written_out(network, q, k, v, mask=None, scale=0.125):
    """softmax(q * scale x kᵀ [+ mask]) x v, as the converters write it."""
    c = network.add_constant((1,) * len(q.shape), torch.tensor([scale])).get_output(0)
    qs = network.add_elementwise(q, c, E.PROD).get_output(0)
    s = network.add_matrix_multiply(qs, M.NONE, k, M.TRANSPOSE).get_output(0)
    if mask is not None:
        s = network.add_elementwise(s, mask, E.SUM).get_output(0)
    sm = network.add_softmax(s)
    sm.axes = 1 << (len(q.shape) - 1)
    return network.add_matrix_multiply(sm.get_output(0), M.NONE, v, M.NONE).get_output(0)


@pytest.mark.parametrize("device", DEVICES)
def test_written_out_attention_fuses(device):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 33, 32) for _ in range(3))
    mask = torch.randn(2, 1, 1, 33)
    got, kinds = run_network(written_out, [q, k, v, mask], device)
    unfused, unfused_kinds = run_network(written_out, [q, k, v, mask], device, optimize=False)
    assert "Attention" in kinds and "SoftMax" not in kinds and "MatrixMultiply" not in kinds, kinds
    assert "SoftMax" in unfused_kinds
    assert rel_l2(got, unfused) <= 1e-5
    assert rel_l2(got, sdpa64(q, k, v, mask, scale=0.125)) <= 1e-5


class SelfAttention(nn.Module):
    """A BERT/ViT-style block: projections, heads split with view + transpose, sdpa or explicit softmax."""

    def __init__(self, d=64, heads=4, explicit=False):
        super().__init__()
        self.h, self.explicit = heads, explicit
        self.qkv = nn.ModuleList(nn.Linear(d, d) for _ in range(3))
        self.out = nn.Linear(d, d)

    def forward(self, x, mask=None):
        b, s, d = x.shape
        q, k, v = (lin(x).view(b, s, self.h, d // self.h).transpose(1, 2) for lin in self.qkv)
        if self.explicit:
            w = q @ k.transpose(-1, -2) / math.sqrt(d // self.h)
            if mask is not None:
                w = w + mask
            y = torch.softmax(w, dim=-1) @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out(y.transpose(1, 2).reshape(b, s, d))


def attention_layers(model_trt):
    return [layer for layer in model_trt.engine_layers() if layer.kind == "Attention"]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_converted_block_runs_one_attention_layer(device, explicit, masked):
    torch.manual_seed(0)
    model = SelfAttention(explicit=explicit).eval().to(device)
    x = torch.randn(2, 37, 64, device=device)
    inputs = [x]
    if masked:
        mask = torch.zeros(2, 1, 1, 37, device=device)
        mask[1, ..., 20:] = -1e4
        inputs.append(mask)
    with torch.no_grad():
        want = model(*inputs)
        model_trt = torch2trt(model, inputs)
        got = model_trt(*inputs)
    layers = model_trt.engine_layers()
    kinds = [layer.kind for layer in layers]
    assert kinds.count("Attention") == 1 and "SoftMax" not in kinds, kinds
    # The heads transposes are absorbed: no Shuffle between the projections and the attention.
    assert kinds.count("Shuffle") <= 4, kinds
    assert rel_l2(got, want) <= 1e-4


@pytest.mark.parametrize("device", DEVICES)
def test_vit_encoder_layer_fuses(device):
    import torchvision

    torch.manual_seed(0)
    model = (
        torchvision.models.VisionTransformer(
            image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=64, mlp_dim=64
        )
        .eval()
        .to(device)
    )
    torch.nn.init.normal_(model.heads.head.weight, std=0.02)
    x = torch.randn(1, 3, 32, 32, device=device)
    with torch.no_grad():
        want = model(x)
        model_trt = torch2trt(model, [x])
        got = model_trt(x)
    assert len(attention_layers(model_trt)) == 2
    assert rel_l2(got, want) <= 1e-4


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_transformers_models_fuse(device, family):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    if family == "bert":
        config = transformers.BertConfig(
            vocab_size=1000,
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=32,
            attn_implementation="sdpa",
        )
        base = transformers.BertModel(config, add_pooling_layer=False)
    else:  # causal: the converter's tril mask becomes the layer's causal flag
        config = transformers.GPT2Config(
            vocab_size=1000,
            n_positions=32,
            n_embd=64,
            n_layer=2,
            n_head=2,
            use_cache=False,
            bos_token_id=0,
            eos_token_id=0,
            attn_implementation="sdpa",
        )
        base = transformers.GPT2Model(config)

    class Wrap(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, ids):
            return self.m(input_ids=ids).last_hidden_state

    model = Wrap(base).eval().to(device)
    ids = torch.randint(0, 1000, (2, 16), device=device)
    with torch.no_grad():
        want = model(ids)
        model_trt = torch2trt(model, [ids])
        got = model_trt(ids)
    assert len(attention_layers(model_trt)) == 2
    assert rel_l2(got, want) <= 1e-4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode", ["fp16_mode", "bf16_mode"])
def test_reduced_precision_block_uses_attention(mode):
    torch.manual_seed(0)
    model = SelfAttention().eval().cuda()
    x = torch.randn(4, 77, 64, device="cuda")
    with torch.no_grad():
        want = model(x)
        model_trt = torch2trt(model, [x], **{mode: True})
        got = model_trt(x)
    layers = attention_layers(model_trt)
    assert len(layers) == 1 and layers[0].precision in ("HALF", "BF16"), layers
    assert rel_l2(got, want) <= 2e-2
