"""JPype driver for the Java runners in this Maven project: `python -m jvm_harness verify artifacts/MODEL`."""
