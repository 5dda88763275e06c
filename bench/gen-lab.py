#!/usr/bin/env python3
"""Writes a synthetic lab for benchmarks: N hosts and M manifest-only releases with a
web of `needs`, each release with one values file and OBJECTS manifests.

usage: gen-lab.py DIR HOSTS RELEASES [OBJECTS]
"""
import os
import sys


def main() -> None:
    root, hosts, releases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    objects = int(sys.argv[4]) if len(sys.argv) > 4 else 1
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
            with open(f"{d}/manifests/m{o:02d}.yaml.hbs", "w") as f:
                f.write(
                    f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-{o:02d}\n"
                    f"data:\n  domain: {{{{inventory.domain}}}}\n  env: {{{{env}}}}\n  release: {{{{release.name}}}}\n"
                )


if __name__ == "__main__":
    main()
