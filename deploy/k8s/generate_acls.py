"""Write the Kafka topics and users of deploy/k8s from the topic registry.

    .venv/bin/python deploy/k8s/generate_acls.py          # rewrite the two files
    .venv/bin/python deploy/k8s/generate_acls.py --check  # fail if they are stale

The registry (`lc_common.events.registry`) says who produces and who consumes
each topic; `trunks.yaml` says which `probe.requests.<trunk>` topics exist. From
them this writes:

- `platform/kafka-topics.yaml`: a `KafkaTopic` for every topic, its dead-letter
  twin and the classifier's Faust-internal topics, replicated three times. The
  services' own `ensure_topics` then finds them and creates nothing (they hold no
  right to create topics, and would create them with one replica).
- `platform/kafka-users.yaml`: a `KafkaUser` per service (one per trunk for the
  probers) with SCRAM-SHA-512 authentication and ACLs to exactly what it uses:
  Read on the topics it consumes and on its consumer groups, Write on the topics
  it produces and on the dead-letter twins of those it consumes, Describe on the
  dead-letter twins of those it produces (its `ensure_topics` looks them up).
  KEDA gets a user that may only describe the probers' topics and groups.

Topic and group names carry `LC_TOPIC_PREFIX` from `config.yaml`, as the services
prefix them (`ServiceSettings.topic`). Consumer groups are the ones each service's
bootstrap names (`GROUPS` below).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from lc_common.consuming.groups import consumer_group
from lc_common.events.registry import (
    BATCH_EVENTS,
    PROBE_REQUESTS_PREFIX,
    PROBE_SIGNALLING,
    TOPICS,
    Topic,
    probe_requests,
)
from lc_common.trunks import Trunk, load_trunks

K8S = Path(__file__).resolve().parent
TOPICS_FILE = K8S / "platform" / "kafka-topics.yaml"
USERS_FILE = K8S / "platform" / "kafka-users.yaml"
CLUSTER = "lc-kafka"
REPLICAS = 3
PROBE_REQUESTS_RETENTION_MS = 7 * 24 * 3600 * 1000

# The consumer groups each service joins (`lc_common.consuming.groups`: one per input
# topic, `<service>.<topic>`; the classifier's is its Faust app id), as (name,
# pattern): each service gets the groups under `<service>.`, so a new input needs no
# new ACL. A group renamed by that rule also reads its legacy group's offsets once, to
# adopt them (`ingest`, `billing`; the notifier's legacy groups are under its prefix).
# A prober joins `prober.probe-requests-<trunk>`, adopting `prober.<trunk>`.
GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "ingest": (("ingest.", "prefix"), ("ingest", "literal")),
    "scheduler": (("scheduler.", "prefix"),),
    "classifier": (("classifier", "literal"),),
    "billing": (("billing.", "prefix"), ("billing", "literal")),
    "notifier": (("notifier.", "prefix"),),
}
# Faust keeps the classifier's table changelog under `<app id>-`; it creates it itself
# (if missing) and reads it back on recovery. Leader election is off (no leader topic).
FAUST_APP_ID = "classifier"
FAUST_INTERNAL_TOPICS = (
    (f"{FAUST_APP_ID}-lead_history-changelog", PROBE_SIGNALLING.partitions, "compact"),
)
# The classifier sends an event keyed other than by its lead back to its own input
# (re-keying, Faust's repartitioning done by hand): it writes probe.signalling too.
EXTRA_WRITES: dict[str, tuple[str, ...]] = {"classifier": (PROBE_SIGNALLING.name,)}
# Topics a service reads outside the consumer runner, without a group and without
# dead-lettering (the prober reads every batch's pauses): no write to their DLQ.
READS_ONLY: dict[str, tuple[str, ...]] = {"prober": (BATCH_EVENTS.name,)}


def prober_group(trunk: str) -> str:
    """The consumer group of one trunk's probers (the rule of `lc_common.consuming.groups`)."""
    return consumer_group("prober", f"{PROBE_REQUESTS_PREFIX}{trunk}")


def config_prefix() -> str:
    """`LC_TOPIC_PREFIX` as the deployment sets it in config.yaml (empty if unset)."""
    documents = yaml.safe_load_all((K8S / "config.yaml").read_text())
    (config,) = [d for d in documents if d and d["metadata"]["name"] == "lc-config"]
    return str(config["data"].get("LC_TOPIC_PREFIX", ""))


def all_topics(trunks: list[Trunk]) -> list[Topic]:
    """The registry's topics and each trunk's request topic."""
    return [*TOPICS.values(), *(probe_requests(trunk) for trunk in trunks)]


def user_name(service: str) -> str:
    """The KafkaUser (and SCRAM user name) of a service, or of `prober-<trunk>`."""
    return f"lc-{service}"


def kube_name(topic: str) -> str:
    """A Kubernetes object name for a topic name (`_` is not allowed there)."""
    return topic.lower().replace("_", "-")


def _acl(kind: str, name: str, operations: list[str], pattern: str = "literal") -> dict[str, Any]:
    return {
        "resource": {"type": kind, "name": name, "patternType": pattern},
        "operations": operations,
    }


def _user(name: str, acls: list[dict[str, Any]], comment: str) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaUser",
        "metadata": {
            "name": name,
            "labels": {"strimzi.io/cluster": CLUSTER},
            "annotations": {"lead-cleanser/acl-source": comment},
        },
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": acls},
        },
    }


def topic_acls(service: str, topics: list[Topic], prefix: str) -> list[dict[str, Any]]:
    """A service's rights on topics, from who produces and consumes what in the registry.

    `service` is the name the registry uses: `prober:<trunk>` consumes that trunk's
    requests, `prober` produces the signalling.
    """
    operations: dict[str, set[str]] = defaultdict(set)
    for topic in topics:
        if service in topic.consumers:
            operations[topic.name] |= {"Read", "Describe"}
            if topic.name not in READS_ONLY.get(service, ()):
                operations[topic.dlq] |= {"Write", "Describe"}
        if service == topic.producer:
            operations[topic.name] |= {"Write", "Describe"}
            operations[topic.dlq] |= {"Describe"}
    for name in EXTRA_WRITES.get(service, ()):
        operations[name] |= {"Write", "Describe"}
    return [_acl("topic", prefix + name, sorted(ops)) for name, ops in sorted(operations.items())]


def users(prefix: str, trunks: list[Trunk]) -> list[dict[str, Any]]:
    """Every KafkaUser: the services, one prober per trunk, and KEDA."""
    topics = all_topics(trunks)
    out = []
    for service, groups in GROUPS.items():
        acls = topic_acls(service, topics, prefix)
        acls += [_acl("group", prefix + group, ["Read"], pattern) for group, pattern in groups]
        if service == "classifier":
            acls.append(
                _acl(
                    "topic",
                    f"{prefix}{FAUST_APP_ID}-",
                    ["Create", "Describe", "DescribeConfigs", "Read", "Write"],
                    pattern="prefix",
                )
            )
        out.append(_user(user_name(service), acls, "lc_common.events.registry"))
    for trunk in trunks:
        acls = topic_acls(f"prober:{trunk.name}", topics, prefix)
        acls += topic_acls("prober", topics, prefix)
        acls.append(_acl("group", f"{prefix}{prober_group(trunk.name)}", ["Read"]))
        acls.append(_acl("group", f"{prefix}prober.{trunk.name}", ["Read"]))  # adopted from
        out.append(_user(user_name(f"prober-{trunk.name}"), acls, "lc_common.events.registry"))
    keda = [
        acl
        for trunk in trunks
        for acl in (
            _acl("topic", f"{prefix}{PROBE_REQUESTS_PREFIX}{trunk.name}", ["Describe"]),
            _acl("group", f"{prefix}{prober_group(trunk.name)}", ["Describe"]),
        )
    ]
    out.append(_user(user_name("keda"), keda, "probers' lag, for KEDA"))
    return out


def _topic(name: str, partitions: int, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": {"name": kube_name(name), "labels": {"strimzi.io/cluster": CLUSTER}},
        "spec": {
            "topicName": name,
            "partitions": partitions,
            "replicas": REPLICAS,
            **({"config": config} if config else {}),
        },
    }


def kafka_topics(prefix: str, trunks: list[Trunk]) -> list[dict[str, Any]]:
    """Every topic the system uses, as the services would create it but replicated."""
    out = []
    for topic in all_topics(trunks):
        config: dict[str, Any] = {}
        if topic.name.startswith(PROBE_REQUESTS_PREFIX):
            config["retention.ms"] = PROBE_REQUESTS_RETENTION_MS
        out.append(_topic(prefix + topic.name, topic.partitions, config))
        out.append(_topic(prefix + topic.dlq, 1, {}))
    for name, partitions, policy in FAUST_INTERNAL_TOPICS:
        out.append(_topic(prefix + name, partitions, {"cleanup.policy": policy}))
    return out


HEADER = (
    "# Generated by deploy/k8s/generate_acls.py from lc_common.events.registry and\n"
    "# trunks.yaml: do not edit; run `.venv/bin/python deploy/k8s/generate_acls.py`.\n"
)


def render(prefix: str, trunks: list[Trunk]) -> dict[Path, str]:
    """The generated files and their contents."""

    def dump(docs: list[dict[str, Any]]) -> str:
        return HEADER + yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True)

    return {
        TOPICS_FILE: dump(kafka_topics(prefix, trunks)),
        USERS_FILE: dump(users(prefix, trunks)),
    }


def main(argv: list[str]) -> int:
    """Write the files, or with `--check` report whether they are up to date."""
    files = render(config_prefix(), load_trunks(K8S / "trunks.yaml"))
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"stale: {path.relative_to(K8S)}", file=sys.stderr)  # noqa: T201
        return 1 if stale else 0
    for path in stale:
        path.write_text(files[path])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
