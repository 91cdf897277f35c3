"""Detection: multi-pattern matching, rule evaluation and the engine that joins them."""
