"""The plan: a YAML file turned into typed, validated models (see ``models``)."""
