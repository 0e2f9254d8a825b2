"""No command prints the client secret, an access token or the webhook key — not even a part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli_helpers import invoke, running_emulator, webhook_receiver, write_env

from ams_billing.core.signing import sign_body
from ams_billing.emulators.xero import EmulatorConfig

CLIENT_SECRET = "cS9f2Kq7ZxWm4Rt8vLpYb3Hn"
WEBHOOK_KEY = "wK5d8Jr2TqXe7Nb4MzUa6Gc1"
FAKE_KEY = "fK3s9Lw6PvQy2Hd8BnRt5Ex7"
WINDOW = 8


def leaks(text: str, secret: str, window: int = WINDOW) -> list[str]:
    """Every ``window``-long piece of ``secret`` found in ``text``."""
    return [
        secret[i : i + window]
        for i in range(len(secret) - window + 1)
        if secret[i : i + window] in text
    ]


def test_no_command_shows_a_secret(tmp_path: Path) -> None:
    config = EmulatorConfig(rate_limits=False, client_secret=CLIENT_SECRET, webhook_key=WEBHOOK_KEY)
    outputs: list[str] = []

    def run(args: list[str], env: dict[str, str | None] | None = None) -> None:
        result = invoke(args, env=env)
        outputs.append(result.stdout + result.stderr)

    with running_emulator(config) as xero, webhook_receiver(xero.settings()) as (url, _):
        env = {**xero.env, "AMS_BILLING_FAKE_WEBHOOK_KEY": FAKE_KEY}
        good = str(write_env(tmp_path / "good.env", env))
        wrong_id = str(write_env(tmp_path / "wrong.env", {**env, "XERO_CLIENT_ID": "NOPE"}))
        broken = str(
            write_env(
                tmp_path / "broken.env",
                {**env, "XERO_CLIENT_ID": None, "AMS_BILLING_EMAIL_WHITELIST_REGEX": "(",
                 "XERO_ACCOUNT_CODE": "400"},
            )
        )  # fmt: skip
        since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        body = tmp_path / "body.json"
        body.write_bytes(b'{"events": []}')
        for extra in ([], ["--json"]):
            for env_file in (good, wrong_id, broken):
                run(["check", "--env-file", env_file, "--webhook-url", url, *extra])
            run(["check", *extra], env=env)  # from the process environment
            run(["providers", "--env-file", good, *extra])
            run(["providers", "--env-file", broken, *extra])
            state = str(tmp_path / f"state{len(extra)}.json")
            run(["sync", "--env-file", good, "--state", state, "--since", since, *extra])
            run(["sync", "--env-file", good, "--state", state, "--id", "x", *extra])
            run(["sync", "--env-file", wrong_id, "--state", state, "--since", since, *extra])
            run(["webhooks", "send", url, "--env-file", good, *extra])
            run(["webhooks", "send", url, "--sample", "--env-file", good, *extra])
            for signature in (sign_body(b'{"events": []}', WEBHOOK_KEY), "bad"):
                run(["webhooks", "verify", "--body-file", str(body), "--signature", signature,
                     "--env-file", good, *extra])  # fmt: skip
            run(["demo", "--provider", "fake", *extra], env=env)
        tokens = list(xero.emulator.issued)

    assert len(outputs) == 28
    assert tokens, "the runs minted tokens"
    everything = "\n".join(outputs)
    assert "credentials" in everything  # the runs did report
    for secret in (CLIENT_SECRET, WEBHOOK_KEY, FAKE_KEY):
        assert leaks(everything, secret) == [], secret
    for token in tokens:
        assert leaks(everything, token, 12) == []


def test_redaction_backs_up_a_secret_that_reached_a_message() -> None:
    from ams_billing.cli.output import Output

    output = Output(json_mode=True, secrets=[CLIENT_SECRET, "short"])
    assert output.redact(f"oops {CLIENT_SECRET}!") == "oops [redacted]!"
    assert output.scrub({"a": [f"x{CLIENT_SECRET}"], CLIENT_SECRET: 1}) == {
        "a": ["x[redacted]"], "[redacted]": 1,
    }  # fmt: skip
    assert output.redact("short stays") == "short stays"  # too short to search for
