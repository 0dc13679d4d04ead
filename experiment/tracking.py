"""The batch-norm paper's Figure 1 study: the inputs of a few units of a model's last hidden
activation, recorded while the test set is evaluated."""

from __future__ import annotations

from minigrad import backend, nn


class InputTracker:
    """While active, records the input of a few fixed units of the model's last hidden
    activation (the last Sigmoid/Tanh/ReLU module), as the batch-norm paper's Figure 1 does."""

    UNITS = (0, 1, 2)
    PERCENTILES = (15, 50, 85)

    def __init__(self, model: nn.Module) -> None:
        activations = [m for m in model.modules() if isinstance(m, (nn.Sigmoid, nn.Tanh, nn.ReLU))]
        if not activations:
            raise ValueError("--track-inputs needs a model with a Sigmoid/Tanh/ReLU module")
        self.layer = activations[-1]

    def __enter__(self) -> InputTracker:
        self.chunks = []
        self.handle = self.layer.register_forward_hook(self._record)
        return self

    def _record(self, module, inputs, output) -> None:
        self.chunks.append(inputs[0].data[:, list(self.UNITS)])

    def __exit__(self, *exc_info) -> None:
        self.handle.remove()

    def percentiles(self) -> dict[int, list[float]]:
        """unit -> [15th, 50th, 85th percentile] of its input over everything recorded."""
        xp = backend.array_module(self.chunks[0])
        values = xp.concatenate(self.chunks)
        table = xp.percentile(values, list(self.PERCENTILES), axis=0).tolist()
        return {unit: [row[i] for row in table] for i, unit in enumerate(self.UNITS)}
