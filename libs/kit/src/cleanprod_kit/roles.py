"""The programme's roles (Keycloak realm roles, DESIGN.md "Users") — the one vocabulary for every role check.

Services and the gateway name roles only through `Role` and the groups below, never as bare strings, so a role
renamed or added is a change here and a failing agreement test elsewhere (tests/test_role_rules.py).
`Role` is a `StrEnum`: a member equals its Keycloak name, so tokens' role lists compare directly.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ENTERPRISE = "enterprise"  # enterprise staff: their own enterprise only (token claim tax_code)
    REVIEWER = "reviewer"  # technical experts who score assigned applications
    OFFICER = "officer"  # the Department's programme officers
    VERIFIER = "verifier"  # M&V experts
    FINANCE = "finance"  # the Department's finance staff
    AUDITOR = "auditor"  # inspectors: read everything, change nothing
    EGOV = "egov"  # city e-government systems (client credentials)
    SERVICE = "service"  # the services themselves (client credentials, internal network only)


# People who sign in to the portal and read through the public gateway (auditors read everything).
STAFF_READERS = frozenset({Role.ENTERPRISE, Role.REVIEWER, Role.OFFICER, Role.VERIFIER, Role.AUDITOR})
# Who may read the Department's oversight views (programme summary, audit search, staff list).
OVERSIGHT = frozenset({Role.OFFICER, Role.AUDITOR})
