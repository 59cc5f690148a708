"""The examples' second way to name the device (README contract, "Provisioning through DPS"): with
IOTHUB_DEVICE_CONNECTION_STRING unset and IOTHUB_DPS_ID_SCOPE set, every hub example registers with
the Device Provisioning Service, prints `provisioned <assignedHub> <deviceId>` and goes on against
the assigned hub; IOTHUB_DPS_CACHE_FILE keeps the assignment for the next run.

DPS is Tests/Fixtures/dps_fixture.py (it checks the CONNECT, the SAS, the certificate and every request
as DPS does, and records what it saw). The hub it assigns is `localhost`: a second IoT Hub gate
(Tests/Fixtures/iothub_mqtt_gate.py --host localhost) in front of the stand-in's mosquitto, which
knows the provisioned devices with the keys computed here, independently of the examples: the
individual enrollment's key, and base64(HMAC-SHA256(base64decode(groupKey), registrationId)) for the
group's device."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import ssl
import subprocess
import unittest
import urllib.parse

from support import (CA, CONNECTION_STRING, HUB_DIR, SERVICE_MQTT, WRONG_KEY, ContractTest, Running, Watch,
                     free_port, header, hub_env, make_leaf, run, temporary_directory)
from test_proxy import Proxy

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures")
SCOPE = "0ne00C11A00"
HUB = "localhost"
DEVICE = "dps-cli-device"
KEY = base64.b64encode(b"tinyhub CLI contract DPS individual key").decode()
GROUP_KEY = base64.b64encode(b"tinyhub CLI contract DPS group key").decode()
GROUP_DEVICE = "dps-cli-group-device"
X509_DEVICE = "dps-cli-x509"
CLIENT_EXT = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"


def derived_key(group_key, registration_id):
    return base64.b64encode(hmac.new(base64.b64decode(group_key), registration_id.encode(), hashlib.sha256).digest()).decode()


def enrollment(registration_id, **fields):
    entry = {"registrationId": registration_id, "attestation": "symmetricKey", "primaryKey": KEY, "assignedHub": HUB,
             "deviceId": DEVICE, "assigningPolls": 1, "retryAfter": 1}
    entry.update(fields)
    return entry


ENROLLMENTS = [
    enrollment(DEVICE),
    {"groupId": "dps-cli-group", "attestation": "symmetricKey", "primaryKey": GROUP_KEY, "assignedHub": HUB,
     "assigningPolls": 1, "retryAfter": 1},
    {"registrationId": X509_DEVICE, "attestation": "x509", "assignedHub": HUB, "assigningPolls": 1, "retryAfter": 1},
    enrollment("dps-cli-failed", outcome="failed"),
    enrollment("dps-cli-disabled", outcome="disabled"),
    # Throttled once (429, retry-after 2), then two "assigning" answers with retry-after 2.
    enrollment("dps-cli-slow", assigningPolls=2, retryAfter=2, throttle=1, throttleRetryAfter=2),
    # "assigning" without retry-after: the device waits DPS's default, 3 s.
    enrollment("dps-cli-default-wait", retryAfter=None),
]


class Fixtures:
    """The DPS fixture and the assigned hub's gate, for the whole module."""

    def __init__(self):
        self.directory = temporary_directory()
        self.processes = []
        config = os.path.join(self.directory, "dps.json")
        with open(config, "w") as f:
            json.dump({"idScope": SCOPE, "enrollments": ENROLLMENTS}, f)
        self.certificate, self.key = make_leaf(HUB_DIR, X509_DEVICE, "ca", X509_DEVICE, CLIENT_EXT)
        server = (os.path.join(HUB_DIR, "server.pem"), os.path.join(HUB_DIR, "server.key"))
        self.dps_log = os.path.join(self.directory, "dps.jsonl")
        self.dps_port, self.dps_control = self.start(
            "dps_fixture.py", "--cert", server[0], "--key", server[1], "--client-ca", CA, "--config", config,
            "--log", self.dps_log)
        self.gate_log = os.path.join(self.directory, "gate.jsonl")
        self.gate_port, self.gate_control = self.start(
            "iothub_mqtt_gate.py", "--cert", server[0], "--key", server[1], "--client-ca", CA, "--host", HUB,
            "--broker-port", os.environ["BROKER_PLAIN_PORT"], "--device", "%s=%s" % (DEVICE, KEY),
            "--device", "%s=%s" % (GROUP_DEVICE, derived_key(GROUP_KEY, GROUP_DEVICE)), "--x509-device", X509_DEVICE,
            "--log", self.gate_log)
        # The assigned hub's HTTPS face (its clock check, and the HTTPS transport) for DEVICE.
        self.https_port, = self.start("iothub_https_fixture.py", "--cert", server[0], "--key", server[1], "--host", HUB,
                                      "--device", DEVICE, "--device-key", KEY, lines=1)

    def start(self, script, *args, lines=2):
        process = subprocess.Popen(["python3", os.path.join(FIXTURES, script), *args], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.processes.append(process)
        ports = [process.stdout.readline().decode().strip() for _ in range(lines)]
        if not all(p.isdigit() for p in ports):
            self.stop()
            raise RuntimeError("%s did not start" % script)
        return ports

    @staticmethod
    def control(port, command):
        with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as s, s.makefile("rwb") as stream:
            stream.write((json.dumps(command) + "\n").encode())
            stream.flush()
            reply = json.loads(stream.readline())
        assert reply.get("ok", True), reply
        return reply

    def https_fixture(self, method, path, body=None):
        """Calls a control endpoint of the assigned hub's HTTPS fixture; returns its JSON answer."""
        conn = http.client.HTTPSConnection("localhost", int(self.https_port), timeout=10,
                                           context=ssl.create_default_context(cafile=CA))
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None,
                         {"Content-Type": "application/json"} if body is not None else {})
            response = conn.getresponse()
            data = response.read()
            assert response.status == 200, (path, response.status, data)
            return json.loads(data)
        finally:
            conn.close()

    def https_config(self, **config):
        """POST /_fixture/config to the assigned hub's HTTPS fixture."""
        self.https_fixture("POST", "/_fixture/config", config)

    def https_requests(self):
        """The device requests the assigned hub's HTTPS fixture has seen."""
        return self.https_fixture("GET", "/_fixture/requests")

    def dps_stats(self):
        return self.control(self.dps_control, {"stats": True})

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                process.wait()
            process.stdout.close()


class Log:
    """A JSON-lines record; `since()` returns what was written after this object was made."""

    def __init__(self, path):
        self.path = path
        self.offset = os.path.getsize(path) if os.path.exists(path) else 0

    def since(self, event=None):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            records = [json.loads(line) for line in f.read().splitlines() if line.strip()]
        return [r for r in records if event is None or r.get("event") == event]


FIXTURE = None


def setUpModule():
    global FIXTURE
    FIXTURE = Fixtures()


def tearDownModule():
    FIXTURE.stop()


def dps_env(registration_id=DEVICE, **extra):
    """The README's DPS settings against the fixtures (no connection string); None removes a variable."""
    settings = dict(IOTHUB_DEVICE_CONNECTION_STRING=None, IOTHUB_DPS_ID_SCOPE=SCOPE, IOTHUB_DPS_REGISTRATION_ID=registration_id,
                    IOTHUB_DPS_SYMMETRIC_KEY=KEY, IOTHUB_DPS_HOST="localhost", IOTHUB_DPS_PORT=FIXTURE.dps_port,
                    IOTHUB_DPS_HTTPS_PORT=FIXTURE.dps_port, IOTHUB_MQTT_PORT=FIXTURE.gate_port, IOTHUB_HTTPS_PORT=FIXTURE.https_port)
    settings.update(extra)
    return hub_env(**settings)


def telemetry_watch(device):
    base = "devices/%s/messages/events/" % device
    return Watch(base + "#", base + "tinyhub-probe", SERVICE_MQTT)


class DPSTest(ContractTest):
    def setUp(self):
        FIXTURE.control(FIXTURE.dps_control, {"reset": True})
        self.dps = Log(FIXTURE.dps_log)
        self.gate = Log(FIXTURE.gate_log)

    def cache_file(self):
        return os.path.join(temporary_directory(), "dps-cache")

    def assertRegistered(self, registration_id, enrollment_name):
        """One accepted DPS connection for `registration_id`, matched to `enrollment_name`, no early request."""
        connects = self.dps.since("connect")
        self.assertEqual([(c["client_id"], c["accepted"], c["enrollment"]) for c in connects],
                         [(registration_id, True, enrollment_name)], connects)
        self.assertFalse([r for r in self.dps.since("request") if r["early"]])

    def assertHubAccepted(self, device):
        connects = self.gate.since("connect")
        self.assertTrue(connects, "no connection to the assigned hub")
        self.assertEqual((connects[-1]["client_id"], connects[-1]["accepted"]), (device, True), connects)


class Credentials(DPSTest):
    def test_individual_key_every_example(self):
        provisioned = "provisioned %s %s" % (HUB, DEVICE)
        watch = telemetry_watch(DEVICE)
        try:
            result = run("hub-telemetry", "--count", "2", env=dps_env())
            self.assertEqual(result.rc, 0, result)
            self.assertEqual(result.out_lines, [provisioned, "sent and acknowledged: 2"], result)
            self.assertEqual(len(watch.wait_count(2)), 2)
        finally:
            watch.stop()
        self.assertRegistered(DEVICE, DEVICE)
        self.assertHubAccepted(DEVICE)
        # The SAS DPS checked was for the registration resource and policy.
        sas = self.dps.since("connect")[0]["sas"]
        self.assertEqual((urllib.parse.unquote(sas["sr"]), sas["skn"]), ("%s/registrations/%s" % (SCOPE, DEVICE), "registration"))

        for program, args, code, record in (("hub-twin", (), 0, "twin "), ("hub-c2d", ("--timeout-s", "2"), 3, None)):
            with self.subTest(program=program):
                result = run(program, *args, env=dps_env())
                self.assertEqual(result.rc, code, result)
                self.assertEqual(result.out_lines[0], provisioned, result)
                if record:
                    self.assertTrue(result.out_lines[1].startswith(record), result)
        running = Running("hub-methods", env=dps_env())
        try:
            running.wait_for("err", rb"hub-methods: subscribed")
        finally:
            running.stop()
        self.assertEqual(running.result(False).out_lines, [provisioned])

    def test_group_key_device_key_derived(self):
        result = run("hub-telemetry", "--count", "1", env=dps_env(GROUP_DEVICE, IOTHUB_DPS_SYMMETRIC_KEY=None,
                                                                  IOTHUB_DPS_GROUP_KEY=GROUP_KEY))
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, GROUP_DEVICE), "sent and acknowledged: 1"], result)
        self.assertRegistered(GROUP_DEVICE, "dps-cli-group")
        self.assertHubAccepted(GROUP_DEVICE)

    def test_x509(self):
        result = run("hub-telemetry", "--count", "1",
                     env=dps_env(X509_DEVICE, IOTHUB_DPS_SYMMETRIC_KEY=None, IOTHUB_DEVICE_CERT_FILE=FIXTURE.certificate,
                                 IOTHUB_DEVICE_KEY_FILE=FIXTURE.key))
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, X509_DEVICE), "sent and acknowledged: 1"], result)
        self.assertRegistered(X509_DEVICE, X509_DEVICE)
        self.assertEqual(self.dps.since("connect")[0]["x509_subject_cn"], X509_DEVICE)
        self.assertHubAccepted(X509_DEVICE)
        self.assertEqual(self.gate.since("connect")[-1]["x509_subject_cn"], X509_DEVICE)

    def test_a_connection_string_wins(self):
        before = FIXTURE.dps_stats()["connections"]
        result = run("hub-telemetry", "--count", "1", env=dps_env(IOTHUB_DEVICE_CONNECTION_STRING=CONNECTION_STRING,
                                                                  IOTHUB_MQTT_PORT=os.environ["HUB_MQTT_PORT"]))
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["sent and acknowledged: 1"], result)
        self.assertEqual(FIXTURE.dps_stats()["connections"], before)


class Cache(DPSTest):
    def test_written_then_used(self):
        cache = self.cache_file()
        result = run("hub-telemetry", "--count", "1", env=dps_env(IOTHUB_DPS_CACHE_FILE=cache))
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, DEVICE), "sent and acknowledged: 1"], result)
        before = FIXTURE.dps_stats()["connections"]
        for program, args, code in (("hub-telemetry", ("--count", "1"), 0), ("hub-twin", (), 0)):
            with self.subTest(program=program):
                gate = Log(FIXTURE.gate_log)
                result = run(program, *args, env=dps_env(IOTHUB_DPS_CACHE_FILE=cache))
                self.assertEqual(result.rc, code, result)
                self.assertFalse([line for line in result.out_lines if line.startswith("provisioned")], result)
                self.assertEqual(FIXTURE.dps_stats()["connections"], before, "DPS was contacted despite the cache")
                self.gate = gate
                self.assertHubAccepted(DEVICE)

    def test_another_registration_is_not_served_from_the_cache(self):
        cache = self.cache_file()
        self.assertEqual(run("hub-telemetry", "--count", "1", env=dps_env(IOTHUB_DPS_CACHE_FILE=cache)).rc, 0)
        result = run("hub-telemetry", "--count", "1", env=dps_env(GROUP_DEVICE, IOTHUB_DPS_SYMMETRIC_KEY=None,
                                                                  IOTHUB_DPS_GROUP_KEY=GROUP_KEY, IOTHUB_DPS_CACHE_FILE=cache))
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, GROUP_DEVICE), "sent and acknowledged: 1"], result)

    def test_refused_by_the_hub_provisions_once_more(self):
        cache = self.cache_file()
        self.assertEqual(run("hub-telemetry", "--count", "1", env=dps_env(IOTHUB_DPS_CACHE_FILE=cache)).rc, 0)
        registers = FIXTURE.dps_stats()["registers"]
        # The hub refuses the cached identity twice: the first refusal, and the one after its clock check.
        FIXTURE.control(FIXTURE.gate_control, {"refuse": 2, "code": 5})
        gate = Log(FIXTURE.gate_log)
        result = run("hub-telemetry", "--count", "1", env=dps_env(IOTHUB_DPS_CACHE_FILE=cache))
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, DEVICE), "sent and acknowledged: 1"], result)
        self.assertEqual(FIXTURE.dps_stats()["registers"], registers + 1)
        self.assertEqual([c["accepted"] for c in gate.since("connect")], [False, False, True])
        # The cache was rewritten: the next run uses it.
        before = FIXTURE.dps_stats()["connections"]
        result = run("hub-telemetry", "--count", "1", env=dps_env(IOTHUB_DPS_CACHE_FILE=cache))
        self.assertEqual(result.out_lines, ["sent and acknowledged: 1"], result)
        self.assertEqual(FIXTURE.dps_stats()["connections"], before)

    def test_an_unusable_cache_path_is_a_usage_error(self):
        result = run("hub-telemetry", "--count", "1",
                     env=dps_env(IOTHUB_DPS_CACHE_FILE=os.path.join(HUB_DIR, "no-such-folder", "cache")))
        self.assertUsageError(result, "IOTHUB_DPS_CACHE_FILE")


class OverHTTPS(DPSTest):
    def tearDown(self):
        FIXTURE.https_config(statusNext=[])

    def test_telemetry_through_dps(self):
        result = run("hub-telemetry", "--transport", "https", "--count", "1", env=dps_env())
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, DEVICE), "sent and acknowledged: 1"], result)
        self.assertRegistered(DEVICE, DEVICE)

    def https_run(self, program, cache, *args):
        return run(program, "--transport", "https", *args, env=dps_env(IOTHUB_DPS_CACHE_FILE=cache))

    def cached(self):
        """A cache file written by a run that registered, and its content."""
        cache = self.cache_file()
        self.assertEqual(self.https_run("hub-telemetry", cache, "--count", "1").rc, 0)
        with open(cache, "rb") as f:
            return cache, f.read()

    def test_a_refused_cached_identity_provisions_once_more(self):
        cache, written = self.cached()
        # A mark past the assignment: the reader ignores it, a rewrite of the whole file clears it.
        with open(cache, "r+b") as f:
            f.seek(len(written) - 8)
            f.write(b"stale!!\n")
        registers = FIXTURE.dps_stats()["registers"]
        seen = len(FIXTURE.https_requests())
        # The hub refuses the cached identity: a 401 that leads to its clock check (the Date), then a final one.
        FIXTURE.https_config(statusNext=[401, 401])
        result = self.https_run("hub-telemetry", cache, "--count", "2")
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, DEVICE), "sent and acknowledged: 2"], result)
        self.assertIn(b"the hub refused the cached identity: provisioning again", result.err, result)
        self.assertEqual(FIXTURE.dps_stats()["registers"], registers + 1)
        # The refused message went again with the new identity (same id), then the second one: each accepted once.
        ids = [header(r, "iothub-messageid") for r in FIXTURE.https_requests()[seen:]]
        self.assertEqual(len(ids), 4, ids)
        self.assertEqual(ids[:3], [ids[0]] * 3, "the refused message is the one sent again")
        self.assertNotEqual(ids[3], ids[0], ids)
        with open(cache, "rb") as f:
            self.assertEqual(f.read(), written, "IOTHUB_DPS_CACHE_FILE was not rewritten")
        # The next run uses the rewritten cache.
        before = FIXTURE.dps_stats()["connections"]
        result = self.https_run("hub-telemetry", cache, "--count", "1")
        self.assertEqual(result.out_lines, ["sent and acknowledged: 1"], result)
        self.assertEqual(FIXTURE.dps_stats()["connections"], before)

    def test_c2d_provisions_once_more_too(self):
        cache, _ = self.cached()
        registers = FIXTURE.dps_stats()["registers"]
        FIXTURE.https_fixture("POST", "/_fixture/c2d", {"body": "after-dps"})
        FIXTURE.https_config(statusNext=[401, 401])
        result = self.https_run("hub-c2d", cache, "--count", "1", "--dev-poll-interval-s", "1", "--timeout-s", "30")
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, DEVICE), "c2d after-dps"], result)
        self.assertEqual(FIXTURE.dps_stats()["registers"], registers + 1)
        self.assertEqual(FIXTURE.https_fixture("GET", "/_fixture/stats")["queue"], 0)

    def test_a_refused_fresh_identity_exits_2(self):
        cache, _ = self.cached()
        registers = FIXTURE.dps_stats()["registers"]
        # The cached identity refused (after the clock check), then the one DPS gave in this run.
        FIXTURE.https_config(statusNext=[401, 401, 401, 401])
        result = self.https_run("hub-telemetry", cache, "--count", "1")
        self.assertFailure(result, 2)
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, DEVICE)], result)
        self.assertEqual(FIXTURE.dps_stats()["registers"], registers + 1)


class Refusals(DPSTest):
    def assertRefusedAfterOneClockCheck(self, result, before):
        self.assertFailure(result, 2, "DPS refused the credentials")
        self.assertEqual(result.out, b"", result)
        self.assertEqual(len(result.err_lines), 1, result)
        stats = FIXTURE.dps_stats()
        self.assertEqual(stats["http"] - before["http"], 1, stats)  # the one clock check
        self.assertLessEqual(stats["mqtt"] - before["mqtt"], 3, stats)
        self.assertEqual(stats["accepted"], before["accepted"], stats)

    def test_wrong_key_exits_2(self):
        for extra in (dict(IOTHUB_DPS_SYMMETRIC_KEY=WRONG_KEY),
                      dict(IOTHUB_DPS_SYMMETRIC_KEY=None, IOTHUB_DPS_GROUP_KEY=WRONG_KEY, IOTHUB_DPS_REGISTRATION_ID=GROUP_DEVICE)):
            with self.subTest(extra=extra):
                before = FIXTURE.dps_stats()
                self.assertRefusedAfterOneClockCheck(run("hub-telemetry", "--count", "1", env=dps_env(**extra)), before)

    def test_unknown_scope_exits_2(self):
        before = FIXTURE.dps_stats()
        self.assertRefusedAfterOneClockCheck(run("hub-twin", env=dps_env(IOTHUB_DPS_ID_SCOPE="0ne00FFFFFF")), before)

    def test_failed_and_disabled_enrollments_exit_1(self):
        for registration_id, message in (("dps-cli-failed", "Custom allocation failed with status code: 400"),
                                         ("dps-cli-disabled", "The enrollment is disabled.")):
            with self.subTest(registration_id=registration_id):
                result = run("hub-telemetry", "--count", "1", env=dps_env(registration_id))
                self.assertFailure(result, 1, "provisioning failed", message)
                self.assertEqual(result.out, b"", result)
                self.assertEqual(len(result.err_lines), 1, result)

    def test_dps_unreachable_exits_1(self):
        result = run("hub-telemetry", "--count", "1", env=dps_env(IOTHUB_DPS_PORT=free_port()))
        self.assertFailure(result, 1, "cannot reach DPS")
        self.assertEqual(len(result.err_lines), 1, result)


class RetryAfter(DPSTest):
    def test_throttled_then_assigning_honours_retry_after(self):
        result = run("hub-telemetry", "--count", "1", env=dps_env("dps-cli-slow"))
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, DEVICE), "sent and acknowledged: 1"], result)
        answers = [a["status"] for a in self.dps.since("answer")]
        self.assertEqual(answers, [429, 202, 202, 202, 200], answers)
        self.assertEqual(FIXTURE.dps_stats()["early"], 0)

    def test_no_retry_after_means_three_seconds(self):
        result = run("hub-telemetry", "--count", "1", env=dps_env("dps-cli-default-wait"))
        self.assertEqual(result.rc, 0, result)
        requests = self.dps.since("request")
        self.assertEqual([r["kind"] for r in requests], ["register", "status", "status"], requests)
        self.assertEqual(FIXTURE.dps_stats()["early"], 0)


class Settings(DPSTest):
    def test_usage_errors(self):
        certificate = dict(IOTHUB_DEVICE_CERT_FILE=FIXTURE.certificate, IOTHUB_DEVICE_KEY_FILE=FIXTURE.key)
        cases = ((dict(IOTHUB_DPS_GROUP_KEY=GROUP_KEY), "not two"),
                 (certificate, "not two"),
                 (dict(IOTHUB_DPS_SYMMETRIC_KEY=None, IOTHUB_DPS_GROUP_KEY=GROUP_KEY, **certificate), "not two"),
                 (dict(IOTHUB_DPS_SYMMETRIC_KEY=None, IOTHUB_DEVICE_CERT_FILE=FIXTURE.certificate), "IOTHUB_DEVICE_KEY_FILE"),
                 (dict(IOTHUB_DPS_SYMMETRIC_KEY=None), "needs a credential"),
                 (dict(IOTHUB_DPS_REGISTRATION_ID=None), "IOTHUB_DPS_REGISTRATION_ID"),
                 (dict(IOTHUB_DPS_REGISTRATION_ID="has space"), "IOTHUB_DPS_REGISTRATION_ID"),
                 (dict(IOTHUB_DPS_REGISTRATION_ID=""), "IOTHUB_DPS_REGISTRATION_ID"),
                 (dict(IOTHUB_DPS_ID_SCOPE="0ne/../x"), "IOTHUB_DPS_ID_SCOPE"),
                 (dict(IOTHUB_DPS_SYMMETRIC_KEY=None, IOTHUB_DPS_GROUP_KEY="not base64!"), "IOTHUB_DPS_GROUP_KEY"),
                 (dict(IOTHUB_DPS_ID_SCOPE=None), "IOTHUB_DEVICE_CONNECTION_STRING"),
                 (dict(IOTHUB_DPS_PORT="0"), "IOTHUB_DPS_PORT"),
                 (dict(IOTHUB_DPS_HTTPS_PORT="x"), "IOTHUB_DPS_HTTPS_PORT"))
        before = FIXTURE.dps_stats()["connections"]
        for extra, mention in cases:
            for program in ("hub-telemetry", "hub-methods"):
                with self.subTest(extra=extra, program=program):
                    self.assertUsageError(run(program, env=dps_env(**extra)), mention)
        self.assertEqual(FIXTURE.dps_stats()["connections"], before, "a usage error contacted DPS")


class ThroughAProxy(DPSTest):
    def test_dps_and_the_hub_through_the_proxy(self):
        proxy = Proxy()
        try:
            result = run("hub-telemetry", "--count", "1", env=dps_env(IOTHUB_PROXY=proxy.address))
            self.assertEqual(result.rc, 0, result)
            self.assertEqual(result.out_lines, ["provisioned %s %s" % (HUB, DEVICE), "sent and acknowledged: 1"], result)
            self.assertEqual([r["destination"] for r in proxy.records()],
                             ["localhost:" + FIXTURE.dps_port, "localhost:" + FIXTURE.gate_port], result)
        finally:
            proxy.stop()

    def test_a_refusing_proxy_is_named_for_dps(self):
        proxy = Proxy("--mode", "status", "--status", "403")
        try:
            result = run("hub-telemetry", "--count", "1", env=dps_env(IOTHUB_PROXY=proxy.address))
            self.assertFailure(result, 1, "DPS connection failed: proxy " + proxy.address, "403")
            self.assertEqual([r["status"] for r in proxy.records()], [403], result)  # a refusal is final
        finally:
            proxy.stop()


if __name__ == "__main__":
    unittest.main()
