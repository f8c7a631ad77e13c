"""Names of the projection study's variants: ``minilm+released`` is MiniLM under the variant
``released`` (kept apart from workflow_config so that analysis scripts need none of its
imports)."""

VARIANT_SEPARATOR = "+"


def variant_model(model: str, variant: str) -> str:
    return f"{model}{VARIANT_SEPARATOR}{variant}"


def base_model(model: str) -> str:
    """The model a projection variant is (itself for any other model)."""
    return model.split(VARIANT_SEPARATOR, 1)[0]


def variant_name(model: str) -> str:
    """The variant a model name carries, or "base"."""
    return model.split(VARIANT_SEPARATOR, 1)[1] if VARIANT_SEPARATOR in model else "base"
