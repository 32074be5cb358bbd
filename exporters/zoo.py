"""The built-in model zoo by name (its models are exporters/zoo_models.py), and the spec a model word names."""

from __future__ import annotations

from typing import Callable

from .spec import ModelSpec, SpecError, load_user_spec

SEED = 0
# A manifest's `source` for a zoo model; user models record their `module:callable` as is.
ZOO_SOURCE = "zoo:"


# The zoo, in the order reports list it; `make all` exports every entry by default. Each is the name of its
# builder in exporters/zoo_models.py, listed here so that naming the zoo and finding its folders never load torch.
ZOO = ("mlp", "cnn", "transformer", "encoder")


def builder(name: str) -> Callable[[], ModelSpec]:
    """A zoo model's builder (its docstring describes it)."""
    from . import zoo_models

    return getattr(zoo_models, name)


def load_spec(model: str) -> ModelSpec:
    """A zoo model by name, or a user model by `module:callable`; weights are seeded and eval-mode."""
    import torch

    torch.manual_seed(SEED)
    if model in ZOO:
        spec = builder(model)()
        spec.name, spec.source = model, ZOO_SOURCE + model
    elif ":" in model:
        spec = load_user_spec(model)
    else:
        raise SpecError(f"unknown model '{model}'; zoo models: {', '.join(ZOO)}, or pass module:callable")
    spec.module.eval()
    spec.validate()
    return spec


def load_source(source: str) -> ModelSpec:
    """The spec a manifest's `source` was exported from (same seed, so the same weights)."""
    return load_spec(source.removeprefix(ZOO_SOURCE))
