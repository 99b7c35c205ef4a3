"""Embedding throughput and agreement: sentence-transformers on torch vs ONNX Runtime (fp32, dynamic int8).

Groundwork for the speed issue: exports the packaged all-MiniLM-L6-v2 to ONNX with torch.onnx (a wrapper with a
plain positional signature; opset 17; dynamic batch and sequence axes), quantises it with onnxruntime's dynamic
int8, and embeds the same texts three ways: mean pooling over the attention mask, L2-normalised, texts sorted by
length into batches of 64, padding only to the longest in a batch, 2 threads. Prints units/s (median of
--runs) and the cosine of every vector to torch's.

    pip install onnx onnxruntime
    python bench/embed_backends.py [--units 3000] [--runs 3]

Texts: the units of ../shared/corpora/aleppo-2016 (repeated to --units), or the bundled example if absent.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def onnx_encoder(model_file: Path, tokenizer, threads: int = 2):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def encode(texts: list[str], batch_size: int = 64) -> np.ndarray:
        order = np.argsort([len(t) for t in texts], kind="stable")
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=256,
                              return_tensors="np")
            hidden = session.run(None, {k: batch[k].astype(np.int64)
                                        for k in ("input_ids", "attention_mask", "token_type_ids")})[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            vectors[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return vectors

    return encode


def export(model_path: str, folder: Path) -> tuple[Path, Path]:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(model_path).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_path)

    class Positional(torch.nn.Module):  # BertModel's keyword-heavy forward does not trace positionally
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["An example sentence.", "A second, longer sentence for the export."], padding=True,
                       return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = folder / "model.onnx"
    torch.onnx.export(Positional(model), tuple(sample[n] for n in names), str(fp32), input_names=names,
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names + ["last_hidden_state"]})
    int8 = folder / "model-int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return fp32, int8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import framing
    from framing.embed import make_embedder
    from framing.units import segment
    from transformers import AutoTokenizer

    aleppo = ROOT.parent / "shared" / "corpora" / "aleppo-2016"
    corpus = framing.load_corpus(aleppo if aleppo.is_dir() else None)
    texts = [u.text for u in segment(corpus.documents) if u.section in ("body", "comments")]
    texts = (texts * (args.units // len(texts) + 1))[:args.units]
    torch_embedder = make_embedder(progress=False)
    tokenizer = AutoTokenizer.from_pretrained(torch_embedder.model_path)
    with tempfile.TemporaryDirectory() as folder:
        fp32, int8 = export(torch_embedder.model_path, Path(folder))
        backends = {"torch": torch_embedder.encode, "onnx": onnx_encoder(fp32, tokenizer),
                    "onnx-int8": onnx_encoder(int8, tokenizer)}
        reference = None
        print(f"{len(texts)} units; medians of {args.runs} runs; 2 threads")
        for name, encode in backends.items():
            timings = []
            for _ in range(args.runs):
                start = time.perf_counter()
                vectors = encode(texts)
                timings.append(time.perf_counter() - start)
            reference = vectors if reference is None else reference
            cosine = (reference * vectors).sum(axis=1)
            print(f"{name:<10} {len(texts) / statistics.median(timings):6.0f} units/s   cosine to torch: "
                  f"min {cosine.min():.4f}  mean {cosine.mean():.4f}")


if __name__ == "__main__":
    main()
