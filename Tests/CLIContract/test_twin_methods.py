"""hub-twin (`[--report k=v]... [--await-desired N]`) and hub-methods (`[--count N]`), with
what the service side sees. The stand-in's twin (README): GET answers
{"desired":{"$version":1},"reported":{"$version":N}}; each reported PATCH is answered 204 with
`$version` N+1."""
import json
import re
import unittest

from support import SERVICE_MQTT, ContractTest, Running, Watch, publish, run

TWIN_LINE = re.compile(rb"twin (.*)\n\Z")


class Twin(ContractTest):
    def twin_document(self, line):
        match = TWIN_LINE.match(line + b"\n")
        self.assertIsNotNone(match, line)
        document = json.loads(match.group(1))
        self.assertEqual(document["desired"]["$version"], 1, document)
        return document

    def test_get_only(self):
        result = run("hub-twin")
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(len(result.out_lines), 1, result)
        self.twin_document(result.out.rstrip(b"\n"))

    def test_report_is_one_patch(self):
        watch = Watch("$iothub/twin/PATCH/properties/reported/#", "$iothub/twin/PATCH/properties/reported/tinyhub-probe",
                      SERVICE_MQTT)
        self.addCleanup(watch.stop)
        result = run("hub-twin", "--report", "firmware=1.0", "--report", "path=a=b", "--report", 'quote=say "hi"\\',
                     "--report", "firmware=2.0")
        self.assertEqual(result.rc, 0, result)
        lines = result.out.split(b"\n")
        self.assertEqual(len(lines), 3, result)  # twin, reported version, and the final newline
        document = self.twin_document(lines[0])
        # The hub's answer carries the new reported version: one more than the twin showed.
        self.assertEqual(lines[1], b"reported version %d" % (document["reported"]["$version"] + 1), result)
        patches = watch.wait_count(1)
        self.assertEqual(len(patches), 1, patches)
        # One patch, each value a JSON string, the last value of a repeated key.
        self.assertEqual(json.loads(patches[0][2]), {"firmware": "2.0", "path": "a=b", "quote": 'say "hi"\\'})
        self.assertTrue(patches[0][1].startswith("$iothub/twin/PATCH/properties/reported/?$rid="), patches)

    def test_await_desired(self):
        twin = Running("hub-twin", "--report", "mode=eco", "--await-desired", "2")
        self.addCleanup(twin.stop)
        twin.wait_for("out", rb"^reported version [0-9]+$")
        patches = (b'{"interval":30,"$version":2}', b'{"led":"caf\xc3\xa9","$version":3}')
        for version, patch in enumerate(patches, start=2):
            publish("$iothub/twin/PATCH/properties/desired/?$version=%d" % version, patch, qos=0)
        result = twin.result()
        self.assertEqual(result.rc, 0, result)
        lines = result.out.split(b"\n")
        self.twin_document(lines[0])
        self.assertRegex(lines[1], rb"^reported version [0-9]+\Z")
        self.assertEqual(lines[2:], [b"desired " + patches[0], b"desired " + patches[1], b""], result)


class Methods(ContractTest):
    def test_echo_with_status_200(self):
        watch = Watch("$iothub/methods/res/#", "$iothub/methods/res/tinyhub-probe", SERVICE_MQTT)
        self.addCleanup(watch.stop)
        methods = Running("hub-methods", "--count", "3")
        self.addCleanup(methods.stop)
        methods.wait_for("err", rb"^hub-methods: subscribed")
        calls = (("reboot", "41", b'{"delayS":5}'), ("echo", "b7", b'{"text":"caf\xc3\xa9 \xe2\x9c\x93","n":[1,2.5,null]}'),
                 ("noop", "x-1", b"null"))
        for name, rid, payload in calls:
            publish("$iothub/methods/POST/%s/?$rid=%s" % (name, rid), payload, qos=0)
        answers = watch.wait_count(len(calls))
        result = methods.result()
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out, b"".join(b"method %s %s\n" % (n.encode(), p) for n, _, p in calls), result)
        self.assertEqual(sorted((topic, payload) for _, topic, payload in answers),
                         sorted(("$iothub/methods/res/200/?$rid=%s" % rid, payload) for _, rid, payload in calls))

    def test_16_kb_request_echoed(self):
        # README: requests up to 16 KB, echoed byte for byte.
        watch = Watch("$iothub/methods/res/#", "$iothub/methods/res/tinyhub-probe", SERVICE_MQTT)
        self.addCleanup(watch.stop)
        methods = Running("hub-methods")
        self.addCleanup(methods.stop)
        methods.wait_for("err", rb"^hub-methods: subscribed")
        payload = b'"' + bytes(0x30 + i % 10 for i in range(16382)) + b'"'
        publish("$iothub/methods/POST/big/?$rid=9", payload, qos=0)
        result = methods.result()
        self.assertEqual((result.rc, result.out), (0, b"method big " + payload + b"\n"), result)
        self.assertEqual([(t, p) for _, t, p in watch.wait_count(1)], [("$iothub/methods/res/200/?$rid=9", payload)])

    def test_default_count_is_one(self):
        methods = Running("hub-methods")
        self.addCleanup(methods.stop)
        methods.wait_for("err", rb"^hub-methods: subscribed")
        publish("$iothub/methods/POST/ping/?$rid=1", b"{}", qos=0)
        result = methods.result()
        self.assertEqual((result.rc, result.out), (0, b"method ping {}\n"), result)


if __name__ == "__main__":
    unittest.main()
