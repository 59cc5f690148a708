"""mqtt-demo (README: MQTT_HOST, MQTT_PORT, MQTT_CA_FILE, MQTT_CLIENT_ID; --count N) against a
TLS mosquitto of its own, and the X.509 device identity of the hub examples (`x509=true` +
IOTHUB_DEVICE_CERT_FILE / IOTHUB_DEVICE_KEY_FILE) against a mosquitto that requires a client
certificate."""
import json
import os
import unittest

from support import (DEVICE, SERVICE_MQTT, ContractTest, GateLog, TLSBroker, Watch, connection_string, free_port, hub_env,
                     make_ca, run)


class MQTTDemo(ContractTest):
    @classmethod
    def setUpClass(cls):
        cls.broker = TLSBroker(client_certificates=False)

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def env(self, **extra):
        settings = dict(MQTT_PORT=self.broker.port, MQTT_CA_FILE=self.broker.ca)
        settings.update(extra)
        return hub_env(**settings)

    def test_round_trip_on_its_client_topic(self):
        topic = "tinyhub/demo/cli-demo-client"
        watch = Watch("tinyhub/demo/#", "tinyhub/demo/tinyhub-probe", self.broker.service_args)
        self.addCleanup(watch.stop)
        result = run("mqtt-demo", "--count", "3", env=self.env(MQTT_CLIENT_ID="cli-demo-client", MQTT_HOST="localhost"))
        self.assertEqual(result.rc, 0, result)
        self.assertIn("subscribed to " + topic, result.out_lines, result)
        self.assertEqual([l for l in result.out_lines if l.startswith("received: ")],
                         ['received: {"seq":%d}' % i for i in (1, 2, 3)], result)
        seen = watch.wait_count(3)
        self.assertEqual(sorted((t, p) for _, t, p in seen), [(topic, b'{"seq":%d}' % i) for i in (1, 2, 3)])

    def test_default_count_is_five(self):
        result = run("mqtt-demo", env=self.env())
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(len([l for l in result.out_lines if l.startswith("received: ")]), 5, result)

    def test_host_port_and_ca_are_used(self):
        # 127.0.0.1 is not the name in the broker's certificate; no MQTT_CA_FILE means the Azure
        # roots, which do not trust the test CA; a port nothing listens on is refused.
        for extra, mention in ((dict(MQTT_HOST="127.0.0.1"), "host"), (dict(MQTT_CA_FILE=None), "certificate"),
                               (dict(MQTT_PORT=free_port()), "refused")):
            with self.subTest(extra=extra):
                self.assertFailure(run("mqtt-demo", env=self.env(**extra)), 1, mention)

    def test_bad_port(self):
        for value in ("abc", "0", "65536", ""):
            with self.subTest(value=value):
                self.assertUsageError(run("mqtt-demo", env=self.env(MQTT_PORT=value)), "MQTT_PORT")


class X509Identity(ContractTest):
    """A mosquitto that requires a client certificate from its own CA (require_certificate)."""

    @classmethod
    def setUpClass(cls):
        cls.broker = TLSBroker(client_certificates=True)
        make_ca(cls.broker.directory, "rogue-ca")
        cls.device = cls.broker.client("device", DEVICE)
        cls.rogue = cls.broker.client("rogue", DEVICE, ca="rogue-ca")

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def env(self, certificate):
        # A refused handshake may look like a dropped connection to the device: the run then
        # gives up after IOTHUB_CONNECT_RETRY_S (kept short here), still with exit 1.
        return hub_env(IOTHUB_DEVICE_CONNECTION_STRING=connection_string(SharedAccessKey=None, x509="true"),
                       IOTHUB_MQTT_PORT=self.broker.port, IOTHUB_TRUSTED_CA_FILE=self.broker.ca,
                       IOTHUB_DEVICE_CERT_FILE=certificate[0], IOTHUB_DEVICE_KEY_FILE=certificate[1],
                       IOTHUB_CONNECT_RETRY_S="3")

    def test_telemetry_with_a_device_certificate(self):
        base = "devices/%s/messages/events/" % DEVICE
        watch = Watch(base + "#", base + "tinyhub-probe", self.broker.service_args)
        self.addCleanup(watch.stop)
        result = run("hub-telemetry", "--count", "2", env=self.env(self.device))
        self.assertEqual((result.rc, result.out), (0, b"sent and acknowledged: 2\n"), result)
        payloads = [json.loads(p)["seq"] for _, _, p in watch.wait_count(2)]
        self.assertEqual(payloads, [1, 2])

    def test_certificate_from_another_ca_is_refused(self):
        result = run("hub-telemetry", "--count", "1", env=self.env(self.rogue))
        self.assertFailure(result, 1)
        self.assertEqual(result.out, b"", result)

    def test_key_that_does_not_match_the_certificate(self):
        result = run("hub-telemetry", "--count", "1", env=self.env((self.device[0], self.rogue[1])))
        self.assertFailure(result, 1)
        self.assertEqual(result.out, b"", result)


class X509ThroughTheStandIn(ContractTest):
    """The stand-in's X.509 device (HUB_X509_*), checked by its IoT Hub gate: certificate CN =
    client id, no SAS password."""

    def setUp(self):
        if not os.environ.get("HUB_GATE_LOG") or not os.environ.get("HUB_X509_CONNECTION_STRING"):
            self.skipTest("the stand-in has no X.509 device behind its gate (HUB_GATE_LOG / HUB_X509_* unset)")
        self.device = os.environ["HUB_X509_DEVICE"]

    def env(self, **extra):
        settings = dict(IOTHUB_DEVICE_CONNECTION_STRING=os.environ["HUB_X509_CONNECTION_STRING"],
                        IOTHUB_DEVICE_CERT_FILE=os.environ["HUB_X509_CERT"], IOTHUB_DEVICE_KEY_FILE=os.environ["HUB_X509_KEY"])
        settings.update(extra)
        return hub_env(**settings)

    def test_telemetry_and_twin(self):
        base = "devices/%s/messages/events/" % self.device
        watch = Watch(base + "#", base + "tinyhub-probe", SERVICE_MQTT)
        self.addCleanup(watch.stop)
        gate = GateLog()
        result = run("hub-telemetry", "--count", "2", env=self.env())
        self.assertEqual((result.rc, result.out), (0, b"sent and acknowledged: 2\n"), result)
        self.assertEqual([json.loads(p)["seq"] for _, _, p in watch.wait_count(2)], [1, 2])
        result = run("hub-twin", env=self.env())
        self.assertEqual(result.rc, 0, result)
        self.assertRegex(result.out, rb"\Atwin \{.*\}\n\Z")
        connects = gate.since("connect")
        self.assertEqual([(c["accepted"], c["client_id"], c["x509_subject_cn"], c["password"]) for c in connects],
                         [(True, self.device, self.device, None)] * 2, connects)

    def test_another_devices_certificate_is_refused(self):
        # The certificate of the X.509 device presented for the SAS device's id: the gate refuses it.
        env = self.env(IOTHUB_DEVICE_CONNECTION_STRING=connection_string(SharedAccessKey=None, x509="true"))
        gate = GateLog()
        result = run("hub-telemetry", "--count", "1", env=env)
        self.assertFailure(result, 2)
        self.assertEqual(result.out, b"", result)
        self.assertEqual([c["accepted"] for c in gate.since("connect")], [False])


if __name__ == "__main__":
    unittest.main()
