"""`--transport mqtt-ws` (README contract): MQTT over WebSockets for all four hub examples, to
IOTHUB_HTTPS_PORT, through IOTHUB_PROXY when set. The stand-in serves IoT Hub's WebSocket
endpoint on its HTTPS port (`GET /$iothub/websocket`, checked by Tests/Fixtures/websocket_bridge.py
as IoT Hub checks it, then bridged to the IoT Hub gate); its record (HUB_WS_LOG) shows what
crossed as WebSockets, so a run that went to the MQTT port instead would show no upgrade."""
import base64
import json
import os
import subprocess
import unittest

from support import (CA, DEVICE, HTTPS_PORT, HUB_DIR, SERVICE_MQTT, ContractTest, Running, Watch, events_watch, fixture_reset,
                     free_port, hub_env, publish, run, temporary_directory)
from test_proxy import Proxy

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures")
HUB_EXAMPLES = ("hub-telemetry", "hub-c2d", "hub-twin", "hub-methods")


class WebSocketLog:
    """The stand-in's WebSocket record (HUB_WS_LOG, one JSON object per line), from now on."""

    def __init__(self):
        self.path = os.environ["HUB_WS_LOG"]
        self.offset = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def since(self, event=None):
        if not os.path.exists(self.path):
            return []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            records = [json.loads(line) for line in f.read().splitlines() if line.strip()]
        return [r for r in records if event is None or r.get("event") == event]


class OverWebSockets(ContractTest):
    def assertUpgradedOnce(self, log, result):
        """One upgrade, as IoT Hub wants it from a SAS device, accepted; every device frame masked
        binary (or continuation) data; the device ended with the close handshake (status 1000)."""
        upgrades = log.since("upgrade")
        self.assertEqual(len(upgrades), 1, (upgrades, result))
        upgrade = upgrades[0]
        self.assertEqual((upgrade["accepted"], upgrade["status"], upgrade["path"], upgrade["query"], upgrade["protocols"],
                          upgrade["version"]), (True, 101, "/$iothub/websocket", "iothub-no-client-cert=true", "mqtt", "13"),
                         upgrade)
        frames = log.since("frame")
        self.assertTrue(frames, result)
        data = [f for f in frames if f["opcode"] in (0, 2)]
        self.assertTrue(data, frames)
        self.assertTrue(all(f["masked"] for f in frames), frames)
        self.assertEqual(log.since("violation"), [])
        closes = log.since("close")
        self.assertEqual([(c["initiator"], c["status"]) for c in closes], [("device", 1000)], (closes, result))

    def test_telemetry(self):
        watch = events_watch()
        self.addCleanup(watch.stop)
        log = WebSocketLog()
        result = run("hub-telemetry", "--transport", "mqtt-ws", "--count", "3", "--property", "path=ws")
        self.assertEqual((result.rc, result.out), (0, b"sent and acknowledged: 3\n"), result)
        messages = watch.wait_count(3)
        self.assertEqual(len(messages), 3, messages)
        prefix = "devices/%s/messages/events/" % DEVICE
        self.assertTrue(all(topic.startswith(prefix) and "path=ws" in topic.split("/")[-1].split("&")
                            for _, topic, _ in messages), messages)
        self.assertEqual(sorted(json.loads(payload)["seq"] for _, _, payload in messages), [1, 2, 3])
        self.assertUpgradedOnce(log, result)

    def test_cloud_to_device(self):
        log = WebSocketLog()
        c2d = Running("hub-c2d", "--transport", "mqtt-ws", "--count", "2", "--timeout-s", "30")
        self.addCleanup(c2d.stop)
        c2d.wait_for("err", rb"^hub-c2d: subscribed")
        sent = (b'{"command":"blink"}', b"caf\xc3\xa9 over 443")
        for index, payload in enumerate(sent, start=1):
            publish("devices/%s/messages/devicebound/%%24.mid=ws-%d" % (DEVICE, index), payload)
        result = c2d.result()
        self.assertEqual((result.rc, result.out), (0, b"".join(b"c2d " + p + b"\n" for p in sent)), result)
        self.assertUpgradedOnce(log, result)

    def test_twin_report(self):
        watch = Watch("$iothub/twin/PATCH/properties/reported/#", "$iothub/twin/PATCH/properties/reported/tinyhub-probe",
                      SERVICE_MQTT)
        self.addCleanup(watch.stop)
        log = WebSocketLog()
        result = run("hub-twin", "--transport", "mqtt-ws", "--report", "network=port 443")
        self.assertEqual(result.rc, 0, result)
        lines = result.out_lines
        self.assertEqual(len(lines), 2, result)
        twin = json.loads(lines[0][len("twin "):])
        self.assertTrue(lines[0].startswith("twin "), result)
        self.assertEqual(lines[1], "reported version %d" % (twin["reported"]["$version"] + 1), result)
        patches = watch.wait_count(1)
        self.assertEqual([json.loads(p) for _, _, p in patches], [{"network": "port 443"}])
        self.assertUpgradedOnce(log, result)

    def test_method_echo(self):
        watch = Watch("$iothub/methods/res/#", "$iothub/methods/res/tinyhub-probe", SERVICE_MQTT)
        self.addCleanup(watch.stop)
        log = WebSocketLog()
        methods = Running("hub-methods", "--transport", "mqtt-ws", "--count", "2")
        self.addCleanup(methods.stop)
        methods.wait_for("err", rb"^hub-methods: subscribed")
        # The second payload spans several WebSocket frames each way (the transport's 2 KB buffers).
        calls = (("reboot", "7", b'{"delayS":5}'), ("big", "8", b'"' + bytes(0x61 + i % 26 for i in range(6000)) + b'"'))
        for name, rid, payload in calls:
            publish("$iothub/methods/POST/%s/?$rid=%s" % (name, rid), payload, qos=0)
        answers = watch.wait_count(len(calls))
        result = methods.result()
        self.assertEqual((result.rc, result.out), (0, b"".join(b"method %s %s\n" % (n.encode(), p) for n, _, p in calls)),
                         result)
        self.assertEqual(sorted((t, p) for _, t, p in answers),
                         sorted(("$iothub/methods/res/200/?$rid=%s" % rid, p) for _, rid, p in calls))
        self.assertUpgradedOnce(log, result)
        self.assertGreater(len([f for f in log.since("frame") if f["opcode"] in (0, 2)]), 4)


class OverWebSocketsThroughTheProxy(ContractTest):
    USER, PASSWORD = "ws-proxy-user", "pw"

    def setUp(self):
        fixture_reset()
        self.proxy = Proxy("--user", self.USER, "--password", self.PASSWORD)
        self.addCleanup(self.proxy.stop)

    def test_every_example_tunnels_to_the_https_port(self):
        env = hub_env(IOTHUB_PROXY=self.proxy.address, IOTHUB_PROXY_USER=self.USER, IOTHUB_PROXY_PASSWORD=self.PASSWORD)
        runs = (("hub-telemetry", "--count", "2"), ("hub-c2d", "--timeout-s", "2"), ("hub-twin",), ("hub-methods",))
        for program, *args in runs:
            with self.subTest(program=program):
                log = WebSocketLog()
                before = len(self.proxy.records())
                if program == "hub-methods":
                    methods = Running(program, "--transport", "mqtt-ws", env=env)
                    self.addCleanup(methods.stop)
                    methods.wait_for("err", rb"^hub-methods: subscribed")
                    publish("$iothub/methods/POST/m/?$rid=1", b"{}", qos=0)
                    result = methods.result()
                    self.assertEqual((result.rc, result.out), (0, b"method m {}\n"), result)
                else:
                    result = run(program, "--transport", "mqtt-ws", *args, env=env)
                    # hub-c2d: no message comes, so exit 3 once connected and subscribed for 2 s.
                    self.assertEqual(result.rc, 3 if program == "hub-c2d" else 0, result)
                tunnels = self.proxy.records()[before:]
                self.assertTrue(tunnels, result)
                for record in tunnels:
                    self.assertEqual((record["request_line"], record["status"]),
                                     ("CONNECT localhost:%s HTTP/1.1" % HTTPS_PORT, 200), (record, result))
                upgrades = log.since("upgrade")
                self.assertEqual([(u["accepted"], u["query"]) for u in upgrades], [(True, "iothub-no-client-cert=true")],
                                 (upgrades, result))

    def test_refused_proxy_names_the_proxy(self):
        env = hub_env(IOTHUB_PROXY=self.proxy.address, IOTHUB_PROXY_USER=self.USER, IOTHUB_PROXY_PASSWORD="wrong")
        log = WebSocketLog()
        result = run("hub-telemetry", "--transport", "mqtt-ws", "--count", "1", env=env)
        self.assertFailure(result, 1, "proxy " + self.proxy.address, "407")
        self.assertEqual(log.since("upgrade"), [])


class TransportUsage(ContractTest):
    def test_mqtt_ws_is_matched_as_a_whole_word(self):
        for program in HUB_EXAMPLES:
            for word in ("mqtt-wss", "mqtt-w", "mqtt_ws", "mqttws", "MQTT-WS", "mqtt-ws ", " mqtt-ws", "ws", "-ws", ""):
                with self.subTest(program=program, word=word):
                    self.assertUsageError(run(program, "--transport", word), "--transport")

    def test_twin_and_methods_take_no_https(self):
        for program in ("hub-twin", "hub-methods"):
            with self.subTest(program=program):
                self.assertUsageError(run(program, "--transport", "https"), "--transport")
                self.assertUsageError(run(program, "--transport"), "missing value", "--transport")

    def test_dev_poll_interval_needs_https(self):
        self.assertUsageError(run("hub-c2d", "--transport", "mqtt-ws", "--dev-poll-interval-s", "5"), "--dev-poll-interval-s")




class ProvisioningOverWebSockets(ContractTest):
    """`--transport mqtt-ws` applies to the DPS step too: the device registers over WebSockets on
    IOTHUB_DPS_HTTPS_PORT (the DPS fixture serves MQTT, HTTPS and WebSockets on one TLS port, as DPS
    does on 443) and then connects to the assigned hub over WebSockets on its IOTHUB_HTTPS_PORT."""

    SCOPE, DEVICE = "0ne00AB5E75", "dps-ws-device"
    KEY = base64.b64encode(b"tinyhub CLI contract DPS over WebSockets key").decode()

    @classmethod
    def setUpClass(cls):
        cls.directory = temporary_directory()
        cls.processes = []
        config = os.path.join(cls.directory, "dps.json")
        with open(config, "w") as f:
            json.dump({"idScope": cls.SCOPE, "enrollments": [
                {"registrationId": cls.DEVICE, "attestation": "symmetricKey", "primaryKey": cls.KEY, "assignedHub": "localhost",
                 "deviceId": cls.DEVICE, "assigningPolls": 1, "retryAfter": 1}]}, f)
        server = (os.path.join(HUB_DIR, "server.pem"), os.path.join(HUB_DIR, "server.key"))
        cls.dps_log = os.path.join(cls.directory, "dps.jsonl")
        cls.dps_port, _ = cls.start("dps_fixture.py", "--cert", server[0], "--key", server[1], "--client-ca", CA,
                                    "--config", config, "--log", cls.dps_log)
        cls.gate_log = os.path.join(cls.directory, "gate.jsonl")
        cls.gate_port, _ = cls.start("iothub_mqtt_gate.py", "--cert", server[0], "--key", server[1], "--client-ca", CA,
                                     "--host", "localhost", "--broker-port", os.environ["BROKER_PLAIN_PORT"],
                                     "--device", "%s=%s" % (cls.DEVICE, cls.KEY), "--log", cls.gate_log)
        cls.ws_log = os.path.join(cls.directory, "websocket.jsonl")
        cls.https_port, = cls.start("iothub_https_fixture.py", "--cert", server[0], "--key", server[1], "--host", "localhost",
                                    "--device", cls.DEVICE, "--device-key", cls.KEY, "--websocket-target-port", cls.gate_port,
                                    "--websocket-target-ca", CA, "--websocket-log", cls.ws_log, lines=1)

    @classmethod
    def start(cls, script, *args, lines=2):
        process = subprocess.Popen(["python3", os.path.join(FIXTURES, script), *args], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        cls.processes.append(process)
        ports = [process.stdout.readline().decode().strip() for _ in range(lines)]
        if not all(p.isdigit() for p in ports):
            cls.tearDownClass()
            raise RuntimeError("%s did not start" % script)
        return ports

    @classmethod
    def tearDownClass(cls):
        for process in cls.processes:
            if process.poll() is None:
                process.terminate()
                process.wait()
            process.stdout.close()

    def records(self, path, event):
        with open(path) as f:
            return [r for r in (json.loads(line) for line in f if line.strip()) if r.get("event") == event]

    def test_registers_and_sends_over_websockets(self):
        # IOTHUB_DPS_PORT and IOTHUB_MQTT_PORT name ports where nothing listens: a run that used
        # MQTT over TLS there instead of WebSockets could not succeed.
        env = hub_env(IOTHUB_DEVICE_CONNECTION_STRING=None, IOTHUB_DPS_ID_SCOPE=self.SCOPE,
                      IOTHUB_DPS_REGISTRATION_ID=self.DEVICE, IOTHUB_DPS_SYMMETRIC_KEY=self.KEY, IOTHUB_DPS_HOST="localhost",
                      IOTHUB_DPS_PORT=free_port(), IOTHUB_DPS_HTTPS_PORT=self.dps_port, IOTHUB_MQTT_PORT=free_port(),
                      IOTHUB_HTTPS_PORT=self.https_port, IOTHUB_CONNECT_RETRY_S="20")
        base = "devices/%s/messages/events/" % self.DEVICE
        watch = Watch(base + "#", base + "tinyhub-probe", SERVICE_MQTT)
        self.addCleanup(watch.stop)
        result = run("hub-telemetry", "--transport", "mqtt-ws", "--count", "2", env=env)
        self.assertEqual((result.rc, result.out_lines), (0, ["provisioned localhost %s" % self.DEVICE, "sent and acknowledged: 2"]),
                         result)
        self.assertEqual(len(watch.wait_count(2)), 2)
        # DPS: one WebSocket upgrade as IoT Hub's endpoints want it from a key-based device, one
        # accepted MQTT CONNECT for the registration over it, the register and status requests
        # (the enrollment answers "assigning" once), and the device's close handshake.
        upgrades = self.records(self.dps_log, "websocket-upgrade")
        self.assertEqual([(u["accepted"], u["path"], u["query"], u["protocols"]) for u in upgrades],
                         [(True, "/$iothub/websocket", "iothub-no-client-cert=true", "mqtt")], upgrades)
        connects = self.records(self.dps_log, "connect")
        self.assertEqual([(c["client_id"], c["accepted"]) for c in connects], [(self.DEVICE, True)], connects)
        self.assertEqual([r["kind"] for r in self.records(self.dps_log, "request")], ["register", "status", "status"])
        self.assertEqual(self.records(self.dps_log, "violation"), [])
        self.assertEqual([c["status"] for c in self.records(self.dps_log, "websocket-close")], [1000])
        # The assigned hub: over its WebSocket endpoint.
        hub_upgrades = self.records(self.ws_log, "upgrade")
        self.assertEqual([(u["accepted"], u["query"]) for u in hub_upgrades], [(True, "iothub-no-client-cert=true")])
        gate_connects = self.records(self.gate_log, "connect")
        self.assertEqual([(c["client_id"], c["accepted"]) for c in gate_connects], [(self.DEVICE, True)], gate_connects)


if __name__ == "__main__":
    unittest.main()
