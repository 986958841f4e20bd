"""Shape converters against PyTorch: reshapes, permutes, expand/repeat, split/cat, flip/roll, pad,
interpolate, pixel shuffles, copies. Data movement must match exactly; resampling to 1e-5."""

import pytest
import torch
import torch.nn.functional as F
import torch2trt
from convert_check import check, layer_types
from torch import nn
from torch2trt import trt


def randn(*shapes):
    return lambda: [torch.randn(*s) for s in shapes]


X4 = randn((2, 3, 4, 5))
X3 = randn((2, 6, 4))
X2 = randn((4, 6))

# name -> (function or module, inputs)
EXACT = {
    # reshapes
    "view": (lambda x: x.view(2, -1), X4),
    "view_size": (lambda x: x.view(torch.Size([6, 20])), X4),
    "view_sizes_from_shape": (lambda x: x.view(x.size(0), x.shape[1], -1), X4),
    "view_same_dtype": (lambda x: x.view(torch.float32) * 1, X4),
    "reshape": (lambda x: x.reshape(4, 30), X4),
    "torch.reshape": (lambda x: torch.reshape(x, (-1, 5)), X4),
    "view_as": (lambda x, y: x.view_as(y), randn((2, 3, 4, 5), (6, 20))),
    "reshape_as": (lambda x, y: x.reshape_as(y) + y, randn((2, 3, 4, 5), (6, 20))),
    "flatten": (lambda x: x.flatten(), X4),
    "flatten_1": (lambda x: torch.flatten(x, 1), X4),
    "flatten_1_2": (lambda x: x.flatten(1, 2), X4),
    "flatten_neg": (lambda x: x.flatten(-3, -2), X4),
    "nn.Flatten": (nn.Flatten(), X4),
    "ravel": (lambda x: x.ravel(), X4),
    "unflatten": (lambda x: x.unflatten(1, (2, 3)), X3),
    "torch.unflatten": (lambda x: torch.unflatten(x, -1, (2, -1)), X3),
    "nn.Unflatten": (nn.Unflatten(2, (2, 2)), X3),
    "squeeze": (lambda x: x.squeeze(), randn((1, 3, 1, 4))),
    "squeeze_dim": (lambda x: x.squeeze(2), randn((1, 3, 1, 4))),
    "squeeze_dim_noop": (lambda x: x.squeeze(1) * 1, randn((1, 3, 1, 4))),
    "squeeze_dims": (lambda x: torch.squeeze(x, (0, 2)), randn((1, 3, 1, 4))),
    "squeeze_": (lambda x: (x * 1).squeeze_(0), randn((1, 3, 1, 4))),
    "unsqueeze": (lambda x: x.unsqueeze(1), X3),
    "unsqueeze_neg": (lambda x: torch.unsqueeze(x, -1), X3),
    "unsqueeze_": (lambda x: (x * 1).unsqueeze_(0), X3),
    "atleast_3d": (lambda x: torch.atleast_3d(x), X2),
    "atleast_2d_many": (lambda x, y: torch.atleast_2d(x, y), randn((4,), (2, 3))),
    # permutations
    "permute": (lambda x: x.permute(0, 2, 3, 1), X4),
    "permute_tuple": (lambda x: x.permute((3, 1, 2, 0)), X4),
    "permute_neg": (lambda x: torch.permute(x, (-1, 0, -2, 1)), X4),
    "transpose": (lambda x: x.transpose(1, 3), X4),
    "transpose_neg": (lambda x: torch.transpose(x, -1, -2), X4),
    "transpose_": (lambda x: (x * 1).transpose_(0, 1), X3),
    "swapaxes": (lambda x: x.swapaxes(0, 2), X3),
    "swapdims": (lambda x: torch.swapdims(x, 1, 2), X3),
    "t": (lambda x: x.t(), X2),
    "torch.t_1d": (lambda x: torch.t(x) * 1, randn((5,))),
    "t_": (lambda x: (x * 1).t_(), X2),
    "adjoint": (lambda x: x.adjoint(), X3),
    "movedim": (lambda x: x.movedim(1, -1), X4),
    "movedim_many": (lambda x: torch.movedim(x, (0, 1), (3, 0)), X4),
    "moveaxis": (lambda x: torch.moveaxis(x, -1, 0), X4),
    # broadcasting and repetition
    "expand": (lambda x: x.expand(3, 4, 6), randn((4, 1))),
    "expand_keep": (lambda x: x.expand(2, -1, 5), randn((1, 3, 1))),
    "expand_same": (lambda x: x.expand(2, 3) * 1, randn((2, 3))),
    "expand_as": (lambda x, y: x.expand_as(y) + y, randn((1, 6), (4, 6))),
    "broadcast_to": (lambda x: torch.broadcast_to(x, (2, 3, 4)), randn((3, 1))),
    "broadcast_tensors": (lambda x, y: torch.broadcast_tensors(x, y), randn((3, 1), (1, 4))),
    "repeat": (lambda x: x.repeat(2, 3), randn((2, 3))),
    "repeat_more_dims": (lambda x: x.repeat(2, 1, 3), randn((2, 3))),
    "repeat_sizes": (lambda x: x.repeat(torch.Size([1, 2, 2])), randn((2, 3, 1))),
    "tile": (lambda x: x.tile((2,)), randn((2, 3))),
    "torch.tile": (lambda x: torch.tile(x, (3, 1, 2)), randn((2, 3))),
    "repeat_interleave": (lambda x: x.repeat_interleave(2, dim=1), randn((2, 3))),
    "repeat_interleave_flat": (lambda x: torch.repeat_interleave(x, 3), randn((2, 3))),
    "repeat_interleave_tensor": (lambda x: x.repeat_interleave(torch.tensor([1, 0, 2]), dim=1), randn((2, 3))),
    # pieces
    "narrow": (lambda x: x.narrow(1, 1, 3), X3),
    "narrow_neg": (lambda x: torch.narrow(x, -1, -3, 2), X3),
    "narrow_tensor_start": (lambda x: x.narrow(0, torch.tensor(1), 1), X3),
    "chunk": (lambda x: x.chunk(3, 1), X3),
    "chunk_uneven": (lambda x: torch.chunk(x, 4, dim=-1), randn((2, 7))),
    "split": (lambda x: x.split(2, dim=1), X3),
    "split_uneven": (lambda x: torch.split(x, 4, -1), randn((2, 7))),
    "split_list": (lambda x: x.split([1, 3, 2], 1), X3),
    "torch.split_list": (lambda x: torch.split(x, [3, 1], dim=2), X3),
    "split_with_sizes": (lambda x: x.split_with_sizes([2, 4], 1), X3),
    "tensor_split": (lambda x: x.tensor_split(4, dim=1), randn((2, 7))),
    "tensor_split_idx": (lambda x: torch.tensor_split(x, [1, 5], dim=1), randn((2, 7))),
    "tensor_split_unsorted": (lambda x: torch.tensor_split(x, [4, 2], 1), randn((2, 7))),
    "hsplit": (lambda x: torch.hsplit(x, 2), X3),
    "vsplit": (lambda x: x.vsplit([1]), X3),
    "unbind": (lambda x: x.unbind(1), X3),
    "unbind_0": (lambda x: torch.unbind(x), X3),
    # joining
    "cat": (lambda x, y: torch.cat([x, y], 1), randn((2, 3, 4), (2, 5, 4))),
    "cat_neg": (lambda x, y: torch.cat((x, y), dim=-1), randn((2, 3, 4), (2, 3, 2))),
    "cat_const": (lambda x: torch.cat([x, torch.ones(2, 1)], 1), randn((2, 3))),
    "cat_promote": (lambda x: torch.cat([x, torch.arange(2).reshape(2, 1)], 1), randn((2, 3))),
    "cat_empty_legacy": (lambda x: torch.cat([torch.empty(0), x]), randn((2, 3))),
    "cat_self": (lambda x: torch.cat([x, x, x]), randn((2, 3))),
    "concat": (lambda x, y: torch.concat([x, y]), randn((1, 3), (2, 3))),
    "concatenate": (lambda x, y: torch.concatenate([x, y], axis=1), randn((2, 1), (2, 3))),
    "stack": (lambda x, y: torch.stack([x, y]), randn((2, 3), (2, 3))),
    "stack_last": (lambda x, y: torch.stack((x, y), dim=-1), randn((2, 3), (2, 3))),
    "stack_mid": (lambda x, y, z: torch.stack([x, y, z], 1), randn((2, 3), (2, 3), (2, 3))),
    "hstack": (lambda x, y: torch.hstack([x, y]), randn((2, 3), (2, 1))),
    "hstack_1d": (lambda x, y: torch.hstack([x, y]), randn((2,), (3,))),
    "vstack": (lambda x, y: torch.vstack([x, y]), randn((3,), (2, 3))),
    "row_stack": (lambda x, y: torch.row_stack([x, y]), randn((2, 3), (1, 3))),
    "dstack": (lambda x, y: torch.dstack([x, y]), randn((2, 3), (2, 3))),
    "column_stack": (lambda x, y: torch.column_stack([x, y]), randn((3,), (3, 2))),
    # flip and roll
    "flip": (lambda x: x.flip(1), X4),
    "flip_many": (lambda x: torch.flip(x, (0, -1)), X4),
    "flip_varargs": (lambda x: x.flip(2, 3), X4),
    "fliplr": (lambda x: torch.fliplr(x), X3),
    "flipud": (lambda x: x.flipud(), X3),
    "roll": (lambda x: x.roll(2, 1), X3),
    "roll_neg": (lambda x: torch.roll(x, -1, -1), X3),
    "roll_many": (lambda x: torch.roll(x, (1, -2), (0, 2)), X3),
    "roll_big": (lambda x: torch.roll(x, 13, 1), X3),
    "roll_flat": (lambda x: x.roll(5), X3),
    # padding
    "pad_constant": (lambda x: F.pad(x, (1, 2)), X4),
    "pad_constant_value": (lambda x: F.pad(x, (1, 2, 0, 3), value=-1.5), X4),
    "pad_constant_3d": (lambda x: F.pad(x, (1, 1, 2, 0, 1, 1), "constant", 2.0), X4),
    "pad_negative": (lambda x: F.pad(x, (-1, 2, 1, -2)), X4),
    "pad_reflect": (lambda x: F.pad(x, (2, 1, 1, 3), mode="reflect"), X4),
    "pad_reflect_1d": (lambda x: F.pad(x, (3, 2), "reflect"), X3),
    "pad_replicate": (lambda x: F.pad(x, (2, 3, 0, 1), mode="replicate"), X4),
    "pad_circular": (lambda x: F.pad(x, (1, 2, 2, 1), mode="circular"), X4),
    "pad_circular_1d": (lambda x: F.pad(x, (3, 1), mode="circular"), X3),
    "nn.ConstantPad1d": (nn.ConstantPad1d((2, 1), 3.5), X3),
    "nn.ConstantPad2d": (nn.ConstantPad2d(2, -1.0), X4),
    "nn.ConstantPad3d": (nn.ConstantPad3d((1, 0, 0, 1, 1, 1), 0.5), randn((1, 2, 3, 4, 5))),
    "nn.ZeroPad1d": (nn.ZeroPad1d(2), X3),
    "nn.ZeroPad2d": (nn.ZeroPad2d((1, 0, 2, 1)), X4),
    "nn.ZeroPad3d": (nn.ZeroPad3d(1), randn((1, 2, 3, 4, 5))),
    "nn.ReflectionPad1d": (nn.ReflectionPad1d(3), X3),
    "nn.ReflectionPad2d": (nn.ReflectionPad2d((1, 3, 2, 0)), X4),
    "nn.ReflectionPad3d": (nn.ReflectionPad3d(1), randn((1, 2, 3, 4, 5))),
    "nn.ReplicationPad1d": (nn.ReplicationPad1d((4, 1)), X3),
    "nn.ReplicationPad2d": (nn.ReplicationPad2d(2), X4),
    "nn.ReplicationPad3d": (nn.ReplicationPad3d((1, 2, 0, 1, 2, 1)), randn((1, 2, 3, 4, 5))),
    "nn.CircularPad2d": (nn.CircularPad2d(1), X4),
    # pixel and channel shuffles
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x, 2), randn((2, 8, 3, 5))),
    "nn.PixelShuffle": (nn.PixelShuffle(3), randn((1, 18, 2, 3))),
    "pixel_shuffle_batch": (lambda x: torch.pixel_shuffle(x, 2), randn((2, 3, 4, 2, 3))),
    "pixel_unshuffle": (lambda x: F.pixel_unshuffle(x, 2), randn((2, 3, 4, 6))),
    "nn.PixelUnshuffle": (nn.PixelUnshuffle(3), randn((1, 2, 6, 9))),
    "channel_shuffle": (lambda x: F.channel_shuffle(x, 3), randn((2, 6, 2, 3))),
    "nn.ChannelShuffle": (nn.ChannelShuffle(2), randn((1, 8, 3))),
    # copies and shape queries
    "clone": (lambda x: x.clone() + 1, X3),
    "clone_out": (lambda x: (x.clone(), x), X3),
    "contiguous": (lambda x: x.transpose(0, 1).contiguous(), X3),
    "contiguous_channels_last": (lambda x: x.contiguous(memory_format=torch.channels_last) * 2, X4),
    "detach": (lambda x: torch.detach(x) * 2, X3),
    "detach_": (lambda x: (x * 2).detach_(), X3),
    "size_dim_numel": (lambda x: x.reshape(x.size(0) * x.dim(), x.numel() // (x.shape[0] * x.dim())), X3),
    "size_len": (lambda x: x.view(len(x), -1) * x.size(-1), X3),
}


@pytest.mark.parametrize("name", list(EXACT))
def test_exact(name):
    fn, inputs = EXACT[name]
    check(fn, inputs, tol=0.0, min_layers=0)


SCALARS = {
    "0d_unsqueeze": lambda x: x.amax().unsqueeze(0),
    "0d_view": lambda x: x.amax().view(1, 1),
    "0d_expand": lambda x: x.amin().expand(3, 2),
    "0d_stack": lambda x: torch.stack([x[0, 1, 2], x.amax(), x.amin()]),
    "0d_flatten": lambda x: x.amin().flatten(),
    "0d_from_getitem": lambda x: x[1, 2, 3].reshape(1) * 1,
    "empty_reshape": lambda x: x[:, 2:2].reshape(0, 4),
    "empty_cat": lambda x: torch.cat([x[:, 2:2], x], 1),
    "5d_permute": lambda x: x.reshape(3, 2, 2, 1, 5).permute(4, 2, 0, 3, 1),
}


@pytest.mark.parametrize("name", list(SCALARS))
def test_scalars_and_ranks(name):
    check(SCALARS[name], randn((3, 4, 5)), tol=0.0, min_layers=0)


HALF = {
    "half_cat_flip": lambda x: torch.cat([x, x.flip(1)], 0),
    "half_getitem_pad": lambda x: F.pad(x[:, 1::2], (1, 1)),
    "half_permute_expand": lambda x: x.permute(1, 0).unsqueeze(0).expand(2, -1, -1),
    "half_interpolate": lambda x: F.interpolate(x[None, None], scale_factor=2),
}


@pytest.mark.parametrize("name", list(HALF))
def test_float16(name):
    check(HALF[name], lambda: [torch.randn(4, 6).half()], tol=0.0, min_layers=1)


INT_CASES = {
    "int_permute": (lambda x: x.permute(1, 0) + 0, lambda: [torch.randint(-5, 5, (3, 4), dtype=torch.int32)]),
    "int64_cat_flip": (lambda x: torch.cat([x, x.flip(0)]), lambda: [torch.randint(-5, 5, (3, 4))]),
    "bool_roll_pad": (lambda x: F.pad(x.roll(1, 0).to(torch.float32), (1, 1)), lambda: [torch.rand(3, 4) > 0.5]),
    "int_expand_repeat": (
        lambda x: x.expand(2, 3, 4).repeat(1, 2, 1),
        lambda: [torch.randint(0, 9, (3, 1), dtype=torch.int32)],
    ),
}


@pytest.mark.parametrize("name", list(INT_CASES))
def test_other_dtypes(name):
    fn, inputs = INT_CASES[name]
    check(fn, inputs, tol=0.0, min_layers=0)


def test_reshape_adds_one_shuffle():
    m = check(lambda x: x.view(2, -1).flatten(), X4, tol=0.0)
    assert set(layer_types(m)) == {trt.LayerType.Shuffle}


def test_expand_is_one_slice():
    m = check(lambda x: x.expand(3, 4, 6), randn((4, 1)), tol=0.0)
    assert layer_types(m).count(trt.LayerType.Slice) == 1


# ---------------------------------------------------------------------------------------------
# Interpolation: every mode, size and scale_factor, align_corners, recompute_scale_factor

RESIZE = {
    "nearest_size": (lambda x: F.interpolate(x, size=(7, 9)), randn((2, 3, 4, 5))),
    "nearest_scale": (lambda x: F.interpolate(x, scale_factor=2), randn((2, 3, 4, 5))),
    "nearest_scale_frac": (lambda x: F.interpolate(x, scale_factor=(1.7, 0.6)), randn((1, 2, 5, 7))),
    "nearest_down": (lambda x: F.interpolate(x, size=3), randn((1, 2, 7, 8))),
    "nearest_1d": (lambda x: F.interpolate(x, scale_factor=3), randn((2, 3, 5))),
    "nearest_3d": (lambda x: F.interpolate(x, size=(3, 5, 4)), randn((1, 2, 2, 3, 4))),
    "nearest_recompute": (
        lambda x: F.interpolate(x, scale_factor=1.7, recompute_scale_factor=True),
        randn((1, 2, 5, 7)),
    ),
    "nearest_exact": (lambda x: F.interpolate(x, size=(7, 3), mode="nearest-exact"), randn((1, 2, 5, 7))),
    "nearest_exact_scale": (lambda x: F.interpolate(x, scale_factor=1.5, mode="nearest-exact"), randn((1, 2, 5, 7))),
    "linear": (lambda x: F.interpolate(x, size=11, mode="linear"), randn((2, 3, 5))),
    "linear_ac": (lambda x: F.interpolate(x, scale_factor=2.5, mode="linear", align_corners=True), randn((2, 3, 5))),
    "bilinear": (lambda x: F.interpolate(x, size=(9, 4), mode="bilinear"), randn((2, 3, 5, 7))),
    "bilinear_ac": (lambda x: F.interpolate(x, size=(9, 13), mode="bilinear", align_corners=True), randn((2, 3, 5, 7))),
    "bilinear_scale": (lambda x: F.interpolate(x, scale_factor=1.7, mode="bilinear"), randn((2, 3, 5, 7))),
    "bilinear_scale_same_extent": (
        lambda x: F.interpolate(x, scale_factor=(1.1, 2.0), mode="bilinear"),
        randn((1, 2, 5, 4)),
    ),
    "bilinear_recompute": (
        lambda x: F.interpolate(x, scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
        randn((2, 3, 5, 7)),
    ),
    "bilinear_down": (lambda x: F.interpolate(x, scale_factor=0.5, mode="bilinear"), randn((1, 2, 8, 9))),
    "bicubic": (lambda x: F.interpolate(x, size=(8, 11), mode="bicubic"), randn((1, 2, 5, 7))),
    "bicubic_ac": (lambda x: F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=True), randn((1, 2, 5, 7))),
    "bicubic_scale": (lambda x: F.interpolate(x, scale_factor=1.3, mode="bicubic"), randn((1, 2, 5, 7))),
    "trilinear": (lambda x: F.interpolate(x, size=(4, 5, 6), mode="trilinear"), randn((1, 2, 2, 3, 4))),
    "trilinear_ac": (
        lambda x: F.interpolate(x, scale_factor=2, mode="trilinear", align_corners=True),
        randn((1, 2, 2, 3, 4)),
    ),
    "area": (lambda x: F.interpolate(x, size=(3, 4), mode="area"), randn((1, 2, 7, 9))),
    "nn.Upsample": (nn.Upsample(scale_factor=2), randn((1, 2, 3, 4))),
    "nn.Upsample_bilinear": (nn.Upsample(size=(5, 7), mode="bilinear", align_corners=False), randn((1, 2, 3, 4))),
    "nn.UpsamplingNearest2d": (nn.UpsamplingNearest2d(scale_factor=3), randn((1, 2, 3, 4))),
    "nn.UpsamplingBilinear2d": (nn.UpsamplingBilinear2d(size=(6, 9)), randn((1, 2, 3, 4))),
    "F.upsample": (lambda x: F.upsample(x, scale_factor=2, mode="bilinear"), randn((1, 2, 3, 4))),
    "F.upsample_nearest": (lambda x: F.upsample_nearest(x, size=(5, 6)), randn((1, 2, 3, 4))),
    "F.upsample_bilinear": (lambda x: F.upsample_bilinear(x, scale_factor=2), randn((1, 2, 3, 4))),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", list(RESIZE))
def test_interpolate(name):
    fn, inputs = RESIZE[name]
    check(fn, inputs, tol=1e-5)


# ---------------------------------------------------------------------------------------------
# Errors name the argument


def _convert(fn, *inputs):
    from convert_check import Fn

    return torch2trt.torch2trt(Fn(fn), list(inputs))


def test_antialias_raises():
    with pytest.raises(NotImplementedError, match="antialias"):
        _convert(lambda x: F.interpolate(x, size=(2, 2), mode="bilinear", antialias=True), torch.randn(1, 1, 5, 5))


def test_view_dtype_raises():
    with pytest.raises(NotImplementedError, match="dtype"):
        _convert(lambda x: x.view(torch.int32), torch.randn(2, 3))


def test_device_move_raises():
    # the meta device stands in for a second device on machines without a GPU
    with pytest.raises(NotImplementedError, match="device"):
        _convert(lambda x: x.to("meta"), torch.randn(2, 3))


def test_data_dependent_repeat_interleave_raises():
    with pytest.raises(NotImplementedError, match="repeats"):
        _convert(lambda x, r: x.repeat_interleave(r, dim=0), torch.randn(3, 2), torch.tensor([1, 2, 1]))


def test_error_names_user_line():
    with pytest.raises(NotImplementedError, match=r"test_shape\.py:\d+"):
        _convert(lambda x: x.view(torch.int32), torch.randn(2, 3))
