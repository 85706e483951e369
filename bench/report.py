"""Writes docs/benchmarks.md and its plots (docs/bench/*.png, gnuplot) from bench/results/*.csv.

    report.py RESULTS_DIR DOCS_DIR
"""
import csv
import datetime
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
  "decider all share this machine's cores, so a proxy's CPU is CPU the engine does not get.\n")
w("Targets: **direct** is the dockerd itself; **flocker** is `flocker-proxy --decider` (the "
  "flock, here of one host); **flocker-engine** is `flocker-proxy --engine` (pure pass-through); "
  "**haproxy-1t/2t** is HAProxy 2.6 in `mode http` with 1 or 2 threads, same engine. flocker "
  "runs with one I/O thread (`--threads 1`): on 2 shared cores it beats two threads, which cost a "
  "context switch per request.\n")

# ---- 1. pass-through
pt = rows("passthrough.csv")
by = {(r["endpoint"], int(r["concurrency"]), r["target"]): r for r in pt}
targets = ["direct", "flocker", "flocker-engine", "haproxy-1t", "haproxy-2t"]
w("## 1. Pass-through\n")
for ep, title in (("inspect", "`GET /containers/{id}/json`"), ("ping", "`GET /_ping`")):
    w(f"### {title}\n")
    if ep == "ping":
        w("In a flock, `/_ping` is answered by flocker itself (it speaks for every host), so the "
          "flocker row is not a pass-through; flocker-engine's is.\n")
    w("| concurrency | target | rps | × direct | p50 µs | p99 µs |\n| --- | --- | --- | --- | --- | --- |")
    for c in (1, 16, 64):
        d = float(by[(ep, c, "direct")]["rps"])
        for t in targets:
            r = by[(ep, c, t)]
            w(f"| {c} | {t} | {r['rps']} | {float(r['rps']) / d:.2f} | {r['p50_us']} | {r['p99_us']} |")
    w("")
    gnuplot(HEAD + f'set output "passthrough-{ep}.png"\nset title "{title.strip("`")}: requests per second"\n'
            'set xlabel "concurrency"\nset ylabel "rps"\nset logscale x 2\nset xtics (1,16,64)\nset xrange [0.8:80]\n'
            "plot " + ", ".join(f'"pt-{ep}.dat" using 1:{i + 2} with linespoints lw 2 title "{t}"'
                                for i, t in enumerate(targets)) + "\n",
            {f"pt-{ep}.dat": [[c] + [by[(ep, c, t)]["rps"] for t in targets] for c in (1, 16, 64)]})
    w(f"![{ep}](bench/passthrough-{ep}.png)\n")

# ---- 2. streaming
st = {(r["direction"], r["target"]): float(r["mb_per_s"]) for r in rows("streaming.csv")}
mem = dict(line.strip().split(",") for line in open(os.path.join(results, "streaming-memory.csv")))
w("## 2. Streaming, 1 GiB each way\n")
w("`docker export` of a container holding a 1 GiB file (download) and `docker cp` of a 1 GiB "
  "file into a container (upload), through each target.\n")
w("| direction | direct MB/s | flocker MB/s | × direct | haproxy-1t MB/s | × direct |\n| --- | --- | --- | --- | --- | --- |")
for d in ("export", "upload"):
    w(f"| {d} | {st[(d, 'direct')]:.0f} | {st[(d, 'flocker')]:.0f} | {st[(d, 'flocker')] / st[(d, 'direct')]:.2f} "
      f"| {st[(d, 'haproxy-1t')]:.0f} | {st[(d, 'haproxy-1t')] / st[(d, 'direct')]:.2f} |")
w(f"\nflocker's peak RSS over the whole run (VmHWM, which includes ~10 MiB of shared library "
  f"text): **{int(mem['flocker_peak_vmhwm_kib']) / 1024:.1f} MiB**. The 1 GiB component tests "
  "(`proxy_memory_tests`) measure the streaming heap itself: under 200 KiB.\n")
gnuplot(HEAD + 'set output "streaming.png"\nset title "1 GiB streamed: MB/s"\nset style data histograms\n'
        'set style fill solid 0.8\nset ylabel "MB/s"\n'
        'plot "st.dat" using 2:xtic(1) title "direct", "" using 3 title "flocker", "" using 4 title "haproxy-1t"\n',
        {"st.dat": [[d, st[(d, "direct")], st[(d, "flocker")], st[(d, "haproxy-1t")]] for d in ("export", "upload")]})
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
w("")

# ---- targets
ins64 = {t: float(by[("inspect", 64, t)]["rps"]) for t in targets}
ins16 = {t: float(by[("inspect", 16, t)]["rps"]) for t in targets}
best_ha64 = max(ins64["haproxy-1t"], ins64["haproxy-2t"])
fo64 = next(r for r in fo if r["engines"] == "64")
worst_stream = min(st[(d, "flocker")] / st[(d, "direct")] for d in ("export", "upload"))
w("## Targets\n")
w("| target | measured | |\n| --- | --- | --- |")
w(f"| pass-through ≥ 0.9× direct rps | inspect: {ins16['flocker-engine'] / ins16['direct']:.2f}× at c=16, {ins64['flocker-engine'] / ins64['direct']:.2f}× at c=64 (flock mode {ins64['flocker'] / ins64['direct']:.2f}×) | {ok(ins64['flocker-engine'] / ins64['direct'] >= 0.9)} |")
w(f"| pass-through above HAProxy | {ins64['flocker-engine']:.0f} rps vs HAProxy's best {best_ha64:.0f} at c=64 | {ok(ins64['flocker-engine'] > best_ha64)} |")
w(f"| streaming ≥ 0.95× direct | worst of export/upload: {worst_stream:.2f}× | {ok(worst_stream >= 0.95)} |")
w(f"| fan-out p50 < 20 ms at 64 engines | {int(fo64['p50_us']) / 1000:.1f} ms | {ok(int(fo64['p50_us']) < 20000)} |")
per = {r["mode"]: int(r["bytes_per_stream"]) for r in cn}
w(f"| < 20 KiB RSS per idle event stream | {per['flocker'] / 1024:.1f} KiB (flock), {per['flocker-engine'] / 1024:.1f} KiB (pass-through) | {ok(max(per.values()) < 20 * 1024)} |")
w(f"| decision overhead p50 < 300 µs | Route + RemapContainer: {dc['route+remap']['p50_us']} µs | {ok(int(dc['route+remap']['p50_us']) < 300)} |")
w("")
notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
if os.path.exists(notes):
    w(open(notes).read())
with open(os.path.join(docs, "benchmarks.md"), "w") as f:
    f.write("\n".join(out) + "\n")
