import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from quizzes import joining, services
from quizzes.models import Choice, Participant, Question, Quiz


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"author{n}")


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quiz

    title = factory.Sequence(lambda n: f"Quiz {n}")
    author = factory.SubFactory(UserFactory)
    status = Quiz.Status.OPEN


def quiz_with_questions(*, questions: int = 3, status: str = "open", time_limit: int = 20) -> Quiz:
    """Each question has 3 choices; the second one (index 1) is correct."""
    quiz = QuizFactory(status=status)
    for n in range(1, questions + 1):
        question = Question.objects.create(
            quiz=quiz, order=n, text=f"Question {n}?", time_limit=time_limit
        )
        Choice.objects.bulk_create(
            Choice(question=question, text=f"Q{n} choice {i}", correct=i == 1) for i in range(3)
        )
    return quiz


def participant_make(*, quiz: Quiz, nickname: str) -> tuple[Participant, str]:
    """A participant and its token, without going through `join` (no status check, no events)."""
    token = f"token-{quiz.code}-{nickname}"
    participant = Participant.objects.create(
        quiz=quiz,
        **joining.nickname_fields(nickname),
        token_hash=services.token_hash(token),
        reached_score_at=timezone.now(),
    )
    return participant, token


def correct_choice(question: Question) -> Choice:
    return question.choices.get(correct=True)


def wrong_choice(question: Question) -> Choice:
    return question.choices.filter(correct=False).first()


def hosted_quiz(*, questions: int = 2, time_limit: int = 20, **settings: bool) -> Quiz:
    """An open hosted quiz in its lobby (questions as in `quiz_with_questions`)."""
    quiz = quiz_with_questions(questions=questions, time_limit=time_limit)
    quiz.mode = Quiz.Mode.HOSTED
    for field, value in settings.items():
        setattr(quiz, field, value)
    quiz.save()
    return quiz


def hosted_answer(participant: Participant, question: Question, *, right: bool = True):
    """A hosted player's answer to the open `question`, through the service."""
    from quizzes import game

    choice = correct_choice(question) if right else wrong_choice(question)
    return game.game_answer_submit(
        participant=participant, question_id=question.pk, choice_id=choice.pk
    )
