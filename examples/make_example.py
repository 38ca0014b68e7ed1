"""Generate the bundled example: synthetic microdata of migrant children.

One row per child: region > district (codes nest by prefix: region `01`,
district `01003`), age band, sex, nationality (long-tailed, as in
../shared/DATA.md) and accompaniment. Standard library only, fixed seed, so the
file is the same on every machine:

    python3 examples/make_example.py > examples/children.csv
"""

import csv
import random
import sys

SEED = 20261121
CHILDREN = 3000

REGIONS = {"01": 5, "02": 4, "03": 3}  # region code -> number of districts
NATIONALITIES = ["VEN", "HTI", "COL", "ECU", "CUB", "PER", "NIC", "CHN", "AFG", "IND"]
AGE_BANDS = [("0-4", 0.38), ("5-11", 0.35), ("12-17", 0.27)]


def zipf_weights(n: int, s: float) -> list:
    return [1.0 / (k + 1) ** s for k in range(n)]


def main() -> None:
    rng = random.Random(SEED)
    districts = [f"{r}{d:03d}" for r, n in REGIONS.items() for d in range(1, n + 1)]
    district_w = zipf_weights(len(districts), 1.1)
    nat_w = zipf_weights(len(NATIONALITIES), 1.6)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["district", "age_band", "sex", "nationality", "accompaniment"])
    for _ in range(CHILDREN):
        district = rng.choices(districts, district_w)[0]
        age = rng.choices([a for a, _ in AGE_BANDS], [w for _, w in AGE_BANDS])[0]
        nationality = rng.choices(NATIONALITIES, nat_w)[0]
        unaccompanied_p = 0.12 if age == "12-17" else 0.01
        accompaniment = "unaccompanied" if rng.random() < unaccompanied_p else "accompanied"
        male_p = 0.78 if accompaniment == "unaccompanied" else 0.505
        sex = "M" if rng.random() < male_p else "F"
        out.writerow([district, age, sex, nationality, accompaniment])


if __name__ == "__main__":
    main()
