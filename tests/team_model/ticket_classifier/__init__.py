"""A team's own model, outside the pipeline's code: support tickets in, a priority class out."""
