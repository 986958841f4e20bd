"""torch2trt.report(): a dry run listing every torch call, the converter used or 'unsupported'."""

import sys

from torch2trt import trt
from torch2trt.conversion import ConversionContext, ConversionError, _input_list, trace

__all__ = ["ConversionReport", "report"]


class ConversionReport:
    """The rows of a dry run: dicts with keys function, converter, status, location.

    ``status`` is 'converted', 'unsupported' (no converter; the result is computed from the
    network inputs) or 'error: ...' (the converter raised, or a tensor's value was read into
    Python). ``ok`` is True when the model would convert.
    """

    def __init__(self, rows, outputs_error=None):
        self.rows = rows
        self.outputs_error = outputs_error

    @property
    def unsupported(self):
        """Rows of calls that have no converter."""
        return [r for r in self.rows if r["status"] == "unsupported"]

    @property
    def errors(self):
        """Rows of calls whose conversion failed."""
        return [r for r in self.rows if r["status"].startswith("error")]

    @property
    def ok(self):
        return not self.unsupported and not self.errors and self.outputs_error is None

    def __str__(self):
        header = ("#", "torch function", "converter", "status", "source")
        lines = [(str(i), r["function"], r["converter"], r["status"], r["location"]) for i, r in enumerate(self.rows)]
        widths = [max(len(h), *(len(x[c]) for x in lines)) if lines else len(h) for c, h in enumerate(header)]
        widths[3] = min(widths[3], 60)

        def fmt(cols):
            return "  ".join(c.ljust(w) if i < 4 else c for i, (c, w) in enumerate(zip(cols, widths)))

        out = [fmt(header), fmt(["-" * w for w in widths])]
        for cols in lines:
            status = cols[3] if len(cols[3]) <= 60 else cols[3][:57] + "..."
            out.append(fmt(cols[:3] + (status,) + cols[4:]))
        count = {k: sum(r["status"].startswith(k) for r in self.rows) for k in ("converted", "unsupported", "error", "skipped")}
        summary = (
            f"{len(self.rows)} calls: {count['converted']} converted, {count['unsupported']} unsupported, "
            f"{count['error']} errors, {count['skipped']} skipped (an input could not be converted)"
        )
        out.append(summary)
        if self.outputs_error is not None:
            out.append(f"outputs: {self.outputs_error}")
        for r in self.errors:
            out.append(f"[{r['location']}] {r['status']}")
        return "\n".join(out)

    __repr__ = __str__


def report(module, inputs, file=sys.stdout):
    """Runs ``module(*inputs)`` with the converters, recording instead of raising; prints the table
    to ``file`` (unless None) and returns the ConversionReport. No engine is built."""
    inputs = _input_list(inputs)
    builder = trt.Builder(trt.Logger(trt.Logger.ERROR))
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH.value))
    rows = []
    ctx = ConversionContext(network, report=rows)
    samples = [x.clone() for x in inputs]
    outputs_error = None
    try:
        trace(ctx, module, samples, [f"input_{i}" for i in range(len(samples))], None)
    except ConversionError as e:
        outputs_error = str(e)
    result = ConversionReport(rows, outputs_error)
    if file is not None:
        print(result, file=file)
    return result

