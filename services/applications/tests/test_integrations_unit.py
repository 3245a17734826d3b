"""E-government integration: the rules that need no database — dates, URL policy, signatures, secrets, patterns."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os

import pytest
from applications_helpers import documented_verifier
from pydantic import SecretStr

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.domain import ApplicationStatus, EgovStatus
from cleanprod_applications.domain.egov_status import MAPPING
from cleanprod_applications.holiday_calendar import default_calendar
from cleanprod_applications.integrations.dossier import (
    LABELS_VI,
    DossierFacts,
    dossier_times,
    national_timestamp,
)
from cleanprod_applications.integrations.events import KNOWN_EVENT_TYPES, matches, pattern_problem
from cleanprod_applications.integrations.signing import (
    DEVELOPMENT_KEY,
    InvalidSecret,
    SecretBox,
    box_from_settings,
    generate_secret,
    secret_key,
    signed_headers,
)
from cleanprod_applications.integrations.urls import UrlPolicy, UrlRefused, check_address, check_url, parse_target

UTC = dt.UTC
STRICT = UrlPolicy(allow_http=False, allow_loopback=False, allow_private=False)
HTTP_ALLOWED = UrlPolicy(allow_http=True, allow_loopback=False, allow_private=False)
DEV = UrlPolicy(allow_http=True, allow_loopback=True, allow_private=False)


# ---- dates ------------------------------------------------------------------------------------------------------
def test_national_timestamp_is_hanoi_time() -> None:
    assert national_timestamp(dt.datetime(2026, 11, 28, 2, 30, 12, tzinfo=UTC)) == "20261128093012"
    assert national_timestamp(dt.datetime(2026, 11, 28, 18, 0, tzinfo=UTC)) == "20261129010000"  # next day in Hanoi
    assert national_timestamp(None) is None
    with pytest.raises(ValueError):
        national_timestamp(dt.datetime(2026, 11, 28, 9, 0))


@pytest.mark.parametrize(
    ("received_local", "days", "due_local"),
    [
        ("2026-11-27T10:00", 1, "2026-11-30T10:00"),  # Friday + 1 → Monday
        ("2026-11-28T10:00", 1, "2026-11-30T10:00"),  # Saturday + 1 → Monday
        ("2026-11-29T23:30", 1, "2026-11-30T23:30"),  # Sunday + 1 → Monday
        ("2026-11-23T08:00", 5, "2026-12-01T08:00"),  # Monday + 5 → next Tuesday (24/11 Vietnamese Culture Day)
        ("2026-11-23T08:00", 0, "2026-11-23T08:00"),
        ("2026-11-30T09:15", 30, "2027-01-12T09:15"),  # 6 weeks + 1 day for New Year's Day 01/01/2027
    ],
)
def test_due_date_counts_working_days(received_local: str, days: int, due_local: str) -> None:
    hanoi = dt.timezone(dt.timedelta(hours=7))
    received = dt.datetime.fromisoformat(received_local).replace(tzinfo=hanoi)
    due = default_calendar().add_working_days(received.astimezone(UTC), days)  # the one calendar (domain/working_days)
    assert due.astimezone(hanoi).replace(tzinfo=None) == dt.datetime.fromisoformat(due_local)


def _facts(status: ApplicationStatus) -> DossierFacts:
    t = dt.datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    return DossierFacts(
        dossier_code="000.00.01.H26-261102-0001",
        status=status,
        enterprise_name="X",
        enterprise_tax_code="0100109106",
        title="T",
        first_submitted_at=t,
        submitted_at=t + dt.timedelta(days=1),
        due_at=t + dt.timedelta(days=40),
        decided_at=t + dt.timedelta(days=10),
        verified_at=t + dt.timedelta(days=100),
        version=5,
    )


@pytest.mark.parametrize("status", [s for s in ApplicationStatus if MAPPING[s].code is not None])
def test_decided_and_returned_dates_follow_the_code(status: ApplicationStatus) -> None:
    facts = _facts(status)
    times = dossier_times(facts)
    code = MAPPING[status].code
    assert times.received == facts.first_submitted_at and times.due == facts.due_at
    if code is EgovStatus.REFUSED_AT_RECEPTION:
        assert times.decided == facts.submitted_at
    elif status in (ApplicationStatus.VERIFIED, ApplicationStatus.NOT_ACHIEVED):
        assert times.decided == facts.verified_at
    elif code in (EgovStatus.DECIDED, EgovStatus.RESULT_DELIVERED):
        assert times.decided == facts.decided_at
    else:
        assert times.decided is None
    assert times.returned == (times.decided if code is EgovStatus.RESULT_DELIVERED else None)


def test_every_code_has_a_vietnamese_label() -> None:
    assert set(LABELS_VI) == set(EgovStatus)


# ---- URL policy --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata_address"),
        ("https://169.254.169.254/", "metadata_address"),
        ("https://[fd00:ec2::254]/", "metadata_address"),
        ("https://metadata.google.internal/computeMetadata/v1/", "metadata_address"),
        ("https://METADATA.google.internal./", "metadata_address"),
        ("https://100.100.100.200/", "metadata_address"),
        ("http://[fe80::1]/", "link_local_address"),
        ("https://[fe80::1%25eth0]:8443/", "link_local_address"),
        ("https://169.254.10.20/", "link_local_address"),
        ("https://10.0.0.1/hook", "private_address"),
        ("https://192.168.1.10/hook", "private_address"),
        ("https://172.20.0.5/hook", "private_address"),
        ("https://100.64.1.1/hook", "private_address"),
        ("https://[fd12:3456::1]/hook", "private_address"),
        ("https://127.0.0.1/hook", "loopback_address"),
        ("https://[::1]/hook", "loopback_address"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback_address"),
        ("https://[::ffff:169.254.169.254]/", "metadata_address"),
        ("https://[64:ff9b::a00:1]/", "private_address"),  # NAT64 of 10.0.0.1
        ("https://0.0.0.0/", "unspecified_address"),
        ("https://[::]/", "unspecified_address"),
        ("https://224.0.0.1/", "multicast_address"),
        ("https://[ff02::1]/", "multicast_address"),
        ("https://255.255.255.255/", "reserved_address"),
        ("https://192.0.2.10/", "reserved_address"),
        ("https://[2001:db8::1]/", "reserved_address"),
        ("ftp://hooks.example.vn/", "scheme_not_allowed"),
        ("https://user:pw@hooks.example.vn/", "credentials_in_url"),
        ("https://hooks.example.vn/#x", "invalid_url"),
        ("https:///nohost", "invalid_url"),
        ("https://hooks.example.vn:99999/", "invalid_url"),
        ("https://hooks example.vn/", "invalid_url"),
    ],
)
def test_forbidden_urls(url: str, code: str) -> None:
    for policy in (STRICT, HTTP_ALLOWED):  # the address rules hold whether or not http is accepted
        if url.startswith("http:") and not policy.allow_http:
            continue
        with pytest.raises(UrlRefused) as refused:
            parse_target(url, policy)
        assert refused.value.code == code


def test_https_required_outside_dev_and_test() -> None:
    with pytest.raises(UrlRefused) as refused:
        parse_target("http://hooks.example.vn/", STRICT)
    assert refused.value.code == "https_required"
    assert parse_target("http://hooks.example.vn/", HTTP_ALLOWED).port == 80


def test_dev_allows_http_and_loopback_but_never_metadata() -> None:
    assert parse_target("http://127.0.0.1:8080/hook", DEV).port == 8080
    assert parse_target("http://[::1]:8080/hook", DEV).host == "::1"
    with pytest.raises(UrlRefused):
        parse_target("http://169.254.169.254/", DEV)
    with pytest.raises(UrlRefused):
        parse_target("http://10.0.0.1/", DEV)
    assert parse_target("https://10.0.0.1/", UrlPolicy(False, False, True)).host == "10.0.0.1"


def test_host_allow_list() -> None:
    policy = UrlPolicy(
        allow_http=False,
        allow_loopback=False,
        allow_private=False,
        allowed_hosts=("lgsp.hanoi.gov.vn", "*.motcua.hanoi.gov.vn"),
    )
    assert parse_target("https://lgsp.hanoi.gov.vn/x", policy).host == "lgsp.hanoi.gov.vn"
    assert parse_target("https://a.motcua.hanoi.gov.vn/x", policy)
    for url in (
        "https://motcua.hanoi.gov.vn/x",
        "https://evil.vn/x",
        "https://lgsp.hanoi.gov.vn.evil.vn/x",
        "https://xmotcua.hanoi.gov.vn/x",
    ):
        with pytest.raises(UrlRefused) as refused:
            parse_target(url, policy)
        assert refused.value.code == "host_not_allowed"


def _resolver(*answers: str):  # noqa: ANN202 - test helper
    async def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return [ipaddress.ip_address(a) for a in answers]

    return resolve


async def test_every_resolved_address_must_pass() -> None:
    assert (await check_url("https://hooks.example.vn/x", STRICT, _resolver("203.0.114.7"))).host == "hooks.example.vn"
    for answers, code in (
        (("203.0.114.7", "10.0.0.1"), "private_address"),
        (("169.254.169.254",), "metadata_address"),
        (("2a01:4f8::1", "::1"), "loopback_address"),
        (("::ffff:10.1.2.3",), "private_address"),
    ):
        with pytest.raises(UrlRefused) as refused:
            await check_url("https://hooks.example.vn/x", STRICT, _resolver(*answers))
        assert refused.value.code == code


async def test_unresolvable_host_is_refused() -> None:
    with pytest.raises(UrlRefused) as refused:
        await check_url("https://no-such-host.invalid/x", STRICT)
    assert refused.value.code == "unresolvable_host"


def test_address_rules_are_explicit() -> None:
    check_address(ipaddress.ip_address("8.8.8.8"), STRICT)
    check_address(ipaddress.ip_address("2a01:4f8::1"), STRICT)
    with pytest.raises(UrlRefused):
        check_address(ipaddress.ip_address("2002:a00:1::1"), STRICT)  # 6to4 of 10.0.0.1


def test_loopback_default_follows_environment() -> None:
    assert ApplicationsSettings(environment="test").webhook_allow_loopback is True
    assert ApplicationsSettings(environment="dev").webhook_allow_loopback is True
    assert ApplicationsSettings(environment="production").webhook_allow_loopback is False
    assert ApplicationsSettings(environment="production", webhook_allow_loopback=True).webhook_allow_loopback is True
    assert UrlPolicy.from_settings(ApplicationsSettings(environment="production")).allow_http is False


# ---- signatures --------------------------------------------------------------------------------------------------
def test_documented_snippet_accepts_our_signature_and_refuses_tampering() -> None:
    verify, invalid = documented_verifier()
    secret = generate_secret()
    body = b'{"id":"e1","type":"application.approved","data":{"egov_status":9}}'
    headers = signed_headers(secret, "0193-event", 1_800_000_000, body)
    assert verify(secret, headers, body, now=1_800_000_000 + 10) == "0193-event"
    with pytest.raises(invalid):
        verify(secret, headers, body.replace(b"9", b"10"), now=1_800_000_000)
    with pytest.raises(invalid):
        verify(generate_secret(), headers, body, now=1_800_000_000)
    with pytest.raises(invalid):  # replayed later than the tolerance
        verify(secret, headers, body, now=1_800_000_000 + 301)
    with pytest.raises(invalid):  # another event id with the same signature
        verify(secret, {**headers, "Webhook-Id": "0193-other"}, body, now=1_800_000_000)
    rotated = {**headers, "Webhook-Signature": "v1,bm9wZQ== " + headers["Webhook-Signature"]}
    assert verify(secret, rotated, body, now=1_800_000_000) == "0193-event"


def test_secret_format() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_") and len(secret_key(secret)) == 32
    for bad in ("plain-text", "whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(InvalidSecret):
            secret_key(bad)


def test_secret_box_binds_row_and_rotates() -> None:
    old, new = os.urandom(32), os.urandom(32)
    token = SecretBox([old]).encrypt("whsec_abc", "row-1")
    assert "whsec_abc" not in token
    assert SecretBox([old]).decrypt(token, "row-1") == "whsec_abc"
    with pytest.raises(ValueError):
        SecretBox([old]).decrypt(token, "row-2")  # copied to another row
    with pytest.raises(ValueError):
        SecretBox([new]).decrypt(token, "row-1")  # key gone
    rotated = SecretBox([new, old])
    assert rotated.decrypt(token, "row-1") == "whsec_abc"
    assert rotated.decrypt(rotated.encrypt("x", "r"), "r") == "x"
    assert rotated.encrypt("x", "r").split(".")[1] == rotated.current_key_id


def test_secret_box_from_settings() -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    assert box_from_settings(ApplicationsSettings(environment="production")) is None
    production = box_from_settings(ApplicationsSettings(environment="production", webhook_secret_key=key))
    assert production is not None
    assert SecretBox([DEVELOPMENT_KEY]).current_key_id == box_from_settings(ApplicationsSettings()).current_key_id
    older = base64.b64encode(os.urandom(32)).decode()
    token = SecretBox([base64.b64decode(older)]).encrypt("s", "r")
    settings = ApplicationsSettings(
        environment="production", webhook_secret_key=key, webhook_secret_previous_keys=SecretStr(older)
    )
    assert box_from_settings(settings).decrypt(token, "r") == "s"
    with pytest.raises(ValueError):
        ApplicationsSettings(webhook_secret_key=base64.b64encode(b"16 bytes only!!!").decode())


# ---- event-type patterns -----------------------------------------------------------------------------------------
def test_patterns() -> None:
    assert matches("*", "call.created")
    assert matches("application.*", "application.screening_passed")
    assert not matches("application.*", "call.created")
    assert matches("application.approved", "application.approved")
    assert not matches("application.approve", "application.approved")
    assert pattern_problem("application.*") is None
    assert pattern_problem("application.nothing") is not None
    assert pattern_problem("Application.*") is not None
    assert pattern_problem("application.%") is not None
    assert {t.split(".")[0] for t in KNOWN_EVENT_TYPES} == {"application", "call"}
