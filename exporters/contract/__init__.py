"""The artifact contract, the bottom layer both sides stand on: the manifest and its schema, its one writer
(record_results), file integrity and golden data (manifest), the parity rule (parity), the CI gate's verdict
(gate) and the one-line result conventions (lines).

It imports nothing else of this project and never torch, so the JVM harness reads the contract through
it alone; it prints nothing and exits nowhere (the CLIs do, through exporters/console.py).
tests/test_layers.py keeps it so.
"""
