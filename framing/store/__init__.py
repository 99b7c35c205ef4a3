"""Run folders and caches on disk: saving and loading a Result, output safety, verified array entries."""
