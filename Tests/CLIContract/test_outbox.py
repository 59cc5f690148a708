"""hub-telemetry's crash-proof outbox (README: `IOTHUB_OUTBOX_FILE`, `IOTHUB_OUTBOX_BYTES`): a run
killed (SIGKILL) with messages unacknowledged, a store torn or damaged after the kill, a full store,
and the settings' usage errors. The hub really receives every message (the stand-in's gate holds
back only the PUBACKs, `hold_acks`), so a killed run leaves messages the hub has and the device does
not know it has: the next run must send them again, first, with the same `$.mid`.

The store file is read here by the test's own reader of the documented format (docs/reliability.md:
checkpoint slots at 0 and 64, records from 128 with a CRC-32 each), never through the SDK."""
import os
import struct
import time
import unittest
import urllib.parse
import zlib

from support import (DEVICE, ContractTest, GateLog, Running, events_watch, gate_control, hub_env, property_bag, run,
                     temporary_directory)

EVENTS = "devices/%s/messages/events/" % DEVICE
FULL_NOTE = rb"^outbox full: waiting for acknowledgements$"


def stored_records(path):
    """The unacknowledged records of the store at `path`, oldest first, as
    [(offset, length, sequence, bag text, payload bytes)], following the documented format."""
    with open(path, "rb") as f:
        data = f.read()
    capacity = len(data)
    newest = None
    for slot in (0, 64):
        c = data[slot:slot + 36]
        if len(c) < 36 or c[:4] != b"TBOX" or c[4:8] != b"\x01\x00\x00\x00":
            continue
        if struct.unpack_from("<I", c, 32)[0] != zlib.crc32(c[:32]):
            continue
        generation, stored_capacity, tail, sequence = struct.unpack_from("<QIIQ", c, 8)
        if newest is None or generation > newest[0]:
            newest = (generation, stored_capacity, tail, sequence)
    if newest is None:
        return []
    _, stored_capacity, position, sequence = newest
    assert stored_capacity == capacity, (stored_capacity, capacity)

    def header(at):
        h = data[at:at + 16]
        kind, zero, bag, payload, seq = struct.unpack("<BBHIQ", h)
        return kind, zero, bag, payload, seq

    records = []
    while len(records) < capacity // 20:
        if not 128 <= position <= capacity - 20:
            position = 128
        kind, zero, bag, payload, seq = header(position)
        if kind == ord("W"):
            wrap = data[position:position + 20]
            if position == 128 or (zero, bag, payload, seq) != (0, 0, 0, sequence) or \
                    struct.unpack_from("<I", wrap, 16)[0] != zlib.crc32(wrap[:16]):
                break
            position = 128
            kind, zero, bag, payload, seq = header(position)
        length = 16 + bag + payload + 4
        if kind != ord("M") or zero != 0 or seq != sequence or position + length > capacity:
            break
        record = data[position:position + length]
        if struct.unpack_from("<I", record, length - 4)[0] != zlib.crc32(record[:-4]):
            break
        records.append((position, length, seq, record[16:16 + bag].decode(), record[16 + bag:-4]))
        position += length
        sequence += 1
    return records


def bag_mid(bag):
    """`$.mid` of an encoded property bag."""
    for part in bag.split("&"):
        key, _, value = part.partition("=")
        if urllib.parse.unquote(key) == "$.mid":
            return urllib.parse.unquote(value)
    return None


class Outbox(ContractTest):
    def setUp(self):
        if not os.environ.get("HUB_GATE_CONTROL_PORT"):
            self.skipTest("needs the stand-in's IoT Hub gate (HUB_GATE_CONTROL_PORT)")
        self.store = os.path.join(temporary_directory(), "outbox.bin")
        self.watch = events_watch()
        self.addCleanup(self.watch.stop)
        self.addCleanup(gate_control, {"hold_acks": False})

    def env(self, **extra):
        return hub_env(IOTHUB_OUTBOX_FILE=self.store, **extra)

    def messages(self, since=0):
        """(mid, payload) of every message the service saw, in order, from index `since`."""
        with self.watch.changed:
            seen = list(self.watch.messages[since:])
        return [(dict(property_bag(topic, EVENTS)).get("$.mid"), payload) for _, topic, payload in seen]

    def kill_with_unacknowledged(self, count, **extra):
        """Runs hub-telemetry --count `count` with PUBACKs held back, waits until the hub has all
        `count` messages, kills it (SIGKILL); returns what the hub got, as (mid, payload)."""
        gate_control({"hold_acks": True})
        before = len(self.watch.messages)
        running = Running("hub-telemetry", "--count", str(count), env=self.env(**extra))
        try:
            self.watch.wait_count(before + count, timeout=20)
            got = self.messages(before)
            self.assertEqual(len(got), count, running.result(False))
        finally:
            running.stop()
        self.assertEqual(running.process.returncode, -9)
        gate_control({"hold_acks": False})
        return got

    def test_a_killed_run_is_resent_first_with_the_same_ids(self):
        first = self.kill_with_unacknowledged(5)
        # The store holds exactly what the hub got, byte for byte.
        self.assertEqual([(bag_mid(bag), payload) for *_, bag, payload in stored_records(self.store)], first)
        self.assertMessageIDs([mid for mid, _ in first], 5)

        before = len(self.watch.messages)
        result = run("hub-telemetry", "--count", "3", env=self.env())
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["recovered 5", "sent and acknowledged: 3"], result)
        self.watch.wait_count(before + 8)
        second = self.messages(before)
        # Recovered first, same ids and bytes; then this run's 3 under a new run id.
        self.assertEqual(second[:5], first, second)
        self.assertEqual(len(second), 8, second)
        new_run = self.assertMessageIDs([mid for mid, _ in second[5:]], 3)
        self.assertNotEqual(new_run, first[0][0].split("-")[0])
        self.assertEqual(stored_records(self.store), [], "everything acknowledged is released")

        # Nothing left: a third run sends nothing again and reports nothing recovered.
        gate = GateLog()
        result = run("hub-telemetry", "--count", "0", env=self.env())
        self.assertEqual((result.rc, result.out_lines), (0, ["sent and acknowledged: 0"]), result)
        self.assertEqual(gate.since("publish"), [])

    def test_killed_twice_still_delivers_every_message(self):
        first = self.kill_with_unacknowledged(3)
        # The second run is killed too, before any acknowledgement: it resends the 3 and adds 2.
        gate_control({"hold_acks": True})
        before = len(self.watch.messages)
        running = Running("hub-telemetry", "--count", "2", env=self.env())
        try:
            running.wait_for("out", rb"^recovered 3$")
            self.watch.wait_count(before + 5)
        finally:
            running.stop()
        gate_control({"hold_acks": False})
        second = self.messages(before)
        self.assertEqual(second[:3], first)
        result = run("hub-telemetry", "--count", "1", env=self.env())
        self.assertEqual(result.out_lines, ["recovered 5", "sent and acknowledged: 1"], result)
        self.assertEqual(result.rc, 0, result)
        third = self.messages(before + len(second))
        self.assertEqual(third[:5], second[:5], "the 5 unacknowledged ones again, in order, same ids and bytes")
        delivered = {mid for mid, _ in self.messages(0)}
        self.assertEqual(len(delivered), 6, "3 + 2 + 1 distinct messages, nothing else")

    def test_a_torn_or_damaged_last_record_is_dropped_never_sent(self):
        for damage in ("truncated", "flipped", "zeroed-crc"):
            with self.subTest(damage=damage):
                if os.path.exists(self.store):
                    os.remove(self.store)
                first = self.kill_with_unacknowledged(3)
                records = stored_records(self.store)
                self.assertEqual(len(records), 3)
                offset, length = records[-1][0], records[-1][1]
                if damage == "truncated":
                    # Power lost in the middle of the last record's write: the file ends there
                    # (the example grows it back with zeros).
                    os.truncate(self.store, offset + length // 2)
                else:
                    with open(self.store, "r+b") as f:
                        at = offset + length - 6 if damage == "flipped" else offset + length - 4
                        f.seek(at)
                        byte = f.read(1)[0]
                        f.seek(at)
                        f.write(bytes([byte ^ 0x20]))
                before = len(self.watch.messages)
                result = run("hub-telemetry", "--count", "1", env=self.env())
                self.assertEqual(result.rc, 0, result)
                self.assertEqual(result.out_lines, ["recovered 2", "sent and acknowledged: 1"], result)
                self.watch.wait_count(before + 3)
                again = self.messages(before)
                self.assertEqual(again[:2], first[:2])
                self.assertEqual(len(again), 3, again)
                self.assertNotIn(first[2][0], [mid for mid, _ in again], "the damaged record is never sent")
                self.assertEqual(os.path.getsize(self.store), 65536)

    def test_a_full_store_holds_new_messages_back_and_drops_none(self):
        # 512 bytes: 384 bytes of records; each message here takes about 65, so 5 fit.
        gate_control({"hold_acks": True})
        before = len(self.watch.messages)
        running = Running("hub-telemetry", "--count", "8", env=self.env(IOTHUB_OUTBOX_BYTES="512"))
        try:
            running.wait_for("err", FULL_NOTE)
            stored = stored_records(self.store)
            held = len(stored)
            self.assertTrue(0 < held < 8, stored)
            self.watch.wait_count(before + held)
            time.sleep(0.5)  # not a timing assertion: a message beyond the store would show up here
            self.assertEqual(self.messages(before), [(bag_mid(bag), payload) for *_, bag, payload in stored],
                             "only stored messages went out")
            # Acknowledgements again, and a new connection: the held messages are resent and acknowledged.
            gate_control({"hold_acks": False, "kick": True})
            result = running.result()
        finally:
            running.stop()
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out_lines, ["sent and acknowledged: 8"], result)
        got = self.messages(before)
        mids = []
        for mid, _ in got:
            if mid not in mids:
                mids.append(mid)
        self.assertMessageIDs(mids, 8)
        payloads = {}
        for mid, payload in got:
            self.assertEqual(payloads.setdefault(mid, payload), payload, "a resend carries the same bytes")
        self.assertEqual(stored_records(self.store), [])

    def test_a_run_that_gives_up_keeps_its_messages_for_the_next(self):
        # The hub answers every CONNECT with 3 (server unavailable) until the retry budget is spent:
        # exit 1, and the 4 messages stay stored for the next run, which sends them first.
        gate_control({"refuse": 1000, "code": 3})
        try:
            result = run("hub-telemetry", "--count", "4", env=self.env(IOTHUB_CONNECT_RETRY_S="2"))
        finally:
            gate_control({"refuse": 0})
        self.assertFailure(result, 1, "IOTHUB_CONNECT_RETRY_S")
        stored = [(bag_mid(bag), payload) for *_, bag, payload in stored_records(self.store)]
        self.assertMessageIDs([mid for mid, _ in stored], 4)
        before = len(self.watch.messages)
        result = run("hub-telemetry", "--count", "1", env=self.env())
        self.assertEqual((result.rc, result.out_lines), (0, ["recovered 4", "sent and acknowledged: 1"]), result)
        self.watch.wait_count(before + 5)
        got = self.messages(before)
        self.assertEqual(got[:4], stored)
        self.assertEqual(len(got), 5, got)

    def test_a_run_without_a_crash_leaves_nothing(self):
        before = len(self.watch.messages)
        result = run("hub-telemetry", "--count", "3", "--content-type", "application/json", env=self.env())
        self.assertEqual((result.rc, result.out_lines), (0, ["sent and acknowledged: 3"]), result)
        got = self.watch.wait_count(before + 3)
        self.assertEqual(len(got), before + 3)
        self.assertEqual(os.path.getsize(self.store), 65536)
        self.assertEqual(stored_records(self.store), [])

    def test_a_store_of_another_size_is_refused(self):
        result = run("hub-telemetry", "--count", "1", env=self.env())
        self.assertEqual(result.rc, 0, result)
        result = run("hub-telemetry", "--count", "1", env=self.env(IOTHUB_OUTBOX_BYTES="4096"))
        self.assertFailure(result, 1, "IOTHUB_OUTBOX_FILE", "size")
        self.assertEqual(result.out, b"", result)

    def test_a_store_that_cannot_be_opened(self):
        result = run("hub-telemetry", "--count", "1", env=hub_env(IOTHUB_OUTBOX_FILE=os.path.dirname(self.store)))
        self.assertFailure(result, 1, "IOTHUB_OUTBOX_FILE")
        self.assertEqual(result.out, b"", result)


class Usage(ContractTest):
    def test_bad_sizes(self):
        for text in ("", "abc", "0", "255", "-1", "65536x", " 65536", "4294967296", "99999999999999999999999"):
            with self.subTest(text=text):
                result = run("hub-telemetry", "--count", "1",
                             env=hub_env(IOTHUB_OUTBOX_FILE="/nonexistent/never-opened", IOTHUB_OUTBOX_BYTES=text))
                self.assertUsageError(result, "IOTHUB_OUTBOX_BYTES")

    def test_outbox_needs_mqtt_qos_1_and_a_name(self):
        for args, env, mention in ((("--transport", "https"), {}, "--transport mqtt"),
                                   (("--qos", "0"), {}, "--qos 1"),
                                   ((), {"IOTHUB_OUTBOX_FILE": ""}, "IOTHUB_OUTBOX_FILE")):
            with self.subTest(args=args, env=env):
                settings = {"IOTHUB_OUTBOX_FILE": "/nonexistent/never-opened", **env}
                result = run("hub-telemetry", "--count", "1", *args, env=hub_env(**settings))
                self.assertUsageError(result, mention)


if __name__ == "__main__":
    unittest.main()
