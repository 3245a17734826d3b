"""Logging in on Keycloak's real page, in Chromium: a demo enterprise user, and a new enterprise account whose
first login changes the one-time password."""

from __future__ import annotations

import uuid

import httpx
from browser_helpers import Ui

from cleanprod_kit.testing.data import random_tax_code


def test_enterprise_logs_in_on_keycloak_and_out_again(ui: Ui) -> None:
    ui.goto("/calls")
    ui.login("ent-hanoisteel")  # the header's link: back to the page the user was on
    assert ui.path == "/calls"
    ui.page.locator(".service-nav").get_by_role("link", name="Trang làm việc của tôi").click()
    ui.seen("dashboard")
    assert ui.path == "/enterprise"
    assert ui.page.locator("h2", has_text="Việc cần làm").count() == 1
    assert "0100109106" in ui.page.inner_text("main")
    ui.logout()
    assert ui.page.locator(".site-header__tools").get_by_role("link", name="Đăng nhập").count() == 1
    # Keycloak's session ended too: the workspace asks for the password again.
    ui.page.goto(ui.url("/enterprise"))
    ui.page.locator("#username").wait_for()
    ui.seen("keycloak-login-again")


def test_first_login_changes_the_one_time_password(ui: Ui, gateway: httpx.Client, tokens) -> None:
    officer = tokens.headers("officer1")
    enterprise = gateway.post(
        "/api/v1/enterprises",
        headers=officer,
        json={
            "tax_code": random_tax_code(),
            "name": "Công ty Cổ phần Dệt may Đông Anh",
            "legal_form": "joint_stock",
            "size_class": "medium",
            "address": "Số 12 đường Cao Lỗ, Đông Anh, Hà Nội",
            "ward": "Xã Đông Anh",
        },
    )
    assert enterprise.status_code == 201, enterprise.text
    username = f"ent-{uuid.uuid4().hex[:8]}"
    account = gateway.post(
        f"/api/v1/enterprises/{enterprise.json()['id']}/accounts",
        headers=officer,
        json={
            "username": username,
            "email": f"{username}@detmaydonganh.example.vn",
            "first_name": "Văn Đức",
            "last_name": "Nguyễn",
        },
    )
    assert account.status_code == 201, account.text

    ui.login(username, account.json()["temporary_password"], new_password="Moi@Matkhau2026", next_path="/enterprise")
    assert ui.path == "/enterprise"
    assert "Nguyễn" in ui.page.locator(".site-header__user").inner_text()
