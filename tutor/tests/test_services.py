import pytest

from config.errors import ApplicationError
from tutor import counters, services
from tutor.models import Learner, LearnerError, Utterance, label_key
from tutor.tests.factories import LearnerFactory, UtteranceFactory
from tutor.tests.helpers import ingest, realtime

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "label",
    [
        "Subject-Verb Agreement",
        "subject_verb_agreement",
        " SUBJECT  verb-agreement ",
        "Subject_Verb_Agreement",
    ],
)
def test_label_key_treats_case_spaces_hyphens_underscores_alike(label):
    assert label_key(label) == "subject_verb_agreement"


def test_label_key_keeps_the_slash_of_fluency_content():
    assert label_key("Fluency / Content") == label_key("fluency/content") == "fluency/content"


@pytest.mark.parametrize("field", ["username", "email"])
def test_learner_create_duplicate_names_the_field(field):
    LearnerFactory(username="ann", email="ann@example.com")
    data = {
        "username": "bob",
        "email": "bob@example.com",
        field: {"username": "ann", "email": "ann@example.com"}[field],
    }

    with pytest.raises(ApplicationError) as exc:
        services.learner_create(**data)

    assert list(exc.value.detail) == [field]
    assert Learner.objects.count() == 1


def test_utterance_create_stores_errors_and_counts_them_in_redis_after_commit(
    tax, sub, conversation, django_capture_on_commit_callbacks
):
    utterance = ingest(
        django_capture_on_commit_callbacks,
        conversation=conversation,
        labels=[
            ("grammar", "Subject-Verb Agreement"),
            ("Vocabulary", "wrong word"),
            ("Grammar", "Tense"),
        ],
    )

    assert LearnerError.objects.filter(utterance=utterance).count() == 3
    pending = counters.client().hgetall(counters.pending_key(str(conversation.learner_id)))
    day = utterance.created_at.strftime("%Y%m%d")
    assert pending[f"{sub('Grammar', 'Subject_Verb_Agreement')}:{day}"] == "1"
    assert pending[f"{sub('Vocabulary', 'Wrong_Word')}:{day}"] == "1"
    learner = str(conversation.learner_id)
    assert counters.client().sismember(counters.dirty_key(counters.learner_shard(learner)), learner)


def test_utterance_create_increments_only_after_commit(
    tax, conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.utterance_create(
            conversation_id=conversation.id, content="x", errors=[("Grammar", "Tense")]
        )

    assert len(callbacks) == 1
    assert not counters.client().exists(counters.pending_key(str(conversation.learner_id)))


def test_utterance_create_same_error_twice_counts_two(
    tax, sub, conversation, django_capture_on_commit_callbacks
):
    ingest(
        django_capture_on_commit_callbacks,
        conversation=conversation,
        labels=[("Grammar", "Tense")] * 2,
    )

    assert realtime(conversation.learner_id) == {sub("Grammar", "Tense"): 2}


@pytest.mark.parametrize(
    ("labels", "attr", "code"),
    [
        (
            [("Grammar", "Tense"), ("Grammer", "Tense")],
            "errors.1.errorCategory",
            "unknown_category",
        ),
        ([("Vocabulary", "Tense")], "errors.0.errorSubCategory", "unknown_subcategory"),
        ([("Grammar", "Nonsense")], "errors.0.errorSubCategory", "unknown_subcategory"),
    ],
)
def test_utterance_create_bad_label_is_400_naming_it_and_stores_nothing(
    tax, conversation, labels, attr, code
):
    with pytest.raises(ApplicationError) as exc:
        services.utterance_create(conversation_id=conversation.id, content="x", errors=labels)

    assert exc.value.code == code
    assert list(exc.value.detail) == [attr]
    assert not Utterance.objects.exists()
    assert not LearnerError.objects.exists()


def test_utterance_create_unknown_conversation_names_conversation_id(tax):
    import uuid

    with pytest.raises(ApplicationError) as exc:
        services.utterance_create(conversation_id=uuid.uuid4(), content="x", errors=[])

    assert list(exc.value.detail) == ["conversation_id"]


def test_errors_count_marks_rows_uncounted_when_redis_is_down(
    tax, sub, conversation, redis_down, django_capture_on_commit_callbacks
):
    with redis_down():
        utterance = ingest(
            django_capture_on_commit_callbacks,
            conversation=conversation,
            labels=[("Grammar", "Tense")],
        )

    row = LearnerError.objects.get(utterance=utterance)
    assert row.uncounted_batch is not None
    assert realtime(conversation.learner_id) == {sub("Grammar", "Tense"): 1}


def test_error_create_rejects_an_utterance_of_another_user(tax):
    utterance = UtteranceFactory()
    other = LearnerFactory()

    with pytest.raises(ApplicationError) as exc:
        services.error_create(
            learner_id=other.id, category="Grammar", subcategory="Tense", utterance_id=utterance.id
        )

    assert list(exc.value.detail) == ["utterance_id"]


def test_error_create_unknown_user_names_user_id(tax):
    import uuid

    with pytest.raises(ApplicationError) as exc:
        services.error_create(learner_id=uuid.uuid4(), category="Grammar", subcategory="Tense")

    assert list(exc.value.detail) == ["user_id"]


def test_utterance_errors_add_unknown_utterance_is_404(tax):
    import uuid

    with pytest.raises(ApplicationError) as exc:
        services.utterance_errors_add(utterance_id=uuid.uuid4(), errors=[("Grammar", "Tense")])

    assert exc.value.status_code == 404


@pytest.mark.parametrize(
    "failure",
    [ValueError("I/O operation on closed file."), OSError(9, "Bad file descriptor")],
    ids=["closed-file", "bad-fd"],
)
def test_errors_count_marks_rows_uncounted_on_a_connection_dropped_mid_call(
    tax, conversation, monkeypatch, django_capture_on_commit_callbacks, failure
):
    """redis-py surfaces a connection dropped mid-call (server restarting while threads share
    the pool) as these, not as RedisError; the count must still not be lost."""

    def dropped(**kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(counters, "ingest_increment", dropped)

    utterance = ingest(
        django_capture_on_commit_callbacks, conversation=conversation, labels=[("Grammar", "Tense")]
    )

    assert LearnerError.objects.get(utterance=utterance).uncounted_batch is not None
