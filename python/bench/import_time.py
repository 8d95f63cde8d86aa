"""``import radx`` time: median wall time of ``python -c "import radx"`` minus that of
``python -c "pass"`` over fresh interpreters, and ``-X importtime``'s cumulative figure.

    python python/bench/import_time.py [--runs 15]
"""

import argparse
import re
import statistics
import subprocess
import sys
import time


def wall(code, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    wall("import radx", 2)  # warm the file cache
    base, with_radx = wall("pass", runs), wall("import radx", runs)
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import radx"], capture_output=True, text=True)
    cumulative = [int(m.group(1)) for m in re.finditer(r"\|\s*(\d+) \|\s*radx$", done.stderr, re.M)]
    print(
        f"Python {sys.version.split()[0]}: import radx {1e3 * (with_radx - base):.1f} ms wall over a bare interpreter; "
        f"-X importtime cumulative {cumulative[0] / 1e3 if cumulative else float('nan'):.1f} ms"
    )


if __name__ == "__main__":
    main()
