# Shared by the bench/*.sh scripts; source it, don't run it.

# median_ms RUNS CMD...: the median wall time of CMD in milliseconds over RUNS runs
# (its output discarded; a failing run stops the benchmark).
median_ms() {
  local n=$1; shift
  python3 - "$n" "$@" <<'PY'
import statistics, subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(n):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(times):.2f}")
PY
}
