"""The environment table and the exit codes for settings, network and authentication failures
(README: "Environment (all four)", "Exit codes (all four)")."""
import os
import shutil
import subprocess
import time
import unittest

from support import (BIN, RUN_LIMIT_S, CONNECTION_STRING, DEVICE, GateLog, Result, HOST_NAME, HUB_DIR, WRONG_KEY, ContractTest, connection_string,
                     fixture_requests, fixture_reset, free_port, gate_control, header, hub_env, make_ca, run, sas_fields,
                     temporary_directory)

# Each hub example with arguments that make it finish on its own once connected.
MQTT_RUNS = (("hub-telemetry", "--count", "1"), ("hub-c2d", "--timeout-s", "5"), ("hub-twin",), ("hub-methods",))
HTTPS_RUNS = (("hub-telemetry", "--transport", "https", "--count", "1"),
              ("hub-c2d", "--transport", "https", "--timeout-s", "5", "--dev-poll-interval-s", "1"))


class Settings(ContractTest):
    """Missing or malformed settings: exit 1 with one line, before any connection."""

    def test_connection_string_is_required(self):
        for program, *args in MQTT_RUNS:
            with self.subTest(program=program):
                result = run(program, *args, env=hub_env(IOTHUB_DEVICE_CONNECTION_STRING=None))
                self.assertUsageError(result, "IOTHUB_DEVICE_CONNECTION_STRING")

    def test_malformed_connection_string(self):
        """The line names the field and its problem."""
        for text, problem in (
                ("garbage", "a segment has no '='"),
                ("HostName=%s" % HOST_NAME, "DeviceId is missing"),
                ("HostName=%s;DeviceId=%s" % (HOST_NAME, DEVICE), "SharedAccessKey is missing"),
                ("DeviceId=%s;SharedAccessKey=%s" % (DEVICE, WRONG_KEY), "HostName is missing"),
                ("HostName=;DeviceId=d;SharedAccessKey=a2V5", "HostName is empty"),
                ("HostName=h;DeviceId=d;DeviceId=e;SharedAccessKey=a2V5", "duplicate key DeviceId"),
                ("HostName=h;DeviceId=d;x509=yes", "x509 must be exactly true"),
                (connection_string(SharedAccessKey="not base64!"), "SharedAccessKey is not valid base64")):
            for program, *args in MQTT_RUNS[:1] + HTTPS_RUNS[:1]:
                with self.subTest(text=text, args=args):
                    self.assertUsageError(run(program, *args, env=hub_env(IOTHUB_DEVICE_CONNECTION_STRING=text)),
                                          "invalid connection string: " + problem)

    def test_empty_connection_string(self):
        for program, *args in MQTT_RUNS[:1] + HTTPS_RUNS[:1]:
            with self.subTest(args=args):
                self.assertUsageError(run(program, *args, env=hub_env(IOTHUB_DEVICE_CONNECTION_STRING="")),
                                      "connection string")

    def test_bad_ports(self):
        for value in ("abc", "0", "65536", "-1", "", "8883x"):
            for program, *args in MQTT_RUNS:
                with self.subTest(variable="IOTHUB_MQTT_PORT", value=value, program=program):
                    self.assertUsageError(run(program, *args, env=hub_env(IOTHUB_MQTT_PORT=value)), "IOTHUB_MQTT_PORT")
            for program, *args in HTTPS_RUNS:
                with self.subTest(variable="IOTHUB_HTTPS_PORT", value=value, program=program):
                    self.assertUsageError(run(program, *args, env=hub_env(IOTHUB_HTTPS_PORT=value)), "IOTHUB_HTTPS_PORT")

    def test_bad_sas_lifetime(self):
        for value in ("abc", "", "0", "4", "-60", "60s"):
            for program, *args in MQTT_RUNS[:1] + HTTPS_RUNS[:1]:
                with self.subTest(value=value, args=args):
                    self.assertUsageError(run(program, *args, env=hub_env(IOTHUB_SAS_TTL_S=value)), "IOTHUB_SAS_TTL_S")

    def test_certificate_and_key_go_together(self):
        certificate, key = os.path.join(HUB_DIR, "server.pem"), os.path.join(HUB_DIR, "server.key")
        x509 = connection_string(SharedAccessKey=None, x509="true")
        cases = [dict(IOTHUB_DEVICE_CERT_FILE=certificate), dict(IOTHUB_DEVICE_KEY_FILE=key),
                 dict(IOTHUB_DEVICE_CONNECTION_STRING=x509, IOTHUB_DEVICE_CERT_FILE=certificate),
                 dict(IOTHUB_DEVICE_CONNECTION_STRING=x509, IOTHUB_DEVICE_KEY_FILE=key)]
        for settings in cases:
            for program, *args in MQTT_RUNS[:1] + HTTPS_RUNS[:1]:
                with self.subTest(settings=settings, args=args):
                    self.assertUsageError(run(program, *args, env=hub_env(**settings)), "IOTHUB_DEVICE_")

    def test_x509_needs_certificate_and_key(self):
        x509 = connection_string(SharedAccessKey=None, x509="true")
        for program, *args in MQTT_RUNS + HTTPS_RUNS:
            with self.subTest(program=program, args=args):
                result = run(program, *args, env=hub_env(IOTHUB_DEVICE_CONNECTION_STRING=x509))
                self.assertUsageError(result, "x509", "IOTHUB_DEVICE_CERT_FILE")

    def test_unreadable_certificate_files(self):
        missing = os.path.join(HUB_DIR, "no-such-file.pem")
        x509 = connection_string(SharedAccessKey=None, x509="true")
        settings = dict(IOTHUB_DEVICE_CONNECTION_STRING=x509, IOTHUB_DEVICE_CERT_FILE=missing, IOTHUB_DEVICE_KEY_FILE=missing)
        for program, *args in MQTT_RUNS[:1] + HTTPS_RUNS[:1]:
            with self.subTest(args=args):
                self.assertFailure(run(program, *args, env=hub_env(**settings)), 1, "certificate")


class NetworkFailures(ContractTest):
    """TLS and network failures: exit 1, one clear last stderr line, no record."""

    @classmethod
    def setUpClass(cls):
        cls.other_ca = make_ca(temporary_directory(), "other-ca")

    def test_nothing_listens(self):
        # Refused connections are transient: retried until the streak has lasted IOTHUB_CONNECT_RETRY_S.
        port = free_port()
        for program, *args in MQTT_RUNS:
            with self.subTest(program=program):
                result = run(program, *args, env=hub_env(IOTHUB_MQTT_PORT=port, IOTHUB_CONNECT_RETRY_S="2"))
                self.assertFailure(result, 1, "refused", "IOTHUB_CONNECT_RETRY_S")
                self.assertIn(b"reconnect attempt 1 ", result.err, result)
        for program, *args in HTTPS_RUNS[:1]:
            with self.subTest(program=program, transport="https"):
                result = run(program, *args, env=hub_env(IOTHUB_HTTPS_PORT=port, IOTHUB_CONNECT_RETRY_S="2"))
                self.assertFailure(result, 1, "refused", "IOTHUB_CONNECT_RETRY_S")
                self.assertIn(b"retrying in", result.err, result)

    def test_server_not_trusted(self):
        # An unrelated CA file, and no file at all (the built-in Azure roots): the stand-in's
        # certificate is not trusted either way.
        for trusted in (self.other_ca, None):
            for program, *args in MQTT_RUNS + HTTPS_RUNS:
                with self.subTest(trusted=trusted, args=args):
                    self.assertFailure(run(program, *args, env=hub_env(IOTHUB_TRUSTED_CA_FILE=trusted)), 1, "certificate")

    def test_trusted_ca_file_missing(self):
        for program, *args in MQTT_RUNS[:1] + HTTPS_RUNS[:1]:
            with self.subTest(args=args):
                result = run(program, *args, env=hub_env(IOTHUB_TRUSTED_CA_FILE=os.path.join(HUB_DIR, "missing.pem")))
                self.assertFailure(result, 1, "CA file")


class AuthenticationRefused(ContractTest):
    """Exit 2 after one clock check, never retried beyond it (README: MQTT CONNACK 5; HTTPS
    401/403/404): a refused token may be the device's clock, so the hub's time is read once
    (MQTT: one unauthenticated HTTPS GET; HTTPS: the 401's Date) and the token minted again."""

    def setUp(self):
        fixture_reset()

    def test_wrong_key_over_https(self):
        for program, *args in HTTPS_RUNS:
            with self.subTest(program=program):
                before = len(fixture_requests())
                result = run(program, *args, env=hub_env(IOTHUB_DEVICE_CONNECTION_STRING=connection_string(SharedAccessKey=WRONG_KEY)))
                self.assertFailure(result, 2, "401")
                self.assertEqual(result.out, b"", result)
                # The first 401 is dated: the token is minted again from the hub's time and sent
                # once more; the second 401 is final. Two requests, both refused.
                requests = fixture_requests()[before:]
                self.assertEqual(len(requests), 2, result)

    def test_unknown_device_over_https(self):
        # IoT Hub answers 404 (DeviceNotFound) for a device it does not know; the fixture does too.
        env = hub_env(IOTHUB_DEVICE_CONNECTION_STRING=connection_string(DeviceId="no-such-device"))
        before = len(fixture_requests())
        result = run("hub-telemetry", "--transport", "https", "--count", "1", env=env)
        self.assertFailure(result, 2, "404")
        self.assertEqual(len(fixture_requests()) - before, 1, result)

    def test_wrong_key_over_mqtt(self):
        if not os.environ.get("HUB_GATE_LOG"):
            self.skipTest("the stand-in's MQTT side accepts any credentials until its credential gate lands "
                          "(HUB_GATE_LOG unset): no CONNACK 5 to observe")
        cases = ((connection_string(SharedAccessKey=WRONG_KEY), "signature-mismatch"),
                 (connection_string(DeviceId="no-such-device"), "unknown-identity"))
        for text, reason in cases:
            for program, *args in MQTT_RUNS:
                with self.subTest(program=program, reason=reason):
                    gate = GateLog()
                    before = len(fixture_requests())
                    result = run(program, *args, env=hub_env(IOTHUB_DEVICE_CONNECTION_STRING=text))
                    self.assertFailure(result, 2)
                    self.assertEqual(result.out, b"", result)
                    # CONNECT, one clock read over HTTPS (no credentials), CONNECT: both refused
                    # with CONNACK 5 for the key (or identity), then nothing more.
                    reads = fixture_requests()[before:]
                    self.assertEqual([(r["method"], header(r, "Authorization")) for r in reads], [("GET", None)], result)
                    connects = gate.since("connect")
                    self.assertEqual([(c["accepted"], c["code"], c["reason"]) for c in connects], [(False, 5, reason)] * 2)
                    self.assertIn(b"clock", result.err, result)


class SASLifetime(ContractTest):
    """IOTHUB_SAS_TTL_S as the service side sees it: the token's `se` (the HTTPS fixture records
    every request's Authorization header)."""

    def setUp(self):
        fixture_reset()

    def tokens(self, env, *args):
        before = len(fixture_requests())
        start = int(time.time())
        result = run("hub-telemetry", "--transport", "https", *args, env=env)
        end = int(time.time()) + 1
        self.assertEqual(result.rc, 0, result)
        requests = fixture_requests()[before:]
        return start, end, [sas_fields(header(r, "Authorization")) for r in requests]

    def test_lifetime_sets_the_expiry(self):
        for ttl, env in ((3600, hub_env()), (77, hub_env(IOTHUB_SAS_TTL_S="77")), (100000, hub_env(IOTHUB_SAS_TTL_S="100000"))):
            with self.subTest(ttl=ttl):
                start, end, tokens = self.tokens(env, "--count", "1")
                self.assertEqual(len(tokens), 1)
                self.assertTrue(start + ttl <= int(tokens[0]["se"]) <= end + ttl, (start, tokens, end, ttl))
                self.assertEqual(tokens[0]["sr"].lower(), ("%s/devices/%s" % (HOST_NAME, DEVICE)).lower())

    def test_token_renewed_before_it_expires(self):
        # A 5 s token and 5 s between messages: the fixture refuses an expired token, so the second
        # message is accepted only with a token minted after the first.
        start, end, tokens = self.tokens(hub_env(IOTHUB_SAS_TTL_S="5"), "--count", "2", "--interval-ms", "5000")
        self.assertEqual(len(tokens), 2)
        self.assertGreater(int(tokens[1]["se"]), int(tokens[0]["se"]))
        self.assertTrue(start + 5 <= int(tokens[0]["se"]) and int(tokens[1]["se"]) <= end + 5, (start, tokens, end))


class SASLifetimeOverMQTT(ContractTest):
    """IOTHUB_SAS_TTL_S in the MQTT CONNECT, as the stand-in's gate records it."""

    def test_lifetime_sets_the_expiry(self):
        if not os.environ.get("HUB_GATE_LOG"):
            self.skipTest("the stand-in records MQTT CONNECTs once its credential gate lands (HUB_GATE_LOG unset)")
        for ttl, env in ((3600, hub_env()), (77, hub_env(IOTHUB_SAS_TTL_S="77"))):
            with self.subTest(ttl=ttl):
                gate = GateLog()
                start = int(time.time())
                result = run("hub-telemetry", "--count", "1", env=env)
                end = int(time.time()) + 1
                self.assertEqual(result.out, b"sent and acknowledged: 1\n", result)
                (connect,) = gate.since("connect")
                self.assertTrue(connect["accepted"], connect)
                self.assertTrue(start + ttl <= int(connect["sas"]["se"]) <= end + ttl, (start, connect, end, ttl))


class ModuleIdentity(ContractTest):
    """`ModuleId=` in the connection string: the module's telemetry endpoint and SAS resource."""

    def setUp(self):
        fixture_reset()

    def test_module_over_https(self):
        env = hub_env(IOTHUB_DEVICE_CONNECTION_STRING=connection_string(ModuleId="cli-module"))
        before = len(fixture_requests())
        result = run("hub-telemetry", "--transport", "https", "--count", "1", env=env)
        self.assertEqual(result.out, b"sent and acknowledged: 1\n", result)
        (request,) = fixture_requests()[before:]
        self.assertEqual(request["path"], "/devices/%s/modules/cli-module/messages/events" % DEVICE)
        self.assertEqual(sas_fields(header(request, "Authorization"))["sr"].lower(),
                         ("%s/devices/%s/modules/cli-module" % (HOST_NAME, DEVICE)).lower())


if __name__ == "__main__":
    unittest.main()


class TransientFailures(ContractTest):
    """README: transient failures, the first connection included, are retried with the backoff
    until a streak of them has lasted IOTHUB_CONNECT_RETRY_S (exit 1); a success ends it."""

    def setUp(self):
        if not os.environ.get("HUB_GATE_CONTROL_PORT"):
            self.skipTest("needs the stand-in's IoT Hub gate (HUB_GATE_CONTROL_PORT)")

    def tearDown(self):
        gate_control({"refuse": 0})

    def test_server_unavailable_at_first_is_retried(self):
        gate = GateLog()
        gate_control({"refuse": 2, "code": 3})
        result = run("hub-telemetry", "--count", "1", env=hub_env(IOTHUB_CONNECT_RETRY_S="30"))
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["sent and acknowledged: 1"], result)
        connects = gate.since("connect")
        self.assertEqual([(c["accepted"], c["code"]) for c in connects], [(False, 3), (False, 3), (True, None)])

    def test_server_unavailable_for_the_whole_budget_exits_1(self):
        gate = GateLog()
        gate_control({"refuse": 1000, "code": 3})
        result = run("hub-telemetry", "--count", "1", env=hub_env(IOTHUB_CONNECT_RETRY_S="3"))
        self.assertFailure(result, 1, "unavailable", "IOTHUB_CONNECT_RETRY_S")
        # Retried, but within the backoff: waits of at least 0.5, 1, 2 s fit at most 4 attempts
        # into 3 s (plus the one in progress when the budget ran out).
        attempts = len(gate.since("connect"))
        self.assertGreaterEqual(attempts, 2, result)
        self.assertLessEqual(attempts, 5, result)


class UnsetClock(ContractTest):
    """A device whose clock was never set (a board without a battery-backed clock at 2020):
    TLS forgives certificates that are 'not yet valid' (only then), and the SAS token is minted
    from the hub's time, read once over HTTPS before the first CONNECT."""

    def faketime(self, when, *args):
        env = hub_env(FAKETIME_DONT_FAKE_MONOTONIC="1")
        process = subprocess.run(["faketime", when, os.path.join(BIN, "hub-telemetry"), *args], env=env,
                                 stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_LIMIT_S)
        return Result(process.returncode, process.stdout, process.stderr)

    def setUp(self):
        if shutil.which("faketime") is None:
            self.skipTest("faketime is not installed (scripts/setup/install-deps.sh installs it)")
        fixture_reset()

    def test_a_clock_at_2020_still_connects(self):
        gate = GateLog()
        before = len(fixture_requests())
        result = self.faketime("2020-01-01 00:00:00", "--count", "1")
        self.assertEqual((result.rc, result.out), (0, b"sent and acknowledged: 1\n"), result)
        self.assertEqual([c["accepted"] for c in gate.since("connect")], [True], result)
        reads = fixture_requests()[before:]
        self.assertEqual([(r["method"], header(r, "Authorization")) for r in reads], [("GET", None)], result)

    def test_an_expired_certificate_is_still_refused(self):
        # The stand-in's certificates last days: in 2040 they have expired, and that is never forgiven.
        result = self.faketime("2040-01-01 00:00:00", "--count", "1")
        self.assertFailure(result, 1, "certificate")
