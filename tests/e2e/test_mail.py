"""E-mail through the real stack (docs/notifications.md "Mail"): an enterprise submits through the gateway, the
applications service's sender asks the registry — which asks the real Keycloak — who the enterprise's logins are,
and the loopback SMTP server devstack started captures the receipt at the account's address, in Vietnamese, with
the link to the portal page; the portal's dev mailbox lists it. The registry's recipients carry Keycloak's
`locale` attribute (reviewer3: English)."""

from __future__ import annotations

import httpx
from e2e_helpers import HANOISTEEL, Api, poll

from infra.devstack import Stack
from infra.mailbox import file_name, messages


def test_submitting_mails_the_receipt_to_the_enterprise_account(api: Api, stack: Stack) -> None:
    application = api.submitted(api.call())
    code = application["dossier_code"]

    def receipt() -> list:
        return [m for m in messages(stack.mailbox_dir) if code in str(m["Subject"])]

    [mail] = poll(receipt, timeout=60, what=f"the receipt mail of {code}")
    assert mail["To"].addresses[0].addr_spec == "ent-hanoisteel@hanoisteel.example"
    assert mail["Subject"] == f"Đã tiếp nhận hồ sơ {code}"
    assert mail["Content-Language"] == "vi"
    text = mail.get_body(("plain",)).get_content()
    assert f"{stack.url('portal')}/enterprise/applications/{application['id']}" in text
    assert "Kính gửi Đỗ Mạnh Hùng," in text

    inbox = httpx.get(f"{stack.url('portal')}/dev/mailbox", timeout=30)
    assert inbox.status_code == 200 and f"Đã tiếp nhận hồ sơ {code}" in inbox.text
    opened = httpx.get(f"{stack.url('portal')}/dev/mailbox/{file_name(str(mail['Message-ID']))}", timeout=30)
    assert opened.status_code == 200 and "Kính gửi Đỗ Mạnh Hùng," in opened.text


def test_registry_recipients_come_from_keycloak_with_their_language(api: Api, stack: Stack) -> None:
    service = {"Authorization": f"Bearer {api.tokens.client('svc-applications')}"}
    url = f"{stack.url('registry')}/internal/recipients"
    reviewers = httpx.get(url, params={"role": "reviewer"}, headers=service, timeout=30)
    assert reviewers.status_code == 200, reviewers.text
    languages = {r["username"]: (r["email"], r["locale"]) for r in reviewers.json()["items"]}
    assert languages["reviewer3"] == ("reviewer3@sct-hanoi.example", "en")
    assert languages["reviewer1"] == ("reviewer1@sct-hanoi.example", "vi")
    enterprise_id = api.facility(HANOISTEEL)["enterprise_id"]
    logins = httpx.get(url, params={"enterprise_id": enterprise_id}, headers=service, timeout=30).json()["items"]
    assert [(r["username"], r["email"], r["enabled"], r["full_name"]) for r in logins] == [
        ("ent-hanoisteel", "ent-hanoisteel@hanoisteel.example", True, "Đỗ Mạnh Hùng")
    ]
    # A person's token is refused (the endpoint is for services; the gateway does not route /internal at all).
    person = httpx.get(url, params={"role": "reviewer"}, headers=api.h("officer1"), timeout=30)
    assert person.status_code == 403
    assert api.client.get("/internal/recipients", params={"role": "reviewer"}, headers=service).status_code == 404
