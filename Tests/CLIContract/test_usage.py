"""Usage errors: exit 1, nothing on stdout, one stderr line naming the problem (README: exit
codes; issue 8 item 9: whole-word --transport). The environment is the stand-in's, valid, so
an example that wrongly accepted an argument would run and succeed (and fail the test)."""
from support import BROKER_PORT, CA, ContractTest, hub_env, run

HUB_EXAMPLES = ("hub-telemetry", "hub-c2d", "hub-twin", "hub-methods")

# Options that take a decimal number, per example (README synopses).
NUMBER_OPTIONS = {
    "hub-telemetry": ("--count", "--interval-ms", "--qos"),
    "hub-c2d": ("--count", "--timeout-s", "--dev-poll-interval-s"),
    "hub-twin": ("--await-desired",),
    "hub-methods": ("--count",),
}
ALL_OPTIONS = {
    "hub-telemetry": NUMBER_OPTIONS["hub-telemetry"] + ("--transport", "--property", "--content-type"),
    "hub-c2d": NUMBER_OPTIONS["hub-c2d"] + ("--transport",),
    "hub-twin": NUMBER_OPTIONS["hub-twin"] + ("--report",),
    "hub-methods": NUMBER_OPTIONS["hub-methods"],
}
BAD_NUMBERS = ("x", "", "-1", "1.5", "+1", "0x10", " 1", "1 ", "99999999999999999999999")


class UsageErrors(ContractTest):
    def test_unknown_option(self):
        for program in HUB_EXAMPLES:
            for args in (("--bogus",), ("--count", "1", "--bogus") if program != "hub-twin" else ("--bogus", "1"),
                         ("-count", "1"), ("count",), ("--Count", "1")):
                with self.subTest(program=program, args=args):
                    self.assertUsageError(run(program, *args), "unknown option", args[-2] if args[-1] == "1" else args[-1])

    def test_missing_value(self):
        for program, options in ALL_OPTIONS.items():
            for option in options:
                with self.subTest(program=program, option=option):
                    self.assertUsageError(run(program, option), "missing value", option)

    def test_bad_number(self):
        for program, options in NUMBER_OPTIONS.items():
            for option in options:
                for value in BAD_NUMBERS:
                    with self.subTest(program=program, option=option, value=value):
                        self.assertUsageError(run(program, option, value), option)

    def test_number_out_of_range(self):
        cases = [("hub-telemetry", "--qos", "2"), ("hub-c2d", "--transport", "https", "--dev-poll-interval-s", "0"),
                 ("hub-c2d", "--transport", "https", "--dev-poll-interval-s", "1500")]
        for program, *args in cases:
            with self.subTest(args=args):
                self.assertUsageError(run(program, *args), args[-2])

    def test_transport_is_matched_as_a_whole_word(self):
        for program in ("hub-telemetry", "hub-c2d"):
            for word in ("htxxs", "htZZs", "httpsx", "http", "https ", "mqt", "mqtx", "mqttt", "mxxt", "", "MQTT", "HTTPS"):
                with self.subTest(program=program, word=word):
                    self.assertUsageError(run(program, "--transport", word), "--transport")

    def test_dev_poll_interval_needs_https(self):
        for args in (("--dev-poll-interval-s", "5"), ("--transport", "mqtt", "--dev-poll-interval-s", "5")):
            with self.subTest(args=args):
                self.assertUsageError(run("hub-c2d", *args), "--dev-poll-interval-s")

    def test_pairs_need_a_name_and_an_equals_sign(self):
        for program, option in (("hub-telemetry", "--property"), ("hub-twin", "--report")):
            for value in ("novalue", "=v", ""):
                with self.subTest(program=program, value=value):
                    self.assertUsageError(run(program, option, value), option)

    def test_mqtt_demo_usage(self):
        for args in (("--bogus",), ("--count",), ("--count", "x"), ("--count", "-1"), ("--count", "5", "extra")):
            with self.subTest(args=args):
                # A valid broker setting: mqtt-demo would run (and succeed) if it accepted the arguments.
                env = hub_env(MQTT_PORT=BROKER_PORT, MQTT_CA_FILE=CA)
                self.assertUsageError(run("mqtt-demo", *args, env=env), "usage")
