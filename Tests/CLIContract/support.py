"""Shared pieces of the examples' CLI contract tests (README: "The examples (a CLI contract
other tools rely on)"). Python 3 standard library only.

Run through scripts/check/cli-contract.sh, which starts the local stand-in (scripts/standin/hub.sh)
and exports what is read here:
  CLI_CONTRACT_BIN        folder with the Embedded example binaries
  HUB_CONNECTION_STRING   HUB_CA  HUB_MQTT_PORT  HUB_HTTPS_PORT  HUB_DEVICE  HUB_DIR
  CLI_SERVICE_MQTT        mosquitto_pub/sub connection arguments of the service side, one per line
  HUB_GATE_LOG            set once the stand-in's MQTT side checks credentials (CONNACK 5 on a wrong key)

Expected values come from the README's contract and from IoT Hub's documented wire format
(topics, `$.mid`/`$.ct` property-bag keys, `iothub-*` HTTP headers), never from the examples.
"""
import base64
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

BIN = os.environ.get("CLI_CONTRACT_BIN", ".build-embedded-static/release")
CONNECTION_STRING = os.environ["HUB_CONNECTION_STRING"]
CA = os.environ["HUB_CA"]
MQTT_PORT = os.environ["HUB_MQTT_PORT"]
# mosquitto's own TLS listener behind the stand-in's IoT Hub gate: for plain MQTT clients (mqtt-demo).
BROKER_PORT = os.environ.get("HUB_BROKER_PORT", MQTT_PORT)
HTTPS_PORT = os.environ["HUB_HTTPS_PORT"]
DEVICE = os.environ["HUB_DEVICE"]
HUB_DIR = os.environ["HUB_DIR"]
SERVICE_MQTT = os.environ.get("CLI_SERVICE_MQTT", "-h\nlocalhost\n-p\n%s\n--cafile\n%s" % (MQTT_PORT, CA)).split("\n")

# Hang guard for one example run (not a timing assertion: a run that needs it has failed anyway).
RUN_LIMIT_S = 40

# Words that start a machine-readable stdout record (README). Diagnostics never start a stdout line with one.
RECORD_WORDS = ("sent", "c2d", "twin", "reported", "desired", "method")


def connection_fields(text=CONNECTION_STRING):
    """The `key=value` fields of a connection string, in order."""
    return dict(part.split("=", 1) for part in text.split(";") if part)


def connection_string(**changes):
    """The stand-in's connection string with fields replaced (value None removes the field)."""
    fields = connection_fields()
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return ";".join("%s=%s" % kv for kv in fields.items())


HOST_NAME = connection_fields()["HostName"]
WRONG_KEY = base64.b64encode(b"not the key this device was registered with").decode()


def hub_env(**extra):
    """The environment of an example run against the stand-in: the README's IOTHUB_* settings.
    A value of None removes the variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IOTHUB_", "MQTT_"))}
    env.update(IOTHUB_DEVICE_CONNECTION_STRING=CONNECTION_STRING, IOTHUB_TRUSTED_CA_FILE=CA,
               IOTHUB_MQTT_PORT=MQTT_PORT, IOTHUB_HTTPS_PORT=HTTPS_PORT)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    @property
    def out_lines(self):
        return self.out.decode("utf-8", "replace").splitlines()

    @property
    def err_lines(self):
        return self.err.decode("utf-8", "replace").splitlines()

    def __repr__(self):
        return "exit %r\n--- stdout\n%s--- stderr\n%s" % (self.rc, self.out.decode("utf-8", "replace"),
                                                           self.err.decode("utf-8", "replace"))


def run(program, *args, env=None, timeout=RUN_LIMIT_S):
    """Runs an example to its end; returns its exit code, stdout and stderr bytes."""
    process = subprocess.run([os.path.join(BIN, program), *args], env=env if env is not None else hub_env(),
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return Result(process.returncode, process.stdout, process.stderr)


class Running:
    """An example running in the background; its stdout and stderr are read as they come."""

    def __init__(self, program, *args, env=None):
        self.process = subprocess.Popen([os.path.join(BIN, program), *args], env=env if env is not None else hub_env(),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = bytearray(), bytearray()
        self.changed = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                        for s, b in ((self.process.stdout, self.out), (self.process.stderr, self.err))]
        for reader in self.readers:
            reader.start()

    def _read(self, stream, into):
        while True:
            chunk = stream.read1(4096)
            with self.changed:
                if chunk:
                    into.extend(chunk)
                self.changed.notify_all()
            if not chunk:
                return

    def wait_for(self, stream, pattern, timeout=20):
        """Waits until `stream` ("out" or "err") holds a full line matching `pattern` (bytes regex)."""
        buffer = self.out if stream == "out" else self.err
        deadline = time.monotonic() + timeout
        with self.changed:
            while not re.search(pattern, bytes(buffer), re.M):
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not any(r.is_alive() for r in self.readers)):
                    raise AssertionError("no line matching %r on %s; so far: %r" % (pattern, stream, self.result(False)))
                self.changed.wait(min(left, 0.2))

    def result(self, finish=True, timeout=RUN_LIMIT_S):
        if finish:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop()
                raise
            for reader in self.readers:
                reader.join(5)
        with self.changed:
            return Result(self.process.returncode, bytes(self.out), bytes(self.err))

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for reader in self.readers:
            reader.join(5)
        self.process.stdout.close()
        self.process.stderr.close()


# --- the service side over MQTT -----------------------------------------------------------

class Watch:
    """A service-side subscriber (mosquitto_sub, QoS 1) recording every message as
    (qos, topic, payload bytes). Returns from the constructor once subscribed (a probe
    message on `probe_topic`, which must match `topic_filter`, came back)."""

    def __init__(self, topic_filter, probe_topic, extra_args=()):
        self.messages = []
        self.probe_topic, self.probed = probe_topic, False
        self.changed = threading.Condition()
        # Hex payload: byte-exact whatever it holds; one line per message.
        self.process = subprocess.Popen(["mosquitto_sub", *extra_args, "-q", "1", "-F", "%q %x %t", "-t", topic_filter],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + 10
        while True:
            publish(probe_topic, b"", qos=0, extra_args=extra_args)
            with self.changed:
                self.changed.wait(0.2)
                if self.probed:
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError("service-side subscription to %s did not start" % topic_filter)

    def _read(self):
        for line in self.process.stdout:
            parts = line.decode("utf-8", "replace").rstrip("\n").split(" ", 2)
            qos, payload, topic = int(parts[0]), bytes.fromhex(parts[1]), parts[2]  # the topic last: it may hold spaces
            with self.changed:
                if topic == self.probe_topic:
                    self.probed = True
                else:
                    self.messages.append((qos, topic, payload))
                self.changed.notify_all()

    def wait_count(self, count, timeout=10):
        """Waits until at least `count` messages arrived; returns them all."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.changed.wait(0.2)
            return list(self.messages)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
        self.reader.join(5)
        self.process.stdout.close()


def publish(topic, payload, qos=1, extra_args=()):
    """Publishes bytes as the service side (mosquitto_pub reads the message from stdin)."""
    message = ["-s"] if payload else ["-n"]  # -s: the message is all of stdin; -n: an empty message
    subprocess.run(["mosquitto_pub", *(extra_args or SERVICE_MQTT), "-q", str(qos), "-t", topic, *message], input=payload,
                   check=True, timeout=15, stdout=subprocess.DEVNULL)


def events_watch():
    """Watches the device's telemetry topic `devices/{id}/messages/events/{property bag}`."""
    base = "devices/%s/messages/events/" % DEVICE
    return Watch(base + "#", base + "tinyhub-probe", SERVICE_MQTT)


def property_bag(topic, prefix):
    """The decoded `key=value` pairs after `prefix` in a topic, in order (IoT Hub: URL-encoded,
    joined by `&`)."""
    assert topic.startswith(prefix), topic
    bag = topic[len(prefix):]
    pairs = []
    for part in bag.split("&") if bag else []:
        key, _, value = part.partition("=")
        pairs.append((urllib.parse.unquote(key), urllib.parse.unquote(value)))
    return pairs


# --- the service side over HTTPS (the fixture's control endpoints) --------------------------

def fixture(method, path, body=None):
    """Calls a control endpoint of the HTTPS fixture (Tests/Fixtures/iothub_https_fixture.py)."""
    conn = http.client.HTTPSConnection("localhost", int(HTTPS_PORT), timeout=10,
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


def fixture_requests():
    return fixture("GET", "/_fixture/requests")


def fixture_reset():
    """No throttling or forced answers pending."""
    fixture("POST", "/_fixture/config", {"throttle": 0, "statusNext": [], "closeNext": 0, "dropNext": 0, "retryAfter": 5})


def header(request, name):
    """A recorded request's header value (case-insensitive name), or None."""
    for key, value in request["headers"]:
        if key.lower() == name.lower():
            return value
    return None


def sas_fields(token):
    """The fields of a `SharedAccessSignature sr=…&sig=…&se=…` token."""
    prefix = "SharedAccessSignature "
    assert token.startswith(prefix), token
    return {k: urllib.parse.unquote(v) for k, _, v in (p.partition("=") for p in token[len(prefix):].split("&"))}


# --- checks every test uses -----------------------------------------------------------------

PAYLOAD = re.compile(r'\{"seq":([0-9]+),"time":([0-9]+)\}\Z')
MESSAGE_ID = re.compile(r"([0-9a-f]+)-([0-9]+)\Z")


class ContractTest(unittest.TestCase):
    maxDiff = None

    def assertFailure(self, result, code, *mentions):
        """Exit `code`; nothing on stdout starts with a record word; stderr ends with one clear
        line (non-empty, newline-terminated) that mentions each of `mentions` (case-insensitive)."""
        self.assertEqual(result.rc, code, result)
        for line in result.out_lines:
            self.assertFalse(line.startswith(RECORD_WORDS), "a record word on stdout after a failure: %r" % result)
        self.assertTrue(result.err.endswith(b"\n") and result.err_lines and result.err_lines[-1].strip(), result)
        last = result.err_lines[-1].lower()
        for mention in mentions:
            self.assertIn(mention.lower(), last, result)

    def assertUsageError(self, result, *mentions):
        """A usage error: exit 1, nothing on stdout, exactly one stderr line."""
        self.assertFailure(result, 1, *mentions)
        self.assertEqual(result.out, b"", result)
        self.assertEqual(len(result.err_lines), 1, result)

    def assertTelemetryPayloads(self, payloads, count, not_before, not_after):
        """`{"seq":i,"time":t}` for i = 1...count in order, t in [not_before, not_after]; returns the times."""
        times = []
        for index, payload in enumerate(payloads, start=1):
            match = PAYLOAD.match(payload.decode())
            self.assertIsNotNone(match, payload)
            self.assertEqual(int(match.group(1)), index, payloads)
            times.append(int(match.group(2)))
            self.assertTrue(not_before <= times[-1] <= not_after, (not_before, payload, not_after))
        self.assertEqual(len(payloads), count, payloads)
        return times

    def assertMessageIDs(self, ids, count):
        """`<hex run id>-<i>` for i = 1...count, one run id; returns the run id."""
        self.assertEqual(len(ids), count, ids)
        runs = set()
        for index, message_id in enumerate(ids, start=1):
            match = MESSAGE_ID.match(message_id or "")
            self.assertIsNotNone(match, ids)
            self.assertEqual(int(match.group(2)), index, ids)
            runs.add(match.group(1))
        self.assertEqual(len(runs), 1, ids)
        return runs.pop()


def free_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(directory, name):
    """A throw-away EC P-256 CA `name.pem` / `name.key` in `directory`."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-sha256", "-days", "2",
            "-subj", "/CN=%s" % name, "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", name + ".key", "-out", name + ".pem", cwd=directory)
    return os.path.join(directory, name + ".pem")


def make_leaf(directory, name, ca, common_name, extensions):
    """A leaf certificate `name.pem` / `name.key` signed by CA `ca` (file stem)."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-sha256", "-subj", "/CN=%s" % common_name,
            "-keyout", name + ".key", "-out", name + ".csr", cwd=directory)
    with open(os.path.join(directory, name + ".ext"), "w") as f:
        f.write(extensions)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial", "-days", "2",
            "-sha256", "-extfile", name + ".ext", "-out", name + ".pem", cwd=directory)
    return os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")


def temporary_directory():
    return tempfile.mkdtemp(prefix="tinyhub-cli.", dir=HUB_DIR)


class TLSBroker:
    """A throw-away TLS mosquitto on a free loopback port with its own openssl-made CA (server
    certificate for `localhost`); with `client_certificates`, it requires a client certificate
    from that CA. `service_args` connect mosquitto_pub/sub to it (with a client certificate)."""

    SERVER_EXT = "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    CLIENT_EXT = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"

    def __init__(self, client_certificates):
        self.directory = directory = temporary_directory()
        self.ca = make_ca(directory, "broker-ca")
        make_leaf(directory, "server", "broker-ca", "localhost", self.SERVER_EXT)
        self.service = make_leaf(directory, "service", "broker-ca", "service", self.CLIENT_EXT)
        self.port = free_port()
        config = os.path.join(directory, "mosquitto.conf")
        with open(config, "w") as f:
            f.write("per_listener_settings false\nuser root\nallow_anonymous true\npersistence false\n"
                    "log_dest file {d}/mosquitto.log\nlistener {p} 127.0.0.1\ncafile {ca}\ncertfile {d}/server.pem\n"
                    "keyfile {d}/server.key\nrequire_certificate {r}\n".format(
                        d=directory, p=self.port, ca=self.ca, r="true" if client_certificates else "false"))
        self.process = subprocess.Popen(["/usr/sbin/mosquitto", "-c", config], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self.service_args = ["-h", "localhost", "-p", self.port, "--cafile", self.ca,
                             "--cert", self.service[0], "--key", self.service[1]]
        deadline = time.monotonic() + 10
        while subprocess.run(["mosquitto_pub", *self.service_args, "-t", "probe", "-n"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("the test mosquitto did not start (log: %s/mosquitto.log)" % directory)
            time.sleep(0.1)

    def client(self, name, common_name, ca="broker-ca"):
        """A client certificate and key signed by CA `ca` (file stem in this broker's folder)."""
        return make_leaf(self.directory, name, ca, common_name, self.CLIENT_EXT)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


def gate_control(command):
    """Sends one command to the stand-in's IoT Hub gate (HUB_GATE_CONTROL_PORT) and returns its reply."""
    with socket.create_connection(("127.0.0.1", int(os.environ["HUB_GATE_CONTROL_PORT"])), timeout=10) as conn:
        conn.sendall((json.dumps(command) + "\n").encode())
        return json.loads(conn.makefile("rb").readline())


class GateLog:
    """The stand-in's MQTT gate record (HUB_GATE_LOG: one JSON object per line); `since()`
    returns the records written after this object was made."""

    def __init__(self):
        self.path = os.environ["HUB_GATE_LOG"]
        self.offset = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def since(self, event=None):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        # The gate may be writing a line right now: only whole lines count.
        records = [json.loads(line) for line in data[:data.rfind(b"\n") + 1].splitlines() if line.strip()]
        return [r for r in records if event is None or r.get("event") == event]
