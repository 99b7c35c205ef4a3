"""Stage 1: read a corpus (folders of pages, record files, shards) into documents."""
