"""Stage 2: documents into units with exact offsets: segmenting, web-page sections, duplicates, the units cache."""
