"""The artifact contract, the bottom layer both sides stand on: the manifest and its schema, file integrity
and golden data (manifest), the parity rule (parity), the CI gate's verdict (gate) and the one-line console
conventions (console).

It imports nothing else of this project and never torch, so the JVM harness reads the contract through
it alone; tests/test_layers.py keeps it so.
"""
