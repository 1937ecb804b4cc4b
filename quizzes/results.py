"""Results of a quiz, either mode: per player and per question, as JSON-ready data or CSV.

Three queries whatever the size (questions, participants, answers); ranks follow the
leaderboard's order (score, then who reached it first).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from quizzes.models import Answer, Participant, Question, Quiz

CSV_COLUMNS = [
    "quiz", "rank", "participant_id", "nickname", "total_score", "question_number",
    "question", "choice", "correct", "points", "response_ms",
]  # fmt: skip


def quiz_results(*, quiz: Quiz) -> dict:
    questions = list(Question.objects.filter(quiz_id=quiz.pk).order_by("order", "id"))
    answers: dict[int, dict[int, Answer]] = {}
    for answer in Answer.objects.filter(question__quiz_id=quiz.pk).select_related("choice"):
        answers.setdefault(answer.participant_id, {})[answer.question_id] = answer
    players = []
    participants = Participant.objects.filter(quiz_id=quiz.pk).order_by(
        "-score", "reached_score_at", "id"
    )
    for rank, participant in enumerate(participants, start=1):
        mine = answers.get(participant.pk, {})
        players.append(
            {
                "rank": rank,
                "participant_id": participant.pk,
                "nickname": participant.nickname,
                "score": participant.score,
                "answers": [_answer(q, mine.get(q.pk)) for q in questions],
            }
        )
    return {
        "quiz": quiz.code,
        "title": quiz.title,
        "mode": quiz.mode,
        "status": quiz.status,
        "questions": [
            {"id": q.pk, "number": n, "text": q.text} for n, q in enumerate(questions, 1)
        ],
        "players": players,
    }


def _answer(question: Question, answer: Answer | None) -> dict:
    if answer is None:
        return {"question_id": question.pk, "choice_id": None, "choice": None, "correct": None,
                "result": None, "points": 0, "response_ms": None}  # fmt: skip
    return {
        "question_id": question.pk,
        "choice_id": answer.choice_id,
        "choice": answer.choice.text,
        "correct": answer.correct,
        "result": answer.result,
        "points": answer.points,
        "response_ms": answer.response_ms,
    }


def results_csv_rows(results: dict) -> Iterable[list]:
    """One row per player and question; a question not answered has empty choice columns."""
    numbers = {q["id"]: (q["number"], q["text"]) for q in results["questions"]}
    for player in results["players"]:
        for answer in player["answers"]:
            number, text = numbers[answer["question_id"]]
            correct = "" if answer["correct"] is None else str(answer["correct"]).lower()
            yield [
                results["quiz"], player["rank"], player["participant_id"], player["nickname"],
                player["score"], number, text, answer["choice"] or "", correct, answer["points"],
                "" if answer["response_ms"] is None else answer["response_ms"],
            ]  # fmt: skip


def results_csv(results_list: Iterable[dict]) -> str:
    """CSV text for one or more quizzes (the admin action exports several at once)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for results in results_list:
        writer.writerows(_safe(row) for row in results_csv_rows(results))
    return out.getvalue()


def _safe(row: list) -> list:
    # A nickname like "=HYPERLINK(...)" must stay text when a teacher opens the file in a
    # spreadsheet (CSV injection): prefix formula starters with a quote.
    return [f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in row]
