#!/usr/bin/env python3
"""The soak's load, faults and invariants (started by bench/soak.sh, which starts the flock).

Workers (threads, docker-py and the docker CLI) run a mix through the proxy: run (create,
404, pull, create, start), exec, logs -f, cp both ways, build, pull, ps, events, rm. A fault
thread meanwhile SIGKILLs and restarts an engine's dockerd, SIGSTOPs one for some seconds,
restarts the decider. A watchdog gives every request a hard deadline (--timeout): docker-py
turns socket timeouts off for attach/exec and log streams, so the deadline is enforced by
shutting the request's socket down; such a request is counted as hung. A sampler reads the
proxy's VmRSS and descriptors every 2 s. At the end: the invariants, a summary, exit 1 on a FAIL.
"""
import argparse
import collections
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time

import docker
import requests
import urllib3

T0 = time.monotonic()


def now():
    return time.monotonic() - T0


def log(msg):
    print(f"[soak {now():7.1f}s] {msg}", flush=True)  # seconds since soak.py started


# ---------------------------------------------------------------- request bookkeeping

_tl = threading.local()  # .slot: the worker's Slot (the watchdog's view of its current request)
_orig_request = urllib3.connection.HTTPConnection.request


def _request_hook(self, *a, **kw):
    # Every docker-py request: remember its socket, so the watchdog can end it, and its local
    # port, which the proxy's access log names as peer=127.0.0.1:PORT.
    try:
        return _orig_request(self, *a, **kw)  # connects first, when it must
    finally:
        slot = getattr(_tl, "slot", None)
        if slot is not None and self.sock is not None:
            with slot.lock:
                slot.sock = self.sock
                try:
                    slot.port = self.sock.getsockname()[1]
                except OSError:
                    pass


urllib3.connection.HTTPConnection.request = _request_hook


class Slot:
    def __init__(self, worker):
        self.worker = worker
        self.lock = threading.Lock()
        self.rec = None
        self.sock = None
        self.port = None
        self.proc = None


class Hung(Exception):
    pass


def json_message(body):
    try:
        v = json.loads(body)
    except (ValueError, TypeError):
        return False
    return isinstance(v, dict) and isinstance(v.get("message"), str)


class Soak:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.records = []
        self.rec_lock = threading.Lock()
        self.faults = []  # dicts: kind, engine, t0, t1
        self.fault_lock = threading.Lock()
        self.active_faults = []
        self.created = {}  # id -> name (201)
        self.removed = set()  # ids whose rm answered 204
        self.rm_unknown = set()  # ids whose rm outcome is unknown
        self.name_unknown = set()  # names whose create outcome is unknown
        self.host_of = {}  # id -> host name (from inspect)
        self.state_lock = threading.Lock()
        self.samples = []  # (t, rss_kib, fds, phase)
        self.phase = "start"
        self.stop_load = threading.Event()
        self.stop_all = threading.Event()
        self.slots = []
        self.hang_notes = []
        self.tags = [f"t{i}" for i in range(1, a.tags + 1)]
        self.proxy_url = "http://" + a.proxy

    # ------------------------------------------------------------ one request
    def call(self, slot, kind, fn, engine=None, detail=""):
        """Runs fn() as one request of `kind`; records its outcome. Returns fn's result or raises
        the exception (after recording it). Hung requests raise Hung."""
        rec = dict(kind=kind, t0=now(), t1=None, outcome="ok", status=None, json=None,
                   engine=engine, port=None, detail=detail, worker=slot.worker)
        with slot.lock:
            slot.rec, slot.sock, slot.port = rec, None, None
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - every failure is recorded
            self.classify(rec, e)
            if rec["outcome"] == "hung":
                raise Hung(kind) from e
            raise
        finally:
            with slot.lock:
                rec["t1"] = now()
                rec["port"] = slot.port
                slot.rec, slot.sock = None, None
            with self.rec_lock:
                self.records.append(rec)

    def classify(self, rec, e):
        if rec.get("hung_flag"):
            rec["outcome"] = "hung"
            rec["detail"] += f" [{type(e).__name__}]"
            return
        if isinstance(e, docker.errors.APIError) and e.response is not None:
            rec["outcome"] = "http-error"
            rec["status"] = e.response.status_code
            body = e.response.content
            rec["json"] = json_message(body)
            rec["detail"] += " " + (body[:200].decode(errors="replace").strip())
        elif isinstance(e, StreamError):
            rec["outcome"] = "stream-error"
            rec["json"] = True
            rec["detail"] += " " + str(e)[:200]
        elif isinstance(e, EngineError):
            rec["outcome"] = "engine-error"
            rec["json"] = True
            rec["detail"] += " " + str(e)[:200]
        elif isinstance(e, StreamCut):
            rec["outcome"] = "stream-cut"
            rec["detail"] += " " + str(e)[:200]
        elif isinstance(e, CliError):
            rec["outcome"] = e.outcome
            rec["status"] = "cli"
            rec["json"] = e.outcome == "http-error"
            rec["detail"] += " " + e.stderr[:300]
        elif isinstance(e, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
                            urllib3.exceptions.HTTPError, OSError, ValueError)):
            rec["outcome"] = "conn-error"
            rec["detail"] += f" {type(e).__name__}: {str(e)[:200]}"
        else:
            rec["outcome"] = "other"
            rec["detail"] += f" {type(e).__name__}: {str(e)[:200]}"

    # ------------------------------------------------------------ the watchdog
    def watchdog(self):
        while not self.stop_all.is_set():
            time.sleep(0.5)
            t = now()
            for slot in self.slots:
                with slot.lock:
                    rec = slot.rec
                    if rec is None or rec.get("hung_flag") or t - rec["t0"] < self.a.timeout:
                        continue
                    rec["hung_flag"] = True
                    sock, port, proc = slot.sock, slot.port, slot.proc
                faults = [f"{f['kind']}:{f['engine']}" for f in self.active_faults]
                note = (f"HUNG w{slot.worker} {rec['kind']} engine={rec['engine']} {rec['detail'][:80]} "
                        f"started at {rec['t0'] - self.t_load0:.1f}s, peer port {port}, faults now: {faults or '-'}; "
                        f"faults since it started: {self.faults_between(rec['t0'], t)}")
                log(note)
                self.hang_notes.append(note)
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                if proc is not None:
                    try:
                        proc.kill()
                    except OSError:
                        pass

    def faults_between(self, t0, t1):
        with self.fault_lock:
            t_load0 = getattr(self, "t_load0", 0)
            return [f"{f['kind']}:{f['engine']}@{f['t0'] - t_load0:.0f}-{(f['t1'] or now()) - t_load0:.0f}s"
                    for f in self.faults if f["t0"] <= t1 and (f["t1"] is None or f["t1"] >= t0)]

    # ------------------------------------------------------------ the sampler
    def sampler(self):
        pid = self.a.proxy_pid
        while not self.stop_all.is_set():
            try:
                with open(f"/proc/{pid}/status") as f:
                    rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
                fds = len(os.listdir(f"/proc/{pid}/fd"))
                self.samples.append((now(), rss, fds, self.phase))
            except (OSError, AttributeError):
                self.samples.append((now(), None, None, self.phase))
            self.stop_all.wait(2)

    # ------------------------------------------------------------ faults
    def sh(self, script, *args):
        return subprocess.run(["bash", "-c", f'source "{self.a.repo}/deploy/flock-lib.sh"; {script}', "_", *map(str, args)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180)

    def engine_pid(self, i):
        with open(f"{self.a.flock_dir}/engine-{i}/dockerd.pid") as f:
            return int(f.read().strip())

    def decider_pid(self):
        with open(f"{self.a.flock_dir}/decider.pid") as f:
            return int(f.read().strip())

    def fault(self, kind, engine):
        f = dict(kind=kind, engine=engine, t0=now(), t1=None, note="")
        with self.fault_lock:
            self.faults.append(f)
            self.active_faults.append(f)
        try:
            if kind == "kill":
                down = self.rng.uniform(2, 5)
                log(f"fault: SIGKILL engine e{engine}'s dockerd, down {down:.0f}s")
                r = self.sh('flock_engine_stop "$1" kill', engine)
                time.sleep(down)
                t = now()
                r = self.sh('flock_engine_start "$1"', engine)
                f["note"] = f"restart took {now() - t:.1f}s rc={r.returncode}"
                log(f"fault: engine e{engine} restarted ({f['note']}) {r.stdout.strip()[-200:]}")
            elif kind == "stop":
                held = self.rng.uniform(*self.a.stop_seconds)
                pid = self.engine_pid(engine)
                log(f"fault: SIGSTOP engine e{engine}'s dockerd (pid {pid}) for {held:.0f}s")
                os.kill(pid, signal.SIGSTOP)
                time.sleep(held)
                os.kill(pid, signal.SIGCONT)
                f["note"] = f"stopped {held:.1f}s"
                log(f"fault: SIGCONT engine e{engine}")
            elif kind == "decider":
                down = self.rng.uniform(2, 5)
                pid = self.decider_pid()
                log(f"fault: decider (pid {pid}) SIGKILLed, down {down:.0f}s")
                os.kill(pid, signal.SIGKILL)
                time.sleep(down)
                with open(f"{self.a.flock_dir}/decider.log", "ab") as out:
                    p = subprocess.Popen([f"{self.a.build}/sdk/decider/flocker-decider", "--listen", self.a.decider,
                                          "--hosts-file", f"{self.a.flock_dir}/hosts.txt"],
                                         stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True)
                with open(f"{self.a.flock_dir}/decider.pid", "w") as pf:
                    pf.write(str(p.pid))
                self.decider_proc = p
                log(f"fault: decider restarted (pid {p.pid})")
        except Exception as e:  # noqa: BLE001
            f["note"] += f" injector error: {e}"
            log(f"fault {kind} e{engine}: injector error {e}")
        finally:
            f["t1"] = now()
            with self.fault_lock:
                self.active_faults.remove(f)

    def fault_loop(self):
        kinds = [k for k in ["kill", "stop", "decider"] if k in self.a.faults]
        if not kinds:
            return
        next_engine = {"kill": 1, "stop": 2, "decider": 0}
        t = self.a.first_fault
        k = 0
        while not self.stop_load.wait(max(0, t - now())):
            if self.a.seconds - now() < 30:  # no fault whose recovery would overlap the end
                break
            kind = kinds[k % len(kinds)]
            k += 1
            engine = next_engine[kind]
            if kind != "decider":
                next_engine[kind] = engine % self.a.engines + 1
            self.fault(kind, engine if kind != "decider" else "decider")
            t = now() + self.rng.uniform(8, 15)

    # ------------------------------------------------------------ workers
    def worker(self, w):
        slot = Slot(w)
        self.slots.append(slot)
        _tl.slot = slot
        rng = random.Random(self.a.seed * 1000 + w)
        cli = docker.APIClient(base_url=self.proxy_url, version="1.41", timeout=self.a.timeout + 30)
        mine = []  # dicts: id, name, host, long (runs for long), alive
        n = 0
        ops = [("run", 14), ("run_cli", 5), ("exec", 12), ("exec_cli", 3), ("logs", 10), ("cp_in", 5), ("cp_out", 5),
               ("cp_cli", 3), ("build", 4), ("build_cli", 1), ("pull", 5), ("ps", 10), ("events", 6),
               ("rm", 6)]
        names, weights = zip(*ops)
        while not self.stop_load.is_set():
            op = rng.choices(names, weights)[0]
            alive = [c for c in mine if c["alive"]]
            if op in ("exec", "exec_cli", "logs", "cp_in", "cp_out", "cp_cli") and not alive:
                op = "run"
            if op == "rm" and not mine:
                op = "ps"
            n += 1
            try:
                getattr(self, "op_" + op)(slot, cli, rng, mine, f"soak-w{w}-{n}")
            except Hung:
                cli.close()  # the client's pooled connection is gone; start afresh
                cli = docker.APIClient(base_url=self.proxy_url, version="1.41", timeout=self.a.timeout + 30)
            except Exception:  # noqa: BLE001 - recorded by call()
                pass
            time.sleep(rng.uniform(0.05, 0.4))
        cli.close()

    def image(self, rng):
        if rng.random() < 0.5:
            return self.a.image + ":latest"
        return self.a.image + ":" + rng.choice(self.tags)

    def note_created(self, cid, name, mine, long):
        with self.state_lock:
            self.created[cid] = name
        c = dict(id=cid, name=name, host=None, long=long, alive=True)
        mine.append(c)
        return c

    def op_run(self, slot, cli, rng, mine, name):
        if len([c for c in mine if c["alive"]]) >= 3:
            self.op_rm(slot, cli, rng, mine, name)
        img = self.image(rng)
        long = rng.random() < 0.8
        cmd = (["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 1; done"] if long
               else ["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; sleep 1; done"])
        create = lambda: cli.create_container(img, cmd, name=name, labels={"soak": "1"})  # noqa: E731
        try:
            r = self.call(slot, "create", create, detail=f"{name} {img}")
        except docker.errors.APIError as e:
            if e.response is None or e.response.status_code != 404:
                if e.response is None or e.response.status_code >= 500:
                    self.name_unknown.add(name)
                raise
            repo, tag = img.rsplit(":", 1)
            self.call(slot, "pull", lambda: drain_stream(cli.pull(repo, tag, stream=True, decode=True)), detail=img)
            try:
                r = self.call(slot, "create", create, detail=f"{name} {img} (after pull)")
            except Exception:
                self.name_unknown.add(name)
                raise
        except Exception:
            self.name_unknown.add(name)
            raise
        c = self.note_created(r["Id"], name, mine, long)
        self.call(slot, "start", lambda: cli.start(c["id"]), detail=name)
        info = self.call(slot, "inspect", lambda: cli.inspect_container(c["id"]), detail=name)
        c["host"] = (info.get("Node") or {}).get("Name")
        self.host_of[c["id"]] = c["host"]

    def run_cli(self, slot, args, kind, engine=None, detail="", input=None):
        """The docker CLI against the proxy, as one recorded request (of its several)."""
        def go():
            p = subprocess.Popen(["docker", "-H", "tcp://" + self.a.proxy, *args], stdin=subprocess.PIPE if input else subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, DOCKER_BUILDKIT="0"))
            with slot.lock:
                slot.proc = p
            try:
                out, err = p.communicate(input=input, timeout=self.a.timeout + 30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            finally:
                with slot.lock:
                    slot.proc = None
            if p.returncode != 0:
                err = err.decode(errors="replace").strip()
                # Docker's JSON message, as the CLI prints it ("docker: " first for docker run).
                daemon = [ln for ln in err.splitlines() if re.match(r"(docker: )?Error response from daemon:", ln)]
                if daemon:
                    raise CliError("http-error", daemon[0])
                # dockerd's own text in an exec stream (exit 126), as in op_exec.
                engine = [ln for ln in (out.decode(errors="replace") + "\n" + err).splitlines()
                          if ln.startswith(OCI_EXEC_FAILED)]
                if engine:
                    raise EngineError(engine[0])
                raise CliError("cli-error", " | ".join(ln for ln in err.splitlines()[-3:] if ln.strip()))
            return out.decode(errors="replace")
        return self.call(slot, kind, go, engine=engine, detail=detail)

    def op_run_cli(self, slot, cli, rng, mine, name):
        if len([c for c in mine if c["alive"]]) >= 3:
            self.op_rm(slot, cli, rng, mine, name)
        img = self.image(rng)
        try:
            out = self.run_cli(slot, ["run", "-d", "--name", name, "--label", "soak=1", img, "sh", "-c",
                                      "i=0; while true; do echo line $i; i=$((i+1)); sleep 1; done"],
                               "cli-run", detail=f"{name} {img}")
        except Exception:
            self.name_unknown.add(name)
            raise
        cid = out.strip().splitlines()[-1]
        c = self.note_created(cid, name, mine, True)
        info = self.call(slot, "inspect", lambda: cli.inspect_container(cid), detail=name)
        c["host"] = (info.get("Node") or {}).get("Name")
        self.host_of[cid] = c["host"]

    @staticmethod
    def running(cli, c):
        """Whether the container runs now: True, False, or None when inspect fails."""
        try:
            return cli.inspect_container(c["id"])["State"]["Running"]
        except Exception:  # noqa: BLE001
            return None

    def pick(self, rng, mine):
        return rng.choice([c for c in mine if c["alive"]])

    def op_exec(self, slot, cli, rng, mine, name):
        c = self.pick(rng, mine)
        try:
            ex = self.call(slot, "exec-create", lambda: cli.exec_create(c["id"], ["echo", "hi"]), engine=c["host"], detail=c["name"])
        except docker.errors.APIError as e:
            if e.response is not None and e.response.status_code == 409:
                c["alive"] = False  # exited (e.g. its engine was killed)
            raise
        def start():
            if not self.a.exec_close:  # docker-py's own way: the socket stays open until collected
                return cli.exec_start(ex["Id"])
            sock = cli.exec_start(ex["Id"], socket=True)
            try:
                return b"".join(data for _, data in docker.utils.socket.frames_iter(sock, False))
            finally:  # as the CLI does by exiting: the connection is closed once the output is read
                with slot.lock:
                    real = slot.sock
                for step in (lambda: real.shutdown(socket.SHUT_RDWR), sock._response.close, real.close):
                    try:
                        step()
                    except (OSError, ValueError, AttributeError):
                        pass
        out = self.call(slot, "exec-start", start, engine=c["host"], detail=c["name"])
        if out.strip() == b"hi":
            return
        if self.running(cli, c) is False:
            # The container exited while the exec ran (a short one ending, its engine killed):
            # dockerd ends its execs with it, so no output is the engine's answer, as logs -f's.
            c["alive"] = False
            return
        # OCI_EXEC_FAILED: dockerd's own answer, written into the exec stream when runc cannot
        # start the process (on a loaded machine). It reached the client whole, as it would
        # from one engine: not the proxy's fault. Anything else is a cut stream.
        bad = (EngineError(out.decode(errors="replace").strip()) if out.startswith(OCI_EXEC_FAILED.encode())
               else StreamCut(f"exec output {out[:60]!r}"))
        self.call(slot, "exec-start", lambda: (_ for _ in ()).throw(bad), engine=c["host"], detail=c["name"])

    def op_exec_cli(self, slot, cli, rng, mine, name):
        c = self.pick(rng, mine)
        try:
            out = self.run_cli(slot, ["exec", c["id"], "echo", "hi"], "cli-exec", engine=c["host"], detail=c["name"])
        except CliError as e:
            if "is not running" in e.stderr:
                c["alive"] = False
            raise
        if out.strip() != "hi":
            raise StreamCut(f"cli exec output {out[:60]!r}")

    def op_logs(self, slot, cli, rng, mine, name):
        c = self.pick(rng, mine)
        hold = rng.uniform(2, 6)

        def follow():
            s = cli.logs(c["id"], stream=True, follow=True, tail=5)
            t = time.monotonic()
            got = 0
            try:
                for chunk in s:
                    got += chunk.count(b"\n")
                    if c["long"] and time.monotonic() - t > hold:
                        return got  # closed by the client
            finally:
                s.close()
            if c["long"]:
                # Ended early: fine if the container is not running any more (its engine was
                # killed since it started), a cut stream otherwise.
                took = time.monotonic() - t
                running = self.running(cli, c)
                if running is False:
                    c["alive"] = False
                    return got
                raise StreamCut(f"logs -f ended after {took:.1f}s ({got} lines), container running: {running}")
            return got
        try:
            self.call(slot, "logs-f", follow, engine=c["host"], detail=c["name"])
        except StreamCut:
            c["alive"] = False
            raise
        if not c["long"]:
            c["alive"] = False  # it has exited by now

    def op_cp_in(self, slot, cli, rng, mine, name):
        c = self.pick(rng, mine)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            data = os.urandom(rng.randint(10, 200_000))
            ti = tarfile.TarInfo(f"in-{name}.bin")
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
        self.call(slot, "cp-in", lambda: cli.put_archive(c["id"], "/tmp", buf.getvalue()), engine=c["host"], detail=c["name"])

    def op_cp_out(self, slot, cli, rng, mine, name):
        c = self.pick(rng, mine)

        def get():
            stream, stat = cli.get_archive(c["id"], "/etc/passwd")
            data = b"".join(stream)
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                if b"root" not in tar.extractfile("passwd").read():
                    raise StreamCut("cp out: passwd without root")
        self.call(slot, "cp-out", get, engine=c["host"], detail=c["name"])

    def op_cp_cli(self, slot, cli, rng, mine, name):
        c = self.pick(rng, mine)
        d = f"{self.a.work}/{name}"
        os.makedirs(d, exist_ok=True)
        with open(f"{d}/up.txt", "w") as f:
            f.write(name * 100)
        self.run_cli(slot, ["cp", f"{d}/up.txt", f"{c['id']}:/tmp/up.txt"], "cli-cp-in", engine=c["host"], detail=c["name"])
        self.run_cli(slot, ["cp", f"{c['id']}:/tmp/up.txt", f"{d}/down.txt"], "cli-cp-out", engine=c["host"], detail=c["name"])
        with open(f"{d}/down.txt") as f:
            if f.read() != name * 100:
                raise StreamCut("cp cli: content differs")

    def context(self, name):
        buf = io.BytesIO()
        df = f"FROM {self.a.image}:latest\nRUN echo {name} > /built.txt\nCMD [\"cat\", \"/built.txt\"]\n".encode()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            ti = tarfile.TarInfo("Dockerfile")
            ti.size = len(df)
            tar.addfile(ti, io.BytesIO(df))
        buf.seek(0)
        return buf

    def op_build(self, slot, cli, rng, mine, name):
        tag = f"soak-built:{name}"
        ctx = self.context(name)
        self.call(slot, "build", lambda: drain_stream(cli.build(fileobj=ctx, custom_context=True, tag=tag, rm=True,
                                                                forcerm=True, decode=True)), detail=tag)
        if rng.random() < 0.7:
            self.call(slot, "rmi", lambda: cli.remove_image(tag), detail=tag)

    def op_build_cli(self, slot, cli, rng, mine, name):
        d = f"{self.a.work}/{name}"
        os.makedirs(d, exist_ok=True)
        with open(f"{d}/Dockerfile", "w") as f:
            f.write(f"FROM {self.a.image}:latest\nRUN echo {name} > /built.txt\n")
        tag = f"soak-built:{name}"
        self.run_cli(slot, ["build", "-q", "-t", tag, d], "cli-build", detail=tag)
        self.run_cli(slot, ["rmi", tag], "cli-rmi", detail=tag)

    def op_pull(self, slot, cli, rng, mine, name):
        img = self.image(rng)
        repo, tag = img.rsplit(":", 1)
        self.call(slot, "pull", lambda: drain_stream(cli.pull(repo, tag, stream=True, decode=True)), detail=img)

    def op_ps(self, slot, cli, rng, mine, name):
        self.call(slot, "ps", lambda: cli.containers(all=rng.random() < 0.5))

    def op_events(self, slot, cli, rng, mine, name):
        hold = rng.uniform(2, 5)
        t = time.time()
        early = rng.random() < 0.4

        def ev():
            # docker-py's events() has no timeout at all: the same request, with one.
            r = cli._get(cli._url("/events"), params={"since": int(t - 10), "until": int(t + hold)},
                         stream=True, timeout=self.a.timeout + 30)
            cli._raise_for_status(r)
            got = 0
            try:
                for e in cli._stream_helper(r, decode=True):
                    got += 1
                    if early and got >= 3:
                        return got  # closed by the client
            finally:
                r.close()
            return got
        self.call(slot, "events", ev, detail=f"hold {hold:.1f}s{' early-close' if early else ''}")

    def op_rm(self, slot, cli, rng, mine, name):
        c = mine.pop(0) if rng.random() < 0.7 else mine.pop(rng.randrange(len(mine)))
        try:
            self.call(slot, "rm", lambda: cli.remove_container(c["id"], force=True), engine=c["host"], detail=c["name"])
        except docker.errors.APIError as e:
            if e.response is not None and e.response.status_code == 404:
                self.rm_404.append(c["id"])
            else:
                self.rm_unknown.add(c["id"])
            raise
        except Exception:
            self.rm_unknown.add(c["id"])
            raise
        with self.state_lock:
            self.removed.add(c["id"])

    # ------------------------------------------------------------ the run
    def run(self):
        self.rm_404 = []
        threading.Thread(target=self.sampler, daemon=True).start()
        threading.Thread(target=self.watchdog, daemon=True).start()
        time.sleep(4.5)  # baseline samples, idle
        self.phase = "load"
        self.t_load0 = now()
        self.a.seconds += self.t_load0
        self.a.first_fault += self.t_load0
        log(f"load: {self.a.workers} workers for {self.a.seconds - self.t_load0:.0f}s, faults: {','.join(self.a.faults) or 'none'}")
        threads = [threading.Thread(target=self.worker, args=(w,), daemon=True) for w in range(1, self.a.workers + 1)]
        for t in threads:
            t.start()
        ft = threading.Thread(target=self.fault_loop, daemon=True)
        ft.start()
        while now() < self.a.seconds:
            time.sleep(min(10, self.a.seconds - now()))
            self.progress()
        self.stop_load.set()
        self.phase = "drain"
        self.t_load1 = now()
        log("load over; waiting for the workers' last requests")
        for t in threads:
            t.join(timeout=max(1, self.a.timeout + 40 - (now() - self.t_load1)))
        ft.join(timeout=120)
        stuck = [t for t in threads if t.is_alive()]
        if stuck:
            log(f"{len(stuck)} workers still busy after the drain")
        self.phase = "settle"
        self.t_settle0 = now()
        log("settling: until the proxy's RSS and descriptors are back in their band")
        ok_in_row = 0
        while now() - self.t_settle0 < self.a.settle:
            time.sleep(2)
            if self.in_band(self.samples[-1]):
                ok_in_row += 1
                if ok_in_row >= 2:
                    break
            else:
                ok_in_row = 0
        self.phase = "end"
        time.sleep(2.1)
        self.stop_all.set()
        return self.report(stuck)

    def progress(self):
        with self.rec_lock:
            recs = list(self.records)
        bad = collections.Counter(r["outcome"] for r in recs if r["outcome"] != "ok")
        s = self.samples[-1] if self.samples else (0, 0, 0, "")
        log(f"{len(recs)} requests, not ok: {dict(bad)}; faults: {len(self.faults)}; proxy rss {(s[1] or 0) / 1024:.1f} MiB fds {s[2]}")

    def baseline(self):
        base = [s for s in self.samples if s[3] == "start" and s[1]]
        return (min(s[1] for s in base), min(s[2] for s in base)) if base else (None, None)

    def band(self):
        rss0, fd0 = self.baseline()
        return max(rss0 * 1.5, rss0 + 20 * 1024), fd0 + 20

    def in_band(self, s):
        if s[1] is None:
            return False
        rss_max, fd_max = self.band()
        return s[1] <= rss_max and s[2] <= fd_max

    # ------------------------------------------------------------ the invariants
    def proxy_lines(self, port, min_seconds):
        """The proxy's access-log lines of client port `port` that took over min_seconds."""
        if not port:
            return []
        got = []
        try:
            with open(self.a.proxy_log, errors="replace") as f:
                for line in f:
                    if f"peer=127.0.0.1:{port}" in line:
                        m = re.search(r" ([0-9.]+)ms ", line)
                        if m and float(m.group(1)) >= min_seconds * 1000:
                            got.append(re.sub(r"[0-9a-f]{64}", lambda m: m.group(0)[:12], line.strip())[:260])
        except OSError:
            pass
        return got or ["(no access-log line yet: the proxy has not finished this request)"]

    def explained(self, r, grace=10):
        for f in self.faults:
            t1 = (f["t1"] if f["t1"] is not None else now()) + grace
            if r["t0"] <= t1 and r["t1"] >= f["t0"]:
                if f["kind"] == "decider" or r["engine"] is None or r["engine"] == f"e{f['engine']}":
                    return f"{f['kind']}:{f['engine']}"
        return None

    def engines_view(self):
        """Every container on every engine, asked directly."""
        seen = collections.defaultdict(list)  # id -> [engine]
        names = collections.defaultdict(list)  # name -> [(engine, id)]
        for i, addr in enumerate(self.a.engine, 1):
            c = docker.APIClient(base_url="http://" + addr, version="1.41", timeout=60)
            for ct in c.containers(all=True):
                seen[ct["Id"]].append(f"e{i}")
                for n in ct["Names"]:
                    names[n.lstrip("/")].append((f"e{i}", ct["Id"][:12]))
            c.close()
        return seen, names

    def report(self, stuck):
        L = []
        fails = 0

        def out(s=""):
            L.append(s)

        def verdict(ok, name, numbers):
            nonlocal fails
            fails += 0 if ok else 1
            out(f"{'PASS' if ok else 'FAIL'} {name}: {numbers}")

        recs = self.records
        dur = self.t_load1 - self.t_load0
        out(f"soak: {dur:.0f}s of load, {self.a.workers} workers, {len(recs)} requests "
            f"({len(recs) / max(dur, 1):.1f}/s), client deadline {self.a.timeout:.0f}s, faults: {','.join(self.a.faults) or 'none'}")
        kinds = collections.Counter(r["kind"] for r in recs)
        out("requests by kind (count, ok, p50/p99/max seconds):")
        for k in sorted(kinds):
            rs = [r for r in recs if r["kind"] == k]
            lat = sorted(r["t1"] - r["t0"] for r in rs)
            ok = sum(r["outcome"] == "ok" for r in rs)
            out(f"  {k:12s} {len(rs):6d} {ok:6d}  {pct(lat, 50):6.2f} {pct(lat, 99):6.2f} {lat[-1]:6.2f}")
        errs = collections.Counter()
        for r in recs:
            if r["outcome"] != "ok":
                why = self.explained(r)
                errs[(r["kind"], r["outcome"], r["status"], "fault" if why else "no fault")] += 1
        out("errors by kind/outcome/status (during or just after a fault, or not):")
        for (k, o, s, f), n in sorted(errs.items(), key=lambda kv: (-kv[1], str(kv[0]))):
            out(f"  {n:5d}  {k} {o} {s if s is not None else ''} [{f}]")
        fk = collections.Counter(f["kind"] for f in self.faults)
        out(f"faults injected: {dict(fk)} " +
            "; ".join(f"{f['kind']}:{f['engine']}@{f['t0'] - self.t_load0:.0f}s+{(f['t1'] or now()) - f['t0']:.0f}s {f['note']}".strip()
                      for f in self.faults))

        # The frozen engine: requests that were in flight at a SIGSTOP's end and ended only
        # after the SIGCONT waited for the engine all along, whatever the health check said.
        for f in [f for f in self.faults if f["kind"] == "stop" and f["t1"]]:
            waited = [r for r in recs if f["t0"] <= r["t0"] < f["t1"] - 1 and r["t1"] >= f["t1"] - 0.2]
            by = collections.Counter(f"{r['kind']}({r['engine'] or 'any'})" for r in waited)
            longest = max((r["t1"] - r["t0"] for r in waited), default=0)
            out(f"SIGSTOP e{f['engine']} for {f['t1'] - f['t0']:.0f}s at {f['t0'] - self.t_load0:.0f}s: {len(waited)} requests "
                f"sent during it ended only after the SIGCONT (longest {longest:.1f}s): {dict(by)}")

        # resources
        load = [s for s in self.samples if s[3] in ("load",) and s[1]]
        rss0, fd0 = self.baseline()
        rss_max, fd_max = self.band()
        last = [s for s in self.samples if s[1]][-1]
        peak_rss = max(s[1] for s in self.samples if s[1])
        peak_fd = max(s[2] for s in self.samples if s[1])
        rs_slope = slope([(s[0] / 60, s[1] / 1024) for s in load])
        fd_slope = slope([(s[0] / 60, s[2]) for s in load])
        out(f"proxy RSS MiB start/peak/end {rss0 / 1024:.1f}/{peak_rss / 1024:.1f}/{last[1] / 1024:.1f} "
            f"(band <= {rss_max / 1024:.1f}), slope over the load {rs_slope:+.2f} MiB/min")
        out(f"proxy fds     start/peak/end {fd0}/{peak_fd}/{last[2]} (band <= {fd_max}), slope over the load {fd_slope:+.2f} fds/min"
            f"; settled in {self.samples[-1][0] - self.t_settle0:.0f}s")
        out()

        # 0 the proxy lived
        alive = os.path.exists(f"/proc/{self.a.proxy_pid}") and last[0] > self.t_settle0
        verdict(alive, "0 the proxy stayed up", f"pid {self.a.proxy_pid} {'alive' if alive else 'GONE'}")

        # 1 and 2: the engines, asked directly
        try:
            seen, names = self.engines_view()
            created = dict(self.created)
            missing, dup, unk_bad = [], [], []
            for cid, name in created.items():
                n = len(seen.get(cid, []))
                if cid in self.removed:
                    if n != 0:
                        missing.append(f"{name} removed (204) but still on {seen[cid]}")
                elif cid in self.rm_unknown:
                    if n > 1:
                        dup.append(f"{name} on {seen[cid]}")
                elif n != 1:
                    (missing if n == 0 else dup).append(f"{name} {cid[:12]} on {seen.get(cid, [])} (host per inspect: {self.host_of.get(cid)})")
            live = sum(1 for c in created if c not in self.removed)
            verdict(not missing and not dup, "1 every 201 create exists exactly once on the engines (unless removed)",
                    f"{len(created)} created (201), {len(self.removed)} removed (204), {len(self.rm_unknown)} rm outcome unknown, "
                    f"{live} expected live; missing/extra {len(missing)}, duplicated {len(dup)}, rm answered 404: {len(self.rm_404)} "
                    + "; ".join((missing + dup)[:10]))
            dups = {n: v for n, v in names.items() if len(v) > 1}
            soak_names = [n for n in names if n.startswith("soak-")]
            verdict(not dups, "2 no container name on two engines",
                    f"{len(names)} names on the engines ({len(soak_names)} the soak's; {len(self.name_unknown)} creates with an unknown outcome), "
                    f"duplicated {len(dups)} {dict(list(dups.items())[:10])}")
        except Exception as e:  # noqa: BLE001
            verdict(False, "1/2 engines asked directly", f"could not ask: {e}")

        # 3 no hung request
        hung = [r for r in recs if r["outcome"] == "hung"]
        verdict(not hung and not stuck, "3 every request ended (no client deadline hit)",
                f"hung {len(hung)}, workers stuck at the end {len(stuck)}")
        for r in hung:
            out(f"    hung: w{r['worker']} {r['kind']} engine={r['engine']} {r['detail'][:100]} at {r['t0'] - self.t_load0:.0f}s "
                f"(load time), peer port {r['port']}, faults meanwhile: {self.faults_between(r['t0'], r['t1'])}")
            for line in self.proxy_lines(r["port"], 0.5 * self.a.timeout):
                out(f"      proxy: {line}")

        # 4 resources back in their band
        verdict(self.in_band(last), "4 proxy RSS and fds back in their starting band after the load",
                f"RSS {last[1] / 1024:.1f} MiB (band <= {rss_max / 1024:.1f}), fds {last[2]} (band <= {fd_max}); "
                f"slopes {rs_slope:+.2f} MiB/min, {fd_slope:+.2f} fds/min")

        # 5 error shapes
        nonjson = [r for r in recs if r["outcome"] == "http-error" and not r["json"]]
        broken = [r for r in recs if r["outcome"] in ("conn-error", "stream-cut", "cli-error", "other")]
        unexplained = [r for r in broken if not self.explained(r)]
        fault_failed = [r for r in recs if r["outcome"] not in ("ok", "hung") and self.explained(r)]
        http_errs = [r for r in recs if r["outcome"] == "http-error"]
        engine_errs = [r for r in recs if r["outcome"] == "engine-error"]
        verdict(not nonjson and not unexplained, "5 every error was Docker's JSON message, or explained by a fault",
                f"{len(http_errs)} error responses ({len(http_errs) - len(nonjson)} JSON, {len(nonjson)} not), "
                f"{len(broken)} connection/stream/CLI failures ({len(broken) - len(unexplained)} during a fault, "
                f"{len(unexplained)} not); {len(fault_failed)} requests failed because of a fault; "
                f"{len(engine_errs)} engine errors relayed in a stream")
        for r in engine_errs[:5]:
            out(f"    engine-error: w{r['worker']} {r['kind']} engine={r['engine']} at "
                f"{r['t0'] - self.t_load0:.0f}s: {r['detail'][:240]}")
        for r in (nonjson + unexplained)[:20]:
            out(f"    {r['outcome']}: w{r['worker']} {r['kind']} status={r['status']} engine={r['engine']} at "
                f"{r['t0'] - self.t_load0:.0f}s port {r['port']}: {r['detail'][:240]}")
        samples = collections.Counter((r["kind"], r["status"], re.sub(r"[0-9a-f]{12,}|soak-w\d+-\d+|t\d+\b", "*", r["detail"])[:150])
                                      for r in http_errs)
        out("error messages seen (most frequent):")
        for (k, s, d), n in samples.most_common(12):
            out(f"  {n:5d} {k} {s}: {d}")
        slow = []
        try:
            with open(self.a.proxy_log, errors="replace") as f:
                for line in f:
                    m = re.search(r" ([0-9.]+)ms engine=", line)
                    if m and float(m.group(1)) >= 0.5 * self.a.timeout * 1000:
                        slow.append(re.sub(r"[0-9a-f]{64}", lambda m: m.group(0)[:12], line.strip())[:260])
        except OSError:
            pass
        out(f"proxy access-log lines of requests that took over {0.5 * self.a.timeout:.0f}s: {len(slow)}")
        for line in slow[:15]:
            out("  " + line)
        if self.hang_notes:
            out("hang notes:")
            for h in self.hang_notes:
                out("  " + h)
        out()
        out(f"RESULT: {'PASS' if fails == 0 else 'FAIL'} ({fails} invariant(s) failed)")
        text = "\n".join(L) + "\n"
        print(text)
        with open(self.a.results, "w") as f:
            f.write(text)
        with open(self.a.work + "/records.json", "w") as f:
            json.dump(dict(records=recs, faults=self.faults, samples=self.samples, t_load0=self.t_load0), f, default=str)
        with open(self.a.work + "/hung.txt", "w") as f:
            for r in hung:
                f.write(f"{r['port']} {r['kind']} {r['engine']} {r['t0']:.1f} {r['t1']:.1f} {r['detail']}\n")
        return 0 if fails == 0 else 1


class StreamCut(Exception):
    pass


class StreamError(Exception):
    pass


class EngineError(Exception):
    """An engine's own error text relayed in a raw stream (exec): Docker's answer, not a cut."""


# How dockerd's own exec error begins, in the stream (API) and on the CLI's output.
OCI_EXEC_FAILED = "OCI runtime exec failed"


class CliError(Exception):
    def __init__(self, outcome, stderr):
        super().__init__(stderr)
        self.outcome = outcome
        self.stderr = stderr


def drain_stream(gen):
    """A JSON progress stream (pull, build): an in-band error is Docker's JSON error message."""
    last = None
    for m in gen:
        last = m
        if isinstance(m, dict) and (m.get("error") or m.get("errorDetail")):
            raise StreamError(str(m.get("error") or m.get("errorDetail"))[:200])
    return last


def pct(xs, p):
    if not xs:
        return 0.0
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def slope(pts):
    if len(pts) < 2:
        return 0.0
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--proxy-pid", type=int, required=True)
    ap.add_argument("--engine", action="append", required=True)
    ap.add_argument("--image", required=True, help="registry/busybox, without a tag")
    ap.add_argument("--tags", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--workers", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--settle", type=float, default=45)
    ap.add_argument("--first-fault", type=float, default=10)
    ap.add_argument("--faults", default="kill,stop,decider")
    ap.add_argument("--flock-dir", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--decider", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--proxy-log", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--stop-seconds", default="6-15", help="how long a SIGSTOP lasts: MIN-MAX seconds")
    ap.add_argument("--exec-close", type=int, default=1, help="0: exec_start as docker-py does it (socket left open)")
    ap.add_argument("--seed", type=int, default=14)
    a = ap.parse_args()
    a.faults = [f for f in a.faults.split(",") if f]
    a.engines = len(a.engine)
    lo, _, hi = a.stop_seconds.partition("-")
    a.stop_seconds = (float(lo), float(hi or lo))
    os.makedirs(a.work, exist_ok=True)
    sys.exit(Soak(a).run())


if __name__ == "__main__":
    main()
