"""The raw measurements of a benchmark run (GROUP<TAB>KEY<TAB>VALUE lines, see record() in
bench-common.sh), for the reports of run-benchmarks.sh and run-cluster-benchmark.sh."""

import json


def load(path):
    """{group: {key: value}}; values are JSON where they parse, text otherwise."""
    raw = {}
    for line in open(path, encoding="utf-8"):
        group, key, value = line.rstrip("\n").split("\t", 2)
        try:
            value = json.loads(value)
        except ValueError:
            pass
        raw.setdefault(group, {})[key] = value
    return raw


def get(raw, group, *path):
    """raw[group][path…], or None where any step is missing."""
    value = raw.get(group, {})
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def write_report(path, raw, **figures):
    """Writes the run's facts (machine, commit, duration, load), `figures` and the raw
    measurements as one JSON file, and says where."""
    facts = raw.get("all", {})
    report = {
        "machine": facts.get("machine"),
        "commit": facts.get("commit"),
        "seconds": facts.get("seconds"),
        "load_average_before": facts.get("load_before"),
        "load_average_after": facts.get("load_after"),
        "quick": facts.get("quick") == 1,
        **figures,
        "raw": raw,
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
    print("figures written to " + path)
