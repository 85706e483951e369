"""Writes docs/benchmarks.md and its plots (docs/bench/*.png, gnuplot) from bench/results/*.csv.

    report.py RESULTS_DIR DOCS_DIR
"""
import csv
import datetime
import math
import os
import subprocess
import sys

results, docs = sys.argv[1], sys.argv[2]
plots = os.path.join(docs, "bench")
os.makedirs(plots, exist_ok=True)


def rows(name):
    with open(os.path.join(results, name)) as f:
        return list(csv.DictReader(f))


def gnuplot(script, data):
    """Runs a gnuplot script; `data` maps a file name in plots/ to its rows (lists)."""
    for name, lines in data.items():
        with open(os.path.join(plots, name), "w") as f:
            f.write("\n".join(" ".join(str(v) for v in line) for line in lines) + "\n")
    subprocess.run(["gnuplot"], input=script, text=True, cwd=plots, check=True)


HEAD = 'set terminal pngcairo size 900,480 font "sans,11"\nset grid\nset key outside right\n'
ok = lambda cond: "**met**" if cond else "**not met**"
out = []
w = out.append
machine = open(os.path.join(results, "machine.txt")).read().split("\n")
w("# flocker benchmarks\n")
w(f"Taken by `bash bench/run.sh` on {datetime.date.today()}: {machine[1].strip()} cores,{machine[2]}, "
  f"{machine[3]}, kernel {machine[0]}, {machine[4]}, {machine[5]}. **Absolute numbers are specific "
  "to this machine**; the ratios to the direct engine are what carries over. Every figure was "
  "taken for every target in the same run, targets interleaved round by round; a figure is the "
  "median of the rounds. The load generator (wrk, one thread), the engine, the proxies and the "
  "decider all share this machine's cores, so a proxy's CPU is CPU the engine does not get "
  "(layout *shared*); where the machine has two cores or more, pass-through and streaming are "
  "taken again with the engine alone on a core of its own (layout *own-core*), as when it is "
  "another machine.\n")
w("Targets: **direct** is the dockerd itself; **flocker** is `flocker-proxy --decider` (the "
  "flock, here of one host); **flocker-engine** is `flocker-proxy --engine` (pure pass-through); "
  "**haproxy-1t/2t** is HAProxy 2.6 in `mode http` with 1 or 2 threads, same engine. flocker "
  "runs with one I/O thread (`--threads 1`): on 2 shared cores it beats two threads, which cost a "
  "context switch per request.\n")

# ---- 1. pass-through
pt = rows("passthrough.csv")
by = {(r["layout"], r["endpoint"], int(r["concurrency"]), r["target"]): r for r in pt}
targets = ["direct", "flocker", "flocker-engine", "haproxy-1t", "haproxy-2t"]
own_core = any(r["layout"] == "own-core" for r in pt)


def passthrough_table(lay, ep, names):
    w("| concurrency | target | rps | × direct | p50 µs | p99 µs | CPU µs per request |\n"
      "| --- | --- | --- | --- | --- | --- | --- |")
    for c in (1, 16, 64):
        d = float(by[(lay, ep, c, "direct")]["rps"])
        for t in names:
            r = by[(lay, ep, c, t)]
            w(f"| {c} | {t} | {r['rps']} | {float(r['rps']) / d:.2f} | {r['p50_us']} | {r['p99_us']} "
              f"| {r['cpu_us_per_request']} |")
    w("")
    name = f"passthrough-{ep}" + ("" if lay == "shared" else f"-{lay}")
    gnuplot(HEAD + f'set output "{name}.png"\nset title "{ep}, {lay}: requests per second"\n'
            'set xlabel "concurrency"\nset ylabel "rps"\nset yrange [0:*]\nset logscale x 2\nset xtics (1,16,64)\nset xrange [0.8:80]\n'
            "plot " + ", ".join(f'"{name}.dat" using 1:{i + 2} with linespoints lw 2 title "{t}"'
                                for i, t in enumerate(names)) + "\n",
            {f"{name}.dat": [[c] + [by[(lay, ep, c, t)]["rps"] for t in names] for c in (1, 16, 64)]})
    w(f"![{ep}, {lay}](bench/{name}.png)\n")


w("## 1. Pass-through\n")
w("*CPU µs per request* is the CPU time (user + system, all threads) the target's own process "
  "used during the run, divided by the requests served: the engine's for direct, the proxy's for "
  "the others. It is the proxy's cost that does not depend on how the cores are shared.\n")
for ep, title in (("inspect", "`GET /containers/{id}/json`"), ("ping", "`GET /_ping`")):
    w(f"### {title}, cores shared\n")
    if ep == "ping":
        w("In a flock, `/_ping` is answered by flocker itself (it speaks for every host), so the "
          "flocker row is not a pass-through; flocker-engine's is.\n")
    passthrough_table("shared", ep, targets)
if own_core:
    w("### `GET /containers/{id}/json`, the engine on its own core\n")
    w("The engine (dockerd and its containerd) pinned alone to the last core; wrk and the proxies "
      "to the others (`taskset`). The direct engine then gets the same CPU whichever way it is "
      "reached, as when the engine is another machine: the figure is what the extra hop costs the "
      "engine's clients, not CPU taken from the engine. HAProxy with one thread (the proxies have "
      "one core).\n")
    passthrough_table("own-core", "inspect", targets[:4])

# ---- 2. streaming
strows = rows("streaming.csv")
st = {(r["layout"], r["direction"], r["target"]): float(r["mb_per_s"]) for r in strows}
stcpu = {(r["layout"], r["direction"], r["target"]): r["cpu_s_per_gib"] for r in strows}
layouts = [l for l in ("shared", "own-core") if (l, "export", "direct") in st]
mem = dict(line.strip().split(",") for line in open(os.path.join(results, "streaming-memory.csv")))
w("## 2. Streaming, 1 GiB each way\n")
w("`docker export` of a container holding a 1 GiB file (download) and `docker cp` of a 1 GiB "
  "file into a container (upload), through each target, in both layouts of section 1 (the "
  "docker CLI runs where wrk did). *CPU s/GiB* is the proxy's own CPU time per GiB relayed.\n")
w("| layout | direction | direct MB/s | flocker MB/s | × direct | flocker CPU s/GiB | haproxy-1t MB/s | × direct | haproxy CPU s/GiB |\n"
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for lay in layouts:
    for d in ("export", "upload"):
        k = lambda t: (lay, d, t)
        w(f"| {lay} | {d} | {st[k('direct')]:.0f} | {st[k('flocker')]:.0f} | {st[k('flocker')] / st[k('direct')]:.2f} "
          f"| {stcpu[k('flocker')]} | {st[k('haproxy-1t')]:.0f} | {st[k('haproxy-1t')] / st[k('direct')]:.2f} "
          f"| {stcpu[k('haproxy-1t')]} |")
w(f"\nflocker's peak RSS over the whole run (VmHWM, which includes ~10 MiB of shared library "
  f"text): **{int(mem['flocker_peak_vmhwm_kib']) / 1024:.1f} MiB**. The 1 GiB component tests "
  "(`proxy_memory_tests`) measure the streaming heap itself: under 200 KiB.\n")
gnuplot(HEAD + 'set output "streaming.png"\nset title "1 GiB streamed: MB/s"\nset style data histograms\n'
        'set style fill solid 0.8\nset ylabel "MB/s"\nset yrange [0:*]\nset xtics noenhanced\n'
        'plot "st.dat" using 2:xtic(1) title "direct", "" using 3 title "flocker", "" using 4 title "haproxy-1t"\n',
        {"st.dat": [[f"{d},{lay}", st[(lay, d, "direct")], st[(lay, d, "flocker")], st[(lay, d, "haproxy-1t")]]
                    for lay in layouts for d in ("export", "upload")]})
w("![streaming](bench/streaming.png)\n")

# ---- 3. fan-out
fo = rows("fanout.csv")
w("## 3. Fan-out: `GET /containers/json?all=1` over N engines, 100 containers each\n")
w("Simulated engines (`flocker-fake-flock`: in-process fake engines serving their lists from "
  "memory) behind flocker with the reference decider; p50/p99 at concurrency 1, rps at 4.\n")
w("| engines | containers | p50 ms | p99 ms | rps |\n| --- | --- | --- | --- | --- |")
for r in fo:
    w(f"| {r['engines']} | {int(r['engines']) * 100} | {int(r['p50_us']) / 1000:.2f} | {int(r['p99_us']) / 1000:.2f} | {r['rps']} |")
gnuplot(HEAD + 'set output "fanout.png"\nset title "docker ps -a over N engines (100 containers each)"\n'
        'set xlabel "engines"\nset ylabel "ms"\nset logscale x 2\n'
        'plot "fo.dat" using 1:2 with linespoints lw 2 title "p50", "" using 1:3 with linespoints lw 2 title "p99", '
        '20 with lines dt 2 title "p50 target (64 engines)"\n',
        {"fo.dat": [[r["engines"], int(r["p50_us"]) / 1000, int(r["p99_us"]) / 1000] for r in fo]})
w("\n![fan-out](bench/fanout.png)\n")

# ---- 4. connections
cn = rows("connections.csv")
w("## 4. Connections: 5000 idle `GET /events` streams held open\n")
w("Anonymous RSS (RssAnon) of the proxy before and after opening the streams, divided by their "
  "number; `/_ping` latency measured while they are open (and, for comparison, before).\n")
w("| proxy | streams | bytes per stream | /_ping p50 µs | /_ping p99 µs | p99 µs, no streams |\n| --- | --- | --- | --- | --- | --- |")
for r in cn:
    w(f"| {r['mode']} | {r['streams']} | {r['bytes_per_stream']} | {r['ping_p50_us']} | {r['ping_p99_us']} | {r['ping_p99_idle_us']} |")
w("\nflocker-engine's `/_ping` goes through to a dockerd that holds 5000 event subscribers itself; "
  "the flock answers `/_ping` on its own.\n")

# ---- 5. decisions
dc = {r["what"]: r for r in rows("decisions.csv")}
w("## 5. Decisions\n")
w("| measurement | p50 µs | p99 µs |\n| --- | --- | --- |")
w(f"| `POST /containers/create`, direct | {dc['create-direct']['p50_us']} | {dc['create-direct']['p99_us']} |")
w(f"| `POST /containers/create`, through flocker (Route, RemapContainer skipped: the reference decider has no opinion) | {dc['create-flocker']['p50_us']} | {dc['create-flocker']['p99_us']} |")
w(f"| Route + RemapContainer on their own (the proxy's decider client, loopback gRPC, a decider implementing both) | {dc['route+remap']['p50_us']} | {dc['route+remap']['p99_us']} |")
w(f"| the same two calls with gRPC's own blocking C++ client (the floor for two unary calls on this machine) | {dc['route+remap-grpc-blocking']['p50_us']} | {dc['route+remap-grpc-blocking']['p99_us']} |")
w("")
wakeup_file = os.path.join(results, "wakeup.csv")
if os.path.exists(wakeup_file):
    w(f"A gRPC call crosses threads several times each way (the caller, gRPC's pollers, the "
      f"server's thread); on this machine a round trip of two wakeups between processes "
      f"(`perf bench sched pipe`) takes **{open(wakeup_file).read().strip()} µs**.\n")

# ---- 6. image copy
if os.path.exists(os.path.join(results, "image-copy.csv")):
    w("## 6. Image copy: a create placed on a host without its image\n")
    w("Two engines; a container create sent (by a label-placing decider) to e2 while only e1 has "
      "its image. The proxy streams `GET /images/{name}/get` from e1 into `POST /images/load` on "
      "e2, then creates: *create, copying* is that whole create as the CLI sees it, *create, "
      "image present* the same create once e2 has the image; the difference is what the copy "
      "adds. For reference, the CLI piping `docker save` on e1 into `docker load` on e2 directly. "
      "MB/s are of the `docker save` archive.\n")
    w("| image | archive MB | create, copying ms | create, image present ms | added ms | copy MB/s | CLI save\\|load MB/s |\n"
      "| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows("image-copy.csv"):
        w(f"| {r['image']} | {r['archive_mb']} | {r['create_copy_ms']} | {r['create_present_ms']} | {r['added_ms']} "
          f"| {r['copy_mb_s']} | {r['direct_pipe_mb_s']} |")
    w("")

# ---- targets
def down(x):
    """Two decimals, rounded down: a ratio shown as 0.95 has reached 0.95."""
    return f"{math.floor(x * 100) / 100:.2f}"


def ratio(lay, c, t):
    return float(by[(lay, "inspect", c, t)]["rps"]) / float(by[(lay, "inspect", c, "direct")]["rps"])


best_ha64 = max(float(by[("shared", "inspect", 64, t)]["rps"]) for t in ("haproxy-1t", "haproxy-2t"))
fe64 = float(by[("shared", "inspect", 64, "flocker-engine")]["rps"])
fo64 = next(r for r in fo if r["engines"] == "64")
worst = {lay: min(st[(lay, d, "flocker")] / st[(lay, d, "direct")] for d in ("export", "upload")) for lay in layouts}
# ---- 7. merged reads from memory
mr = {}
if os.path.exists(os.path.join(results, "merged-reads.csv")):
    mr = {r["metric"]: r["value"] for r in rows("merged-reads.csv")}
if mr:
    w("## 7. Merged reads from memory\n")
    w("`docker ps` and the counts of `docker info` are answered from the object model: each container's "
      "list entry and inspect, kept current by the engines' events, Status rendered at read time. "
      "*memory* is that; *live* is the same request with `Cache-Control: no-cache`, the fan-out to every "
      "engine, measured beside it.\n")
    w("| figure | value |\n| --- | --- |")
    w(f"| `docker ps`, 3 real engines × 10 containers, wrk -c16: one engine directly | {mr['ps3_direct_rps']} rps |")
    w(f"| the same through flocker, from memory | {mr['ps3_memory_rps']} rps ({mr['ps3_ratio']}× the engine) |")
    w(f"| the same through flocker, live fan-out | {mr['ps3_live_rps']} rps |")
    w(f"| freshness of changes made directly on an engine ({mr['fresh_changes']} changes) | p50 {mr['fresh_p50_ms']} ms, "
      f"p99 {mr['fresh_p99_ms']} ms, max {mr['fresh_max_ms']} ms |")
    w(f"| the differential on those engines (memory vs live) | {mr['differential_disagreements']} disagreements |")
    w(f"| {mr['sim_engines']} simulated engines × 10 containers: from start until every host is synced | "
      f"{int(mr['sim_sync_ms']) / 1000:.1f} s ({mr['sim_containers']} containers) |")
    w(f"| `ps -a` (memory) | p50 {mr['sim_ps_p50_ms']} ms, p99 {mr['sim_ps_p99_ms']} ms ({int(mr['sim_ps_bytes']) / 1e6:.1f} MB) |")
    w(f"| `ps -a` (live fan-out) | p50 {mr['sim_ps_live_p50_ms']} ms |")
    w(f"| `info` | p50 {mr['sim_info_p50_ms']} ms, p99 {mr['sim_info_p99_ms']} ms |")
    w(f"| proxy RSS, idle / peak | {mr['sim_rss_mib']} MiB / {mr['sim_peak_rss_mib']} MiB; {mr['sim_fds']} descriptors |")
    w(f"| proxy CPU, idle | {mr['sim_idle_cpu_pct']}% of a core |")
    w(f"| storm: every engine restarts at once, until all are synced again | {int(mr['sim_storm_resync_ms']) / 1000:.1f} s "
      f"({mr['sim_storm_containers']} containers) |")
    sync = rows("merged-sync.csv")
    gnuplot(HEAD + 'set output "merged-sync.png"\nset title "hosts synced (of ' + mr['sim_engines'] + ')"\n'
            'set xlabel "seconds"\nset ylabel "hosts"\n'
            'plot "ms-start.dat" using 1:2 with lines lw 2 title "from start", '
            '"ms-storm.dat" using 1:2 with lines lw 2 title "after every engine restarted"\n',
            {"ms-start.dat": [[r["seconds"], r["live_hosts"]] for r in sync if r["phase"] == "start"] or [[0, 0]],
             "ms-storm.dat": [[r["seconds"], r["live_hosts"]] for r in sync if r["phase"] == "storm"] or [[0, 0]]})
    w("\n![sync](bench/merged-sync.png)\n")

bk = {}
if os.path.exists(os.path.join(results, "buildkit.csv")):
    bk = {(r["target"], r["cache"]): int(float(r["median_ms"])) for r in rows("buildkit.csv")}
if bk:
    w("## 8. BuildKit builds (`bash bench/buildkit.sh`)\n")
    w("Today's `docker build` (the CLI v28, buildx's `docker` driver: BuildKit over `/grpc` and "
      "`/session`) of a small two-stage Dockerfile, on one engine directly and through flocker (3 engines, "
      "the reference decider), with the builder's cache pruned first (*cold*) and the same build again "
      "(*warm*: every step `CACHED`, on the engine the decider sent it back to); medians.\n")
    w("| cache | direct | flocker | flocker ÷ direct |\n| --- | --- | --- | --- |")
    for cache in ("cold", "warm"):
        d, f_ = bk[("direct", cache)], bk[("flocker", cache)]
        w(f"| {cache} | {d} ms | {f_} ms | {f_ / d:.2f} |")
    w("")

mh = {}
if os.path.exists(os.path.join(results, "multihost.csv")):
    mh = {(r["measure"], r["case"]): float(r["median"]) for r in rows("multihost.csv")}
if mh:
    w("## 9. Multi-host networks (`bash bench/multihost.sh`)\n")
    w("The netns flock's three engines form a swarm for networks (docs/networks.md). `docker run -d` on a "
      "multi-host (overlay) network against a local bridge network, through flocker and on engine 2 directly "
      "(what the engine's overlay attach costs, apart from flocker), interleaved; medians. Then a request "
      "between two containers of one overlay network on different hosts (VXLAN) against two on one host: a "
      "TCP request (busybox `nc`, the name looked up each time) and ping's mean round trip.\n")
    w("| `docker run -d` | overlay | bridge | overlay ÷ bridge |\n| --- | --- | --- | --- |")
    for who, bridge in (("flocker", "flocker-benchbridge"), ("e2", "e2-directbridge")):
        o, b = mh[("run_ms", who + "-benchover")], mh[("run_ms", bridge)]
        w(f"| {'through flocker' if who == 'flocker' else 'engine 2 directly'} | {o:.0f} ms | {b:.0f} ms | {o / b:.2f} |")
    w("")
    w("| between two containers | other host | same host | other ÷ same |\n| --- | --- | --- | --- |")
    for measure, label, fmt in (("request_ms", "TCP request", "{:.2f} ms"), ("ping_rtt_ms", "ping round trip", "{:.3f} ms")):
        far, near = mh[(measure, "far")], mh[(measure, "near")]
        w(f"| {label} | {fmt.format(far)} | {fmt.format(near)} | {far / near:.2f} |")
    w("")

w("## Targets\n")
w("| target | measured | |\n| --- | --- | --- |")
w(f"| pass-through ≥ 0.9× direct rps, cores shared | inspect: {down(ratio('shared', 16, 'flocker-engine'))}× at c=16, "
  f"{down(ratio('shared', 64, 'flocker-engine'))}× at c=64 (flock mode {down(ratio('shared', 64, 'flocker'))}×; "
  f"HAProxy {down(ratio('shared', 64, 'haproxy-1t'))}×) | {ok(ratio('shared', 64, 'flocker-engine') >= 0.9)} |")
if own_core:
    w(f"| pass-through ≥ 0.9× direct rps, engine on its own core | inspect: {down(ratio('own-core', 16, 'flocker-engine'))}× at c=16, "
      f"{down(ratio('own-core', 64, 'flocker-engine'))}× at c=64 (flock mode {down(ratio('own-core', 64, 'flocker'))}×; "
      f"HAProxy {down(ratio('own-core', 64, 'haproxy-1t'))}×) | {ok(ratio('own-core', 64, 'flocker-engine') >= 0.9)} |")
w(f"| pass-through above HAProxy | {fe64:.0f} rps vs HAProxy's best {best_ha64:.0f} at c=64, cores shared | {ok(fe64 > best_ha64)} |")
for lay in layouts:
    w(f"| streaming ≥ 0.95× direct, {'cores shared' if lay == 'shared' else 'engine on its own core'} "
      f"| worst of export/upload: {down(worst[lay])}× | {ok(worst[lay] >= 0.95)} |")
w(f"| fan-out p50 < 20 ms at 64 engines | {int(fo64['p50_us']) / 1000:.1f} ms | {ok(int(fo64['p50_us']) < 20000)} |")
per = {r["mode"]: int(r["bytes_per_stream"]) for r in cn}
w(f"| < 20 KiB RSS per idle event stream | {per['flocker'] / 1024:.1f} KiB (flock), {per['flocker-engine'] / 1024:.1f} KiB (pass-through) | {ok(max(per.values()) < 20 * 1024)} |")
w(f"| decision overhead p50 < 300 µs | Route + RemapContainer: {dc['route+remap']['p50_us']} µs (gRPC's blocking client: {dc['route+remap-grpc-blocking']['p50_us']} µs) | {ok(int(dc['route+remap']['p50_us']) < 300)} |")
if mr:
    w(f"| ps over 3 real engines ≥ 5× one engine's rps | {mr['ps3_ratio']}× | {ok(float(mr['ps3_ratio']) >= 5)} |")
    w(f"| ps -a p50 < 20 ms at {mr['sim_engines']} engines × 10 | {mr['sim_ps_p50_ms']} ms | {ok(float(mr['sim_ps_p50_ms']) < 20)} |")
    w(f"| info p50 < 5 ms at {mr['sim_engines']} engines | {mr['sim_info_p50_ms']} ms | {ok(float(mr['sim_info_p50_ms']) < 5)} |")
    w(f"| proxy RSS < 128 MiB at {mr['sim_engines']} engines | {mr['sim_rss_mib']} MiB (peak {mr['sim_peak_rss_mib']}) | {ok(float(mr['sim_rss_mib']) < 128)} |")
    w(f"| idle proxy CPU < 2% of a core | {mr['sim_idle_cpu_pct']}% | {ok(float(mr['sim_idle_cpu_pct']) < 2)} |")
    w(f"| p99 freshness ≤ 1 s | {mr['fresh_p99_ms']} ms | {ok(float(mr['fresh_p99_ms']) <= 1000)} |")
w("")
notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
if os.path.exists(notes):
    w(open(notes).read())
with open(os.path.join(docs, "benchmarks.md"), "w") as f:
    f.write("\n".join(out) + "\n")
