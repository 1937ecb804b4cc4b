"""The dashboard and alert rules query series the code really exports (a rename would blank a
panel or silence an alert without anyone noticing)."""

import importlib
import json
import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from deploy.grafana.build_dashboard import dashboard

# Imported for their side effect: each module registers its series.
importlib.import_module("config.metrics")
importlib.import_module("tutor.metrics")
importlib.import_module("quizzes.metrics")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERIES = re.compile(r"\b((?:django|tutor|quizzes|celery)_[a-z_]+)")


def exported_series() -> set[str]:
    """Every series name the registry can produce, observed yet or not."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in suffixes.get(family.type, []))
        names.update(sample.name for sample in family.samples)
    return names


def queried_series() -> set[str]:
    exprs = [t["expr"] for panel in dashboard()["panels"] for t in panel["targets"]]
    exprs.append((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return {name for expr in exprs for name in SERIES.findall(expr)}


@pytest.mark.django_db
def test_every_series_the_dashboard_and_alerts_query_is_exported(client):
    client.get("/healthz")  # django-prometheus creates its per-view series on first use

    missing = queried_series() - exported_series()

    assert queried_series(), "no series found: the pattern is wrong"
    assert not missing


def test_committed_dashboard_matches_its_generator():
    committed = json.loads((DEPLOY / "grafana" / "dashboards" / "lingua.json").read_text())

    assert committed == dashboard()
