"""hub-c2d (README: `hub-c2d [--count N] [--transport mqtt|https] [--timeout-s S]
[--dev-poll-interval-s S]`): one `c2d <payload>` line per message, exit 0 after N, 3 when the
timeout passes first."""
import base64
import unittest

from support import DEVICE, ContractTest, Running, fixture, fixture_requests, fixture_reset, publish, run

C2D_TOPIC = "devices/%s/messages/devicebound/" % DEVICE
# Payload bytes as sent: JSON, text with spaces, UTF-8 beyond ASCII, a record word inside.
PAYLOADS = (b'{"command":"blink","times":3}', b"plain text message", "caf\u00e9 \u2713".encode(), b"c2d twin method")


class OverMQTT(ContractTest):
    def receive(self, *args, payloads):
        receiver = Running("hub-c2d", *args)
        self.addCleanup(receiver.stop)
        receiver.wait_for("err", rb"^hub-c2d: subscribed, waiting for %d cloud-to-device messages$" % len(payloads))
        for index, payload in enumerate(payloads, start=1):
            publish(C2D_TOPIC + "%%24.mid=cli-%d" % index, payload)
        return receiver.result()

    def test_messages_printed_byte_for_byte(self):
        result = self.receive("--count", str(len(PAYLOADS)), "--timeout-s", "30", payloads=PAYLOADS)
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out, b"".join(b"c2d " + p + b"\n" for p in PAYLOADS), result)

    def test_default_count_is_one(self):
        result = self.receive("--timeout-s", "30", payloads=PAYLOADS[:1])
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out, b"c2d " + PAYLOADS[0] + b"\n", result)

    def test_16_kb_payload(self):
        # README: payload bytes as sent, up to 16 KB.
        payload = bytes(0x41 + i % 26 for i in range(16384))
        result = self.receive("--timeout-s", "30", payloads=(payload,))
        self.assertEqual((result.rc, result.out), (0, b"c2d " + payload + b"\n"), result)

    def test_timeout_exits_3(self):
        result = run("hub-c2d", "--timeout-s", "1")
        self.assertFailure(result, 3)
        self.assertEqual(result.out, b"", result)

    def test_timeout_after_some_messages(self):
        receiver = Running("hub-c2d", "--count", "2", "--timeout-s", "2")
        self.addCleanup(receiver.stop)
        receiver.wait_for("err", rb"^hub-c2d: subscribed")
        publish(C2D_TOPIC + "%24.mid=cli-only", b"only one")
        result = receiver.result()
        self.assertEqual(result.rc, 3, result)
        # The message that came is printed; the failure is the last stderr line.
        self.assertEqual(result.out, b"c2d only one\n", result)
        self.assertTrue(result.err_lines[-1].strip(), result)


class OverHTTPS(ContractTest):
    def setUp(self):
        fixture_reset()
        self.assertEqual(fixture("GET", "/_fixture/stats")["queue"], 0, "a C2D message left over by another test")

    def test_messages_received_and_completed(self):
        for payload in PAYLOADS:
            fixture("POST", "/_fixture/c2d", {"body": payload.decode()})
        before = len(fixture_requests())
        result = run("hub-c2d", "--transport", "https", "--count", str(len(PAYLOADS)), "--timeout-s", "30",
                     "--dev-poll-interval-s", "1")
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out, b"".join(b"c2d " + p + b"\n" for p in PAYLOADS), result)
        self.assertTrue(any("development" in line.lower() for line in result.err_lines), "development mode announced")
        stats = fixture("GET", "/_fixture/stats")
        self.assertEqual((stats["queue"], stats["locked"], stats["dead"]), (0, 0, 0), "every message completed")
        deletes = [r for r in fixture_requests()[before:] if r["method"] == "DELETE"]
        self.assertEqual(len(deletes), len(PAYLOADS))
        for request in deletes:
            self.assertTrue(request["path"].startswith("/devices/%s/messages/deviceBound/" % DEVICE), request)
            self.assertNotIn("reject", request["query"])

    def test_production_floor_polls_once(self):
        # Without --dev-poll-interval-s: the first poll at once, the next cycle 25 minutes later,
        # so a 2 s timeout sees exactly one GET (and exit 3).
        before = len(fixture_requests())
        result = run("hub-c2d", "--transport", "https", "--timeout-s", "2")
        self.assertFailure(result, 3)
        self.assertEqual(result.out, b"", result)
        gets = [r for r in fixture_requests()[before:] if r["method"] == "GET"]
        self.assertEqual(len(gets), 1, gets)
        self.assertFalse(any("development" in line.lower() for line in result.err_lines), result)

    def test_production_mode_receives_at_once(self):
        fixture("POST", "/_fixture/c2d", {"body": "waiting already"})
        result = run("hub-c2d", "--transport", "https", "--timeout-s", "30")
        self.assertEqual((result.rc, result.out), (0, b"c2d waiting already\n"), result)

    def test_16_kb_payload_and_longest_dev_interval(self):
        # README: up to 16 KB; --dev-poll-interval-s 1...1499 (the first poll is at once).
        payload = "".join(chr(0x61 + i % 26) for i in range(16384))
        fixture("POST", "/_fixture/c2d", {"body": payload})
        result = run("hub-c2d", "--transport", "https", "--timeout-s", "30", "--dev-poll-interval-s", "1499")
        self.assertEqual((result.rc, result.out), (0, b"c2d " + payload.encode() + b"\n"), result)

    def test_development_polling_timeout_exits_3(self):
        result = run("hub-c2d", "--transport", "https", "--timeout-s", "2", "--dev-poll-interval-s", "1")
        self.assertFailure(result, 3)
        self.assertEqual(result.out, b"", result)

if __name__ == "__main__":
    unittest.main()
