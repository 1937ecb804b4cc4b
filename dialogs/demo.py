"""Demo data for `make run`: a few consented dialogs and how to read them."""

from __future__ import annotations

import os

from config.errors import ApplicationError
from config.services import api_token_issue
from dialogs import services

DEMO_DIALOGS = [
    ("42", "demo-1", "EN", "Customer: Hi, my order #10452 hasn't arrived yet.\nBot: Let me check."),
    ("42", "demo-2", "DE", "Customer: Wie kann ich mein Passwort zurücksetzen?\nBot: Unter Konto."),
    ("7", "demo-3", "FR", "Customer: Bonjour, je voudrais changer d'adresse.\nBot: Bien sûr !"),
]


def seed() -> list[str]:
    """Idempotent: reuses existing demo dialogs and consents only once."""
    for customer_id, dialog_id, language, text in DEMO_DIALOGS:
        try:
            dialog, _ = services.dialog_create(
                customer_id=customer_id, dialog_id=dialog_id, text=text, language=language
            )
        except ApplicationError:  # revoked or erased by someone trying the API: leave it gone
            continue
        if not dialog.consented:
            services.dialog_consent_record(dialog_id=dialog_id, granted=True)
    token = api_token_issue(username="demo-analyst", role="analyst").key
    base = f"http://localhost:{os.environ.get('PORT', '8000')}"
    return [
        "Dialogs DataAPI (consented dialogs, newest first):",
        f'  curl -H "Authorization: Token {token}" "{base}/data/?language=EN&customerId=42"',
        "  More data: python manage.py generate_dialogs --customers 100 --dialogs 1000 "
        "--consented 500",
    ]
