"""The differentiable primitives, one Function subclass each, grouped by kind."""
