"""Whole models with random weights on the CPU, compared with PyTorch (relative L2 <= 1e-4).

Nothing is downloaded: torchvision models are built with weights=None and transformers' BERT
and GPT-2 from small configs. resnet18, mobilenet_v2 and the small BERT run in the default
suite; the rest are marked ``models`` (``make test-models``).
"""

import pytest
import torch
import torchvision.models as tvm
import torchvision.models.segmentation as tvs
from conftest import rel_l2
from torch2trt import ConversionError, torch2trt

TOLERANCE = 1e-4


def check(model, inputs, tolerance=TOLERANCE):
    model = model.eval()
    with torch.no_grad():
        expected = model(*inputs)
    model_trt = torch2trt(model, inputs)
    actual = model_trt(*inputs)
    if isinstance(expected, dict):
        assert list(actual) == list(expected)
        pairs = [(actual[k], expected[k]) for k in expected]
    elif isinstance(expected, (tuple, list)):
        pairs = list(zip(actual, expected))
    else:
        pairs = [(actual, expected)]
    for a, e in pairs:
        if a is None and e is None:
            continue
        err = rel_l2(a, e)
        assert err <= tolerance, f"relative L2 {err:.3g} > {tolerance}"
    return model_trt


def image(size=224, batch=1):
    return torch.randn(batch, 3, size, size)


# name -> (constructor, input size); every model has random weights.
CLASSIFICATION = {
    "alexnet": (lambda: tvm.alexnet(), 224),
    "vgg11": (lambda: tvm.vgg11(), 224),
    "resnet18": (lambda: tvm.resnet18(), 224),
    "resnet50": (lambda: tvm.resnet50(), 224),
    "resnext50_32x4d": (lambda: tvm.resnext50_32x4d(), 224),
    "wide_resnet50_2": (lambda: tvm.wide_resnet50_2(), 224),
    "densenet121": (lambda: tvm.densenet121(), 224),
    "squeezenet1_0": (lambda: tvm.squeezenet1_0(), 224),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(), 224),
    "mobilenet_v3_small": (lambda: tvm.mobilenet_v3_small(), 224),
    "shufflenet_v2_x0_5": (lambda: tvm.shufflenet_v2_x0_5(), 224),
    "mnasnet0_5": (lambda: tvm.mnasnet0_5(), 224),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(), 224),
    "efficientnet_v2_s": (lambda: tvm.efficientnet_v2_s(), 224),
    "regnet_y_400mf": (lambda: tvm.regnet_y_400mf(), 224),
    "googlenet": (lambda: tvm.googlenet(aux_logits=False, init_weights=True), 224),
    "inception_v3": (lambda: tvm.inception_v3(aux_logits=False, init_weights=True), 299),
    "convnext_tiny": (lambda: tvm.convnext_tiny(), 224),
    "vit_b_16": (lambda: tvm.vit_b_16(), 224),
    "swin_t": (lambda: tvm.swin_t(), 224),
    "maxvit_t": (lambda: tvm.maxvit_t(), 224),
}
FAST = {"resnet18", "mobilenet_v2"}

SEGMENTATION = {
    "fcn_resnet50": lambda: tvs.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=True),
    "deeplabv3_resnet50": lambda: tvs.deeplabv3_resnet50(weights=None, weights_backbone=None, aux_loss=True),
    "lraspp_mobilenet_v3_large": lambda: tvs.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None),
}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=() if n in FAST else pytest.mark.models) for n in CLASSIFICATION]
)
def test_classification(name):
    torch.manual_seed(0)
    make, size = CLASSIFICATION[name]
    check(make(), [image(size)])


@pytest.mark.models
@pytest.mark.parametrize("name", list(SEGMENTATION))
def test_segmentation(name):
    torch.manual_seed(0)
    check(SEGMENTATION[name](), [image(224)])


@pytest.mark.models
def test_resnet18_batch4():
    torch.manual_seed(0)
    check(tvm.resnet18(), [image(224, batch=4)])


# ---------------------------------------------------------------------------------------------
# transformers


def small_bert(**kwargs):
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=1000, hidden_size=128, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
        max_position_embeddings=64, **kwargs,
    )
    return transformers.BertModel(config)


def small_gpt2(**kwargs):
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(vocab_size=1000, n_positions=64, n_embd=128, n_layer=2, n_head=4, use_cache=False,
                                     bos_token_id=0, eos_token_id=0, **kwargs)
    return transformers.GPT2Model(config)


class WithMask(torch.nn.Module):
    """Calls a transformers model with an attention mask and returns its last hidden state.

    A 2-D mask (batch, key) is what tokenizers return; with four_d=True it is passed as the
    equivalent 4-D boolean mask (batch, 1, query, key), which transformers uses as given.
    """

    def __init__(self, model, four_d):
        super().__init__()
        self.model = model
        self.four_d = four_d

    def forward(self, input_ids, attention_mask):
        if self.four_d:
            seq = input_ids.shape[1]
            attention_mask = attention_mask[:, None, None, :].bool().expand(-1, 1, seq, -1)
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def tokens(batch=2, seq=16):
    ids = torch.randint(0, 1000, (batch, seq))
    mask = torch.ones(batch, seq, dtype=torch.int64)
    mask[1, seq // 2:] = 0  # padding in the second sequence
    return ids, mask


def tiny(family, **kwargs):
    """A one-layer model of the family, small enough for the default suite."""
    transformers = pytest.importorskip("transformers")
    if family == "bert":
        config = transformers.BertConfig(
            vocab_size=1000, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
            max_position_embeddings=32, **kwargs,
        )
        return transformers.BertModel(config, add_pooling_layer=False)
    config = transformers.GPT2Config(vocab_size=1000, n_positions=32, n_embd=32, n_layer=1, n_head=2, use_cache=False,
                                     bos_token_id=0, eos_token_id=0, **kwargs)
    return transformers.GPT2Model(config)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_2d_attention_mask_of_any_values(family, attn):
    # transformers skips masking when the mask it sees has no padding; the engine, built from one
    # mask, must mask every other one as PyTorch does.
    torch.manual_seed(0)
    model = WithMask(tiny(family, attn_implementation=attn), four_d=False).eval()
    import transformers.masking_utils

    is_tracing = transformers.masking_utils.is_tracing
    ids, padded = tokens()
    ones = torch.ones_like(padded)
    for traced, other in ((ones, padded), (padded, ones)):
        model_trt = torch2trt(model, [ids, traced])
        for mask in (traced, other):
            with torch.no_grad():
                expected = model(ids, mask)
            err = rel_l2(model_trt(ids, mask), expected)
            assert err <= TOLERANCE, f"traced with {traced.tolist()}, run with {mask.tolist()}: relative L2 {err:.3g}"
    assert transformers.masking_utils.is_tracing is is_tracing  # put back after converting


def test_2d_attention_mask_read_without_is_tracing_says_what_to_do(monkeypatch):
    # What a transformers version that reads the mask without asking is_tracing() runs into.
    import torch2trt._tracing_flags as flags

    monkeypatch.setattr(flags, "patches", lambda ctx: [])
    with pytest.raises(ConversionError, match=r"transformers/\S+:\d+\) reads the values.*4-D boolean attention mask.*eager"):
        torch2trt(WithMask(tiny("bert"), four_d=False).eval(), list(tokens()))


def test_bert_small():
    torch.manual_seed(0)
    ids, _ = tokens()
    check(small_bert(), [ids])


@pytest.mark.models
def test_bert_small_with_attention_mask():
    torch.manual_seed(0)
    ids, mask = tokens()
    model = WithMask(small_bert(), four_d=True).eval()
    with torch.no_grad():  # the 4-D mask means the same as the 2-D one
        torch.testing.assert_close(model(ids, mask), model.model(input_ids=ids, attention_mask=mask).last_hidden_state)
    check(model, [ids, mask])


@pytest.mark.models
def test_gpt2_small():
    torch.manual_seed(0)
    ids, _ = tokens()
    check(small_gpt2(), [ids])


@pytest.mark.models
def test_gpt2_small_with_attention_mask():
    torch.manual_seed(0)
    model = WithMask(small_gpt2(attn_implementation="eager"), four_d=False)
    check(model, list(tokens()))
