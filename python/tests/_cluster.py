"""A real master and worker for integration tests, as test/helpers/cluster.ts starts them: the
built CLI (``node bin/titan.js``) on loopback with ports chosen by the OS, a private temporary
data directory and token, and cleanup of the processes this helper started, by pid.

The worker runs with ``PYTHONPATH`` pointing at this ``python/`` folder, as a deployed worker
has the SDK installed, so job scripts can ``import titan_sdk``.
"""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from typing import List, Optional, Pattern

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(PYTHON_DIR)
CLI = os.path.join(ROOT, "bin", "titan.js")
BUILT = os.path.join(ROOT, "dist", "src", "cli", "main.js")


def node_binary() -> Optional[str]:
    return os.environ.get("TITAN_NODE") or shutil.which("node")


class Proc(object):
    def __init__(self, args: List[str], env: dict) -> None:
        self.popen = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._out = []  # type: List[str]
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in iter(self.popen.stdout.readline, b""):
            with self._lock:
                self._out.append(line.decode("utf-8", "replace"))

    def output(self) -> str:
        with self._lock:
            return "".join(self._out)

    def wait_for(self, pattern: Pattern[str], timeout: float) -> "re.Match[str]":
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.output())
            if m:
                return m
            if self.popen.poll() is not None:
                time.sleep(0.1)
                raise RuntimeError("process exited ({}) before printing {!r}:\n{}".format(self.popen.returncode, pattern.pattern, self.output()))
            if time.monotonic() > deadline:
                raise RuntimeError("timed out waiting for {!r}:\n{}".format(pattern.pattern, self.output()))
            time.sleep(0.05)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


class Cluster(object):
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="titan-py-sdk-")
        # Passable: a worker started as root runs its jobs as an unprivileged user, who reaches their folders through here.
        os.chmod(self.dir, 0o711)
        self.token = "py-test-" + uuid.uuid4().hex
        self.port = 0
        self.master = None  # type: Optional[Proc]
        self.workers = []  # type: List[Proc]
        node = node_binary()
        if node is None:
            raise RuntimeError("node is not on PATH (set TITAN_NODE)")
        self.node = node
        if not os.path.exists(BUILT):
            raise RuntimeError("the TypeScript side is not built: run `npm run build` in {} first".format(ROOT))

    def _env(self, extra: Optional[dict] = None) -> dict:
        env = dict(os.environ)
        env["NO_COLOR"] = "1"
        for name in ("TITAN_HOST", "TITAN_PORT", "TITAN_TOKEN", "TITAN_MASTERS"):
            env.pop(name, None)
        env.update(extra or {})
        return env

    def start_master(self) -> None:
        args = [self.node, CLI, "master", "--data-dir", os.path.join(self.dir, "data"), "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "--token", self.token]
        self.master = Proc(args, self._env())
        m = self.master.wait_for(re.compile(r"listening on 127\.0\.0\.1:(\d+) \(http (\d+)\)"), 20)
        self.port = int(m.group(1))

    def start_worker(self, capabilities: str = "GENERAL", slots: int = 4) -> Proc:
        index = len(self.workers)
        args = [self.node, CLI, "worker", "--master", "127.0.0.1:{}".format(self.port), "--token", self.token, "--capabilities", capabilities,
                "--slots", str(slots), "--port", "0", "--name", "127.0.0.1", "--work-dir", os.path.join(self.dir, "worker-{}".format(index))]
        path = os.environ.get("PYTHONPATH")
        env = self._env({"PYTHONPATH": PYTHON_DIR + (os.pathsep + path if path else ""), "PYTHONDONTWRITEBYTECODE": "1"})
        proc = Proc(args, env)
        self.workers.append(proc)
        proc.wait_for(re.compile(r"joined master"), 20)
        return proc

    def env(self) -> dict:
        """The environment a client on this machine uses to reach the cluster."""
        return {"TITAN_HOST": "127.0.0.1", "TITAN_PORT": str(self.port), "TITAN_TOKEN": self.token}

    def output(self) -> str:
        parts = []
        if self.master is not None:
            parts.append("--- master ---\n" + self.master.output())
        for i, w in enumerate(self.workers):
            parts.append("--- worker {} ---\n{}".format(i, w.output()))
        return "\n".join(parts)

    def stop(self) -> None:
        for proc in self.workers + ([self.master] if self.master is not None else []):
            proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
