"""TLS from the environment: TITAN_TLS, TITAN_CA, TITAN_CERT and TITAN_KEY read at connect time,
checked with clear errors, and used against a real master started with --tls-cert/--tls-key
(certificates made with openssl; skipped when openssl or node is missing)."""

import os
import re
import shutil
import ssl
import subprocess
import tempfile
import unittest
import uuid
from typing import Dict, Optional

from titan_sdk import BadRequestError, TitanClient, TitanConnectionError
from titan_sdk._wire import tls_context_from_env

from ._cluster import BUILT, CLI, Proc, node_binary

TLS_ENV = ("TITAN_TLS", "TITAN_CA", "TITAN_CERT", "TITAN_KEY", "TITAN_HOST", "TITAN_PORT", "TITAN_TOKEN")


def _openssl(cwd: str, *args: str) -> None:
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _make_certificates(cwd: str) -> None:
    with open(os.path.join(cwd, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for ca in ("ca", "other-ca"):
        _openssl(cwd, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2", "-subj", "/CN=" + ca)
    _openssl(cwd, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=server")
    _openssl(cwd, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")


class TlsFromEnvTest(unittest.TestCase):
    def test_nothing_set_means_plain_tcp(self) -> None:
        self.assertIsNone(tls_context_from_env({}))
        self.assertIsNone(tls_context_from_env({"TITAN_TLS": "0"}))

    def test_titan_tls_alone_trusts_the_system_cas(self) -> None:
        context = tls_context_from_env({"TITAN_TLS": "1"})
        self.assertIsInstance(context, ssl.SSLContext)
        assert context is not None
        self.assertTrue(context.check_hostname)

    def test_a_certificate_without_its_key_is_refused(self) -> None:
        with self.assertRaisesRegex(BadRequestError, "TITAN_CERT and TITAN_KEY"):
            tls_context_from_env({"TITAN_CERT": "/nonexistent/client.pem"})

    def test_an_unreadable_ca_file_is_named(self) -> None:
        with self.assertRaisesRegex(BadRequestError, "TITAN_CA: cannot use /nonexistent/ca.pem"):
            tls_context_from_env({"TITAN_CA": "/nonexistent/ca.pem"})


class TlsMasterTest(unittest.TestCase):
    dir = ""
    master = None  # type: Optional[Proc]
    port = 0
    token = ""
    saved = {}  # type: Dict[str, Optional[str]]

    @classmethod
    def setUpClass(cls) -> None:
        node = node_binary()
        if node is None or shutil.which("openssl") is None:
            raise unittest.SkipTest("node and openssl are needed for a TLS master")
        if not os.path.exists(BUILT):
            raise unittest.SkipTest("the TypeScript side is not built (npm run build)")
        cls.dir = tempfile.mkdtemp(prefix="titan-py-tls-")
        # Runs even when the rest of setUpClass fails (tearDownClass would not).
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        _make_certificates(cls.dir)
        cls.token = "py-tls-" + uuid.uuid4().hex
        env = {k: v for k, v in os.environ.items() if k not in TLS_ENV}
        env["NO_COLOR"] = "1"
        args = [node, CLI, "master", "--data-dir", os.path.join(cls.dir, "data"), "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "--token", cls.token,
                "--tls-cert", os.path.join(cls.dir, "server.pem"), "--tls-key", os.path.join(cls.dir, "server.key")]
        cls.master = Proc(args, env)
        cls.addClassCleanup(cls.master.stop)
        cls.port = int(cls.master.wait_for(re.compile(r"listening on 127\.0\.0\.1:(\d+) \(https \d+\)"), 20).group(1))
        cls.saved = {name: os.environ.get(name) for name in TLS_ENV}

    def setUp(self) -> None:
        for name in TLS_ENV:
            os.environ.pop(name, None)
        os.environ.update({"TITAN_HOST": "127.0.0.1", "TITAN_PORT": str(self.port), "TITAN_TOKEN": self.token})

    def tearDown(self) -> None:
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def test_connects_with_titan_ca_read_at_call_time(self) -> None:
        os.environ["TITAN_CA"] = os.path.join(self.dir, "ca.pem")
        with TitanClient() as client:
            client.store_put("py-tls", "yes")
            self.assertEqual(client.store_get("py-tls"), "yes")

    def test_the_wrong_ca_is_a_clear_certificate_error(self) -> None:
        os.environ["TITAN_CA"] = os.path.join(self.dir, "other-ca.pem")
        with self.assertRaisesRegex(TitanConnectionError, "127.0.0.1:{}.*does not trust".format(self.port)):
            TitanClient().ping()

    def test_without_tls_the_error_hints_at_it(self) -> None:
        with self.assertRaisesRegex(TitanConnectionError, "is the master using TLS"):
            TitanClient(connect_timeout=5).ping()
