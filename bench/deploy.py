#!/usr/bin/env python3
"""The timing half of bench/deploy.sh (which sets up the fakes and the labs); see there.

usage: deploy.py RUNS REPO WORK
"""
import json
import os
import statistics
import subprocess
import sys
import time

runs, repo, work, release = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
homelab = f"{release}/homelab"
fake_apiserver = f"{release}/fake-apiserver"
eval_delay, ssh_delay = os.environ["EVAL_DELAY"], os.environ["SSH_DELAY"]


class Hosts:
    """One folder of fake host state (FAKE_DIR) and the lab the hosts belong to."""

    def __init__(self, name, root, inventory, env=None):
        self.dir = f"{work}/{name}"
        for sub in ("current", "booted", "kernel-of", "inputs-of"):
            os.makedirs(f"{self.dir}/{sub}", exist_ok=True)
        self.root, self.inventory = root, inventory
        self.env = dict(os.environ, FAKE_DIR=self.dir, FAKE_EVAL_DELAY="0", FAKE_SSH_DELAY="0")
        self.env.update(env or {})

    def run(self, args, noop=False):
        """Wall time of `homelab ARGS` in ms; a failure, or a plan that is not a no-op
        when one is expected, stops the benchmark."""
        cmd = [homelab, "--root", self.root, "--inventory", self.inventory, *args]
        start = time.perf_counter()
        out = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        took = (time.perf_counter() - start) * 1000
        if out.returncode != 0 or (noop and "Nothing to deploy" not in out.stdout):
            sys.exit(f"bench/deploy.sh: `homelab {' '.join(args)}` did not come out as "
                     f"expected:\n{out.stdout}\n{out.stderr}")
        return took

    def settle(self, plan_args):
        """Every host runs the system the fake `nix` builds, which records the lab's
        host input digest (as modules/host-inputs.nix does)."""
        self.run([*plan_args, "--rebuild"])
        for name, host in json.load(open(self.inventory))["hosts"].items():
            with open(f"{self.dir}/current/{host['ssh']}", "w") as f:
                f.write(f"/nix/store/new-nixos-system-{name}\n")

    def count(self, args):
        """SSH round trips and builds of one run of `homelab ARGS`."""
        calls = f"{self.dir}/calls"
        if os.path.exists(calls):
            os.remove(calls)
        self.run(args, noop=True)
        lines = open(calls).read().splitlines()
        return (sum(l.startswith("ssh ") for l in lines),
                sum(l.startswith("nix build ") for l in lines))

    def median(self, args, noop=False):
        self.env.update(FAKE_EVAL_DELAY=eval_delay, FAKE_SSH_DELAY=ssh_delay)
        return statistics.median(self.run(args, noop) for _ in range(runs))


print(f"nix build {eval_delay} s, SSH round trip {ssh_delay} s; median of {runs} runs")

# 1. The reference lab's hosts.
reference = Hosts("reference", repo, f"{work}/reference.json")
plan = ["deploy", "--hosts-only", "--plan"]
reference.settle(plan)
trips, builds = reference.count(plan)
hosts = len(json.load(open(reference.inventory))["hosts"])
noop = reference.median(plan, noop=True)
rebuild = reference.median([*plan, "--rebuild"], noop=True)
print(f"reference lab, {hosts} hosts: deploy --hosts-only --plan")
print(f"  nothing changed: {noop:8.0f} ms  ({trips} SSH round trips, {builds} builds)")
print(f"  --rebuild:       {rebuild:8.0f} ms")
print(f"  ratio: {noop / rebuild:.3f}x; one SSH round trip per host: "
      f"{'met' if trips <= hosts and builds == 0 else 'NOT met'}")

# 2. Hosts and cluster.
kubeconfig = f"{work}/kubeconfig"
server = subprocess.Popen([fake_apiserver, "--latency-ms", "5", "--kubeconfig", kubeconfig],
                          stdout=subprocess.PIPE, text=True)
try:
    server.stdout.readline()
    # gen-lab.py binds `dev` to the context `kind-bench`.
    text = open(kubeconfig).read().replace("fake", "kind-bench")
    open(kubeconfig, "w").write(text)
    generated = Hosts("generated", f"{work}/lab", f"{work}/generated.json",
                      {"KUBECONFIG": kubeconfig})
    generated.run(["apply", "-e", "dev"])
    plan = ["deploy", "-e", "dev", "--plan"]
    generated.settle(["deploy", "--hosts-only", "--plan"])
    trips, builds = generated.count(plan)
    noop = generated.median(plan, noop=True)
    rebuild = generated.median([*plan, "--rebuild"], noop=True)
    cluster = generated.median(["diff", "-e", "dev"])
finally:
    server.terminate()
print("generated lab, 3 hosts and 400 objects on the fake API server (5 ms a request): "
      "deploy -e dev --plan")
print(f"  nothing changed: {noop:8.0f} ms  ({trips} SSH round trips, {builds} builds)")
print(f"  --rebuild:       {rebuild:8.0f} ms")
print(f"  diff -e dev:     {cluster:8.0f} ms (the cluster's no-op path alone; the hosts add "
      f"{noop - cluster:.0f} ms)")
print(f"  ratio: {noop / rebuild:.3f}x")
