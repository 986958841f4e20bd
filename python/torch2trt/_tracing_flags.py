"""Tells libraries that read tensor values only when they are not traced that they are traced.

transformers asks ``is_tracing(tensor)`` before it reads a tensor's values into Python, for
example ``padding_mask.all()`` to skip building an attention mask when nothing is padded; under
torch.jit, torch.fx, torch.export and torch.compile it answers yes and builds the mask with tensor
operations instead. An engine must compute the same function for every input, not the branch the
sample input took, so while torch2trt converts, a tensor computed from the network inputs counts as
traced: the mask is built from tensor operations, which the converters turn into layers, and the
engine masks whatever attention mask it is given.
"""

import os
import sys

import torch

__all__ = ["patches", "value_read_hint"]


def _transformers_patches(ctx):
    import_utils = sys.modules.get("transformers.utils.import_utils")
    original = getattr(import_utils, "is_tracing", None)
    if original is None:
        return []

    def is_tracing(tensor=None):
        return original(tensor) or (isinstance(tensor, torch.Tensor) and ctx.is_network_tensor(tensor))

    is_tracing.__wrapped__ = original
    # transformers' modules import the function by name: replace it wherever it is bound.
    owners = [
        module
        for name, module in list(sys.modules.items())
        if (name == "transformers" or name.startswith("transformers.")) and getattr(module, "__dict__", {}).get("is_tracing") is original
    ]
    return [(module, "is_tracing", is_tracing, original) for module in owners]


def patches(ctx):
    """(owner, attribute, replacement, original) for every flag function to replace while ``ctx``
    converts; libraries that are not imported are left alone (and not imported)."""
    return _transformers_patches(ctx)


def value_read_hint(location):
    """Advice for a value read at ``location`` ('file:line') inside a library, or ''."""
    if location.startswith("transformers" + os.sep):
        return (
            " transformers reads attention-mask values to skip masking when nothing is padded, here without "
            "asking is_tracing() (torch2trt answers yes for network tensors): pass a 4-D boolean attention mask "
            "(batch, 1, query length, key length; True where attention is allowed) or load the model with "
            'attn_implementation="eager".'
        )
    return ""
