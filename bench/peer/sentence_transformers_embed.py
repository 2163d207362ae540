"""Run by the bench-only virtualenv's Python (`.tools/peer`: PyTorch CPU and sentence-transformers,
never a Parley dependency): all-MiniLM-L6-v2 from the same packaged folder Parley reads, on
`threads` threads, over the texts of a JSON file. Prints one JSON object: the best of `runs` timed
runs in texts per second, and the vectors (to check both sides computed the same thing)."""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    model_dir, texts_file, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    import torch  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    model = SentenceTransformer(model_dir, device="cpu")
    with open(texts_file, encoding="utf-8") as file:
        texts = json.load(file)
    model.encode(texts[:8], batch_size=32)  # the first call allocates; it is not timed
    best = 0.0
    vectors = None
    for _ in range(runs):
        started = time.perf_counter()
        vectors = model.encode(texts, batch_size=32, normalize_embeddings=True)
        best = max(best, len(texts) / (time.perf_counter() - started))
    json.dump(
        {
            "texts_per_second": best,
            "vectors": vectors.tolist() if vectors is not None else [],
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
