"""Stage 4: vectors into framings: reduction, clustering and placing, description, names, matching, the tree."""
