"""The built-in converters. Importing this package registers every one of them.

Each module registers its converters with @tensorrt_converter at import time. A module that is not
present (a trimmed install, or one still being written) is skipped; any other import error — a
bug inside a converter module — is raised, never hidden.
"""

import importlib

_MODULES = (
    # part A: math, activations, nn layers
    "activation",
    "elementwise",
    "unary",
    "reduce",
    "nn",
    # part B: shapes, indexing, tensor creation and dtypes
    "shape",
    "creation",
    "indexing",
    "misc",  # spellings upstream converts that the families above do not register
)

loaded = []
"""Names of the converter modules that were imported."""

for _name in _MODULES:
    _full = f"{__name__}.{_name}"
    try:
        importlib.import_module(_full)
    except ModuleNotFoundError as e:
        if e.name != _full:
            raise
    else:
        loaded.append(_name)

del _name, _full
