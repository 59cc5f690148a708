"""hub-telemetry (README: `hub-telemetry [--count N] [--interval-ms MS] [--qos 0|1]
[--transport mqtt|https] [--property k=v]... [--content-type T]`), checked on the service side."""
import base64
import time
import unittest

from support import (DEVICE, ContractTest, events_watch, fixture, fixture_requests, fixture_reset, header, hub_env,
                     property_bag, run)

EVENTS = "devices/%s/messages/events/" % DEVICE


class OverMQTT(ContractTest):
    def setUp(self):
        self.watch = events_watch()
        self.addCleanup(self.watch.stop)

    def send(self, *args, count, seen=0):
        """Runs hub-telemetry (`count` messages); returns the run's time span and all messages seen
        since the watch began (`seen` of them from earlier runs)."""
        start = int(time.time())
        result = run("hub-telemetry", *args)
        end = int(time.time()) + 1
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out, b"sent and acknowledged: %d\n" % count, result)
        messages = self.watch.wait_count(seen + count)
        return start, end, messages

    def test_messages_properties_and_ids(self):
        start, end, messages = self.send("--count", "3", "--property", "source=cli", "--property", "note=a=b c&d",
                                         "--content-type", "application/json", count=3)
        self.assertEqual(len(messages), 3, messages)
        self.assertEqual({qos for qos, _, _ in messages}, {1}, "QoS 1 is the default")
        self.assertTelemetryPayloads([payload for _, _, payload in messages], 3, start, end)
        ids = []
        for _, topic, _ in messages:
            bag = property_bag(topic, EVENTS)
            keys = [key for key, _ in bag]
            self.assertEqual(sorted(keys), sorted(["$.mid", "$.ct", "source", "note"]), topic)
            values = dict(bag)
            self.assertEqual(values["source"], "cli")
            self.assertEqual(values["note"], "a=b c&d", "split at the first '=', value intact")
            self.assertEqual(values["$.ct"], "application/json")
            ids.append(values["$.mid"])
        self.assertMessageIDs(ids, 3)

    def test_run_ids_differ_between_runs(self):
        _, _, first = self.send("--count", "1", count=1)
        _, _, both = self.send("--count", "1", count=1, seen=1)
        runs = [dict(property_bag(topic, EVENTS))["$.mid"].split("-")[0] for _, topic, _ in both]
        self.assertEqual(len(runs), 2, both)
        self.assertNotEqual(runs[0], runs[1])

    def test_default_count_is_ten_without_properties(self):
        start, end, messages = self.send(count=10)
        self.assertEqual(len(messages), 10, messages)
        self.assertTelemetryPayloads([payload for _, _, payload in messages], 10, start, end)
        bags = [property_bag(topic, EVENTS) for _, topic, _ in messages]
        self.assertEqual({tuple(key for key, _ in bag) for bag in bags}, {("$.mid",)}, bags)

    def test_qos(self):
        for qos in ("0", "1"):
            with self.subTest(qos=qos):
                with self.watch.changed:
                    self.watch.messages.clear()
                start, end, messages = self.send("--count", "4", "--qos", qos, count=4)
                self.assertEqual(len(messages), 4, messages)
                # The subscriber asked for QoS 1, so each message arrives with the QoS it was published with.
                self.assertEqual({q for q, _, _ in messages}, {int(qos)})
                self.assertTelemetryPayloads([payload for _, _, payload in messages], 4, start, end)

    def test_interval_spaces_the_messages(self):
        # 3 messages 1100 ms apart span at least 2.2 s, so their whole-second times differ by at least 2.
        start, end, messages = self.send("--count", "3", "--interval-ms", "1100", count=3)
        times = self.assertTelemetryPayloads([payload for _, _, payload in messages], 3, start, end)
        self.assertGreaterEqual(times[2] - times[0], 2, times)
        self.assertEqual(sorted(times), times)


class OverHTTPS(ContractTest):
    def setUp(self):
        fixture_reset()
        self.addCleanup(fixture_reset)

    def send(self, *args, code=0, env=None):
        before = len(fixture_requests())
        start = int(time.time())
        result = run("hub-telemetry", "--transport", "https", *args, env=env)
        end = int(time.time()) + 1
        self.assertEqual(result.rc, code, result)
        return start, end, result, fixture_requests()[before:]

    def assertEvents(self, requests):
        for request in requests:
            self.assertEqual((request["method"], request["path"]), ("POST", "/devices/%s/messages/events" % DEVICE))

    def test_messages_properties_and_ids(self):
        # --qos is accepted and ignored over HTTPS.
        start, end, result, requests = self.send("--count", "3", "--qos", "0", "--property", "source=cli",
                                                 "--property", "note=a=b c", "--content-type", "text/plain")
        self.assertEqual(result.out, b"sent and acknowledged: 3\n", result)
        self.assertEqual(len(requests), 3, requests)
        self.assertEvents(requests)
        payloads = [base64.b64decode(r["body"]) for r in requests]
        self.assertTelemetryPayloads(payloads, 3, start, end)
        self.assertMessageIDs([header(r, "iothub-messageid") for r in requests], 3)
        for request in requests:
            self.assertEqual(header(request, "iothub-app-source"), "cli")
            self.assertEqual(header(request, "iothub-app-note"), "a=b c")
            self.assertEqual(header(request, "iothub-contenttype"), "text/plain")

    def test_default_count_is_ten(self):
        start, end, result, requests = self.send()
        self.assertEqual(result.out, b"sent and acknowledged: 10\n", result)
        self.assertEvents(requests)
        self.assertTelemetryPayloads([base64.b64decode(r["body"]) for r in requests], 10, start, end)
        self.assertMessageIDs([header(r, "iothub-messageid") for r in requests], 10)

    def test_interval_spaces_the_messages(self):
        start, end, result, requests = self.send("--count", "3", "--interval-ms", "1100")
        times = self.assertTelemetryPayloads([base64.b64decode(r["body"]) for r in requests], 3, start, end)
        self.assertGreaterEqual(times[2] - times[0], 2, times)

    def test_retried_after_throttling_and_server_errors(self):
        # 429 and 503 with Retry-After, and a 500: the same message is sent again (same id) and all are accepted.
        for config in ({"throttle": 1, "retryAfter": 1, "throttleStatus": 429},
                       {"throttle": 1, "retryAfter": 1, "throttleStatus": 503},
                       {"statusNext": [500]}):
            with self.subTest(config=config):
                fixture("POST", "/_fixture/config", config)
                start, end, result, requests = self.send("--count", "2")
                self.assertEqual(result.out, b"sent and acknowledged: 2\n", result)
                self.assertEvents(requests)
                ids = [header(r, "iothub-messageid") for r in requests]
                self.assertEqual(len(ids), 3, ids)
                self.assertEqual(ids[0], ids[1], "a retry keeps the message id")
                self.assertMessageIDs(ids[1:], 2)

    def test_gives_up_once_the_retry_budget_is_spent(self):
        # README: transient failures are retried (same message id, waiting at least the
        # Retry-After) until a streak of them has lasted IOTHUB_CONNECT_RETRY_S: then exit 1.
        fixture("POST", "/_fixture/config", {"throttle": 1000, "retryAfter": 1, "throttleStatus": 503})
        _, _, result, requests = self.send("--count", "1", code=1, env=hub_env(IOTHUB_CONNECT_RETRY_S="3"))
        self.assertFailure(result, 1, "IOTHUB_CONNECT_RETRY_S")
        self.assertEqual(result.out, b"", result)
        ids = {header(r, "iothub-messageid") for r in requests}
        # Retry-After 1 s between attempts: within 3 s at most 4 attempts, and at least 2.
        self.assertEqual(len(ids), 1, requests)
        self.assertTrue(2 <= len(requests) <= 4, requests)

if __name__ == "__main__":
    unittest.main()
