"""Export PyTorch models to every deployable format and verify each against eager PyTorch.

The spec types are loaded on first use so that torch-free users of the package (the JPype driver
reads the contract through exporters.contract) never load torch's native libraries.
"""

__all__ = ["Dim", "ModelSpec", "TextSpec", "Tolerance"]


def __getattr__(name: str):
    if name in __all__:
        from . import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'exporters' has no attribute {name!r}")
