"""`--transport mqtt-ws` (README contract): MQTT over WebSockets for all four hub examples, to
IOTHUB_HTTPS_PORT, through IOTHUB_PROXY when set. The stand-in serves IoT Hub's WebSocket
endpoint on its HTTPS port (`GET /$iothub/websocket`, checked by Tests/Fixtures/websocket_bridge.py
as IoT Hub checks it, then bridged to the IoT Hub gate); its record (HUB_WS_LOG) shows what
crossed as WebSockets, so a run that went to the MQTT port instead would show no upgrade."""
import json
import os
import unittest

from support import DEVICE, HTTPS_PORT, SERVICE_MQTT, ContractTest, Running, Watch, events_watch, fixture_reset, hub_env, publish, run
from test_proxy import Proxy

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



if __name__ == "__main__":
    unittest.main()
