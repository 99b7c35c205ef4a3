"""The order of the stages: one run from a config to a Result."""
