"""OpenDP's exact discrete Laplace and discrete Gaussian: samples per CPU-second.

One call on a vector of 10^5 integers per measurement (OpenDP's own loop,
not Python's), at scales 1, 2, 10 and 1000; prints one line per case in the
format bench/noise.sh tabulates.
"""

import sys
import time

import opendp.prelude as dp

dp.enable_features("contrib")
N = 100_000
data = [0] * N
space = (dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int))
space2 = (dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int))
for scale in (1, 2, 10, 1000):
    for name, (domain, metric), make in (
        ("discrete_laplace", space, dp.m.make_laplace),
        ("discrete_gaussian", space2, dp.m.make_gaussian),
    ):
        mechanism = make(domain, metric, scale=float(scale))
        runs, spent = 0, 0.0
        while spent < 2.0:
            start = time.process_time()
            mechanism(data)
            spent += time.process_time() - start
            runs += 1
        print(f"opendp {name} {scale} {runs * N / spent:.0f}", flush=True)
sys.exit(0)
