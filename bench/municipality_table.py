"""The 11,760-cell three-way table of bench/noise.sh and bench/rounding_noise_scale.sh,
as aggregated CSV: municipality (99 in 12 departments, codes DDMMM) x nationality 20 x
age band 4, counts mostly 0-8, one in eight up to 200 (random.seed(7)).

Usage: municipality_table.py OUT.csv
"""
import random
import sys

random.seed(7)
with open(sys.argv[1], "w") as f:
    f.write("municipality,nationality,age_band,n\n")
    for i in range(99):
        m = f"{i % 12 + 1:02d}{i // 12 + 1:03d}"
        for n in range(20):
            for a in range(4):
                c = random.choice([0, 0, 0, 1, 2, 3, 5, 8]) if random.random() > 0.125 else random.randint(0, 200)
                f.write(f"{m},N{n:02d},A{a},{c}\n")
