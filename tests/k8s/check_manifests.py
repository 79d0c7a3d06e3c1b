#!/usr/bin/env python3
"""Offline check of a kustomize overlay: render, lint, validate.

  check_manifests.py [--kubectl KUBECTL] [--yamllint YAMLLINT] OVERLAY_DIR

1. yamllint (config deploy/k8s/.yamllint) over the YAML files of the overlay and of every
   directory it builds on;
2. `kubectl kustomize OVERLAY_DIR` (offline);
3. every rendered object against a schema of the kinds Linli uses (apiVersion/kind known,
   required fields present, field types right, no unknown fields in the parts we write by hand);
4. the rules of deploy/k8s (docs/OPERATIONS.md): non-root, read-only root filesystem, ALL
   capabilities dropped, no privilege escalation, requests and limits, native gRPC probes on the
   Linli services, a grace period longer than drain delay + shutdown deadline, selectors that
   select something, every referenced ConfigMap / Secret / ServiceAccount present (or a Secret
   named in the overlay's external-secrets.txt, or optional), backend addresses pointing at
   headless Services with that port, images pinned to a tag, unique names.

Prints one line per problem and exits 1 when there is any. Uses only python3 and python3-yaml
(Debian packages): no network, no npm.
"""

import argparse
import base64
import os
import re
import subprocess
import sys

import yaml

# --------------------------------------------------------------------------------------------
# A small schema language: T(...) is a typed leaf, Obj(...) a mapping with known fields.

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUANTITY = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[kMGTPE]i?|m|u|n)?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


class T:
    """A leaf: str, int, bool, quantity, int-or-string, or 'any'."""

    def __init__(self, kind, enum=None, pattern=None):
        self.kind, self.enum, self.pattern = kind, enum, pattern


class Obj:
    def __init__(self, fields, required=(), open_=False):
        self.fields, self.required, self.open = fields, set(required), open_


class List:
    def __init__(self, item):
        self.item = item


class MapOf:
    def __init__(self, value):
        self.value = value


STR, INT, BOOL, ANY = T("str"), T("int"), T("bool"), T("any")
INT_OR_STR, QTY = T("int_or_str"), T("quantity")
STRMAP = MapOf(STR)


def check(value, schema, path, errors):
    if isinstance(schema, T):
        kind = schema.kind
        ok = {
            "str": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "any": True,
            "int_or_str": (isinstance(value, int) and not isinstance(value, bool))
            or isinstance(value, str),
            "quantity": (isinstance(value, (int, float)) and not isinstance(value, bool))
            or (isinstance(value, str) and QUANTITY.match(value) is not None),
        }[kind]
        if not ok:
            errors.append(f"{path}: expected {kind}, got {type(value).__name__} {value!r}")
        elif schema.enum is not None and value not in schema.enum:
            errors.append(f"{path}: {value!r} is not one of {sorted(schema.enum)}")
        elif schema.pattern is not None and not schema.pattern.match(str(value)):
            errors.append(f"{path}: {value!r} is malformed")
        return
    if isinstance(schema, List):
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(item, schema.item, f"{path}[{i}]", errors)
        return
    if isinstance(schema, MapOf):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a mapping, got {type(value).__name__}")
            return
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(f"{path}: key {key!r} is not a string")
            check(item, schema.value, f"{path}.{key}", errors)
        return
    if not isinstance(value, dict):
        errors.append(f"{path}: expected a mapping, got {type(value).__name__}")
        return
    for field in sorted(schema.required):
        if field not in value:
            errors.append(f"{path}: required field {field} is missing")
    for key, item in value.items():
        if key in schema.fields:
            check(item, schema.fields[key], f"{path}.{key}", errors)
        elif not schema.open:
            errors.append(f"{path}: unknown field {key}")


LABEL_SELECTOR = Obj({"matchLabels": STRMAP, "matchExpressions": List(Obj({}, open_=True))})
METADATA = Obj(
    {
        "name": T("str", pattern=DNS_SUBDOMAIN),
        "namespace": T("str", pattern=DNS_LABEL),
        "labels": MapOf(T("str", pattern=LABEL_VALUE)),
        "annotations": STRMAP,
    },
    required=["name"],
)
TEMPLATE_METADATA = Obj({"labels": MapOf(T("str", pattern=LABEL_VALUE)), "annotations": STRMAP})
KEY_REF = Obj({"name": STR, "key": STR, "optional": BOOL}, required=["name", "key"])
ENV_VAR = Obj(
    {
        "name": STR,
        "value": STR,
        "valueFrom": Obj(
            {
                "secretKeyRef": KEY_REF,
                "configMapKeyRef": KEY_REF,
                "fieldRef": Obj({"fieldPath": STR, "apiVersion": STR}, required=["fieldPath"]),
                "resourceFieldRef": Obj({}, open_=True),
            }
        ),
    },
    required=["name"],
)
PROBE = Obj(
    {
        "grpc": Obj({"port": INT, "service": STR}, required=["port"]),
        "httpGet": Obj({}, open_=True),
        "tcpSocket": Obj({"port": INT_OR_STR, "host": STR}, required=["port"]),
        "exec": Obj({"command": List(STR)}, required=["command"]),
        "initialDelaySeconds": INT,
        "periodSeconds": INT,
        "timeoutSeconds": INT,
        "failureThreshold": INT,
        "successThreshold": INT,
        "terminationGracePeriodSeconds": INT,
    }
)
CONTAINER_SECURITY = Obj(
    {
        "allowPrivilegeEscalation": BOOL,
        "readOnlyRootFilesystem": BOOL,
        "runAsNonRoot": BOOL,
        "runAsUser": INT,
        "runAsGroup": INT,
        "privileged": BOOL,
        "capabilities": Obj({"drop": List(STR), "add": List(STR)}),
        "seccompProfile": Obj({"type": STR, "localhostProfile": STR}, required=["type"]),
    }
)
CONTAINER = Obj(
    {
        "name": T("str", pattern=DNS_LABEL),
        "image": STR,
        "imagePullPolicy": T("str", enum={"Always", "IfNotPresent", "Never"}),
        "command": List(STR),
        "args": List(STR),
        "workingDir": STR,
        "ports": List(
            Obj(
                {
                    "name": T("str", pattern=DNS_LABEL),
                    "containerPort": INT,
                    "protocol": T("str", enum={"TCP", "UDP", "SCTP"}),
                },
                required=["containerPort"],
            )
        ),
        "env": List(ENV_VAR),
        "envFrom": List(
            Obj(
                {
                    "prefix": STR,
                    "configMapRef": Obj({"name": STR, "optional": BOOL}, required=["name"]),
                    "secretRef": Obj({"name": STR, "optional": BOOL}, required=["name"]),
                }
            )
        ),
        "volumeMounts": List(
            Obj(
                {"name": STR, "mountPath": STR, "readOnly": BOOL, "subPath": STR},
                required=["name", "mountPath"],
            )
        ),
        "readinessProbe": PROBE,
        "livenessProbe": PROBE,
        "startupProbe": PROBE,
        "resources": Obj({"requests": MapOf(QTY), "limits": MapOf(QTY)}),
        "securityContext": CONTAINER_SECURITY,
        "lifecycle": Obj({}, open_=True),
        "terminationMessagePolicy": STR,
    },
    required=["name", "image"],
)
KEY_TO_PATH = Obj({"key": STR, "path": STR, "mode": INT}, required=["key", "path"])
VOLUME = Obj(
    {
        "name": STR,
        "secret": Obj(
            {"secretName": STR, "optional": BOOL, "defaultMode": INT, "items": List(KEY_TO_PATH)},
            required=["secretName"],
        ),
        "configMap": Obj(
            {"name": STR, "optional": BOOL, "defaultMode": INT, "items": List(KEY_TO_PATH)},
            required=["name"],
        ),
        "emptyDir": Obj({"medium": STR, "sizeLimit": QTY}),
        "persistentVolumeClaim": Obj({"claimName": STR, "readOnly": BOOL}, required=["claimName"]),
    },
    required=["name"],
)
POD_SPEC = Obj(
    {
        "containers": List(CONTAINER),
        "initContainers": List(CONTAINER),
        "serviceAccountName": STR,
        "automountServiceAccountToken": BOOL,
        "terminationGracePeriodSeconds": INT,
        "securityContext": Obj(
            {
                "runAsNonRoot": BOOL,
                "runAsUser": INT,
                "runAsGroup": INT,
                "fsGroup": INT,
                "supplementalGroups": List(INT),
                "seccompProfile": Obj({"type": STR, "localhostProfile": STR}, required=["type"]),
            }
        ),
        "volumes": List(VOLUME),
        "affinity": Obj({}, open_=True),
        "nodeSelector": STRMAP,
        "tolerations": List(Obj({}, open_=True)),
        "topologySpreadConstraints": List(Obj({}, open_=True)),
        "priorityClassName": STR,
        "enableServiceLinks": BOOL,
    },
    required=["containers"],
)
POD_TEMPLATE = Obj({"metadata": TEMPLATE_METADATA, "spec": POD_SPEC}, required=["spec"])
NP_PEER = Obj(
    {
        "podSelector": LABEL_SELECTOR,
        "namespaceSelector": LABEL_SELECTOR,
        "ipBlock": Obj({"cidr": STR, "except": List(STR)}, required=["cidr"]),
    }
)
NP_PORT = Obj(
    {"protocol": T("str", enum={"TCP", "UDP", "SCTP"}), "port": INT_OR_STR, "endPort": INT}
)

SPECS = {
    ("v1", "Namespace"): Obj({"metadata": METADATA, "spec": Obj({}, open_=True)}),
    ("v1", "ServiceAccount"): Obj(
        {
            "metadata": METADATA,
            "automountServiceAccountToken": BOOL,
            "imagePullSecrets": List(Obj({"name": STR}, required=["name"])),
        }
    ),
    ("v1", "ConfigMap"): Obj(
        {"metadata": METADATA, "data": STRMAP, "binaryData": STRMAP, "immutable": BOOL}
    ),
    ("v1", "Secret"): Obj(
        {"metadata": METADATA, "type": STR, "data": STRMAP, "stringData": STRMAP,
         "immutable": BOOL}
    ),
    ("v1", "Service"): Obj(
        {
            "metadata": METADATA,
            "spec": Obj(
                {
                    "type": T("str", enum={"ClusterIP", "NodePort", "LoadBalancer",
                                           "ExternalName"}),
                    "clusterIP": STR,
                    "selector": STRMAP,
                    "ports": List(
                        Obj(
                            {
                                "name": T("str", pattern=DNS_LABEL),
                                "port": INT,
                                "targetPort": INT_OR_STR,
                                "protocol": T("str", enum={"TCP", "UDP", "SCTP"}),
                                "nodePort": INT,
                                "appProtocol": STR,
                            },
                            required=["port"],
                        )
                    ),
                    "sessionAffinity": STR,
                    "publishNotReadyAddresses": BOOL,
                },
                required=["ports"],
            ),
        },
        required=["spec"],
    ),
    ("apps/v1", "Deployment"): Obj(
        {
            "metadata": METADATA,
            "spec": Obj(
                {
                    "replicas": INT,
                    "revisionHistoryLimit": INT,
                    "minReadySeconds": INT,
                    "progressDeadlineSeconds": INT,
                    "selector": LABEL_SELECTOR,
                    "strategy": Obj(
                        {
                            "type": T("str", enum={"RollingUpdate", "Recreate"}),
                            "rollingUpdate": Obj(
                                {"maxUnavailable": INT_OR_STR, "maxSurge": INT_OR_STR}
                            ),
                        }
                    ),
                    "template": POD_TEMPLATE,
                },
                required=["selector", "template"],
            ),
        },
        required=["spec"],
    ),
    ("apps/v1", "StatefulSet"): Obj(
        {
            "metadata": METADATA,
            "spec": Obj(
                {
                    "serviceName": STR,
                    "replicas": INT,
                    "selector": LABEL_SELECTOR,
                    "template": POD_TEMPLATE,
                    "volumeClaimTemplates": List(Obj({}, open_=True)),
                    "updateStrategy": Obj({}, open_=True),
                    "podManagementPolicy": STR,
                },
                required=["selector", "template", "serviceName"],
            ),
        },
        required=["spec"],
    ),
    ("networking.k8s.io/v1", "NetworkPolicy"): Obj(
        {
            "metadata": METADATA,
            "spec": Obj(
                {
                    "podSelector": LABEL_SELECTOR,
                    "policyTypes": List(T("str", enum={"Ingress", "Egress"})),
                    "ingress": List(Obj({"from": List(NP_PEER), "ports": List(NP_PORT)})),
                    "egress": List(Obj({"to": List(NP_PEER), "ports": List(NP_PORT)})),
                },
                required=["podSelector"],
            ),
        },
        required=["spec"],
    ),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): Obj(
        {
            "metadata": METADATA,
            "spec": Obj(
                {
                    "scaleTargetRef": Obj(
                        {"apiVersion": STR, "kind": STR, "name": STR}, required=["kind", "name"]
                    ),
                    "minReplicas": INT,
                    "maxReplicas": INT,
                    "metrics": List(Obj({}, open_=True)),
                    "behavior": Obj({}, open_=True),
                },
                required=["scaleTargetRef", "maxReplicas"],
            ),
        },
        required=["spec"],
    ),
    ("policy/v1", "PodDisruptionBudget"): Obj(
        {
            "metadata": METADATA,
            "spec": Obj(
                {
                    "minAvailable": INT_OR_STR,
                    "maxUnavailable": INT_OR_STR,
                    "selector": LABEL_SELECTOR,
                    "unhealthyPodEvictionPolicy": STR,
                },
                required=["selector"],
            ),
        },
        required=["spec"],
    ),
}
CLUSTER_SCOPED = {"Namespace"}
WORKLOADS = {"Deployment", "StatefulSet"}

# --------------------------------------------------------------------------------------------


def parse_duration(text):
    """Go/Abseil duration ("5s", "1m30s", "250ms") -> seconds, None when malformed."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(h|ms|us|ns|m|s)", text)
    if text in ("0", "") or not parts or "".join(a + b for a, b in parts) != text:
        return 0.0 if text == "0" else None
    return sum(float(a) * units[b] for a, b in parts)


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def validate(docs, external_secrets):
    errors = []
    objects = {}
    for i, doc in enumerate(docs):
        where = f"document {i}"
        if not isinstance(doc, dict):
            errors.append(f"{where}: not a mapping")
            continue
        api, kind = doc.get("apiVersion"), doc.get("kind")
        name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"),
                                                                      dict) else None
        where = f"{kind}/{name}"
        if (api, kind) not in SPECS:
            errors.append(f"{where}: unknown apiVersion/kind {api}/{kind}")
            continue
        schema = SPECS[(api, kind)]
        body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind")}
        if "metadata" not in body:
            errors.append(f"{where}: required field metadata is missing")
            continue
        check(body, schema, where, errors)
        if kind not in CLUSTER_SCOPED and not doc["metadata"].get("namespace"):
            errors.append(f"{where}: no namespace (overlays must set one)")
        key = (kind, doc["metadata"].get("namespace"), name)
        if key in objects:
            errors.append(f"{where}: defined twice")
        objects[key] = doc
    if errors:
        return errors  # the rules below assume well-typed objects

    def find(kind, namespace, name):
        return objects.get((kind, namespace, name))

    workloads = [(k, o) for k, o in objects.items() if k[0] in WORKLOADS]
    config_data = {}
    for (kind, ns, name), obj in objects.items():
        if kind == "ConfigMap":
            config_data[(ns, name)] = obj.get("data") or {}
        if kind == "Secret":
            for key, value in (obj.get("data") or {}).items():
                try:
                    # kustomize wraps long values at 76 columns; the API server ignores newlines.
                    base64.b64decode(re.sub(r"[\r\n]", "", value), validate=True)
                except Exception:  # noqa: BLE001 - any decoding error is the finding
                    errors.append(f"Secret/{name}: data.{key} is not base64")

    def secret_ok(ns, name, key, optional, where):
        secret = find("Secret", ns, name)
        if secret is None:
            if not optional and name not in external_secrets:
                errors.append(f"{where}: Secret {name} is neither rendered, optional, nor listed "
                              f"in external-secrets.txt")
            return
        if key is not None:
            keys = set((secret.get("data") or {})) | set((secret.get("stringData") or {}))
            if key not in keys:
                errors.append(f"{where}: Secret {name} has no key {key}")

    def configmap_ok(ns, name, key, optional, where):
        if (ns, name) not in config_data:
            if not optional:
                errors.append(f"{where}: ConfigMap {name} does not exist")
            return
        if key is not None and key not in config_data[(ns, name)]:
            errors.append(f"{where}: ConfigMap {name} has no key {key}")

    for (kind, ns, name), obj in workloads:
        where = f"{kind}/{name}"
        spec = obj["spec"]
        template = spec["template"]
        labels = (template.get("metadata") or {}).get("labels") or {}
        match = spec["selector"].get("matchLabels") or {}
        if not match or not selects(match, labels):
            errors.append(f"{where}: selector.matchLabels {match} does not match the pod "
                          f"template labels {labels}")
        pod = template["spec"]
        pod_sc = pod.get("securityContext") or {}
        sa = pod.get("serviceAccountName")
        if sa and sa != "default" and find("ServiceAccount", ns, sa) is None:
            errors.append(f"{where}: ServiceAccount {sa} does not exist")
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for v in volumes.values():
            if "secret" in v:
                secret_ok(ns, v["secret"]["secretName"], None, v["secret"].get("optional", False),
                          f"{where}: volume {v['name']}")
            if "configMap" in v:
                configmap_ok(ns, v["configMap"]["name"], None,
                             v["configMap"].get("optional", False),
                             f"{where}: volume {v['name']}")
        claim_templates = {(c.get("metadata") or {}).get("name")
                           for c in spec.get("volumeClaimTemplates") or []}
        for c in pod["containers"] + (pod.get("initContainers") or []):
            cw = f"{where}: container {c['name']}"
            image = c["image"]
            if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1]
                                            or image.endswith(":latest")):
                errors.append(f"{cw}: image {image} is not pinned to a tag or digest")
            sc = c.get("securityContext") or {}
            if not (sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True):
                errors.append(f"{cw}: runAsNonRoot must be true")
            if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
                errors.append(f"{cw}: runs as user 0")
            if sc.get("readOnlyRootFilesystem") is not True:
                errors.append(f"{cw}: readOnlyRootFilesystem must be true")
            if sc.get("allowPrivilegeEscalation") is not False:
                errors.append(f"{cw}: allowPrivilegeEscalation must be false")
            if sc.get("privileged"):
                errors.append(f"{cw}: privileged")
            caps = sc.get("capabilities") or {}
            if "ALL" not in (caps.get("drop") or []):
                errors.append(f"{cw}: capabilities.drop must contain ALL")
            if caps.get("add"):
                errors.append(f"{cw}: adds capabilities {caps['add']}")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in (res.get(part) or {}):
                        errors.append(f"{cw}: resources.{part}.{resource} missing")
            for m in c.get("volumeMounts") or []:
                if m["name"] not in volumes and m["name"] not in claim_templates:
                    errors.append(f"{cw}: volumeMount {m['name']} names no volume")
            # References, and the effective LINLI_* environment.
            env = {}
            for source in c.get("envFrom") or []:
                if "configMapRef" in source:
                    ref = source["configMapRef"]
                    configmap_ok(ns, ref["name"], None, ref.get("optional", False), cw)
                    env.update(config_data.get((ns, ref["name"]), {}))
                if "secretRef" in source:
                    ref = source["secretRef"]
                    secret_ok(ns, ref["name"], None, ref.get("optional", False), cw)
            for var in c.get("env") or []:
                if "value" in var:
                    env[var["name"]] = var["value"]
                vf = var.get("valueFrom") or {}
                if "secretKeyRef" in vf:
                    r = vf["secretKeyRef"]
                    secret_ok(ns, r["name"], r["key"], r.get("optional", False),
                              f"{cw}: env {var['name']}")
                if "configMapKeyRef" in vf:
                    r = vf["configMapKeyRef"]
                    configmap_ok(ns, r["name"], r["key"], r.get("optional", False),
                                 f"{cw}: env {var['name']}")
            ports = {p["containerPort"] for p in c.get("ports") or []}
            is_linli = kind == "Deployment" and re.search(r"(^|/)linli-[a-z]+(:|@|$)", image)
            if not is_linli:
                continue
            # The Linli services: native gRPC probes on a served port; shutdown fits the grace.
            for probe_name in ("readinessProbe", "livenessProbe"):
                probe = c.get(probe_name)
                if probe is None:
                    errors.append(f"{cw}: {probe_name} missing")
                elif "grpc" not in probe:
                    errors.append(f"{cw}: {probe_name} must be a native grpc probe")
                elif probe["grpc"]["port"] not in ports:
                    errors.append(f"{cw}: {probe_name} port {probe['grpc']['port']} is not a "
                                  f"containerPort")
            drain = parse_duration(env.get("LINLI_DRAIN_DELAY", "0s"))
            deadline = parse_duration(env.get("LINLI_SHUTDOWN_DEADLINE", "10s"))
            if drain is None or deadline is None:
                errors.append(f"{cw}: LINLI_DRAIN_DELAY / LINLI_SHUTDOWN_DEADLINE malformed")
                continue
            grace = pod.get("terminationGracePeriodSeconds", 30)
            if not grace > drain + deadline:
                errors.append(f"{where}: terminationGracePeriodSeconds {grace} must exceed "
                              f"drain delay + shutdown deadline ({drain + deadline:g}s)")

    def pod_labels(ns):
        return [(k, ((o["spec"]["template"].get("metadata") or {}).get("labels") or {}), o)
                for k, o in workloads if k[1] == ns]

    services = {}
    for (kind, ns, name), obj in objects.items():
        if kind != "Service":
            continue
        where = f"Service/{name}"
        spec = obj["spec"]
        services[(ns, name)] = obj
        selector = spec.get("selector")
        if not selector:
            continue
        matched = [o for _, labels, o in pod_labels(ns) if selects(selector, labels)]
        if not matched:
            errors.append(f"{where}: selector {selector} matches no Deployment/StatefulSet")
            continue
        for port in spec["ports"]:
            target = port.get("targetPort", port["port"])
            found = False
            for o in matched:
                for c in o["spec"]["template"]["spec"]["containers"]:
                    for p in c.get("ports") or []:
                        if target in (p.get("name"), p["containerPort"]):
                            found = True
            if not found:
                errors.append(f"{where}: targetPort {target} is not a port of the selected pods")

    # Backend addresses in ConfigMaps: dns:///SERVICE:PORT must be a headless Service with it.
    for (ns, cm), data in config_data.items():
        for key, value in data.items():
            m = re.match(r"^dns:///([a-z0-9-]+):([0-9]+)$", value)
            if not m:
                continue
            service = services.get((ns, m.group(1)))
            where = f"ConfigMap/{cm}: {key}"
            if service is None:
                errors.append(f"{where}: Service {m.group(1)} does not exist")
                continue
            if service["spec"].get("clusterIP") != "None":
                errors.append(f"{where}: Service {m.group(1)} must be headless (clusterIP: None) "
                              f"for round_robin balancing")
            if int(m.group(2)) not in [p["port"] for p in service["spec"]["ports"]]:
                errors.append(f"{where}: Service {m.group(1)} has no port {m.group(2)}")

    for (kind, ns, name), obj in objects.items():
        where = f"{kind}/{name}"
        spec = obj.get("spec") or {}
        if kind == "HorizontalPodAutoscaler":
            ref = spec["scaleTargetRef"]
            if find(ref["kind"], ns, ref["name"]) is None:
                errors.append(f"{where}: scaleTargetRef {ref['kind']}/{ref['name']} missing")
            if spec.get("minReplicas", 1) > spec["maxReplicas"]:
                errors.append(f"{where}: minReplicas > maxReplicas")
        if kind == "PodDisruptionBudget":
            if ("minAvailable" in spec) == ("maxUnavailable" in spec):
                errors.append(f"{where}: set exactly one of minAvailable and maxUnavailable")
            selector = spec["selector"].get("matchLabels") or {}
            if not any(selects(selector, labels) for _, labels, _ in pod_labels(ns)):
                errors.append(f"{where}: selector {selector} matches no pods")
        if kind == "NetworkPolicy":
            selector = spec["podSelector"].get("matchLabels") or {}
            if selector and not any(selects(selector, l) for _, l, _ in pod_labels(ns)):
                # The mysql-dev policy is allowed to select nothing when that component is off.
                if selector.get("app.kubernetes.io/name") != "linli-mysql":
                    errors.append(f"{where}: podSelector {selector} matches no pods")
    return errors


def kustomization_dirs(root):
    """The overlay and every local directory it builds on (bases, resources, components)."""
    seen, todo = [], [os.path.abspath(root)]
    while todo:
        d = todo.pop()
        if d in seen:
            continue
        seen.append(d)
        path = os.path.join(d, "kustomization.yaml")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            k = yaml.safe_load(f) or {}
        for field in ("bases", "resources", "components"):
            for entry in k.get(field) or []:
                p = os.path.normpath(os.path.join(d, entry))
                if os.path.isdir(p):
                    todo.append(p)
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("overlay")
    parser.add_argument("--kubectl", default="kubectl")
    parser.add_argument("--yamllint", default="yamllint")
    parser.add_argument("--yamllint-config",
                        default=os.path.join(os.path.dirname(__file__), "..", "..", "deploy",
                                             "k8s", ".yamllint"))
    args = parser.parse_args()
    problems = []

    files = []
    for d in kustomization_dirs(args.overlay):
        files += sorted(os.path.join(d, f) for f in os.listdir(d)
                        if f.endswith((".yaml", ".yml")))
    lint = subprocess.run([args.yamllint, "-f", "parsable", "-c", args.yamllint_config] + files,
                          capture_output=True, text=True, check=False)
    if lint.returncode != 0:
        problems += ["yamllint: " + line for line in (lint.stdout + lint.stderr).splitlines()
                     if line.strip()] or ["yamllint: failed"]

    render = subprocess.run([args.kubectl, "kustomize", args.overlay], capture_output=True,
                            text=True, check=False)
    if render.returncode != 0:
        problems.append("kubectl kustomize failed: " + render.stderr.strip())
    else:
        try:
            docs = [d for d in yaml.safe_load_all(render.stdout) if d is not None]
        except yaml.YAMLError as e:
            docs = None
            problems.append(f"rendered output is not YAML: {e}")
        if docs is not None:
            external = set()
            ext_path = os.path.join(args.overlay, "external-secrets.txt")
            if os.path.exists(ext_path):
                with open(ext_path, encoding="utf-8") as f:
                    external = {line.strip() for line in f
                                if line.strip() and not line.startswith("#")}
            problems += validate(docs, external)
            if not docs:
                problems.append("the overlay renders no objects")
            kinds = sorted({d.get("kind") for d in docs if isinstance(d, dict)})
            print(f"{args.overlay}: {len(docs)} objects ({', '.join(map(str, kinds))})")

    for p in problems:
        print(p)
    if problems:
        print(f"{args.overlay}: {len(problems)} problem(s)")
        return 1
    print(f"{args.overlay}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
