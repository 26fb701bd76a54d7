"""Stage 5: everything made from the records: the tidy measurement table and cell statistics,
the seed's table, runtimes and scenes tables, comparisons, plots, the page, publishing."""
