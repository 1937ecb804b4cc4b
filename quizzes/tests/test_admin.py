import pytest
from django.contrib.auth import get_user_model

from quizzes.models import Choice, Question, Quiz, choice_set_error
from quizzes.tests.factories import quiz_with_questions

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/quizzes/quiz/add/"


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-12345678")
    client.force_login(user)
    return client


def formset_prefixes(html: str) -> tuple[str, str]:
    """nested_admin names its formsets after the relations; find them in the add form."""
    question = "questions"
    choice = "questions-0-choices" if "questions-0-choices" in html else "questions-empty-choices"
    assert f'name="{question}-TOTAL_FORMS"' in html
    return question, choice


def post_data(choices: list[tuple[str, bool]]) -> dict:
    data = {
        "title": "Colours",
        "description": "",
        "mode": "self_paced",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "100",
        "questions-0-order": "1",
        "questions-0-text": "Colour of the sky?",
        "questions-0-time_limit": "20",
        "questions-0-choices-TOTAL_FORMS": str(len(choices)),
        "questions-0-choices-INITIAL_FORMS": "0",
        "questions-0-choices-MIN_NUM_FORMS": "2",
        "questions-0-choices-MAX_NUM_FORMS": "6",
    }
    for i, (text, correct) in enumerate(choices):
        data[f"questions-0-choices-{i}-text"] = text
        if correct:
            data[f"questions-0-choices-{i}-correct"] = "on"
    return data


@pytest.mark.parametrize(("count", "correct"), [(1, 1), (7, 1), (3, 0), (3, 2), (2, 1), (6, 1)])
def test_choice_set_error_allows_two_to_six_with_exactly_one_correct(count, correct):
    error = choice_set_error(count=count, correct=correct)

    assert (error is None) == (2 <= count <= 6 and correct == 1)


def test_admin_add_form_has_nested_question_and_choice_inlines(admin_client):
    response = admin_client.get(ADD_URL)

    assert response.status_code == 200
    formset_prefixes(response.content.decode())


def test_admin_creates_quiz_with_author_and_nested_choices(admin_client):
    data = post_data([("blue", True), ("green", False), ("red", False)])

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    quiz = Quiz.objects.get()
    assert quiz.author.username == "boss"
    assert quiz.status == "draft"
    assert list(quiz.questions.get().choices.values_list("text", "correct")) == [
        ("blue", True),
        ("green", False),
        ("red", False),
    ]


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ([("blue", True)], "needs 2 to 6 choices"),
        ([("blue", False), ("green", False)], "exactly one correct choice"),
        ([("blue", True), ("green", True)], "exactly one correct choice"),
        ([(f"c{i}", i == 0) for i in range(7)], "needs 2 to 6 choices"),
    ],
    ids=["one", "none-correct", "two-correct", "seven"],
)
def test_admin_formset_shows_validation_message(admin_client, choices, message):
    response = admin_client.post(ADD_URL, post_data(choices))

    assert response.status_code == 200  # the form again, with errors
    assert message in response.content.decode()
    assert not Quiz.objects.exists()


def test_admin_open_and_close_actions(admin_client):
    quiz = quiz_with_questions(status="draft")
    empty = Quiz.objects.create(title="Empty", author=quiz.author)

    admin_client.post(
        "/admin/quizzes/quiz/",
        {"action": "open_quizzes", "_selected_action": [quiz.pk, empty.pk]},
    )
    quiz.refresh_from_db()
    empty.refresh_from_db()
    admin_client.post(
        "/admin/quizzes/quiz/", {"action": "close_quizzes", "_selected_action": [quiz.pk]}
    )

    assert empty.status == "draft"  # no questions: refused with a message
    assert quiz.status == "open"
    quiz.refresh_from_db()
    assert quiz.status == "closed"


def test_admin_list_links_to_live_board_and_participants(admin_client):
    quiz = quiz_with_questions()

    html = admin_client.get("/admin/quizzes/quiz/").content.decode()

    assert f'href="/quizzes/{quiz.code}/board"' in html
    assert f"quiz__id__exact={quiz.pk}" in html


def test_admin_questions_are_read_only_once_open(admin_client):
    quiz = quiz_with_questions()

    html = admin_client.get(f"/admin/quizzes/quiz/{quiz.pk}/change/").content.decode()

    assert 'name="questions-0-text"' not in html  # shown, not editable
    assert "Question 1?" in html
    assert Question.objects.filter(quiz=quiz).count() == 3
    assert Choice.objects.filter(question__quiz=quiz, correct=True).count() == 3


def test_admin_participant_and_answer_lists_are_read_only(admin_client, player):
    participants = admin_client.get("/admin/quizzes/participant/")
    answers = admin_client.get("/admin/quizzes/answer/")
    add = admin_client.get("/admin/quizzes/participant/add/")

    assert participants.status_code == 200
    assert b"ada" in participants.content
    assert answers.status_code == 200
    assert add.status_code == 403
