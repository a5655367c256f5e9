"""What the integration test modules share: one real master and worker per module (started from
bin/titan.js; build the TypeScript side first with `npm run build`), the environment pointing the
SDK at them, and a test case with a scratch folder and a client. A module using it imports
setUpModule and tearDownModule."""

import os
import shutil
import sys
import tempfile
import textwrap
import time
import unittest
import uuid
from typing import Any, Callable, Dict, Optional

from titan_sdk import TitanClient

from ._cluster import Cluster, node_binary

CLUSTER = None  # type: Optional[Cluster]
SAVED_ENV = {}  # type: Dict[str, Optional[str]]


def setUpModule() -> None:
    global CLUSTER
    if node_binary() is None:
        raise unittest.SkipTest("node is not installed: the integration tests need a real master")
    cluster = Cluster()
    try:
        cluster.start_master()
        cluster.start_worker(slots=8)
    except BaseException:
        print(cluster.output(), file=sys.stderr)
        cluster.stop()
        raise
    CLUSTER = cluster
    for name, value in cluster.env().items():
        SAVED_ENV[name] = os.environ.get(name)
        os.environ[name] = value


def tearDownModule() -> None:
    for name, value in SAVED_ENV.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if CLUSTER is not None:
        CLUSTER.stop()


def eventually(fn: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


class IntegrationTestCase(unittest.TestCase):
    def setUp(self) -> None:
        assert CLUSTER is not None
        self.cluster = CLUSTER
        self.dir = tempfile.mkdtemp(prefix="titan-py-it-")
        self.client = TitanClient()  # TITAN_HOST, TITAN_PORT and TITAN_TOKEN point at the test cluster
        self.tag = uuid.uuid4().hex[:8]

    def tearDown(self) -> None:
        self.client.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def script(self, name: str, body: str) -> str:
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(body).lstrip())
        return path

    def jid(self, name: str) -> str:
        """A job id unique to this test (bare ids mean the job of its latest run)."""
        return "{}-{}".format(name, self.tag)

    def assert_completed(self, view: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
        jobs = {j["spec"]["id"]: j for j in view["jobs"]}
        bad = {k: (j["status"], j.get("error")) for k, j in jobs.items() if j["status"] != "COMPLETED"}
        if bad or view["run"]["status"] != "COMPLETED":
            logs = {k: self.client.logs("{}/{}".format(view["run"]["runId"], k)) for k in bad}
            self.fail("run {} is {}; jobs not completed: {}\nlogs: {}\n{}".format(view["run"]["runId"], view["run"]["status"], bad, logs, self.cluster.output()[-3000:]))
        return jobs


