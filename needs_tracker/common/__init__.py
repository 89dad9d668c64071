"""Shared building blocks: model mixins, scoping, permissions, lists, validators."""
