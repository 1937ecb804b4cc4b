"""Plausible customer-support chatbot dialogs in a few languages, for demo and benchmark data."""

from __future__ import annotations

import random

# Rough share of each language among the generated dialogs.
LANGUAGE_WEIGHTS = {"EN": 40, "DE": 14, "FR": 12, "ES": 12, "IT": 7, "PT": 6, "NL": 5, "PL": 4}

PHRASES: dict[str, dict[str, list[str]]] = {
    "EN": {
        "ask": [
            "Hi, my order #{n} hasn't arrived yet.",
            "How do I reset my password?",
            "Can I change the delivery address for order #{n}?",
            "I was charged twice this month.",
            "Do you ship to Canada?",
            "The app crashes when I open my lessons.",
        ],
        "bot": [
            "Sorry to hear that! Let me check order #{n} for you.",
            "You can reset it under Settings > Account > Password.",
            "Sure, I can help with that. Could you confirm your email address?",
            "I've opened ticket {n}; a colleague will reply within 24 hours.",
        ],
        "end": ["Thanks, that helps!", "Great, thank you.", "OK, I'll wait then.", "Perfect."],
    },
    "DE": {
        "ask": [
            "Hallo, meine Bestellung #{n} ist noch nicht angekommen.",
            "Wie kann ich mein Passwort zurücksetzen?",
            "Mir wurde diesen Monat doppelt abgebucht.",
            "Liefert ihr auch nach Österreich?",
        ],
        "bot": [
            "Das tut mir leid! Ich prüfe Bestellung #{n} sofort.",
            "Unter Einstellungen > Konto können Sie es zurücksetzen.",
            "Ich habe Ticket {n} angelegt; wir melden uns innerhalb von 24 Stunden.",
        ],
        "end": ["Danke, das hilft!", "Super, vielen Dank.", "Alles klar."],
    },
    "FR": {
        "ask": [
            "Bonjour, ma commande #{n} n'est toujours pas arrivée.",
            "Comment réinitialiser mon mot de passe ?",
            "J'ai été débité deux fois ce mois-ci.",
        ],
        "bot": [
            "Désolé ! Je vérifie la commande #{n} tout de suite.",
            "Allez dans Paramètres > Compte > Mot de passe.",
            "J'ai ouvert le ticket {n}, un collègue vous répondra sous 24 h.",
        ],
        "end": ["Merci beaucoup !", "Parfait, merci.", "D'accord, j'attends."],
    },
    "ES": {
        "ask": [
            "Hola, mi pedido #{n} todavía no ha llegado.",
            "¿Cómo cambio mi contraseña?",
            "Me cobraron dos veces este mes.",
        ],
        "bot": [
            "¡Lo siento! Reviso el pedido #{n} ahora mismo.",
            "Puede cambiarla en Ajustes > Cuenta > Contraseña.",
            "He abierto la incidencia {n}; le responderemos en 24 horas.",
        ],
        "end": ["¡Gracias!", "Perfecto, muchas gracias.", "Vale, espero."],
    },
    "IT": {
        "ask": ["Ciao, il mio ordine #{n} non è ancora arrivato.", "Come cambio la password?"],
        "bot": ["Mi dispiace! Controllo subito l'ordine #{n}.", "Vai su Impostazioni > Account."],
        "end": ["Grazie mille!", "Perfetto, grazie."],
    },
    "PT": {
        "ask": ["Olá, a minha encomenda #{n} ainda não chegou.", "Como altero a minha senha?"],
        "bot": ["Lamento! Vou verificar a encomenda #{n}.", "Vá a Definições > Conta > Senha."],
        "end": ["Obrigado!", "Perfeito, obrigada."],
    },
    "NL": {
        "ask": ["Hoi, mijn bestelling #{n} is nog niet binnen.", "Hoe wijzig ik mijn wachtwoord?"],
        "bot": ["Vervelend! Ik kijk bestelling #{n} meteen na.", "Ga naar Instellingen > Account."],
        "end": ["Dank je!", "Top, bedankt."],
    },
    "PL": {
        "ask": ["Dzień dobry, moje zamówienie #{n} jeszcze nie dotarło.", "Jak zmienić hasło?"],
        "bot": ["Przykro mi! Sprawdzam zamówienie #{n}.", "Przejdź do Ustawienia > Konto."],
        "end": ["Dziękuję!", "Super, dzięki."],
    },
}


class DialogTextFactory:
    """Fast enough for millions of rows: a few random choices and one format per dialog."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.languages = list(LANGUAGE_WEIGHTS)
        self.weights = list(LANGUAGE_WEIGHTS.values())

    def languages_sample(self, k: int) -> list[str]:
        return self.rng.choices(self.languages, weights=self.weights, k=k)

    def text(self, language: str) -> str:
        phrases, choice = PHRASES[language], self.rng.choice
        n = self.rng.randrange(10_000, 99_999)
        turns = [f"Customer: {choice(phrases['ask'])}", f"Bot: {choice(phrases['bot'])}"]
        if n % 2:
            turns.append(f"Customer: {choice(phrases['end'])}")
        return "\n".join(turns).format(n=n)
