"""Run every exported artifact in its Python runtime against the golden cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .contract import VERIFIABLE, ContractError, check_format, load_golden, read_manifest, verification_key, write_manifest
from .parity import Parity
from .console import first_line
from .formats import FORMATS

SIDE = "python"


def verify_model(
    model_dir: Path,
    only: list[str] | None = None,
    on_result: Callable[[str, dict[str, Any]], None] = lambda name, result: None,
    force: bool = False,
) -> list[str]:
    """Verify each exported format (or `only`), recording results under verification['python/<runtime>'].

    A recorded result whose key matches is reused (its files still checked against their digests);
    force runs it again. Returns why each requested format could not be verified (absent, or its export failed).
    """
    manifest = read_manifest(model_dir)
    cases = load_golden(model_dir, manifest)
    unverifiable = []
    for name in only or [n for n in FORMATS if n in manifest["formats"]]:
        entry = manifest["formats"].get(name)
        if entry is None or entry.get("status") not in VERIFIABLE:
            unverifiable.append(f"{name} was not exported" if entry is None else f"{name} export {entry.get('status')}")
            continue
        fmt = FORMATS[name]
        parity = Parity(manifest["parity"])
        key = verification_key(manifest, entry, fmt.runtime, fmt.runtime_version())
        recorded = entry["verification"].get(f"{SIDE}/{fmt.runtime}", {})
        try:
            check_format(model_dir, name, entry)  # before the runtime opens anything, reused or not
        except ContractError as exc:
            parity.fail(str(exc))
        else:
            if recorded.get("key") == key and not force:
                on_result(name, {**recorded, "reused": True})
                continue
            try:
                predict = fmt.load(model_dir / name, manifest)
                for case in cases:
                    parity.add(case.name, predict(case.inputs), case.reference)
            except Exception as exc:  # a runtime error is a verification failure, with the runtime's words
                parity.fail(f"{type(exc).__name__}: {first_line(exc)}")
        result = {"side": SIDE, "runtime": fmt.runtime, "version": fmt.runtime_version(), **parity.as_dict(),
                  "box": manifest["golden"].get("box", {}),  # every case ran: the sizes a pass covers
                  "key": key}
        entry["verification"][f"{SIDE}/{fmt.runtime}"] = result
        write_manifest(model_dir, manifest)
        on_result(name, result)
    return unverifiable
