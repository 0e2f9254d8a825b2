"""``ams-billing webhooks send|verify|drain``: test an endpoint, check a captured delivery.

``webhook`` (singular), the group's first name, still works for scripts written against it:
hidden from the help, it runs the same commands after a deprecation warning on stderr.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click

from ams_billing.cli.commands.drain import drain
from ams_billing.cli.deliveries import intent_body, post_delivery, sample_body
from ams_billing.cli.environment import command_environment, env_file_option, secret_values
from ams_billing.cli.exit_codes import ExitCode
from ams_billing.cli.output import Output, json_option
from ams_billing.core.errors import ConfigurationError, FieldError, ValidationError
from ams_billing.core.signing import sign_body, signature_matches
from ams_billing.providers.xero.webhooks import parse_delivery

__all__ = ["webhook_alias", "webhooks"]

_KEY = "XERO_WEBHOOK_KEY"


def _setup(env_file: Path | None, as_json: bool) -> tuple[Output, Mapping[str, str], str]:
    output = Output(json_mode=as_json)
    try:
        environ = command_environment(env_file)
        for secret in secret_values(environ):
            output.keep_secret(secret)
        key = (environ.get(_KEY) or "").strip()
        if not key:
            raise ConfigurationError(
                "no webhook key:",
                [
                    FieldError(
                        _KEY,
                        "is not set",
                        "set it to the Webhook Key of the app's Webhooks section in the Xero "
                        "developer portal",
                    )
                ],
            )
    except ConfigurationError as error:
        output.fail(error)
    return output, environ, key


@click.group(short_help="Send or verify signed deliveries; drain the inbox.")
def webhooks() -> None:
    """Send a signed test delivery, verify a captured one, or drain the kept deliveries."""


@webhooks.command("send", short_help="Send a signed delivery to URL; judge the answer.")
@click.argument("url")
@click.option(
    "--body-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Send this file's bytes as the body.",
)
@click.option("--sample", is_flag=True, help="Send one INVOICE UPDATE event, as Xero would.")
@click.option("--invoice-id", metavar="ID", help="The invoice the --sample event names.")
@env_file_option
@json_option
def send(
    *,
    url: str,
    body_file: Path | None,
    sample: bool,
    invoice_id: str | None,
    env_file: Path | None,
    as_json: bool,
) -> None:
    """Send a delivery signed with XERO_WEBHOOK_KEY to URL and judge the answer.

    The body is an Intent-to-Receive delivery (no events) unless --sample or --body-file says
    otherwise. Xero requires 200, an empty body, no cookie, within 5 s: exits 0 when the
    answer is all of that, 1 when not.
    """
    if body_file is not None and sample:
        raise click.UsageError("give --body-file or --sample, not both")
    if invoice_id is not None and not sample:
        raise click.UsageError("--invoice-id names the invoice of a --sample delivery")
    output, environ, key = _setup(env_file, as_json)
    if body_file is not None:
        body, kind = body_file.read_bytes(), "file"
    elif sample:
        body, kind = sample_body(environ.get("XERO_TENANT_ID"), invoice_id), "sample"
    else:
        body, kind = intent_body(), "intent-to-receive"
    answer = post_delivery(url, body, sign_body(body, key))
    problems = answer.problems(200)
    code = ExitCode.FAILED if problems else ExitCode.OK
    fix = None
    if answer.status == 401:
        fix = (
            "the endpoint did not accept a delivery signed with XERO_WEBHOOK_KEY: the AMS must "
            "use the same key as the developer portal (and as this machine)"
        )
    elif answer.error is not None:
        fix = "make sure the AMS is running and the URL reachable from here"
    output.json(
        {
            "ok": not problems,
            "exit_code": int(code),
            "url": url,
            "kind": kind,
            "body_bytes": len(body),
            "answer": answer.as_json(),
            "problems": problems,
            "fix": fix,
        }
    )
    output.line(f"POST {url} ({kind} delivery, {len(body)} bytes, signed with {_KEY})")
    status = answer.status if answer.status is not None else "nothing"
    cookie = "a cookie" if answer.sets_cookie else "no cookie"
    output.line(
        f"answered {status} in {answer.elapsed * 1000:.0f} ms, "
        f"{answer.body_length}-byte body, {cookie}"
    )
    if problems:
        output.line("FAIL: " + "; ".join(problems), "bold red")
        if fix:
            output.line(f"fix: {fix}", "cyan")
    else:
        output.line("ok: answered as Xero requires", "green")
    output.exit(code)


@webhooks.command("verify", short_help="Verify a captured delivery's signature.")
@click.option(
    "--body-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The body exactly as received (raw bytes).",
)
@click.option("--signature", required=True, help="The x-xero-signature header received.")
@env_file_option
@json_option
def verify(*, body_file: Path, signature: str, env_file: Path | None, as_json: bool) -> None:
    """Verify a captured delivery's signature with XERO_WEBHOOK_KEY (exit 0 valid, 1 not)."""
    output, environ, key = _setup(env_file, as_json)
    body = body_file.read_bytes()
    valid = signature_matches(body, signature, key)
    events: int | None = None
    parse_error: str | None = None
    if valid:
        try:
            delivery = parse_delivery(body, (environ.get("XERO_TENANT_ID") or "").strip() or None)
            events = len(delivery.events)
        except ValidationError as error:
            parse_error = str(error)
    code = ExitCode.OK if valid else ExitCode.FAILED
    fix = (
        None
        if valid
        else "the key must be the Webhook Key of the developer portal's Webhooks section, and "
        "the body the exact bytes received (re-serialised JSON no longer matches)"
    )
    output.json(
        {
            "ok": valid,
            "exit_code": int(code),
            "valid": valid,
            "body_bytes": len(body),
            "events": events,
            "parse_error": parse_error,
            "fix": fix,
        }
    )
    if valid:
        what = (
            f"{events} event(s)" + (" (an Intent-to-Receive check)" if events == 0 else "")
            if events is not None
            else f"but the body is not a Xero delivery: {parse_error}"
        )
        output.line(f"valid: the signature signs this body with {_KEY}; {what}", "green")
    else:
        output.line(f"INVALID: the signature does not sign this body with {_KEY}", "bold red")
        output.line(f"fix: {fix}", "cyan")
    output.exit(code)


webhooks.add_command(drain)


@click.group(
    "webhook",
    commands=webhooks.commands,
    hidden=True,
    short_help="Deprecated: use `ams-billing webhooks`.",
)
def webhook_alias() -> None:
    """Deprecated: the same commands as `ams-billing webhooks`, under their old name."""
    click.echo(
        "ams-billing webhook is deprecated and will be removed: use `ams-billing webhooks` "
        "(the same commands).",
        err=True,
    )
