#!/usr/bin/env python3
"""Offline check of a kustomize overlay: render, lint, validate.

  check_manifests.py [--production] [--kubectl KUBECTL] [--yamllint YAMLLINT] OVERLAY_DIR

1. yamllint (config deploy/k8s/.yamllint) over the YAML files of the overlay and of every
   directory it builds on;
2. `kubectl kustomize OVERLAY_DIR` (offline);
3. every rendered object against a schema of the kinds Linli uses (apiVersion/kind known,
   required fields present, field types right, no unknown fields in the parts we write by hand),
   cert-manager's Issuer and Certificate included;
4. the rules of deploy/k8s (docs/OPERATIONS.md): non-root, read-only root filesystem, ALL
   capabilities dropped, no privilege escalation, requests and limits, GET /healthz probes on
   the metrics port of the Linli services, a grace period longer than drain delay + shutdown
   deadline, selectors that select something, every referenced ConfigMap / Secret /
   ServiceAccount present (a Secret rendered, written by a cert-manager Certificate of the
   rendering, named in the overlay's external-secrets.txt, or optional), Secret volumes at most
   mode 0440, each Linli service's own internal-TLS identity (Secret linli-<service>-internal-tls,
   read-only, LINLI_INTERNAL_{CA,CERT,KEY}_FILE; its Certificate names the service), never
   LINLI_INSECURE_INTERNAL, a default-deny NetworkPolicy in every namespace and network policies
   that allow exactly the calls the services make, backend addresses pointing at headless
   Services with that port, images pinned to a tag, unique names.
5. with --production (the prod overlay): no Secret rendered from the repository, and the gateway
   takes tokens only from an identity provider (LINLI_JWT_PUBLIC_KEYS_ONLY=true, an issuer other
   than the development default).

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


LABEL_SELECTOR = Obj(
    {
        "matchLabels": STRMAP,
        "matchExpressions": List(
            Obj(
                {
                    "key": STR,
                    "operator": T("str", enum={"In", "NotIn", "Exists", "DoesNotExist"}),
                    "values": List(STR),
                },
                required=["key", "operator"],
            )
        ),
    }
)
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
        "httpGet": Obj(
            {
                "path": STR,
                "port": INT_OR_STR,
                "host": STR,
                "scheme": T("str", enum={"HTTP", "HTTPS"}),
                "httpHeaders": List(Obj({"name": STR, "value": STR}, required=["name", "value"])),
            },
            required=["port"],
        ),
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
# cert-manager.io/v1 (https://cert-manager.io/docs/reference/api-docs/).
CERT_USAGES = {
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime",
    "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
    "microsoft sgc", "netscape sgc",
}
ISSUER_REF = Obj({"name": STR, "kind": STR, "group": STR}, required=["name"])

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
    ("cert-manager.io/v1", "Issuer"): Obj(
        {
            "metadata": METADATA,
            "spec": Obj(
                {
                    "selfSigned": Obj({"crlDistributionPoints": List(STR)}),
                    "ca": Obj(
                        {
                            "secretName": STR,
                            "crlDistributionPoints": List(STR),
                            "ocspServers": List(STR),
                            "issuingCertificateURLs": List(STR),
                        },
                        required=["secretName"],
                    ),
                    "acme": Obj({}, open_=True),
                    "vault": Obj({}, open_=True),
                    "venafi": Obj({}, open_=True),
                }
            ),
        },
        required=["spec"],
    ),
    ("cert-manager.io/v1", "Certificate"): Obj(
        {
            "metadata": METADATA,
            "spec": Obj(
                {
                    "secretName": T("str", pattern=DNS_SUBDOMAIN),
                    "issuerRef": ISSUER_REF,
                    "commonName": STR,
                    "dnsNames": List(STR),
                    "ipAddresses": List(STR),
                    "uris": List(STR),
                    "emailAddresses": List(STR),
                    "duration": STR,
                    "renewBefore": STR,
                    "isCA": BOOL,
                    "usages": List(T("str", enum=CERT_USAGES)),
                    "privateKey": Obj(
                        {
                            "algorithm": T("str", enum={"RSA", "ECDSA", "Ed25519"}),
                            "size": INT,
                            "encoding": T("str", enum={"PKCS1", "PKCS8"}),
                            "rotationPolicy": T("str", enum={"Never", "Always"}),
                        }
                    ),
                    "subject": Obj({}, open_=True),
                    "secretTemplate": Obj({"annotations": STRMAP, "labels": STRMAP}),
                    "revisionHistoryLimit": INT,
                    "encodeUsagesInRequest": BOOL,
                },
                required=["secretName", "issuerRef"],
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


def selector_matches(selector, labels):
    """A full LabelSelector (matchLabels and matchExpressions); the empty one matches all."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        op, has = e["operator"], e["key"] in labels
        value, values = labels.get(e["key"]), e.get("values") or []
        if ((op == "In" and not (has and value in values))
                or (op == "NotIn" and has and value in values)
                or (op == "Exists" and not has) or (op == "DoesNotExist" and has)):
            return False
    return True


# The Linli services, and whom each calls on its gRPC port (docs/ARCHITECTURE.md); the backends
# also call MySQL on 3306. The network policies must allow exactly these calls.
CALLS = {
    "linli-gateway": ["linli-registry", "linli-scheduling", "linli-feedback"],
    "linli-scheduling": ["linli-registry"],
    "linli-feedback": ["linli-registry", "linli-scheduling"],
}
BACKENDS = ("linli-registry", "linli-scheduling", "linli-feedback")
MYSQL_PORT = 3306
# The platform identity of every Linli service (mutual TLS inside the cluster): its own Secret
# linli-<service>-internal-tls in the kubernetes.io/tls layout cert-manager writes.
INTERNAL_TLS_FILES = {
    "LINLI_INTERNAL_CA_FILE": "ca.crt",
    "LINLI_INTERNAL_CERT_FILE": "tls.crt",
    "LINLI_INTERNAL_KEY_FILE": "tls.key",
}
CERT_SECRET_KEYS = {"ca.crt", "tls.crt", "tls.key"}
IDENTITY_SECRET = re.compile(r"^(linli-[a-z]+)-internal-tls$")
CLIENT_ONLY_IDENTITIES = {"linli-cli"}


def is_default_deny(policy):
    spec = policy["spec"]
    selector = spec["podSelector"]
    return (not selector.get("matchLabels") and not selector.get("matchExpressions")
            and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or [])
            and not spec.get("ingress") and not spec.get("egress"))


def policy_types(spec):
    types = spec.get("policyTypes")
    if types:
        return set(types)
    return {"Ingress"} | ({"Egress"} if spec.get("egress") else set())


def peer_matches(peer, policy_ns, endpoint):
    """Whether a NetworkPolicy peer covers an endpoint. Endpoints are pods (ns, ns_labels,
    labels) or the outside world (external: an address beyond the cluster, such as the
    production database). ipBlocks are taken to cover outside addresses only: network plugins
    need not apply them to pod addresses."""
    if "ipBlock" in peer:
        return endpoint.get("external", False)
    if endpoint.get("external"):
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], endpoint["ns_labels"]):
            return False
    elif endpoint["ns"] != policy_ns:
        return False
    return selector_matches(peer.get("podSelector") or {}, endpoint["labels"])


def ports_match(rule_ports, port, protocol, port_name):
    if not rule_ports:
        return True
    for p in rule_ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        number = p.get("port")
        if number is None or number == port_name:
            return True
        if isinstance(number, int) and number <= port <= p.get("endPort", number):
            return True
    return False


def traffic_allowed(policies, src, dst, port, protocol="TCP", port_name=None):
    """NetworkPolicy semantics: the source's egress and the destination's ingress must both
    allow it; a pod that no policy of a direction selects is open in that direction. Only pods
    of the rendering (local) are governed by `policies`."""

    def side(direction, subject, peer):
        relevant = [(ns, p["spec"]) for ns, p in policies
                    if ns == subject["ns"] and direction in policy_types(p["spec"])
                    and selector_matches(p["spec"]["podSelector"], subject["labels"])]
        if not relevant:
            return True
        field, peers_field = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        for ns, spec in relevant:
            for rule in spec.get(field) or []:
                peers = rule.get(peers_field)
                if peers and not any(peer_matches(x, ns, peer) for x in peers):
                    continue
                if ports_match(rule.get("ports"), port, protocol, port_name):
                    return True
        return False

    return ((not src.get("local") or side("Egress", src, dst))
            and (not dst.get("local") or side("Ingress", dst, src)))


def validate(docs, external_secrets, production=False):
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

    # Secrets that cert-manager writes from the Certificates of this rendering.
    certificates = {}
    for (kind, ns, name), obj in objects.items():
        if kind != "Certificate":
            continue
        secret_name = obj["spec"]["secretName"]
        if (ns, secret_name) in certificates:
            errors.append(f"Certificate/{name}: Secret {secret_name} is also written by "
                          f"Certificate/{certificates[(ns, secret_name)]['metadata']['name']}")
        if find("Secret", ns, secret_name) is not None:
            errors.append(f"Certificate/{name}: Secret {secret_name} is rendered as well; "
                          f"cert-manager would overwrite it")
        certificates[(ns, secret_name)] = obj

    def secret_known(ns, name):
        return find("Secret", ns, name) is not None or (ns, name) in certificates

    def secret_ok(ns, name, key, optional, where):
        secret = find("Secret", ns, name)
        if secret is None:
            if (ns, name) in certificates:
                if key is not None and key not in CERT_SECRET_KEYS:
                    errors.append(f"{where}: Secret {name} (from a Certificate) has no key {key}")
                return
            if not optional and name not in external_secrets:
                errors.append(f"{where}: Secret {name} is neither rendered, written by a "
                              f"Certificate, optional, nor listed in external-secrets.txt")
            return
        if key is not None:
            keys = set((secret.get("data") or {})) | set((secret.get("stringData") or {}))
            if key not in keys:
                errors.append(f"{where}: Secret {name} has no key {key}")

    def check_certificate(ns, name, spec):
        check_certificate_fields(name, spec, errors)
        ref = spec["issuerRef"]
        # A ClusterIssuer (or another group's issuer) lives outside the rendering.
        if (ref.get("group", "cert-manager.io") == "cert-manager.io"
                and ref.get("kind", "Issuer") == "Issuer"
                and find("Issuer", ns, ref["name"]) is None):
            errors.append(f"Certificate/{name}: issuerRef Issuer {ref['name']} is not rendered")

    def configmap_ok(ns, name, key, optional, where):
        if (ns, name) not in config_data:
            if not optional:
                errors.append(f"{where}: ConfigMap {name} does not exist")
            return
        if key is not None and key not in config_data[(ns, name)]:
            errors.append(f"{where}: ConfigMap {name} has no key {key}")

    linli_env = {}  # (namespace, Deployment) -> (where, effective environment) of Linli services
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
                vs, vw = v["secret"], f"{where}: volume {v['name']}"
                secret_ok(ns, vs["secretName"], None, vs.get("optional", False), vw)
                if secret_known(ns, vs["secretName"]):
                    for item in vs.get("items") or []:
                        secret_ok(ns, vs["secretName"], item["key"], False, vw)
                # Secret files: readable by the owner and the pod's fsGroup at most.
                for mode in [vs.get("defaultMode", 0o644)] + [i["mode"] for i in
                                                              vs.get("items") or [] if "mode" in i]:
                    if mode & ~0o440:
                        errors.append(f"{vw}: Secret file mode {mode:04o} allows more than "
                                      f"owner/group read (0440)")
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
            if ("LINLI_INSECURE_INTERNAL" in [v["name"] for v in c.get("env") or []]
                    or any("insecure_internal" in a for a in
                           (c.get("args") or []) + (c.get("command") or []))):
                errors.append(f"{cw}: sets LINLI_INSECURE_INTERNAL / --insecure_internal "
                              f"(for tests only: the manifests never turn mutual TLS off)")
            ports = {p["containerPort"] for p in c.get("ports") or []}
            port_names = {p["name"]: p["containerPort"] for p in c.get("ports") or []
                          if "name" in p}
            is_linli = kind == "Deployment" and re.search(r"(^|/)linli-[a-z]+(:|@|$)", image)
            if not is_linli:
                continue
            linli_env[(ns, name)] = (cw, env)
            # The Linli services: probes GET /healthz on the metrics port. The backends' gRPC
            # port takes mutual TLS only, which the kubelet's grpc probe cannot speak; the gateway
            # is probed the same way.
            listen = env.get("LINLI_METRICS_LISTEN", "")
            metrics_port = int(listen.rsplit(":", 1)[1]) if re.match(r"^.*:[0-9]+$", listen) \
                else None
            for probe_name in ("readinessProbe", "livenessProbe", "startupProbe"):
                probe = c.get(probe_name)
                pw = f"{cw}: {probe_name}"
                if probe is None:
                    if probe_name != "startupProbe":
                        errors.append(f"{pw} missing")
                    continue
                http = probe.get("httpGet")
                if http is None:
                    errors.append(f"{pw} must be httpGet /healthz on the metrics port (a grpc "
                                  f"probe cannot present a client certificate)")
                    continue
                port = port_names.get(http["port"], http["port"])
                if http.get("path") != "/healthz":
                    errors.append(f"{pw} path must be /healthz, not {http.get('path')}")
                if http.get("scheme", "HTTP") != "HTTP":
                    errors.append(f"{pw} scheme must be HTTP (the metrics port is plaintext)")
                if port not in ports:
                    errors.append(f"{pw} port {http['port']} is not a containerPort")
                elif metrics_port is None:
                    errors.append(f"{pw}: LINLI_METRICS_LISTEN is not set, nothing serves "
                                  f"/healthz")
                elif port != metrics_port:
                    errors.append(f"{pw} port {http['port']} is not the metrics port "
                                  f"{metrics_port} (LINLI_METRICS_LISTEN)")
            # The service's own platform identity, read-only from linli-<service>-internal-tls.
            own = f"{name}-internal-tls"
            mounts = c.get("volumeMounts") or []
            identity_mounts = {}
            for var, key in INTERNAL_TLS_FILES.items():
                path, vw = env.get(var), f"{cw}: {var}"
                if not path:
                    errors.append(f"{vw} is not set (the service's internal TLS identity, "
                                  f"Secret {own})")
                    continue
                inside = [m for m in mounts
                          if path.startswith(m["mountPath"].rstrip("/") + "/")]
                mount = max(inside, key=lambda m: len(m["mountPath"]), default=None)
                volume = volumes.get(mount["name"]) if mount else None
                if volume is None or "secret" not in volume:
                    errors.append(f"{vw} {path} is not in a mounted Secret")
                    continue
                vs = volume["secret"]
                identity_mounts[mount["name"]] = (mount, vs)
                relative = path[len(mount["mountPath"].rstrip("/")) + 1:]
                items = vs.get("items")
                found = ({i["path"]: i["key"] for i in items}.get(relative) if items
                         else relative)
                if found != key:
                    errors.append(f"{vw} {path} is not the key {key} of Secret "
                                  f"{vs['secretName']} (kubernetes.io/tls layout)")
                elif secret_known(ns, vs["secretName"]):  # a missing one is reported above
                    secret_ok(ns, vs["secretName"], key, False, vw)
            for mount, vs in identity_mounts.values():
                mw = f"{cw}: volumeMount {mount['name']}"
                if vs["secretName"] != own:
                    errors.append(f"{mw}: the internal TLS identity comes from Secret "
                                  f"{vs['secretName']}, not from the service's own {own}")
                if not mount.get("readOnly"):
                    errors.append(f"{mw} must be readOnly")
                if vs.get("optional"):
                    errors.append(f"{mw}: the identity Secret must not be optional")
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
            selector = spec["podSelector"]
            if (selector.get("matchLabels") or selector.get("matchExpressions")) and not any(
                    selector_matches(selector, labels) for _, labels, _ in pod_labels(ns)):
                errors.append(f"{where}: podSelector {selector} matches no pods")
        if kind == "Issuer":
            types = [t for t in ("selfSigned", "ca", "acme", "vault", "venafi") if t in spec]
            if len(types) != 1:
                errors.append(f"{where}: set exactly one issuer type, not {types}")
            if "ca" in spec:
                ca_secret = spec["ca"]["secretName"]
                secret_ok(ns, ca_secret, None, False, where)
                ca_cert = certificates.get((ns, ca_secret))
                if ca_cert is not None and not ca_cert["spec"].get("isCA"):
                    errors.append(f"{where}: Secret {ca_secret} comes from Certificate/"
                                  f"{ca_cert['metadata']['name']}, which is not isCA")
        if kind == "Certificate":
            check_certificate(ns, name, spec)

    # Nothing turns the services' mutual TLS off (a test-only escape).
    for (ns, cm), data in config_data.items():
        if "LINLI_INSECURE_INTERNAL" in data:
            errors.append(f"ConfigMap/{cm}: sets LINLI_INSECURE_INTERNAL (for tests only: the "
                          f"manifests never turn mutual TLS off)")

    check_network_policies(objects, workloads, errors)

    if production:
        for (kind, ns, name), obj in objects.items():
            if kind == "Secret":
                errors.append(f"Secret/{name}: production renders no Secret from the repository "
                              f"(create it outside, list it in external-secrets.txt)")
        gateways = [v for (ns, name), v in linli_env.items() if name == "linli-gateway"]
        if not gateways:
            errors.append("production: no Deployment linli-gateway")
        for cw, env in gateways:
            if env.get("LINLI_JWT_PUBLIC_KEYS_ONLY") != "true":
                errors.append(f"{cw}: LINLI_JWT_PUBLIC_KEYS_ONLY must be true in production (no "
                              f"HMAC or private key may verify tokens)")
            if env.get("LINLI_JWT_ISSUER", "linli-dev") == "linli-dev":
                errors.append(f"{cw}: LINLI_JWT_ISSUER must name the identity provider in "
                              f"production, not the development default linli-dev")
    return errors


def check_certificate_fields(name, spec, errors):
    """A cert-manager Certificate: issuable, a sane lifetime, and for a platform identity
    (Secret linli-<name>-internal-tls) the contract of docs/SECURITY.md."""
    where = f"Certificate/{name}"
    if not any(spec.get(f) for f in ("commonName", "dnsNames", "uris", "ipAddresses",
                                     "emailAddresses")):
        errors.append(f"{where}: names no subject (commonName, dnsNames, ...)")
    duration = parse_duration(spec.get("duration", "2160h"))
    renew = parse_duration(spec.get("renewBefore", "0s"))
    if duration is None or renew is None:
        errors.append(f"{where}: duration / renewBefore malformed")
    elif not renew < duration:
        errors.append(f"{where}: renewBefore must be shorter than duration")
    m = IDENTITY_SECRET.match(spec["secretName"])
    if m is None or spec.get("isCA"):
        return
    identity = m.group(1)
    if spec.get("commonName") != identity:
        errors.append(f"{where}: commonName {spec.get('commonName')!r} must be {identity} (the "
                      f"identity of Secret {spec['secretName']})")
    needed = ["client auth"]
    if identity not in CLIENT_ONLY_IDENTITIES:
        needed.insert(0, "server auth")
        if identity not in (spec.get("dnsNames") or []):
            errors.append(f"{where}: dnsNames must contain {identity} (clients verify the "
                          f"server by that name)")
    usages = spec.get("usages") or ["digital signature", "key encipherment"]
    for usage in needed:
        if usage not in usages:
            errors.append(f"{where}: usages must include {usage}")
    key = spec.get("privateKey") or {}
    if key.get("algorithm") != "ECDSA" or key.get("size") != 256:
        errors.append(f"{where}: privateKey must be ECDSA size 256 (EC P-256)")


def check_network_policies(objects, workloads, errors):
    """Every namespace with workloads denies by default, and its policies allow exactly the
    calls of CALLS (plus DNS, scraping from the namespace monitoring, public access to the
    gateway, and MySQL for the backends) among the pods of the rendering."""
    policies = [(ns, o) for (kind, ns, _), o in objects.items() if kind == "NetworkPolicy"]
    namespace_labels = {name: (o["metadata"].get("labels") or {})
                        for (kind, _, name), o in objects.items() if kind == "Namespace"}

    def ns_labels(ns):
        return {**namespace_labels.get(ns, {}), "kubernetes.io/metadata.name": ns}

    for ns in sorted({k[1] for k, _ in workloads}):
        where = f"network policies ({ns})"
        if not any(is_default_deny(p) for pns, p in policies if pns == ns):
            errors.append(f"namespace {ns}: no default-deny NetworkPolicy (podSelector {{}}, "
                          f"policyTypes Ingress and Egress, no rules)")
        pods = []
        for (kind, pns, name), o in workloads:
            if pns != ns:
                continue
            template = o["spec"]["template"]
            labels = (template.get("metadata") or {}).get("labels") or {}
            ports = [p for c in template["spec"]["containers"] for p in c.get("ports") or []
                     if p.get("protocol", "TCP") == "TCP"]
            pods.append({"ns": ns, "ns_labels": ns_labels(ns), "labels": labels, "local": True,
                         "name": labels.get("app.kubernetes.io/name", name), "ports": ports})
        stranger = {"ns": "elsewhere", "ns_labels": ns_labels("elsewhere"), "labels": {}}
        monitoring = {"ns": "monitoring", "ns_labels": ns_labels("monitoring"), "labels": {}}
        dns = {"ns": "kube-system", "ns_labels": ns_labels("kube-system"),
               "labels": {"k8s-app": "kube-dns"}, "name": "the cluster DNS"}
        outside = {"external": True}

        def expect(src, dst, port, wanted, what, protocol="TCP", port_name=None):
            if traffic_allowed(policies, src, dst, port, protocol, port_name) != wanted:
                errors.append(f"{where}: {what} {'cannot' if wanted else 'may'} reach "
                              f"{dst.get('name', 'an address outside the cluster')}:{port}"
                              + ("" if wanted else " (never needed)"))

        for dst in pods:
            for p in dst["ports"]:
                port, pname = p["containerPort"], p.get("name")
                public = dst["name"] == "linli-gateway" and pname in ("grpc", "http")
                expect(stranger, dst, port, public, "a pod of another namespace",
                       port_name=pname)
                if dst["name"].startswith("linli-") and dst["name"] != "linli-mysql":
                    expect(monitoring, dst, port, pname == "metrics" or public,
                           "the namespace monitoring", port_name=pname)
                for src in pods:
                    if src is dst:
                        continue
                    wanted = ((dst["name"] in CALLS.get(src["name"], []) and pname == "grpc")
                              or (dst["name"] == "linli-mysql" and src["name"] in BACKENDS
                                  and port == MYSQL_PORT))
                    expect(src, dst, port, wanted, src["name"], port_name=pname)
        for src in pods:
            expect(src, dns, 53, True, src["name"], protocol="UDP")
            if src["name"] in BACKENDS or src["name"] == "linli-gateway":
                expect(src, outside, MYSQL_PORT, src["name"] in BACKENDS, src["name"])


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
    parser.add_argument("--production", action="store_true",
                        help="also the rules of a production overlay (tokens, no Secrets)")
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
            problems += validate(docs, external, args.production)
            if not docs:
                problems.append("the overlay renders no objects")
            kinds = sorted({str(d.get("kind")) for d in docs if isinstance(d, dict)})
            print(f"{args.overlay}: {len(docs)} objects ({', '.join(kinds)})")

    for p in problems:
        print(p)
    if problems:
        print(f"{args.overlay}: {len(problems)} problem(s)")
        return 1
    print(f"{args.overlay}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
