"""Policy packs: categories, word lists and rules as validated data."""
