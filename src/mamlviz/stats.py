"""Summaries over seeds or draws, and paired differences with their 95 % interval (what the text's comparisons rest on).

A comparison of two methods (or machines) is made on the same seeds (or the same draws of trials), so the
difference is taken seed by seed and its mean gets a Student-t interval over the n seeds. Errors (MSE) are compared
on the log scale (`paired_ratio`): they are positive and spread over orders of magnitude, and a ratio says more. `verdict` words it: an
interval that contains 0 is not a difference.
"""

from __future__ import annotations

import math
import statistics

# two-sided 95 % quantiles of Student's t with df = 1 … 30 degrees of freedom (beyond: the normal's 1.96)
T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
       2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t95(df):
    return T95[df - 1] if df <= len(T95) else 1.96


def summary(values):
    """Median, range, mean and standard deviation (over seeds or draws) of a list of numbers."""
    v = [float(x) for x in values]
    return {"n": len(v), "median": statistics.median(v), "min": min(v), "max": max(v), "mean": statistics.mean(v),
            "sd": statistics.stdev(v) if len(v) > 1 else 0.0}


def paired(a, b):
    """The differences a[i] − b[i] (same seed or draw i): their mean, SD and 95 % t interval of the mean, and how
    many are positive."""
    d = [float(x) - float(y) for x, y in zip(a, b, strict=True)]
    if len(d) < 2:
        raise ValueError("a paired interval needs at least two seeds or draws")
    mean, sd = statistics.mean(d), statistics.stdev(d)
    half = t95(len(d) - 1) * sd / math.sqrt(len(d))
    return {"n": len(d), "mean": mean, "sd": sd, "lo": mean - half, "hi": mean + half, "half": half,
            "positive": sum(x > 0 for x in d)}


def paired_ratio(a, b):
    """For positive, skewed numbers (errors): the paired difference of their logarithms, reported as the ratio a / b
    (the geometric mean over seeds of a[i] / b[i]) with its 95 % interval, and how many ratios exceed 1."""
    p = paired([math.log(x) for x in a], [math.log(y) for y in b])
    return {"n": p["n"], "ratio": math.exp(p["mean"]), "lo": math.exp(p["lo"]), "hi": math.exp(p["hi"]),
            "sd_log": p["sd"], "positive": p["positive"], "scale": "ratio"}


def verdict(p):
    """"higher", "lower" or "level" for a paired difference `p` (`paired`) or ratio (`paired_ratio`): level when its
    interval holds 0 (for a ratio, 1)."""
    null = 1.0 if p.get("scale") == "ratio" else 0.0
    return "higher" if p["lo"] > null else "lower" if p["hi"] < null else "level"
