"""Run every exported artifact in its Python runtime against the golden cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .contract.manifest import ContractError, checked_model, load_text, record_results, verification_key
from .contract.parity import Parity, data_axes
from .contract.causes import decisive_line
from .formats import FORMATS

SIDE = "python"


def verify_model(
    model_dir: Path,
    only: list[str] | None = None,
    on_result: Callable[[str, dict[str, Any]], None] = lambda name, result: None,
    force: bool = False,
) -> list[str]:
    """Verify each exported format (or `only`), recording results under verification['python/<runtime>'].

    Every file of every format to verify is checked before any runtime opens one: a file that does not match
    the manifest is a ContractError (exit 2), as the Java SelfCheck answers it, not a failed verdict. A recorded
    result whose key matches is reused; force runs it again. Returns why each requested format could not be
    verified (absent, or its export failed).
    """
    names = only or list(FORMATS)
    manifest, cases, due = checked_model(model_dir, names)
    text = load_text(model_dir, manifest)
    for name in due:  # Python runs what its registry says; the manifest must say the same to the Java side
        entry, fmt = manifest["formats"][name], FORMATS[name]
        if (entry["main"], entry["settings"]) != (fmt.main, fmt.settings):
            raise ContractError(f"{model_dir}: formats.{name} records main {entry['main']!r} with settings "
                                f"{entry['settings']}, this version opens {fmt.main!r} with {fmt.settings}: re-export the model")
    unverifiable = [f"{name} was not exported" if name not in manifest["formats"] else
                    f"{name} export {manifest['formats'][name].get('status')}"
                    for name in (only or []) if name not in due]
    for name in due:
        entry = manifest["formats"][name]
        fmt = FORMATS[name]
        parity = Parity(manifest["parity"], data_axes(manifest))
        # The package is part of what the verdict records (compat reads it), so a result without it is redone.
        key = verification_key(manifest, entry, fmt.runtime, f"{fmt.runtime_package} {fmt.runtime_version()}")
        recorded = entry["verification"].get(f"{SIDE}/{fmt.runtime}", {})
        if recorded.get("key") == key and not force:
            on_result(name, {**recorded, "reused": True})
            continue
        text_result, raised, doing = None, False, "loading the artifact"
        try:
            predict = fmt.load(model_dir / name, manifest)
            for case in cases:
                doing = f"running golden {case.name} ({case.where})"
                parity.add(case.name, predict(case.inputs), case.reference, case.where)
            if text is not None:  # strings to answers: token ids exact, answers by the text parity rules
                from .text.pipeline import prove

                doing = "running the text cases"
                text_result = prove(text, predict)
        except Exception as exc:  # a runtime error is a verification failure, with the runtime's words
            parity.fail(f"{doing}: {type(exc).__name__}: {decisive_line(exc)}")
            raised = True
        result = {"side": SIDE, "runtime": fmt.runtime, "package": fmt.runtime_package, "version": fmt.runtime_version(),
                  **parity.as_dict(),
                  "box": manifest["golden"].get("box", {}),  # every case ran: the sizes a pass covers
                  "key": key, **({"raised": True} if raised else {})}
        if text_result is not None:
            result["text"] = text_result
            result["passed"] = result["passed"] and text_result["passed"]
        record_results(model_dir, {name: {"verification": {f"{SIDE}/{fmt.runtime}": result}}})
        on_result(name, result)
    return unverifiable
