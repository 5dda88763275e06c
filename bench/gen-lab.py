#!/usr/bin/env python3
"""Writes a synthetic lab for benchmarks: N hosts and M manifest-only releases with a
web of `needs`, each release with one values file and OBJECTS manifests.

usage: gen-lab.py DIR HOSTS RELEASES [OBJECTS] [--kinds K] [--independent]

--kinds K      cycle each release's manifests through K kinds (default 1: ConfigMaps
               only): 13 built-in kinds, then CustomResourceDefinition (a `crds`
               release defines the custom kinds), then up to 16 custom kinds.
--independent  no `needs` between the releases (one apply stage for all of them).
"""
import argparse
import os


BUILTIN = [
    ("v1", "ConfigMap", "data:\n  domain: {{inventory.domain}}\n  env: {{env}}\n  release: {{release.name}}\n"),
    ("v1", "Secret", "stringData:\n  token: not-a-secret-{{release.name}}\n"),
    ("v1", "Service", "spec:\n  selector:\n    app: NAME\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n"),
    ("v1", "ServiceAccount", ""),
    ("apps/v1", "Deployment", "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: NAME\n  template:\n    metadata:\n      labels:\n        app: NAME\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n"),
    ("apps/v1", "StatefulSet", "spec:\n  replicas: 1\n  serviceName: NAME\n  selector:\n    matchLabels:\n      app: NAME\n  template:\n    metadata:\n      labels:\n        app: NAME\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n"),
    ("apps/v1", "DaemonSet", "spec:\n  selector:\n    matchLabels:\n      app: NAME\n  template:\n    metadata:\n      labels:\n        app: NAME\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n"),
    ("batch/v1", "Job", "spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: app\n          image: busybox:1.36\n"),
    ("v1", "PersistentVolumeClaim", "spec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n"),
    ("rbac.authorization.k8s.io/v1", "Role", "rules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n    verbs: [get]\n"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: NAME\nsubjects:\n  - kind: ServiceAccount\n    name: default\n"),
    ("networking.k8s.io/v1", "Ingress", "spec:\n  rules:\n    - host: NAME.{{inventory.domain}}\n      http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: NAME\n                port:\n                  number: 80\n"),
    ("coordination.k8s.io/v1", "Lease", "spec:\n  holderIdentity: NAME\n"),
]
CUSTOM_GROUP = "bench.example.com"


def kinds_for(count: int):
    """(apiVersion, kind, body) for the first `count` kinds; CRDs are kind 14."""
    kinds = BUILTIN[: min(count, len(BUILTIN))]
    customs = max(0, count - len(BUILTIN) - 1)
    kinds += [(f"{CUSTOM_GROUP}/v1", f"Gadget{c:02d}", "spec:\n  size: 1\n") for c in range(customs)]
    return kinds, customs


def write_crds(root: str, customs: int) -> None:
    d = f"{root}/releases/crds"
    os.makedirs(f"{d}/manifests", exist_ok=True)
    manifests = []
    for c in range(customs):
        kind = f"Gadget{c:02d}"
        plural = kind.lower() + "s"
        manifests.append(f'"manifests/{plural}.yaml"')
        with open(f"{d}/manifests/{plural}.yaml", "w") as f:
            f.write(
                f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                f"metadata:\n  name: {plural}.{CUSTOM_GROUP}\nspec:\n  group: {CUSTOM_GROUP}\n"
                f"  scope: Namespaced\n  names:\n    kind: {kind}\n    plural: {plural}\n"
                f"    singular: {kind.lower()}\n    listKind: {kind}List\n  versions:\n"
                f"    - name: v1\n      served: true\n      storage: true\n      schema:\n"
                f"        openAPIV3Schema:\n          type: object\n"
                f"          x-kubernetes-preserve-unknown-fields: true\n"
            )
    with open(f"{d}/release.toml", "w") as f:
        f.write(f'name = "crds"\nnamespace = "crds"\nmanifests = [{", ".join(manifests)}]\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root")
    parser.add_argument("hosts", type=int)
    parser.add_argument("releases", type=int)
    parser.add_argument("objects", type=int, nargs="?", default=1)
    parser.add_argument("--kinds", type=int, default=1)
    parser.add_argument("--independent", action="store_true")
    args = parser.parse_args()
    root, hosts, releases, objects = args.root, args.hosts, args.releases, args.objects
    kinds, customs = kinds_for(args.kinds)
    if customs:
        write_crds(root, customs)
    os.makedirs(f"{root}/hosts", exist_ok=True)
    os.makedirs(f"{root}/releases", exist_ok=True)
    host_lines = []
    for i in range(hosts):
        roles = ['"worker"']
        if i == 0:
            roles = ['"control-plane"', '"dns"']
        elif i == 1:
            roles = ['"worker"', '"ingress"']
        host_lines.append(
            f"""    node{i:03d} = {{
      system = "x86_64-linux";
      roles = [ {" ".join(roles)} ];
      lanAddress = "192.168.{i // 250}.{i % 250 + 1}";
      tailscaleAddress = "100.101.{i // 250}.{i % 250 + 1}";
      labels = {{ role = "application"; "homelab.dev/rack" = "r{i % 4}"; }};
      taints = [ ];
      disks = [ ];
      ssh = "root@node{i:03d}";
    }};"""
        )
    with open(f"{root}/hosts/inventory.nix", "w") as f:
        f.write(
            """{
  domain = "bench.example";
  cluster = {
    name = "bench";
    kubernetesVersion = "1.34.1";
    lanCidr = "192.168.0.0/16";
    tailscaleCidr = "100.64.0.0/10";
    podCidr = "10.42.0.0/16";
    serviceCidr = "10.43.0.0/16";
    apiPort = 6443;
    dnsDomain = "cluster.local";
    upstreamDns = [ "1.1.1.1" ];
  };
  hosts = {
"""
            + "\n".join(host_lines)
            + "\n  };\n}\n"
        )
    with open(f"{root}/releases/environments.toml", "w") as f:
        f.write('[environments.dev]\ncontext = "kind-bench"\nsecrets = "secrets/dev.yaml"\n')
        f.write('[environments.prod]\ncontext = "bench"\nsecrets = "secrets/prod.yaml"\n')
    for r in range(releases):
        name = f"app{r:04d}"
        d = f"{root}/releases/{name}"
        os.makedirs(f"{d}/manifests", exist_ok=True)
        needs = [f'"app{n:04d}"' for n in (r - 1, r // 2, r // 3) if 0 <= n < r]
        if args.independent:
            needs = []
        manifests = [f'"manifests/m{o:02d}.yaml.hbs"' for o in range(objects)]
        entry = ""
        if r == 0:
            entry = "\n[entrypoints.web]\nnode_port = 30080\nlisten = 80\n"
        with open(f"{d}/release.toml", "w") as f:
            f.write(
                f'name = "{name}"\nnamespace = "ns{r % 50:02d}"\n'
                f"needs = [{', '.join(sorted(set(needs)))}]\n"
                f'values = ["values.yaml"]\nmanifests = [{", ".join(manifests)}]\n'
                f'\n[overlays.prod]\nvalues = ["values.yaml"]\n{entry}'
            )
        with open(f"{d}/values.yaml", "w") as f:
            f.write(f"replicas: {1 + r % 3}\n")
        for o in range(objects):
            api_version, kind, body = kinds[o % len(kinds)]
            obj = f"{name}-{o:02d}"
            with open(f"{d}/manifests/m{o:02d}.yaml.hbs", "w") as f:
                f.write(
                    f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {obj}\n"
                    + body.replace("NAME", obj)
                )


if __name__ == "__main__":
    main()
