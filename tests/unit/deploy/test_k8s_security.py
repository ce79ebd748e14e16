"""Least privilege in deploy/k8s: each workload holds only its secrets and reaches only its peers.

Kafka users and topics are what the generator makes from the registry; each
Deployment names only secret keys its settings read; each MongoDB user may write
its own database only; the NetworkPolicies allow exactly the architecture's flows;
the Ingress publishes only public routes; every container is limited and pinned.
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import re
from typing import Any

import pytest
import yaml
from tests.unit.deploy.test_k8s_manifests import (
    K8S,
    SERVICES,
    app_container,
    deployment,
    env_names,
    kustomization,
    objects,
    settings_of,
)

from lc_common.trunks import load_trunks

WORKLOADS = [*SERVICES, *(f"prober-{t.name}" for t in load_trunks(K8S / "trunks.yaml"))]
MONGO_USERS = {"gateway", "ingest", "scheduler", "billing", "notifier"}


def generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_acls", K8S / "generate_acls.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def service_of(workload: str) -> str:
    return "prober" if workload.startswith("prober-") else workload


# Kafka -------------------------------------------------------------------------------


def test_committed_kafka_topics_and_users_are_what_the_registry_generates() -> None:
    gen = generator()
    files = gen.render(gen.config_prefix(), load_trunks(K8S / "trunks.yaml"))
    for path, text in files.items():
        assert path.read_text() == text, f"stale {path.name}: run deploy/k8s/generate_acls.py"


def acls_of(user: str) -> dict[tuple[str, str, str], set[str]]:
    (found,) = [u for u in objects("KafkaUser") if u["metadata"]["name"] == user]
    assert found["spec"]["authentication"]["type"] == "scram-sha-512"
    return {
        (a["resource"]["type"], a["resource"]["name"], a["resource"]["patternType"]): set(
            a["operations"]
        )
        for a in found["spec"]["authorization"]["acls"]
    }


def test_the_prober_reads_only_its_trunk_and_writes_only_signalling() -> None:
    acls = acls_of("lc-prober-carrier-a")
    assert acls[("topic", "probe.requests.carrier-a", "literal")] == {"Read", "Describe"}
    assert acls[("topic", "probe.signalling", "literal")] == {"Write", "Describe"}
    assert acls[("group", "prober.probe-requests-carrier-a", "literal")] == {"Read"}
    # The group it was before the naming rule, whose offsets it adopts on start.
    assert acls[("group", "prober.carrier-a", "literal")] == {"Read"}
    # Every batch's pauses, read without a group (requests of a paused batch are void).
    assert acls[("topic", "batch.events", "literal")] == {"Read", "Describe"}
    reads = {name for (kind, name, _), ops in acls.items() if kind == "topic" and "Read" in ops}
    assert reads == {"probe.requests.carrier-a", "batch.events"}
    writes = {name for (kind, name, _), ops in acls.items() if "Write" in ops}
    assert writes == {"probe.signalling", "probe.requests.carrier-a.dlq"}


def test_a_service_cannot_read_what_it_does_not_consume() -> None:
    billing = acls_of("lc-billing")
    reads = {name for (kind, name, _), ops in billing.items() if kind == "topic" and "Read" in ops}
    assert reads == {"lead.verdicts"}
    assert ("topic", "billing.events", "literal") in billing
    assert "Read" not in billing[("topic", "billing.events", "literal")]


def test_no_user_holds_cluster_rights_or_wildcards() -> None:
    for user in objects("KafkaUser"):
        for acl in user["spec"]["authorization"]["acls"]:
            assert acl["resource"]["type"] in ("topic", "group")
            assert acl["resource"]["name"] not in ("*", "")
            assert "All" not in acl["operations"]


def test_the_cluster_has_only_a_tls_listener_with_scram_and_acls() -> None:
    (kafka,) = objects("Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True
    assert listener["authentication"]["type"] == "scram-sha-512"
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    (config,) = [c for c in objects("ConfigMap") if c["metadata"]["name"] == "lc-config"]
    assert config["data"]["LC_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["data"]["KAFKA_BOOTSTRAP_SERVERS"].endswith(f":{listener['port']}")


@pytest.mark.parametrize("workload", WORKLOADS)
def test_each_kafka_client_authenticates_as_its_own_user(workload: str) -> None:
    env = {v["name"]: v for v in app_container(deployment(workload)).get("env", [])}
    if not settings_of(service_of(workload)).uses_kafka:
        assert not any(name.startswith("LC_KAFKA_SASL") for name in env)
        return
    user = f"lc-{workload}"
    assert env["LC_KAFKA_SASL_USERNAME"]["value"] == user
    ref = env["LC_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == (user, "password")
    assert user in {u["metadata"]["name"] for u in objects("KafkaUser")}


# Secrets ----------------------------------------------------------------------------


def secret_refs(deploy: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each variable filled from a secret: its secret's name and key."""
    out = {}
    for var in app_container(deploy).get("env", []):
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            out[var["name"]] = (ref["name"], ref["key"])
    return out


def needed_secrets(service: str) -> set[str]:
    """The secret variables a service's settings read and use."""
    settings = settings_of(service)
    secrets = {
        f"LC_{name.upper()}"
        for name, field in settings.model_fields.items()
        if "SecretStr" in str(field.annotation) and name not in ("mongodb_uri", "internal_token")
    }
    secrets.discard("LC_KAFKA_SASL_PASSWORD")
    if settings.uses_kafka:
        secrets.add("LC_KAFKA_SASL_PASSWORD")
    if settings.uses_internal_token:
        secrets.add("LC_INTERNAL_TOKEN")
    if service in MONGO_USERS:
        secrets.add("MONGODB_URI")
    return secrets


def test_no_workload_takes_a_whole_secret() -> None:
    patch = yaml.safe_load((K8S / "patches" / "service-defaults.yaml").read_text())
    for deploy in [*objects("Deployment"), patch]:
        for container in deploy["spec"]["template"]["spec"]["containers"]:
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, deploy["metadata"]["name"]


@pytest.mark.parametrize("workload", WORKLOADS)
def test_each_workload_gets_only_the_secret_keys_its_settings_read(workload: str) -> None:
    service = service_of(workload)
    refs = secret_refs(deployment(workload))
    readers = env_names(settings_of(service))
    assert set(refs) <= readers
    optional = {"LC_SMTP_PASSWORD"}  # a relay without authentication needs none
    assert set(refs) <= needed_secrets(service)
    assert needed_secrets(service) - optional <= set(refs)
    for name, (secret, key) in refs.items():
        # Its own secrets only: lc-<service>-secrets, its Mongo user, its Kafka user.
        assert secret in {f"lc-{service}-secrets", f"lc-mongodb-{workload}", f"lc-{workload}"}
        if secret == f"lc-{service}-secrets":
            assert key == name


def test_the_prober_holds_no_application_secret() -> None:
    for workload in WORKLOADS:
        if service_of(workload) in ("prober", "classifier"):
            assert set(secret_refs(deployment(workload))) == {"LC_KAFKA_SASL_PASSWORD"}


# MongoDB ----------------------------------------------------------------------------


def test_each_service_has_a_mongodb_user_on_its_own_database_only() -> None:
    (mongo,) = objects("MongoDBCommunity")
    users = {u["name"]: u for u in mongo["spec"]["users"]}
    assert set(users) == {f"lc-{s}" for s in MONGO_USERS}
    (config,) = [c for c in objects("ConfigMap") if c["metadata"]["name"] == "lc-config"]
    for service in MONGO_USERS:
        user = users[f"lc-{service}"]
        settings = settings_of(service)(mongodb_database=config["data"]["LC_MONGODB_DATABASE"])
        assert user["roles"] == [{"name": "readWrite", "db": settings.database_name}]
        connection = user["connectionStringSecretName"]
        assert secret_refs(deployment(service))["MONGODB_URI"] == (
            connection,
            "connectionString.standard",
        )


# Network ----------------------------------------------------------------------------

NAMESPACE = "lead-cleanser"
EXTERNAL = {"carrier-a": "203.0.113.10", "internet": "198.51.100.7"}


def endpoints() -> dict[str, tuple[str | None, dict[str, str]]]:
    """Every party: its namespace (None: outside the cluster) and pod labels."""
    out: dict[str, tuple[str | None, dict[str, str]]] = {}
    for workload in WORKLOADS:
        labels = deployment(workload)["spec"]["template"]["metadata"]["labels"]
        out[workload] = (NAMESPACE, labels)
    out["kafka"] = (NAMESPACE, {"strimzi.io/cluster": "lc-kafka", "strimzi.io/kind": "Kafka"})
    out["mongodb"] = (NAMESPACE, {"app": "lc-mongodb-svc"})
    out["ingress-nginx"] = ("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
    out["prometheus"] = ("monitoring", {"app.kubernetes.io/name": "prometheus"})
    out["keda"] = ("keda", {"app": "keda-operator"})
    out["kube-dns"] = ("kube-system", {"k8s-app": "kube-dns"})
    for name in EXTERNAL:
        out[name] = (None, {})
    return out


PORTS = [
    ("TCP", 8080),
    ("TCP", 9093),
    ("TCP", 27017),
    ("UDP", 53),
    ("TCP", 53),
    ("UDP", 5060),
    ("UDP", 20000),
    ("TCP", 443),
    ("TCP", 587),
]


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        op, key = expr["operator"], expr["key"]
        if op == "Exists" and key not in labels:
            return False
        if op == "In" and labels.get(key) not in expr["values"]:
            return False
    return True


def peer_matches(peer: dict[str, Any], party: str, parties: dict[str, Any]) -> bool:
    namespace, labels = parties[party]
    if "ipBlock" in peer:
        if namespace is not None:
            return False
        ip = ipaddress.ip_address(EXTERNAL[party])
        block = peer["ipBlock"]
        excepted = any(ip in ipaddress.ip_network(e) for e in block.get("except", []))
        return ip in ipaddress.ip_network(block["cidr"]) and not excepted
    if namespace is None:
        return False
    if "namespaceSelector" in peer:
        ns_labels = {"kubernetes.io/metadata.name": namespace}
        if not matches(peer["namespaceSelector"], ns_labels):
            return False
    elif namespace != NAMESPACE:
        return False
    return matches(peer.get("podSelector", {}), labels)


def port_matches(rule: dict[str, Any], protocol: str, port: int) -> bool:
    if "ports" not in rule:
        return True
    for p in rule["ports"]:
        low = p["port"]
        if p.get("protocol", "TCP") == protocol and low <= port <= p.get("endPort", low):
            return True
    return False


@functools.cache
def policies() -> list[dict[str, Any]]:
    found = list(objects("NetworkPolicy"))
    # Strimzi writes the listener's policy from its networkPolicyPeers.
    (kafka,) = objects("Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    found.append(
        {
            "spec": {
                "podSelector": {"matchLabels": {"strimzi.io/kind": "Kafka"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": listener["networkPolicyPeers"],
                        "ports": [{"protocol": "TCP", "port": listener["port"]}],
                    }
                ],
            }
        }
    )
    return found


def allowed(
    direction: str, party: str, other: str, proto: str, port: int, parties: dict[str, Any]
) -> bool:
    namespace, labels = parties[party]
    if namespace != NAMESPACE:
        return True  # not ours to restrict
    selecting = [
        p
        for p in policies()
        if direction in p["spec"]["policyTypes"] and matches(p["spec"]["podSelector"], labels)
    ]
    key, peers = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            listed = rule.get(peers)  # absent: every peer
            peer_ok = listed is None or any(peer_matches(p, other, parties) for p in listed)
            if peer_ok and port_matches(rule, proto, port):
                return True
    return not selecting


def expected_flows() -> set[tuple[str, str, str, int]]:
    http = ("TCP", 8080)
    flows = {
        (src, dst, *http)
        for src, dst in [
            ("gateway", "ingest"),
            ("gateway", "billing"),
            ("gateway", "notifier"),
            ("scheduler", "ingest"),
            ("scheduler", "billing"),
            ("billing", "ingest"),
            ("notifier", "ingest"),
            ("notifier", "gateway"),
            ("ingress-nginx", "gateway"),
            ("ingress-nginx", "billing"),
        ]
    }
    for workload in WORKLOADS:
        flows.add(("prometheus", workload, *http))
        flows |= {(workload, "kube-dns", "UDP", 53), (workload, "kube-dns", "TCP", 53)}
        if settings_of(service_of(workload)).uses_kafka:
            flows.add((workload, "kafka", "TCP", 9093))
    flows |= {(s, "mongodb", "TCP", 27017) for s in MONGO_USERS}
    flows |= {
        ("mongodb", "mongodb", "TCP", 27017),
        ("keda", "kafka", "TCP", 9093),
        ("prober-carrier-a", "carrier-a", "UDP", 5060),
        ("carrier-a", "prober-carrier-a", "UDP", 20000),
        ("carrier-a", "prober-carrier-a", "UDP", 5060),
    }
    # The payment provider, SMTP relay and clients' webhooks: any public address.
    for public in EXTERNAL:
        flows |= {
            ("billing", public, "TCP", 443),
            ("notifier", public, "TCP", 443),
            ("notifier", public, "TCP", 587),
        }
    return flows


def test_network_policies_allow_exactly_the_architectures_flows() -> None:
    parties = endpoints()
    platform = {"kafka", "mongodb"}
    actual = set()
    for src in parties:
        for dst in parties:
            if parties[src][0] != NAMESPACE and parties[dst][0] != NAMESPACE:
                continue  # neither end is ours
            if src in platform and parties[dst][0] != NAMESPACE:
                continue  # the operators' pods reach out as they need (platform-egress)
            for proto, port in PORTS:
                if allowed("Egress", src, dst, proto, port, parties) and allowed(
                    "Ingress", dst, src, proto, port, parties
                ):
                    actual.add((src, dst, proto, port))
    assert actual == expected_flows()


# Ingress, limits, images ----------------------------------------------------------


def test_the_ingress_publishes_only_public_routes() -> None:
    (ingress,) = objects("Ingress")
    (rule,) = ingress["spec"]["rules"]
    routes: dict[tuple[str, str], str] = {
        (p["path"], p["pathType"]): p["backend"]["service"]["name"] for p in rule["http"]["paths"]
    }
    assert routes[("/webhooks/payments", "Exact")] == "billing"
    assert routes[("/", "Exact")] == "gateway"
    assert routes[("/api/v1", "Prefix")] == "gateway"
    assert routes[("/static", "Prefix")] == "gateway"

    def served_by(path: str) -> str | None:
        for (route, kind), service in routes.items():
            if path == route or (kind == "Prefix" and path.startswith(route.rstrip("/") + "/")):
                return service
        return None

    for private in ["/internal/v1/accounts/a1", "/metrics", "/healthz", "/readyz", "/webhooks/x"]:
        assert served_by(private) is None, private
    for public in ["/api/v1/batches", "/login", "/batches/b1/download", "/billing/return"]:
        assert served_by(public) == "gateway", public


@pytest.mark.parametrize("workload", WORKLOADS)
def test_every_container_is_limited_and_has_no_api_token(workload: str) -> None:
    patch = yaml.safe_load((K8S / "patches" / "service-defaults.yaml").read_text())
    assert patch["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    for container in deployment(workload)["spec"]["template"]["spec"]["containers"]:
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])


def test_every_image_is_pinned_by_digest() -> None:
    images = {i["name"]: i for i in kustomization()["images"]}
    for deploy in objects("Deployment"):
        for container in deploy["spec"]["template"]["spec"]["containers"]:
            entry = images[container["image"]]
            assert "newTag" not in entry
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", entry["digest"])
