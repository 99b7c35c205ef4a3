"""Stage 3: unit texts into vectors: the back-end contract, torch and ONNX back-ends, the vector cache."""
