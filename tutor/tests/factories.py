import factory
from django.utils import timezone

from tutor.models import Conversation, Learner, LearnerError, Utterance


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Learner

    username = factory.Sequence(lambda n: f"learner{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    learner = factory.SubFactory(LearnerFactory)


class UtteranceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Utterance

    conversation = factory.SubFactory(ConversationFactory)
    learner = factory.SelfAttribute("conversation.learner")
    content = "She go to work."
    created_at = factory.LazyFunction(timezone.now)


class LearnerErrorFactory(factory.django.DjangoModelFactory):
    """A bare row: not counted anywhere (as if Redis was down); pass `uncounted_batch`."""

    class Meta:
        model = LearnerError

    learner = factory.SubFactory(LearnerFactory)
    created_at = factory.LazyFunction(timezone.now)
