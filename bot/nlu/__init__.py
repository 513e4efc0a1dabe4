"""Custom NLU components of the pipeline in bot/config.yml."""
