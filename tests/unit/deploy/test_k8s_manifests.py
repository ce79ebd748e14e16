"""The Kubernetes manifests in deploy/k8s agree with the code they deploy.

No cluster here, so the checks are the ones that catch real drift: every built-in
object validates against the Kubernetes API schema, every `LC_*` variable a
manifest sets is a setting the service reads, every service and trunk has its
workload, the prober's autoscaling matches its topic, and every metric an alert
or dashboard queries is one the code exports.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from prometheus_client.registry import Collector

from lc_common.consuming.groups import consumer_group
from lc_common.events import probe_requests
from lc_common.settings import ServiceSettings
from lc_common.trunks import load_trunks

K8S = Path(__file__).resolve().parents[3] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"
SERVICES = ("gateway", "ingest", "scheduler", "classifier", "billing", "notifier")
# Kinds from operators (Strimzi, MongoDB, KEDA, Prometheus Operator): no schema
# ships with kubernetes-validate, so their fields are checked by the tests below.
CUSTOM_KINDS = {
    "Kafka",
    "KafkaNodePool",
    "KafkaTopic",
    "KafkaUser",
    "TriggerAuthentication",
    "MongoDBCommunity",
    "ScaledObject",
    "PodMonitor",
    "PrometheusRule",
}


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())  # type: ignore[no-any-return]


def documents() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object the kustomization lists, with the file it comes from."""
    for resource in kustomization()["resources"]:
        for doc in yaml.safe_load_all((K8S / resource).read_text()):
            if doc:
                yield resource, doc


def objects(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in documents() if doc["kind"] == kind]


def deployment(name: str) -> dict[str, Any]:
    (found,) = [d for d in objects("Deployment") if d["metadata"]["name"] == name]
    return found


def app_container(deploy: dict[str, Any]) -> dict[str, Any]:
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "app", "the shared patch merges into the container named app"
    return container  # type: ignore[no-any-return]


def env_names(settings: type[ServiceSettings]) -> set[str]:
    """The environment variables a settings class reads."""
    names: set[str] = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:
            names.update(str(choice) for choice in choices)
        else:
            names.add(f"LC_{name.upper()}")
    return names


def settings_of(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"lc_{service}.config")
    (found,) = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value.__module__ == module.__name__
    ]
    return found


def trunk_names() -> list[str]:
    return [trunk["name"] for trunk in yaml.safe_load((K8S / "trunks.yaml").read_text())]


def test_every_manifest_file_is_in_the_kustomization() -> None:
    listed = {K8S / r for r in kustomization()["resources"]}
    generated = {K8S / "trunks.yaml", K8S / "kustomization.yaml"}
    patches = {K8S / p["path"] for p in kustomization()["patches"]}
    on_disk = set(K8S.rglob("*.yaml"))
    assert on_disk - generated - patches == listed


@pytest.mark.parametrize(
    "source, doc",
    [
        pytest.param(source, doc, id=f"{source}:{doc['kind']}/{doc['metadata']['name']}")
        for source, doc in documents()
        if doc["kind"] not in CUSTOM_KINDS
    ],
)
def test_built_in_objects_match_the_kubernetes_schema(source: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


# How a strategic-merge patch merges the lists it touches: by these keys.
MERGE_KEYS = {"containers": "name", "volumes": "name", "volumeMounts": "mountPath", "env": "name"}


def merged(base: Any, patch: Any, key: str = "") -> Any:
    """`patch` merged into `base` as kustomize's strategic merge does for these kinds."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for name, value in patch.items():
            out[name] = merged(base[name], value, name) if name in base else value
        return out
    if isinstance(base, list) and key in MERGE_KEYS:
        by = MERGE_KEYS[key]
        out_list = list(base)
        for item in patch:
            match = [i for i, old in enumerate(out_list) if old[by] == item[by]]
            if match:
                out_list[match[0]] = merged(out_list[match[0]], item)
            else:
                out_list.append(item)
        return out_list
    return patch


@pytest.mark.parametrize("name", [d["metadata"]["name"] for d in objects("Deployment")])
def test_deployments_with_the_shared_patch_match_the_kubernetes_schema(name: str) -> None:
    patch = yaml.safe_load((K8S / "patches" / "service-defaults.yaml").read_text())
    patch["metadata"] = {}
    rendered = merged(deployment(name), patch)
    kubernetes_validate.validate(rendered, KUBERNETES_VERSION, strict=True)
    container = app_container(rendered)
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    mounts = {m["name"] for m in container["volumeMounts"]}
    assert mounts == {v["name"] for v in rendered["spec"]["template"]["spec"]["volumes"]}


def test_no_object_is_of_an_unknown_kind() -> None:
    for _, doc in documents():
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_deployment_the_shared_patch_reaches(service: str) -> None:
    deploy = deployment(service)
    target = kustomization()["patches"][0]["target"]["labelSelector"]
    assert target in deploy["metadata"]["labels"]
    assert target in deploy["spec"]["template"]["metadata"]["labels"]
    container = app_container(deploy)
    assert container["command"] == [f"lc-{service}"]
    images = {image["name"] for image in kustomization()["images"]}
    assert container["image"] in images


@pytest.mark.parametrize("service", [*SERVICES, "prober"])
def test_every_variable_a_manifest_sets_is_a_setting_the_service_reads(service: str) -> None:
    readers = env_names(settings_of(service))
    deploys = (
        [deployment(service)]
        if service != "prober"
        else [d for d in objects("Deployment") if d["metadata"]["name"].startswith("prober-")]
    )
    for deploy in deploys:
        for var in app_container(deploy).get("env", []):
            assert var["name"] in readers, f"{deploy['metadata']['name']}: {var['name']}"


def test_shared_config_only_sets_variables_some_service_reads() -> None:
    (config,) = [c for c in objects("ConfigMap") if c["metadata"]["name"] == "lc-config"]
    readers = set().union(*(env_names(settings_of(s)) for s in [*SERVICES, "prober"]))
    assert set(config["data"]) - readers == set()


@pytest.mark.parametrize("trunk", trunk_names())
def test_each_trunk_has_a_prober_scaled_within_its_lanes(trunk: str) -> None:
    prober = deployment(f"prober-{trunk}")
    env = {var["name"]: var.get("value") for var in app_container(prober)["env"]}
    assert env["LC_TRUNK"] == trunk
    topic = probe_requests(trunk).name
    (scaler,) = [
        s
        for s in objects("ScaledObject")
        if s["spec"]["scaleTargetRef"]["name"] == f"prober-{trunk}"
    ]
    (trigger,) = scaler["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["topic"] == topic
    assert trigger["metadata"]["consumerGroup"] == consumer_group("prober", topic)
    (kafka_topic,) = [t for t in objects("KafkaTopic") if t["metadata"]["name"] == topic]
    assert scaler["spec"]["maxReplicaCount"] <= kafka_topic["spec"]["partitions"]
    # The declared topic has as many partitions as the services would create (its lanes).
    (declared,) = [t for t in load_trunks(K8S / "trunks.yaml") if t.name == trunk]
    assert kafka_topic["spec"]["partitions"] == probe_requests(declared).partitions


def exported_metric_names() -> set[str]:
    """Every sample name the services export, from their metrics modules."""
    from prometheus_client import REGISTRY

    for module in ["lc_common.metrics", *(f"lc_{s}.metrics" for s in [*SERVICES, "prober"])]:
        importlib.import_module(module)
    suffixes = {
        "counter": ("_total",),
        "gauge": ("",),
        "histogram": ("_bucket", "_sum", "_count"),
        "summary": ("", "_sum", "_count"),
        "info": ("_info",),
        "unknown": ("",),
    }
    names: set[str] = set()
    collectors: list[Collector] = list(REGISTRY._collector_to_names)  # no public listing
    for collector in collectors:
        describe = getattr(collector, "describe", None)
        for family in describe() if describe else []:
            names.update(family.name + s for s in suffixes.get(family.type, ("",)))
    return names


def queried_metric_names() -> set[str]:
    exprs: list[str] = []
    for rule_set in objects("PrometheusRule"):
        for group in rule_set["spec"]["groups"]:
            exprs += [rule["expr"] for rule in group["rules"]]
    dashboard = json.loads((K8S / "monitoring" / "dashboards" / "lead-cleanser.json").read_text())
    exprs += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    return {name for expr in exprs for name in re.findall(r"\blc_[a-z0-9_]+", expr)}


def test_alerts_and_dashboards_query_metrics_the_code_exports() -> None:
    queried = queried_metric_names()
    assert queried, "no lc_ metric is queried at all"
    assert queried - exported_metric_names() == set()
