"""Run Nyxus (all 3D features) on one case."""
import sys

import nyxus

nyx = nyxus.Nyxus3D(["*3D_ALL*"])
nyx.featurize_files([sys.argv[1]], [sys.argv[2]], False)
