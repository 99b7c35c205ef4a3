"""Stage 3b: events — which documents tell the same story (given by metadata, or found from their content)."""
