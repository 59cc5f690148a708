"""IOTHUB_TLS_SESSION_FILE (README contract): the hub's TLS session kept between runs, so the next
run resumes it (an abbreviated handshake) instead of a full handshake. The IoT Hub gate records,
for each CONNECT, whether the TLS handshake under it resumed a session (OpenSSL's view), so each
run's handshake is checked on the server side."""
import os
import stat
import unittest

from support import ContractTest, GateLog, hub_env, run, temporary_directory

RECORD_ROOM = 4096


class TLSSessionFile(ContractTest):
    def setUp(self):
        self.path = os.path.join(temporary_directory(), "tls-session")

    def send_one(self, path=None):
        """One hub-telemetry run with the session file; returns the gate's CONNECT records of it."""
        gate = GateLog()
        result = run("hub-telemetry", "--count", "1", env=hub_env(IOTHUB_TLS_SESSION_FILE=path or self.path))
        self.assertEqual(result.rc, 0, result)
        self.assertEqual(result.out, b"sent and acknowledged: 1\n", result)
        connects = gate.since("connect")
        self.assertEqual(len(connects), 1, connects)
        self.assertTrue(connects[0]["accepted"], connects)
        return connects[0]

    def stored_record(self):
        with open(self.path, "rb") as f:
            data = f.read()
        self.assertEqual(len(data), 2 + RECORD_ROOM)
        length = int.from_bytes(data[:2], "big")
        self.assertTrue(0 < length <= RECORD_ROOM, length)
        return data[2:2 + length]

    def test_the_second_run_resumes_the_first_runs_session(self):
        self.assertFalse(self.send_one()["tls_resumed"])
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        record = self.stored_record()
        self.assertTrue(record.startswith(b"TTS1"), record[:16])
        self.assertTrue(self.send_one()["tls_resumed"])
        self.assertTrue(self.send_one()["tls_resumed"])

    def test_garbage_in_the_file_is_a_full_handshake_and_is_replaced(self):
        with open(self.path, "wb") as f:
            f.write(b"\x01\x00" + os.urandom(RECORD_ROOM))
        self.assertFalse(self.send_one()["tls_resumed"])
        self.assertTrue(self.stored_record().startswith(b"TTS1"))
        self.assertTrue(self.send_one()["tls_resumed"])

    def test_a_damaged_session_is_a_full_handshake_and_never_an_error(self):
        self.send_one()
        record = bytearray(self.stored_record())
        # Flip every byte after the header (session id, master secret, certificate, ticket): whatever
        # mbedTLS or the server makes of it, the run succeeds with a full handshake.
        for at in range(40, len(record)):
            record[at] ^= 0xA5
        with open(self.path, "r+b") as f:
            f.seek(2)
            f.write(bytes(record))
        self.assertFalse(self.send_one()["tls_resumed"])
        self.assertTrue(self.send_one()["tls_resumed"])

    def test_a_session_file_that_cannot_be_created_ends_the_run(self):
        result = run("hub-telemetry", "--count", "1",
                     env=hub_env(IOTHUB_TLS_SESSION_FILE=os.path.join(self.path, "no", "such", "directory")))
        self.assertFailure(result, 1, "IOTHUB_TLS_SESSION_FILE")
        self.assertEqual(result.out, b"", result)


if __name__ == "__main__":
    unittest.main()
