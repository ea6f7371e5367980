#!/usr/bin/env python3
"""The Grafana dashboard is valid JSON over metrics xmem really writes.

Every xmem_* name in a query must be a family (or sample name) of the exposition's golden
Prometheus text, and every label a query's selector or `by (...)` names must be one of that
family's labels (or Prometheus' own instance/job). The dashboard takes its Prometheus from a
datasource variable and has an instance variable.

Usage: grafana_dashboard_test.py DASHBOARD.json GOLDEN.prom
Exit 0 pass, 1 fail, 77 skip (the golden file is not in this tree yet), with the reason printed.
"""
import json
import os
import re
import sys

TARGET_LABELS = {"instance", "job"}
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def metric_labels(prom_text):
    """name -> the label names its samples carry, from the text format."""
    labels = {}
    for line in prom_text.splitlines():
        if line.startswith("# TYPE "):
            labels.setdefault(line.split()[2], set())
            continue
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", line)
        if match:
            names = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', match.group(3) or ""))
            labels.setdefault(match.group(1), set()).update(names)
    return labels


def expressions(dashboard):
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel, target.get("expr", "")
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if variable["type"] == "query":
            yield {"title": "variable " + variable["name"]}, query


def check_expression(title, expr, known):
    check(bool(expr.strip()), f"{title}: an empty query")
    names = set(re.findall(r"\bxmem_[a-z0-9_]+", expr))
    check(bool(names), f"{title}: no xmem_* metric in {expr!r}")
    for name in names:
        check(name in known, f"{title}: {name} is not a metric toPrometheus writes")
    # Selectors: name{label="...", label=~"..."} use only that metric's labels.
    for name, body in re.findall(r"\b(xmem_[a-z0-9_]+)\{([^}]*)\}", expr):
        for label in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", body):
            check(label in known.get(name, set()) | TARGET_LABELS, f"{title}: {name} has no label {label!r}")
    # Groupings: every label of by/on/group_left(...) must be on one of the query's metrics.
    offered = set().union(*(known.get(name, set()) for name in names)) | TARGET_LABELS if names else TARGET_LABELS
    for group in re.findall(r"\b(?:by|on|group_left|group_right)\s*\(([^)]*)\)", expr):
        for label in filter(None, (part.strip() for part in group.split(","))):
            check(label in offered, f"{title}: no metric of {sorted(names)} has the label {label!r}")


def check_shape(dashboard):
    check(isinstance(dashboard.get("schemaVersion"), int) and dashboard["schemaVersion"] >= 36,
          f"schemaVersion {dashboard.get('schemaVersion')}: expected a current one (~39)")
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    check(variables.get("datasource", {}).get("type") == "datasource"
          and variables["datasource"].get("query") == "prometheus", "no Prometheus datasource variable")
    check(variables.get("instance", {}).get("type") == "query", "no instance variable")
    ids = [panel["id"] for panel in dashboard["panels"]]
    check(len(ids) == len(set(ids)), f"panel ids repeat: {ids}")
    for panel in dashboard["panels"]:
        check("gridPos" in panel, f"{panel.get('title')}: no gridPos")
        if panel["type"] == "row":
            continue
        check(panel.get("datasource", {}).get("uid") == "${datasource}", f"{panel['title']}: not on $datasource")
        check(bool(panel.get("targets")), f"{panel['title']}: no query")
        for target in panel.get("targets", []):
            check('instance=~"$instance"' in target.get("expr", ""), f"{panel['title']}: a query ignores $instance")


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: grafana_dashboard_test.py DASHBOARD.json GOLDEN.prom")
    dashboard_path, golden_path = sys.argv[1:]
    try:
        with open(dashboard_path) as file:
            dashboard = json.load(file)
    except (OSError, json.JSONDecodeError) as error:
        print(f"FAIL: {dashboard_path}: {error}")
        return 1
    check_shape(dashboard)
    if not os.path.exists(golden_path):
        print(f"SKIPPED: the exposition's golden metrics {golden_path} are not in this tree yet "
              "(branch mon-expo); the dashboard's JSON and shape were checked")
        return 1 if failures else 77
    with open(golden_path) as file:
        known = metric_labels(file.read())
    for panel, expr in expressions(dashboard):
        check_expression(panel["title"], expr, known)
    print("FAILED:" if failures else "PASSED: every query uses metrics and labels xmem writes", len(failures) or "")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
