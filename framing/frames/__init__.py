"""Frames from a codebook and labels: the classifier, label files, evaluation against gold labels."""
