"""IOTHUB_PROXY (README contract): every connection of every hub example goes through the HTTP
proxy with `CONNECT host:port` (RFC 9110 §9.3.6), with Basic credentials from
IOTHUB_PROXY_USER / IOTHUB_PROXY_PASSWORD (RFC 7617); a refused proxy exits 1 at once with one
line naming the proxy and its status; a proxy that cannot be reached is retried like a hub that
cannot be. The proxy is Tests/Fixtures/connect_proxy.py; what it received is its own log."""
import base64
import json
import os
import subprocess
import unittest

from support import (GateLog, HTTPS_PORT, MQTT_PORT, WRONG_KEY, ContractTest, Running, connection_string, events_watch,
                     fixture_requests, fixture_reset, free_port, hub_env, run, temporary_directory)

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "connect_proxy.py")

# Each hub example with arguments that make it finish on its own once connected.
MQTT_RUNS = (("hub-telemetry", "--count", "1"), ("hub-c2d", "--timeout-s", "3"), ("hub-twin",), ("hub-methods",))
HTTPS_RUNS = (("hub-telemetry", "--transport", "https", "--count", "1"),
              ("hub-c2d", "--transport", "https", "--timeout-s", "3", "--dev-poll-interval-s", "1"))


class Proxy:
    """One connect_proxy.py process on a free loopback port, with its request log."""

    def __init__(self, *args):
        self.log = os.path.join(temporary_directory(), "proxy.jsonl")
        self.process = subprocess.Popen(["python3", SCRIPT, "--log", self.log, *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError("the CONNECT proxy did not start")
        self.port = line.decode().strip()
        self.address = "127.0.0.1:" + self.port

    def records(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
        self.process.stdout.close()


class ThroughTheProxy(ContractTest):
    """Every example, both transports and the clock check, through a proxy that wants credentials."""

    USER, PASSWORD = "device-proxy-user", "s3cret:with colon"

    @classmethod
    def setUpClass(cls):
        cls.proxy = Proxy("--user", cls.USER, "--password", cls.PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()

    def setUp(self):
        fixture_reset()

    def env(self, **extra):
        return hub_env(IOTHUB_PROXY=self.proxy.address, IOTHUB_PROXY_USER=self.USER, IOTHUB_PROXY_PASSWORD=self.PASSWORD, **extra)

    def assertTunnels(self, records, port, result):
        """Each request asked for localhost:port with the credentials, and got its tunnel."""
        authorization = "Basic " + base64.b64encode(("%s:%s" % (self.USER, self.PASSWORD)).encode()).decode()
        self.assertTrue(records, result)
        for record in records:
            self.assertEqual(record["request_line"], "CONNECT localhost:%s HTTP/1.1" % port, (record, result))
            self.assertEqual(record["host"], "localhost:%s" % port, record)
            self.assertEqual(record["authorization"], authorization, record)
            self.assertEqual(record["status"], 200, record)

    def test_every_mqtt_example(self):
        # Programs that end by themselves, then the two that wait for the service side: each
        # is seen connected and subscribed, then stopped.
        for program, *args in (("hub-telemetry", "--count", "1"), ("hub-twin",)):
            with self.subTest(program=program):
                before = len(self.proxy.records())
                result = run(program, *args, env=self.env())
                self.assertEqual(result.rc, 0, result)
                self.assertTunnels(self.proxy.records()[before:], MQTT_PORT, result)
        for program in ("hub-c2d", "hub-methods"):
            with self.subTest(program=program):
                before = len(self.proxy.records())
                running = Running(program, env=self.env())
                try:
                    running.wait_for("err", rb": subscribed")
                finally:
                    running.stop()
                self.assertTunnels(self.proxy.records()[before:], MQTT_PORT, running.result(False))

    def test_telemetry_arrives_through_the_proxy(self):
        watch = events_watch()
        try:
            result = run("hub-telemetry", "--count", "2", env=self.env())
            self.assertEqual(result.rc, 0, result)
            self.assertEqual(result.out_lines, ["sent and acknowledged: 2"], result)
            self.assertEqual(len(watch.wait_count(2)), 2)
        finally:
            watch.stop()

    def test_every_https_example(self):
        for program, *args in HTTPS_RUNS:
            with self.subTest(program=program):
                before, requests_before = len(self.proxy.records()), len(fixture_requests())
                result = run(program, *args, env=self.env())
                # hub-c2d finds no message and ends with its --timeout-s exit code, 3.
                self.assertEqual(result.rc, 3 if program == "hub-c2d" else 0, result)
                self.assertTunnels(self.proxy.records()[before:], HTTPS_PORT, result)
                self.assertGreater(len(fixture_requests()), requests_before, result)

    def test_the_clock_check_goes_through_the_proxy_too(self):
        if not os.environ.get("HUB_GATE_LOG"):
            self.skipTest("the stand-in's MQTT side does not check credentials (HUB_GATE_LOG unset)")
        before = len(self.proxy.records())
        gate = GateLog()
        result = run("hub-telemetry", "--count", "1",
                     env=self.env(IOTHUB_DEVICE_CONNECTION_STRING=connection_string(SharedAccessKey=WRONG_KEY)))
        self.assertFailure(result, 2)
        # CONNECT (MQTT), the clock read (HTTPS), CONNECT (MQTT): three tunnels, in that order.
        records = self.proxy.records()[before:]
        self.assertEqual([r["destination"] for r in records],
                         ["localhost:" + MQTT_PORT, "localhost:" + HTTPS_PORT, "localhost:" + MQTT_PORT], result)
        self.assertEqual(len(gate.since("connect")), 2)


class ProxyRefuses(ContractTest):
    """A refusal by the proxy: exit 1 at once, one line naming the proxy and its status, and no
    second request (the refusal is permanent)."""

    def assertRefused(self, proxy, status, env, runs):
        for program, *args in runs:
            with self.subTest(program=program, args=args, status=status):
                before = len(proxy.records())
                result = run(program, *args, env=env)
                self.assertFailure(result, 1, "proxy " + proxy.address, str(status))
                self.assertEqual(result.out, b"", result)
                records = proxy.records()[before:]
                self.assertEqual([r["status"] for r in records], [status], result)

    def test_refusals_by_status(self):
        for status in (407, 403, 502):
            proxy = Proxy("--mode", "status", "--status", str(status))
            try:
                self.assertRefused(proxy, status, hub_env(IOTHUB_PROXY=proxy.address), MQTT_RUNS + HTTPS_RUNS)
            finally:
                proxy.stop()

    def test_wrong_or_missing_credentials_are_407(self):
        proxy = Proxy("--user", "u", "--password", "right")
        try:
            for extra in ({"IOTHUB_PROXY_USER": "u", "IOTHUB_PROXY_PASSWORD": "wrong"}, {"IOTHUB_PROXY_USER": "other"}, {}):
                env = hub_env(IOTHUB_PROXY=proxy.address, **extra)
                self.assertRefused(proxy, 407, env, MQTT_RUNS[:1] + HTTPS_RUNS[:1])
                self.assertIn("IOTHUB_PROXY_USER", run("hub-telemetry", "--count", "1", env=env).err_lines[-1])
        finally:
            proxy.stop()

    def test_an_answer_that_is_not_a_tunnel(self):
        for mode in ("garbage", "oversize", "early"):
            proxy = Proxy("--mode", mode)
            try:
                for program, *args in MQTT_RUNS[:1] + HTTPS_RUNS[:1]:
                    with self.subTest(mode=mode, program=program):
                        result = run(program, *args, env=hub_env(IOTHUB_PROXY=proxy.address))
                        self.assertFailure(result, 1, "proxy " + proxy.address, "not a usable HTTP response")
            finally:
                proxy.stop()


class ProxyUnreachable(ContractTest):
    def test_a_proxy_nothing_listens_on_is_retried_then_given_up(self):
        # The same class of failure as a hub that cannot be reached: retried until the streak
        # has lasted IOTHUB_CONNECT_RETRY_S.
        address = "127.0.0.1:" + free_port()
        result = run("hub-telemetry", "--count", "1", env=hub_env(IOTHUB_PROXY=address, IOTHUB_CONNECT_RETRY_S="2"))
        self.assertFailure(result, 1, "refused", "IOTHUB_CONNECT_RETRY_S")
        self.assertIn(b"reconnect attempt 1 ", result.err, result)
        result = run(*HTTPS_RUNS[0], env=hub_env(IOTHUB_PROXY=address, IOTHUB_CONNECT_RETRY_S="2"))
        self.assertFailure(result, 1, "refused", "IOTHUB_CONNECT_RETRY_S")


class ProxySettings(ContractTest):
    """Malformed proxy settings: a usage error (exit 1, one line) before any connection."""

    def test_malformed_settings(self):
        cases = (({"IOTHUB_PROXY": "no-port"}, "IOTHUB_PROXY"),
                 ({"IOTHUB_PROXY": "host:"}, "IOTHUB_PROXY"),
                 ({"IOTHUB_PROXY": "host:0"}, "IOTHUB_PROXY"),
                 ({"IOTHUB_PROXY": "host:65536"}, "IOTHUB_PROXY"),
                 ({"IOTHUB_PROXY": ":3128"}, "IOTHUB_PROXY"),
                 ({"IOTHUB_PROXY": "::1:3128"}, "IOTHUB_PROXY"),
                 ({"IOTHUB_PROXY": "a b:3128"}, "IOTHUB_PROXY"),
                 ({"IOTHUB_PROXY_USER": "u"}, "need IOTHUB_PROXY"),
                 ({"IOTHUB_PROXY": "127.0.0.1:3128", "IOTHUB_PROXY_PASSWORD": "p"}, "IOTHUB_PROXY_USER"),
                 ({"IOTHUB_PROXY": "127.0.0.1:3128", "IOTHUB_PROXY_USER": "a:b"}, "':'"))
        for extra, mention in cases:
            for program, *args in MQTT_RUNS[:1] + HTTPS_RUNS[:1]:
                with self.subTest(extra=extra, program=program):
                    self.assertUsageError(run(program, *args, env=hub_env(**extra)), mention)

    def test_accepted_forms(self):
        proxy = Proxy()
        try:
            for value in ("127.0.0.1:" + proxy.port, "http://127.0.0.1:%s/" % proxy.port, "localhost:" + proxy.port):
                with self.subTest(value=value):
                    before = len(proxy.records())
                    result = run("hub-telemetry", "--count", "1", env=hub_env(IOTHUB_PROXY=value))
                    self.assertEqual(result.rc, 0, result)
                    self.assertEqual(len(proxy.records()) - before, 1, result)
        finally:
            proxy.stop()


if __name__ == "__main__":
    unittest.main()
