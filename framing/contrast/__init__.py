"""Stage 5: how groups differ in their framings and frames, overall and over time."""
