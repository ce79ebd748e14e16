"""Error types that tell the consumer runner what to do with a message."""


class PoisonEvent(Exception):
    """The message can never be processed: it is parked on the dead-letter topic.

    Raise it from a handler for an event that is well-formed but impossible
    (for example a verdict for a lead that does not exist and never will).
    """
