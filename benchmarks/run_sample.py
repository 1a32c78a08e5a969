"""Time `csm run` on the bundled sample and report sizes (figures quoted in the closing notes).

    .venv/bin/python benchmarks/run_sample.py [--repeat 3]

Prints, per stage, the best and median wall time over the repeats, the total, the size of
every report, and the key-driver bootstrap time (1,000 resamples, 2,400 × 12). Timing lives
here, not in the tests, so the suite stays deterministic.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from csm_helpers.analysis.drivers import key_drivers
from csm_helpers.pipeline.run import run_study
from csm_helpers.study.config import load_study
from csm_helpers.study.datasets import read_dataset, sample_study_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: list[dict[str, float]] = []
    sizes: dict[str, int] = {}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            result = run_study(None, out)
            runs.append(result.timings)
            sizes = {p.name: p.stat().st_size for p in sorted((Path(out) / "all").iterdir())}
    print(f"csm run on the bundled sample, {args.repeat} runs (seconds: best / median)")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"  {key:<20} {min(values):6.1f} / {statistics.median(values):6.1f}")
    print("report sizes")
    for name, size in sizes.items():
        print(f"  {name:<34} {size / 1024:8.0f} KiB")

    df = read_dataset("responses")
    drivers = {a.id: a.performance for a in load_study(sample_study_path()).attributes}
    key_drivers(df, outcome="overall_sat", drivers=drivers, n_boot=10)  # warm-up
    t0 = time.perf_counter()
    key_drivers(df, outcome="overall_sat", drivers=drivers, n_boot=1000, seed=1)
    print(f"key_drivers, 1,000 bootstrap resamples on {len(df):,} x {len(drivers)}: "
          f"{time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
