import re
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from quizzes import services, views
from quizzes.models import CODE_ALPHABET, Answer, Participant, Question, QuestionServe, Quiz
from quizzes.tests.conftest import bearer_client
from quizzes.tests.factories import (
    QuizFactory,
    correct_choice,
    participant_make,
    quiz_with_questions,
    wrong_choice,
)

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str, attr: str | None = None) -> None:
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert any(e["code"] == code and (attr is None or e["attr"] == attr) for e in errors), errors


def payload(**overrides) -> dict:
    body = {
        "title": "Verbs",
        "description": "Irregular verbs",
        "questions": [
            {
                "text": "Past of 'go'?",
                "time_limit": 15,
                "choices": [{"text": "goed"}, {"text": "went", "correct": True}],
            }
        ],
    }
    return {**body, **overrides}


def question_with(choices: list[dict]) -> dict:
    return payload(questions=[{"text": "Q?", "choices": choices}])


def served(participant: Participant, question: Question, seconds_ago: float) -> None:
    """Pretend `next` served `question` some seconds ago: time moves without sleeping."""
    QuestionServe.objects.update_or_create(
        participant=participant,
        question=question,
        defaults={"served_at": timezone.now() - timedelta(seconds=seconds_ago)},
    )


# --- Staff authoring ---------------------------------------------------------------------------


def test_quiz_create_returns_draft_with_code_and_nested_questions(staff_client):
    response = staff_client.post("/api/quizzes", payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{6}}", body["code"])
    assert body["status"] == "draft"
    assert body["author"] == "test-staff"
    assert body["questions"][0]["time_limit"] == 15
    assert [c["correct"] for c in body["questions"][0]["choices"]] == [False, True]
    assert Quiz.objects.get(code=body["code"]).questions.get().choices.count() == 2


def test_quiz_create_accepts_trailing_slash(staff_client):
    response = staff_client.post("/api/quizzes/", payload(), format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    "choices",
    [
        [{"text": "only", "correct": True}],
        [{"text": str(i), "correct": i == 0} for i in range(7)],
        [{"text": "a", "correct": True}, {"text": "b", "correct": True}],
        [{"text": "a"}, {"text": "b"}],
    ],
    ids=["one-choice", "seven-choices", "two-correct", "none-correct"],
)
def test_quiz_create_rejects_bad_choice_sets_naming_the_field(staff_client, choices):
    response = staff_client.post("/api/quizzes", question_with(choices), format="json")

    assert_error(response, 400, "invalid_choices", attr="questions.0.choices")
    assert not Quiz.objects.exists()


def test_quiz_create_rejects_zero_time_limit_and_no_questions(staff_client):
    bad_time = payload()
    bad_time["questions"][0]["time_limit"] = 0

    time_response = staff_client.post("/api/quizzes", bad_time, format="json")
    empty_response = staff_client.post("/api/quizzes", payload(questions=[]), format="json")

    assert_error(time_response, 400, "min_value", attr="questions.0.time_limit")
    assert_error(empty_response, 400, "min_length", attr="questions.non_field_errors")


def test_quiz_api_needs_staff_role(anon_client, analyst_client):
    assert anon_client.get("/api/quizzes").status_code == 401
    assert_error(
        analyst_client.post("/api/quizzes", payload(), format="json"), 403, "role_required"
    )


def test_quiz_list_is_one_query_whatever_the_count(staff_client, django_assert_num_queries):
    quiz_with_questions(questions=2)
    quiz_with_questions(questions=1)
    staff_client.get("/api/quizzes")  # warm the token cache

    with django_assert_num_queries(1):
        response = staff_client.get("/api/quizzes")

    assert response.status_code == 200
    assert sorted(q["question_count"] for q in response.json()) == [1, 2]


def test_quiz_detail_shows_correct_choices_to_staff(staff_client, quiz):
    response = staff_client.get(f"/api/quizzes/{quiz.code}")

    assert response.status_code == 200
    first = response.json()["questions"][0]
    assert [c["correct"] for c in first["choices"]] == [False, True, False]


def test_quiz_detail_unknown_code_is_404(staff_client):
    assert_error(staff_client.get("/api/quizzes/ZZZZZZ"), 404, "quiz_not_found")


def test_quiz_patch_moves_draft_to_open_to_closed(staff_client):
    quiz = quiz_with_questions(status="draft")

    opened = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "open"}, format="json")
    again = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "open"}, format="json")
    closed = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "closed"}, format="json")

    assert opened.status_code == 200
    assert opened.json()["opened_at"]
    assert again.status_code == 200  # same status again: idempotent
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"]


@pytest.mark.parametrize(
    ("start", "target"), [("draft", "closed"), ("closed", "open"), ("open", "draft")]
)
def test_quiz_patch_rejects_other_transitions_with_409(staff_client, start, target):
    quiz = quiz_with_questions(status=start)

    response = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": target}, format="json")

    assert_error(response, 409, "invalid_status_transition", attr="status")
    quiz.refresh_from_db()
    assert quiz.status == start


def test_quiz_patch_unknown_status_is_400(staff_client, quiz):
    response = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "paused"}, format="json")

    assert_error(response, 400, "invalid_choice", attr="status")


def test_quiz_open_without_questions_is_409(staff_client):
    quiz = QuizFactory(status="draft")

    response = staff_client.patch(f"/api/quizzes/{quiz.code}", {"status": "open"}, format="json")

    assert_error(response, 409, "quiz_has_no_questions", attr="status")


def test_quiz_patch_questions_only_while_draft(staff_client, quiz):
    draft = quiz_with_questions(status="draft")
    questions = payload()["questions"]

    changed = staff_client.patch(f"/api/quizzes/{draft.code}", {"questions": questions})
    refused = staff_client.patch(f"/api/quizzes/{quiz.code}", {"questions": questions})

    assert changed.status_code == 200
    assert len(changed.json()["questions"]) == 1
    assert_error(refused, 409, "quiz_not_draft", attr="questions")


def test_quiz_delete_removes_it(staff_client, quiz):
    response = staff_client.delete(f"/api/quizzes/{quiz.code}")

    assert response.status_code == 204
    assert not Quiz.objects.filter(pk=quiz.pk).exists()


# --- Joining -----------------------------------------------------------------------------------


def test_join_returns_token_quiz_without_answers_and_websocket_url(anon_client, quiz):
    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "Ada"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"participant_id", "token", "quiz", "websocket_url"}
    assert body["websocket_url"].endswith(f"/ws/quizzes/{quiz.code}/")
    assert len(body["quiz"]["questions"]) == 3
    assert "correct" not in str(body["quiz"])
    participant = Participant.objects.get(pk=body["participant_id"])
    assert participant.token_hash != body["token"]  # only a hash is stored


def test_join_nickname_taken_case_insensitive_is_409(anon_client, quiz):
    anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "Ada"})

    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "aDA"})

    assert_error(response, 409, "nickname_taken", attr="nickname")


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_join_quiz_not_open_is_409(anon_client, status):
    quiz = quiz_with_questions(status=status)

    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "Ada"})

    assert_error(response, 409, "quiz_not_open")


def test_join_unknown_code_is_404(anon_client, db):
    response = anon_client.post("/api/quizzes/ZZZZZZ/join", {"nickname": "Ada"})

    assert_error(response, 404, "quiz_not_found")


@pytest.mark.parametrize("nickname", ["", "   ", "x" * 41])
def test_join_bad_nickname_is_400_naming_it(anon_client, quiz, nickname):
    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": nickname})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "nickname"


def test_join_with_token_resumes_same_participant_and_score(anon_client, quiz):
    joined = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "Ada"}).json()
    Participant.objects.filter(pk=joined["participant_id"]).update(score=750, answered=1)

    response = bearer_client(joined["token"]).post(f"/api/quizzes/{quiz.code}/join", {})

    assert response.status_code == 200
    body = response.json()
    assert (body["participant_id"], body["score"], body["token"]) == (
        joined["participant_id"],
        750,
        joined["token"],
    )


def test_join_with_unknown_or_foreign_token(quiz, player):
    other = quiz_with_questions()

    unknown = bearer_client("nope").post(f"/api/quizzes/{quiz.code}/join", {})
    foreign = player[1].post(f"/api/quizzes/{other.code}/join", {})

    assert_error(unknown, 401, "authentication_failed")
    assert_error(foreign, 403, "participant_of_other_quiz")


def test_join_is_throttled_per_ip(anon_client, quiz, monkeypatch):
    monkeypatch.setattr(
        views.ParticipantScopedRateThrottle, "THROTTLE_RATES", {"quiz_join": "2/min"}
    )
    for nickname in ("a", "b"):
        anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": nickname})

    response = anon_client.post(f"/api/quizzes/{quiz.code}/join", {"nickname": "c"})

    assert_error(response, 429, "throttled")


# --- Next question -----------------------------------------------------------------------------


def test_next_serves_first_unanswered_question_and_keeps_its_timer(quiz, player):
    participant, client = player

    first = client.get(f"/api/quizzes/{quiz.code}/next")
    again = client.get(f"/api/quizzes/{quiz.code}/next")

    assert first.status_code == 200
    body = first.json()
    assert body["text"] == "Question 1?"
    assert body["number"] == 1
    assert body["total"] == 3
    assert [set(c) for c in body["choices"]] == [{"id", "text"}] * 3
    assert 19 < body["remaining"] <= 20
    assert again.json()["served_at"] == body["served_at"]  # a refresh never resets the clock
    assert QuestionServe.objects.filter(participant=participant).count() == 1


def test_next_moves_on_after_answers_and_is_204_when_done(quiz, player):
    participant, client = player
    for question in quiz.questions.all()[:2]:
        served(participant, question, 1)
        client.post(
            f"/api/quizzes/{quiz.code}/answers",
            {"question_id": question.pk, "choice_id": correct_choice(question).pk},
        )

    third = client.get(f"/api/quizzes/{quiz.code}/next")
    question = quiz.questions.get(order=3)
    client.post(
        f"/api/quizzes/{quiz.code}/answers",
        {"question_id": question.pk, "choice_id": wrong_choice(question).pk},
    )
    done = client.get(f"/api/quizzes/{quiz.code}/next")

    assert third.json()["id"] == question.pk
    assert third.json()["number"] == 3
    assert done.status_code == 204


def test_next_needs_a_participant_of_this_quiz(anon_client, quiz, player):
    other = quiz_with_questions()

    missing = anon_client.get(f"/api/quizzes/{quiz.code}/next")
    foreign = player[1].get(f"/api/quizzes/{other.code}/next")

    assert_error(missing, 401, "not_authenticated")
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert_error(foreign, 403, "participant_of_other_quiz")


def test_next_on_closed_quiz_is_409(quiz, player):
    Quiz.objects.filter(pk=quiz.pk).update(status="closed")

    assert_error(player[1].get(f"/api/quizzes/{quiz.code}/next"), 409, "quiz_closed")


# --- Answers -----------------------------------------------------------------------------------


def answer(client, quiz, question, choice):
    return client.post(
        f"/api/quizzes/{quiz.code}/answers", {"question_id": question.pk, "choice_id": choice.pk}
    )


def test_answer_correct_scores_by_server_time(quiz, player, django_capture_on_commit_callbacks):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 10)  # t = 10 s of T = 20 s -> 1000 x (1 - 10/40) = 750

    with django_capture_on_commit_callbacks(execute=True):
        response = answer(client, quiz, question, correct_choice(question))

    assert response.status_code == 201
    body = response.json()
    assert body == {**body, "correct": True, "late": False, "answered": 1, "rank": 1}
    assert 740 <= body["points"] <= 750  # 750 minus the request's own time
    assert body["score"] == body["points"]
    stored = Answer.objects.get(participant=participant)
    serve = QuestionServe.objects.get(participant=participant)
    elapsed = (stored.answered_at - serve.served_at).total_seconds()
    assert stored.points == services.answer_points(correct=True, elapsed=elapsed, time_limit=20)
    assert (stored.points, stored.result) == (body["points"], "correct")


def test_answer_wrong_earns_nothing(quiz, player):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 1)

    body = answer(client, quiz, question, wrong_choice(question)).json()

    assert (body["correct"], body["points"], body["score"], body["answered"]) == (False, 0, 0, 1)


def test_answer_after_time_limit_is_late_and_earns_nothing(quiz, player):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 20.5)

    body = answer(client, quiz, question, correct_choice(question)).json()

    assert (body["correct"], body["late"], body["points"]) == (True, True, 0)
    assert Answer.objects.get().result == "late"


def test_answer_twice_is_409(quiz, player):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 1)
    answer(client, quiz, question, wrong_choice(question))

    response = answer(client, quiz, question, correct_choice(question))

    assert_error(response, 409, "already_answered", attr="question_id")
    participant.refresh_from_db()
    assert (participant.score, participant.answered) == (0, 1)


def test_answer_with_choice_of_another_question_is_400(quiz, player):
    participant, client = player
    first, second = quiz.questions.all()[:2]
    served(participant, first, 1)

    response = answer(client, quiz, first, correct_choice(second))

    assert_error(response, 400, "choice_not_in_question", attr="choice_id")


def test_answer_to_question_of_another_quiz_is_404(quiz, player):
    other_question = quiz_with_questions().questions.first()

    response = answer(player[1], quiz, other_question, correct_choice(other_question))

    assert_error(response, 404, "question_not_found", attr="question_id")


def test_answer_to_unserved_question_is_409(quiz, player):
    question = quiz.questions.first()

    response = answer(player[1], quiz, question, correct_choice(question))

    assert_error(response, 409, "question_not_served", attr="question_id")


def test_answer_on_closed_quiz_is_409(quiz, player):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 1)
    Quiz.objects.filter(pk=quiz.pk).update(status="closed")

    response = answer(client, quiz, question, correct_choice(question))

    assert_error(response, 409, "quiz_closed")
    assert not Answer.objects.exists()


def test_answer_needs_token_of_this_quiz(anon_client, quiz, player):
    question = quiz.questions.first()
    other = quiz_with_questions()

    missing = answer(anon_client, quiz, question, correct_choice(question))
    unknown = answer(bearer_client("forged"), quiz, question, correct_choice(question))
    foreign = answer(player[1], other, question, correct_choice(question))

    assert_error(missing, 401, "not_authenticated")
    assert_error(unknown, 401, "authentication_failed")
    assert_error(foreign, 403, "participant_of_other_quiz")


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"choice_id": 1}, "question_id"),
        ({"question_id": "x", "choice_id": 1}, "question_id"),
        ({"question_id": 1, "choice_id": 2**70}, "choice_id"),
    ],
)
def test_answer_bad_body_is_400_naming_the_field(quiz, player, body, attr):
    response = player[1].post(f"/api/quizzes/{quiz.code}/answers", body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr


def test_answer_ranks_ties_by_who_reached_the_score_first(quiz, django_capture_on_commit_callbacks):
    question = quiz.questions.first()
    players = [participant_make(quiz=quiz, nickname=n) for n in ("early", "late", "zero")]
    for participant, _ in players:
        served(participant, question, 10)

    ranks = []
    for _participant, token in players[:2]:
        with django_capture_on_commit_callbacks(execute=True):
            response = answer(bearer_client(token), quiz, question, correct_choice(question))
        ranks.append(response.json()["rank"])
    board = bearer_client(players[2][1]).get(f"/api/quizzes/{quiz.code}/leaderboard").json()

    assert ranks == [1, 2]  # same 750 points: "early" got there first
    assert [e["nickname"] for e in board["entries"]] == ["early", "late", "zero"]
    assert [e["rank"] for e in board["entries"]] == [1, 2, 3]
    assert board["me"]["rank"] == 3


def test_answer_metrics_count_by_result(quiz, player, django_capture_on_commit_callbacks):
    participant, client = player
    question = quiz.questions.first()
    served(participant, question, 1)
    before = REGISTRY.get_sample_value("quizzes_answers_total", {"result": "wrong"}) or 0

    with django_capture_on_commit_callbacks(execute=True):
        answer(client, quiz, question, wrong_choice(question))

    assert REGISTRY.get_sample_value("quizzes_answers_total", {"result": "wrong"}) == before + 1


# --- Leaderboard -------------------------------------------------------------------------------


def test_leaderboard_lists_entries_and_me(quiz, player, anon_client):
    participant_make(quiz=quiz, nickname="bob")
    Participant.objects.filter(nickname="bob").update(score=900, answered=1)

    public = anon_client.get(f"/api/quizzes/{quiz.code}/leaderboard").json()
    mine = player[1].get(f"/api/quizzes/{quiz.code}/leaderboard?limit=1").json()

    assert public["quiz"] == quiz.code
    assert public["participants"] == 2
    assert public["entries"] == [
        {"rank": 1, "nickname": "bob", "score": 900, "answered": 1},
        {"rank": 2, "nickname": "ada", "score": 0, "answered": 0},
    ]
    assert "me" not in public
    assert len(mine["entries"]) == 1
    assert mine["me"]["nickname"] == "ada"
    assert mine["me"]["rank"] == 2


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_leaderboard_bad_limit_is_400(anon_client, quiz, limit):
    response = anon_client.get(f"/api/quizzes/{quiz.code}/leaderboard?limit={limit}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "limit"


def test_leaderboard_unknown_quiz_is_404(anon_client, db):
    assert_error(anon_client.get("/api/quizzes/ZZZZZZ/leaderboard"), 404, "quiz_not_found")


def test_leaderboard_reads_redis_not_postgres_once_built(
    anon_client, quiz, django_assert_num_queries
):
    for n in range(20):
        participant_make(quiz=quiz, nickname=f"p{n}")
    anon_client.get(f"/api/quizzes/{quiz.code}/leaderboard")  # builds the board

    with django_assert_num_queries(1):  # the quiz itself; entries come from Redis
        response = anon_client.get(f"/api/quizzes/{quiz.code}/leaderboard?limit=100")

    assert response.json()["participants"] == 20


# --- Pages -------------------------------------------------------------------------------------


def test_play_page_renders_with_websocket_url(client, quiz):
    response = client.get(f"/quizzes/{quiz.code.lower()}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-ws-url="ws://testserver/ws/quizzes/{quiz.code}/"' in html
    assert "/static/quizzes/play." in html
    assert quiz.title in html


def test_board_page_renders_and_unknown_code_is_404(client, quiz):
    board = client.get(f"/quizzes/{quiz.code}/board")
    missing = client.get("/quizzes/ZZZZZZ/board")

    assert board.status_code == 200
    assert b"/static/quizzes/board." in board.content
    assert missing.status_code == 404
    assert b"No quiz ZZZZZZ" in missing.content
